"""The room's drawings: each one people label (a digit, or "not a digit") kept in one SQLite file.

A workshop is fifty people pressing at the same moment, so the store is built for concurrent writers:
WAL mode (readers never block the writer), a busy timeout instead of "database is locked", and each
write one short transaction that also checks the limits (`BEGIN IMMEDIATE`, so two writers cannot
both pass a check and then both insert). Writes are bounded: the PNG's size, a rate per browser
session, and a total count, each refused with a one-line `DrawingsError`.

Exports and imports are `.npz` files, the canvases as drawn leave as a zip of PNGs, the rest of each row as a
CSV; the formats, and the checks of what comes from outside, are digits.drawing_formats'.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import sqlite3
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# The store's readers take what a drawing is from here too (Drawing, counts_of, read_npz: re-exported).
from .drawing_formats import (  # noqa: F401
    CSV_COLUMNS,
    NOT_A_DIGIT,
    Drawing,
    Drawings,
    DrawingsError,
    counts_of,
    csv_cell,
    drawing_of_row,
    label_of,
    pixels_of,
    png_name,
    read_npz,
)
from .mnist import default_root

MAX_PNG_BYTES = 512 * 1024  # a 280×280 canvas is ~5–20 KB as PNG
ROW = "id, created, session, label, pixels, model, predicted, confidence"  # a Drawing's columns (drawing_of_row)
MAX_DRAWINGS = 20_000       # a day of a large workshop is a few thousand
RATE = (30, 60.0)           # at most 30 drawings a browser session per 60 s: a person, not a script

SCHEMA = """
CREATE TABLE IF NOT EXISTS drawings (
    id         INTEGER PRIMARY KEY,
    created    REAL    NOT NULL,               -- seconds since the epoch
    session    TEXT    NOT NULL,               -- an anonymous id per browser session
    label      INTEGER NOT NULL CHECK (label BETWEEN -1 AND 9),
    pixels     BLOB    NOT NULL CHECK (length(pixels) = 784),  -- the 28×28 the network saw, uint8
    png        BLOB,                           -- the canvas as drawn
    model      TEXT,                           -- the checkpoint that answered
    predicted  INTEGER CHECK (predicted BETWEEN 0 AND 9),
    confidence REAL
);
CREATE INDEX IF NOT EXISTS by_session ON drawings (session, created);
"""


def _guarded(fn):
    """`fn` with the store's failures (a locked, corrupt or unwritable file, a full disk) as one-line
    DrawingsErrors: a page says what happened instead of breaking, and nothing half-written stays."""
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise DrawingsError("the drawings store is busy (another program is writing to it); try again in a "
                                    "moment") from None
            raise DrawingsError(f"the drawings store cannot be used ({str(e)[:120]})") from None
        except (sqlite3.Error, OSError) as e:
            reason = getattr(e, "strerror", None) or str(e)[:120] or type(e).__name__
            raise DrawingsError(f"the drawings store cannot be used ({reason})") from None
    return guarded


def _rollback(db: sqlite3.Connection) -> None:
    try:
        db.execute("ROLLBACK")
    except sqlite3.Error:  # no transaction was open (BEGIN itself failed), or the file is gone
        pass


def default_path() -> Path:
    """$DIGITS_DRAWINGS, else drawings.sqlite in the data folder ($DIGITS_DATA or ./data)."""
    return Path(os.environ.get("DIGITS_DRAWINGS") or default_root() / "drawings.sqlite")


def connect(path: Path | str | None = None) -> sqlite3.Connection:
    """A connection in autocommit mode, WAL, waiting up to 10 s for a writer instead of failing."""
    path = Path(path or default_path())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed drawing survives a crash of the app
        db.executescript(SCHEMA)
    except (sqlite3.Error, OSError) as e:  # not an SQLite file, a folder that cannot be made, a full disk…
        raise DrawingsError(f"{path}: cannot be used as the drawings store ({e})") from None
    return db


@_guarded
def add(db: sqlite3.Connection, pixels, label: int, session: str, *, png: bytes | None = None, model: str | None = None,
        predicted: int | None = None, confidence: float | None = None, now: float | None = None) -> int:
    """Store one labelled drawing; its id. DrawingsError when it is invalid or a limit is reached."""
    row = (pixels_of(pixels), label_of(label), str(session)[:64])
    if png is not None and len(png) > MAX_PNG_BYTES:
        raise DrawingsError(f"the drawing's image is {len(png) // 1024} KB; "
                            f"at most {MAX_PNG_BYTES // 1024} KB are kept")
    if predicted is not None and not 0 <= int(predicted) <= 9:
        raise DrawingsError(f"a prediction is a digit 0–9, got {predicted!r}")
    now = time.time() if now is None else now
    db.execute("BEGIN IMMEDIATE")  # the checks and the insert as one: no two writers both pass a check
    try:
        (total,) = db.execute("SELECT count(*) FROM drawings").fetchone()
        if total >= MAX_DRAWINGS:
            raise DrawingsError(f"the room's collection is full ({MAX_DRAWINGS:,} drawings); the presenter can "
                                "export it and delete some on the Room page")
        (recent,) = db.execute("SELECT count(*) FROM drawings WHERE session = ? AND created > ?",
                               (row[2], now - RATE[1])).fetchone()
        if recent >= RATE[0]:
            raise DrawingsError(f"that is {RATE[0]} drawings in a minute from this browser; wait a moment")
        cur = db.execute("INSERT INTO drawings (created, session, label, pixels, png, model, predicted, confidence) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (now, row[2], row[1], row[0], png, None if model is None else str(model)[:200],
                          None if predicted is None else int(predicted),
                          None if confidence is None else float(confidence)))
        db.execute("COMMIT")
        return int(cur.lastrowid)
    except BaseException:
        _rollback(db)
        raise


@_guarded
def relabel(db: sqlite3.Connection, drawing_id: int, label: int, session: str | None = None) -> bool:
    """Give a drawing another label; False when it is gone (someone else deleted it meanwhile). With `session`, only
    that session's drawing: SQLite may give a deleted drawing's id to the next one, someone else's."""
    if session is None:
        return db.execute("UPDATE drawings SET label = ? WHERE id = ?",
                          (label_of(label), int(drawing_id))).rowcount == 1
    return db.execute("UPDATE drawings SET label = ? WHERE id = ? AND session = ?",
                      (label_of(label), int(drawing_id), str(session)[:64])).rowcount == 1


@_guarded
def delete(db: sqlite3.Connection, drawing_id: int) -> bool:
    """Delete a drawing; False when it was gone already."""
    return db.execute("DELETE FROM drawings WHERE id = ?", (int(drawing_id),)).rowcount == 1


@_guarded
def drawings(db: sqlite3.Connection, limit: int = MAX_DRAWINGS) -> Drawings:
    """The newest `limit` stored drawings that keep the schema's rules, oldest first; the others counted."""
    out, damaged = [], 0
    rows = db.execute(f"SELECT {ROW} FROM drawings ORDER BY id DESC")
    for row in rows:
        if len(out) == limit:
            break
        if (d := drawing_of_row(row)) is None:
            damaged += 1
        else:
            out.append(d)
    (total,) = db.execute("SELECT count(*) FROM drawings").fetchone()
    found = Drawings(reversed(out))
    found.damaged, found.beyond = damaged, total - len(out) - damaged
    return found


@_guarded
def counts(db: sqlite3.Connection) -> dict[int, int]:
    """{label: how many}, NOT_A_DIGIT included, every label present."""
    found = dict(db.execute("SELECT label, count(*) FROM drawings GROUP BY label").fetchall())
    return {label: int(found.get(label, 0)) for label in range(NOT_A_DIGIT, 10)}


@_guarded
def export_npz(db: sqlite3.Connection, path) -> int:
    """Write `images` (N, 28, 28) uint8 and `labels` (N,) int64 to a .npz (a path or a binary file); how many."""
    rows = drawings(db)
    images = np.stack([d.pixels for d in rows]) if rows else np.zeros((0, 28, 28), np.uint8)
    np.savez_compressed(path, images=images, labels=np.array([d.label for d in rows], np.int64))
    return len(rows)


@_guarded
def png(db: sqlite3.Connection, drawing_id: int) -> bytes | None:
    """The canvas of one drawing as it was drawn (PNG bytes); None when it has none (an imported one) or is gone."""
    row = db.execute("SELECT png FROM drawings WHERE id = ?", (int(drawing_id),)).fetchone()
    return None if row is None else row[0]


@_guarded
def export_pngs(db: sqlite3.Connection) -> bytes:
    """A zip of every stored canvas, one PNG a drawing named by its id and label (see png_name). Drawings
    without one (imported from a .npz) are left out: their 28×28 images are in the .npz export."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:  # PNGs are compressed already
        for *row, data in db.execute(f"SELECT {ROW}, png FROM drawings WHERE png IS NOT NULL ORDER BY id"):
            if (d := drawing_of_row(row)) is not None and isinstance(data, bytes):  # a damaged row: left out
                z.writestr(png_name(d.id, d.label), data)
    return out.getvalue()


@_guarded
def export_csv(db: sqlite3.Connection) -> str:
    """Every drawing's row but its images, as CSV: id, created (ISO 8601, UTC), session, label (-1: not a
    digit), model, predicted, confidence."""
    out = io.StringIO()
    # Every cell quoted: a spreadsheet also starts a row at a bare CR, which the csv module quotes only when it is
    # the line terminator; unquoted, "\r=1" in a model's name became a row starting with a live formula.
    w = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writerow(CSV_COLUMNS)
    for row in db.execute(f"SELECT {ROW} FROM drawings ORDER BY id"):
        if (d := drawing_of_row(row)) is None:
            continue  # a damaged row (a store written outside the app): left out, as the Room page leaves it out
        when = datetime.fromtimestamp(d.created, UTC).isoformat(timespec="seconds")
        w.writerow([d.id, when, csv_cell(d.session), d.label, csv_cell(d.model), csv_cell(d.predicted),
                    "" if d.confidence is None else f"{d.confidence:.4f}"])
    return out.getvalue()


@_guarded
def import_npz(db: sqlite3.Connection, data: bytes, session: str = "import") -> tuple[int, int]:
    """Add the drawings of a checked .npz (see read_npz) in one transaction, all or nothing; (added, already
    stored). A drawing with the same pixels and label as a stored one is not added again: importing the
    same file twice does not double the room."""
    images, labels = read_npz(data)
    db.execute("BEGIN IMMEDIATE")
    try:
        stored = set(db.execute("SELECT pixels, label FROM drawings").fetchall())
        new, seen = [], set()
        for img, lab in zip(images, labels):
            key = (img.tobytes(), int(lab))
            if key not in stored and key not in seen:
                seen.add(key)
                new.append(key)
        if len(stored) + len(new) > MAX_DRAWINGS:
            raise DrawingsError(f"{len(new):,} more would pass the room's limit of {MAX_DRAWINGS:,} drawings "
                                f"({len(stored):,} are stored)")
        now = time.time()
        db.executemany("INSERT INTO drawings (created, session, label, pixels) VALUES (?, ?, ?, ?)",
                       [(now, session[:64], lab, pixels) for pixels, lab in new])
        db.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise
    return len(new), len(images) - len(new)
