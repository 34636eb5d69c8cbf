"""Start → what a person sees, in Chromium: the Train page's Fast recipe, Start, then the seconds until
the page says "Starting (…)", until the progress bar (the run's first event) and until the first chart
point (a Step event: "iteration 10/…"). Three rounds; a real `streamlit run app.py` on a runs folder of
its own, so the server, the browser and the training process share the machine as in a workshop.

    python benchmarks/start_browser.py
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digits.launch import ACTIVE, stop_run  # noqa: E402
from digits.process import lock_held  # noqa: E402
from digits.runs import list_runs  # noqa: E402
from tests.served import CHROMIUM, launch, open_page, wait_idle  # noqa: E402


def main(rounds: int = 3) -> None:
    from playwright.sync_api import sync_playwright

    runs = Path(tempfile.mkdtemp())
    url, server = launch({**os.environ, "DIGITS_RUNS": str(runs)})
    print("| round | 'Starting' shown | progress bar (first event) | first chart point | load average |")
    print("|---|---|---|---|---|")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for r in range(rounds):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                open_page(page, url, "train", "Train")
                page.get_by_role("button", name="Fast recipe").click()
                wait_idle(page)
                t = time.perf_counter()
                page.get_by_role("button", name="Start training").click()
                seen = []
                for pattern in (r"Starting \(", r"iteration \d+/", r"iteration [1-9]\d*/"):
                    page.get_by_text(re.compile(pattern)).first.wait_for(timeout=120_000)
                    seen.append(time.perf_counter() - t)
                print(f"| {r + 1} | " + " | ".join(f"{s:.2f} s" for s in seen) + f" | {os.getloadavg()[0]:.1f} |", flush=True)
                for run in list_runs(runs):
                    stop_run(run)
                while lock_held(runs / ACTIVE):  # one run at a time: the next round waits for this one to end
                    time.sleep(0.1)
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
