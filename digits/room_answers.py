"""What each checkpoint answers for each of the room's drawings, read once and kept in the drawings store beside
the drawings, keyed by (the checkpoint file's SHA-256, the drawing's id): a Room view reads only what is new since
the last one, so its cost follows the new drawings, not the whole room, and every session and every server
process that opens the store shares what one of them read.

The answers are classify's (digits.reading.answers_of: nine views, the temperature), as log-probabilities in
float64, the numbers the Room page counted before they were kept. A digest of the drawing's pixels is kept with
each answer: SQLite may give a deleted drawing's id to a new one, and an answer is only reused for its pixels."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .catalog import file_sha256
from .drawing_formats import Drawing
from .reading import answers_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    checkpoint TEXT    NOT NULL,  -- SHA-256 of the checkpoint file / READING
    drawing    INTEGER NOT NULL,  -- drawings.id
    pixels     BLOB    NOT NULL,  -- BLAKE2b-64 of the drawing's 784 pixels
    logp       BLOB    NOT NULL,  -- (10,) float64 log-probabilities, as classify reads the drawing
    PRIMARY KEY (checkpoint, drawing)
) WITHOUT ROWID
"""
READING = 1  # bump when digits.reading reads differently (its views, the temperature): kept answers are not reused
BATCH = 2000  # drawings read and written in one go: memory stays small, and a view shows progress in steps
_locks: dict[str, threading.Lock] = {}  # one a checkpoint: three sessions opening Room at once read once
_locks_lock = threading.Lock()


def fingerprint(path: Path | str) -> str:
    """What the answers of a checkpoint file are kept under: the file's SHA-256 (digits.catalog.file_sha256) and
    READING, the version of how classify reads."""
    return f"{file_sha256(path)}/{READING}"


def _digest(d: Drawing) -> bytes:
    return hashlib.blake2b(d.pixels.tobytes(), digest_size=8).digest()


def _known(db: sqlite3.Connection, checkpoint: str) -> dict[int, tuple[bytes, bytes]]:
    """The kept answers of a checkpoint; none from a store that cannot keep them (read-only, locked, a table
    written by something else): then every drawing is read, as before answers were kept."""
    try:
        db.execute(SCHEMA)
        rows = db.execute("SELECT drawing, pixels, logp FROM answers WHERE checkpoint = ?", (checkpoint,)).fetchall()
    except sqlite3.Error:
        return {}
    return {d: (p, lp) for d, p, lp in rows
            if isinstance(lp, bytes) and len(lp) == 80 and np.isfinite(np.frombuffer(lp, np.float64)).all()}


def answers(db: sqlite3.Connection, model: nn.Module, checkpoint: str, rows: list[Drawing]) -> np.ndarray:
    """(len(rows), 10) float64 log-probabilities of `model` (whose file's fingerprint is `checkpoint`) for the
    drawings, in their order: those kept are read, the others are read by the model in batches and kept. A store
    that cannot be written (read-only, full) only means reading them again next time."""
    with _locks_lock:
        lock = _locks.setdefault(checkpoint, threading.Lock())
    with lock:
        known = _known(db, checkpoint)
        out = np.empty((len(rows), 10), np.float64)
        missing = []
        for k, d in enumerate(rows):
            hit = known.get(d.id)
            if hit is not None and hit[0] == _digest(d):
                out[k] = np.frombuffer(hit[1], np.float64)
            else:
                missing.append(k)
        for start in range(0, len(missing), BATCH):
            chunk = missing[start:start + BATCH]
            images = torch.from_numpy(np.stack([rows[k].pixels for k in chunk]))
            out[chunk] = answers_of(model, images).probs.clamp_min(1e-300).log().numpy()
            _keep(db, checkpoint, [(rows[k], out[k]) for k in chunk])
        return out


def _keep(db: sqlite3.Connection, checkpoint: str, read: list[tuple[Drawing, np.ndarray]]) -> None:
    """Keep a batch of answers in one transaction (the store's connections are in autocommit mode)."""
    try:
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                       [(checkpoint, d.id, _digest(d), logp.astype(np.float64).tobytes()) for d, logp in read])
        db.execute("COMMIT")
    except sqlite3.Error:
        if db.in_transaction:
            db.execute("ROLLBACK")


def forget_deleted(db: sqlite3.Connection) -> int:
    """Drop the answers of drawings that are no longer in the store; how many."""
    db.execute(SCHEMA)
    return db.execute("DELETE FROM answers WHERE drawing NOT IN (SELECT id FROM drawings)").rowcount
