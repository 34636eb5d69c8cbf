import dataclasses
import json
import statistics
import threading

import pytest
import torch

from digits import MODELS, TrainConfig, build_model, fit, load_checkpoint
from digits.calibration import fit_temperature, logits_of, measure
from digits.evaluate import accuracy
from digits.events import describe, from_dict
from digits.models import Registered, SmallCNN
from digits.negatives import KINDS


def run(config, splits, **kw):
    return list(fit(config, splits, **kw))


def test_batch_larger_than_training_data_is_refused(tiny_splits):
    with pytest.raises(ValueError, match="larger than the 512 training images"):
        run(TrainConfig(batch_size=1024, device="cpu"), tiny_splits)


@pytest.mark.parametrize("model", ["lenet5", "cnn"])
def test_training_learns_and_keeps_the_best_model(tiny_splits, tmp_path, model):
    config = TrainConfig(model=model, epochs=6, batch_size=32, lr=3e-3, eval_every=40, device="cpu")
    events = run(config, tiny_splits, checkpoint=tmp_path / "best.pt")
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert kinds.count("step") == 6 * 16 and kinds.count("epoch") == 6
    evals = [e for e in events if e.kind == "evaluation"]
    assert evals[0].best and max(e.val_acc for e in evals) >= 0.95
    done = events[-1]
    assert done.best_val_acc == max(e.val_acc for e in evals)
    # The checkpoint on disk is the best model, and its recorded test accuracy is the truth.
    model_back, meta = load_checkpoint(tmp_path / "best.pt")
    assert meta["metrics"]["iteration"] == done.best_iteration
    assert accuracy(model_back, tiny_splits.val) == pytest.approx(done.best_val_acc, abs=1e-6)
    assert accuracy(model_back, tiny_splits.test) == pytest.approx(done.test_acc, abs=1e-6)
    # …and it is calibrated as `digits calibrate` would calibrate it: T fitted on the best model's validation logits.
    assert model_back.temperature == pytest.approx(fit_temperature(logits_of(model_back, tiny_splits.val),
                                                                   tiny_splits.val.labels), abs=1e-3)
    assert meta["metrics"]["test_ece"] == pytest.approx(measure(logits_of(model_back, tiny_splits.test),
                                                                tiny_splits.test.labels,
                                                                model_back.temperature).ece_after, abs=1e-4)


def test_epoch_statistics_are_those_of_the_batch_losses(tiny_splits):
    events = run(TrainConfig(model="cnn", epochs=2, batch_size=64, device="cpu"), tiny_splits)
    for epoch in (1, 2):
        losses = [e.loss for e in events if e.kind == "step" and e.epoch == epoch]
        summary = next(e for e in events if e.kind == "epoch" and e.epoch == epoch)
        assert summary.loss_mean == pytest.approx(statistics.mean(losses), abs=1e-5)
        assert summary.loss_std == pytest.approx(statistics.stdev(losses), abs=1e-5)


def test_overfits_a_tiny_batch():
    from digits.data import Splits
    from tests.helpers import synthetic_split

    few = synthetic_split(16, 7)
    few = type(few)(torch.randint(0, 256, (16, 28, 28), dtype=torch.uint8), few.labels)  # pure noise
    splits = Splits(train=few, val=few, test=few)
    events = run(TrainConfig(model="cnn", epochs=150, batch_size=16, lr=3e-3, eval_every=1000, device="cpu"), splits)
    assert events[-1].best_val_acc == 1.0  # memorised noise: the loop really optimises


def test_stop_flag_takes_effect_within_one_batch(tiny_splits, tmp_path):
    stop = threading.Event()
    seen = []
    for event in fit(TrainConfig(model="cnn", epochs=50, batch_size=32, eval_every=5, device="cpu"),
                     tiny_splits, checkpoint=tmp_path / "best.pt", stop=stop, log_every=1):
        seen.append(event)
        if event.kind == "step" and event.iteration == 12:
            stop.set()
    last = seen[-1]
    assert last.kind == "stopped"
    assert max(e.iteration for e in seen if e.kind == "step") <= 13
    assert last.checkpoint and load_checkpoint(last.checkpoint)[1]["metrics"]["test_acc"] == last.test_acc


class BlowsUp(SmallCNN):
    """A registered model whose training loss turns NaN after 20 training steps (a diverging run)."""

    steps = 0

    def forward(self, x):
        if self.training:
            BlowsUp.steps += 1
        out = super().forward(x)
        return out * float("nan") if BlowsUp.steps > 20 else out


def test_divergence_fails_plainly_and_keeps_the_best_checkpoint(tiny_splits, tmp_path, monkeypatch):
    monkeypatch.setitem(MODELS, "blows-up", Registered(BlowsUp, "Blows up", "test model"))
    BlowsUp.steps = 0
    config = TrainConfig(model="blows-up", epochs=5, batch_size=32, eval_every=5, device="cpu")
    events = run(config, tiny_splits, checkpoint=tmp_path / "best.pt")
    failed = events[-1]
    assert failed.kind == "failed" and failed.iteration == 21
    assert "diverged" in failed.message and "lower learning rate" in failed.message
    # load it as the plain network it is
    monkeypatch.setitem(MODELS, "blows-up", Registered(SmallCNN, "Blows up", "test model"))
    model, meta = load_checkpoint(failed.checkpoint)
    assert meta["metrics"]["iteration"] == 20
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_every_event_is_one_json_object(tiny_splits):
    for event in run(TrainConfig(model="cnn", epochs=1, batch_size=64, eval_every=4, device="cpu"), tiny_splits):
        line = json.dumps(event.to_dict())
        assert "\n" not in line
        assert from_dict(json.loads(line)) == event


def test_started_event_names_the_device(tiny_splits):
    started = next(fit(TrainConfig(model="cnn", epochs=1, device="cpu"), tiny_splits))
    assert started.device == "cpu" and started.device_name.startswith("CPU (")


def test_an_unwritable_checkpoint_stops_training_with_a_clear_message(tiny_splits, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the checkpoint folder should be")
    events = run(TrainConfig(model="cnn", epochs=2, batch_size=64, eval_every=4, device="cpu"), tiny_splits,
                 checkpoint=blocker / "best.pt")
    assert events[-1].kind == "failed" and "Could not write the checkpoint" in events[-1].message
    assert blocker.read_text().startswith("a file")  # nothing else touched


def test_evaluate_and_batch_predictions_agree_with_a_direct_count(tiny_splits):
    from digits import evaluate, predict
    from digits.evaluate import logits_of

    torch.manual_seed(0)
    model = build_model("cnn")
    predicted = logits_of(model, tiny_splits.test).argmax(1)
    labels = tiny_splits.test.labels
    m = evaluate(model, tiny_splits.test)
    assert m.accuracy == pytest.approx((predicted == labels).float().mean().item())
    assert m.confusion.sum() == len(labels) and m.confusion.trace() == (predicted == labels).sum().item()
    for digit in range(10):
        mine = labels == digit
        if mine.any():
            assert m.per_class[digit] == pytest.approx((predicted[mine] == digit).float().mean().item())
    every = predict(model, tiny_splits.test)
    assert every.labels.tolist() == labels.tolist() and every.probs.shape == (len(labels), 10)
    assert every.predicted.tolist() == predicted.tolist() and every.correct.sum() == m.confusion.trace()
    assert every.metrics.accuracy == m.accuracy


def test_steps_carry_each_batch_accuracy(tiny_splits):
    events = run(TrainConfig(model="cnn", epochs=3, batch_size=64, eval_every=8, device="cpu"), tiny_splits)
    steps = [e for e in events if e.kind == "step"]
    assert all(0.0 <= e.acc <= 1.0 for e in steps)
    # an evaluation's train_acc is the mean of the batch accuracies since the previous one (equal batches)
    evals = [e for e in events if e.kind == "evaluation"]
    window = [e.acc for e in steps if evals[0].iteration < e.iteration <= evals[1].iteration]
    assert evals[1].train_acc == pytest.approx(statistics.mean(window), abs=1e-4)


def test_pause_waits_between_batches_and_resume_goes_on(tiny_splits):
    paused = threading.Event()
    seen = []
    for event in fit(TrainConfig(model="cnn", epochs=2, batch_size=64, eval_every=4, device="cpu"), tiny_splits,
                     pause=paused.is_set):
        seen.append(event)
        if event.kind == "evaluation" and event.iteration == 4:
            paused.set()
            threading.Timer(0.6, paused.clear).start()
    kinds = [e.kind for e in seen]
    p, r = kinds.index("paused"), kinds.index("resumed")
    assert seen[p].iteration == seen[r].iteration == 5 and r == p + 1  # nothing trained in between
    assert seen[p - 1].kind == "step" and seen[p - 1].iteration == 5   # every step up to the pause was reported
    assert kinds[-1] == "finished" and kinds.count("step") == 16
    assert seen[r].elapsed - seen[p].elapsed < 0.3  # the pause is not counted as training time


def test_a_stop_request_ends_a_pause(tiny_splits):
    stop = threading.Event()
    events = []
    for event in fit(TrainConfig(model="cnn", epochs=2, batch_size=64, eval_every=4, device="cpu"), tiny_splits,
                     stop=stop, pause=lambda: True):
        events.append(event)
        if event.kind == "paused":
            threading.Timer(0.3, stop.set).start()
    assert [e.kind for e in events][-2:] == ["paused", "stopped"]


def test_each_step_reports_the_learning_rate_its_batch_was_trained_with(tiny_splits):
    from digits.optim import one_cycle

    config = TrainConfig(model="cnn", epochs=2, batch_size=64, device="cpu")
    steps = [e for e in run(config, tiny_splits) if e.kind == "step"]
    assert [e.lr for e in steps] == pytest.approx([config.lr * one_cycle(i, 16) for i in range(16)])


# ---------- outlier exposure: made-up non-digits trained towards equal probabilities ----------

def test_uniform_loss_is_cross_entropy_to_the_uniform_distribution():
    from digits.train import uniform_loss

    logits = torch.randn(7, 10, generator=torch.Generator().manual_seed(3)) * 4
    assert uniform_loss(logits).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits, torch.full((7, 10), 0.1)).item(), abs=1e-6)
    assert uniform_loss(torch.zeros(3, 10)).item() == pytest.approx(torch.log(torch.tensor(10.0)).item(), abs=1e-6)


def test_train_step_with_non_digits_flattens_their_probabilities_and_reports_the_digits_loss(tiny_splits):
    from digits.data import standardize
    from digits.train import train_step

    torch.manual_seed(0)
    model = build_model("lenet5")
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    images, labels = tiny_splits.train.images[:32], tiny_splits.train.labels[:32]
    others = torch.zeros(8, 28, 28, dtype=torch.uint8)
    others[:, 4:24, 12:16] = 255          # a bar…
    others[::2, 12:16, 4:24] = 255        # …and a cross: neither is one of the ten classes
    def peak():
        return (torch.softmax(model.eval()(standardize(others.unsqueeze(1).float() / 255)), 1)
                .max(1).values.mean().item())

    for _ in range(60):
        model.train()
        loss, logits = train_step(model, opt, images, labels)
    before = peak()
    for _ in range(60):
        model.train()
        loss, logits = train_step(model, opt, images, labels, others=others)
    assert logits.shape == (32, 10)
    assert loss.item() == pytest.approx(torch.nn.functional.cross_entropy(logits, labels).item(), abs=1e-5)
    assert (logits.argmax(1) == labels).float().mean() >= 0.9   # the digits are still learnt
    assert before > 0.5 and peak() < 0.2                         # the non-digits lose their confident digit


def test_a_run_with_non_digits_learns_and_records_the_setting(tiny_splits, tmp_path, monkeypatch):
    monkeypatch.setattr("digits.batch_source.NOT_DIGITS_PER_KIND", 5)  # 35 drawings: the real generator, a small pool
    config = TrainConfig(model="cnn", epochs=4, batch_size=32, lr=3e-3, eval_every=40, not_digits=0.25, device="cpu")
    events = run(config, tiny_splits, checkpoint=tmp_path / "best.pt")
    assert events[-1].kind == "finished" and events[-1].best_val_acc >= 0.9
    assert load_checkpoint(tmp_path / "best.pt")[1]["config"]["not_digits"] == 0.25
    assert [e.kind for e in events[:3]] == ["started", "preparing", "step"]  # the wait for the pool is said
    made = 5 * len(KINDS)
    assert events[1].not_digits == made and f"{made} made-up non-digits" in describe(events[1])
    assert "preparing" not in {e.kind for e in run(dataclasses.replace(config, not_digits=0.0, epochs=1), tiny_splits)}
