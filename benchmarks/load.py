"""Load test: N people drawing on the Draw page at once while a model trains. Loopback only.

    python benchmarks/load.py --pages 3 10 20 --drawings 5       # the README's workshop table
    python benchmarks/load.py --pages 20 --think 0.5 --stroke-speed 0   # a harsher pace
    python benchmarks/load.py --pages 3 --drawings 3 --no-training
    python benchmarks/load.py --clients protocol --pages 20 50 100 --drawings 5   # the server alone

Starts `streamlit run app.py` on a free local port (with the repository's .streamlit/config.toml)
and a training run (as the Train page does), opens N headless Chromium pages on the Draw page at
once, then has each person draw digits with the mouse, one after another: draw (pen at 500 px/s,
mouse events at 60 Hz), wait for the answer, read it (--think s), Clear, draw again. Prints, per N:
how long the pages took to open, drawings classified, errors (with what the page showed), the
time from the mouse button going up to the answer on screen (timed inside the page), and the CPU
seconds that the server, the training run and the browsers used while people drew.
Everything is bounded (drawings per page, a deadline per drawing), so it always ends.

On one machine the N browsers share its CPUs with the server, as they do not on a workshop day
(each person's browser runs on their own laptop). `--clients protocol` takes them out: one real
Chromium page draws each digit and Clears once while its websocket messages are recorded, then N
websocket sessions replay those messages at the same pace, and the time is from a drawing's
message going out to the answer's element coming back (no browser: no 200 ms canvas debounce, no
rendering).
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

from benchmarks.load_cpu import CpuMeter  # noqa: E402
from digits.launch import start_run, stop_run  # noqa: E402
from digits.runs import run_state  # noqa: E402

STROKES = {  # canvas pixels (280×280)
    "1": [(140, 50), (140, 230)],
    "7": [(80, 60), (200, 60), (120, 235)],
    "0": [(140, 45), (95, 75), (80, 140), (95, 205), (140, 235), (185, 205), (200, 140), (185, 75), (140, 45)],
}
AFTER_CLEAR_S = 0.5  # from the fresh canvas appearing to the pen going down
# Timed inside the page, on the page's own clock: from the mouse button going up to the first
# animation frame after the prediction is in the DOM. (Timing it from here with Playwright's
# wait_for adds its polling interval, up to 500 ms, to every figure.)
ARM_TIMER = """() => {
  window.__lifted = null;
  window.addEventListener('mouseup', () => { window.__lifted = performance.now(); }, {capture: true, once: true});
  window.__shown = new Promise(resolve => {
    const seen = () => {
      if (!document.querySelector('.digit')) return;
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - window.__lifted));
    };
    const observer = new MutationObserver(seen);
    observer.observe(document.body, {childList: true, subtree: true});
    seen();
  });
}"""
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


async def open_draw_page(page, url: str, timeout_ms: int = 120_000) -> None:
    await page.goto(f"{url}/draw", timeout=timeout_ms)
    await page.get_by_text("Draw a digit on the canvas.").wait_for(timeout=timeout_ms)


def stroke_path(points, speed: float):
    """Mouse positions along the polyline, one per 1/60 s at `speed` px/s (a mouse reports ~60 Hz)."""
    if speed <= 0:  # as fast as Playwright sends them: 6 events a segment, no pause
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for k in range(1, 7):
                yield x0 + (x1 - x0) * k / 6, y0 + (y1 - y0) * k / 6
        return
    step = speed / 60
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, round(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / step))
        for k in range(1, n + 1):
            yield x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n


async def draw(page, points, speed: float, timeout_ms: int) -> None:
    box = await page.locator("canvas.upper-canvas").first.bounding_box(timeout=timeout_ms)
    await page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    await page.mouse.down()
    next_at = time.perf_counter()
    for x, y in stroke_path(points, speed):
        if speed > 0:
            next_at += 1 / 60
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await page.mouse.move(box["x"] + x, box["y"] + y)
    await page.mouse.up()


class Person:
    """One participant: opens the Draw page, then draws, reads the answer, clears, draws again."""

    def __init__(self, browser, url: str, args, results: dict):
        self.browser, self.url, self.args, self.results = browser, url, args, results
        self.timeout_ms = int(args.timeout * 1000)
        self.page = None

    async def open(self) -> bool:
        self.page = await self.browser.new_page(viewport={"width": 1200, "height": 900})
        started = time.perf_counter()
        try:
            await open_draw_page(self.page, self.url)
        except Exception as e:
            self.results["errors"].extend([f"page did not open: {type(e).__name__}"] * self.args.drawings)
            return False
        self.results["open"].append(time.perf_counter() - started)
        return True

    async def draw_digits(self, rng) -> None:
        page, errors, timeout_ms = self.page, self.results["errors"], self.timeout_ms
        await asyncio.sleep(rng.uniform(0, self.args.think))  # people do not start in step
        for i in range(self.args.drawings):
            digit, points = list(STROKES.items())[i % len(STROKES)]
            try:
                await page.evaluate(ARM_TIMER)
                await draw(page, points, self.args.stroke_speed, timeout_ms)
                shown_ms = await asyncio.wait_for(page.evaluate("window.__shown"), timeout_ms / 1000)
                self.results["latencies"].append(shown_ms / 1000)
                await asyncio.sleep(self.args.think)  # reads the answer
                old = await page.locator("canvas.upper-canvas").first.element_handle(timeout=timeout_ms)
                await page.get_by_role("button", name="Clear").click(timeout=timeout_ms)
                await page.get_by_text("Draw a digit on the canvas.").wait_for(timeout=timeout_ms)
                await page.wait_for_function("e => !e.isConnected", arg=old, timeout=timeout_ms)  # a fresh canvas
                await asyncio.sleep(AFTER_CLEAR_S)
            except Exception as e:  # a timeout or a broken page: count it, reload, go on
                errors.append(f"{digit}: {type(e).__name__}: {(str(e).splitlines() or [''])[0][:150]} "
                              f"(page shows: {await page_state(page)})")
                try:
                    await open_draw_page(page, self.url, timeout_ms)
                except Exception as e:
                    errors.extend([f"page did not reopen: {type(e).__name__}"] * (self.args.drawings - i - 1))
                    return


async def page_state(page) -> str:
    """What a person would see when a drawing got no answer, for the error report."""
    try:
        return await asyncio.wait_for(page.evaluate("""() => {
          const status = document.querySelector('[data-testid=stStatusWidget]');
          const lower = document.querySelector('canvas.lower-canvas');
          let ink = 'no canvas';
          if (lower) {  // is the stroke on the canvas? (if so, its value went missing on the way)
            const d = lower.getContext('2d').getImageData(0, 0, lower.width, lower.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) n += d[i] > 128;
            ink = n + ' ink pixels on the canvas';
          }
          return [document.querySelector('.digit') ? 'a digit' : 'no digit',
                  document.body.innerText.includes('Draw a digit on the canvas.') ? '"Draw a digit"' : '',
                  status ? 'status: ' + status.innerText.replace(/\\s+/g, ' ') : '',
                  document.querySelector('[data-testid=stConnectionStatus]') ? 'connection status shown' : '',
                  ink].filter(Boolean).join(', ');
        }"""), 5)
    except Exception as e:
        return f"unreadable ({type(e).__name__})"


async def drive(url: str, n: int, args, on_all_open=None) -> dict:
    """All N pages open at once (as when a presenter says "open the link"), then all draw."""
    from playwright.async_api import async_playwright

    results = {"open": [], "latencies": [], "errors": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        await open_then_draw([Person(browser, url, args, results) for _ in range(n)], results, on_all_open)
        await browser.close()
    return results


async def open_then_draw(people: list, results: dict, on_all_open=None) -> None:
    """Everyone opens the page at once; when all are in, everyone draws (the timed part: "wall")."""
    import random

    opened = await asyncio.gather(*(person.open() for person in people))
    if on_all_open:
        on_all_open()
    started = time.perf_counter()
    rng = random.Random(0)
    await asyncio.gather(*(person.draw_digits(rng) for person, ok in zip(people, opened) if ok))
    results["wall"] = time.perf_counter() - started


async def capture_messages(url: str, args) -> dict:
    """What a real page sends: open the Draw page in Chromium, draw each digit, Clear after each.

    Returns the page's websocket messages (Streamlit BackMsg bytes): the first run, one rerun per
    drawn digit (the canvas's own value: its drawing and PNG) and one per Clear. The canvas's widget
    id changes with every Clear, so Session._run puts the session's current one in.
    """
    from playwright.async_api import async_playwright

    sent = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
        await open_draw_page(page, url)
        captured = {"open": sent[-1], "draw": {}, "clear": None}
        for digit, points in STROKES.items():
            await page.evaluate(ARM_TIMER)
            await draw(page, points, 0, 30_000)
            await asyncio.wait_for(page.evaluate("window.__shown"), 30)
            captured["draw"][digit] = sent[-1]
            old = await page.locator("canvas.upper-canvas").first.element_handle()
            await page.get_by_role("button", name="Clear").click()
            await page.wait_for_function("e => !e.isConnected", arg=old)
            await page.get_by_text("Draw a digit on the canvas.").wait_for()
            captured["clear"] = sent[-1]
        await browser.close()
    return captured


class Session:
    """One participant as the server sees them: a websocket session that sends what the page sends.

    No browser: it measures the server alone, from the drawing's message going out to the message
    with the answer coming back, with the same pace as Person (time to draw, reading, Clear).
    """

    def __init__(self, url: str, captured: dict, args, results: dict):
        self.url, self.captured, self.args, self.results = url, captured, args, results
        self.ws, self.canvas_id = None, None

    async def _run(self, message: bytes, wait_for_digit: bool = False) -> float | None:
        """Sends one rerun and reads until the run ends; seconds until the answer's element, if asked."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg.FromString(message)
        for widget in back.rerun_script.widget_states.widgets:
            if "-canvas-" in widget.id:
                widget.id = self.canvas_id
        started, shown, problems = time.perf_counter(), None, []
        await self.ws.send(back.SerializeToString())
        while True:
            msg = ForwardMsg.FromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                which = element.WhichOneof("type")
                if which == "bidi_component" and "-canvas-" in element.bidi_component.id:
                    self.canvas_id = element.bidi_component.id
                elif which in ("html", "markdown") and "class='digit'" in getattr(element, which).body and shown is None:
                    shown = time.perf_counter() - started
                elif which == "exception":
                    problems.append(f"exception: {element.exception.message[:120]}")
            elif kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                break  # (a run that ends in st.rerun() goes on with the next run)
        if problems:
            raise RuntimeError("; ".join(problems))
        if wait_for_digit and shown is None:
            raise RuntimeError("the run ended without an answer")
        return shown

    async def open(self, left: int | None = None) -> bool:
        """Connects and runs the page once; on failure, the `left` drawings count as errors."""
        import websockets

        started = time.perf_counter()
        try:
            self.ws = await websockets.connect(self.url.replace("http", "ws", 1) + "/_stcore/stream",
                                               subprotocols=["streamlit"], max_size=None)
            await asyncio.wait_for(self._run(self.captured["open"]), self.args.timeout)
        except Exception as e:
            left = self.args.drawings if left is None else left
            self.results["errors"].extend([f"session did not open: {type(e).__name__}: {e}"] * left)
            return False
        self.results["open"].append(time.perf_counter() - started)
        return True

    async def draw_digits(self, rng) -> None:
        errors = self.results["errors"]
        await asyncio.sleep(rng.uniform(0, self.args.think))
        for i in range(self.args.drawings):
            digit, points = list(STROKES.items())[i % len(STROKES)]
            if self.args.stroke_speed > 0:  # as long as drawing it takes
                await asyncio.sleep(sum(1 for _ in stroke_path(points, self.args.stroke_speed)) / 60)
            try:
                shown = await asyncio.wait_for(self._run(self.captured["draw"][digit], True), self.args.timeout)
                self.results["latencies"].append(shown)
                await asyncio.sleep(self.args.think)
                await asyncio.wait_for(self._run(self.captured["clear"]), self.args.timeout)
                await asyncio.sleep(AFTER_CLEAR_S)
            except Exception as e:
                errors.append(f"{digit}: {type(e).__name__}: {e}")
                await self.ws.close()
                if not await self.open(left=self.args.drawings - i - 1):
                    return

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def drive_sessions(url: str, n: int, args, captured: dict, on_all_open=None) -> dict:
    results = {"open": [], "latencies": [], "errors": []}
    people = [Session(url, captured, args, results) for _ in range(n)]
    await open_then_draw(people, results, on_all_open)
    await asyncio.gather(*(person.close() for person in people))
    return results


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, nargs="+", default=[20], help="concurrent pages (several: one row each)")
    ap.add_argument("--drawings", type=int, default=5, help="drawings per page")
    ap.add_argument("--think", type=float, default=2.0, help="seconds a person looks at the answer before Clear")
    ap.add_argument("--stroke-speed", type=float, default=500,
                    help="pen speed in px/s, mouse events at 60 Hz (0: all at once, as fast as Playwright can)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds before a drawing counts as an error")
    ap.add_argument("--no-training", action="store_true", help="no training run in the background")
    ap.add_argument("--clients", choices=["browser", "protocol"], default="browser",
                    help="browser: headless Chromium pages (the default). protocol: websocket sessions that "
                         "replay what a real page sends, to measure the server without 20 browsers on its CPUs")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()

    runs = Path(tempfile.mkdtemp(prefix="digits-load-"))
    port = free_port()
    server = start_server(port, runs)
    url = f"http://127.0.0.1:{port}"
    pace = f"think {args.think:g} s, pen " + (f"{args.stroke_speed:g} px/s" if args.stroke_speed > 0 else "instant")
    browsers = args.clients == "browser"
    who, clients = ("pages", "browsers") if browsers else ("sessions", "clients")
    print(f"Draw page, {args.drawings} drawings a page, {pace}; {os.cpu_count()} CPUs for server, training and {clients}"
          + ("" if browsers else "; clients: websocket sessions replaying a real page's messages"))
    print(f"| {who} | training | page open p50 / max | drawings classified | errors | p50 | p95 | max | "
          f"CPU s while drawing: server / training / {clients} (wall) |")
    print("|---|---|---|---|---|---|---|---|---|")
    failed = False
    try:
        captured = None if browsers else asyncio.run(capture_messages(url, args))
        for n in args.pages:
            run = None
            if not args.no_training:  # the Train page's own launcher
                run = start_run({"model": "lenet5", "epochs": 50, "eval_every": 200}, runs)
            training_pid = json.loads((run / "process.json").read_text())["pid"] if run else None
            meters = []

            def all_open():
                if sys.platform.startswith("linux"):
                    meters.append(CpuMeter(server.pid, training_pid))

            r = asyncio.run(drive(url, n, args, on_all_open=all_open) if browsers
                            else drive_sessions(url, n, args, captured, on_all_open=all_open))
            cpu = meters[0].stop() if meters else None
            training = "no"
            if run is not None:
                training = "yes" if run_state(run) == "running" else f"yes ({run_state(run)})"
                stop_run(run)
                time.sleep(2)
            lat, errors = r["latencies"], r["errors"]
            ms = lambda v: f"{v * 1000:.0f} ms"
            s = lambda v: f"{v:.1f} s"
            print(f"| {n} | {training} | "
                  + (f"{s(statistics.median(r['open']))} / {s(max(r['open']))}" if r["open"] else "–")
                  + f" | {len(lat)} / {n * args.drawings} | {len(errors)} | "
                  + (f"{ms(statistics.median(lat))} | {ms(percentile(lat, 0.95))} | {ms(max(lat))}" if lat else "– | – | –")
                  + " | " + (f"{cpu['server']:.0f} / {cpu['training']:.0f} / {cpu['browsers']:.0f}" if cpu else "–")
                  + f" ({r['wall']:.0f} s) |", flush=True)
            failed |= bool(errors) or not lat
            for e in errors[:5]:
                print(f"  error: {e}", file=sys.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(runs, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
