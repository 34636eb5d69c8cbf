"""The presenter key: in a workshop, only the presenter starts and stops training and uploads files.

Set DIGITS_PRESENTER_KEY (or `presenter_key` in .streamlit/secrets.toml) and those room-wide actions
ask for the key once per browser session; drawing, browsing and looking stay open to everyone.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

import streamlit as st


def presenter_key() -> str | None:
    """DIGITS_PRESENTER_KEY, else `presenter_key` in .streamlit/secrets.toml, else None (everything open)."""
    key = os.environ.get("DIGITS_PRESENTER_KEY")
    if not key and st.secrets.load_if_toml_exists():
        key = st.secrets.get("presenter_key")
    return str(key) if key else None


def is_presenter() -> bool:
    key = presenter_key()
    return key is None or st.session_state.get("_presenter") == hashlib.sha256(key.encode()).hexdigest()


def presenter_gate(what: str, where: str) -> bool:
    """Whether this browser session may do a room-wide action (start or stop training, upload).

    With a presenter key set, a session asks for it once; drawing, browsing and looking stay open."""
    if is_presenter():
        return True
    key = presenter_key()
    st.caption(f":material/lock: {what} is for the presenter in this room.")
    given = st.text_input("Presenter key", type="password", key=f"_presenter_try_{where}")
    if given:
        if hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(key.encode()).digest()):
            st.session_state["_presenter"] = hashlib.sha256(key.encode()).hexdigest()
            st.rerun()
        time.sleep(1)  # slows guessing down
        st.error("That is not the presenter key.")
    return False
