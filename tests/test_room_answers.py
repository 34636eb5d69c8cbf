"""digits.room_answers: each drawing read once per checkpoint file, kept in the store, shared by every reader."""

from contextlib import closing

import numpy as np
import pytest
import torch

from digits import build_model, drawings, load_checkpoint, room_answers, save_checkpoint
from digits.reading import answers_of


def image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


@pytest.fixture
def room(tmp_path):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "m.pt", "lenet5", build_model("lenet5"))
    model = load_checkpoint(tmp_path / "m.pt")[0].eval()
    db = drawings.connect(tmp_path / "room.sqlite")
    for i in range(12):
        drawings.add(db, image(i), i % 10, f"s{i}")
    yield db, model, room_answers.fingerprint(tmp_path / "m.pt")
    db.close()


def test_the_answers_are_classifys_and_each_drawing_is_read_once(room, monkeypatch):
    db, model, key = room
    rows = drawings.drawings(db)
    first = room_answers.answers(db, model, key, rows)
    expected = answers_of(model, torch.from_numpy(np.stack([d.pixels for d in rows]))).probs.clamp_min(1e-300).log()
    np.testing.assert_array_equal(first, expected.numpy())

    read = []
    real = room_answers.answers_of
    monkeypatch.setattr(room_answers, "answers_of", lambda m, images: read.append(len(images)) or real(m, images))
    drawings.add(db, image(99), 3, "s99")  # one new drawing
    again = room_answers.answers(db, model, key, drawings.drawings(db))
    assert read == [1]  # only the new one is read
    np.testing.assert_array_equal(again[:-1], first)


def test_a_new_drawing_under_a_reused_id_is_read_again_and_deleted_ones_are_forgotten(room):
    db, model, key = room
    rows = drawings.drawings(db)
    room_answers.answers(db, model, key, rows)
    last = rows[-1]
    assert drawings.delete(db, last.id)
    new_id = drawings.add(db, image(500), 1, "other")
    assert new_id == last.id  # SQLite gives the deleted id to the next drawing: what the pixels' digest is for
    rows = drawings.drawings(db)
    fresh = room_answers.answers(db, model, key, rows)
    expected = answers_of(model, torch.from_numpy(image(500)[None])).probs.clamp_min(1e-300).log().numpy()
    np.testing.assert_array_equal(fresh[[d.id for d in rows].index(new_id)], expected[0])
    drawings.delete(db, rows[0].id)
    assert room_answers.forget_deleted(db) == 1


def test_another_checkpoint_file_has_answers_of_its_own_and_a_session_relabels_only_its_own(room, tmp_path):
    db, model, key = room
    save_checkpoint(tmp_path / "other.pt", "lenet5", build_model("lenet5"))
    other_model = load_checkpoint(tmp_path / "other.pt")[0].eval()
    other_key = room_answers.fingerprint(tmp_path / "other.pt")
    rows = drawings.drawings(db)
    mine = room_answers.answers(db, model, key, rows)
    with closing(drawings.connect(tmp_path / "room.sqlite")) as another:  # another session, another connection
        theirs = room_answers.answers(another, other_model, other_key, drawings.drawings(another))
        (count,) = another.execute("SELECT count(DISTINCT checkpoint) FROM answers").fetchone()
    assert count == 2 and not np.array_equal(mine, theirs)
    assert not drawings.relabel(db, rows[0].id, 5, session="someone else") and drawings.relabel(db, rows[0].id, 5, "s0")


def test_a_store_that_cannot_keep_answers_still_answers(room):
    db, model, key = room
    db.execute("PRAGMA query_only = ON")  # as a read-only file: nothing can be written, not even the table
    rows = drawings.drawings(db)
    first, again = room_answers.answers(db, model, key, rows), room_answers.answers(db, model, key, rows)
    np.testing.assert_array_equal(first, again)
