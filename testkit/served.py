"""A real `streamlit run app.py` and Debian's Chromium, for the end-to-end tests (tests/test_browser*.py; their
fixtures are in tests/conftest.py) and the browser benchmarks (benchmarks/*_browser.py)."""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from digits.serve import ServeError, free_port, wait_healthy  # free_port: the tests' and benchmarks' too

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def launch(env: dict, drawings: Path | None = None) -> tuple[str, subprocess.Popen]:
    """The app on a free port. Its drawings store is `drawings`, else a new file in a temporary folder:
    never the room's data/drawings.sqlite, whatever the environment says."""
    env = {**env, "DIGITS_SPARE": "1",
           "DIGITS_DRAWINGS": str(drawings or Path(tempfile.mkdtemp(prefix="digits-drawings-")) / "drawings.sqlite")}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not healthy(port, proc, 60):
        proc.kill()
        raise RuntimeError("streamlit did not start: " + proc.stdout.read().decode()[-2000:])
    return url, proc


def healthy(port: int, proc: subprocess.Popen, timeout: float) -> bool:
    """Wait until the app (or the proxy) on this machine's `port` says it is ok (digits.serve.wait_healthy); False
    when `proc` ends first or time is up."""
    try:
        wait_healthy(port, time.monotonic() + timeout, proc)
        return True
    except ServeError:
        return False


def wait_idle(page, timeout=60_000):
    """Wait until Streamlit has finished the script run (no running indicator)."""
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=timeout)


def open_page(page, url, name, heading):
    page.goto(f"{url}/{name}")
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0


def start_training(page, url, epochs: str, evaluate: str, name: str) -> None:
    """Open the Train page, fill the New-run panel (opening it if a run that just ended folded it) and press Start."""
    open_page(page, url, "train", "Train")
    field = page.get_by_label("Epochs", exact=True)
    try:
        field.wait_for(state="visible", timeout=5_000)  # the panel is open while nothing trains…
    except Exception:
        page.get_by_text("New run").click()  # …except just after a run ended: then one click opens it
        field.wait_for(state="visible", timeout=10_000)
    field.fill(epochs)
    page.get_by_label("Evaluate every (0 = auto)", exact=True).fill(evaluate)
    page.get_by_label("Name (optional)", exact=True).fill(name)
    page.get_by_role("button", name="Start training").click()


def stroke(page, canvas, points):
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=8)
    page.mouse.up()


def draw(page, digit: str) -> str:
    """Draw DRAWINGS[digit] with the mouse on the open Draw page's canvas; the digit the page then reads."""
    time.sleep(1.0)  # the canvas's script sets up its mouse handlers
    canvas = page.locator("canvas.upper-canvas").first
    for points in DRAWINGS[digit]:
        stroke(page, canvas, points)
    answer = page.locator(".digit").first
    answer.wait_for(timeout=30_000)
    wait_idle(page)
    return answer.inner_text().strip()


# Mouse paths in canvas pixels (280×280) for a few digits, drawn the way a person would.
DRAWINGS = {
    "1": [[(140, 50), (140, 230)]],
    "7": [[(80, 60), (200, 60), (120, 235)]],
    "0": [[(140, 45), (95, 75), (80, 140), (95, 205), (140, 235), (185, 205), (200, 140), (185, 75), (140, 45)]],
}
