"""Load test: N people drawing on the Draw page at once while a model trains. Loopback only.

    python benchmarks/load.py --pages 3 10 20 --drawings 5       # the README's workshop table
    python benchmarks/load.py --pages 20 --think 0.5 --stroke-speed 0   # a harsher pace
    python benchmarks/load.py --pages 3 --drawings 3 --no-training
    python benchmarks/load.py --clients protocol --pages 20 50 100 --drawings 5   # the server alone
    python benchmarks/load.py --clients protocol --pages 100 200 300 --replicas 2   # a lecture hall behind Caddy

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
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from functools import partial
from pathlib import Path

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)
import load_browser
import load_protocol  # the two kinds of clients: a real browser, Streamlit's protocol
from load_cpu import CpuMeter

from digits.control import stop_run
from digits.launch import start_run
from digits.runs import run_state
from digits.serve import free_port

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, nargs="+", default=[20], help="concurrent pages (several: one row each)")
    ap.add_argument("--drawings", type=int, default=5, help="drawings per page")
    ap.add_argument("--think", type=float, default=2.0, help="seconds a person looks at the answer before Clear")
    ap.add_argument("--stroke-speed", type=float, default=500,
                    help="pen speed in px/s, mouse events at 60 Hz (0: all at once, as fast as Playwright can)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds before a drawing counts as an error")
    ap.add_argument("--no-training", action="store_true", help="no training run in the background")
    ap.add_argument("--replicas", type=int, default=0,
                    help="serve through `python -m digits serve --replicas N` (Caddy in front); 0: one plain server")
    ap.add_argument("--clients", choices=["browser", "protocol"], default="browser",
                    help="browser: headless Chromium pages (the default). protocol: websocket sessions that "
                         "replay what a real page sends, to measure the server without 20 browsers on its CPUs")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    return ap.parse_args(argv)


def start_server(port: int, runs: Path, replicas: int = 0) -> subprocess.Popen:
    command = ([sys.executable, "-m", "digits", "serve", "--replicas", str(replicas), "--port", str(port)] if replicas
               else [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                     "--server.port", str(port), "--server.address", "127.0.0.1"])
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "DIGITS_RUNS": str(runs)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()  # digits serve ends its replicas and Caddy on SIGTERM (SIGKILL would leave them running)
    proc.wait(timeout=120)
    raise RuntimeError("the app did not start")


def measure(drive, n: int, args, server_pid: int, runs: Path) -> tuple[dict, dict | None, str]:
    """One row: a training run (unless --no-training), N people at once, the CPU used while they draw.

    Returns the people's results, the CPU seconds (None off Linux) and the table's "training" cell.
    """
    run = None
    if not args.no_training:  # the Train page's own launcher
        run = start_run({"model": "lenet5", "epochs": 50, "eval_every": 200}, runs)
    training_pid = json.loads((run / "process.json").read_text())["pid"] if run else None
    meters = []

    def all_open():
        if sys.platform.startswith("linux"):
            meters.append(CpuMeter(server_pid, training_pid))

    results = asyncio.run(drive(n, on_all_open=all_open))
    cpu = meters[0].stop() if meters else None
    training = "no"
    if run is not None:
        training = "yes" if run_state(run) == "running" else f"yes ({run_state(run)})"
        stop_run(run)
        time.sleep(2)
    return results, cpu, training


def replica_memory(pid: int) -> str:
    """The resident memory of each app process under `python -m digits serve` (its children but Caddy), in MB."""
    sizes = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if b"streamlit" in Path(f"/proc/{child}/cmdline").read_bytes():
            status = Path(f"/proc/{child}/status").read_text()
            sizes.append(int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS:")).split()[1]) // 1024)
    return " / ".join(f"{mb:,}" for mb in sizes)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def header(args) -> list[str]:
    """The lines above the rows: the pace, then the table's head."""
    pace = f"think {args.think:g} s, pen " + (f"{args.stroke_speed:g} px/s" if args.stroke_speed > 0 else "instant")
    browsers = args.clients == "browser"
    who, clients = ("pages", "browsers") if browsers else ("sessions", "clients")
    return [f"Draw page, {args.drawings} drawings a page, {pace}; "
            f"{os.cpu_count()} CPUs for server, training and {clients}"
            + ("" if browsers else "; clients: websocket sessions replaying a real page's messages"),
            f"| {who} | training | page open p50 / max | drawings classified | errors | p50 | p95 | p99 | max | "
            f"CPU s while drawing: server / training / {clients} (wall) |",
            "|---|---|---|---|---|---|---|---|---|---|"]


def row(n: int, training: str, r: dict, cpu: dict | None, drawings: int) -> str:
    """One table row: N, training, open times, drawings classified, errors, latencies, CPU seconds (wall)."""
    lat, errors = r["latencies"], r["errors"]

    def ms(v):
        return f"{v * 1000:.0f} ms"

    def s(v):
        return f"{v:.1f} s"

    return (f"| {n} | {training} | "
            + (f"{s(statistics.median(r['open']))} / {s(max(r['open']))}" if r["open"] else "–")
            + f" | {len(lat)} / {n * drawings} | {len(errors)} | "
            + (" | ".join(ms(v) for v in (statistics.median(lat), percentile(lat, 0.95), percentile(lat, 0.99),
                                          max(lat))) if lat else "– | – | – | –")
            + " | " + (f"{cpu['server']:.0f} / {cpu['training']:.0f} / {cpu['browsers']:.0f}" if cpu else "–")
            + f" ({r['wall']:.0f} s) |")


def main() -> int:
    args = parse_args()
    runs = Path(tempfile.mkdtemp(prefix="digits-load-"))
    port = free_port()
    server = start_server(port, runs, args.replicas)
    url = f"http://127.0.0.1:{port}"
    for line in header(args):
        print(line)
    failed = False
    try:
        if args.clients == "browser":
            drive = partial(load_browser.drive, url, args=args)
        else:  # one real page's messages, recorded once, replayed for every row
            captured = asyncio.run(load_protocol.capture_messages(url, args))
            drive = partial(load_protocol.drive, url, args=args, captured=captured)
        for n in args.pages:
            r, cpu, training = measure(drive, n, args, server.pid, runs)
            print(row(n, training, r, cpu, args.drawings), flush=True)
            if args.replicas:
                print(f"  replicas' memory: {replica_memory(server.pid)} MB", flush=True)
            failed |= bool(r["errors"]) or not r["latencies"]
            for e in r["errors"][:5]:
                print(f"  error: {e}", file=sys.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)  # digits serve stops its processes one after another
        shutil.rmtree(runs, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
