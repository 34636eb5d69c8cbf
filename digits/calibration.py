"""Calibration: does "90% sure" mean right 9 times in 10? Measured, and fixed by temperature scaling.

A network trained with cross-entropy tends to be overconfident (Guo et al. 2017, "On Calibration of
Modern Neural Networks"). Temperature scaling divides the logits by one number T > 0 before the softmax:
T > 1 softens every answer, T < 1 sharpens it, and the argmax (the digit read) never changes. T is fitted
on the validation split and measured on the test split; the checkpoint keeps it as `metrics.temperature`
(digits.checkpoint), and digits.models.probabilities applies it wherever confidences are shown.

Expected calibration error (ECE), the standard definition: the top probabilities are put in 15 equal-width
bins over [0, 1] (bin m holds confidences in ((m-1)/15, m/15]); ECE = Σ over bins of (share of the images
in the bin) × |accuracy in the bin − mean confidence in the bin|. 0 is perfect; 0.01 means confidences are
off by one percentage point on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import METRICS
from .data import Split, Splits
from .evaluate import logits_of  # (N, 10) logits of a whole split: batched, eval mode, no gradients
from .reading import answers_of

BINS = 15                      # equal-width confidence bins (Guo et al. 2017 use 15)
TEMPERATURE_RANGE = METRICS["temperature"][1:]  # (lowest, highest): T is searched where a checkpoint may keep it
TOLERANCE = 1e-6               # golden-section search stops when log T is known to this

__all__ = ["BINS", "Bin", "Calibration", "calibrate", "ece", "fit_temperature", "logits_of", "measure", "measure_model",
           "nll", "reading_ece", "reliability"]


@dataclass(frozen=True)
class Bin:
    """One confidence bin of a reliability diagram (only bins holding images are listed)."""
    low: float                 # the bin's edges: confidences in (low, high]
    high: float
    confidence: float          # mean top probability of the images in it
    accuracy: float            # share of them read right
    count: int                 # how many images


@dataclass(frozen=True)
class Calibration:
    """A temperature fitted on one split and measured on another (the CLI's `calibrate`, the Model page)."""
    temperature: float         # T: logits ÷ T before softmax
    measured_on: int           # images the figures below are measured on (test)
    ece_before: float          # ECE with T = 1, the network's own softmax
    ece_after: float           # ECE with the fitted T
    nll_before: float          # mean negative log-likelihood (cross-entropy) with T = 1
    nll_after: float           # … with the fitted T
    before: list[Bin]          # reliability diagrams, T = 1 and fitted T
    after: list[Bin]


def nll(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the labels under softmax(logits / temperature), in float64."""
    return F.cross_entropy(logits.double() / temperature, labels.to(logits.device)).item()


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The T > 0 that minimises the NLL of softmax(logits / T), by golden-section search over log T in
    TEMPERATURE_RANGE. The NLL is convex in 1/T (a log-sum-exp of terms linear in it, minus one), so it
    has a single minimum along log T and the search finds it (or the nearer end of the range)."""
    z, y = logits.detach().double().cpu(), labels.cpu()
    lo, hi = (math.log(t) for t in TEMPERATURE_RANGE)
    inv = (math.sqrt(5) - 1) / 2  # 1/φ
    a, b = hi - inv * (hi - lo), lo + inv * (hi - lo)
    fa, fb = nll(z, y, math.exp(a)), nll(z, y, math.exp(b))
    while hi - lo > TOLERANCE:
        if fa <= fb:   # the minimum is left of b
            hi, b, fb = b, a, fa
            a = hi - inv * (hi - lo)
            fa = nll(z, y, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + inv * (hi - lo)
            fb = nll(z, y, math.exp(b))
    return math.exp((lo + hi) / 2)


def _top(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    """(top probability, read right) per image, as float64 numpy arrays."""
    p = probs.detach().cpu().numpy() if isinstance(probs, torch.Tensor) else np.asarray(probs)
    y = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"probs must be (N, classes) and labels (N,), got {p.shape} and {y.shape}")
    return p.max(axis=1).astype(np.float64), (p.argmax(axis=1) == y).astype(np.float64)


def reliability(probs, labels, bins: int = BINS) -> list[Bin]:
    """The reliability diagram: for each of `bins` equal-width confidence bins that holds images, their
    mean confidence, accuracy and count. `probs` (N, classes) sum to 1 per row; `labels` (N,)."""
    confidence, right = _top(probs, labels)
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)  # ((m-1)/bins, m/bins] → m-1
    count = np.bincount(index, minlength=bins)
    conf_sum = np.bincount(index, weights=confidence, minlength=bins)
    right_sum = np.bincount(index, weights=right, minlength=bins)
    return [Bin(m / bins, (m + 1) / bins, float(conf_sum[m] / count[m]), float(right_sum[m] / count[m]), int(count[m]))
            for m in range(bins) if count[m]]


def ece(probs, labels, bins: int = BINS) -> float:
    """Expected calibration error: Σ over bins of share × |accuracy − confidence| (0 is perfect)."""
    diagram = reliability(probs, labels, bins)
    n = sum(b.count for b in diagram)
    return float(sum(b.count / n * abs(b.accuracy - b.confidence) for b in diagram)) if n else 0.0


def measure(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> Calibration:
    """ECE, NLL and reliability of logits against labels with T = 1 and with `temperature`."""
    z = logits.detach().double().cpu()
    before, after = z.softmax(1), (z / temperature).softmax(1)
    return Calibration(temperature, len(labels), ece(before, labels), ece(after, labels),
                       nll(z, labels), nll(z, labels, temperature),
                       reliability(before, labels), reliability(after, labels))


def measure_model(model: nn.Module, split: Split) -> Calibration:
    """The model's calibration on a split, with the temperature it carries (the Model page)."""
    return measure(logits_of(model, split), split.labels, getattr(model, "temperature", 1.0))


def reading_ece(model: nn.Module, split: Split) -> float:
    """ECE of the probabilities digits.classify shows for the split's images (each read with its one-pixel shifts,
    averaged, with the model's temperature): the calibration of what the Draw page says, beside measure_model's
    one forward pass."""
    return ece(answers_of(model, split.images).probs, split.labels)


def calibrate(model: nn.Module, splits: Splits) -> Calibration:
    """Fit T on the validation split, measure on the test split. The model's own temperature, if it has
    one, is ignored: T is always fitted on the network's logits."""
    val = logits_of(model, splits.val)
    temperature = fit_temperature(val, splits.val.labels)
    return measure(logits_of(model, splits.test), splits.test.labels, temperature)
