"""The trained checkpoints in checkpoints/: made by the CLI, accurate on MNIST, and good readers of drawings."""

from pathlib import Path

import pytest

from digits import catalog, load_checkpoint
from digits.handdrawn import drawn_digits
from digits.measure import drawn_accuracy

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "checkpoints" / name for name in catalog.SHIPPED]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_records_how_it_was_made(path):
    model, meta = load_checkpoint(path)
    assert meta["model"] == path.stem
    assert meta["command"].startswith("python -m digits train") and f"--model {path.stem}" in meta["command"]
    assert meta["config"]["model"] == path.stem
    assert meta["metrics"]["test_acc"] >= 0.992
    assert meta["metrics"]["train_seconds"] > 0 and meta["metrics"]["device"]
    # shipped calibrated (digits.calibration): the temperature, its command, and the test ECE it gave
    assert meta["calibration_command"] == f"python -m digits calibrate checkpoints/{path.name} --write"
    assert model.temperature == meta["metrics"]["temperature"] and meta["metrics"]["test_ece"] < 0.01
    assert path.stat().st_size < 1_000_000


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_reads_canvas_drawings(path):
    model, _ = load_checkpoint(path)
    accuracy, per_digit = drawn_accuracy(model, drawn_digits(per_digit=30, seed=0))
    assert accuracy >= 0.98              # measured 100% (LeNet-5) and 100% (CNN); the target is 97%
    assert per_digit.min() >= 0.85       # no digit is left behind


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_accuracy_on_the_real_test_set(path):
    from digits import evaluate
    from digits.data import load_test

    model, meta = load_checkpoint(path)
    accuracy = evaluate(model, load_test(ROOT / "data")).accuracy
    assert round(accuracy * 10_000) >= 9_920  # ≥ 99.2% (issue #15), counted in images: float32 has 0.992 as 0.99199998
    assert accuracy == pytest.approx(meta["metrics"]["test_acc"], abs=1e-4)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_carries_its_not_a_digit_detector(path):
    model, meta = load_checkpoint(path)
    assert model.detector is not None
    assert meta["detector_command"] == f"python -m digits detector checkpoints/{path.name} --write"
    assert meta["metrics"]["detector_val_flagged"] <= 0.01  # its threshold flags 1% of the digits of each threshold set


# Issue #15's goals on the held-out sets (digits.heldout: never trained on), as measured with
# `python -m digits heldout checkpoints/lenet5.pt checkpoints/cnn.pt` (README, "Harder held-out sets") for the
# checkpoints retrained with roughened images: the goals are asserted (≤ 2% of real digits flagged: MNIST test,
# the unseen hands, the drawn digits); the blotchy scans, flagged 4–6%, are guarded near their measured level.
# Retrained and refitted for issue #31 (2026-12-04; letters now among the detector's negatives, heldout's too):
NOT_DIGITS_FLAGGED = 0.85                                  # measured 88.5% and 92.8% (81.2% and 85.2% before)
SCANS_FLAGGED = 0.09                                       # measured 6.1% and 3.0% of the low-resolution scans
UNSEEN_ACCURACY = 0.99                                     # the goal: measured 100.00% and 100.00%
SCANS_ACCURACY = 0.97                                      # the goal: measured 98.17% and 99.08%


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_flags_non_digits_and_few_real_digits(path):
    from digits.data import load_test
    from digits.heldout import not_digits, unseen_digits
    from digits.measure import read
    from digits.reading import answers_of

    model, _ = load_checkpoint(path)
    assert read(model, not_digits(20, 0)).flagged >= NOT_DIGITS_FLAGGED
    unseen, scans = read(model, unseen_digits(20, 0)), read(model, unseen_digits(20, 0, lowres=True))
    assert unseen.flagged <= 0.02 and unseen.accuracy >= UNSEEN_ACCURACY
    assert read(model, drawn_digits(per_digit=20, seed=0)).flagged <= 0.02
    assert scans.flagged <= SCANS_FLAGGED and scans.accuracy >= SCANS_ACCURACY
    test = load_test(ROOT / "data")
    answers = answers_of(model, test.images)  # already what to_mnist makes
    assert answers.flagged.double().mean() <= 0.02
    assert (answers.digit == test.labels).sum() >= 9_920  # MNIST test read as classify reads a drawing: ≥ 99.2% too


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_reports_its_detectors_trade_off_as_its_model_page_shows_it(path):
    """`python -m digits detector --curve` on real MNIST prints the curve the Model page keeps for the file."""
    import json

    from digits import detector_curve
    from digits.catalog import file_sha256
    from tests.helpers import cli

    kept = json.loads((ROOT / "checkpoints" / ".figures" / f"{file_sha256(path)}.json").read_text())
    curve = detector_curve.from_json(kept["curve"])
    done = cli("detector", path, "--curve")
    assert done.returncode == 0, done.stderr
    assert f"| {curve.threshold:.3f} (this checkpoint's) | {curve.at[0]:.2%} | {curve.at[1]:.1%} |" in done.stdout
    assert f"| off (the unsure rule alone) | {curve.off[0]:.2%} | {curve.off[1]:.1%} |" in done.stdout
    assert curve.at[1] >= 0.85 and curve.at[0] <= 0.025  # measured 88.5% / 2.30% (LeNet-5), 92.8% / 1.55% (CNN)
