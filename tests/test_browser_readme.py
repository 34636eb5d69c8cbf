"""The README's pictures, made from a real `streamlit run app.py` in a real Chromium at 1400×900: Draw
reading a drawn 7, Train with a run going, Inside showing what each layer sees of that 7, Predictions.

Each run writes them to artifacts/readme/ (git-ignored) to be looked at; with DIGITS_README_PICTURES=1 it
writes docs/images/ too, the pictures the README shows (commit them): that is how they stay current.
Slow: `DIGITS_README_PICTURES=1 pytest -m slow tests/test_browser_readme.py`."""

import io
import os
import time

import pytest
from PIL import Image

from testkit.served import ROOT, draw, open_page, start_training, wait_idle

pytestmark = pytest.mark.slow
SIZE = (1400, 900)
WIDTH = 800  # px of a README picture: sharp on a laptop, about 100–250 KB as a 256-colour PNG
OUT = ROOT / "artifacts" / "readme"


def keep(page, name: str) -> int:
    """The window as the README's picture `name`: scaled to WIDTH, 256 colours; its size in bytes."""
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    small = shot.resize((WIDTH, round(shot.height * WIDTH / shot.width)), Image.LANCZOS)
    data = io.BytesIO()
    small.quantize(256, method=Image.Quantize.MEDIANCUT).save(data, "PNG", optimize=True)
    folders = [OUT] + ([ROOT / "docs" / "images"] if os.environ.get("DIGITS_README_PICTURES") == "1" else [])
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data.getvalue())
    return len(data.getvalue())


def test_the_readme_pictures_show_each_main_page_at_work(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": SIZE[0], "height": SIZE[1]})
    sizes = {}
    try:
        open_page(page, url, "draw", "Draw a digit")
        page.get_by_text("Draw a digit on the canvas.").wait_for(timeout=60_000)
        assert draw(page, "7") == "7"
        sizes["draw.png"] = keep(page, "draw.png")

        page.get_by_role("link", name="Inside").click()
        page.locator(".inside-digit").wait_for(timeout=60_000)
        wait_idle(page)
        assert page.locator(".inside-digit").inner_text().strip() == "7"
        layers = page.get_by_role("heading", name="2. What each layer sees")
        layers.evaluate("e => e.scrollIntoView({block: 'start'})")  # the layers' heading at the top of the window
        time.sleep(1.0)
        sizes["inside.png"] = keep(page, "inside.png")

        open_page(page, url, "predictions", "Predictions")
        page.locator("[data-testid='stImage']").first.wait_for(timeout=60_000)
        wait_idle(page)
        sizes["predictions.png"] = keep(page, "predictions.png")

        start_training(page, url, "3", "60", "first try")
        page.get_by_text("Updated the best model!").first.wait_for(timeout=120_000)
        time.sleep(8)  # a few evaluations on the charts
        wait_idle(page)
        assert page.get_by_role("button", name="Stop training").is_visible()
        sizes["train.png"] = keep(page, "train.png")
        page.get_by_role("button", name="Stop training").click()
        page.get_by_text("Stopped on request").first.wait_for(timeout=60_000)
    finally:
        page.close()
    assert sum(sizes.values()) <= 1_500_000, sizes  # what the README's pictures may weigh together
