"""MNIST (or Fashion-MNIST) as tensors: the train/validation/test splits, held on a device, batched and
standardised."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .mnist import Progress, dataset_spec, default_root, ensure_dataset, raw_folder

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # pixel statistics of the 60k training images (pytorch/examples)
# Fashion-MNIST is standardised with these too (its own are about 0.286, 0.353): the networks, checkpoints and
# exports then take the same input for both datasets, and the background 0 maps to the same value.


@dataclass(frozen=True)
class Split:
    """Images as uint8 (N, 28, 28) and labels as int64 (N,), on one device."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device) -> "Split":
        return Split(self.images.to(device), self.labels.to(device))


@dataclass(frozen=True)
class Splits:
    train: Split
    val: Split
    test: Split


def split_indices(n: int, val_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Disjoint (train, val) index sets of range(n); the same seed gives the same split."""
    if not 0 < val_size < n:
        raise ValueError(f"validation size must be between 1 and {n - 1}, got {val_size}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values


def load_splits(val_size: int = 10_000, seed: int = 0, root: Path | str | None = None,
                progress: Progress = lambda msg: None, dataset: str = "mnist") -> Splits:
    """Official test set; a seeded validation set carved out of the 60,000 training images."""
    held = dataset_tensors(dataset, root, progress)
    tr, va = split_indices(len(held["train_labels"]), val_size, seed)
    return Splits(
        train=Split(held["train_images"][tr], held["train_labels"][tr]),
        val=Split(held["train_images"][va], held["train_labels"][va]),
        test=Split(held["test_images"], held["test_labels"]),
    )


def load_test(root: Path | str | None = None, progress: Progress = lambda msg: None,
              dataset: str = "mnist") -> Split:
    """Only the official 10,000 test images (what the app's pages need)."""
    held = dataset_tensors(dataset, root, progress)
    return Split(held["test_images"], held["test_labels"])


CACHE = "digits-uint8.pt"  # in <root>/MNIST (<root>/FashionMNIST), beside raw/: the IDX files as tensors (55 MB)
_read: dict = {}  # the last cache read in this process and its stamp: read once per process, not per call


def mnist_tensors(root: Path | str | None = None, progress: Progress = lambda msg: None) -> dict[str, torch.Tensor]:
    """MNIST's tensors (dataset_tensors)."""
    return dataset_tensors("mnist", root, progress)


def dataset_tensors(dataset: str = "mnist", root: Path | str | None = None,
                    progress: Progress = lambda msg: None) -> dict[str, torch.Tensor]:
    """A dataset's train and test images (uint8, N × 28 × 28) and labels (int64): the verified IDX files as
    torchvision reads them. The first call keeps them as one tensor file beside the files, stamped with
    their sizes and modification times; a later call with the same stamp reads that (0.03 s) instead of
    importing torchvision (1–2.6 s on a 2-core CPU) and checking the MD5 sums again (0.4 s): a training
    process's start-up (README, "Speed")."""
    folder = dataset_spec(dataset).folder  # an unknown name fails here, in one line
    root = Path(root if root is not None else default_root())
    stamp = _stamp(root, dataset)
    # read before in this process (a warm spare, digits.spare)
    if stamp is not None and _read.get("key") == (dataset, root, stamp):
        return dict(_read["tensors"])
    if stamp is not None and (cached := _read_cache(root / folder, stamp)) is not None:
        _read.update(key=(dataset, root, stamp), tensors=cached)
        return dict(cached)
    import torchvision.datasets  # here: seconds to import, needed only when the tensor cache misses

    root = ensure_dataset(dataset, root, progress)
    reader = getattr(torchvision.datasets, folder)  # MNIST or FashionMNIST: the same IDX reader, its own folder
    train, test = reader(str(root), train=True), reader(str(root), train=False)
    tensors = dict(train_images=train.data, train_labels=train.targets, test_images=test.data, test_labels=test.targets)
    try:  # best effort: a read-only data folder only means reading the IDX files each time
        tmp = root / folder / (CACHE + f".{os.getpid()}.tmp")
        torch.save({"stamp": _stamp(root, dataset), **tensors}, tmp)
        os.replace(tmp, root / folder / CACHE)
    except OSError:
        pass
    return tensors


def _stamp(root: Path, dataset: str = "mnist") -> list[list[int]] | None:
    """(size, modification time in ns) of each IDX file; None if one is missing."""
    try:
        return [[(st := (raw_folder(root, dataset) / name).stat()).st_size, st.st_mtime_ns]
                for name in dataset_spec(dataset).md5]
    except OSError:
        return None


def _read_cache(folder: Path, stamp: list) -> dict[str, torch.Tensor] | None:
    """The cached tensors in a dataset's folder if made from files with this very stamp, else None."""
    try:
        cached = torch.load(folder / CACHE, weights_only=True)
    except Exception:  # missing, cut short, or not ours: rebuilt from the IDX files
        return None
    if not isinstance(cached, dict) or cached.pop("stamp", None) != stamp:
        return None
    return cached


def standardize(x: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] → what the networks take: minus the MNIST mean, over its std (a new tensor)."""
    return (x - MNIST_MEAN) / MNIST_STD


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) → float (N, 1, 28, 28) standardised with the MNIST mean and std."""
    return standardize(images.unsqueeze(1).float().div_(255))


def batches(split: Split, batch_size: int, generator: torch.Generator | None = None):
    """(images, labels) slices of a device-resident split; shuffled when a generator is given."""
    n = len(split)
    if generator is None:
        for i in range(0, n, batch_size):
            yield split.images[i:i + batch_size], split.labels[i:i + batch_size]
        return
    order = torch.randperm(n, generator=generator).to(split.labels.device)
    for i in range(0, n, batch_size):
        idx = order[i:i + batch_size]
        yield split.images[idx], split.labels[idx]
