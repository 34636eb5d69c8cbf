"""The room's drawings as files: what a stored drawing is (28×28 uint8 pixels, a label 0–9 or NOT_A_DIGIT), the
`.npz` a room is exported to and imported from (`images` uint8 (N, 28, 28), `labels` int (N,)), a canvas's PNG
name and the CSV's cells. An imported file comes from outside: read without pickles, every array checked before
use. digits.drawings is the store that uses them."""

from __future__ import annotations

import collections
import io
import zipfile
from contextlib import closing
from dataclasses import dataclass

import numpy as np

NOT_A_DIGIT = -1            # the label of a drawing people said is not a digit
MAX_IMPORT_BYTES = 64 * 1024 * 1024


class DrawingsError(ValueError):
    """A drawing or a file that cannot be stored or read; the message is one line for a person."""


def pixels_of(image) -> bytes:
    """A drawing's 28×28 as stored: 784 uint8 bytes (uint8 as it is, numbers from 0 to 1 scaled)."""
    a = np.asarray(image)
    if a.shape != (28, 28):
        raise DrawingsError(f"a drawing is a 28×28 image, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.asarray(a, np.float64)
        if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
            raise DrawingsError("a drawing's pixels must be uint8, or numbers from 0 to 1")
        a = (a * 255).round().astype(np.uint8)
    return a.tobytes()


def label_of(label) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not NOT_A_DIGIT <= int(label) <= 9:
        raise DrawingsError(f"a label is a digit 0–9 or {NOT_A_DIGIT} (not a digit), got {label!r}")
    return int(label)


def png_name(drawing_id: int, label: int) -> str:
    return f"{int(drawing_id):05d}-{'not-a-digit' if label == NOT_A_DIGIT else f'label-{int(label)}'}.png"


CSV_COLUMNS = ("id", "created", "session", "label", "model", "predicted", "confidence")


def csv_cell(value) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading = + - @ would make it a formula (OWASP, CSV
    injection), and a model's name comes from a file name someone chose."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_npz(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) from the bytes of a .npz made anywhere, checked: no pickles, the shapes, the types,
    the values, and a bounded size once expanded. DrawingsError with the reason otherwise."""
    if len(data) > MAX_IMPORT_BYTES:
        raise DrawingsError(f"the file is {len(data) >> 20} MB; at most {MAX_IMPORT_BYTES >> 20} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_IMPORT_BYTES or len(z.infolist()) > 16:
                raise DrawingsError("the file expands to too much data")
        with closing(np.load(io.BytesIO(data), allow_pickle=False)) as npz:
            if "images" not in npz.files or "labels" not in npz.files:
                raise DrawingsError("a drawings file holds two arrays, 'images' and 'labels'")
            images, labels = npz["images"], npz["labels"]
    except DrawingsError:
        raise
    except Exception as e:  # not a zip, a pickled object array, a corrupt entry…
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise DrawingsError(f"not a readable .npz file ({reason})") from None
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DrawingsError(f"'images' must be uint8 of shape (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise DrawingsError(f"'labels' must be {len(images)} whole numbers, got {labels.dtype} {labels.shape}")
    if len(labels) and (labels.min() < NOT_A_DIGIT or labels.max() > 9):
        raise DrawingsError(f"labels must be digits 0–9 or {NOT_A_DIGIT} (not a digit)")
    return images, labels.astype(np.int64)


@dataclass(frozen=True)
class Drawing:
    id: int
    created: float
    session: str
    label: int                # 0–9, or NOT_A_DIGIT
    pixels: np.ndarray        # (28, 28) uint8
    model: str | None
    predicted: int | None
    confidence: float | None


class Drawings(list):
    """Drawings read from the store, oldest first, and what was left out: `damaged` rows that break the schema's
    rules (a store written outside the app, without its CHECKs) and `beyond`, older rows past the limit."""

    damaged: int = 0
    beyond: int = 0


# The schema's rules as SQL, for every read of the store: a row that breaks them (a store written outside the app,
# without the table's CHECKs) is left out and counted, never read. SQLite's types are Python's: integer → int,
# real → float, text → str, blob → bytes; a NaN is stored as NULL.
SOUND = """(typeof(id) = 'integer' AND typeof(created) IN ('integer', 'real') AND created >= 0 AND created < 1e11
    AND typeof(session) = 'text' AND typeof(label) = 'integer' AND label BETWEEN -1 AND 9
    AND typeof(pixels) = 'blob' AND length(pixels) = 784 AND (model IS NULL OR typeof(model) = 'text')
    AND (predicted IS NULL OR (typeof(predicted) = 'integer' AND predicted BETWEEN 0 AND 9))
    AND (confidence IS NULL OR typeof(confidence) IN ('integer', 'real')))"""  # created: seconds, before 5138


ROW = "id, created, session, label, pixels, model, predicted, confidence"  # a Drawing's columns


def drawing_of_row(row) -> Drawing:
    """A stored row (ROW's columns, read WHERE SOUND) as a Drawing."""
    i, created, session, label, pixels, model, predicted, confidence = row
    return Drawing(i, created, session, label, np.frombuffer(pixels, np.uint8).reshape(28, 28).copy(), model,
                   predicted, confidence)


def counts_of(rows: list[Drawing]) -> dict[int, int]:
    """{label: how many} of these drawings, NOT_A_DIGIT included, every label present."""
    found = collections.Counter(d.label for d in rows)
    return {label: found[label] for label in range(NOT_A_DIGIT, 10)}
