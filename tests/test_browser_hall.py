"""A lecture hall end to end (`python -m digits serve`): two app processes behind Caddy, two Chromium browsers
kept each on its own replica by Caddy's cookie, a drawing from each, and both drawings on the Room page of each
replica; then one replica killed: its browser carries on on the other, a drawing made there is kept, nothing
stored before is lost, and the dead replica is started again. Slow, and needs Caddy (`apt-get install caddy`):
`pytest -m slow tests/test_browser_hall.py`."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import pytest

from digits import drawings
from testkit.served import DRAWINGS, ROOT, free_port, healthy, open_page, stroke, wait_idle

pytestmark = pytest.mark.slow


def replica_of(page) -> str:
    """Which replica served this browser, as the sidebar says ("replica 2 of 2")."""
    caption = page.get_by_text(re.compile(r"replica \d of 2")).first
    caption.wait_for(timeout=60_000)
    return re.search(r"replica (\d) of 2", caption.inner_text())[1]


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def keep(page, url: str, digit: str) -> None:
    """Draw `digit` on the Draw page and tap Right: the drawing is kept."""
    open_page(page, url, "draw", "Draw a digit")
    page.get_by_text("Draw a digit on the canvas.").first.wait_for(timeout=60_000)
    time.sleep(1)  # the canvas's script sets up its handlers
    for path in DRAWINGS[digit]:
        stroke(page, page.locator("canvas.upper-canvas").first, path)
    page.locator(".digit").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.locator("[data-testid='stButtonGroup'] button").filter(has_text=re.compile(r"Right, it is")).first.click()
    page.get_by_text(re.compile(r"Kept as .* thank you")).wait_for(timeout=30_000)


@pytest.fixture
def hall():
    if shutil.which("caddy") is None:
        pytest.fail("Caddy is missing: apt-get install caddy")
    folder = Path(tempfile.mkdtemp(prefix="digits-hall-test-"))
    port = free_port()
    env = {**os.environ, "DIGITS_DRAWINGS": str(folder / "drawings.sqlite"), "DIGITS_RUNS": str(folder / "runs"),
           "DIGITS_SPARE": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "digits", "serve", "--replicas", "2", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    if not healthy(port, proc, 120):
        proc.send_signal(signal.SIGINT)  # it ends what it started (SIGKILL would leave the replicas running)
        output = proc.communicate(timeout=120)[0]
        pytest.fail("the hall did not start: " + output[-3000:])
    yield url, proc, folder / "drawings.sqlite"
    started = children(proc.pid)  # the replicas and Caddy
    proc.send_signal(signal.SIGINT)  # Ctrl-C: it ends the replicas and the proxy it started
    try:
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    assert len(started) == 3 and not [pid for pid in started if Path(f"/proc/{pid}").exists()]  # all ended


def test_two_browsers_on_two_replicas_share_one_room_and_survive_a_dead_replica(hall, browser):
    url, proc, store = hall
    on = {}  # replica → (context, page)
    for _ in range(24):  # Caddy picks a replica at random for a browser without its cookie
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        open_page(page, url, "draw", "Draw a digit")
        which = replica_of(page)
        if which in on:
            context.close()
        else:
            on[which] = (context, page)
        if len(on) == 2:
            break
    assert sorted(on) == ["1", "2"], "every browser landed on one replica"
    for (which, (_, page)), digit in zip(sorted(on.items()), ("7", "1")):
        keep(page, url, digit)
        assert replica_of(page) == which  # the cookie kept it there
    for which, (_, page) in sorted(on.items()):
        open_page(page, url, "room", "The room's drawings")
        page.locator(".gallery figure").first.wait_for(timeout=60_000)
        wait_idle(page)
        assert replica_of(page) == which and page.locator(".gallery figure").count() == 2

    replicas = {re.search(r"--server.port (\d+)", command(p))[1]: p for p in children(proc.pid)
                if "streamlit" in command(p)}
    assert len(replicas) == 2
    victim = on["2"][1]
    dead = next(pid for pid in replicas.values() if b"DIGITS_REPLICA=2/2" in Path(f"/proc/{pid}/environ").read_bytes())
    os.kill(dead, signal.SIGKILL)
    keep(victim, url, "7")  # its browser carries on, on the other replica
    assert replica_of(victim) == "1"
    with closing(drawings.connect(store)) as db:
        assert len(drawings.drawings(db)) == 3  # nothing lost
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if any(b"DIGITS_REPLICA=2/2" in Path(f"/proc/{pid}/environ").read_bytes()
               for pid in children(proc.pid) if pid != dead and "streamlit" in command(pid)):
            break
        time.sleep(1)
    else:
        pytest.fail("the dead replica was not started again")
    for context, _ in on.values():
        context.close()
