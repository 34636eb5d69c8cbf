"""MNIST as tensors: the train/validation/test splits, held on a device, batched and standardised."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .mnist import Progress, ensure_mnist

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # pixel statistics of the 60k training images (pytorch/examples)


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
                progress: Progress = lambda msg: None) -> Splits:
    """Official test set; a seeded validation set carved out of the 60,000 training images."""
    from torchvision.datasets import MNIST

    root = ensure_mnist(root, progress)
    train, test = MNIST(str(root), train=True), MNIST(str(root), train=False)
    tr, va = split_indices(len(train.targets), val_size, seed)
    return Splits(
        train=Split(train.data[tr], train.targets[tr]),
        val=Split(train.data[va], train.targets[va]),
        test=Split(test.data, test.targets),
    )


def load_test(root: Path | str | None = None, progress: Progress = lambda msg: None) -> Split:
    """Only the official 10,000 test images (what the app's pages need)."""
    from torchvision.datasets import MNIST

    test = MNIST(str(ensure_mnist(root, progress)), train=False)
    return Split(test.data, test.targets)


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
