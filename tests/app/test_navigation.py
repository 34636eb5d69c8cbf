"""Streamlit's pages-folder mode and the app's navigation.
Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""

import ast

from streamlit.runtime.pages_manager import PagesManager

from tests.app.apptest import (
    STREAMLIT_INIT,
    open_page,
)
from webapp import resources


def test_every_file_in_pages_asks_for_the_app_navigation_first():
    """Streamlit's pages-folder mode can run any pages/*.py on its own (see navigation.use_app_navigation)."""
    for path in sorted((resources.ROOT / "pages").glob("*.py")):
        body = [n for n in ast.parse(path.read_text()).body if not isinstance(n, (ast.Import, ast.ImportFrom))]
        assert body and ast.unparse(body[0]) == "navigation.use_app_navigation()", path.name


def test_a_page_run_on_its_own_by_the_pages_folder_mode_comes_back_through_app_py(app, monkeypatch):
    monkeypatch.setattr(PagesManager, "__init__", STREAMLIT_INIT)  # the mode a fresh server starts in
    at = open_page(app, "draw")
    assert at.title[0].value == "Draw a digit"
    assert at.sidebar.selectbox(key="checkpoint").value.endswith("cnn.pt")
    assert any("Compute:" in c.value for c in at.sidebar.caption)

