"""The Inside page's rerun after a stroke, end to end in Chromium: from lifting the mouse on the page's own
canvas until the last section the stroke changes (the robustness grid, near the bottom) is redrawn.

    python benchmarks/inside_browser.py                 # 12 strokes, LeNet-5 (the sidebar's default)
    python benchmarks/inside_browser.py --strokes 30

A real server and a real Chromium on this machine (they share its cores). The issue's budget: ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)

from testkit.served import CHROMIUM, launch, wait_idle

ROOT = Path(__file__).resolve().parents[1]

# Short strokes in canvas pixels (220×220), each one changing the drawing: a 7 built up, then a 0 over it.
STROKES = [[(40, 40), (180, 40)], [(180, 40), (90, 200)], [(60, 120), (160, 120)], [(110, 20), (110, 200)],
           [(50, 60), (50, 180)], [(170, 60), (170, 180)], [(50, 180), (170, 180)], [(30, 100), (190, 110)],
           [(70, 30), (150, 190)], [(150, 30), (70, 190)], [(100, 60), (120, 160)], [(40, 150), (180, 150)]]

# Resolves with the time (ms since the epoch) at which the last robustness table differs from now.
WATCH = """() => { window.__changed = new Promise(resolve => {
  const sig = () => { const t = document.querySelectorAll('table.sweep');
                      return t.length ? t[t.length - 1].innerHTML : ''; };
  const before = sig();
  const obs = new MutationObserver(() => { if (sig() !== before) { obs.disconnect(); resolve(Date.now()); } });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}); }"""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--strokes", type=int, default=12)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    url, server = launch(dict(os.environ))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{url}/inside")
            page.get_by_text("Draw a digit here").wait_for(timeout=90_000)
            wait_idle(page)
            time.sleep(1.0)
            canvas = page.locator("canvas.upper-canvas").first
            box = canvas.bounding_box()
            times = []
            for i in range(args.strokes + 1):  # the first stroke builds the whole page: not counted
                points = STROKES[i % len(STROKES)]
                if i:
                    page.evaluate(WATCH)
                page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
                page.mouse.down()
                for x, y in points[1:]:
                    page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
                lifted = time.time() * 1000
                page.mouse.up()
                if i:
                    times.append(page.evaluate("window.__changed") - lifted)
                else:
                    page.get_by_role("heading", name="How robust").wait_for(timeout=90_000)
                wait_idle(page)
                time.sleep(0.5)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    times.sort()
    print(f"Inside page, stroke → robustness grid redrawn, {len(times)} strokes, LeNet-5, "
          "Chromium 1400×900 on this machine:")
    print(f"median {statistics.median(times):.0f} ms, p90 {times[int(0.9 * (len(times) - 1))]:.0f} ms, "
          f"min {times[0]:.0f} ms, max {times[-1]:.0f} ms")


if __name__ == "__main__":
    main()
