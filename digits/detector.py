"""Not a digit: a small head on the classifier's own features that says when a drawing is unlike any digit.

A classifier trained on MNIST must answer 0–9 for anything, often confidently (an X read as an 8 at 98%).
Its hidden layers still see the difference: this detector reads every one of them — each convolutional map
after its activation averaged over space, each fully connected hidden layer as it is (LeNet-5: 164 values from
C1–C5's maps and F6's 84; the CNN: 18 from its maps and Linear-1–3's 140 + 80 + 40) — plus the top probability
and the energy −logsumexp(logits) (Liu et al. 2020; both at T = 1, so that calibrating the checkpoint
afterwards leaves the detector as it was fitted), and a one-hidden-layer network (64 tanh units) turns them
into one score. The classifier's weights are not touched.

It is fitted (`fit`, the CLI's `detector`) on digits — MNIST training images as they are, further training
images put on a 280×280 canvas (any size and place, every canvas style, half of them worn as a poor copy
shows them: digits.negatives.worn) and read back through digits.preprocess.to_mnist exactly as classify reads
a drawing, and digits drawn with digits.handdrawn's skeletons, worn — against digits.negatives' random
strokes, shapes, scribbles and letter-like combinations, clean and worn. Without the worn digits it learnt
that wear itself means "not a digit"; without the canvas round trip, that the small changes centring and
resizing make to a digit do (the detector alone flagged 2–6% of MNIST validation digits put on a canvas).
The threshold is the score that flags 1% of the digits of each of three sets it was not fitted on — the
validation split, digits.handdrawn's drawings and digits.negatives' worn digits — whichever is highest.
Nothing from digits.heldout is used: that is the independent measure.

Plain data: the tensors of DETECTOR_FIELDS, kept in the checkpoint under "detector" (digits.checkpoint
validates them), and the threshold as metrics.detector_threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import standardize
from .models import run_stages

HIDDEN = 64                 # tanh units of the head
EPOCHS = 400                # full-batch Adam steps (~60 s on one CPU thread)
LEARNING_RATE = 1e-2
WEIGHT_DECAY = 1e-3
FALSE_ALARMS = 0.01         # share of each threshold set's digits the detector alone may flag
MNIST_DIGITS = 20_000       # MNIST training images it is fitted on (a seeded sample of the training split)
ON_CANVAS = 30_000          # the rest of the training split, fitted on as classify sees them drawn on a canvas, half worn
ON_CANVAS_SHOWN = 3_000     # validation images put on a canvas for the figures fit reports (not for the threshold)
DRAWN = 600                 # digits.negatives' worn drawn digits of each digit it is fitted on
NEGATIVES = 3000            # digits.negatives drawings of each kind it is fitted on (21,000)
# The three sizes were 10,000, 300 and 1,000 until 2026-12-03: tripled, the detectors flag fewer digits put on a
# canvas (3,000 validation digits, half worn: 3.1% → 1.8% LeNet-5, 1.9% → 1.0% CNN) and about as many non-digits.
DETECTOR_FIELDS = ("mean", "std", "w1", "b1", "w2", "b2")  # the checkpoint's "detector" mapping: name → tensor


def features(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits (N, 10), detector features (N, D), both float64 on the CPU) of standardised images
    (N, 1, 28, 28), in one forward pass:
    what every activation gives — a convolutional map averaged over space, a fully connected layer's values as
    they are — then the top probability and the energy (of the logits as they are: T = 1)."""
    stages = model.stages()
    seen, h = [], x
    for stage in stages[:-1]:
        h = stage.fn(h)
        if stage.fn in (torch.tanh, F.relu):  # after an activation: (N, C, H, W) maps or (N, K) values
            seen.append(h.mean((2, 3)) if h.dim() == 4 else h)
    z = run_stages(stages[-1:], h).float().cpu().double()  # float64 on the CPU: not every device has it (Apple's MPS)
    extra = torch.stack([torch.softmax(z, 1).max(1).values, -torch.logsumexp(z, 1)], 1)
    return z, torch.cat([*(s.float().cpu() for s in seen), extra.float()], 1).double()


def feature_size(model: nn.Module) -> int:
    with torch.inference_mode():
        return features(model, torch.zeros(1, 1, 28, 28))[1].shape[1]


@dataclass(frozen=True)
class Detector:
    """The head and its threshold: score(features) > threshold means "not a digit"."""
    mean: torch.Tensor       # (D,) float64: the features' mean and spread on the digits it was fitted on
    std: torch.Tensor        # (D,)
    w1: torch.Tensor         # (HIDDEN, D)
    b1: torch.Tensor         # (HIDDEN,)
    w2: torch.Tensor         # (HIDDEN,)
    b2: torch.Tensor         # () the output's bias
    threshold: float         # scores above it are flagged

    def score(self, f: torch.Tensor) -> torch.Tensor:
        """(N,) float64 scores for (N, D) features: higher is less like a digit (a logit)."""
        h = torch.tanh(F.linear((f.double() - self.mean) / self.std, self.w1, self.b1))
        return h @ self.w2 + self.b2

    def tensors(self) -> dict[str, torch.Tensor]:
        """What the checkpoint keeps under "detector" (the threshold goes into its metrics)."""
        return {name: getattr(self, name).detach().double().cpu().clone() for name in DETECTOR_FIELDS}


def from_tensors(tensors: dict, threshold: float, size: int) -> Detector:
    """A Detector from a checkpoint's "detector" mapping; ValueError (one line) unless every field is a finite
    float tensor of the shape a head on `size` features has."""
    if not isinstance(tensors, dict) or set(tensors) != set(DETECTOR_FIELDS):
        raise ValueError(f"detector must map exactly {', '.join(DETECTOR_FIELDS)} to tensors")
    hidden = tensors["w1"].shape[0] if isinstance(tensors["w1"], torch.Tensor) and tensors["w1"].dim() == 2 else -1
    shapes = {"mean": (size,), "std": (size,), "w1": (hidden, size), "b1": (hidden,), "w2": (hidden,), "b2": ()}
    for name, shape in shapes.items():
        t = tensors[name]
        if not isinstance(t, torch.Tensor) or not t.is_floating_point() or tuple(t.shape) != shape or not 0 < hidden <= 1024:
            raise ValueError(f"detector.{name} must be a float tensor of shape {shape} for this model ({size} features)")
        if not torch.isfinite(t).all():
            raise ValueError(f"detector.{name} holds NaN or infinite values")
    if not (tensors["std"] > 0).all():
        raise ValueError("detector.std must be positive")
    if not (isinstance(threshold, float) and math.isfinite(threshold)):
        raise ValueError("metrics.detector_threshold must be a finite number")
    return Detector(*(tensors[name].double() for name in DETECTOR_FIELDS), threshold)


@dataclass(frozen=True)
class Fitted:
    """A fitted detector and what it flags (detector alone) on sets it was not fitted on."""
    detector: Detector
    flagged: dict[str, float]   # set name → share flagged by the detector alone


def _features_of(model: nn.Module, images: torch.Tensor, batch: int = 4000) -> torch.Tensor:
    """Detector features of (N, 28, 28) images in [0, 1]."""
    with torch.inference_mode():
        return torch.cat([features(model, standardize(images[i:i + batch].float()).view(-1, 1, 28, 28))[1]
                          for i in range(0, len(images), batch)])


def _on_canvas(images: torch.Tensor, seed: int, worn_share: float = 0.5, canvas: int = 280) -> torch.Tensor:
    """The 28×28 inputs digits.classify makes of uint8 (N, 28, 28) images put on a canvas: each enlarged so that
    its 20-px box spans 30–90% of the canvas, placed anywhere, in the canvas styles in turn, `worn_share` of them
    worn as a poor copy (digits.negatives.worn). One at a time: a canvas is 300 KB."""
    from PIL import Image

    from .handdrawn import STYLES, as_canvas
    from .negatives import worn
    from .preprocess import to_mnist

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
    from .handdrawn import drawn_digits
    from .negatives import digits_drawn, negatives
    from .preprocess import inputs_of

    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(train_images), generator=g)
    mnist = train_images[order[:MNIST_DIGITS]].float() / 255
    drawn = _on_canvas(train_images[order[MNIST_DIGITS:MNIST_DIGITS + ON_CANVAS]], seed + 31)
    digits = _features_of(model, torch.cat([mnist, drawn, inputs_of(digits_drawn(DRAWN, seed + 21, worn_share=1.0))]))
    others = _features_of(model, inputs_of(negatives(NEGATIVES, seed + 100)))
    mean, std = digits.mean(0), digits.std(0) + 1e-6
    x = (torch.cat([digits, others]) - mean) / std
    y = torch.cat([torch.zeros(len(digits)), torch.ones(len(others))]).double()
    weight = torch.cat([torch.full((len(digits),), 0.5 / len(digits)), torch.full((len(others),), 0.5 / len(others))]).double()
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
    held["validation digits on a canvas, half worn"] = _features_of(model, _on_canvas(val_images[:ON_CANVAS_SHOWN], seed + 41))
    held["drawn non-digits"] = _features_of(model, inputs_of(negatives(100, seed + 101)))
    return Fitted(det, {name: float((det.score(f) > threshold).double().mean()) for name, f in held.items()})
