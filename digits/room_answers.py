"""What each checkpoint reads in each of the room's drawings, read once and kept in the drawings store beside the
drawings (the table `readings`, keyed by the checkpoint file's fingerprint and the drawing's id): a Room view reads
only the drawings that are new since the last one, and every session and every server process that opens the
store shares what one of them read. digits.room_view counts them with SQL.

A reading is the network's own answer for the stored 28×28: one view, the argmax of its logits (the temperature
does not change it), as the MNIST test accuracy beside it on the Room page is measured. classify's nine views (the
Draw page's reading) read 0.07–0.25 points more of MNIST's test set right, at nine times the cost: for 20,000
drawings 25 s of one core for LeNet-5 instead of 2.4 s (docs/workshop.md). The drawing's creation time is kept
with its reading: SQLite may give a deleted drawing's id to a new drawing, whose reading is then missing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .catalog import file_sha256
from .data import Split
from .drawing_formats import SOUND
from .drawings import MAX_DRAWINGS, guarded, read_only, store_errors
from .evaluate import logits_of
from .room import part

# The columns' names differ from the drawings table's: the queries join the two without naming the tables.
COLUMNS = """(
    checkpoint TEXT    NOT NULL,  -- fingerprint(): the checkpoint file's SHA-256 / READING
    drawing    INTEGER NOT NULL,  -- drawings.id
    drawn      REAL    NOT NULL,  -- drawings.created of that drawing: an id given again is another drawing
    digit      INTEGER NOT NULL,  -- the network's answer, 0–9
    held_out   INTEGER NOT NULL,  -- 1 when digits.room.part puts the drawing in the held-out quarter
    PRIMARY KEY (checkpoint, drawing)
) WITHOUT ROWID"""
READING = 2  # bump when a reading changes (2: one view, the digit; 1 kept nine views' log-probabilities)
BATCH = 2000  # drawings read and kept in one go: memory stays small, and a view shows progress in steps
# `readings r` is the reading of `drawings d` by the checkpoint of the one parameter: `LEFT JOIN readings r ON {MATCH}`.
MATCH = ("r.checkpoint = ? AND r.drawing = d.id AND r.drawn = d.created AND typeof(r.digit) = 'integer' "
         "AND r.digit BETWEEN 0 AND 9")
_locks: dict[str, threading.Lock] = {}  # one a checkpoint: three sessions opening Room at once read once
_locks_lock = threading.Lock()


def fingerprint(path: Path | str) -> str:
    """What the readings of a checkpoint file are kept under: the file's SHA-256 (digits.catalog.file_sha256) and
    READING, the version of how a drawing is read."""
    return f"{file_sha256(path)}/{READING}"


@guarded
def ready(db: sqlite3.Connection) -> bool:
    """Make sure of the readings table; False when the store cannot be written (a read-only file, a database role
    that may only read): then nothing is kept and the Room page shows no answers. Other failures (a store busy
    for longer than its timeout) are DrawingsErrors: never a table of half the readings."""
    try:
        db.execute(f"CREATE TABLE IF NOT EXISTS main.readings {COLUMNS}")
        db.execute("DELETE FROM main.readings WHERE 1 = 0")  # fails when the store cannot be written
        db.execute("DROP TABLE IF EXISTS main.answers")  # READING 1's table
        return True
    except store_errors() as e:
        if read_only(e):
            return False
        raise


@guarded
def read_missing(db: sqlite3.Connection, model: nn.Module, checkpoint: str, floor: int = -(2**63)) -> int:
    """Read the room's drawings (those keeping the schema's rules, from id `floor` up: digits.drawings.extent)
    that `model`, whose file's fingerprint is `checkpoint`, has no kept reading of, and keep them; how many were
    read. Call `ready` first."""
    with _locks_lock:
        lock = _locks.setdefault(checkpoint, threading.Lock())
    read = 0
    with lock:
        for _ in range(MAX_DRAWINGS // BATCH + 2):  # bounded: a store that cannot keep them is read once
            rows = db.execute(f"SELECT id, created, pixels FROM drawings d WHERE {SOUND} AND id >= ? AND NOT EXISTS "
                              f"(SELECT 1 FROM readings r WHERE {MATCH}) ORDER BY id DESC LIMIT ?",
                              (floor, checkpoint, BATCH)).fetchall()
            if not rows:
                break
            read += len(rows)
            if not _keep(db, checkpoint, rows, _digits(model, rows)) or len(rows) < BATCH:
                break
    return read


def _digits(model: nn.Module, rows: list[tuple]) -> np.ndarray:
    images = torch.from_numpy(np.frombuffer(b"".join(r[2] for r in rows), np.uint8).reshape(-1, 28, 28).copy())
    return logits_of(model, Split(images, torch.zeros(len(images), dtype=torch.int64))).argmax(1).numpy()


def _keep(db: sqlite3.Connection, checkpoint: str, rows: list[tuple], digits: np.ndarray) -> bool:
    """Keep a batch of readings in one transaction (the store's connections are in autocommit mode); False when
    the store took none (full, or locked for longer than its timeout)."""
    try:
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?, ?)",
                       [(checkpoint, i, created, int(digit), int(part(np.frombuffer(pixels, np.uint8)) == "held_out"))
                        for (i, created, pixels), digit in zip(rows, digits)])
        db.execute("COMMIT")
        return True
    except store_errors():
        if db.in_transaction:
            db.execute("ROLLBACK")
        return False


@guarded
def forget_deleted(db: sqlite3.Connection) -> int:
    """Drop the readings of drawings that are no longer in the store; how many."""
    if not ready(db):
        return 0
    return db.execute("DELETE FROM readings WHERE drawing NOT IN (SELECT id FROM drawings)").rowcount
