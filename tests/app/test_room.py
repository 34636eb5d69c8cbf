"""The Room page: a real drawings store in the test's folder.
Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""

import io
import shutil
from contextlib import closing

import numpy as np
import torch

from digits import save_checkpoint
from tests.app.apptest import canvas_value, gallery, open_page, room_store, shown
from tests.helpers import draw_digit
from webapp import resources


def test_an_empty_room_says_how_to_fill_it(app):
    at = open_page(app, "room")
    assert any("No drawings yet" in i.value and "Draw page" in i.value for i in at.info)
    assert [link.proto.page for link in at.get("page_link")][-1] == "draw"


def test_the_room_page_shows_counts_accuracy_and_marks_the_wrong_ones(room):
    at, ids, labels = room
    assert at.metric[0].value == "6"
    (table,) = at.table
    row = table.value.iloc[0]
    assert row["Room's digits"] == "60.0%" and row["Right"] == "3 of 5"  # not-a-digit left out
    assert row["MNIST test"] == "10.00%"
    shown_ids, wrong = gallery(at)
    assert shown_ids == ids[::-1] and sorted(wrong) == [ids[1], ids[3]]  # newest first; not-a-digit is never wrong
    bodies = " ".join(h.proto.body for h in at.get("html"))
    assert "<img src=x" not in bodies and "&lt;img src=x onerror=alert(1)&gt;" in bodies


def test_the_room_page_reads_drawings_with_the_network_alone_as_mnist_test_is_measured(app, tmp_path):
    """Drawings whose one forward pass and nine-view reading (the Draw page's) disagree, labelled as the one pass
    reads them: the Room page counts them right (digits.room_answers: one view, as the MNIST test column beside it
    is measured, at a ninth of the cost)."""
    from digits.data import normalize
    from digits.reading import read_inputs

    trained = resources.CHECKPOINTS / "trained.pt"
    # the shipped one: it has doubts where noise is concerned
    shutil.copy(resources.ROOT / "checkpoints" / "cnn.pt", trained)
    model = resources.load_model(trained)[0]
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)
    inputs = normalize(torch.from_numpy(pixels))
    with torch.no_grad():
        one_pass = model.eval()(inputs).argmax(1)
    read = read_inputs(model, inputs).digit
    differ = (one_pass != read).nonzero().flatten()[:12].tolist()
    assert differ  # the test means something: nine views read these otherwise
    room_store(tmp_path, model, [(pixels[k], int(one_pass[k]), f"s{k}", "trained.pt") for k in differ])
    at = open_page(app, "room")
    rows = {shown(r["Checkpoint"]): r["Right"] for _, r in at.table[0].value.iterrows()}
    assert rows[resources.checkpoint_label(trained)] == f"{len(differ)} of {len(differ)}"


def test_a_checkpoint_that_learned_from_the_room_is_measured_on_its_held_out_drawings_only(app, tmp_path):
    from digits.room import part

    rng = np.random.default_rng(5)
    pixels = [rng.integers(0, 256, (28, 28), dtype=np.uint8) for _ in range(40)]
    model = resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0]
    room_store(tmp_path, model, [(p, k % 10, f"s{k % 2}", "cnn.pt") for k, p in enumerate(pixels)])
    save_checkpoint(resources.CHECKPOINTS / "tuned.pt", "cnn", model, metrics={"test_acc": 0.1, "room_train": 24})
    at = open_page(app, "room")
    rows = {shown(r["Checkpoint"]): r["Right"] for _, r in at.table[0].value.iterrows()}
    held = sum(part(p) == "held_out" for p in pixels)
    assert 0 < held < 40
    assert rows[resources.checkpoint_label(resources.CHECKPOINTS / "tuned.pt")].endswith(f"of {held} held out")
    assert rows[resources.checkpoint_label(resources.CHECKPOINTS / "cnn.pt")].endswith("of 40")


def test_the_room_gallery_filters(room):
    from digits import drawings

    at, ids, _ = room
    at.toggle(key="room_wrong").set_value(True).run()
    assert gallery(at) == ([ids[3], ids[1]], [ids[3], ids[1]])
    at.toggle(key="room_wrong").set_value(False)
    at.selectbox(key="room_label").set_value(drawings.NOT_A_DIGIT).run()
    assert gallery(at)[0] == [ids[4]]
    at.selectbox(key="room_label").set_value("any")
    at.selectbox(key="room_model").set_value("lenet5.pt").run()
    assert gallery(at)[0] == [ids[2]]
    at.selectbox(key="room_model").set_value("<img src=x onerror=alert(1)>").run()
    assert gallery(at)[0] == [ids[5]]


def test_the_room_relabels_and_deletes_what_is_picked(room, tmp_path):
    from digits import drawings

    at, ids, labels = room
    pick = [m for m in at.multiselect if m.key.startswith("room_pick")][0]
    pick.set_value([ids[1], ids[4]])
    at.selectbox(key="room_new_label").set_value(7).run()  # the buttons come alive once something is picked
    at.button(key="room_relabel").click().run()
    assert not at.exception and any("Relabelled 2 drawings as 7" in s.value for s in at.success)
    pick = [m for m in at.multiselect if m.key.startswith("room_pick")][0]
    assert pick.value == []  # the choice is cleared once done
    pick.set_value([ids[0]]).run()
    assert at.button(key="room_delete").disabled  # not before saying yes
    at.checkbox(key="room_sure").check().run()
    at.button(key="room_delete").click().run()
    assert any("Deleted 1 drawing." in shown(s.value) for s in at.success)
    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        assert ({d.id: d.label for d in drawings.drawings(db)}
                == {**dict(zip(ids[1:], labels[1:])), ids[1]: 7, ids[4]: 7})
    assert at.metric[0].value == "5" and ids[0] not in gallery(at)[0]


def test_relabelling_a_drawing_someone_else_deleted_says_it_was_gone(room, tmp_path):
    from digits import drawings

    at, ids, labels = room
    pick = [m for m in at.multiselect if m.key.startswith("room_pick")][0]
    pick.set_value([ids[1], ids[2]])
    at.selectbox(key="room_new_label").set_value(7).run()
    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:  # another presenter, before the click
        drawings.delete(db, ids[2])
    at.button(key="room_relabel").click().run()
    said = [shown(s.value) for s in at.success]
    assert "Relabelled 1 drawing as 7. 1 drawing was gone already (deleted by someone else)." in said, said


def test_room_changes_and_imports_are_the_presenters(room, monkeypatch):
    monkeypatch.setenv("DIGITS_PRESENTER_KEY", "room-42")
    at, _, _ = room
    at.run()
    assert not [m for m in at.multiselect if m.key.startswith("room_pick")] and not at.get("file_uploader")
    assert any("for the presenter" in c.value for c in at.caption)
    assert gallery(at)[0]  # looking stays open


def test_a_bad_import_file_is_one_line_and_a_good_one_is_added(room, tmp_path):
    from digits import drawings

    at, ids, _ = room
    at.file_uploader(key="room_import").set_value(
        ("room.npz", b"PK\x03\x04 not really a zip", "application/octet-stream")).run()
    assert not at.exception
    (error,) = at.error
    assert shown(error.value).startswith("Not done: not a readable .npz file") and "\n" not in error.value
    good = io.BytesIO()
    np.savez(good, images=np.zeros((3, 28, 28), np.uint8), labels=np.array([1, 2, -1]))
    at.file_uploader(key="room_import").set_value(("more.npz", good.getvalue(), "application/octet-stream")).run()
    assert any("Imported 3 drawings (0 were already in the room)." in shown(s.value) for s in at.success)
    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        assert [d.label for d in drawings.drawings(db)][len(ids):] == [1, 2, -1]
    assert at.metric[0].value == str(len(ids) + 3)


def test_a_drawings_file_that_is_not_a_store_is_one_line_on_both_pages(app, tmp_path):
    (tmp_path / "drawings.sqlite").write_bytes(b"not an sqlite file " * 200)
    at = open_page(app, "room")
    (error,) = at.error
    assert (shown(error.value).startswith("drawings.sqlite: cannot be used as the drawings store")
            and "\n" not in error.value)
    assert str(tmp_path) not in error.value  # the file's name, not the server's folders
    at = open_page(at, "draw")
    at.session_state["canvas-0"] = canvas_value(draw_digit("ring"))
    at.run()
    at.pills[0].set_value("right").run()
    assert not at.exception and not at.success
    (error,) = at.error
    assert shown(error.value).startswith("Not kept:") and "cannot be used as the drawings store" in shown(error.value)



def test_a_store_with_damaged_rows_shows_the_good_ones_and_says_how_many_were_skipped(app, tmp_path):
    from tests.helpers import store_without_checks

    store_without_checks(tmp_path / "drawings.sqlite", np.full((28, 28), 255, np.uint8).tobytes(), bad_rows=3)
    at = open_page(app, "room")
    assert not at.exception and at.metric[0].value == "1"
    assert [shown(w.value) for w in at.warning] == [
        "3 damaged drawings skipped: their rows break the store's rules (written outside the app?)."]


def test_the_room_page_reads_a_postgresql_store_as_it_reads_a_file(app, postgres, monkeypatch):
    """DIGITS_DRAWINGS=postgresql://…: the shared store of replicas on several machines (digits.drawings_pg)."""
    from digits import drawings

    url = postgres.new_database()
    monkeypatch.setenv("DIGITS_DRAWINGS", url)
    rng = np.random.default_rng(9)
    with closing(drawings.connect(url)) as db:
        ids = [drawings.add(db, rng.integers(0, 256, (28, 28), dtype=np.uint8), label, f"s{k}", model="cnn.pt")
               for k, label in enumerate([3, 5, drawings.NOT_A_DIGIT])]
    at = open_page(app, "room")
    assert not at.exception and at.metric[0].value == "3"
    assert at.table[0].value.iloc[0]["Right"].endswith("of 2")  # the not-a-digit one has no right answer
    assert gallery(at)[0] == ids[::-1]
    pick = [m for m in at.multiselect if m.key.startswith("room_pick")][0]
    pick.set_value([ids[0]])
    at.selectbox(key="room_new_label").set_value(8).run()
    at.button(key="room_relabel").click().run()
    assert any("Relabelled 1 drawing as 8" in shown(s.value) for s in at.success)
    with closing(drawings.connect(url)) as db:
        assert {d.id: d.label for d in drawings.drawings(db)}[ids[0]] == 8


def test_after_a_change_the_room_is_counted_once_for_every_viewer_after_it(room, tmp_path, monkeypatch):
    """The first view after a new drawing keeps its readings before it counts: the counts it leaves are of the store
    as the next viewers find it, so they count nothing again (before, keeping the readings made every count stale)."""
    import functools

    from streamlit.testing.v1 import AppTest

    from digits import drawings, room_answers, room_view

    calls = []

    def counting(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            calls.append(fn.__name__)
            return fn(*args, **kwargs)
        return wrapper

    for name in ("look", "confusion", "page"):
        monkeypatch.setattr(room_view, name, counting(getattr(room_view, name)))
    monkeypatch.setattr(drawings, "floor", counting(drawings.floor))
    monkeypatch.setattr(room_answers, "read_missing", counting(room_answers.read_missing))
    at, _, _ = room
    with closing(drawings.connect()) as db:  # someone draws
        drawings.add(db, np.zeros((28, 28), np.uint8), 3, "another person", model="cnn.pt", predicted=3,
                     confidence=0.9)
    viewers = [AppTest.from_file(at._script_path, default_timeout=60) for _ in range(3)]
    counted = []
    for viewer in viewers:
        calls.clear()
        viewer.run()
        open_page(viewer, "room")
        counted.append(sorted(set(calls)))
        assert viewer.metric[0].value == "7"
    # The first viewer reads the new drawing and counts; the next asks only whether anything is unread (its answer,
    # none, is the first to be kept for the store as the readings left it); the third asks nothing.
    assert counted == [["confusion", "floor", "look", "page", "read_missing"], ["floor", "read_missing"], []], counted
