"""The Room page at a full room, through a real server and Chromium (issue #35): a store of 20,000 drawings
(MNIST training digits stored as the Draw page stores an answer, each with its canvas: an 80 MB store), three
checkpoints (the two shipped ones and a third file), and the times a person waits for the page, with the server's
memory.

    python benchmarks/room_view.py                 # 19,990 drawings (+10 during the run: the cap), 50 visits
    python benchmarks/room_view.py --drawings 2000 --visits 10

Prints a Markdown table: a Home page view for comparison, the first-ever Room view (every checkpoint reads every
drawing once), the next one, a view after one new drawing, after one delete; after a new drawing, Refresh on an open
Room page, Room opened from the sidebar of an open app, and in a new tab of a browser that has the app open; three
viewers at once after one more new drawing, and 5 and 50 visits from closed browsers; for each the seconds to an
idle page, the server's CPU seconds, its resident memory and its peak. Everything runs in a temporary folder."""

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

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)
import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright

from digits import drawings
from digits.checkpoint import amend_checkpoint
from digits.data import load_splits
from testkit.served import CHROMIUM, launch, wait_idle

ROOT = Path(__file__).resolve().parents[1]
HEADING = "How each checkpoint reads the room"


def status_mb(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status in MB: VmRSS (resident now), VmHWM (the peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """CPU seconds the process has used (user + system, every thread)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def canvas(pixels: np.ndarray) -> bytes:
    """A 280×280 canvas as the Draw page keeps it (PNG, RGBA): the 28×28 drawn large, black on white."""
    big = np.kron(pixels, np.ones((10, 10), np.uint8))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = 255 - big[..., None], 255
    out = io.BytesIO()
    Image.fromarray(rgba).save(out, format="PNG", compress_level=6)
    return out.getvalue()


def build(folder: Path, n: int) -> Path:
    """A store of `n` drawings as the Draw page keeps them (the 28×28, the canvas as PNG, the model that answered,
    from 300 browser sessions, one a second) and a checkpoints folder of three files; the store's path."""
    train = load_splits(10_000, 0).train
    images, labels = train.images[:n].numpy(), train.labels[:n].numpy()
    store = folder / "drawings.sqlite"
    start = time.time() - n
    with closing(drawings.connect(store)) as db:  # one transaction: drawings.add checks the rate a row
        db.execute("BEGIN")
        db.executemany("INSERT INTO drawings (created, session, label, pixels, png, model, predicted, confidence) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [(start + i, f"bench-{i % 300}", int(labels[i]), images[i].tobytes(), canvas(images[i]),
                         "lenet5.pt", int(labels[i]), 0.99) for i in range(n)])
        db.execute("COMMIT")
    checkpoints = folder / "checkpoints"
    checkpoints.mkdir()
    for name in ("lenet5.pt", "cnn.pt"):
        shutil.copy(ROOT / "checkpoints" / name, checkpoints / name)
    shutil.copy(ROOT / "checkpoints" / "cnn.pt", checkpoints / "third.pt")
    amend_checkpoint(checkpoints / "third.pt", {"temperature": 1.5}, {})  # another file: answers of its own
    return store


def opened(page, url: str, name: str = "room", heading: str = HEADING) -> float:
    """Seconds from `page` going to a page of the app (the Room page: with its checkpoint table) to it being idle."""
    start = time.perf_counter()
    page.goto(f"{url}/{name}")
    page.get_by_role("heading", name=heading).wait_for(timeout=600_000)
    wait_idle(page, timeout=600_000)
    return time.perf_counter() - start


def view(browser, url: str, name: str = "room", heading: str = HEADING) -> float:
    """Seconds from opening a page in a new browser to it being idle."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    took = opened(context.new_page(), url, name, heading)
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


class Table:
    """The benchmark's rows: what was done, the seconds a person waited, the server's CPU seconds for it, its
    resident memory after it and the peak so far."""

    def __init__(self, pid: int):
        self.pid, self.rows = pid, []

    def time(self, what: str, act=None) -> None:
        cpu = cpu_s(self.pid)
        seconds = f"{act():.1f}" if act else ""
        self.rows.append((what, seconds, f"{cpu_s(self.pid) - cpu:.1f}" if act else "",
                          f"{status_mb(self.pid, 'VmRSS'):,.0f}", f"{status_mb(self.pid, 'VmHWM'):,.0f}"))

    def print(self) -> None:
        print("| | seconds to an idle page | server CPU s | server memory (MB) | peak so far (MB) |")
        print("|---|---|---|---|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")


def stored(store: Path) -> int:
    with closing(drawings.connect(store)) as db:
        return sum(drawings.counts(db).values())


def change(store: Path, act) -> None:
    with closing(drawings.connect(store)) as db:
        act(db)


def run(browser, url: str, store: Path, table: Table, visits: int) -> None:
    table.time("server idle, before any view")
    table.time("a Home page view (the app's modules and torch loaded), for comparison",
               lambda: view(browser, url, "", "digits"))
    table.time("first-ever Room view (3 checkpoints read every drawing)", lambda: view(browser, url))
    table.time("the next Room view, nothing changed", lambda: view(browser, url))
    change(store, lambda db: drawings.add(db, np.full((28, 28), 255, np.uint8), 1, "bench-1"))
    table.time("after one new drawing", lambda: view(browser, url))
    change(store, lambda db: drawings.delete(db, drawings.drawings(db)[0].id))
    table.time("after one delete", lambda: view(browser, url))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()  # a presenter's open Room page: Refresh after each new drawing
    page.goto(f"{url}/room")
    page.get_by_role("heading", name=HEADING).wait_for(timeout=600_000)
    wait_idle(page, timeout=600_000)
    for k in range(3):
        change(store, lambda db: drawings.add(db, np.roll(np.eye(28, dtype=np.uint8) * 255, k, 1), 7, f"bench-r{k}"))
        table.time(f"Refresh on an open Room page after one new drawing ({k + 1} of 3)",
                   lambda: refreshed(page, stored(store)))
    context.close()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()  # someone in the room: on the Draw page, then Room from the sidebar, and back
    for k in range(3):
        page.goto(f"{url}/draw")
        page.get_by_role("heading", name="Draw a digit").wait_for(timeout=600_000)
        wait_idle(page, timeout=600_000)
        change(store, lambda db: drawings.add(db, np.roll(np.eye(28, dtype=np.uint8) * 255, k, 0), 1, f"bench-n{k}"))
        table.time(f"Room from the sidebar of an open app after one new drawing ({k + 1} of 3)",
                   lambda: navigated(page, stored(store)))
    for k in range(3):  # the same browser, its cache warm from the pages above: a new tab on the Room page
        change(store, lambda db: drawings.add(db, np.roll(np.eye(28, dtype=np.uint8) * 255, k, 1), 4, f"bench-t{k}"))
        table.time(f"a new tab of a browser that has the app open, after one new drawing ({k + 1} of 3)",
                   lambda: new_tab(context, url))
    context.close()
    change(store, lambda db: drawings.add(db, np.eye(28, dtype=np.uint8) * 255, 7, "bench-2"))
    table.time("three viewers at once, after one new drawing", lambda: together(browser, url, 3))
    times = []
    for visit in range(1, visits + 1):
        times.append(view(browser, url))
        if visit in (5, visits):
            table.time(f"after {visit} more visits (median view {np.median(times):.1f} s)")


def refreshed(page, drawings_now: int) -> float:
    """Seconds from pressing Refresh on an open Room page to it showing `drawings_now` drawings, idle."""
    start = time.perf_counter()
    page.get_by_role("button", name="Refresh").click()
    page.locator("[data-testid='stMetricValue']", has_text=f"{drawings_now:,}").wait_for(timeout=600_000)
    wait_idle(page, timeout=600_000)
    return time.perf_counter() - start


def new_tab(context, url: str) -> float:
    """Seconds from opening /room in a new tab of a browser that already has the app open (its HTTP and script
    caches warm, a new Streamlit session) to the page being idle."""
    page = context.new_page()
    took = opened(page, url)
    page.close()
    return took


def navigated(page, drawings_now: int) -> float:
    """Seconds from clicking Room in the sidebar of an open page of the app (no page load: the same browser session)
    to the Room page showing `drawings_now` drawings, idle."""
    start = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Room").click()
    page.locator("[data-testid='stMetricValue']", has_text=f"{drawings_now:,}").wait_for(timeout=600_000)
    page.get_by_role("heading", name=HEADING).wait_for(timeout=600_000)
    wait_idle(page, timeout=600_000)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--drawings", type=int, default=19_990)  # + eleven added, one deleted: the collection's cap
    p.add_argument("--visits", type=int, default=50)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = build(folder, args.drawings)
        env = {**os.environ, "DIGITS_RUNS": str(folder / "runs"), "DIGITS_CHECKPOINTS": str(folder / "checkpoints")}
        url, proc = launch(env, drawings=store)
        table = Table(proc.pid)
        try:
            time.sleep(3)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                run(browser, url, store, table, args.visits)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"{args.drawings:,} drawings, 3 checkpoints · {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores · {time.strftime('%Y-%m-%d')}\n")
    table.print()


if __name__ == "__main__":
    main()
