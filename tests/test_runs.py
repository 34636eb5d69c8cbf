import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from digits.events import Finished, Step
from digits.launch import start_run
from digits.process import lower_priority
from digits.runs import EVENTS, PROCESS, RunWriter, read_events, run_state


def test_run_state_reads_the_final_event_and_sees_a_dead_process(tmp_path):
    (tmp_path / PROCESS).write_text(json.dumps({"pid": 2**22 + 12345}))  # no such process
    step = Step(elapsed=0.1, epoch=1, iteration=1, loss=2.3, lr=0.1, samples_per_s=1000.0)
    (tmp_path / EVENTS).write_text(json.dumps(step.to_dict()) + "\n")
    assert run_state(tmp_path) == "crashed"
    with open(tmp_path / EVENTS, "a") as f:
        finished = Finished(1.0, 1, None, 0, None, None)
        f.write(json.dumps(finished.to_dict()) + "\n" + '{"kind": "ste')  # plus a torn line
    assert run_state(tmp_path) == "finished"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="scheduler classes and autogroups are Linux's")
def test_a_training_process_in_its_own_session_gets_only_left_over_cpu():
    """start_run puts training in a new session; with autogroup scheduling that session is a CPU group
    of its own, where a plain nice value would not lower its share against the app's."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        lower_priority(child.pid, 19)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == 19
        assert os.sched_getscheduler(child.pid) == os.SCHED_IDLE
        group = Path(f"/proc/{child.pid}/autogroup")
        if group.exists():  # kernels built with autogroup scheduling
            assert group.read_text().split()[-1] == "19"
    finally:
        child.kill()
        child.wait()


def test_lower_priority_makes_a_live_process_nicest_and_passes_over_one_that_is_gone():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lower_priority(child.pid, 19)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == 19
    finally:
        child.kill()
        child.wait()
    lower_priority(child.pid, 19)  # gone by now: best effort, no exception


def test_start_run_where_the_runs_folder_cannot_be_made_says_so_and_starts_nothing(tmp_path):
    blocker = tmp_path / "runs"
    blocker.write_text("a file where the runs folder should be")
    with pytest.raises(OSError, match="Cannot create the run folder .*runs"):
        start_run({"model": "cnn", "epochs": 1}, blocker)
    assert blocker.read_text().startswith("a file")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_under_events_is_an_error_on_write_and_a_quiet_close(tmp_path):
    (tmp_path / EVENTS).symlink_to("/dev/full")  # every write: ENOSPC, as on a full disk
    writer = RunWriter(tmp_path, {"model": "cnn"})
    with pytest.raises(OSError) as raised:
        writer.write(Step(elapsed=0.1, epoch=1, iteration=1, loss=2.3, lr=0.1, samples_per_s=1000.0))
    assert raised.value.errno == 28  # ENOSPC, reported by write()
    # The app reading such a run neither hangs nor reads /dev/full's endless zeros.
    assert read_events(tmp_path) == []
    assert run_state(tmp_path) == "running"  # no final event, and the writer (this process) holds the run's lock
    writer.close()  # and not raised again from close(): the CLI's message is the last word
    with pytest.raises(ValueError):  # closed: a later write is refused, not written anywhere
        writer.write(Step(elapsed=0.2, epoch=1, iteration=2, loss=2.3, lr=0.1, samples_per_s=1000.0))
    assert run_state(tmp_path) == "crashed"  # the writer let go without a final event


def test_events_written_before_batch_accuracies_were_logged_still_read():
    from digits.events import from_dict

    old = {"kind": "step", "elapsed": 0.1, "epoch": 1, "iteration": 1, "loss": 2.3, "lr": 0.1, "samples_per_s": 1000.0}
    assert from_dict(old).acc is None
    with pytest.raises(ValueError):  # a required field is still required
        from_dict({k: v for k, v in old.items() if k != "loss"})


def test_a_runs_name_is_one_bounded_line_of_text(tmp_path):
    from digits.runs import MAX_NAME, NAME, read_name, write_name

    write_name(tmp_path, "  fast\nSGD\x1b[31m try  " + "x" * 200)
    name = read_name(tmp_path)
    assert name.startswith("fast SGD[31m try") and len(name) <= MAX_NAME and "\x1b" not in name
    (tmp_path / NAME).write_bytes(b"\xff\xfe" * 5000)  # not UTF-8, too long: still one short line
    assert len(read_name(tmp_path)) <= MAX_NAME
    assert read_name(tmp_path / "missing") == ""


def test_pause_and_resume_only_reach_a_live_run(tmp_path):
    from digits.control import pause_requested, pause_run, resume_run
    from digits.process import hold_lock
    from digits.runs import LOCK

    assert not pause_run(tmp_path) and not pause_requested(tmp_path)  # no process holds the run: nothing written
    lock = hold_lock(tmp_path / LOCK)
    try:
        assert pause_run(tmp_path) and pause_requested(tmp_path)
        resume_run(tmp_path)
        resume_run(tmp_path)  # resuming a run that is not paused is nothing
        assert not pause_requested(tmp_path)
    finally:
        os.close(lock)


def test_a_run_title_says_what_the_run_is(tmp_path):
    from digits.config import TrainConfig
    from digits.runs import CONFIG, write_name
    from digits.summary import run_title

    run = tmp_path / "20261123-094635-lenet5"
    run.mkdir()
    (run / CONFIG).write_text(json.dumps(TrainConfig(epochs=3, lr=0.1, augment=True).to_dict()))
    write_name(run, "first try")
    (run / EVENTS).write_text(json.dumps(Finished(9.0, 10, 0.98, 10, 0.9876, None).to_dict()) + "\n")
    assert run_title(run) == "LeNet-5 · 3 epochs · lr 0.1 · augmented · test 98.76% · first try · 11-23 09:46:35"
    odd = tmp_path / "mine"
    odd.mkdir()
    (odd / CONFIG).write_text('{"model": "resnet"}')  # not a valid config: the folder's name
    assert run_title(odd) == "mine"


def test_the_pace_is_the_recent_one_and_samples_per_second_ignore_one_slow_reading():
    from digits.events import Step
    from digits.summary import summarize

    # 100 iterations in the first 10 s, then 10 per second for 40 s; one reading dragged down by a validation
    steps = [Step(i * 0.1, 1, i, 1.0, 0.1, 5000.0, 0.5) for i in range(1, 101)]
    steps += [Step(10 + i * 0.1, 1, 100 + i, 1.0, 0.1, 1000.0 if i == 50 else 1280.0, 0.5) for i in range(1, 401)]
    s = summarize(steps)
    assert s.pace == pytest.approx(10.0, rel=0.01)
    assert s.samples_per_s == 1280.0
    s.total_iterations = 1000
    assert s.eta == pytest.approx(50.0, rel=0.01)
