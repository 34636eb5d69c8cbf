"""What a training batch is made of: MNIST's training images, the room's drawings mixed in (config.drawings,
digits.room), digits drawn in the forms people write them (config.drawn_digits, digits.letterforms) and made-up
non-digits (config.not_digits, digits.negatives) — all on the run's device, batches being slices of it (airbench's
way), drawn with the run's seeded generator."""

from __future__ import annotations

import math
from contextlib import closing
from typing import Iterator

import torch

from . import drawings, events as ev, letterforms
from .config import TrainConfig
from .data import Splits, batches
from .negatives import KINDS, negatives
from .preprocess import inputs_of
from .room import Room, with_room

# Outlier exposure (Hendrycks, Mazeika & Dietterich, ICLR 2019): the made-up drawings the not-digit pool is made of.
NOT_DIGITS_PER_KIND = 2000   # digits.negatives drawings of each kind (16,000; ~50 s to draw and read on a 2-core CPU)
DRAWN_PER_FORM = 800         # digits.letterforms drawings of each form (20,000; ~35 s on a 2-core CPU)


def room_of(config: TrainConfig, room: Room | None) -> Room | None:
    """The room's drawings for a run with config.drawings: `room`, else the store's (digits.drawings)."""
    if not config.drawings:
        return None
    if room is None:
        with closing(drawings.connect()) as db:
            room = Room.of(drawings.drawings(db))
    if not len(room.train):
        raise ValueError("the room has no digit drawings to learn from yet: draw on the Draw page and say which digit "
                         "each one is, or import some on the Room page")
    return room


def not_digit_pool(seed: int, per_kind: int | None = None) -> torch.Tensor:
    """uint8 (N, 28, 28): digits.negatives drawings as digits.classify reads them (digits.preprocess.to_mnist),
    drawn with their own seeds (not the detector's)."""
    return inputs_of(negatives(per_kind or NOT_DIGITS_PER_KIND, 9000 + seed)).mul(255).round().to(torch.uint8)


class BatchSource:
    """A run's data on its device: `train` (MNIST plus the room's training drawings, repeated to their share),
    `val` and `test` (MNIST's), the room's `room_val` and `held_out` (None without them), and the batches."""

    def __init__(self, config: TrainConfig, splits: Splits, room: Room | None, device: torch.device):
        if config.batch_size > len(splits.train):
            raise ValueError(f"batch size {config.batch_size} is larger than the {len(splits.train)} training images")
        self.config, self.splits, self.room, self.device = config, splits, room, device
        mixed = with_room(splits.train, room.train, config.room_share) if room else splits.train
        self.train, self.val, self.test = (s.to(device) for s in (mixed, splits.val, splits.test))
        self.held_out = room.held_out.to(device) if room and len(room.held_out) else None
        self.room_val = room.val.to(device) if room and len(room.val) else None
        self.per_epoch = math.ceil(len(self.train) / config.batch_size)
        self.gen = torch.Generator().manual_seed(config.seed)  # the order, the non-digits picked, the augmentations
        self.extra = round(config.not_digits * config.batch_size)  # non-digits a batch: none for a share rounding to 0
        self.extra_drawn = round(config.drawn_digits * config.batch_size)  # drawn digits a batch, likewise
        self.pool: torch.Tensor | None = None
        self.drawn: tuple[torch.Tensor, torch.Tensor] | None = None  # digits.letterforms' images and labels

    @property
    def augment(self) -> torch.Generator | None:
        return self.gen if self.config.augment else None

    @property
    def rough(self) -> torch.Generator | None:
        return self.gen if self.config.roughen else None

    def preparing(self, elapsed: float) -> Iterator[ev.Preparing]:
        """Preparing, in a run with non-digits or drawn digits: drawing them takes a while (`prepare` draws them)."""
        if self.extra or self.extra_drawn:
            yield ev.Preparing(elapsed, NOT_DIGITS_PER_KIND * len(KINDS) * bool(self.extra),
                               DRAWN_PER_FORM * letterforms.COUNT * bool(self.extra_drawn))

    def prepare(self) -> None:
        """Draw the non-digits' pool (digits.negatives) and the drawn digits' (digits.letterforms), in a run that has
        them; each with its own seeds."""
        if self.extra:
            self.pool = not_digit_pool(self.config.seed).to(self.device)
        if self.extra_drawn:
            self.drawn = tuple(t.to(self.device) for t in letterforms.pool(DRAWN_PER_FORM, 7000 + self.config.seed))

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
        """One epoch of (images, labels, non-digits or None): uint8 images (B [+ drawn], 28, 28) and (K, 28, 28)."""
        for images, labels in batches(self.train, self.config.batch_size, self.gen):
            if self.drawn is not None:
                at = torch.randint(len(self.drawn[1]), (self.extra_drawn,), generator=self.gen).to(self.device)
                images, labels = torch.cat([images, self.drawn[0][at]]), torch.cat([labels, self.drawn[1][at]])
            pick = None if self.pool is None else torch.randint(len(self.pool), (self.extra,), generator=self.gen)
            yield images, labels, None if pick is None else self.pool[pick.to(self.device)]
