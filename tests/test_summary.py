"""digits.summary: what a dashboard shows of a run, from its events; here the ETA, which must not claim to know
the time left before it can, nor forget the work after the last step."""

import pytest

from digits import events as ev
from digits.summary import summarize

CONFIG = {"epochs": 1}


def started(total=400, val=10_000, test=10_000):
    return ev.Started(0.5, "lenet5", 61_706, "cpu", "CPU", 50_000, val, test, total, total, CONFIG)


def steps(first, last, t0, per_s):
    return [ev.Step(t0 + (i - first + 1) / per_s, 1, i, 1.0, 0.005, 5000.0, 0.5) for i in range(first, last + 1)]


def test_no_eta_at_the_first_steps_even_after_a_slow_start():
    s = summarize([started(), *steps(1, 1, 6.0, 40)])  # 6 s of start-up before the first step
    assert s.eta is None
    s = summarize([started(), *steps(1, 19, 6.0, 40)])
    assert s.eta is None  # 19 steps in under half a second: still too little to tell
    s = summarize([started(), *steps(1, 60, 6.0, 40)])
    assert s.eta is not None and s.eta < 20  # 340 steps at 40/s and the finish, not minutes


def test_the_eta_counts_the_final_validation_and_test_timed_by_the_runs_own_validations():
    events = [started(total=400), *steps(1, 200, 1.0, 50)]
    events.append(ev.Evaluation(events[-1].elapsed + 2.0, 1, 200, 0.9, 0.3, 0.95, True))  # a validation took 2 s
    events += steps(201, 300, events[-1].elapsed, 50)
    s = summarize(events)
    assert s.val_seconds == pytest.approx(2.0)
    assert s.finish_seconds == pytest.approx(4.0)  # one more validation and the test pass (as many images)
    assert s.eta == pytest.approx(100 / s.pace + 4.0)


def test_after_the_last_step_the_run_is_finishing_not_at_zero_seconds():
    s = summarize([started(total=100), *steps(1, 100, 1.0, 50)])
    assert s.finishing and s.eta == pytest.approx(s.finish_seconds) and s.finish_seconds > 0
    done = summarize([started(total=100), *steps(1, 100, 1.0, 50), ev.Finished(9.0, 100, 0.9, 100, 0.9, "x.pt")])
    assert not done.finishing and done.eta is None


def test_the_pace_of_steps_read_back_in_chunks_after_a_long_validation():
    """Steps come in chunks that share one time; a chunk after a 35 s validation is no division by zero."""
    events = [started(total=400)]
    for chunk, at in ((range(1, 11), 1.0), (range(11, 21), 2.0), (range(21, 31), 40.0)):
        events += [ev.Step(at, 1, i, 1.0, 0.005, 5000.0, 0.5) for i in chunk]
    s = summarize(events)
    assert s.pace == pytest.approx(10 / 38.0) and s.eta is not None
