"""Fitting the not-a-digit detector (digits.detector) on the classifier's features: digits against made-up
drawings that are not digits, and the threshold from sets it was not fitted on. What it is fitted on and why is
in digits.detector's docstring; the CLI's `detector` verb calls `fit`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .data import standardize
from .detector import DETECTOR_FIELDS, Detector, features
from .handdrawn import STYLES, as_canvas, drawn_digits
from .models import inference_batch
from .negatives import digits_drawn, negatives, worn
from .preprocess import inputs_of, to_mnist

HIDDEN = 64                 # tanh units of the head
EPOCHS = 400                # full-batch Adam steps (~60 s on one CPU thread)
LEARNING_RATE = 1e-2
WEIGHT_DECAY = 1e-3
FALSE_ALARMS = 0.01         # share of each threshold set's digits the detector alone may flag
MNIST_DIGITS = 20_000       # MNIST training images it is fitted on (a seeded sample of the training split)
ON_CANVAS = 30_000          # the rest of the training split, fitted on as classify sees them on a canvas, half worn
ON_CANVAS_SHOWN = 3_000     # validation images put on a canvas for the figures fit reports (not for the threshold)
DRAWN = 600                 # digits.negatives' worn drawn digits of each digit it is fitted on
NEGATIVES = 3000            # digits.negatives drawings of each kind it is fitted on (24,000 with the letters)
# The three sizes were 10,000, 300 and 1,000 until 2026-12-03: tripled, the detectors flag fewer digits put on a
# canvas (3,000 validation digits, half worn: 3.1% → 1.8% LeNet-5, 1.9% → 1.0% CNN) and about as many non-digits.


@dataclass(frozen=True)
class Fitted:
    """A fitted detector and what it flags (detector alone) on sets it was not fitted on."""
    detector: Detector
    flagged: dict[str, float]   # set name → share flagged by the detector alone


def _features_of(model: nn.Module, images: torch.Tensor, batch: int = 4000) -> torch.Tensor:
    """Detector features of (N, 28, 28) images in [0, 1]."""
    batch = inference_batch(model, batch)
    with torch.inference_mode():
        return torch.cat([features(model, standardize(images[i:i + batch].float()).view(-1, 1, 28, 28))[1]
                          for i in range(0, len(images), batch)])


def on_canvas(images: torch.Tensor, seed: int, worn_share: float = 0.5, canvas: int = 280) -> torch.Tensor:
    """The 28×28 inputs digits.classify makes of uint8 (N, 28, 28) images put on a canvas: each enlarged so that
    its 20-px box spans 30–90% of the canvas, placed anywhere, in the canvas styles in turn, `worn_share` of them
    worn as a poor copy (digits.negatives.worn). One at a time: a canvas is 300 KB."""
    rng = np.random.default_rng(seed)
    out = []
    for i, image in enumerate(images.numpy()):
        side = min(int(rng.uniform(0.3, 0.9) * canvas * 28 / 20), canvas)
        ink = np.zeros((canvas, canvas), np.uint8)
        y, x = rng.integers(0, canvas - side + 1, 2)
        ink[y:y + side, x:x + side] = np.asarray(Image.fromarray(image).resize((side, side), Image.BILINEAR))
        if rng.random() < worn_share:
            ink = worn(ink, rng)
        made = to_mnist(as_canvas(ink, STYLES[i % len(STYLES)]))
        if made is not None:
            out.append(made)
    return torch.from_numpy(np.stack(out)) if out else torch.zeros(0, 28, 28)  # a small training split leaves none


def fit(model: nn.Module, train_images: torch.Tensor, val_images: torch.Tensor, seed: int = 0) -> Fitted:
    """Fit a detector to `model` (the classifier is left as it is). train_images / val_images: MNIST's
    training and validation splits, uint8 (N, 28, 28). Deterministic for a seed."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(train_images), generator=g)
    mnist = train_images[order[:MNIST_DIGITS]].float() / 255
    drawn = on_canvas(train_images[order[MNIST_DIGITS:MNIST_DIGITS + ON_CANVAS]], seed + 31)
    digits = _features_of(model, torch.cat([mnist, drawn, inputs_of(digits_drawn(DRAWN, seed + 21, worn_share=1.0))]))
    others = _features_of(model, inputs_of(negatives(NEGATIVES, seed + 100)))
    mean, std = digits.mean(0), digits.std(0) + 1e-6
    x = (torch.cat([digits, others]) - mean) / std
    y = torch.cat([torch.zeros(len(digits)), torch.ones(len(others))]).double()
    weight = torch.cat([torch.full((len(digits),), 0.5 / len(digits)),
                        torch.full((len(others),), 0.5 / len(others))]).double()
    torch.manual_seed(seed)
    head = nn.Sequential(nn.Linear(x.shape[1], HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, 1)).double()
    opt = torch.optim.Adam(head.parameters(), LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    for _ in range(EPOCHS):  # both classes weigh the same, however many of each
        opt.zero_grad()
        (F.binary_cross_entropy_with_logits(head(x)[:, 0], y, reduction="none") * weight).sum().backward()
        opt.step()
    det = Detector(mean, std, head[0].weight.detach(), head[0].bias.detach(), head[2].weight.detach()[0],
                   head[2].bias.detach()[0], 0.0)
    # The threshold: FALSE_ALARMS of the digits of each set it was not fitted on; the highest of the three.
    held = {"validation digits": _features_of(model, val_images.float() / 255),
            "drawn digits": _features_of(model, inputs_of(drawn_digits(50, seed + 11))),
            "worn drawn digits": _features_of(model, inputs_of(digits_drawn(50, seed + 22)))}
    threshold = max(float(torch.quantile(det.score(f), 1 - FALSE_ALARMS)) for f in held.values())
    det = Detector(*(getattr(det, n) for n in DETECTOR_FIELDS), threshold)
    shown = on_canvas(val_images[:ON_CANVAS_SHOWN], seed + 41)
    held["validation digits on a canvas, half worn"] = _features_of(model, shown)
    held["drawn non-digits"] = _features_of(model, inputs_of(negatives(100, seed + 101)))
    return Fitted(det, {name: float((det.score(f) > threshold).double().mean()) for name, f in held.items()})
