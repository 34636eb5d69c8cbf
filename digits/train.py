"""Training: one generator that yields events (digits.events) for a `TrainConfig` (digits.config).

About 370 lines: `fit` and the small pieces it reads top to bottom with (the training clock, the
best-model tracker, the loss statistics, the step events, pausing); the optimizer is in digits.optim, devices in digits.device.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from . import events as ev
from .augment import random_affine, roughen
from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import Splits, batches, load_splits, standardize
from .device import device_name, prepare, resolve_device
from .calibration import fit_temperature, measure
from .evaluate import accuracy, accuracy_of, logits_of
from .models import build_model, count_parameters, to_device
from .optim import optimizer
from .room import Room, with_room
from .snapshots import SnapshotWriter

StopFlag = threading.Event | Callable[[], bool] | None


def _stopping(stop: StopFlag) -> bool:
    if stop is None:
        return False
    return stop.is_set() if isinstance(stop, threading.Event) else bool(stop())


class _Clock:
    """Seconds of training since the start, to the millisecond; time spent paused is left out."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return round(time.perf_counter() - self.start, 3)

    def leave_out(self, seconds: float) -> None:
        self.start += seconds


def _hold(pause: Callable[[], bool], stop: StopFlag, it: int, clock: _Clock, losses, poll: float = 0.2) -> Iterator[ev.Event]:
    """Paused; wait while `pause()` says so (or until a stop request); Resumed unless stopping. The wait
    counts neither as training time (`clock`) nor in the samples/s of the epoch's `losses`."""
    yield ev.Paused(clock(), it)
    held = time.perf_counter()
    while pause() and not _stopping(stop):
        time.sleep(poll)
    waited = time.perf_counter() - held
    clock.leave_out(waited)
    losses.since += waited
    if not _stopping(stop):
        yield ev.Resumed(clock(), it)


def train_step(model, opt, images: torch.Tensor, labels: torch.Tensor,
               augment: torch.Generator | None = None, rough: torch.Generator | None = None,
               others: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the tutorials' training flow on a device-resident uint8 batch: forward, loss, zero grads, backward, step.
    `others`: uint8 (K, 28, 28) images that are not digits, trained towards equal probabilities (`uniform_loss`);
    the loss returned and the logits are the digits' only."""
    x = images.unsqueeze(1).float().div_(255)            # (B, 1, 28, 28) in [0, 1]
    n = len(x)
    if others is not None:
        x = torch.cat([x, others.unsqueeze(1).float().div_(255)])
    if augment is not None:
        x = random_affine(x, augment)                    # distort before normalising: background stays 0
    if rough is not None:
        x = roughen(x, rough)
    x = standardize(x)
    out = model(x)                                       # (B [+ K], 10)
    logits = out[:n]
    loss = F.cross_entropy(logits, labels)
    total = loss if others is None else loss + NOT_DIGIT_WEIGHT * uniform_loss(out[n:])
    opt.zero_grad(set_to_none=True)
    total.backward()
    opt.step()
    return loss, logits


# Outlier exposure (Hendrycks, Mazeika & Dietterich, ICLR 2019): the weight of the not-digits' loss beside the
# digits' cross-entropy (their λ = 0.5 for image classifiers), and the made-up drawings the pool is made of.
NOT_DIGIT_WEIGHT = 0.5
NOT_DIGITS_PER_KIND = 2000   # digits.negatives drawings of each kind (14,000; ~45 s to draw and read on a 2-core CPU)


def uniform_loss(logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy from the uniform distribution over the ten digits to softmax(logits), per image averaged:
    lowest (log 10) when every digit gets 10%."""
    return -F.log_softmax(logits, 1).mean(1).mean()


def not_digit_pool(seed: int, per_kind: int | None = None) -> torch.Tensor:
    """uint8 (N, 28, 28): digits.negatives drawings as digits.classify reads them (digits.preprocess.to_mnist),
    drawn with their own seeds (not the detector's)."""
    from .negatives import negatives
    from .preprocess import inputs_of

    return inputs_of(negatives(per_kind or NOT_DIGITS_PER_KIND, 9000 + seed)).mul(255).round().to(torch.uint8)


class _Window:
    """Training batches since the last validation: summed on the device, read once per validation."""

    def __init__(self, device: torch.device):
        self.loss = torch.zeros((), device=device)
        self.correct = torch.zeros((), device=device, dtype=torch.long)
        self.batches = self.samples = 0

    def add(self, loss: torch.Tensor, correct: torch.Tensor, samples: int) -> None:
        self.loss += loss.detach()
        self.correct += correct
        self.batches += 1
        self.samples += samples

    def take(self) -> tuple[float, float]:
        """(accuracy, mean loss) of the window, then start a new one."""
        if not self.batches:
            return float("nan"), float("nan")
        acc, loss = self.correct.item() / self.samples, self.loss.item() / self.batches
        self.__init__(self.loss.device)
        return round(acc, 6), round(loss, 6)


class _Best:
    """The best model so far by its validation score: the score (None before the first validation), its
    MNIST validation accuracy, its iteration and a copy of its weights."""

    def __init__(self):
        self.score: float | None = None
        self.val_acc: float | None = None
        self.iteration = 0
        self.state: dict[str, torch.Tensor] | None = None
        self.val_logits: torch.Tensor | None = None  # its MNIST validation logits: the temperature is fitted on them

    def offer(self, score: float, val_acc: float, iteration: int, model: torch.nn.Module, val_logits: torch.Tensor) -> bool:
        """Keep `model` if `score` beats the best so far; whether it did."""
        if self.score is not None and score <= self.score:
            return False
        self.score, self.val_acc, self.iteration, self.val_logits = score, val_acc, iteration, val_logits
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return True


class _EpochLosses:
    """One epoch's batch losses and accuracies, kept on the device and read back in chunks (one sync per chunk)."""

    def __init__(self, batches: int, batch_size: int, device: torch.device):
        self.values = torch.empty(batches, device=device)
        self.accs = torch.empty(batches, device=device)
        self.lrs: list[float] = []  # the learning rate each batch was trained with (a float: no sync)
        self.count = self.read = 0
        self.batch_size, self.since = batch_size, time.perf_counter()

    def add(self, loss: torch.Tensor, correct: torch.Tensor, samples: int, lr: float) -> None:
        self.values[self.count] = loss.detach()
        self.accs[self.count] = correct / samples
        self.lrs.append(lr)
        self.count += 1

    @property
    def unread(self) -> int:
        return self.count - self.read

    def take(self) -> tuple[list[float], list[float], list[float], float]:
        """The losses, accuracies and learning rates not read yet, and the samples per second since the last take."""
        now = time.perf_counter()
        rate = self.unread * self.batch_size / max(now - self.since, 1e-9)
        span = slice(self.read, self.count)
        values, accs, lrs = self.values[span].tolist(), self.accs[span].tolist(), self.lrs[span]
        self.read, self.since = self.count, now
        return values, accs, lrs, rate

    def mean_std(self) -> tuple[float, float]:
        v = self.values[:self.count]
        return round(v.mean().item(), 6), round(v.std().item() if self.count > 1 else 0.0, 6)


def _steps(losses: _EpochLosses, epoch: int, iteration: int, peak_lr: float, elapsed: float,
           checkpoint: str | None) -> list[ev.Event]:
    """Step events for the losses not read yet (the last one is `iteration`'s); at the first loss that is
    not a number they end with a Failed event instead: training diverged."""
    values, accs, lrs, rate = losses.take()
    events: list[ev.Event] = []
    for i, value, acc, lr in zip(range(iteration - len(values) + 1, iteration + 1), values, accs, lrs):
        if not math.isfinite(value):
            events.append(ev.Failed(elapsed, i, f"The loss became {value} at iteration {i}: training diverged. "
                                    f"Try a lower learning rate (this run used {peak_lr:g}).", checkpoint))
            break
        events.append(ev.Step(elapsed, epoch, i, round(value, 6), lr, round(rate, 1), round(acc, 4)))
    return events


def starting_model(config: TrainConfig) -> torch.nn.Module:
    """Random weights, or the weights of the checkpoint to fine-tune (config.start_from), checked to be of
    the run's architecture; CheckpointError or ValueError with a one-line reason."""
    if not config.start_from:
        return build_model(config.model)
    model, meta = load_checkpoint(config.start_from)
    if meta["model"] != config.model:
        raise ValueError(f"{config.start_from} holds a {meta['model']} model; the run's architecture is {config.model}")
    return model


def room_of(config: TrainConfig, room: Room | None) -> Room | None:
    """The room's drawings for a run with config.drawings: `room`, else the store's (digits.drawings)."""
    if not config.drawings:
        return None
    if room is None:
        from . import drawings
        with closing(drawings.connect()) as db:
            room = Room.of(drawings.drawings(db))
    if not len(room.train):
        raise ValueError("the room has no digit drawings to learn from yet: draw on the Draw page and say which digit "
                         "each one is, or import some on the Room page")
    return room


def fit(config: TrainConfig, splits: Splits | None = None, checkpoint: Path | str | None = None,
        stop: StopFlag = None, log_every: int = 10, extra_meta: dict | None = None,
        snapshots: Path | str | None = None, pause: Callable[[], bool] | None = None,
        room: Room | None = None) -> Iterator[ev.Event]:
    """Train as the tutorials this project started from do — epochs → batches → device → forward, loss → zero grads → backward, step —
    yielding events. `checkpoint` receives the best model (by validation accuracy) whenever it improves;
    the folder `snapshots` (the CLI's is RUN_DIR/snapshots) the untrained model and the model at every
    evaluation, a bounded series (digits.snapshots) that the Inside page steps through. While `pause()`
    is true the loop waits between two batches (Paused, then Resumed); paused time is not training time.
    With config.drawings the room's drawings (`room`, else the store's) join the training images and
    their held-out part is measured at each evaluation; a run that fine-tunes (config.start_from) or
    uses them reports the starting model's figures beside the final ones. With config.not_digits each
    batch also gets made-up non-digits (`not_digit_pool`, drawn after Started) trained towards "no digit".
    Losses are read back from the device every `log_every` iterations (one sync, not one per batch).

    One function on purpose: the set-up, three small closures that share the run's state (save, validate,
    the final event) and the loop, read top to bottom in the tutorials' order; pausing is `_hold`."""
    elapsed = _Clock()
    device = resolve_device(config.device)
    prepare(device)
    torch.manual_seed(config.seed)
    splits = splits or load_splits(config.val_size, config.seed)
    if config.batch_size > len(splits.train):
        raise ValueError(f"batch size {config.batch_size} is larger than the {len(splits.train)} training images")
    room = room_of(config, room)
    mixed = with_room(splits.train, room.train, config.room_share) if room else splits.train
    train, val, test = (s.to(device) for s in (mixed, splits.val, splits.test))
    held_out = room.held_out.to(device) if room and len(room.held_out) else None
    room_val = room.val.to(device) if room and len(room.val) else None
    model = to_device(starting_model(config), device)
    per_epoch = math.ceil(len(train) / config.batch_size)
    every = config.evaluation_interval(per_epoch * config.epochs)
    gen = torch.Generator().manual_seed(config.seed)
    ckpt = str(checkpoint) if checkpoint else None
    best, window, it, last_val = _Best(), _Window(device), 0, float("nan")
    kept = lambda: ckpt if best.state is not None else None  # the checkpoint path, once there is a best model
    frames = SnapshotWriter(snapshots) if snapshots else None

    room_acc = lambda: round(accuracy(model, held_out), 6) if held_out is not None else None
    before = {}  # the starting model's figures, in runs that have something to compare them with
    record = room.record() if room else {}

    def save(metrics: dict) -> None:
        if ckpt:
            kept = {k: v for k, v in {**metrics, **before, **record}.items() if v is not None and k != "room_sha256"}
            extra = {**(extra_meta or {}), **({"room_sha256": record["room_sha256"]} if record else {})}
            save_checkpoint(ckpt, config.model, model, config=config.to_dict(), metrics=kept, extra=extra)

    def validation(epoch: int) -> ev.Evaluation:
        val_logits = logits_of(model, val)
        acc = round(accuracy_of(val_logits, val.labels), 6)
        room_val_acc = round(accuracy(model, room_val), 6) if room_val is not None else None
        train_acc, train_loss = window.take()
        # The best model is the best on the validation data of what the run learns: MNIST's, and the room's
        # validation drawings weighted by their share of the training images (a fine-tune that reads the
        # room better is not passed over for a 0.1-point wobble on MNIST).
        score = acc if room_val is None else (1 - config.room_share) * acc + config.room_share * room_val_acc
        improved = best.offer(score, acc, it, model, val_logits)
        if improved:
            save({"val_acc": acc, "iteration": it, "epoch": epoch})
        if frames:
            frames.save(config.model, model, it, config=config.to_dict(), metrics={"val_acc": acc, "epoch": epoch})
        return ev.Evaluation(elapsed(), epoch, it, train_acc, train_loss, acc, improved, room_acc(), room_val_acc)

    def final(kind: type[ev.Finished] | type[ev.Stopped]):
        test_acc = final_room = None
        if best.state is not None:
            model.load_state_dict(best.state)
            # Calibrated as `python -m digits calibrate` does (digits.calibration): T fitted on the best model's
            # validation logits (kept when it was chosen: no extra pass), its error measured on test.
            model.temperature = round(fit_temperature(best.val_logits, val.labels), 4)
            calibration = {}
            if len(test):
                test_logits = logits_of(model, test)
                test_acc = round(accuracy_of(test_logits, test.labels), 6)
                m = measure(test_logits, test.labels, model.temperature)
                calibration = {"test_ece": round(m.ece_after, 6), "uncalibrated_test_ece": round(m.ece_before, 6)}
            final_room = room_acc()
            save({"val_acc": best.val_acc, "test_acc": test_acc, "room_acc": final_room, "iteration": best.iteration,
                  "epoch": math.ceil(best.iteration / per_epoch), "train_seconds": elapsed(), "device": device_name(device),
                  "temperature": model.temperature, **calibration})
        return kind(elapsed(), it, best.val_acc, best.iteration, test_acc, kept(), final_room,
                    before.get("before_val_acc"), before.get("before_test_acc"), before.get("before_room_acc"))

    yield ev.Started(elapsed(), config.model, count_parameters(model), device.type, device_name(device),
                     len(splits.train), len(val), len(test), per_epoch, per_epoch * config.epochs, config.to_dict(),
                     *((len(room.train), len(room.val), len(room.held_out)) if room else ()))
    extra = round(config.not_digits * config.batch_size)  # non-digits per batch: none for a share that rounds to 0
    if extra:
        from .negatives import KINDS  # only here: the drawing code is not imported by runs without it
        yield ev.Preparing(elapsed(), NOT_DIGITS_PER_KIND * len(KINDS))
    # After Started: a torch optimizer's first use imports torch._dynamo (1.5–4.7 s on a 2-core CPU, README "Speed").
    opt, sched = optimizer(config, model, per_epoch * config.epochs)
    pool = not_digit_pool(config.seed).to(device) if extra else None
    if room or config.start_from:  # measured after Started: the first event is not kept waiting
        before.update(before_val_acc=round(accuracy(model, val), 6), before_room_acc=room_acc(),
                      before_test_acc=round(accuracy(model, test), 6) if len(test) else None)
        yield ev.Baseline(elapsed(), before["before_val_acc"], before["before_test_acc"], before["before_room_acc"])
    try:
        if frames:  # the untrained model, for contrast: the first frame of the series
            frames.save(config.model, model, 0, config=config.to_dict(), metrics={"epoch": 0})
        for epoch in range(1, config.epochs + 1):
            model.train()
            losses, validated_at = _EpochLosses(per_epoch, config.batch_size, device), -1
            for images, labels in batches(train, config.batch_size, gen):
                lr = opt.param_groups[0]["lr"]  # the rate this batch is trained with
                others = None if pool is None else pool[torch.randint(len(pool), (extra,), generator=gen).to(device)]
                loss, logits = train_step(model, opt, images, labels, gen if config.augment else None,
                                          gen if config.roughen else None, others)
                if sched:
                    sched.step()
                it += 1
                correct = (logits.argmax(1) == labels).sum()
                losses.add(loss, correct, len(labels), lr)
                window.add(loss, correct, len(labels))
                validate_now, stopping = it % every == 0, _stopping(stop)
                pausing = not stopping and pause is not None and pause()
                # Read the losses back every few batches (and after the first: the chart's first point at once),
                # and always before a validation, so that a diverged model is never evaluated or saved as the best.
                if losses.unread >= log_every or it == 1 or losses.count == per_epoch or validate_now or stopping or pausing:
                    steps = _steps(losses, epoch, it, config.lr, elapsed(), kept())
                    yield from steps
                    if steps and steps[-1].kind == "failed":
                        return
                if pausing:
                    yield from _hold(pause, stop, it, elapsed, losses)
                    stopping = _stopping(stop)
                if stopping:
                    yield final(ev.Stopped)
                    return
                if validate_now:
                    validated_at, event = it, validation(epoch)
                    last_val = event.val_acc
                    yield event
            if validated_at != it:  # every epoch ends with a validation
                event = validation(epoch)
                last_val = event.val_acc
                yield event
            yield ev.EpochEnd(elapsed(), epoch, it, *losses.mean_std(), last_val)
        yield final(ev.Finished)
    except OSError as e:  # a full disk or a read-only folder while saving: say so, keep what is on disk
        yield ev.Failed(elapsed(), it, f"Could not write the checkpoint ({e.strerror or e}): training stopped. "
                        "Free some space or choose a writable folder.", None)
