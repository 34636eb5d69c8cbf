"""Helpers the tests share: small learnable fake data, a drawn shape, a pickle that would run code, the CLI as a
subprocess, a random not-a-digit detector, a room of calculator-style digits."""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from digits import build_model, classify
from digits.data import Split
from digits.detector import Detector
from digits.handdrawn import drawn_digits
from digits.room import Room

ROOT = Path(__file__).resolve().parents[1]


def synthetic_split(n: int, seed: int) -> Split:
    """Learnable fake digits: class k is a bright bar at row 2 + 2k on a noisy background."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = torch.randint(0, 40, (n, 28, 28), generator=g, dtype=torch.uint8)
    for i, k in enumerate(labels.tolist()):
        images[i, 2 + 2 * k: 4 + 2 * k, 4:24] = 255
    return Split(images, labels)


class WritesMarker:
    """Unpickling this object would run code (create a file): a stand-in for a malicious pickle."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def evil_checkpoint(tmp_path):
    """A checkpoint-shaped pickle whose loading would create a marker file: (file, marker)."""
    marker, evil = tmp_path / "code-ran", tmp_path / "evil.pt"
    torch.save({"format": "digits-checkpoint-v1", "model": "cnn", "state_dict": WritesMarker(marker)}, evil,
               pickle_module=pickle)
    return evil, marker


def draw_digit(kind: str = "ring", size: int = 280, box=(60, 60, 220, 220), width: int = 18,
               style: str = "white-on-black") -> np.ndarray:
    """An RGBA canvas image (size×size×4 uint8) with a shape drawn in the given box, like st_canvas returns."""
    from PIL import Image, ImageDraw

    from digits.handdrawn import as_canvas

    ink = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(ink)
    if kind == "ring":
        d.ellipse(box, outline=255, width=width)
    elif kind == "bar":
        x0, y0, x1, y1 = box
        d.line([((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1)], fill=255, width=width)
    return as_canvas(np.asarray(ink), style)


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "digits", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def a_detector(size: int, threshold: float, seed: int = 0) -> Detector:
    """A random head on `size` features (32 hidden units) with its threshold: plain data for the checkpoint tests."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    return Detector(r(size), r(size).abs() + 0.5, r(32, size), r(32), r(32), r(()), threshold)


def segment_room(per_digit: int, model) -> Room:
    """A room where everyone draws calculator-style digits (digits.handdrawn's "segments" hand), stored as the
    Draw page stores them: the 28×28 the network saw."""
    drawn = drawn_digits(per_digit, seed=7, hand="segments")
    pixels = np.stack([(classify(model, d.image).input * 255).round().astype(np.uint8) for d in drawn])
    return Room.of((pixels, np.array([d.digit for d in drawn])))


def store_without_checks(path, good_pixels, bad_rows: int = 2):
    """A drawings store as a tool outside the app could write it: the table without its CHECKs, one good row
    (label 3) and `bad_rows` that break the rules (1-byte pixels, label 99, a creation time in words)."""
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("CREATE TABLE drawings (id INTEGER PRIMARY KEY, created REAL, session TEXT, label INTEGER, pixels BLOB, "
               "png BLOB, model TEXT, predicted INTEGER, confidence REAL)")
    db.execute("INSERT INTO drawings VALUES (1, 1.0, 's', 3, ?, NULL, 'lenet5.pt', 3, 0.9)", (good_pixels,))
    bad = [(2, 1.0, "s", 3, b"\x00", None, None, None, None), (3, 1.0, "s", 99, bytes(784), None, None, None, None),
           (4, "yesterday", "s", 1, bytes(784), None, None, None, None)]
    db.executemany("INSERT INTO drawings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", bad[:bad_rows])
    db.commit()
    db.close()


# ---- what the tests of digits.inside, digits.explain and digits.robustness share (their fixtures, a drawn 7 and the
# shipped models, are in tests/conftest.py)

MEAN, STD = 0.1307, 0.3081  # MNIST's pixel statistics, as pytorch/examples normalises
MODELS = pytest.mark.parametrize("name, trained", [("lenet5", True), ("lenet5", False), ("cnn", True), ("cnn", False)])


def untrained(name: str):
    torch.manual_seed(0)
    return build_model(name).eval()


def model_of(shipped, name: str, trained: bool):
    return shipped[name] if trained else untrained(name)


def standardised(image: np.ndarray) -> torch.Tensor:
    return ((torch.tensor(image, dtype=torch.float64) - MEAN) / STD).view(1, 1, 28, 28)


def logits_of(model, images: list[np.ndarray]) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.cat([standardised(i) for i in images]).float()).double()
