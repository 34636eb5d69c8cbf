"""The room's drawings as training and evaluation data: the split rule, oversampling, a record.

A drawing's part follows from its pixels alone: held out (only ever measured, the honest figure), validation
(with MNIST's validation split, chooses a run's best checkpoint) or train. It comes through a fixed salted hash: the
same drawing is in the same part in every run, whatever else is stored, whatever the run's seed. So a chain of
fine-tunes (a checkpoint trained on the room, fine-tuned again later) is never evaluated on a drawing
that any run before it trained on, and two identical drawings never sit on both sides. The store keeps
the drawings (digits.drawings); here they become `Split`s like MNIST's.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from .data import Split

HELD_OUT = 0.25            # share of the room's drawings never trained on nor chosen by: the figure reported
VALIDATION = 0.15          # share that, with MNIST's validation images, chooses the run's best model
SALT = b"digits-room-v1"   # changing it would reshuffle every room's split: never do it for a live room


PARTS = ("held_out", "val", "train")


def part(pixels: np.ndarray) -> str:
    """The part a drawing (28×28 uint8, as stored) belongs to: "held_out", "val" or "train"."""
    digest = hashlib.sha256(SALT + np.ascontiguousarray(pixels, np.uint8).tobytes()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1), fixed by the pixels
    return "held_out" if u < HELD_OUT else "val" if u < HELD_OUT + VALIDATION else "train"


def as_split(drawings) -> Split:
    """The digit drawings (not the "not a digit" ones) as a Split: uint8 images (N, 28, 28), labels (N,).
    `drawings` is a list of digits.drawings.Drawing, or (images, labels) arrays."""
    if isinstance(drawings, tuple):
        images, labels = np.asarray(drawings[0], np.uint8), np.asarray(drawings[1], np.int64)
    else:
        images = np.stack([d.pixels for d in drawings]) if drawings else np.zeros((0, 28, 28), np.uint8)
        labels = np.array([d.label for d in drawings], np.int64)
    keep = labels >= 0
    return Split(torch.from_numpy(np.ascontiguousarray(images[keep])), torch.from_numpy(labels[keep]))


def fingerprint(split: Split) -> str:
    """A SHA-256 of a set of labelled drawings, independent of their order: which drawings a run saw."""
    items = sorted(hashlib.sha256(bytes([int(y)]) + x.numpy().tobytes()).digest()
                   for x, y in zip(split.images.cpu(), split.labels.cpu()))
    return hashlib.sha256(b"".join(items)).hexdigest()


@dataclass(frozen=True)
class Room:
    """The room's digit drawings, split (see `part`): `train` to learn from, `val` to choose the best model
    with, `held_out` only to measure on."""

    train: Split
    val: Split
    held_out: Split

    @classmethod
    def of(cls, drawings) -> "Room":
        split = as_split(drawings)
        parts = np.array([part(x) for x in split.images.numpy()], dtype=object)
        def pick(name):
            return torch.from_numpy(parts == name) if len(parts) else torch.zeros(0, dtype=torch.bool)

        return cls(*(Split(split.images[pick(p)], split.labels[pick(p)]) for p in ("train", "val", "held_out")))

    def record(self) -> dict:
        """What a checkpoint keeps of the drawings a run saw: how many, and which (a hash of the set)."""
        return {"room_train": len(self.train), "room_val": len(self.val), "room_held_out": len(self.held_out),
                "room_sha256": fingerprint(self.train)}


def repeats(room_images: int, mnist_images: int, share: float) -> int:
    """How many copies of each room drawing make them `share` of an epoch of MNIST plus the copies: a few
    hundred drawings next to 50,000 images would otherwise be a rounding error in the loss."""
    if room_images == 0:
        return 0
    return max(1, math.ceil(share * mnist_images / ((1 - share) * room_images)))


def with_room(train: Split, room: Split, share: float) -> Split:
    """MNIST's training split plus the room's training drawings, repeated to make `share` of it."""
    k = repeats(len(room), len(train), share)
    if k == 0:
        return train
    images = torch.cat([train.images, room.images.to(train.images.device).repeat(k, 1, 1)])
    labels = torch.cat([train.labels, room.labels.to(train.labels.device).repeat(k)])
    return Split(images, labels)
