"""Learning from the room's drawings: the split rule, oversampling, a run's events and record, and (slow,
real MNIST) a fine-tune that reads an unusual hand better without losing MNIST."""

import numpy as np
import pytest
import torch

from digits import TrainConfig, build_model, drawings as store, fit, load_checkpoint, save_checkpoint
from digits.data import Split, load_splits
from digits.events import describe
from digits.room import HELD_OUT, VALIDATION, Room, as_split, fingerprint, part, repeats, with_room
from tests.helpers import cli, segment_room


def random_room(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(-1, 10, n)


def keys(split: Split) -> set[bytes]:
    return {x.numpy().tobytes() for x in split.images}


def test_the_split_is_fixed_by_each_drawing_disjoint_and_near_its_shares():
    images, labels = random_room(4000)
    room = Room.of((images, labels))
    parts = [keys(room.train), keys(room.val), keys(room.held_out)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    digits = labels >= 0
    assert sum(map(len, parts)) == digits.sum()          # every digit drawing in one part; "not a digit" in none
    assert abs(len(room.held_out) / digits.sum() - HELD_OUT) < 0.03
    assert abs(len(room.val) / digits.sum() - VALIDATION) < 0.03
    # The same drawing lands in the same part whatever else is stored, and in whatever order.
    order = np.random.default_rng(1).permutation(1000)
    fewer = Room.of((images[order], labels[order]))
    assert keys(fewer.held_out) <= parts[2] and keys(fewer.train) <= parts[0] and keys(fewer.val) <= parts[1]
    assert all(part(x) == "held_out" for x in room.held_out.images.numpy())


def test_the_record_of_a_set_ignores_order_and_sees_a_changed_label():
    images, labels = random_room(50)
    labels = np.abs(labels)
    a = as_split((images, labels))
    b = as_split((images[::-1], labels[::-1]))
    relabelled = labels.copy()
    relabelled[3] = (relabelled[3] + 1) % 10
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(as_split((images, relabelled)))


@pytest.mark.parametrize("room, mnist, share", [(300, 50_000, 0.1), (40, 50_000, 0.05), (2000, 1000, 0.3)])
def test_the_room_is_repeated_to_about_its_share_of_the_training_images(room, mnist, share):
    images, labels = random_room(room)
    train = Split(torch.zeros(mnist, 28, 28, dtype=torch.uint8), torch.zeros(mnist, dtype=torch.long))
    mixed = with_room(train, as_split((images, np.abs(labels))), share)
    k = repeats(room, mnist, share)
    assert len(mixed) == mnist + k * room
    assert share <= (len(mixed) - mnist) / len(mixed) < share + room / len(mixed) or k == 1


def test_a_run_with_the_room_reports_it_and_its_checkpoint_records_which_drawings(tiny_splits, tmp_path):
    images, labels = random_room(200, seed=3)
    room = Room.of((images, labels))
    config = TrainConfig(epochs=2, batch_size=64, drawings=True, eval_every=4)
    events = list(fit(config, tiny_splits, checkpoint=tmp_path / "m.pt", room=room))
    started, final = events[0], events[-1]
    assert (started.room_train, started.room_val, started.room_held_out) == (len(room.train), len(room.val),
                                                                             len(room.held_out))
    evaluations = [e for e in events if e.kind == "evaluation"]
    n = len(room.held_out)
    for e in evaluations:  # every evaluation measures the held-out part: a count of right answers out of n
        assert e.room_acc is not None and e.room_acc * n == pytest.approx(round(e.room_acc * n), abs=1e-3)
        assert e.room_val_acc is not None
    assert final.kind == "finished" and final.room_acc is not None and final.before_room_acc is not None
    assert final.before_val_acc is not None and final.before_test_acc is not None
    assert "before → after" in describe(final) and "room (held out)" in describe(final)
    _, meta = load_checkpoint(tmp_path / "m.pt")
    assert meta["room_sha256"] == fingerprint(room.train)
    assert (meta["metrics"]["room_train"], meta["metrics"]["room_held_out"]) == (len(room.train), len(room.held_out))
    assert meta["metrics"]["room_acc"] == final.room_acc
    # A run without the room's drawings is as it was: no room figures, no before/after.
    plain = list(fit(TrainConfig(epochs=1, batch_size=64), tiny_splits))
    assert plain[-1].room_acc is None and plain[-1].before_test_acc is None and plain[0].room_train == 0


def test_fine_tuning_starts_from_the_checkpoint_and_refuses_another_architecture(tiny_splits, tmp_path):
    torch.manual_seed(0)
    start = save_checkpoint(tmp_path / "start.pt", "lenet5", build_model("lenet5"))
    model, _ = load_checkpoint(start)
    config = TrainConfig(epochs=1, batch_size=64, start_from=str(start))
    events = fit(config, tiny_splits)
    next(events)  # Started: the before figures are of the checkpoint's weights
    final = list(events)[-1]
    from digits.evaluate import accuracy
    assert final.before_test_acc == round(accuracy(model, tiny_splits.test), 6)
    with pytest.raises(ValueError, match="holds a lenet5 model"):
        next(fit(TrainConfig(model="cnn", start_from=str(start)), tiny_splits))


def test_a_run_with_the_room_but_no_drawings_is_refused_in_one_line(tiny_splits, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITS_DRAWINGS", str(tmp_path / "empty.sqlite"))
    db = store.connect()
    store.add(db, np.zeros((28, 28), np.uint8), store.NOT_A_DIGIT, "s")  # not a digit: nothing to learn from
    db.close()
    with pytest.raises(ValueError, match="no digit drawings") as e:
        next(fit(TrainConfig(drawings=True), tiny_splits))
    assert "\n" not in str(e.value)


def test_the_cli_says_so_before_loading_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITS_DRAWINGS", str(tmp_path / "room.sqlite"))
    monkeypatch.setenv("DIGITS_DATA", str(tmp_path / "no-mnist-here"))  # it never gets as far as MNIST
    done = cli("train", "--recipe", "room", "--start-from", "checkpoints/lenet5.pt", "--checkpoint", tmp_path / "x.pt")
    assert done.returncode == 2 and "no digit drawings" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.slow
def test_fine_tuning_on_an_unusual_hand_reads_it_better_and_keeps_mnist(tmp_path):
    """The workshop arc on real MNIST: the shipped LeNet-5 misreads a room of calculator-style digits; the
    "room" recipe raises its accuracy on the drawings it never trained on, and MNIST test stays within 0.3 points."""
    model, _ = load_checkpoint("checkpoints/lenet5.pt")
    room = segment_room(40, model)
    config = TrainConfig.from_dict({**TrainConfig.recipe("room"), "start_from": "checkpoints/lenet5.pt"})
    final = list(fit(config, load_splits(config.val_size, config.seed), checkpoint=tmp_path / "room.pt", room=room))[-1]
    assert final.kind == "finished", final
    assert final.before_room_acc < 0.97                       # the shipped model does misread this hand
    assert final.room_acc >= final.before_room_acc + 0.04     # and reads it better after, on drawings it never saw
    assert abs(final.test_acc - final.before_test_acc) <= 0.003
