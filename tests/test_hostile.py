"""Hostile files against the checkpoint loader, uploads, the run reader and process control (tests/hostile.py)."""

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from digits import CheckpointError, load_checkpoint, uploads
from digits.catalog import list_checkpoints
from digits.control import recorded_process, stop_run
from digits.launch import RunActive, start_run
from digits.process import hold_lock
from digits.runs import LOCK, EventReader, read_events, run_state
from digits.uploads import import_checkpoint
from tests.hostile import LEAK, hostile_checkpoints, hostile_runs, valid_checkpoint

KEPT = {"format", "model", "config", "metrics", "created", "command", "calibration_command", "path"}
# load, minus the junk
CLEANED = {"deep-extra", "doubling-config", "markdown-error", "markdown-command", "huge-created",
           "huge-calibration-command"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return hostile_checkpoints(tmp_path_factory.mktemp("hostile"))


def test_every_hostile_checkpoint_is_refused_with_one_line_or_loads_as_plain_small_data(corpus):
    for name, path in corpus.items():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            model, meta = load_checkpoint(path)
        except CheckpointError as e:
            message = str(e)
            assert name not in CLEANED, (name, message)
            assert "\n" not in message and len(message) < 400 and path.name in message, (name, message)
        else:
            assert name in CLEANED, f"{name} was accepted"
            assert set(meta) <= KEPT and len(json.dumps(meta)) < 5000, (name, meta.keys())
            assert all(isinstance(v, (int, float, str)) for v in {**meta["metrics"], **meta["config"]}.values())
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert grown_mb < 200, f"{name} made the process grow by {grown_mb:.0f} MB"


@pytest.mark.parametrize("name, reason", [
    ("test-acc-text", "metrics.test_acc must be a number from 0"), ("metrics-list", "metrics must be a mapping"),
    ("zip-bomb", "compressed archive entries"), ("many-entries", "archive entries; at most"),
    ("deep-metrics", "metrics must be a mapping"), ("nan-weights", "NaN or infinite"),
    ("inf-weights", "NaN or infinite"), ("model-list", "unknown model list"),
    ("markdown-model", "unknown model '![x]("), ("model-args", "model_args must be empty"),
    ("config-list", "config must be a mapping"), ("config-bad-value", "config: learning rate must be"),
    ("doubling-config-value", "config: epochs must be"), ("legacy-pickle", "not a torch zip archive"),
    ("int-weights", "not floating point"), ("state-dict-list", "state_dict must map"), ("empty", "not a torch zip"),
    ("temperature-nan", "metrics.temperature must be a number from 0.05 to 20.0"),
    ("temperature-negative", "metrics.temperature must be a number from 0.05"),
    ("temperature-huge", "metrics.temperature must be a number from 0.05"),
    ("temperature-text", "metrics.temperature must be"),
    ("detector-no-threshold", "a detector needs metrics.detector_threshold"),
    ("detector-wrong-shape", "detector.mean must be a float tensor of shape (280,) for this model (280 features)"),
    ("detector-nan", "detector holds NaN or infinite values"), ("detector-text", "detector must map mean, std"),
    ("detector-huge", "detector holds more than 100,000 numbers"),
    ("detector-threshold-nan", "metrics.detector_threshold must be a number from"),
])
def test_the_reason_names_the_field(corpus, name, reason):
    with pytest.raises(CheckpointError, match=None) as raised:
        load_checkpoint(corpus[name])
    assert reason in str(raised.value)


def test_what_is_dropped_is_gone_and_what_is_kept_is_plain(corpus):
    assert "error" not in load_checkpoint(corpus["markdown-error"])[1]
    assert "created" not in load_checkpoint(corpus["huge-created"])[1]
    assert "calibration_command" not in load_checkpoint(corpus["huge-calibration-command"])[1]
    assert load_checkpoint(corpus["doubling-config"])[1]["config"] == {"epochs": 1, "model": "cnn"}
    assert load_checkpoint(corpus["markdown-command"])[1]["command"] == f"![x]({LEAK})"  # text, shown as text


def test_listing_a_folder_of_hostile_files_lists_each_with_its_reason(corpus):
    good, bad = list_checkpoints(next(iter(corpus.values())).parent)
    assert sorted(c.path.stem for c in good) == sorted(CLEANED)
    assert len(bad) == len(corpus) - len(CLEANED)


def test_uploads_of_the_corpus_store_only_what_loads_and_leave_nothing_else(corpus, tmp_path):
    folder = tmp_path / "checkpoints"
    for name, path in corpus.items():
        try:
            stored = import_checkpoint(path.read_bytes(), path.name, folder)
            assert name in CLEANED and stored.parent == folder
        except CheckpointError as e:
            assert name not in CLEANED and "\n" not in str(e) and str(folder) not in str(e)
    assert sorted(p.stem for p in folder.iterdir()) == sorted(CLEANED)


def test_long_odd_names_are_shortened_and_never_collide(tmp_path):
    data = valid_checkpoint(tmp_path / "src.pt").read_bytes()
    folder = tmp_path / "checkpoints"
    name = "é" * 3 + "a" * 250 + ".pt"
    first, second = (import_checkpoint(data, name, folder) for _ in range(2))
    assert first != second and len(first.name) <= 70 and len(second.name) <= 70
    (folder / "best-999.pt").write_bytes(b"someone else's file")
    assert import_checkpoint(data, "best-999.pt", folder).name == "best-999-1.pt"
    assert (folder / "best-999.pt").read_bytes() == b"someone else's file"


def test_simultaneous_uploads_of_one_name_all_keep_their_file(tmp_path):
    data = valid_checkpoint(tmp_path / "src.pt").read_bytes()
    folder = tmp_path / "checkpoints"
    barrier, stored = threading.Barrier(12), []

    def upload():
        barrier.wait()
        stored.append(import_checkpoint(data, "same.pt", folder))

    threads = [threading.Thread(target=upload) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(stored)) == 12 and sorted(p.name for p in folder.glob("same*.pt")) == sorted(p.name for p in stored)


def test_a_full_folder_refuses_uploads_and_deletes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOADS", 3)
    data = valid_checkpoint(tmp_path / "src.pt").read_bytes()
    folder = tmp_path / "checkpoints"
    kept = [import_checkpoint(data, f"m{i}.pt", folder) for i in range(3)]
    with pytest.raises(CheckpointError, match="already holds 3 uploaded files"):
        import_checkpoint(data, "one-more.pt", folder)
    assert sorted(folder.glob("*.pt")) == sorted(kept)


# ---------- run folders ----------

def test_the_run_reader_survives_every_hostile_run_and_counts_what_it_skipped(tmp_path):
    runs = hostile_runs(tmp_path, long_line_mb=1)
    for name, run in runs.items():
        events = read_events(run)
        assert [e.kind for e in events[:2]] == ["started", "step"], name
        assert run_state(run) in ("crashed", "finished", "failed"), name
    counts = {name: _skipped(run) for name, run in runs.items()}
    assert counts["20261101-000001-bad-utf8"] == 1 and counts["20261101-000002-last-number"] == 1
    assert counts["20261101-000003-last-deep"] == 1 and counts["20261101-000004-wrong-types"] == 5
    assert counts["20261101-000006-long-line"] == 1
    assert run_state(runs["20261101-000014-finished-then-junk"]) == "finished"


def _skipped(run: Path) -> int:
    reader = EventReader(run)
    while reader.read():
        pass
    return reader.skipped


def test_an_unfinished_huge_line_is_read_once_not_every_second(tmp_path):
    run = hostile_runs(tmp_path, long_line_mb=20)["20261101-000006-long-line"]
    reader = EventReader(run)
    for _ in range(3):
        reader.read()
    size = (run / "events.jsonl").stat().st_size
    assert reader.offset == size and reader.skipped == 1  # nothing left to read again
    with open(run / "events.jsonl", "ab") as f:  # the writer finishes the line, then writes a good event
        f.write(b"}\n" + (run / "events.jsonl").read_bytes().split(b"\n")[1] + b"\n")
    assert [e.kind for e in reader.read()] == ["step"] and reader.skipped == 1


@pytest.mark.parametrize("process", [b'{"pid": "1234"}', b'{"pid": 1.5}', b'{"pid": null}', b'{"pid": 0}',
                                     b'{"pid": -1}', b'{"pid": 1}', b'{"pid": 99999999999999999999999}', b"[]",
                                     b"\xff"])
def test_a_pid_that_is_not_a_plausible_pid_is_never_used(tmp_path, process):
    (tmp_path / "process.json").write_bytes(process)
    assert recorded_process(tmp_path) is None


@pytest.fixture
def stranger():
    """A live process that is not a training run (PIDs are reused after a crash or a reboot)."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_stale_process_file_naming_a_live_stranger_is_crashed_and_never_signalled(tmp_path, stranger):
    run = hostile_runs(tmp_path, live_pid=stranger.pid)["20261101-000017-stale-pid"]
    assert run_state(run) == "crashed"
    assert stop_run(run) is False
    lock = hold_lock(run / LOCK)  # even while something holds the run's lock, the stranger is not the recorded process
    try:
        assert recorded_process(run) is None and stop_run(run) is False
    finally:
        os.close(lock)
    time.sleep(0.2)
    assert stranger.poll() is None  # alive


def test_two_simultaneous_starts_start_one_run(tmp_path, monkeypatch):
    blocker = tmp_path / "no-data"
    blocker.write_text("MNIST cannot be fetched into a file: the training process ends at once, offline")
    monkeypatch.setenv("DIGITS_DATA", str(blocker))
    barrier, results = threading.Barrier(2), []

    def start():
        barrier.wait()
        try:
            results.append(start_run({"model": "cnn", "epochs": 1}, tmp_path / "runs", nice=0))
        except RunActive as e:
            results.append(e)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    started = [r for r in results if isinstance(r, Path)]
    assert len(started) == 1 and sum(isinstance(r, RunActive) for r in results) == 1
    assert run_state(started[0]) == "running"  # the lock is held from before the process exists
    deadline = time.time() + 60
    while time.time() < deadline and run_state(started[0]) == "running":
        time.sleep(0.2)
    assert run_state(started[0]) == "crashed"  # it ended without a final event; the kernel let go of its lock
    again = start_run({"model": "cnn", "epochs": 1}, tmp_path / "runs", nice=0)  # and a new run may start
    assert again != started[0]


def test_the_cli_refuses_bad_arguments_in_one_line(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "digits", *map(str, args)], capture_output=True, text=True,
                              timeout=120, cwd=Path(__file__).resolve().parents[1])

    finished = tmp_path / "old-run"
    finished.mkdir()
    (finished / "events.jsonl").write_text('{"kind": "finished"}\n')
    for args in (["train", "--threads", "-1"], ["train", "--seed", str(2**64)], ["drawn", "x.pt", "--per-digit", "-5"],
                 ["train", "--run-dir", finished], ["train", "--model", "resnet"], ["train", "--epochs", "x"]):
        done = cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, (args, done.stderr)
    assert not (tmp_path / "runs").exists() and (finished / "events.jsonl").read_text().count("\n") == 1
