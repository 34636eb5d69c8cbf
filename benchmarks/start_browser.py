"""Start → what a person sees, in Chromium: the Train page's Fast recipe, Start, then the seconds until
the page first shows the run (its "Starting (…)" step or its progress bar) and until the first chart point
(a Step event: "iteration 1/…"). A real `streamlit run app.py` on a runs folder of its own, so the server,
the browser and the training process share the machine as in a workshop.

Each round presses Start twice: once after the Train page's spare training process (digits.spare) has
warmed up (the presenter chose settings for a few seconds), and once at the moment the page has opened
(the spare is still warming up, and Start waits for it).

    python benchmarks/start_browser.py
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)

from digits.control import stop_run
from digits.launch import ACTIVE
from digits.process import lock_held
from digits.runs import list_runs
from testkit.served import CHROMIUM, launch, open_page, wait_idle


def spare_pids(server_pid: int) -> list[int]:
    """The server's waiting spare training processes (`python -m digits.spare`)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"digits.spare" in (proc / "cmdline").read_bytes() \
                    and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == server_pid:
                pids.append(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_for_warm_spare(server_pid: int, timeout: float = 60) -> None:
    """Until the server's spare has stopped using CPU for a second: warmed up, waiting for Start."""
    deadline, last, still = time.time() + timeout, None, 0
    while time.time() < deadline:
        pids = spare_pids(server_pid)
        ticks = cpu_ticks(pids[0]) if pids else None
        still = still + 1 if ticks is not None and ticks == last else 0
        if still >= 5:
            return
        last = ticks
        time.sleep(0.2)
    raise TimeoutError("the spare did not warm up")


def one_start(browser, url: str, runs: Path, server_pid: int, warm: bool) -> tuple[float, float]:
    """Seconds from the click on Start to the run shown and to its first chart point."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    open_page(page, url, "train", "Train")
    page.get_by_role("button", name="Fast recipe").click()
    wait_idle(page)
    if warm:
        wait_for_warm_spare(server_pid)
    t = time.perf_counter()
    page.get_by_role("button", name="Start training").click()
    shown = point = None
    while point is None and time.perf_counter() - t < 120:
        text = page.inner_text("body")
        if shown is None and (re.search(r"Starting \(", text) or re.search(r"iteration \d+/", text)):
            shown = time.perf_counter() - t
        if re.search(r"iteration [1-9]\d*/", text):
            point = time.perf_counter() - t
        time.sleep(0.05)
    for run in list_runs(runs):
        stop_run(run)
    while lock_held(runs / ACTIVE):  # one run at a time: the next start waits for this one to end
        time.sleep(0.1)
    context.close()
    return shown or float("inf"), point or float("inf")


def main(rounds: int = 3) -> None:
    from playwright.sync_api import sync_playwright

    runs = Path(tempfile.mkdtemp())
    url, server = launch({**os.environ, "DIGITS_RUNS": str(runs)})
    print("| round | spare warm: run shown | spare warm: first chart point | at once: run shown "
          "| at once: first chart point | load average |")
    print("|---|---|---|---|---|---|")
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for r in range(rounds):
                row = (one_start(browser, url, runs, server.pid, warm=True)
                       + one_start(browser, url, runs, server.pid, warm=False))
                rows.append(row)
                print(f"| {r + 1} | " + " | ".join(f"{s:.2f} s" for s in row) + f" | {os.getloadavg()[0]:.1f} |",
                      flush=True)
            browser.close()
        print("| median | " + " | ".join(f"{statistics.median(r[k] for r in rows):.2f} s" for k in range(4)) + " | |")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
