"""The room's drawing store on a real SQLite file: concurrent writers, limits, export and import. (About 320
lines: one store, its many edges; each test a short one.)"""

import io
import multiprocessing
import sqlite3
import threading
from contextlib import closing

import numpy as np
import pytest

from digits import drawing_files as files, drawings as store


def image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


@pytest.fixture
def db(store_at):
    conn = store.connect(store_at)
    yield conn
    conn.close()


def test_a_drawing_comes_back_as_it_was_stored(db):
    pixels = image(1)
    i = store.add(db, pixels, 7, "s1", png=b"\x89PNG...", model="lenet5.pt", predicted=1, confidence=0.61)
    (d,) = store.drawings(db)
    assert (d.id, d.label, d.session, d.model, d.predicted, d.confidence) == (i, 7, "s1", "lenet5.pt", 1, 0.61)
    np.testing.assert_array_equal(d.pixels, pixels)
    store.add(db, pixels.astype(np.float32) / 255, store.NOT_A_DIGIT, "s1")  # numbers in [0, 1] are stored as uint8
    np.testing.assert_array_equal(store.drawings(db)[1].pixels, pixels)
    assert store.counts(db)[7] == 1 and store.counts(db)[store.NOT_A_DIGIT] == 1 and store.counts(db)[0] == 0
    if isinstance(db, sqlite3.Connection):  # readers never wait for the writer
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("kwargs, words", [
    (dict(pixels=np.zeros((28, 27), np.uint8)), "28×28"),
    (dict(pixels=np.full((28, 28), 2.0)), "0 to 1"),
    (dict(pixels=np.full((28, 28), np.nan)), "0 to 1"),
    (dict(label=10), "label"), (dict(label=-2), "label"), (dict(label="7"), "label"), (dict(label=True), "label"),
    (dict(png=b"x" * (store.MAX_PNG_BYTES + 1)), "KB"),
    (dict(predicted=12), "prediction"),
])
def test_what_is_not_a_labelled_drawing_is_refused_in_one_line(db, kwargs, words):
    args = dict(pixels=image(0), label=3, session="s")
    args.update(kwargs)
    with pytest.raises(store.DrawingsError, match=words) as e:
        store.add(db, args.pop("pixels"), args.pop("label"), args.pop("session"), **args)
    assert "\n" not in str(e.value)
    assert store.drawings(db) == []


def test_one_browser_session_is_rate_limited_and_others_are_not(db):
    for k in range(store.RATE[0]):
        store.add(db, image(k), 1, "fast", now=1000.0 + k)
    with pytest.raises(store.DrawingsError, match="in a minute"):
        store.add(db, image(99), 1, "fast", now=1000.0 + store.RATE[0])
    store.add(db, image(99), 1, "someone else", now=1000.0 + store.RATE[0])
    store.add(db, image(99), 1, "fast", now=1000.0 + store.RATE[1] + 1)  # a minute later: again


def test_a_full_collection_says_so_and_keeps_what_it_has(db, monkeypatch):
    monkeypatch.setattr(store, "MAX_DRAWINGS", 3)
    for k in range(3):
        store.add(db, image(k), k, f"s{k}")
    with pytest.raises(store.DrawingsError, match="full"):
        store.add(db, image(9), 9, "s9")
    assert [d.label for d in store.drawings(db)] == [0, 1, 2]


def test_relabel_and_delete(db):
    a, b = store.add(db, image(1), 1, "s"), store.add(db, image(2), 2, "s")
    store.relabel(db, a, store.NOT_A_DIGIT)
    store.delete(db, b)
    assert [(d.id, d.label) for d in store.drawings(db)] == [(a, store.NOT_A_DIGIT)]
    with pytest.raises(store.DrawingsError):
        store.relabel(db, a, 11)


def test_fifty_threads_pressing_at_once_lose_nothing(store_at):
    path, start, errors = store_at, threading.Barrier(50), []
    store.connect(path).close()

    def person(k: int) -> None:
        conn = store.connect(path)
        try:
            start.wait()
            for j in range(4):
                store.add(conn, image(k * 10 + j), (k + j) % 10, f"person-{k}")
        except Exception as e:  # noqa: BLE001 — collected and asserted below
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=person, args=(k,)) for k in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with closing(store.connect(path)) as conn:
        rows = store.drawings(conn)
    assert len(rows) == 200 and len({d.id for d in rows}) == 200
    assert sorted((d.session, d.label) for d in rows) == sorted((f"person-{k}", (k + j) % 10)
                                                                for k in range(50) for j in range(4))


def _process_writes(path: str, k: int, count: int) -> None:
    conn = store.connect(path)
    for j in range(count):
        store.add(conn, image(1000 + k * count + j), j % 10, f"process-{k}")
    conn.close()


def test_processes_writing_at_once_lose_nothing(store_at):
    path = str(store_at)
    store.connect(path).close()
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter each, as separate app servers would be
    procs = [ctx.Process(target=_process_writes, args=(path, k, 25)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with closing(store.connect(path)) as conn:
        rows = store.drawings(conn)
    assert len(rows) == 100 and len({d.id for d in rows}) == 100
    assert sorted((d.session, d.label) for d in rows) == sorted((f"process-{k}", j % 10)
                                                                for k in range(4) for j in range(25))


def test_export_then_import_is_the_same_collection(db, tmp_path):
    for k in range(12):
        store.add(db, image(k), k % 11 - 1, "s")
    out = tmp_path / "room.npz"
    assert files.export_npz(db, out) == 12
    other = store.connect(tmp_path / "other.sqlite")
    assert files.import_npz(other, out.read_bytes()) == (12, 0)
    assert files.import_npz(other, out.read_bytes()) == (0, 12)  # the same file again adds nothing
    for a, b in zip(store.drawings(db), store.drawings(other)):
        np.testing.assert_array_equal(a.pixels, b.pixels)
        assert a.label == b.label
    with np.load(out) as npz:
        assert npz["images"].dtype == np.uint8 and npz["images"].shape == (12, 28, 28) and npz["labels"].shape == (12,)


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("data, words", [
    (b"not a zip", "readable"),
    (npz_bytes(images=np.zeros((2, 28, 28), np.uint8)), "two arrays"),
    (npz_bytes(images=np.zeros((2, 28, 28), np.float32), labels=np.zeros(2, int)), "uint8"),
    (npz_bytes(images=np.zeros((2, 32, 32), np.uint8), labels=np.zeros(2, int)), "uint8"),
    (npz_bytes(images=np.zeros((2, 28, 28), np.uint8), labels=np.zeros(3, int)), "whole numbers"),
    (npz_bytes(images=np.zeros((2, 28, 28), np.uint8), labels=np.array([1.5, 2.0])), "whole numbers"),
    (npz_bytes(images=np.zeros((2, 28, 28), np.uint8), labels=np.array([3, 10])), "0–9"),
    (npz_bytes(images=np.zeros((1, 28, 28), np.uint8), labels=np.array([{"a": 1}], dtype=object)), "readable"),
])
def test_an_imported_file_is_checked_and_refused_whole(db, data, words):
    store.add(db, image(0), 0, "s")
    with pytest.raises(store.DrawingsError, match=words):
        files.import_npz(db, data)
    assert len(store.drawings(db)) == 1


def test_an_import_that_would_pass_the_limit_adds_nothing(db, monkeypatch):
    monkeypatch.setattr(store, "MAX_DRAWINGS", 5)
    monkeypatch.setattr(files, "MAX_DRAWINGS", 5)  # imported from digits.drawings
    store.add(db, image(0), 0, "s")
    data = npz_bytes(images=np.stack([image(k) for k in range(1, 6)]), labels=np.zeros(5, int))
    with pytest.raises(store.DrawingsError, match="limit"):
        files.import_npz(db, data)
    assert len(store.drawings(db)) == 1


def test_the_default_file_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITS_DRAWINGS", str(tmp_path / "x.sqlite"))
    assert store.default_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("DIGITS_DRAWINGS")
    monkeypatch.setenv("DIGITS_DATA", str(tmp_path / "data"))
    assert store.default_path() == tmp_path / "data" / "drawings.sqlite"


def test_a_file_that_is_not_a_store_is_one_line(tmp_path):
    bad = tmp_path / "room.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(store.DrawingsError, match="cannot be used as the drawings store"):
        store.connect(bad)


def test_the_cli_counts_exports_and_imports(tmp_path, monkeypatch, capsys):
    from digits.cli import main

    monkeypatch.setenv("DIGITS_DRAWINGS", str(tmp_path / "room.sqlite"))
    conn = store.connect()
    for k in range(3):
        store.add(conn, image(k), 4, "s")
    assert main(["drawings", "stats"]) == 0
    assert "3 drawings" in capsys.readouterr().out
    assert main(["drawings", "export", str(tmp_path / "out.npz")]) == 0
    assert main(["drawings", "import", str(tmp_path / "out.npz")]) == 0
    out = capsys.readouterr().out
    assert "0 drawings added" in out and "3 were already stored" in out and "4: 3" in out  # not doubled
    assert main(["drawings", "export", str(tmp_path / "out.png")]) == 2                   # a name np.savez would change
    assert main(["drawings", "import", str(tmp_path / "missing.npz")]) == 2
    (tmp_path / "bad.npz").write_bytes(b"junk")
    assert main(["drawings", "import", str(tmp_path / "bad.npz")]) == 2
    assert main(["drawings", "export"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 4 and "Traceback" not in err


def test_the_canvases_leave_as_a_zip_of_their_pngs_and_the_rows_as_csv(db):
    import csv
    import zipfile
    from datetime import datetime

    from PIL import Image

    canvas = io.BytesIO()
    Image.new("RGBA", (280, 280), (0, 0, 0, 255)).save(canvas, format="PNG")
    a = store.add(db, image(1), 7, "s1", png=canvas.getvalue(), model="=HYPERLINK(\"x\")", predicted=1, confidence=0.61,
                  now=1_700_000_000.0)
    b = store.add(db, image(2), store.NOT_A_DIGIT, "s2", png=b"\x89PNG other", now=1_700_000_060.0)
    files.import_npz(db, npz_bytes(images=image(3)[None], labels=np.array([4])))  # no canvas: not in the zip
    assert store.png(db, a) == canvas.getvalue() and store.png(db, a + 99) is None
    assert store.png(db, store.drawings(db)[-1].id) is None

    with zipfile.ZipFile(io.BytesIO(files.export_pngs(db))) as z:
        assert z.namelist() == [f"{a:05d}-label-7.png", f"{b:05d}-not-a-digit.png"]
        assert Image.open(io.BytesIO(z.read(z.namelist()[0]))).size == (280, 280)
        assert z.read(z.namelist()[1]) == b"\x89PNG other"

    rows = list(csv.DictReader(io.StringIO(files.export_csv(db))))
    assert list(rows[0]) == list(store.CSV_COLUMNS) and len(rows) == 3
    assert [r["label"] for r in rows] == ["7", "-1", "4"]
    assert datetime.fromisoformat(rows[0]["created"]).timestamp() == 1_700_000_000.0
    assert rows[0]["model"] == "'=HYPERLINK(\"x\")"  # text in a spreadsheet, never a formula
    assert (rows[0]["predicted"], rows[0]["confidence"], rows[1]["predicted"]) == ("1", "0.6100", "")


@pytest.mark.parametrize("name", ["\r=1", "a\r=1", "x\n=cmd|' /C calc'!A0", "\r\n@SUM(1)", "-2+3", "\t=1"])
def test_a_line_break_in_a_csv_cell_never_starts_a_row_with_a_formula(db, name):
    """A spreadsheet starts a new row at a bare CR as well as at LF: every cell with one is quoted, so the text
    after it stays in its cell; a cell that starts like a formula keeps its apostrophe."""
    import csv

    store.add(db, image(1), 7, "s1", model=name)
    text = files.export_csv(db)
    assert '"' + store.csv_cell(name).replace('"', '""') + '"' in text  # quoted: its line breaks stay in the cell
    (row,) = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row["model"] == store.csv_cell(name) and row["label"] == "7"


def test_a_change_to_a_drawing_that_is_gone_says_so(db):
    i = store.add(db, image(1), 7, "s1")
    assert store.relabel(db, i, 3) and store.delete(db, i)
    assert not store.relabel(db, i, 4) and not store.delete(db, i)  # someone else deleted it meanwhile


def test_rows_that_break_the_rules_are_skipped_and_counted_everywhere_the_store_is_read(tmp_path):
    """A store written outside the app, without the table's CHECKs: reading, counting, exporting and the room's
    split skip what breaks the rules, and say how many."""
    from digits.room import Room
    from tests.helpers import store_without_checks

    path = tmp_path / "outside.sqlite"
    store_without_checks(path, image(1).tobytes(), bad_rows=3)
    with closing(store.connect(path)) as db:
        rows = store.drawings(db)
        assert [d.id for d in rows] == [1] and rows.damaged == 3 and rows.beyond == 0
        assert store.counts_of(rows)[3] == 1 and sum(store.counts_of(rows).values()) == 1
        assert store.read_npz(_export(db))[1].tolist() == [3]
        assert len(files.export_csv(db).splitlines()) == 2  # the header and the good row
        files.export_pngs(db)  # no damaged row breaks the zip
        assert len(Room.of(rows).train) + len(Room.of(rows).val) + len(Room.of(rows).held_out) == 1


def _export(db) -> bytes:
    buf = io.BytesIO()
    files.export_npz(db, buf)
    return buf.getvalue()


def test_above_the_limit_the_newest_are_read_and_the_older_ones_counted(db):
    ids = [store.add(db, image(i), i % 10, f"s{i}") for i in range(8)]
    rows = store.drawings(db, limit=5)
    assert [d.id for d in rows] == ids[3:] and rows.beyond == 3 and rows.damaged == 0  # newest five, oldest first
    assert sum(store.counts_of(rows).values()) == 5  # counts from the same rows


def test_the_npz_export_writes_to_a_file_in_memory_too(db):
    store.add(db, image(5), 2, "s")
    buf = io.BytesIO()
    assert files.export_npz(db, buf) == 1
    images, labels = store.read_npz(buf.getvalue())
    np.testing.assert_array_equal(images[0], image(5))
    assert labels.tolist() == [2]


def test_a_store_that_fails_under_a_page_is_a_one_line_message(tmp_path):
    """A locked file, a corrupt one, or a folder that cannot be made: DrawingsError, never sqlite3's own."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(store.DrawingsError, match="cannot be used"):
        store.connect(blocker / "room.sqlite")
    db = store.connect(tmp_path / "room.sqlite")
    holder = store.connect(tmp_path / "room.sqlite")
    holder.execute("BEGIN IMMEDIATE")                           # another program holds the write lock
    db.execute("PRAGMA busy_timeout = 100")
    with pytest.raises(store.DrawingsError, match="busy") as e:
        store.add(db, image(0), 3, "s")
    assert "\n" not in str(e.value)
    holder.execute("ROLLBACK")
    store.add(db, image(0), 3, "s")                            # and the store works again afterwards
    db.execute("UPDATE drawings SET session = CAST(x'ff' AS TEXT)")  # bytes that are not UTF-8 where text belongs
    with pytest.raises(store.DrawingsError, match="cannot be used"):
        store.drawings(db)


def test_a_servers_store_is_named_without_its_user_and_password(postgres, monkeypatch, capsys):
    url = postgres.new_database().replace("postgresql://digits@", "postgresql://digits:s3cret@")
    assert store.store_name(url) == url.replace("digits:s3cret@", "")
    monkeypatch.setenv("DIGITS_DRAWINGS", url)
    from digits.cli import main

    assert main(["drawings", "stats"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "0 drawings in postgresql://127.0.0.1:" in out


def test_the_sql_is_translated_for_postgresql_outside_its_string_literals():
    from digits.drawings_pg import translate

    assert (translate("SELECT 'a?b', x FROM t WHERE REALLY = ? AND y = ? -- BLOBS REAL BLOB")
            == "SELECT 'a?b', x FROM t WHERE REALLY = %s AND y = %s -- BLOBS DOUBLE PRECISION BYTEA")
