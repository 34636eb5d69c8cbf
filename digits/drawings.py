"""The room's drawings: each one people label (a digit, or "not a digit") kept in one SQLite file. (About 250
lines: the store's writes and the reads that decide which rows are the room, kept beside the rules they share.)

A workshop is fifty people pressing at the same moment, so the store is built for concurrent writers:
WAL mode (readers never block the writer), a busy timeout instead of "database is locked", and each
write one short transaction that also checks the limits (`BEGIN IMMEDIATE`, so two writers cannot
both pass a check and then both insert). Writes are bounded: the PNG's size, a rate per browser
session, and a total count, each refused with a one-line `DrawingsError`.

The collection as files (exports and imports) is digits.drawing_files'; the formats, and the checks of what comes
from outside, are digits.drawing_formats'.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import drawings_pg

# The store's readers take what a drawing is from here too (Drawing, counts_of, read_npz: re-exported).
from .drawing_formats import (  # noqa: F401
    CSV_COLUMNS,
    NOT_A_DIGIT,
    ROW,
    SOUND,
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


def store_errors() -> tuple[type[Exception], ...]:
    """What a store's failure raises: sqlite3's and the OS's, and psycopg's once a PostgreSQL store is in use."""
    pg = sys.modules.get("psycopg")
    return (sqlite3.Error, OSError) + ((pg.Error,) if pg is not None else ())


def read_only(error: Exception) -> bool:
    """Whether a store's failure says it may not be written: a read-only file, or a PostgreSQL role that may only
    read (a read-only transaction, no privilege)."""
    return (str(getattr(error, "sqlite_errorname", "")).startswith("SQLITE_READONLY")
            or getattr(error, "sqlstate", None) in ("25006", "42501"))


def store_name(where: Path | str) -> str:
    """A store as people may see it: a file's path; a server's address without the user and the password."""
    if isinstance(where, str) and drawings_pg.URL.match(where):
        url = urllib.parse.urlsplit(where)
        return f"{url.scheme}://{url.hostname or ''}{f':{url.port}' if url.port else ''}{url.path}"
    return str(where)


def guarded(fn):
    """`fn` with the store's failures (a locked, corrupt or unwritable file, a full disk, a server that went away)
    as one-line DrawingsErrors: a page says what happened instead of breaking, and nothing half-written stays."""
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except store_errors() as e:
            text = str(e).splitlines()[0] if str(e) else ""
            if "locked" in text or "busy" in text or "lock timeout" in text:
                raise DrawingsError("the drawings store is busy (another program is writing to it); try again in a "
                                    "moment") from None
            reason = getattr(e, "strerror", None) or text[:120] or type(e).__name__
            raise DrawingsError(f"the drawings store cannot be used ({reason})") from None
    return guarded


def rollback(db: sqlite3.Connection) -> None:
    try:
        db.execute("ROLLBACK")
    except store_errors():  # no transaction was open (BEGIN itself failed), or the file is gone
        pass


def default_path() -> Path | str:
    """$DIGITS_DRAWINGS (a file, or a postgresql:// URL: digits.drawings_pg), else drawings.sqlite in the data
    folder ($DIGITS_DATA or ./data)."""
    where = os.environ.get("DIGITS_DRAWINGS") or ""
    return where if drawings_pg.URL.match(where) else Path(where or default_root() / "drawings.sqlite")


def connect(path: Path | str | None = None) -> sqlite3.Connection:
    """A connection in autocommit mode, WAL, waiting up to 10 s for a writer instead of failing; for a
    postgresql:// URL, a connection to that server with the same methods (digits.drawings_pg)."""
    path = path or default_path()
    if isinstance(path, str) and drawings_pg.URL.match(path):
        try:
            db = drawings_pg.Connection(path)
            db.executescript(SCHEMA)
        except ImportError:
            raise DrawingsError("a PostgreSQL store needs psycopg: pip install 'psycopg[binary]'") from None
        except store_errors() as e:  # the server's address and the password stay out of what people see
            raise DrawingsError(f"the PostgreSQL drawings store cannot be used ({type(e).__name__})") from None
        return db
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed drawing survives a crash of the app
        db.executescript(SCHEMA)
    except (sqlite3.Error, OSError) as e:  # not an SQLite file, a folder that cannot be made, a full disk…
        raise DrawingsError(f"{path}: cannot be used as the drawings store ({e})") from None
    return db


@guarded
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
        rollback(db)
        raise


@guarded
def relabel(db: sqlite3.Connection, drawing_id: int, label: int, session: str | None = None) -> bool:
    """Give a drawing another label; False when it is gone (someone else deleted it meanwhile). With `session`, only
    that session's drawing: SQLite may give a deleted drawing's id to the next one, someone else's."""
    if session is None:
        return db.execute("UPDATE drawings SET label = ? WHERE id = ?",
                          (label_of(label), int(drawing_id))).rowcount == 1
    return db.execute("UPDATE drawings SET label = ? WHERE id = ? AND session = ?",
                      (label_of(label), int(drawing_id), str(session)[:64])).rowcount == 1


@guarded
def delete(db: sqlite3.Connection, drawing_id: int) -> bool:
    """Delete a drawing; False when it was gone already."""
    return db.execute("DELETE FROM drawings WHERE id = ?", (int(drawing_id),)).rowcount == 1


@dataclass(frozen=True)
class Extent:
    """Which of the store's rows are the room: the newest `limit` that keep the schema's rules (SOUND), the rows
    from id `floor` up; the others counted, `damaged` (breaking the rules) and `beyond` (older than the newest)."""
    floor: int
    shown: int
    damaged: int
    beyond: int


@guarded
def floor(db: sqlite3.Connection, limit: int = MAX_DRAWINGS) -> int:
    """The id from which the room's rows go up (Extent.floor), alone: half of extent's cost."""
    row = db.execute(f"SELECT id FROM drawings WHERE {SOUND} ORDER BY id DESC LIMIT 1 OFFSET ?",
                     (max(1, int(limit)) - 1,)).fetchone()
    return -(2**63) if row is None else row[0]  # fewer than `limit`: every sound row


@guarded
def extent(db: sqlite3.Connection, limit: int = MAX_DRAWINGS) -> Extent:
    floor_id = floor(db, limit)
    total, sound, shown = db.execute(f"SELECT count(*), count(*) FILTER (WHERE {SOUND}), count(*) FILTER "
                                     f"(WHERE {SOUND} AND id >= ?) FROM drawings", (floor_id,)).fetchone()
    return Extent(floor_id, shown, total - sound, sound - shown)


@contextmanager
def snapshot(db: sqlite3.Connection):
    """Reads that see one state of the store (a read transaction: in WAL mode a writer meanwhile is not seen; on
    PostgreSQL a repeatable-read one, digits.drawings_pg)."""
    db.execute("BEGIN DEFERRED")
    try:
        yield db
    finally:
        rollback(db)  # nothing was written: ending the read


@guarded
def drawings(db: sqlite3.Connection, limit: int = MAX_DRAWINGS) -> Drawings:
    """The newest `limit` stored drawings that keep the schema's rules, oldest first; the others counted."""
    with snapshot(db):
        ext = extent(db, limit)
        found = Drawings(drawing_of_row(row) for row in db.execute(
            f"SELECT {ROW} FROM drawings WHERE {SOUND} AND id >= ? ORDER BY id", (ext.floor,)))
    found.damaged, found.beyond = ext.damaged, ext.beyond
    return found


@guarded
def counts(db: sqlite3.Connection) -> dict[int, int]:
    """{label: how many}, NOT_A_DIGIT included, every label present."""
    found = dict(db.execute("SELECT label, count(*) FROM drawings GROUP BY label").fetchall())
    return {label: int(found.get(label, 0)) for label in range(NOT_A_DIGIT, 10)}


@guarded
def png(db: sqlite3.Connection, drawing_id: int) -> bytes | None:
    """The canvas of one drawing as it was drawn (PNG bytes); None when it has none (an imported one) or is gone."""
    row = db.execute("SELECT png FROM drawings WHERE id = ?", (int(drawing_id),)).fetchone()
    return None if row is None else row[0]
