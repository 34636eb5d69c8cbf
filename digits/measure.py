"""Measure digits.classify on a set of drawings: how many it reads right, how many it flags, per digit and per
kind. One home for the figures of the CLI's `drawn` and `heldout` verbs and the shipped checkpoints' tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from .handdrawn import Drawing
from .reading import classify


@dataclass(frozen=True)
class Reading:
    """How a model reads a set of drawings through digits.classify."""
    accuracy: float          # digits read right (nan for a set of non-digits); a flagged digit read right counts
    per_digit: np.ndarray    # (10,) accuracy of each digit (nan for a digit not in the set)
    flagged: float           # share flagged (Prediction.flagged): no digit, unsure, or not a digit by the detector
    flagged_by_kind: dict[str, float]  # the same per kind: the part of each drawing's `style` before "/"


def read(model: nn.Module, drawings: list[Drawing]) -> Reading:
    """Classify every drawing (digit -1: not a digit) and count what came out."""
    answers = [classify(model, d.image) for d in drawings]
    truth = np.array([d.digit for d in drawings])
    got = np.array([-2 if p.digit is None else p.digit for p in answers])
    per_digit = np.array([(got[truth == k] == k).mean() if (truth == k).any() else np.nan for k in range(10)])
    digits = truth >= 0
    flagged = np.array([p.flagged for p in answers])
    kinds = np.array([d.style.split("/")[0] for d in drawings])
    return Reading(float((got[digits] == truth[digits]).mean()) if digits.any() else float("nan"), per_digit,
                   float(flagged.mean()), {k: float(flagged[kinds == k].mean()) for k in dict.fromkeys(kinds)})


def drawn_accuracy(model: nn.Module, drawings: list[Drawing]) -> tuple[float, np.ndarray]:
    """(overall accuracy, accuracy per digit, 0 for a digit not in the set) of digits.classify on drawings of digits."""
    r = read(model, drawings)
    return r.accuracy, np.nan_to_num(r.per_digit, nan=0.0)
