"""The Inside page in a real Chromium against a real server: a drawing from the Draw page seen layer by
layer in both shipped models, at desktop and phone size, and the snapshot slider of a run trained here."""

import re
import subprocess
import sys
import time

import pytest

from testkit.served import ROOT, draw, wait_idle

pytestmark = pytest.mark.slow
SHOTS = ROOT / "artifacts" / "inside"
LENET5 = ["C1", "S2", "C3", "S4", "C5", "F6", "out"]
SMALL_CNN = ["Conv2d-1", "Pool-1", "Conv2d-2", "Pool-2", "Linear-1", "Linear-2", "Linear-3", "Linear-4"]


def page_shows_everything(page, layers: list[str]) -> None:
    """Every section rendered: each layer's row, the filters, the arithmetic, attribution, the robustness grid."""
    page.get_by_role("heading", name="How it learned").wait_for(timeout=90_000)
    wait_idle(page, timeout=90_000)
    assert page.locator("[data-testid='stException']").count() == 0
    names = [s.inner_text().strip() for s in page.locator("[data-testid='stMarkdownContainer'] p > strong").all()]
    assert [n for n in names if n in layers][:len(layers)] == layers, names  # the activation rows; the filters follow
    for heading in ("What the network receives", "What each layer sees", "The learned filters",
                    "How one number is computed", "Why this answer", "How robust"):
        assert page.get_by_role("heading", name=heading).count() == 1, heading
    assert page.get_by_text("✓").count() >= 1  # the arithmetic lands on the value shown
    caption = page.get_by_text(re.compile(r"^integrated gradients for \d$"))
    caption.first.wait_for(timeout=60_000)  # on a loaded machine the overlays may land after the page went idle once
    assert caption.count() == 1
    assert page.get_by_text(re.compile(r"^Occlusion: how far P\(\d\)")).count() == 1
    assert page.locator("table.sweep").count() == 6  # shift, rotation, scale; with and without centring


def full_shot(page, name: str, width: int) -> None:
    """The whole page: Streamlit scrolls inside its own container, so the window is made tall for the shot."""
    page.set_viewport_size({"width": width, "height": 7000})
    time.sleep(1.5)
    page.screenshot(path=str(SHOTS / name))


def test_a_drawing_seen_inside_both_models_at_desktop_and_phone_size(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/draw")
    page.get_by_text("Draw a digit on the canvas.").wait_for(timeout=60_000)
    draw(page, "7")
    page.get_by_role("link", name="Inside").click()
    page_shows_everything(page, LENET5)
    assert page.locator(".inside-digit").inner_text().strip() == "7"
    page.screenshot(path=str(SHOTS / "lenet5-desktop-first-view.png"))
    full_shot(page, "lenet5-desktop.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})

    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=re.compile("Small CNN")).click()
    page.get_by_text("Conv2d-1", exact=True).first.wait_for(timeout=90_000)  # its row of maps (its filters follow)
    page_shows_everything(page, SMALL_CNN)
    full_shot(page, "cnn-desktop.png", 1400)
    page.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{url}/inside?test=7")
    page_shows_everything(page, LENET5)
    page.screenshot(path=str(SHOTS / "lenet5-phone-first-view.png"))
    full_shot(page, "lenet5-phone.png", 390)
    phone.close()


def test_the_snapshot_slider_steps_through_a_run_trained_here(server, browser):
    url, runs = server
    run = runs / "20261123-000000-inside"
    done = subprocess.run([sys.executable, "-m", "digits", "train", "--run-dir", str(run), "--epochs", "1",
                           "--eval-every", "100", "--val-size", "2000", "--quiet"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    last = -(-(60_000 - 2000) // 128)  # 454 iterations in the epoch
    kept = sorted(p.name for p in (run / "snapshots").iterdir())
    assert kept == [f"it-{i:09d}.pt" for i in (0, 100, 200, 300, 400, last)]  # untrained, every 100, the epoch's end

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/inside?test=0")
    page.get_by_role("heading", name="How it learned").wait_for(timeout=90_000)
    wait_idle(page)
    page.get_by_role("radio", name="A run's snapshots").click()
    # the run's name: when it started (markdown-safe text puts a zero-width space after each colon)
    caption = page.get_by_text(re.compile("run 11-23 00:\u200b?00:\u200b?00, iteration"))
    caption.wait_for(timeout=60_000)
    wait_idle(page)
    assert f"iteration {last} (validation" in caption.inner_text()
    slider = page.get_by_role("slider")
    slider.focus()
    page.keyboard.press("Home")
    page.get_by_text(re.compile(r"iteration 0 \(untrained\)")).wait_for(timeout=60_000)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "snapshot-untrained.png"))
    for _ in range(2):
        slider.focus()
        page.keyboard.press("ArrowRight")
        wait_idle(page)
    page.get_by_text(re.compile(r"iteration 200 \(validation")).wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".inside-digit").inner_text().strip() == "7"  # test image 0 is a 7; ~95% after 200 steps
    full_shot(page, "snapshots-desktop.png", 1400)
    page.close()
