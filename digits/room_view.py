"""The Room page's numbers, counted by the store with SQL: a view costs a few queries and one page of drawings,
whatever the size of the room. The room is the newest MAX_DRAWINGS rows that keep the schema's rules
(digits.drawings.extent); its counts, each checkpoint's confusion on its digits (from the readings
digits.room_answers keeps) and one page of the gallery, filtered, newest first, are all read from those rows.
`Kept` keeps them while the store is unchanged: a room of viewers pays for one count after each change."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import drawings_pg
from .drawing_formats import NOT_A_DIGIT, ROW, SOUND, Drawing, drawing_of_row
from .drawings import MAX_DRAWINGS, Extent, extent, guarded, snapshot, store_errors
from .room_answers import MATCH

ROOM = f"{SOUND} AND id >= ?"  # the room's rows, from the extent's floor up


@dataclass(frozen=True)
class Room:
    extent: Extent             # how many drawings, and how many were left out (damaged, beyond the limit)
    counts: dict[int, int]     # {label: how many}, NOT_A_DIGIT included, every label present
    sessions: int              # browser sessions that drew them
    models: tuple[str, ...]    # the models that answered when they were drawn; "" for none (imported)


@dataclass(frozen=True)
class Filters:
    wrong_only: bool = False   # the digits the chosen checkpoint reads as another digit
    label: int | None = None   # a digit, NOT_A_DIGIT, or None for any
    model: str | None = None   # the model that answered when it was drawn ("" for none), or None for any


@dataclass(frozen=True)
class Page:
    drawings: list[Drawing]    # newest first
    read: dict[int, int]       # id → the chosen checkpoint's digit, for those it has read
    matches: int               # how many drawings pass the filters
    index: int                 # which page this is, from 0 (the one asked for, or the last one there is)


@guarded
def look(db: sqlite3.Connection, limit: int = MAX_DRAWINGS) -> Room:
    with snapshot(db):
        ext = extent(db, limit)
        groups = db.execute(f"SELECT label, session, coalesce(model, ''), count(*) FROM drawings WHERE {ROOM} "
                            "GROUP BY 1, 2, 3", (ext.floor,)).fetchall()  # one pass over the room for all three
    counts = dict.fromkeys(range(NOT_A_DIGIT, 10), 0)
    for label, _, _, n in groups:
        counts[label] += n
    return Room(ext, counts, len({g[1] for g in groups}), tuple(sorted({g[2] for g in groups})))


@guarded
def confusion(db: sqlite3.Connection, room: Room, checkpoint: str, held_out_only: bool = False) -> np.ndarray:
    """(10, 10) counts of the room's digit drawings that the checkpoint has read: rows the label, columns its
    digit; with `held_out_only`, of the held-out quarter only (for a checkpoint that learned from the others)."""
    out = np.zeros((10, 10), np.int64)
    rows = db.execute(f"SELECT label, r.digit, count(*) FROM drawings d JOIN readings r ON {MATCH} "
                      f"WHERE {ROOM} AND label >= 0{' AND r.held_out = 1' if held_out_only else ''} GROUP BY 1, 2",
                      (checkpoint, room.extent.floor))
    for label, digit, n in rows:
        out[label, digit] = n
    return out


@guarded
def page(db: sqlite3.Connection, room: Room, filters: Filters, checkpoint: str | None, index: int,
         size: int) -> Page:
    """Page `index` (from 0; past the end, the last page) of `size` drawings that pass the filters, newest first,
    with the checkpoint's readings of them ("wrong" needs a checkpoint)."""
    where, params = [ROOM], [room.extent.floor]
    if filters.label is not None:
        where.append("label = ?")
        params.append(int(filters.label))
    if filters.model is not None:
        where.append("coalesce(model, '') = ?")
        params.append(str(filters.model))
    if filters.wrong_only and checkpoint is not None:
        where.append(f"label != {NOT_A_DIGIT} AND r.digit IS NOT label")  # not read yet: shown as wrong, to look at
    join = f"LEFT JOIN readings r ON {MATCH}" if checkpoint is not None else ""
    params = ([checkpoint] if checkpoint is not None else []) + params
    query = f"FROM drawings d {join} WHERE {' AND '.join(where)}"
    with snapshot(db):
        (matches,) = db.execute(f"SELECT count(*) {query}", params).fetchone()
        index = max(0, min(int(index), -(-matches // size) - 1))
        rows = db.execute(f"SELECT {ROW}, {'r.digit' if checkpoint is not None else 'NULL'} {query} "
                          "ORDER BY id DESC LIMIT ? OFFSET ?", [*params, size, index * size]).fetchall()
    drawings = [drawing_of_row(row[:-1]) for row in rows]
    return Page(drawings, {d.id: row[-1] for d, row in zip(drawings, rows) if row[-1] is not None}, matches, index)


class Kept:
    """The room's numbers of one store file, counted once while the store is unchanged: whoever asks next in this
    process gets them without a query. Unchanged is SQLite's `PRAGMA data_version` on a connection of this object's
    own, which moves whenever another connection, of any process, commits (a drawing, a relabel, a reading kept),
    and the same file (a store replaced by another file under its name is another store); for a PostgreSQL store,
    the server's write-ahead log position, which every commit moves."""

    MAX = 256  # numbers kept for one state of the store (filters × pages × checkpoints asked for)

    def __init__(self, path: Path | str):
        self.path = path if isinstance(path, str) and drawings_pg.URL.match(path) else Path(path)
        self._lock = threading.Lock()
        self._watch = None  # a connection of its own: only the store's version is asked of it
        self._file: tuple[int, int] | None = None
        self._state, self._kept = None, {}

    def state(self):
        """What changes when the store does; None when it cannot be told (then nothing is kept)."""
        with self._lock:
            try:
                if isinstance(self.path, str):  # a PostgreSQL store: the server's write-ahead log position
                    self._watch = self._watch or drawings_pg.Connection(self.path)
                    return self._watch.version()
                st = os.stat(self.path)
                if self._watch is None or self._file != (st.st_dev, st.st_ino):
                    if self._watch is not None:
                        self._watch.close()
                    # Asked from any thread, one at a time (the lock).
                    self._watch = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                    self._file = (st.st_dev, st.st_ino)
                return self._file, self._watch.execute("PRAGMA data_version").fetchone()[0]
            except (ImportError, *store_errors()):
                # A new connection's data_version may start where the old one's stood: nothing kept is trusted.
                if self._watch is not None:
                    try:
                        self._watch.close()
                    except store_errors():
                        pass
                self._watch, self._file, self._state, self._kept = None, None, None, {}
                return None

    def get(self, key, count: Callable[[], object]):
        """`count()`'s value for `key`: counted now, or kept from a count of the store as it is."""
        before = self.state()
        with self._lock:
            if before is not None and self._state == before and key in self._kept:
                return self._kept[key]
        value = count()
        after = self.state()
        with self._lock:
            if after is not None and after == before:  # nothing committed while counting
                if self._state != after:
                    self._state, self._kept = after, {}
                if len(self._kept) < self.MAX:
                    self._kept[key] = value
        return value
