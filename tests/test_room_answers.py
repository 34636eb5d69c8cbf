"""digits.room_answers and digits.room_view: each drawing read once per checkpoint file and kept in the store; the
Room page's counts, confusion and gallery pages counted by the store."""

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import torch

from digits import build_model, drawings, load_checkpoint, room_answers, room_view, save_checkpoint
from digits.data import Split
from digits.evaluate import logits_of
from digits.room import part


def image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def one_view(model, images: list[np.ndarray]) -> list[int]:
    x = torch.from_numpy(np.stack(images))
    return logits_of(model, Split(x, torch.zeros(len(x), dtype=torch.int64))).argmax(1).tolist()


def a_room(tmp_path, where):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "m.pt", "lenet5", build_model("lenet5"))
    model = load_checkpoint(tmp_path / "m.pt")[0].eval()
    db = drawings.connect(where)
    for i in range(12):
        drawings.add(db, image(i), i % 10 if i < 11 else drawings.NOT_A_DIGIT, f"s{i % 3}", model=f"m{i % 2}.pt")
    assert room_answers.ready(db)
    return db, model, room_answers.fingerprint(tmp_path / "m.pt")


@pytest.fixture
def room(tmp_path, store_at):
    """Twelve drawings in a store: the tests that use it pass against SQLite and PostgreSQL alike."""
    db, model, key = a_room(tmp_path, store_at)
    yield db, model, key
    db.close()


@pytest.fixture
def sqlite_room(tmp_path):
    """The same in an SQLite file, for what only a file has (ids given again, read-only files, a replaced file)."""
    db, model, key = a_room(tmp_path, tmp_path / "room.sqlite")
    yield db, model, key
    db.close()


def readings(db, key) -> dict[int, int]:
    return dict(db.execute("SELECT drawing, digit FROM readings WHERE checkpoint = ?", (key,)))


def test_each_drawing_is_read_once_with_the_network_alone(room, monkeypatch):
    db, model, key = room
    assert room_answers.read_missing(db, model, key) == 12
    rows = drawings.drawings(db)
    assert readings(db, key) == dict(zip([d.id for d in rows], one_view(model, [d.pixels for d in rows])))
    assert room_answers.read_missing(db, model, key) == 0  # nothing new: nothing read
    drawings.add(db, image(99), 3, "s99")
    assert room_answers.read_missing(db, model, key) == 1  # one new drawing: one read


def test_the_counts_the_confusion_and_the_held_out_quarter_come_from_the_kept_readings(room):
    db, model, key = room
    room_answers.read_missing(db, model, key)
    room = room_view.look(db)
    rows = drawings.drawings(db)
    assert room.extent.shown == 12 and room.sessions == 3 and room.models == ("m0.pt", "m1.pt")
    assert room.counts == drawings.counts_of(rows)
    read = dict(zip([d.id for d in rows], one_view(model, [d.pixels for d in rows])))
    expected = np.zeros((10, 10), np.int64)
    held = np.zeros((10, 10), np.int64)
    for d in rows:
        if d.label >= 0:
            expected[d.label, read[d.id]] += 1
            held[d.label, read[d.id]] += part(d.pixels) == "held_out"
    np.testing.assert_array_equal(room_view.confusion(db, room, key), expected)  # the not-a-digit one left out
    np.testing.assert_array_equal(room_view.confusion(db, room, key, held_out_only=True), held)
    assert room_view.confusion(db, room, "another checkpoint").sum() == 0  # readings are per checkpoint


def test_a_gallery_page_is_filtered_and_paged_by_the_store(room):
    db, model, key = room
    room_answers.read_missing(db, model, key)
    room = room_view.look(db)
    rows = drawings.drawings(db)
    ids = [d.id for d in rows][::-1]  # newest first
    first = room_view.page(db, room, room_view.Filters(), key, 0, 5)
    assert [d.id for d in first.drawings] == ids[:5] and first.matches == 12 and set(first.read) == set(ids[:5])
    last = room_view.page(db, room, room_view.Filters(), None, 99, 5)  # past the end: the last page, no readings
    assert last.index == 2 and [d.id for d in last.drawings] == ids[10:] and last.read == {}
    read = dict(zip([d.id for d in rows], one_view(model, [d.pixels for d in rows])))
    wrong = [d.id for d in rows[::-1] if d.label >= 0 and read[d.id] != d.label]
    assert [d.id for d in room_view.page(db, room, room_view.Filters(wrong_only=True), key, 0, 50).drawings] == wrong
    sevens = room_view.page(db, room, room_view.Filters(label=7, model="m1.pt"), key, 0, 50)
    assert [(d.label, d.model) for d in sevens.drawings] == [(7, "m1.pt")] and sevens.matches == 1
    imported = room_view.page(db, room, room_view.Filters(model=""), key, 0, 50)
    assert imported.matches == 0


def test_a_new_drawing_under_a_reused_id_is_read_again_and_deleted_ones_are_forgotten(sqlite_room):
    db, model, key = sqlite_room
    room_answers.read_missing(db, model, key)
    last = drawings.drawings(db)[-1]
    assert drawings.delete(db, last.id)
    new_id = drawings.add(db, image(500), 1, "other", now=last.created + 60)
    assert new_id == last.id  # SQLite gives the deleted id to the next drawing: what the kept creation time is for
    assert room_answers.read_missing(db, model, key) == 1
    assert readings(db, key)[new_id] == one_view(model, [image(500)])[0]
    drawings.delete(db, drawings.drawings(db)[0].id)
    assert room_answers.forget_deleted(db) == 1


def test_another_checkpoint_file_has_readings_of_its_own_kept_for_every_connection(room, tmp_path, store_at):
    db, model, key = room
    save_checkpoint(tmp_path / "other.pt", "lenet5", build_model("lenet5"))
    other = load_checkpoint(tmp_path / "other.pt")[0].eval()
    other_key = room_answers.fingerprint(tmp_path / "other.pt")
    room_answers.read_missing(db, model, key)
    with closing(drawings.connect(store_at)) as another:  # another session, another connection
        assert room_answers.read_missing(another, model, key) == 0  # what one read, the other has
        assert room_answers.read_missing(another, other, other_key) == 12
        (count,) = another.execute("SELECT count(DISTINCT checkpoint) FROM readings").fetchone()
    assert count == 2 and key != other_key


def test_a_read_only_store_keeps_no_readings_and_a_busy_one_is_one_line(sqlite_room, tmp_path):
    db, model, key = sqlite_room
    ro = sqlite3.connect(f"file:{tmp_path / 'room.sqlite'}?mode=ro", uri=True, isolation_level=None)
    with closing(ro):
        assert not room_answers.ready(ro)  # the Room page then shows the drawings without answers
        assert room_view.look(ro).extent.shown == 12
    with closing(drawings.connect(tmp_path / "room.sqlite")) as writer:
        writer.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        db.execute("PRAGMA busy_timeout = 100")
        with pytest.raises(drawings.DrawingsError, match="busy"):
            room_answers.ready(db)  # not mistaken for a read-only store: no page of half the readings
        writer.execute("ROLLBACK")
    assert room_answers.ready(db)


def test_readings_written_by_something_else_are_not_counted(sqlite_room):
    db, model, key = sqlite_room
    room_answers.read_missing(db, model, key)
    db.execute("UPDATE readings SET digit = 99 WHERE drawing = 1")
    db.execute("UPDATE readings SET digit = 'seven' WHERE drawing = 2")
    room = room_view.look(db)
    assert room_view.confusion(db, room, key).sum() == 9  # 11 digits, two readings broken
    assert room_answers.read_missing(db, model, key) == 2  # and read again


def test_kept_numbers_are_counted_again_only_after_the_store_changes(room, tmp_path, store_at):
    db, model, key = room
    kept = room_view.Kept(str(store_at))
    counts = []

    def count():
        with closing(drawings.connect(store_at)) as other:  # as a page counts: a connection its own
            counts.append(room_view.look(other).extent.shown)
        return counts[-1]

    assert kept.get("shown", count) == 12 and kept.get("shown", count) == 12 and counts == [12]
    with closing(drawings.connect(store_at)) as other:
        assert room_answers.ready(other)  # making sure of the table writes nothing: still the same store
    assert kept.get("shown", count) == 12 and counts == [12]
    drawings.add(db, image(77), 4, "s77")  # a commit by any other connection
    assert kept.get("shown", count) == 13 and kept.get("shown", count) == 13 and counts == [12, 13]
    assert room_answers.read_missing(db, model, key) == 13  # readings kept are a change too
    assert kept.get("shown", count) == 13 and counts == [12, 13, 13]
    if not isinstance(store_at, Path):
        return
    (tmp_path / "room.sqlite").rename(tmp_path / "old.sqlite")  # another file under the store's name
    with closing(drawings.connect(tmp_path / "room.sqlite")) as new:
        drawings.add(new, image(1), 1, "s")
    assert kept.get("shown", count) == 1 and counts[-1] == 1
