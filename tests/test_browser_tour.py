"""What a first-time teacher and learner trip over (issue #34), in a real Chromium against a real server:
a run's state and name told truly everywhere, an honest ETA, a stop before any checkpoint said plainly, no
"100.0% sure", and an accuracy chart that keeps the climb after the run ends.
Slow: `pytest -m slow tests/test_browser_tour.py`. Screenshots land in artifacts/screenshots/ (git-ignored)."""

import re
import time

import pytest

from testkit.served import SHOTS, draw, start_training, wait_idle

pytestmark = pytest.mark.slow
DESKTOP = (1400, 900)


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    yield context.new_page()
    context.close()


def run_select(page) -> str:
    return page.get_by_role("combobox", name="Run").input_value()


def progress_text(page) -> str:
    return page.locator("[data-testid='stProgress']").inner_text()


def accuracy_range(page) -> list[float]:
    """The y range the accuracy chart shows, as plotly drew it."""
    return page.evaluate("""() => { const plots = [...document.querySelectorAll('.js-plotly-plot')];
        const chart = plots.find(p => p._fullLayout && p._fullLayout.title
            && p._fullLayout.title.text.replace(/<[^>]*>/g, '') === 'Accuracy');
        return chart ? chart._fullLayout.yaxis.range : plots.map(p => p._fullLayout && p._fullLayout.title.text); }""")


def test_a_finished_run_says_so_everywhere_and_keeps_its_name_and_its_climb(server, page):
    url, _ = server
    start_training(page, url, "1", "0", "run A one epoch")
    early = None
    deadline = time.time() + 120
    while time.time() < deadline:  # the first steps: no time left is claimed before there is a pace
        text = progress_text(page) if page.locator("[data-testid='stProgress']").count() else ""
        if m := re.search(r"iteration (\d+)/", text):
            early = early or (int(m.group(1)), text)
            if int(m.group(1)) >= 5:
                break
        time.sleep(0.1)
    assert early is not None, "no progress bar"
    if early[0] < 20:
        assert "to go" not in early[1], early
    page.get_by_text("Finished after").first.wait_for(timeout=240_000)
    wait_idle(page)
    time.sleep(2)  # the page's once-a-second poll after the end
    assert "● training" not in run_select(page)
    assert "run A one epoch" in run_select(page)
    shown = accuracy_range(page)
    assert len(shown) == 2 and isinstance(shown[0], (int, float)), shown  # [low, high], else the charts' titles
    low, high = shown
    assert low <= 0.0 + 1e-9 and high >= 1.0  # the climb from ~10% stays in view after the run
    page.screenshot(path=str(SHOTS / "tour-finished.png"))

    page.get_by_role("button", name="Open in Draw").click()
    page.get_by_role("heading", name="Draw a digit").wait_for(timeout=60_000)
    wait_idle(page)
    assert "run A one epoch" in page.get_by_role("combobox", name="Checkpoint").input_value()  # the sidebar
    draw(page, "1")
    body = (page.locator("section.main").inner_text() if page.locator("section.main").count()
            else page.inner_text("body"))
    assert "run A one epoch" in body  # the Draw page names the model by the run's name
    assert "100.0%" not in page.inner_text("body") and "100%" not in page.locator(".probs").first.inner_text()
    page.screenshot(path=str(SHOTS / "tour-draw-named.png"))


def test_a_run_stopped_before_its_first_validation_warns_and_its_label_ends(server, page):
    url, _ = server
    start_training(page, url, "3", "100000", "stopped early")
    page.locator("[data-testid='stProgress']").wait_for(timeout=120_000)
    deadline = time.time() + 60
    while time.time() < deadline and not re.search(r"iteration [1-9]\d*/", progress_text(page)):
        time.sleep(0.2)
    page.get_by_role("button", name="Stop training").click()
    page.get_by_text("no checkpoint was kept").first.wait_for(timeout=60_000)
    wait_idle(page)
    time.sleep(2)
    assert page.locator("[data-testid='stAlertContentSuccess']").count() == 0  # not a green success
    assert "● training" not in run_select(page) and "stopped early" in run_select(page)
    page.screenshot(path=str(SHOTS / "tour-stopped-early.png"))


def test_on_a_phone_a_live_runs_progress_and_loss_chart_are_in_view_without_scrolling(server, page, browser):
    url, _ = server
    start_training(page, url, "3", "200", "phone check")
    page.locator("[data-testid='stProgress']").wait_for(timeout=120_000)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        small = phone.new_page()
        small.goto(f"{url}/train")
        small.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        time.sleep(2)
        wait_idle(small)
        progress = small.locator("[data-testid='stProgress']").bounding_box()
        chart = small.locator(".js-plotly-plot").first.bounding_box()
        small.screenshot(path=str(SHOTS / "tour-phone-train.png"))
        assert progress["y"] + progress["height"] <= 844, progress
        assert chart["y"] >= 0 and chart["y"] + chart["height"] <= 844, chart  # the loss chart, whole
    finally:
        phone.close()
        page.get_by_role("button", name="Stop training").click()
        page.get_by_text("Stopped").first.wait_for(timeout=60_000)
