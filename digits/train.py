"""Training: one generator that yields events (digits.events) for a `TrainConfig` (digits.config).

`fit` is the tutorials' loop; what a batch is made of is digits.batch_source's, validating and keeping the best
model digits.keeper's, the Step events digits.step_log's, pause and stop digits.control's, the optimizer
digits.optim's, devices digits.device's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from . import events as ev
from .augment import random_affine, roughen
from .batch_source import BatchSource, room_of
from .checkpoint import load_checkpoint
from .config import TrainConfig
from .control import Control, StopFlag
from .data import Splits, standardize
from .device import device_name, prepare, resolve_device
from .keeper import Keeper
from .models import build_model, count_parameters, to_device
from .optim import optimizer
from .room import Room
from .step_log import Clock, EpochLosses, steps

# Outlier exposure (Hendrycks, Mazeika & Dietterich, ICLR 2019): the weight of the not-digits' loss beside the
# digits' cross-entropy (their λ = 0.5 for image classifiers).
NOT_DIGIT_WEIGHT = 0.5


def uniform_loss(logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy from the uniform distribution over the ten digits to softmax(logits), per image averaged:
    lowest (log 10) when every digit gets 10%."""
    return -F.log_softmax(logits, 1).mean(1).mean()


def train_step(model, opt, images: torch.Tensor, labels: torch.Tensor,
               augment: torch.Generator | None = None, rough: torch.Generator | None = None,
               others: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the tutorials' training flow on a device-resident uint8 batch: forward, loss, zero grads,
    backward, step. `others`: uint8 (K, 28, 28) images that are not digits, trained towards equal probabilities
    (`uniform_loss`); the loss returned and the logits are the digits' only."""
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


def starting_model(config: TrainConfig) -> torch.nn.Module:
    """Random weights, or the weights of the checkpoint to fine-tune (config.start_from), checked to be of
    the run's architecture; CheckpointError or ValueError with a one-line reason."""
    if not config.start_from:
        return build_model(config.model, config.layers)
    model, meta = load_checkpoint(config.start_from)
    if meta["model"] != config.model or meta["config"].get("layers", "") != config.layers:
        raise ValueError(f"{config.start_from} holds a {meta['model']} model of other layers than the run's "
                         f"({config.model})" if meta["model"] == config.model else
                         f"{config.start_from} holds a {meta['model']} model; the run's architecture is {config.model}")
    return model


def started(config: TrainConfig, model: torch.nn.Module, data: BatchSource, clock: Clock) -> ev.Started:
    """The run's first event: what trains, on what, on how much data, for how many iterations."""
    room, device = data.room, data.device
    return ev.Started(clock(), config.model, count_parameters(model), device.type, device_name(device),
                      len(data.splits.train), len(data.val), len(data.test), data.per_epoch,
                      data.per_epoch * config.epochs, config.to_dict(),
                      *((len(room.train), len(room.val), len(room.held_out)) if room else ()))


def fit(config: TrainConfig, splits: Splits | None = None, checkpoint: Path | str | None = None,
        stop: StopFlag = None, log_every: int = 10, extra_meta: dict | None = None,
        snapshots: Path | str | None = None, pause: Callable[[], bool] | None = None,
        room: Room | None = None) -> Iterator[ev.Event]:
    """Train as the tutorials do — epochs → batches → device → forward, loss → zero grads → backward, step —
    yielding events. Side duties are named helpers the loop calls, the shape of Lightning's and fastai's
    callbacks without their machinery (a few fixed duties need no registry): the batches come from a
    BatchSource (MNIST, the room's drawings with config.drawings, made-up non-digits with config.not_digits);
    a Keeper validates, keeps the best model in `checkpoint` and the `snapshots` folder, measures the starting
    model (`baseline`) and calibrates the best one (`finish`); a Control holds the loop while `pause()` is true
    and ends it when `stop` is set. Losses are read back every `log_every` iterations (one sync, not one a batch),
    and before a validation, so that a diverged model is never evaluated or saved as the best."""
    clock, device = Clock(), resolve_device(config.device)
    prepare(device)
    torch.manual_seed(config.seed)
    data = BatchSource(config, splits or config.splits(), room_of(config, room), device)
    model = to_device(starting_model(config), device)
    keeper, control = Keeper(config, model, data, clock, checkpoint, snapshots, extra_meta), Control(stop, pause)
    every, it = config.evaluation_interval(data.per_epoch * config.epochs), 0
    yield started(config, model, data, clock)
    yield from data.preparing(clock())
    # After Started: a torch optimizer's first use imports torch._dynamo (1.5–4.7 s on a 2-core CPU, README "Speed").
    opt, sched = optimizer(config, model, data.per_epoch * config.epochs)
    data.prepare()
    try:
        yield from keeper.baseline()
        for epoch in range(1, config.epochs + 1):
            model.train()
            losses = EpochLosses(data.per_epoch, config.batch_size, device)
            for images, labels, others in data.batches():
                lr = opt.param_groups[0]["lr"]  # the rate this batch is trained with
                loss, logits = train_step(model, opt, images, labels, data.augment, data.rough, others)
                if sched:
                    sched.step()
                it += 1
                correct = (logits.argmax(1) == labels).sum()
                losses.add(loss, correct, len(labels), lr)
                keeper.window.add(loss, correct, len(labels))
                validate_now, stopping = it % every == 0, control.stopping()
                pausing = not stopping and control.pausing()
                if losses.unread >= log_every or it == 1 or losses.count == data.per_epoch or validate_now \
                        or stopping or pausing:  # the chart's first point at once
                    yield from (told := steps(losses, epoch, it, config.lr, clock(), keeper.kept()))
                    if told and told[-1].kind == "failed":
                        return
                if pausing:
                    yield from control.hold(it, clock, losses)
                    stopping = control.stopping()
                if stopping:
                    yield keeper.finish(ev.Stopped, it)
                    return
                if validate_now:
                    yield keeper.validate(epoch, it)
            if keeper.validated_at != it:  # every epoch ends with a validation
                yield keeper.validate(epoch, it)
            yield ev.EpochEnd(clock(), epoch, it, *losses.mean_std(), keeper.last_val)
        yield keeper.finish(ev.Finished, it)
    except OSError as e:  # a full disk or a read-only folder while saving: say so, keep what is on disk
        yield ev.Failed(clock(), it, f"Could not write the checkpoint ({e.strerror or e}): training stopped. "
                        "Free some space or choose a writable folder.", None)
