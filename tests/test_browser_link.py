"""A presenter's shared link, in a real Chromium against a real server: Share puts the Train form's settings in the
address bar, and that address opens the form set up the same way in another browser. Slow: `pytest -m slow
tests/test_browser_link.py`."""

import re

import pytest
from playwright.sync_api import expect

from testkit.served import open_page, wait_idle

pytestmark = pytest.mark.slow


def test_share_puts_the_settings_in_the_address_and_the_address_opens_them(server, browser):
    url, _ = server
    presenter = browser.new_context(viewport={"width": 1400, "height": 900})
    page = presenter.new_page()
    open_page(page, url, "train", "Train")
    page.get_by_label("Epochs", exact=True).fill("4")
    page.get_by_label("Epochs", exact=True).press("Tab")
    wait_idle(page)
    page.get_by_role("button", name=re.compile("Share")).click()
    page.get_by_text("The address bar now opens the Train page with these settings").wait_for(timeout=30_000)
    # The address changes in place (history.replaceState, no navigation): polled, not awaited as a page load.
    expect(page).to_have_url(re.compile(r"/train\?epochs=4$"), timeout=30_000)
    link = page.url
    presenter.close()

    learner = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = learner.new_page()
    page.goto(link)
    page.get_by_role("heading", name="Train").wait_for(timeout=60_000)
    # Streamlit may run the page once before the address's query reaches it: the run that reads the link says so.
    page.get_by_text("Settings from the link: Epochs 4.").wait_for(timeout=30_000)
    wait_idle(page)
    # the number field follows the message a moment later
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("4", timeout=10_000)
    assert page.get_by_text("Settings from the link: Epochs 4.").count() == 1
    learner.close()
