"""Load test: N people drawing on the Draw page at once while a model trains. Loopback only.

    python benchmarks/load.py --pages 20 --drawings 5          # the workshop case
    python benchmarks/load.py --pages 3 --drawings 3 --no-training

Starts `streamlit run app.py` on a free local port, starts a training run (as the Train page
does), opens N headless Chromium pages on the Draw page, and has each draw digits with the
mouse, one after another: clear, draw, wait for the prediction. Prints, per N: drawings
classified, errors, and the time from the end of the stroke to the prediction appearing.
Everything is bounded (drawings per page, a deadline per drawing), so it always ends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digits.runs import run_state, start_run, stop_run  # noqa: E402

STROKES = {  # canvas pixels (280×280)
    "1": [(140, 50), (140, 230)],
    "7": [(80, 60), (200, 60), (120, 235)],
    "0": [(140, 45), (95, 75), (80, 140), (95, 205), (140, 235), (185, 205), (200, 140), (185, 75), (140, 45)],
}
THINK_S = 1.0  # a person looks at the answer and the cleared canvas before drawing again
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, runs: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=ROOT, env={**os.environ, "DIGITS_RUNS": str(runs)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start")


async def open_draw_page(page, url: str) -> None:
    await page.goto(f"{url}/draw", timeout=120_000)
    await page.get_by_text("Draw a digit on the canvas.").wait_for(timeout=120_000)


async def person(browser, url: str, drawings: int, latencies: list, errors: list, timeout_ms: int) -> None:
    page = await browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        await open_draw_page(page, url)
    except Exception as e:
        errors.extend([f"page did not open: {type(e).__name__}"] * drawings)
        await page.close()
        return
    try:
        for i in range(drawings):
            digit, points = list(STROKES.items())[i % len(STROKES)]
            try:
                canvas = page.locator("canvas.upper-canvas").first
                box = await canvas.bounding_box(timeout=timeout_ms)
                await page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
                await page.mouse.down()
                for x, y in points[1:]:
                    await page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
                await page.mouse.up()
                lifted = time.perf_counter()
                await page.locator(".digit").first.wait_for(timeout=timeout_ms)
                latencies.append(time.perf_counter() - lifted)
                old = await canvas.element_handle()
                await page.get_by_role("button", name="Clear").click(timeout=timeout_ms)
                await page.get_by_text("Draw a digit on the canvas.").wait_for(timeout=timeout_ms)
                await page.wait_for_function("e => !e.isConnected", arg=old, timeout=timeout_ms)  # a fresh canvas
                await asyncio.sleep(THINK_S)
            except Exception as e:  # a timeout or a broken page: count it, reload, go on
                errors.append(f"{digit}: {type(e).__name__}: {str(e).splitlines()[0][:150]}")
                try:
                    await open_draw_page(page, url)
                except Exception as e:
                    errors.extend([f"page did not reopen: {type(e).__name__}"] * (drawings - i - 1))
                    return
    finally:
        await page.close()


async def drive(url: str, pages: int, drawings: int, timeout_ms: int, chromium: str):
    from playwright.async_api import async_playwright

    latencies, errors = [], []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        started = time.perf_counter()
        await asyncio.gather(*(person(browser, url, drawings, latencies, errors, timeout_ms) for _ in range(pages)))
        wall = time.perf_counter() - started
        await browser.close()
    return latencies, errors, wall


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, nargs="+", default=[20], help="concurrent pages (several: one row each)")
    ap.add_argument("--drawings", type=int, default=5, help="drawings per page")
    ap.add_argument("--timeout", type=float, default=30, help="seconds before a drawing counts as an error")
    ap.add_argument("--no-training", action="store_true", help="no training run in the background")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()

    runs = Path(tempfile.mkdtemp(prefix="digits-load-"))
    port = free_port()
    server = start_server(port, runs)
    url = f"http://127.0.0.1:{port}"
    print(f"| pages | training | drawings classified | errors | p50 | p95 | max | wall |")
    print(f"|---|---|---|---|---|---|---|---|")
    failed = False
    try:
        for n in args.pages:
            run = None
            if not args.no_training:  # the Train page's own launcher: nice'd subprocess
                run = start_run({"model": "lenet5", "epochs": 50, "eval_every": 200}, runs)
            latencies, errors, wall = asyncio.run(drive(url, n, args.drawings, int(args.timeout * 1000), args.chromium))
            training = "no"
            if run is not None:
                training = "yes" if run_state(run) == "running" else f"yes ({run_state(run)})"
                stop_run(run)
                time.sleep(2)
            ms = lambda v: f"{v * 1000:.0f} ms"
            print(f"| {n} | {training} | {len(latencies)} / {n * args.drawings} | {len(errors)} | "
                  f"{ms(statistics.median(latencies)) if latencies else '–'} | {ms(percentile(latencies, 0.95))} | "
                  f"{ms(max(latencies)) if latencies else '–'} | {wall:.0f} s |", flush=True)
            failed |= bool(errors) or not latencies
            for e in errors[:5]:
                print(f"  error: {e}", file=sys.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(runs, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
