"""The app's pages and navigation, and the one answer to Streamlit's pages/ folder mode (below)."""

from __future__ import annotations

import threading

import streamlit as st

# ---------- navigation ----------
#
# A folder named pages/ next to app.py puts Streamlit in its older multipage mode until a session has
# called st.navigation (streamlit/runtime/pages_manager.py: PagesManager.__init__ sets
# uses_pages_directory from `pages/` existing; ScriptRunner then runs _mpa_v1, which matches the
# URL's name against the files in pages/ and runs the match on its own, without app.py). On a fresh
# server the first browsers that open /draw, /train, ... would get the page without the sidebar.
# Page files that mode cannot match do not help: it then sends "page not found", which the browser
# shows as a dialog over the page. So each page runs use_app_navigation() first; the rest is here.

_this_run = threading.local()  # Streamlit runs each script run in its own thread


def pages() -> list:
    """The app's pages in menu order; the file names give the URLs (/train, /draw, ...)."""
    return [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/train.py", title="Train", icon=":material/monitoring:"),
        st.Page("pages/predictions.py", title="Predictions", icon=":material/grid_view:"),
        st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
        st.Page("pages/room.py", title="Room", icon=":material/groups:"),
        st.Page("pages/inside.py", title="Inside", icon=":material/visibility:"),
        st.Page("pages/losses.py", title="Losses", icon=":material/functions:"),
        st.Page("pages/model.py", title="Model", icon=":material/account_tree:"),
    ]


def navigation():
    """app.py's menu. The page it returns runs inside the app's navigation and sidebar."""
    _this_run.through_app = True
    return st.navigation(pages())


def use_app_navigation() -> None:
    """Every page calls this first. A run that did not come through app.py is Streamlit's pages/
    folder mode running this file on its own: end that mode for every session the documented way
    (the first st.navigation call in a server does it) and run again, this time through app.py."""
    through_app = getattr(_this_run, "through_app", False)
    _this_run.through_app = False
    if not through_app:
        st.navigation(pages())
        st.rerun()
