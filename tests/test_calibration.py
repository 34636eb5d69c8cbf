"""Calibration (digits.calibration): the temperature fit and the ECE against references, the CLI verb on a
tiny checkpoint, and the shipped checkpoints' recorded figures on real MNIST (slow)."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from digits import TrainConfig, fit, load_checkpoint, predict
from digits.calibration import BINS, calibrate, ece, fit_temperature, logits_of, nll, reliability
from digits.models import probabilities

ROOT = Path(__file__).resolve().parents[1]


def calibrated_set(n: int, seed: int, spread: float = 3.0):
    """Logits whose softmax is calibrated by construction: each label is drawn from softmax(logits)."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, 10, generator=g, dtype=torch.float64) * spread
    labels = torch.multinomial(logits.softmax(1), 1, generator=g)[:, 0]
    return logits, labels


def ece_by_hand(probs: np.ndarray, labels: np.ndarray, bins: int) -> float:
    """The textbook definition, one image at a time (Guo et al. 2017, eq. 3)."""
    total, members = 0.0, [[] for _ in range(bins)]
    for p, y in zip(probs, labels):
        c = float(p.max())
        m = next(m for m in range(bins) if c <= (m + 1) / bins)  # bin m holds (m/bins, (m+1)/bins]
        members[m].append((c, float(p.argmax() == y)))
    for group in members:
        if group:
            conf, acc = np.mean(group, axis=0)
            total += len(group) / len(probs) * abs(acc - conf)
    return total


@pytest.mark.parametrize("k", [0.4, 1.0, 2.0, 3.5])
def test_fit_temperature_recovers_the_factor_the_logits_were_scaled_by(k):
    logits, labels = calibrated_set(10_000, seed=1)
    t = fit_temperature(logits * k, labels)
    # The reference: the NLL's minimum on a fine grid of log T (steps of 0.18%, within 20% of the truth).
    grid = np.exp(np.linspace(math.log(k / 1.2), math.log(k * 1.2), 201))
    best = grid[np.argmin([nll(logits * k, labels, g) for g in grid])]
    assert t == pytest.approx(best, rel=2e-3)
    assert t == pytest.approx(k, rel=0.05)  # and the truth, up to the sampling noise of 10,000 labels (8 seeds: ±2%)
    assert nll(logits * k, labels, t) <= min(nll(logits * k, labels, t * f) for f in (0.99, 1.01))


def test_dividing_by_the_temperature_never_changes_the_answer():
    logits, _ = calibrated_set(1000, seed=2)
    model = torch.nn.Identity()
    for t in (0.05, 0.7, 3.0, 20.0):
        model.temperature = t
        p = probabilities(model, logits, dim=1)
        assert torch.equal(p.argmax(1), logits.argmax(1)) and torch.allclose(p.sum(1), torch.ones(1000, dtype=p.dtype))


def test_ece_is_near_zero_when_calibrated_and_large_when_overconfident():
    logits, labels = calibrated_set(50_000, seed=3)
    calibrated, overconfident = logits.softmax(1), (logits * 3).softmax(1)
    assert ece(calibrated, labels) < 0.01
    assert ece(overconfident, labels) > 0.1
    assert ece(overconfident, labels) > 10 * ece(calibrated, labels)
    perfect = torch.eye(10)[labels]  # all right, all 100% sure
    assert ece(perfect, labels) == 0.0


@pytest.mark.parametrize("bins", [1, 10, BINS])
def test_ece_and_the_reliability_bins_match_the_definition_image_by_image(bins):
    logits, labels = calibrated_set(2000, seed=4)
    probs = (logits * 2).softmax(1).numpy()
    assert ece(probs, labels.numpy(), bins) == pytest.approx(ece_by_hand(probs, labels.numpy(), bins), abs=1e-12)
    diagram = reliability(probs, labels, bins)
    assert sum(b.count for b in diagram) == 2000
    for b in diagram:
        assert b.high - b.low == pytest.approx(1 / bins) and b.low < b.confidence <= b.high and 0 <= b.accuracy <= 1


def test_predictions_of_a_split_carry_the_temperature(tiny_splits):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    model.temperature = 2.0
    answers = predict(model, tiny_splits.test)
    np.testing.assert_allclose(answers.probs, (logits_of(model, tiny_splits.test) / 2).softmax(1).numpy(), atol=1e-6)


@pytest.fixture
def tiny_checkpoint(tiny_splits, tmp_path):
    """A small CNN trained for two epochs on the synthetic splits."""
    events = list(fit(TrainConfig(model="cnn", epochs=2, batch_size=64, lr=3e-3, device="cpu"), tiny_splits,
                      checkpoint=tmp_path / "tiny.pt", extra_meta={"command": "python -m digits train --model cnn"}))
    assert events[-1].kind == "finished"
    return tmp_path / "tiny.pt"


def test_calibrate_fits_on_validation_and_measures_on_test(tiny_splits, tiny_checkpoint):
    model, _ = load_checkpoint(tiny_checkpoint)
    c = calibrate(model, tiny_splits)
    assert c.temperature == pytest.approx(fit_temperature(logits_of(model, tiny_splits.val), tiny_splits.val.labels))
    test = logits_of(model, tiny_splits.test)
    assert c.measured_on == len(tiny_splits.test)
    assert c.ece_before == pytest.approx(ece(test.softmax(1), tiny_splits.test.labels))
    assert c.ece_after == pytest.approx(ece((test / c.temperature).softmax(1), tiny_splits.test.labels))
    assert sum(b.count for b in c.after) == len(tiny_splits.test)


def test_the_reading_ece_is_that_of_classifys_nine_views(tiny_splits, tiny_checkpoint, monkeypatch):
    from digits import reading
    from digits.calibration import measure_model, reading_ece

    model, _ = load_checkpoint(tiny_checkpoint)
    one_pass = measure_model(model, tiny_splits.test).ece_after
    nine = reading_ece(model, tiny_splits.test)
    assert nine != pytest.approx(one_pass, abs=1e-9)  # the views change the probabilities it measures
    monkeypatch.setattr(reading, "VIEWS", ((0, 0),))  # one view: the one-pass figure exactly
    assert reading_ece(model, tiny_splits.test) == pytest.approx(one_pass, abs=1e-6)


def test_the_calibrate_verb_prints_and_writes_the_temperature(tiny_splits, tiny_checkpoint, monkeypatch, capsys):
    from digits import cli, cli_measure

    asked = []
    monkeypatch.setattr(cli_measure, "load_splits", lambda *a, **kw: asked.append((*a, kw)) or tiny_splits)
    raw, before = tiny_checkpoint.read_bytes(), torch.load(tiny_checkpoint, weights_only=True)
    assert cli.main(["calibrate", str(tiny_checkpoint)]) == 0
    dry = capsys.readouterr().out
    assert "temperature" in dry and "ECE (15 bins)" in dry and "written" not in dry
    assert tiny_checkpoint.read_bytes() == raw  # without --write the file stays as it was
    assert cli.main(["calibrate", str(tiny_checkpoint), "--write"]) == 0
    # the split the checkpoint was chosen on
    assert asked[0] == (before["config"]["val_size"], before["config"]["seed"], {"dataset": "mnist"})
    assert f"written to {tiny_checkpoint}" in capsys.readouterr().out
    model, meta = load_checkpoint(tiny_checkpoint)
    expected = calibrate(load_checkpoint(tiny_checkpoint)[0], tiny_splits)
    assert model.temperature == meta["metrics"]["temperature"] == pytest.approx(expected.temperature)
    assert meta["metrics"]["test_ece"] == pytest.approx(expected.ece_after)
    assert meta["metrics"]["uncalibrated_test_ece"] == pytest.approx(expected.ece_before)
    assert meta["command"] == before["command"] and meta["created"] == before["created"]
    assert meta["calibration_command"] == f"python -m digits calibrate {tiny_checkpoint} --write"


def test_the_calibrate_verb_refuses_a_broken_file_with_one_line(tmp_path, capsys):
    from digits import cli

    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    assert cli.main(["calibrate", str(tmp_path / "bad.pt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lenet5", "cnn"])
def test_the_shipped_checkpoints_record_their_calibration_on_real_mnist(name):
    from digits.data import load_splits

    model, meta = load_checkpoint(ROOT / "checkpoints" / f"{name}.pt")
    c = calibrate(model, load_splits(meta["config"]["val_size"], meta["config"]["seed"]))  # $DIGITS_DATA or ./data
    m = meta["metrics"]
    assert model.temperature == m["temperature"] == pytest.approx(c.temperature, rel=1e-3)
    assert (m["test_ece"] == pytest.approx(c.ece_after, abs=2e-4)
            and m["uncalibrated_test_ece"] == pytest.approx(c.ece_before, abs=2e-4))
    assert meta["calibration_command"] == f"python -m digits calibrate checkpoints/{name}.pt --write"
    assert c.ece_after < 0.01  # confidences within a percentage point of accuracy on MNIST test
