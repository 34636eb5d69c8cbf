import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from digits.runs import EVENTS, PROCESS, lower_priority, run_state


def test_run_state_reads_the_final_event_and_sees_a_dead_process(tmp_path):
    (tmp_path / PROCESS).write_text(json.dumps({"pid": 2**22 + 12345}))  # no such process
    (tmp_path / EVENTS).write_text(json.dumps({"kind": "step"}) + "\n")
    assert run_state(tmp_path) == "crashed"
    with open(tmp_path / EVENTS, "a") as f:
        f.write(json.dumps({"kind": "finished"}) + "\n" + '{"kind": "ste')  # plus a torn line
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


def test_lower_priority_of_a_process_that_is_gone_does_not_raise():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    lower_priority(child.pid, 19)
