"""The not-a-digit detector's trade-off (digits.detector_curve): what each threshold flags, as classify would."""

import json
import math

import pytest
import torch

from digits import build_model, detector_curve, load_checkpoint
from digits.reading import LOW_CONFIDENCE, Answers
from tests.helpers import synthetic_split


def answers(scores, sure) -> Answers:
    """Answers with the given detector scores; `sure` says which are read over LOW_CONFIDENCE."""
    probs = torch.full((len(scores), 10), 0.0, dtype=torch.float64)
    probs[:, 0] = torch.tensor([0.95 if s else LOW_CONFIDENCE / 2 for s in sure], dtype=torch.float64)
    probs[:, 1:] = ((1 - probs[:, 0]) / 9)[:, None]
    score = torch.tensor(scores, dtype=torch.float64)
    return Answers(probs, score > 0.5, score)


def test_each_point_is_classifys_rule_unsure_or_over_the_threshold():
    digits = answers([-3, -2, -1, 0, 1, 2, -5, -4], [True] * 6 + [False, True])   # one unsure digit
    others = answers([-1, 1, 2, 3, 4], [True, True, True, False, True])            # one unsure non-digit
    curve = detector_curve.trade_off(digits, others, 0.5, ("d", "o"))
    assert curve.thresholds[0] == math.inf and curve.off == (1 / 8, 1 / 5)  # the detector off: unsure alone
    assert curve.digits_flagged[-1] == curve.others_flagged[-1] == 1.0       # below every score: all flagged
    assert curve.at == (3 / 8, 4 / 5)  # scores 1, 2 and the unsure digit; 1, 2, 3, 4 (the unsure one is 3)
    for t, d, o in zip(curve.thresholds, curve.digits_flagged, curve.others_flagged):
        assert d == sum(s > t or not u for s, u in zip([-3, -2, -1, 0, 1, 2, -5, -4], [1] * 6 + [0, 1])) / 8
        assert o == sum(s > t or not u for s, u in zip([-1, 1, 2, 3, 4], [1, 1, 1, 0, 1])) / 5
    assert all(a >= b for a, b in zip(curve.thresholds, curve.thresholds[1:]))
    assert curve.digits_flagged == sorted(curve.digits_flagged) and curve.others_flagged == sorted(curve.others_flagged)
    t, caught = curve.others_at(2 / 8)  # at most two digits flagged: the unsure one and the score-2 one
    assert 1 <= t < 2 and caught == 3 / 5  # scores 2, 3 (also unsure) and 4
    t, caught = curve.others_at(1 / 8)  # no digit over it: the unsure one alone; non-digits 3 (unsure) and 4 over
    assert 2 <= t < 3 and caught == 2 / 5
    assert curve.others_at(0.0) is None  # the unsure rule alone already flags more: no threshold does
    assert "| none: the unsure rule alone flags 12.50% | ≤ 0.5% | – |" in detector_curve.table(curve)


def test_a_kept_curve_comes_back_the_same_and_a_damaged_one_is_refused():
    curve = detector_curve.trade_off(answers([0, 1, 2], [1, 1, 1]), answers([1, 3], [1, 1]), 0.5, ("d", "o"))
    kept = json.loads(json.dumps(detector_curve.to_json(curve)))  # as a file keeps it: no infinity in JSON
    assert detector_curve.from_json(kept) == curve
    n = len(curve.thresholds)
    assert curve.threshold in curve.thresholds  # the checkpoint's own point is on the line drawn
    for field, value in (("digits_flagged", [2.0] * n), ("others_flagged", [0.1]), ("at", [0.1]),
                         ("threshold", float("nan")), ("threshold", float("inf")), ("thresholds", [None]),
                         ("thresholds", [None, *reversed(kept["thresholds"][1:])]),      # out of order
                         ("thresholds", [None, float("nan"), *kept["thresholds"][2:]]),
                         ("thresholds", [1.0, *kept["thresholds"][1:]]),                  # no "detector off"
                         ("digits_flagged", list(reversed(curve.digits_flagged))),        # flagging fewer as it goes
                         ("n_digits", 1e999), ("n_digits", 0), ("n_others", 2.5)):
        with pytest.raises(ValueError):
            detector_curve.from_json({**kept, field: value})
    with pytest.raises((KeyError, TypeError, ValueError)):
        detector_curve.from_json({**kept, "at": "<b>x</b>"})


def test_a_checkpoints_curve_is_measured_on_sets_it_was_not_fitted_on(tmp_path):
    model, _ = load_checkpoint("checkpoints/cnn.pt")
    test = synthetic_split(60, 3)
    sets = detector_curve.standard_sets(test.images)
    (digit_words, digits), (other_words, others) = sets.items()
    assert digits.shape[1:] == others.shape[1:] == (28, 28) and 0 < len(digits) <= 60 and len(others) >= 100
    assert "MNIST test digits on a canvas" in digit_words and "not digits" in other_words
    curve = detector_curve.measure(model, sets)
    assert curve.threshold == model.detector.threshold
    assert (curve.n_digits, curve.n_others) == (len(digits), len(others))
    assert curve.at[1] > curve.off[1]  # the detector catches what the unsure rule alone lets through
    lines = detector_curve.table(curve)
    assert f"| {curve.threshold:.3f} (this checkpoint's) | {curve.at[0]:.2%} | {curve.at[1]:.1%} |" in lines
    with pytest.raises(ValueError, match="no not-a-digit detector"):
        detector_curve.measure(build_model("cnn"), sets)
