"""Not a digit: a small head on the classifier's own features that says when a drawing is unlike any digit.

A classifier trained on MNIST must answer 0–9 for anything, often confidently (an X read as an 8 at 98%).
Its hidden layers still see the difference: this detector reads every one of them — each convolutional map
after its activation averaged over space, each fully connected hidden layer as it is (LeNet-5: 164 values from
C1–C5's maps and F6's 84; the CNN: 18 from its maps and Linear-1–3's 140 + 80 + 40) — plus the top probability
and the energy −logsumexp(logits) (Liu et al. 2020; both at T = 1, so that calibrating the checkpoint
afterwards leaves the detector as it was fitted), and a one-hidden-layer network (64 tanh units) turns them
into one score. The classifier's weights are not touched.

It is fitted (digits.detector_fit, the CLI's `detector`) on digits — MNIST training images as they are, further training
images put on a 280×280 canvas (any size and place, every canvas style, half of them worn as a poor copy
shows them: digits.negatives.worn) and read back through digits.preprocess.to_mnist exactly as classify reads
a drawing, and digits drawn with digits.handdrawn's skeletons, worn — against digits.negatives' random
strokes, shapes, scribbles, letter-like combinations and letters, clean and worn. Without the worn digits it learnt
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

import torch
import torch.nn.functional as F
from torch import nn

from .models import ACTIVATIONS, run_stages

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
        if stage.fn in ACTIVATIONS.values():  # after an activation: (N, C, H, W) maps or (N, K) values
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
        if (not isinstance(t, torch.Tensor) or not t.is_floating_point() or tuple(t.shape) != shape
                or not 0 < hidden <= 1024):
            raise ValueError(f"detector.{name} must be a float tensor of shape {shape} "
                             f"for this model ({size} features)")
        if not torch.isfinite(t).all():
            raise ValueError(f"detector.{name} holds NaN or infinite values")
    if not (tensors["std"] > 0).all():
        raise ValueError("detector.std must be positive")
    if not (isinstance(threshold, float) and math.isfinite(threshold)):
        raise ValueError("metrics.detector_threshold must be a finite number")
    return Detector(*(tensors[name].double() for name in DETECTOR_FIELDS), threshold)
