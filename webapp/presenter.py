"""The presenter key: in a workshop, only the presenter starts and stops training and uploads files.

Set DIGITS_PRESENTER_KEY (or `presenter_key` in .streamlit/secrets.toml) and those room-wide actions
ask for the key once per browser session; drawing, browsing and looking stay open to everyone. Wrong keys
are limited for the whole server (Guesses), not per session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time

import streamlit as st

log = logging.getLogger("digits.presenter")


class Guesses:
    """Wrong keys across every session of this server: after each one, no key is checked for a while, a second
    after the first and twice as long after each further one (at most MAX_WAIT s); a right key starts over. Many
    browsers guessing together get no more tries than one. Each wrong key is logged, never what was typed."""

    MAX_WAIT = 60.0

    def __init__(self):
        self._lock = threading.Lock()
        self.wrong, self.closed_until = 0, 0.0

    def wait(self, now: float | None = None) -> float:
        """Seconds until a key may be checked again (0: now)."""
        return max(0.0, self.closed_until - (time.monotonic() if now is None else now))

    def take(self, now: float | None = None) -> float:
        """The right to check one key: 0 and the window closed for a second (so that sessions arriving together
        are checked one a second), else the seconds to wait. Taken under the lock: check and close are one step."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if (wait := self.closed_until - now) > 0:
                return wait
            self.closed_until = now + 1.0
            return 0.0

    def failed(self, now: float | None = None) -> None:
        with self._lock:
            self.wrong += 1
            delay = min(self.MAX_WAIT, 2.0 ** (self.wrong - 1))
            self.closed_until = (time.monotonic() if now is None else now) + delay
        log.warning("a wrong presenter key (%d in a row on this server); keys are checked again in %.0f s",
                    self.wrong, delay)

    def passed(self) -> None:
        with self._lock:
            self.wrong, self.closed_until = 0, 0.0


GUESSES = Guesses()  # one for the server: module state lives as long as the Streamlit process


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
    checked = f"_presenter_checked_{where}"  # the field keeps its text across reruns: each text is checked once
    digest = hashlib.sha256(given.encode()).hexdigest()
    if given and st.session_state.get(checked) == digest:
        st.error("That is not the presenter key.")
    elif given:
        if (wait := GUESSES.take()) > 0:  # not checked at all: a guess in this window learns nothing
            st.error(f"Too many wrong keys on this server: keys are checked again in {wait:.0f} s.")
            return False
        st.session_state[checked] = digest
        # Compared as SHA-256 digests in constant time: how long the comparison takes says nothing of the key.
        if hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(key.encode()).digest()):
            GUESSES.passed()
            st.session_state["_presenter"] = hashlib.sha256(key.encode()).hexdigest()
            st.rerun()
        GUESSES.failed()
        st.error("That is not the presenter key.")
    return False
