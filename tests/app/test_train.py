"""The Train page: the New-run panel, starting, following and stopping a run, comparing runs (about 260 lines:
the page with the most to do).
Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""

import time
from contextlib import closing

import numpy as np
import pytest

from digits import TrainConfig
from tests.app.apptest import open_page, run_selector, shown, start_button
from webapp import presenter, resources
from webapp.pictures import train as train_pictures


def test_train_page_form_and_validation(app):
    at = open_page(app, "train")
    assert at.selectbox[0].options == ["LeNet-5 · 61,706 params", "Small CNN · 57,790 params",
                                       "Your own network"]  # its count is the builder's, which changes
    assert at.info[0].value.startswith("No runs yet")
    field = {n.label: n for n in at.number_input}
    field["Batch size"].set_value(8192)          # more than the 60,000 - 55,000 training images left
    field["Validation images"].set_value(55_000)
    start_button(at).click().run()
    assert at.error and "batch size must be from 1 to 5000" in at.error[0].value
    assert not list(resources.RUNS.glob("*"))           # nothing was started


def test_the_fine_tune_button_fills_the_form_and_a_room_without_drawings_starts_nothing(app, tmp_path, monkeypatch):
    from digits import drawings as store

    monkeypatch.setenv("DIGITS_DRAWINGS", str(tmp_path / "room.sqlite"))
    at = open_page(app, "train")
    (button,) = [b for b in at.button if "Fine-tune" in b.label]
    button.click().run()
    assert at.session_state["cfg_start_from"] == str(resources.CHECKPOINTS / "cnn.pt")  # the sidebar's checkpoint
    assert at.session_state["cfg_model"] == "cnn" and at.session_state["cfg_drawings"] is True
    assert at.session_state["cfg_epochs"] == TrainConfig.recipe("room")["epochs"]
    assert any("no labelled digit drawings" in c.value for c in at.caption)
    start_button(at).click().run()
    assert at.error and "no digit drawings" in at.error[0].value
    assert not list(resources.RUNS.glob("*"))
    with closing(store.connect()) as db:
        for i in range(3):
            store.add(db, np.full((28, 28), i, np.uint8), i, "s")
    at.run()
    assert any("3 labelled digit drawings" in c.value for c in at.caption)


def test_the_fast_recipe_button_fills_the_form_with_the_recipe_from_scratch(app):
    at = open_page(app, "train")
    at.selectbox[0].set_value("cnn")
    at.toggle(key="cfg_drawings").set_value(True)
    at.run()
    (button,) = [b for b in at.button if "Fast recipe" in b.label]
    button.click().run()
    assert not at.exception
    expected = {"model": "lenet5", "start_from": "", "drawings": False, **TrainConfig.recipe("fast")}
    assert {k: at.session_state["cfg_" + k] for k in expected} == expected
    assert {n.label: n.value for n in at.number_input}["Epochs"] == expected["epochs"]  # the form shows it


def test_a_runs_folder_that_cannot_be_written_is_a_message_and_nothing_starts(app, monkeypatch):
    blocker = resources.RUNS.parent / "runs-is-a-file"
    blocker.write_text("a file where the runs folder should be")  # (chmod does not stop root)
    monkeypatch.setattr(resources, "RUNS", blocker)
    at = open_page(app, "train")
    {n.label: n for n in at.number_input}["Epochs"].set_value(1)
    start_button(at).click().run()
    assert not at.exception
    assert (at.error and "Cannot create the run folder" in at.error[0].value
            and "Nothing was started" in at.error[0].value)
    assert blocker.read_text().startswith("a file")
    assert at.info[0].value.startswith("No runs yet")  # the page goes on


@pytest.mark.slow
def test_train_page_starts_follows_and_stops_a_run(app):
    """Real MNIST: Start launches `python -m digits train`, the page follows its events, Stop stops it."""
    import time

    from digits.runs import list_runs, read_events, run_state

    at = open_page(app, "train")
    at.selectbox[0].set_value("cnn")
    field = {n.label: n for n in at.number_input}
    field["Epochs"].set_value(5)
    field["Evaluate every (0 = auto)"].set_value(50)
    start_button(at).click().run()
    (run,) = list_runs(resources.RUNS)
    deadline = time.time() + 120
    while time.time() < deadline and not any(e.kind == "evaluation" for e in read_events(run)):
        time.sleep(0.5)
    at.run()
    assert not at.exception
    assert at.get("progress") and "iteration" in at.get("progress")[0].proto.text
    assert len(at.get("plotly_chart")) >= 2
    next(b for b in at.button if "Stop training" in b.label).click().run()
    deadline = time.time() + 30
    while time.time() < deadline and run_state(run) == "running":
        time.sleep(0.2)
    at.run()
    assert run_state(run) == "stopped"
    assert any("Stopped on request" in s.value for s in at.success)
    assert (run / "best.pt").exists()


def test_a_run_that_is_starting_says_which_step_of_its_start_up_it_is_in(app):
    import os

    from digits.process import hold_lock
    from digits.runs import CONFIG, LOCK, write_json, write_starting

    run = resources.RUNS / "20260101-000000-lenet5"
    run.mkdir(parents=True)
    write_json(run / CONFIG, TrainConfig().to_dict())
    lock = hold_lock(run / LOCK)  # as the launcher holds it for the process: the run is live, no events yet
    try:
        write_starting(run, "loading MNIST")
        at = open_page(app, "train")
        assert any(i.value.startswith("Starting (") and i.value.endswith("s): loading MNIST…") for i in at.info)
        write_starting(run, "building the model")
        at.run()
        assert any(i.value.endswith("building the model…") for i in at.info)
    finally:
        os.close(lock)


def test_a_live_run_before_its_first_step_says_what_it_is_doing(app):
    """A run with a not-digit share draws its made-up non-digits first (digits.events.Preparing): the page says so
    beside the progress bar, not only in the event log below the charts."""
    from digits import events as ev
    from digits.runs import RunWriter

    config = TrainConfig(not_digits=0.25).to_dict()
    writer = RunWriter(resources.RUNS / "20260101-000000-cnn", config)  # holds the run's lock: live
    try:
        writer.write(ev.Started(0.1, "cnn", 57_790, "cpu", "CPU (1 thread)", 50_000, 10_000, 10_000, 391, 391, config))
        at = open_page(app, "train")
        assert not any("made-up non-digits" in c.value for c in at.caption)  # only Started: nothing to add
        writer.write(ev.Preparing(0.2, 14_000))
        at.run()
        assert any(shown(c.value).endswith("Drawing 14,000 made-up non-digits (scribbles, shapes, letters) to train "
                                           "towards no digit; the first steps follow") for c in at.caption)
    finally:
        writer.close()


def test_a_run_stopped_before_its_first_validation_warns_that_no_checkpoint_was_kept(app):
    """Not a green "Stopped on request": nothing was kept, and the page says why, where the result shows."""
    from digits import events as ev
    from digits.runs import RunWriter

    config = TrainConfig().to_dict()
    writer = RunWriter(resources.RUNS / "20260101-000000-lenet5", config)
    try:
        writer.write(ev.Started(0.1, "lenet5", 61_706, "cpu", "CPU (1 thread)", 50_000, 10_000, 10_000, 391, 391,
                                config))
        for i in range(1, 172):
            writer.write(ev.Step(0.09 * i, 1, i, 1.0, 0.005, 5000.0, 0.5))
        writer.write(ev.Stopped(16.0, 171, None, 0, None, None))
    finally:
        writer.close()
    at = open_page(app, "train")
    assert not at.success
    (warning,) = [w.value for w in at.warning if "no checkpoint was kept" in w.value]
    assert warning.startswith("Stopped after 171 iterations in 16 s, before the first validation")


@pytest.mark.slow
def test_the_train_page_finds_a_run_whose_launcher_is_gone(app):
    """As after a server restart: the process that started the run has exited, the run goes on."""
    import subprocess
    import sys
    import time

    from digits.control import stop_run
    from digits.runs import read_events

    code = ("import sys; from digits.launch import start_run; "
            f"print(start_run({{'model': 'cnn', 'epochs': 30, 'eval_every': 40}}, {str(resources.RUNS)!r}))")
    launcher = subprocess.run([sys.executable, "-c", code], cwd=resources.ROOT, capture_output=True, text=True,
                              timeout=60)
    run = resources.Path(launcher.stdout.strip())
    deadline = time.time() + 120
    while time.time() < deadline and not any(e.kind == "evaluation" for e in read_events(run)):
        time.sleep(0.5)
    at = open_page(app, "train")
    assert run_selector(at).value == run.name
    assert at.get("progress") and "iteration" in at.get("progress")[0].proto.text
    stop_run(run)


def test_with_a_presenter_key_start_and_upload_ask_for_it_once(app, monkeypatch):
    monkeypatch.setenv("DIGITS_PRESENTER_KEY", "room-42")
    at = open_page(app, "train")
    {n.label: n for n in at.number_input}["Epochs"].set_value(1)
    start_button(at).click().run()
    assert any("for the presenter" in w.value for w in at.warning) and not resources.list_runs(resources.RUNS)
    at.text_input(key="_presenter_try_train").set_value("wrong").run()
    assert any("not the presenter key" in e.value for e in at.error)
    draw = open_page(at, "draw")
    assert not draw.get("file_uploader")  # uploads are locked too
    at = open_page(at, "train")
    time.sleep(presenter.GUESSES.wait())  # after a wrong key, none is checked for a second (the server's limit)
    at.text_input(key="_presenter_try_train").set_value("room-42").run()
    at = open_page(at, "draw")
    assert at.get("file_uploader")  # unlocked for this browser session


def test_wrong_presenter_keys_are_limited_for_the_whole_server_and_logged_without_the_guess(app, monkeypatch, caplog):
    """Sessions guessing together get no more tries than one: after a wrong key no key is checked, the right one
    included, for a second, then twice as long after each further one."""
    from streamlit.testing.v1 import AppTest

    from tests.app.apptest import APP

    monkeypatch.setenv("DIGITS_PRESENTER_KEY", "room-42")
    monkeypatch.setattr(presenter, "GUESSES", presenter.Guesses())
    first = open_page(app, "train")
    second = AppTest.from_file(APP, default_timeout=60)  # another browser session of the same server
    second.run()
    second = open_page(second, "train")
    with caplog.at_level("WARNING", logger="digits.presenter"):
        first.text_input(key="_presenter_try_train").set_value("guess-1").run()
    assert any("not the presenter key" in e.value for e in first.error)
    assert "guess-1" not in caplog.text and "wrong presenter key" in caplog.text
    second.text_input(key="_presenter_try_train").set_value("room-42").run()  # the right key, too soon
    assert any("Too many wrong keys on this server" in e.value for e in second.error)
    assert any("for the presenter" in c.value for c in second.caption)
    for _ in range(3):  # reruns with the same wrong key in its field: it was checked once, and is not again
        time.sleep(presenter.GUESSES.wait())
        first.run()
    assert presenter.GUESSES.wrong == 1
    guard = presenter.Guesses()
    for expected in (1, 2, 4, 8, 16, 32, 60, 60):
        guard.failed(now=0.0)
        assert guard.wait(now=0.0) == expected
    guard.passed()
    assert guard.wait(now=0.0) == 0


def test_the_replicas_of_a_hall_share_one_limit_on_wrong_keys(tmp_path):
    """Two Guesses on one file, as two app processes on one runs folder: a guess on one closes the other too;
    nonsense in the file is not trusted, and a file that cannot be used leaves each process its own count."""
    import multiprocessing

    path = tmp_path / "runs" / ".presenter-guesses.json"
    one, other = presenter.Guesses(lambda: path), presenter.Guesses(lambda: path)
    one.failed()
    assert 0.9 < other.wait() <= 1.0 and other.wrong == 1
    ctx = multiprocessing.get_context("spawn")  # another interpreter, as a replica is
    proc = ctx.Process(target=_fail_once, args=(str(path),))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 0 and one.wrong == 2  # its guess counted here (its 2 s may be over by now)
    one.passed()
    assert other.wait() == 0 and other.wrong == 0
    path.write_text('{"wrong": "many", "closed_until": 1e308}')  # written by something else
    assert other.wait() == 0 and other.wrong == 0
    blocked = presenter.Guesses(lambda: tmp_path / "a-file" / "x.json")
    (tmp_path / "a-file").write_text("not a folder")
    blocked.failed(now=0.0)
    assert blocked.wait(now=0.0) == 1 and blocked.wrong == 1


def _fail_once(path: str) -> None:
    from pathlib import Path

    from webapp import presenter

    presenter.Guesses(lambda: Path(path)).failed()


def test_the_new_run_panel_follows_each_choice_at_once(app):
    at = open_page(app, "train")
    def labels():
        return [n.label for n in at.number_input]

    assert "Momentum" not in labels()  # Adam keeps its own momentum terms
    assert any("LeNet-5 (1998)" in c.value for c in at.caption)
    at.selectbox(key="cfg_optimizer").set_value("sgd").run()
    assert "Momentum" in labels()
    at.selectbox(key="cfg_model").set_value("cnn").run()  # no form to submit: the caption follows at once
    assert any(c.value.startswith("Small CNN: two 3×3") for c in at.caption)
    assert not any("LeNet-5 (1998)" in c.value for c in at.caption)
    assert not list(resources.RUNS.glob("*"))  # and nothing started on the way


def test_a_run_name_with_markup_stays_text_in_the_comparison_legend():
    from digits.summary import RunSummary

    fig = train_pictures.compare_chart({"<a href='http://127.0.0.1:9/leak'>x</a> · mine": RunSummary()}, "loss")
    assert fig.data[0].name == "&lt;a href=&#x27;http://127.0.0.1:9/leak&#x27;&gt;x&lt;/a&gt; · mine"

