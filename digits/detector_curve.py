"""The not-a-digit detector's trade-off, as a curve: as its threshold moves, what share of real digits is flagged
(answered "Not sure" or "That does not look like a digit") against what share of things that are not digits is.

A threshold is a choice between two mistakes. Low, and real digits are doubted (the answer a learner trusts least);
high, and an X is read as an 8. The checkpoint's threshold (digits.detector_fit: 1% of each of three digit sets it
was not fitted on) is one point of the curve; "detector off" (the unsure rule alone, digits.reading.LOW_CONFIDENCE)
is its lowest end. Each point is classify's whole rule, unsure or flagged by the detector, read exactly as the Draw
page reads (digits.reading.read_inputs), so the curve says what people would see at each threshold.

Measured on sets the detector was not fitted on (`standard_sets`): MNIST test digits put on a canvas and read back
as a drawing is, against digits.heldout's things that are not digits (letters, signs, scribbles in the usual pens).
Plain data (`to_json`, `from_json`): the Model page keeps it on disk beside its other figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .data import standardize
from .detector_fit import on_canvas  # the canvas round trip the detector's own figures use
from .heldout import not_digits
from .preprocess import inputs_of
from .reading import Answers, read_inputs

POINTS = 100               # thresholds from each side's scores: the digits' top tail finely, the others' evenly
CANVAS_DIGITS = 2000       # MNIST test images put on a canvas for the digits' side
NOT_DIGITS_PER_KIND = 20   # digits.heldout.not_digits of each kind for the other side


@dataclass(frozen=True)
class Curve:
    """The trade-off on one pair of sets; shares in [0, 1]."""
    digits: str                        # what the digits' side was measured on, in words
    others: str                        # what the non-digits' side was
    n_digits: int
    n_others: int
    thresholds: list[float]            # high to low; the first is +inf: the detector off
    digits_flagged: list[float]        # at each threshold
    others_flagged: list[float]
    threshold: float                   # the checkpoint's
    at: tuple[float, float]            # (digits, others) flagged at the checkpoint's threshold

    @property
    def off(self) -> tuple[float, float]:
        """(digits, others) flagged with the detector off: the unsure rule alone."""
        return self.digits_flagged[0], self.others_flagged[0]

    def others_at(self, digits_flagged: float) -> tuple[float, float] | None:
        """(threshold, non-digits flagged) at the lowest threshold of the curve that flags at most `digits_flagged`
        of the digits: what a checkpoint would catch if it allowed that many doubted digits. None when no threshold
        does (the unsure rule alone already flags more)."""
        best = None
        for t, d, o in zip(self.thresholds, self.digits_flagged, self.others_flagged):
            if d <= digits_flagged:
                best = (t, o)
        return best


def _flagged(answers: Answers, threshold: float) -> float:
    return float((answers.unsure | (answers.score > threshold)).double().mean())


def trade_off(digits: Answers, others: Answers, threshold: float, names: tuple[str, str]) -> Curve:
    """The curve from both sets' answers (read_inputs, by a model with a detector: its scores are in them)."""
    tail = 1 - torch.logspace(-3, 0, POINTS, dtype=torch.float64)  # digits flagged from 0.1% to all of them
    levels = torch.cat([torch.quantile(digits.score, tail), torch.quantile(others.score, torch.linspace(
        0, 1, POINTS, dtype=torch.float64))])
    levels = sorted({*levels[torch.isfinite(levels)].tolist(), threshold}, reverse=True)  # the checkpoint's on it
    low = math.nextafter(min(levels), -math.inf)  # just below every score: everything flagged
    thresholds = [math.inf, *levels, low]
    return Curve(names[0], names[1], len(digits.probs), len(others.probs), thresholds,
                 [_flagged(digits, t) for t in thresholds], [_flagged(others, t) for t in thresholds],
                 threshold, (_flagged(digits, threshold), _flagged(others, threshold)))


def standard_sets(test_images: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    """{words: float (N, 28, 28) inputs in [0, 1], as to_mnist makes them} of both sides: the first CANVAS_DIGITS
    MNIST test images (uint8 (N, 28, 28)) on a canvas, as digits.detector_fit places them but none worn, and
    digits.heldout's non-digits."""
    digits = on_canvas(test_images[:CANVAS_DIGITS], seed + 51, worn_share=0.0)
    others = inputs_of(not_digits(NOT_DIGITS_PER_KIND, seed))
    return {f"{len(digits):,} MNIST test digits on a canvas": digits,
            f"{len(others):,} drawn things that are not digits (letters, signs, scribbles)": others}


def measure(model: nn.Module, sets: dict[str, torch.Tensor]) -> Curve:
    """The curve of `model`'s detector on the two sets of `standard_sets` (digits first); ValueError without one."""
    if getattr(model, "detector", None) is None:
        raise ValueError("this checkpoint has no not-a-digit detector: `python -m digits detector CKPT --write` "
                         "fits one")
    (digit_words, digits), (other_words, others) = sets.items()
    device = next(model.parameters()).device
    read = [read_inputs(model, standardize(x).view(-1, 1, 28, 28).to(device)) for x in (digits, others)]
    return trade_off(*read, model.detector.threshold, (digit_words, other_words))


def to_json(curve: Curve) -> dict:
    return {**asdict(curve), "thresholds": [t if math.isfinite(t) else None for t in curve.thresholds]}


def from_json(data: dict) -> Curve:
    """A kept curve, checked (a file on disk is outside input): ValueError, KeyError or TypeError when off. A curve
    goes from the detector off (+inf) down through finite thresholds, flagging never fewer as it goes."""
    thresholds = [math.inf if t is None else float(t) for t in data["thresholds"]]
    shares = [[float(v) for v in data[k]] for k in ("digits_flagged", "others_flagged")]
    at, threshold = tuple(float(v) for v in data["at"]), float(data["threshold"])
    sizes = [float(data[k]) for k in ("n_digits", "n_others")]
    n = len(thresholds)
    if not 2 <= n <= 1000 or any(len(s) != n for s in shares) or len(at) != 2:
        raise ValueError("a curve's lists disagree")
    if not all(0 <= v <= 1 for v in (*shares[0], *shares[1], *at)):
        raise ValueError("a share is not in [0, 1]")
    finite = thresholds[1:]
    if (thresholds[0] != math.inf or not all(map(math.isfinite, (*finite, threshold)))
            or any(a <= b for a, b in zip(finite, finite[1:]))
            or any(a > b for s in shares for a, b in zip(s, s[1:]))):
        raise ValueError("a curve's thresholds or shares are out of order")
    if not all(math.isfinite(v) and 0 < v <= 10**9 and v == int(v) for v in sizes):
        raise ValueError("a set's size is not a count")
    return Curve(str(data["digits"])[:200], str(data["others"])[:200], int(sizes[0]), int(sizes[1]),
                 thresholds, *shares, threshold, at)


def table(curve: Curve, digit_shares=(0.005, 0.01, 0.015, 0.02, 0.03, 0.05)) -> list[str]:
    """Markdown lines: the checkpoint's threshold, the detector off, and the lowest threshold of the curve at each
    share of digits flagged (the curve's points: a share between two of them is read at the one below it)."""
    lines = [f"digits: {curve.digits}; not digits: {curve.others}", "",
             "| threshold | digits flagged | not-digits flagged |", "|---|---|---|",
             f"| {curve.threshold:.3f} (this checkpoint's) | {curve.at[0]:.2%} | {curve.at[1]:.1%} |",
             f"| off (the unsure rule alone) | {curve.off[0]:.2%} | {curve.off[1]:.1%} |"]
    for share in digit_shares:
        point = curve.others_at(share)
        if point is None:
            lines.append(f"| none: the unsure rule alone flags {curve.off[0]:.2%} | ≤ {share:.1%} | – |")
        else:
            lines.append(f"| {point[0]:.3f} | ≤ {share:.1%} | {point[1]:.1%} |" if math.isfinite(point[0])
                         else f"| off | ≤ {share:.1%} | {point[1]:.1%} |")
    return lines
