"""The room's collection as files: exported as a `.npz` of the 28×28s and labels, a zip of the canvases as drawn
(PNG) and a CSV of the rest of each row, and imported from a `.npz` made anywhere (checked by
digits.drawing_formats.read_npz). Every read leaves out the rows that break the schema's rules (SOUND)."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
import zipfile
from datetime import UTC, datetime

import numpy as np

from .drawing_formats import CSV_COLUMNS, ROW, SOUND, DrawingsError, csv_cell, drawing_of_row, png_name, read_npz
from .drawings import MAX_DRAWINGS, drawings, guarded, rollback


@guarded
def export_npz(db: sqlite3.Connection, path) -> int:
    """Write `images` (N, 28, 28) uint8 and `labels` (N,) int64 to a .npz (a path or a binary file); how many."""
    rows = drawings(db)
    images = np.stack([d.pixels for d in rows]) if rows else np.zeros((0, 28, 28), np.uint8)
    np.savez_compressed(path, images=images, labels=np.array([d.label for d in rows], np.int64))
    return len(rows)


@guarded
def export_pngs(db: sqlite3.Connection) -> bytes:
    """A zip of every stored canvas, one PNG a drawing named by its id and label (see png_name). Drawings
    without one (imported from a .npz) are left out: their 28×28 images are in the .npz export."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:  # PNGs are compressed already
        for i, label, data in db.execute(f"SELECT id, label, png FROM drawings WHERE {SOUND} AND typeof(png) = 'blob' "
                                         "ORDER BY id"):  # a damaged row: left out
            z.writestr(png_name(i, label), data)
    return out.getvalue()


@guarded
def export_csv(db: sqlite3.Connection) -> str:
    """Every drawing's row but its images, as CSV: id, created (ISO 8601, UTC), session, label (-1: not a
    digit), model, predicted, confidence."""
    out = io.StringIO()
    # Every cell quoted: a spreadsheet also starts a row at a bare CR, which the csv module quotes only when it is
    # the line terminator; unquoted, "\r=1" in a model's name became a row starting with a live formula.
    w = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writerow(CSV_COLUMNS)
    for row in db.execute(f"SELECT {ROW} FROM drawings WHERE {SOUND} ORDER BY id"):  # a damaged row: left out
        d = drawing_of_row(row)
        when = datetime.fromtimestamp(d.created, UTC).isoformat(timespec="seconds")
        w.writerow([d.id, when, csv_cell(d.session), d.label, csv_cell(d.model), csv_cell(d.predicted),
                    "" if d.confidence is None else f"{d.confidence:.4f}"])
    return out.getvalue()


@guarded
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
        rollback(db)
        raise
    return len(new), len(images) - len(new)
