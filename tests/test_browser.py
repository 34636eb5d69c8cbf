"""End to end: a real `streamlit run app.py` and Debian's Chromium driven by Playwright. Slow: `pytest -m slow`.
(About 265 lines: each test starts a server and a browser; one file keeps that cost to one module fixture.)

Screenshots of every page land in artifacts/screenshots/ (git-ignored) to be looked at.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from digits.runs import list_runs
from testkit.served import DRAWINGS, ROOT, SHOTS, launch, open_page, stroke, wait_idle

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    yield page
    page.close()


@pytest.mark.parametrize("name, heading", [("", "digits"), ("predictions", "Predictions on the test set"),
                                           ("losses", "Losses"), ("model", "Model")])
def test_every_page_opens(server, page, name, heading):
    url, _ = server
    open_page(page, url, name, heading)
    if name == "predictions":
        page.get_by_text("Test accuracy").wait_for(timeout=60_000)
        captions = page.get_by_text(re.compile(r"true \d · pred \d"))
        captions.first.wait_for()
        assert captions.count() == 28  # a full batch of test images, each with its caption
    if name == "losses":
        page.get_by_text("written by hand (digits.losses)").wait_for()
    if name == "model":
        page.get_by_text("Parameters").first.wait_for()
    page.screenshot(path=str(SHOTS / f"{name or 'home'}.png"), full_page=True)


def test_draw_digits_with_the_mouse(server, page):
    url, _ = server
    open_page(page, url, "draw", "Draw a digit")
    page.get_by_text("Draw a digit on the canvas.").wait_for()
    for digit, strokes in DRAWINGS.items():
        canvas = page.locator("canvas.upper-canvas").first
        for points in strokes:
            stroke(page, canvas, points)
        shown = page.locator(".digit").first
        shown.wait_for(timeout=30_000)
        wait_idle(page)
        page.screenshot(path=str(SHOTS / f"draw-{digit}.png"), full_page=True)
        assert shown.inner_text().strip() == digit
        old = canvas.element_handle()
        page.get_by_role("button", name="Clear").click()
        page.get_by_text("Draw a digit on the canvas.").wait_for(timeout=30_000)
        # Clear mounts a fresh canvas: wait until the old one is gone, and give the new one the
        # moment a person would take before drawing again (its script sets up its mouse handlers).
        page.wait_for_function("e => !e.isConnected", arg=old, timeout=30_000)
        time.sleep(1.0)


def progress_text(page) -> str:
    return page.locator("[data-testid='stProgress']").inner_text()


def test_train_live_and_stop(server, page):
    url, runs = server
    open_page(page, url, "train", "Train")
    page.get_by_label("Epochs", exact=True).fill("3")
    page.get_by_label("Evaluate every (0 = auto)", exact=True).fill("40")
    page.get_by_role("button", name="Start training").click()
    page.locator("[data-testid='stProgress']").wait_for(timeout=90_000)
    first = progress_text(page)
    page.get_by_text("Updated the best model!").first.wait_for(timeout=60_000)
    time.sleep(2.5)
    later = progress_text(page)
    def iteration(text):
        return int(re.search(r"iteration (\d+)/", text).group(1))

    assert iteration(later) > iteration(first), (first, later)  # the page follows the run live
    assert page.locator(".js-plotly-plot").count() >= 2
    page.screenshot(path=str(SHOTS / "train-live.png"), full_page=True)
    page.get_by_role("button", name="Stop training").click()
    page.get_by_text("Stopped on request").first.wait_for(timeout=30_000)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "train-stopped.png"), full_page=True)
    run = next(iter(list_runs(runs)))
    assert (run / "best.pt").exists() and '"kind": "stopped"' in (run / "events.jsonl").read_text()


def load_row(*args: str) -> list[str]:
    """Runs benchmarks/load.py; the cells of its last table row. Exit 0: every drawing classified, no error."""
    done = subprocess.run([sys.executable, "benchmarks/load.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return [cell.strip() for cell in done.stdout.strip().splitlines()[-1].strip("|").split("|")]


def test_three_people_draw_while_a_model_trains():
    """The workshop load test, in its short form (the README's table comes from the long one)."""
    row = load_row("--pages", "3", "--drawings", "2")
    pages, training, _opened, classified, errors, *_ = row
    assert (pages, training, classified, errors) == ("3", "yes", "6 / 6", "0"), row


def test_twenty_sessions_replaying_a_real_page_while_a_model_trains():
    """The load program's server-only form: a real page's messages, replayed by 20 websocket sessions."""
    row = load_row("--clients", "protocol", "--pages", "20", "--drawings", "2")
    sessions, training, _opened, classified, errors, *_ = row
    assert (sessions, training, classified, errors) == ("20", "yes", "40 / 40", "0"), row


def test_uploads_through_the_page_are_checked_and_never_overwrite(tmp_path, page):
    """A real upload (multipart, XSRF token) on the Draw page: code in a pickle does not run, and a
    good file named like a shipped checkpoint is stored under a new name, the shipped one untouched."""
    import hashlib

    from tests.helpers import evil_checkpoint

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in ("lenet5.pt", "cnn.pt"):
        shutil.copy(ROOT / "checkpoints" / name, folder / name)
    shipped = hashlib.sha256((folder / "lenet5.pt").read_bytes()).hexdigest()
    evil, marker = evil_checkpoint(tmp_path)
    url, proc = launch({**os.environ, "DIGITS_RUNS": str(tmp_path / "runs"), "DIGITS_CHECKPOINTS": str(folder)})
    try:
        open_page(page, url, "draw", "Draw a digit")
        page.get_by_text("Upload a checkpoint").click()
        upload = page.locator("input[type=file]").first

        upload.set_input_files(files=[{"name": "../../lenet5.pt", "mimeType": "application/octet-stream",
                                       "buffer": evil.read_bytes()}])
        page.get_by_text("Not added:").wait_for(timeout=30_000)
        assert "not a loadable checkpoint" in page.get_by_text("Not added:").inner_text()
        assert not marker.exists()
        assert sorted(p.name for p in folder.iterdir()) == ["cnn.pt", "lenet5.pt"]

        page.reload()
        open_page(page, url, "draw", "Draw a digit")
        page.get_by_text("Upload a checkpoint").click()
        page.locator("input[type=file]").first.set_input_files(files=[{
            "name": "lenet5.pt", "mimeType": "application/octet-stream",
            "buffer": (ROOT / "checkpoints" / "cnn.pt").read_bytes()}])
        deadline = time.time() + 30
        while time.time() < deadline and len(list(folder.glob("*.pt"))) < 3:
            time.sleep(0.2)
        assert sorted(p.name for p in folder.glob("*.pt")) == ["cnn.pt", "lenet5-1.pt", "lenet5.pt"]
        assert hashlib.sha256((folder / "lenet5.pt").read_bytes()).hexdigest() == shipped
        from playwright.sync_api import expect

        chosen = page.get_by_role("combobox", name="Checkpoint")  # the sidebar's choice: the upload, at once
        expect(chosen).to_have_value(re.compile(r"lenet5-1\.pt"), timeout=30_000)
        wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_server_restart_mid_run_leaves_the_run_going_and_the_page_finds_it(tmp_path, page):
    """Ctrl+C on `streamlit run` while a run it started trains; a new server; the Train page."""
    import signal

    from digits.control import stop_run
    from digits.runs import run_state

    env = {**os.environ, "DIGITS_RUNS": str(tmp_path / "runs")}
    url, first = launch(env)
    try:
        open_page(page, url, "train", "Train")
        page.get_by_label("Epochs", exact=True).fill("30")
        page.get_by_label("Evaluate every (0 = auto)", exact=True).fill("40")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("Updated the best model!").first.wait_for(timeout=90_000)
    finally:
        first.send_signal(signal.SIGINT)  # what Ctrl+C in the presenter's terminal sends
        first.wait(timeout=30)
    (run,) = list_runs(tmp_path / "runs")
    time.sleep(1)
    assert run_state(run) == "running"  # the run did not go down with the server

    url, second = launch(env)
    try:
        open_page(page, url, "train", "Train")
        def iteration():
            return int(re.search(r"iteration (\d+)/", progress_text(page)).group(1))

        first_seen, deadline = iteration(), time.time() + 30
        # Found again, and followed live: the run (at SCHED_IDLE) may get no CPU for a few seconds while the
        # new server and the browser start on a busy machine, so the page is watched for up to 30 s.
        while iteration() <= first_seen and time.time() < deadline:
            time.sleep(0.5)
        assert iteration() > first_seen
        page.get_by_role("button", name="Stop training").click()
        page.get_by_text("Stopped on request").first.wait_for(timeout=30_000)
        assert run_state(run) == "stopped" and (run / "best.pt").exists()
    finally:
        second.terminate()
        second.wait(timeout=20)
        if run_state(run) == "running":  # the test failed halfway: leave no run behind
            stop_run(run)


def test_the_hostile_corpus_uploaded_through_the_page_never_takes_the_server_down(tmp_path, page):
    """Every file of tests/hostile.py through the real Draw page's uploader, the hostile run folders on
    disk, then every page: the server answers its health check within 2 s throughout, its memory stays
    bounded, no page shows an exception, and no page asks for any URL named inside a file."""
    from tests.hostile import LEAK, hostile_checkpoints, hostile_runs

    corpus = hostile_checkpoints(tmp_path / "corpus")
    folder, runs = tmp_path / "checkpoints", tmp_path / "runs"
    folder.mkdir()
    shutil.copy(ROOT / "checkpoints" / "cnn.pt", folder / "cnn.pt")
    for name, path in corpus.items():  # the same files already on disk: the sidebar lists their reasons
        shutil.copy(path, folder / f"disk-{name}.pt")
    hostile_runs(runs, long_line_mb=8)
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    url, proc = launch({**os.environ, "DIGITS_RUNS": str(runs), "DIGITS_CHECKPOINTS": str(folder)})

    def healthy():
        started = time.perf_counter()
        assert urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
        assert time.perf_counter() - started < 2

    try:
        for path in corpus.values():
            open_page(page, url, "draw", "Draw a digit")
            page.get_by_text("Upload a checkpoint").click()
            page.locator("input[type=file]").first.set_input_files(files=[{
                "name": path.name, "mimeType": "application/octet-stream", "buffer": path.read_bytes()}])
            time.sleep(1)
            wait_idle(page)
            assert page.locator("[data-testid='stException']").count() == 0, path.name
            healthy()
        for name, heading in (("", "digits"), ("train", "Train"), ("predictions", "Predictions on the test set"),
                              ("draw", "Draw a digit"), ("losses", "Losses"), ("model", "Model")):
            open_page(page, url, name, heading)
            # the sidebar, with the list of unusable files, is drawn
            page.locator("[data-testid='stSidebar']").get_by_text("MNIST:").wait_for()
            assert page.locator("[data-testid='stException']").count() == 0, name
            healthy()
        page.get_by_text("unusable checkpoint files").click()
        page.get_by_text("disk-zip-bomb.pt").first.wait_for()
        page.screenshot(path=str(SHOTS / "hostile-model.png"), full_page=True)
        peak_mb = int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{proc.pid}/status").read_text()).group(1)) / 1024
        print(f"server peak memory {peak_mb:.0f} MB")
        assert peak_mb < 1500
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    leak = LEAK.split("/leak")[0]
    assert not [u for u in requested if u.startswith(leak) or "/leak" in u]
    stored = sorted(p.stem for p in folder.glob("*.pt") if not p.stem.startswith("disk-"))
    # load, with the over-long text dropped
    assert stored == sorted(["cnn", "deep-extra", "doubling-config", "markdown-error", "markdown-command",
                             "huge-created", "huge-calibration-command"])
