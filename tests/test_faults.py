"""A workshop's bad day, with real processes and real files. Slow (real MNIST): `pytest -m slow`."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digits import load_checkpoint
from digits.launch import start_run
from digits.runs import PROCESS, read_events, run_state

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
CONFIG = {"model": "cnn", "epochs": 30, "eval_every": 40}


def wait_for(predicate, timeout=120, every=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def evaluated(run):
    return any(e.kind == "evaluation" and e.best for e in read_events(run))


def pid_of(run):
    return json.loads((run / PROCESS).read_text())["pid"]


def test_kill_9_mid_epoch_shows_crashed_keeps_the_checkpoint_and_a_new_run_can_start(tmp_path):
    run = start_run(CONFIG, tmp_path)
    assert wait_for(lambda: evaluated(run))
    assert run_state(run) == "running"
    if sys.platform.startswith("linux"):  # training takes only the CPU the app leaves over
        assert os.sched_getscheduler(pid_of(run)) == os.SCHED_IDLE
    os.kill(pid_of(run), signal.SIGKILL)
    assert wait_for(lambda: run_state(run) == "crashed", timeout=10)
    logged_best = max(e.val_acc for e in read_events(run) if e.kind == "evaluation" and e.best)
    model, meta = load_checkpoint(run / "best.pt")            # written atomically: intact
    assert meta["metrics"]["val_acc"] >= logged_best          # (it may be one evaluation newer than the log)
    time.sleep(1.1)                                            # run ids are per second
    again = start_run(CONFIG, tmp_path)
    assert wait_for(lambda: read_events(again), timeout=60) and run_state(again) == "running"
    os.kill(pid_of(again), signal.SIGTERM)
    assert wait_for(lambda: run_state(again) == "stopped", timeout=20)


def test_a_run_outlives_the_process_that_started_it(tmp_path):
    """The app's server can restart (or die) while a run goes on; the new server finds it running."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from digits.launch import start_run; "
            f"print(start_run({CONFIG!r}, {str(tmp_path)!r}))")
    parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    run = Path(parent.stdout.strip())
    assert parent.returncode == 0 and run.is_dir()
    assert wait_for(lambda: evaluated(run))                   # the parent is gone; training goes on
    seen = len(read_events(run))
    assert wait_for(lambda: len(read_events(run)) > seen, timeout=10)
    assert run_state(run) == "running"
    os.kill(pid_of(run), signal.SIGTERM)
    assert wait_for(lambda: run_state(run) == "stopped", timeout=20)
    assert load_checkpoint(run / "best.pt")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_under_the_run_stops_training_with_a_message(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.jsonl").symlink_to("/dev/full")  # every write to it: "No space left on device"
    done = subprocess.run([sys.executable, "-m", "digits", "train", "--model", "cnn", "--epochs", "1",
                           "--run-dir", str(run), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "training stopped, cannot write to disk: No space left on device" in done.stderr
    assert "Traceback" not in done.stderr
    assert run_state(run) == "crashed"  # no final event could be written: the Train page says so, with the log
    assert (run / "config.json").exists() and not (run / "best.pt").exists()


def test_a_run_handed_to_the_waiting_spare_trains_holds_the_lock_and_stops_on_request(tmp_path, monkeypatch):
    """Start hands the run to the process that warmed up before it (digits.spare): that very process
    trains, holds the one-run lock, lowers its priority, writes its log and stops on request."""
    from digits import launch

    monkeypatch.setenv("DIGITS_SPARE", "1")
    launch.ready_spare()
    spare = launch.waiting_spare()
    assert spare is not None and wait_for(spare.ready, timeout=60)
    run = start_run(CONFIG, tmp_path)
    try:
        assert pid_of(run) == spare.pid and launch.waiting_spare() is None
        with pytest.raises(launch.RunActive):
            start_run(CONFIG, tmp_path)
        assert wait_for(lambda: evaluated(run))
        assert run_state(run) == "running"
        if sys.platform.startswith("linux"):
            assert os.sched_getscheduler(spare.pid) == os.SCHED_IDLE
    finally:
        os.kill(spare.pid, signal.SIGTERM)
    assert wait_for(lambda: run_state(run) == "stopped", timeout=20)
    assert load_checkpoint(run / "best.pt") and "Stopped" in (run / "train.log").read_text()


def test_a_spare_still_warming_up_takes_the_run_when_it_is_ready(tmp_path, monkeypatch):
    from digits import launch

    monkeypatch.setenv("DIGITS_SPARE", "1")
    launch.ready_spare()
    spare = launch.waiting_spare()
    run = start_run(CONFIG, tmp_path)  # at once: the spare is still importing torch
    try:
        assert pid_of(run) == spare.pid
        assert wait_for(lambda: any(e.kind == "step" for e in read_events(run)), timeout=90)
    finally:
        os.kill(spare.pid, signal.SIGTERM)
    assert wait_for(lambda: run_state(run) == "stopped", timeout=20)


def test_a_spare_that_died_is_passed_over_and_the_run_starts_cold(tmp_path, monkeypatch):
    from digits import launch

    monkeypatch.setenv("DIGITS_SPARE", "1")
    launch.ready_spare()
    spare = launch.waiting_spare()
    os.kill(spare.pid, signal.SIGKILL)
    spare.proc.wait()
    run = start_run(CONFIG, tmp_path)
    assert pid_of(run) != spare.pid
    assert wait_for(lambda: read_events(run), timeout=60) and run_state(run) == "running"
    os.kill(pid_of(run), signal.SIGTERM)
    assert wait_for(lambda: run_state(run) == "stopped", timeout=20)


def test_a_waiting_spare_goes_away_with_the_app_that_made_it(tmp_path):
    code = (f"import sys, os, time; sys.path.insert(0, {str(ROOT)!r}); os.environ['DIGITS_SPARE'] = '1'; "
            "from digits import launch; launch.ready_spare(); s = launch.waiting_spare(); "
            "[time.sleep(0.2) for _ in range(300) if not s.ready()]; print(s.pid, s.ready())")
    parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90, cwd=ROOT)
    pid, ready = parent.stdout.split()
    assert ready == "True"
    assert wait_for(lambda: gone(int(pid)), timeout=15)


def gone(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
