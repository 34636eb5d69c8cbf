"""The server settings a workshop relies on (.streamlit/config.toml, read by `streamlit run app.py`)."""

import tomllib
from pathlib import Path

CONFIG = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())


def test_listens_on_this_machine_only_unless_told_otherwise():
    assert CONFIG["server"]["address"] == "localhost"


def test_uploads_need_the_pages_token_and_are_small():
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert 1 <= CONFIG["server"]["maxUploadSize"] <= 10  # MB; a checkpoint here is ~0.25 MB


def test_no_usage_statistics_and_no_developer_menu():
    assert CONFIG["browser"]["gatherUsageStats"] is False
    assert CONFIG["client"]["toolbarMode"] == "viewer"


def test_no_per_run_work_that_does_not_serve_the_page():
    # Both cost CPU after every run of a page, i.e. after every stroke on the Draw page.
    assert CONFIG["runner"]["postScriptGC"] is False
    assert CONFIG["server"]["fileWatcherType"] == "none"
