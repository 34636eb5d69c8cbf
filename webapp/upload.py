"""A checkpoint file from the user's computer added to the checkpoints folder (presenter only; checked before it is
stored: digits.uploads). Its own module: webapp.resources is below webapp.presenter, which keeps its count of
wrong keys in resources' runs folder."""

from __future__ import annotations

import streamlit as st

from digits import CheckpointError
from digits.uploads import import_checkpoint
from webapp import presenter, resources
from webapp.text import plain


def upload_checkpoint() -> None:
    """Add a checkpoint file from the user's computer (checked before it is stored; see digits.uploads)."""
    with st.expander("Upload a checkpoint"):
        if not presenter.presenter_gate("Uploading a checkpoint", "upload"):
            return
        f = st.file_uploader("A .pt file saved by digits", type=["pt"], key="upload")
        if f is None or st.session_state.get("_uploaded") == f.file_id:
            return
        try:
            path = import_checkpoint(f.getvalue(), f.name, resources.CHECKPOINTS)
        except CheckpointError as e:
            st.error(plain(f"Not added: {e}"))
            return
        st.session_state["_uploaded"] = f.file_id
        st.session_state["open_checkpoint"] = str(path)
        st.rerun()
