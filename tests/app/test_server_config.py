"""The server settings a workshop relies on, as Streamlit itself reads them from the project's
.streamlit/config.toml when `streamlit run app.py` starts there: each must be a name Streamlit knows,
set by that file, to the safe value (a misspelt key would be silently ignored by Streamlit)."""

from pathlib import Path

import pytest
from streamlit import config

ROOT = Path(__file__).resolve().parents[2]
FILE = str(ROOT / ".streamlit" / "config.toml")


@pytest.fixture
def options(monkeypatch):
    """Streamlit's options as a server started in the project's folder gets them; re-read afterwards."""
    monkeypatch.chdir(ROOT)
    yield config.get_config_options(force_reparse=True)
    monkeypatch.undo()
    config.get_config_options(force_reparse=True)


def setting(options, name):
    option = options[name]
    assert option.where_defined == FILE, f"{name} is not set by {FILE}"
    return option.value


def test_listens_on_this_machine_only_unless_told_otherwise(options):
    assert setting(options, "server.address") == "localhost"
    assert set(setting(options, "server.allowedHosts")) == {"localhost", "127.0.0.1", "::1"}


def test_uploads_need_the_pages_token_and_are_small(options):
    assert setting(options, "server.enableXsrfProtection") is True
    assert 1 <= setting(options, "server.maxUploadSize") <= 10  # MB; a checkpoint here is ~0.25 MB


def test_no_usage_statistics_no_developer_menu_no_tracebacks_for_visitors(options):
    assert setting(options, "browser.gatherUsageStats") is False
    assert setting(options, "client.toolbarMode") == "viewer"
    assert setting(options, "client.showErrorDetails") == "none"


def test_no_per_run_work_that_does_not_serve_the_page(options):
    # Both cost CPU after every run of a page, i.e. after every stroke on the Draw page.
    assert setting(options, "runner.postScriptGC") is False
    assert setting(options, "server.fileWatcherType") == "none"
