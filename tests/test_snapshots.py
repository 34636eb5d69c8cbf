"""digits.snapshots: the bounded series of weights a run keeps, checked on the file system, and fit's use of it."""

import os

import pytest
import torch
from torch import nn

from digits import CheckpointError, TrainConfig, build_model, fit, save_checkpoint
from digits.data import Split, Splits
from digits.evaluate import accuracy
from digits.snapshots import Snapshot, SnapshotWriter, list_snapshots, load_snapshot, snapshot_name

EVERY = 10  # iterations between the simulated evaluations


def on_disk(folder) -> list[int]:
    """Iterations of the snapshot files in `folder`; any other file there fails the test."""
    names = sorted(os.listdir(folder))
    assert all(n.startswith("it-") and n.endswith(".pt") for n in names), names  # no temporary files left
    return sorted(int(n[3:-3]) for n in names)


@pytest.mark.parametrize("limit", [2, 5, 24])
def test_the_writer_keeps_the_first_and_the_latest_evenly_spread_within_its_limit(tmp_path, limit):
    writer, model = SnapshotWriter(tmp_path / "snapshots", limit=limit), nn.Linear(1, 1)
    for n in range(100):
        writer.save("cnn", model, n * EVERY, config={}, metrics={})
        kept = [i // EVERY for i in on_disk(tmp_path / "snapshots")]  # evaluation numbers
        assert len(kept) <= limit and kept[0] == 0 and kept[-1] == n
        if n:  # evenly spread: every multiple of one stride before the latest, then the latest
            stride = kept[1] if len(kept) > 2 else n
            assert kept[:-1] == list(range(0, n, stride))
        if n + 1 >= limit:  # and no thinner than it has to be
            assert len(kept) >= limit // 2 + 1
    assert [s.iteration for s in list_snapshots(tmp_path)] == on_disk(tmp_path / "snapshots")


def test_the_writer_refuses_a_limit_below_two(tmp_path):
    with pytest.raises(ValueError, match="at least 2"):
        SnapshotWriter(tmp_path, limit=1)


def test_list_snapshots_takes_only_the_writers_plain_files(tmp_path):
    folder = tmp_path / "snapshots"
    for iteration in (1500, 0, 20):
        save_checkpoint(folder / snapshot_name(iteration), "cnn", nn.Linear(1, 1))
    for junk in ("notes.txt", "it-20.pt", "it-000000030.pt.tmp", ".it-000000040.pt.x1y2.tmp", "it-00000005O.pt",
                 "it-0000000600.pt", "best.pt"):
        (folder / junk).write_bytes(b"junk")
    (folder / "it-000000070.pt").mkdir()                                            # a folder
    (folder / "it-000000080.pt").symlink_to(folder / snapshot_name(20))           # a link to a real one
    (folder / "it-000000090.pt").symlink_to(tmp_path / "nowhere")                 # a dangling link
    found = list_snapshots(tmp_path)
    assert [s.iteration for s in found] == [0, 20, 1500]
    assert [s.path.name for s in found] == [snapshot_name(i) for i in (0, 20, 1500)]
    assert list_snapshots(tmp_path / "no-such-run") == []
    (tmp_path / "a-file").write_text("not a run folder")
    assert list_snapshots(tmp_path / "a-file") == []
    (tmp_path / "run-with-a-file").mkdir()
    (tmp_path / "run-with-a-file" / "snapshots").write_text("not a folder")
    assert list_snapshots(tmp_path / "run-with-a-file") == []


def test_load_snapshot_goes_through_the_checkpoint_checks(tmp_path):
    torch.manual_seed(3)
    model = build_model("lenet5")
    path = save_checkpoint(tmp_path / "snapshots" / snapshot_name(40), "lenet5", model,
                           metrics={"val_acc": 0.5, "iteration": 40})
    (snapshot,) = list_snapshots(tmp_path)
    for way in (snapshot, path, str(path)):
        loaded, meta = load_snapshot(way)
        assert meta["metrics"] == {"val_acc": 0.5, "iteration": 40} and not loaded.training
        for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True):
            assert torch.equal(a, b)
    corrupt = tmp_path / "snapshots" / snapshot_name(50)
    corrupt.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # cut short, as by a crash
    with pytest.raises(CheckpointError, match=snapshot_name(50)):
        load_snapshot(Snapshot(corrupt, 50))
    corrupt.write_bytes(b"\x00" * 1000)
    with pytest.raises(CheckpointError):
        load_snapshot(corrupt)
    with pytest.raises(CheckpointError, match="no such file"):
        load_snapshot(tmp_path / "snapshots" / snapshot_name(60))


def test_fit_keeps_the_untrained_model_and_one_snapshot_per_evaluation(tiny_splits, tmp_path):
    first = lambda split, n: Split(split.images[:n], split.labels[:n])  # noqa: E731
    small = Splits(train=first(tiny_splits.train, 64), val=first(tiny_splits.val, 32), test=first(tiny_splits.test, 32))
    config = TrainConfig(model="cnn", epochs=2, batch_size=16, eval_every=3, lr=3e-3, seed=5, device="cpu")
    events = list(fit(config, small, snapshots=tmp_path / "snapshots"))
    assert events[-1].kind == "finished"
    evaluations = {e.iteration: e.val_acc for e in events if e.kind == "evaluation"}
    assert list(evaluations) == [3, 4, 6, 8]  # every 3 iterations, and at the end of each 4-batch epoch
    found = list_snapshots(tmp_path)
    assert [s.iteration for s in found] == [0, 3, 4, 6, 8]
    # The first is the model as fit built it, before any step: what the same seed builds.
    torch.manual_seed(config.seed)
    fresh = build_model(config.model)
    first, meta = load_snapshot(found[0])
    assert meta["metrics"] == {"epoch": 0, "iteration": 0} and meta["model"] == "cnn" and meta["config"]["seed"] == 5
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), fresh.state_dict().values(), strict=True))
    # The others are the model at each evaluation: each scores on the validation split what the run said.
    for s in found[1:]:
        model, meta = load_snapshot(s)
        assert meta["metrics"]["iteration"] == s.iteration and meta["metrics"]["val_acc"] == evaluations[s.iteration]
        assert accuracy(model, small.val) == pytest.approx(evaluations[s.iteration], abs=1e-6)
    last = load_snapshot(found[-1])[0]
    assert not all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), last.state_dict().values()))
