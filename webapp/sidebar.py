"""The sidebar every page shares: the checkpoint every page uses, unusable files, the device, MNIST."""

from __future__ import annotations

import streamlit as st

from digits.mnist import ready as mnist_ready
from webapp import resources
from webapp.address import replica, unreachable_room
from webapp.text import plain


def sidebar() -> None:
    if "open_checkpoint" in st.session_state:  # set by a button before this widget exists in the run
        st.session_state["checkpoint"] = st.session_state.pop("open_checkpoint")
    with st.sidebar:
        if warning := unreachable_room():
            st.warning(warning, icon=":material/wifi_off:")
        resources.checkpoint_select("Checkpoint", key="checkpoint")
        if not resources.valid_checkpoints():
            st.caption("No checkpoint yet: train one on the Train page.")
        if bad := resources.invalid_checkpoints():
            with st.expander(f"⚠ {len(bad)} unusable checkpoint file{'s' if len(bad) > 1 else ''}"):
                for path, reason in bad.items():  # the file's name, not the server's folders
                    st.caption(plain(reason.replace(str(path), path.name)))
        st.caption(f"Compute: {resources.device_label()}" + (f" · {served}" if (served := replica()) else ""))
        st.caption("MNIST: verified ✓" if mnist_ready() else "MNIST: fetched on first use")
