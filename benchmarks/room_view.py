"""The Room page at a full room, through a real server and Chromium (issue #35): a store of 20,000 drawings
(MNIST training digits stored as the Draw page stores an answer), three checkpoints (the two shipped ones and a
third file), and the times a person waits for the page, with the server's memory.

    python benchmarks/room_view.py                 # 19,998 drawings (+2 during the run: the cap), 50 visits
    python benchmarks/room_view.py --drawings 2000 --visits 10

Prints a Markdown table: the first-ever view (every checkpoint reads every drawing once), a view after one new
drawing, after one delete, three viewers at once after one more new drawing, and the server's resident memory
at idle, after 5 and after 50 visits from closed browsers. Everything runs in a temporary folder."""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

from digits import drawing_files, drawings
from digits.checkpoint import amend_checkpoint
from digits.data import load_splits
from testkit.served import CHROMIUM, launch, wait_idle

ROOT = Path(__file__).resolve().parents[1]
HEADING = "How each checkpoint reads the room"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build(folder: Path, n: int) -> Path:
    """A store of `n` drawings and a checkpoints folder of three files; the store's path."""
    train = load_splits(10_000, 0).train
    buf = io.BytesIO()
    np.savez_compressed(buf, images=train.images[:n].numpy(), labels=train.labels[:n].numpy().astype(np.int64))
    store = folder / "drawings.sqlite"
    with closing(drawings.connect(store)) as db:
        drawing_files.import_npz(db, buf.getvalue())
    checkpoints = folder / "checkpoints"
    checkpoints.mkdir()
    for name in ("lenet5.pt", "cnn.pt"):
        shutil.copy(ROOT / "checkpoints" / name, checkpoints / name)
    shutil.copy(ROOT / "checkpoints" / "cnn.pt", checkpoints / "third.pt")
    amend_checkpoint(checkpoints / "third.pt", {"temperature": 1.5}, {})  # another file: answers of its own
    return store


def view(browser, url: str) -> float:
    """Seconds from opening /room in a new browser to the page being idle with its checkpoint table."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(f"{url}/room")
    page.get_by_role("heading", name=HEADING).wait_for(timeout=600_000)
    wait_idle(page, timeout=600_000)
    took = time.perf_counter() - start
    context.close()
    return took


def together(browser, url: str, n: int) -> float:
    """n browsers opening /room at the same moment: seconds until the last is idle."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 900}) for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    start = time.perf_counter()
    for page in pages:
        page.goto(f"{url}/room", wait_until="commit")
    for page in pages:
        page.get_by_role("heading", name=HEADING).wait_for(timeout=600_000)
        wait_idle(page, timeout=600_000)
    took = time.perf_counter() - start
    for c in contexts:
        c.close()
    return took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--drawings", type=int, default=19_998)  # + the two the run adds: the collection's cap
    p.add_argument("--visits", type=int, default=50)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = build(folder, args.drawings)
        env = {**os.environ, "DIGITS_RUNS": str(folder / "runs"), "DIGITS_CHECKPOINTS": str(folder / "checkpoints")}
        url, proc = launch(env, drawings=store)
        rows = []
        try:
            time.sleep(3)
            rows.append(("server idle, before any view", "", f"{rss_mb(proc.pid):.0f}"))
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                rows.append(("first-ever view (3 checkpoints read every drawing)", f"{view(browser, url):.1f}",
                             f"{rss_mb(proc.pid):.0f}"))
                with closing(drawings.connect(store)) as db:
                    drawings.add(db, np.full((28, 28), 255, np.uint8), 1, "bench-1")
                rows.append(("after one new drawing", f"{view(browser, url):.1f}", f"{rss_mb(proc.pid):.0f}"))
                with closing(drawings.connect(store)) as db:
                    drawings.delete(db, drawings.drawings(db)[0].id)
                rows.append(("after one delete", f"{view(browser, url):.1f}", f"{rss_mb(proc.pid):.0f}"))
                with closing(drawings.connect(store)) as db:
                    drawings.add(db, np.eye(28, dtype=np.uint8) * 255, 7, "bench-2")
                rows.append(("three viewers at once, after one new drawing", f"{together(browser, url, 3):.1f}",
                             f"{rss_mb(proc.pid):.0f}"))
                times = []
                for visit in range(1, args.visits + 1):
                    times.append(view(browser, url))
                    if visit in (5, args.visits):
                        rows.append((f"after {visit} more visits (median view {np.median(times):.1f} s)", "",
                                     f"{rss_mb(proc.pid):.0f}"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"{args.drawings:,} drawings, 3 checkpoints · {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores · {time.strftime('%Y-%m-%d')}\n")
    print("| | seconds to an idle page | server memory (MB) |\n|---|---|---|")
    for what, seconds, mb in rows:
        print(f"| {what} | {seconds} | {mb} |")


if __name__ == "__main__":
    main()
