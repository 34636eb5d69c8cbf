"""Training: one generator that yields events (digits.events) for a `TrainConfig` (digits.config)."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from . import events as ev
from .augment import random_affine
from .checkpoint import save_checkpoint
from .config import TrainConfig
from .data import MNIST_MEAN, MNIST_STD, Splits, batches, load_splits
from .evaluate import accuracy
from .models import build_model, count_parameters, to_device

def resolve_device(name: str = "auto") -> torch.device:
    """auto → CUDA, then Apple MPS, then CPU; an explicit choice that is absent is an error."""
    has = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if has[d]))
    if not has.get(name, False):
        raise ValueError(f"device {name!r} is not available on this machine")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({cpu_threads()})"


def cpu_threads() -> str:
    """How many threads torch computes with on the CPU: "1 thread", "2 threads"."""
    n = torch.get_num_threads()
    return f"{n} thread{'' if n == 1 else 's'}"


StopFlag = threading.Event | Callable[[], bool] | None


def _stopping(stop: StopFlag) -> bool:
    if stop is None:
        return False
    return stop.is_set() if isinstance(stop, threading.Event) else bool(stop())


def train_step(model, opt, images: torch.Tensor, labels: torch.Tensor,
               augment: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the seeds' flow on a device-resident uint8 batch: forward, loss, zero grads, backward, step."""
    x = images.unsqueeze(1).float().div_(255)            # (B, 1, 28, 28) in [0, 1]
    if augment is not None:
        x = random_affine(x, augment)                    # distort before normalising: background stays 0
    x = (x - MNIST_MEAN) / MNIST_STD
    logits = model(x)                                    # (B, 10)
    loss = F.cross_entropy(logits, labels)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss, logits


def one_cycle(step: int, total: int, warmup: float = 0.25) -> float:
    """Learning-rate factor: linear warm-up from 4% to 100% over the first quarter, then cosine to 0
    (the one-cycle policy of Smith & Topin 2018, without its momentum cycling)."""
    up = max(1, round(warmup * total))
    if step < up:
        return 0.04 + 0.96 * step / up
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - up) / max(1, total - up))))


class _Window:
    """Training batches since the last validation: summed on the device, read once per validation."""

    def __init__(self, device: torch.device):
        self.loss = torch.zeros((), device=device)
        self.correct = torch.zeros((), device=device, dtype=torch.long)
        self.batches = self.samples = 0

    def add(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        self.loss += loss.detach()
        self.correct += (logits.argmax(1) == labels).sum()
        self.batches += 1
        self.samples += len(labels)

    def take(self) -> tuple[float, float]:
        """(accuracy, mean loss) of the window, then start a new one."""
        if not self.batches:
            return float("nan"), float("nan")
        acc, loss = self.correct.item() / self.samples, self.loss.item() / self.batches
        self.__init__(self.loss.device)
        return round(acc, 6), round(loss, 6)


def fit(config: TrainConfig, splits: Splits | None = None, checkpoint: Path | str | None = None,
        stop: StopFlag = None, log_every: int = 10, extra_meta: dict | None = None) -> Iterator[ev.Event]:
    """Train as the seeds do — epochs → batches → device → forward, loss → zero grads → backward, step —
    yielding events. `checkpoint` receives the best model (by validation accuracy) whenever it improves.
    Losses are read back from the device every `log_every` iterations (one sync, not one per batch)."""
    t0 = time.perf_counter()
    elapsed = lambda: round(time.perf_counter() - t0, 3)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    splits = splits or load_splits(config.val_size, config.seed)
    if config.batch_size > len(splits.train):
        raise ValueError(f"batch size {config.batch_size} is larger than the {len(splits.train)} training images")
    train, val, test = (s.to(device) for s in (splits.train, splits.val, splits.test))
    model = to_device(build_model(config.model), device)
    per_epoch = math.ceil(len(train) / config.batch_size)
    total = per_epoch * config.epochs
    if config.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              weight_decay=config.weight_decay, nesterov=config.momentum > 0)
    sched = (torch.optim.lr_scheduler.LambdaLR(opt, lambda step: one_cycle(step, total))
             if config.schedule == "onecycle" else None)
    ckpt_path = str(checkpoint) if checkpoint else None
    extra = dict(extra_meta or {})
    yield ev.Started(elapsed(), config.model, count_parameters(model), device.type, device_name(device),
                     len(train), len(val), len(test), per_epoch, total, config.to_dict())

    gen = torch.Generator().manual_seed(config.seed)
    best_val, best_iter, best_state, last_val = None, 0, None, float("nan")  # None: no evaluation yet
    it, t_window = 0, time.perf_counter()
    window = _Window(device)

    def save_best(metrics: dict) -> None:
        if ckpt_path:
            save_checkpoint(ckpt_path, config.model, model, config=config.to_dict(), metrics=metrics, extra=extra)

    def final(cls):
        test_acc = None
        if best_state is not None:
            model.load_state_dict(best_state)
            test_acc = round(accuracy(model, test), 6) if len(test) else None
            save_best({"val_acc": best_val, "test_acc": test_acc, "iteration": best_iter,
                       "epoch": math.ceil(best_iter / per_epoch), "train_seconds": elapsed(),
                       "device": device_name(device)})
        return cls(elapsed(), it, best_val, best_iter, test_acc, ckpt_path if best_state is not None else None)

    def validate(epoch: int) -> ev.Evaluation:
        nonlocal best_val, best_iter, best_state, last_val
        last_val = round(accuracy(model, val), 6)
        train_acc, train_loss = window.take()
        improved = best_val is None or last_val > best_val
        if improved:
            best_val, best_iter = last_val, it
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            save_best({"val_acc": last_val, "iteration": it, "epoch": epoch})
        model.train()
        return ev.Evaluation(elapsed(), epoch, it, train_acc, train_loss, last_val, improved)

    try:
        for epoch in range(1, config.epochs + 1):
            model.train()
            losses = torch.empty(per_epoch, device=device)
            flushed = 0
            last_eval = -1
            for b, (xb, yb) in enumerate(batches(train, config.batch_size, gen)):
                loss, logits = train_step(model, opt, xb, yb, gen if config.augment else None)
                if sched:
                    sched.step()
                it += 1
                losses[b] = loss.detach()
                window.add(loss, logits, yb)
                # Read the losses back (one device sync) every few batches, and always before a
                # validation, so that a diverged model is never evaluated or saved as the best.
                evaluate_now = it % config.eval_every == 0
                if b + 1 - flushed >= log_every or b + 1 == per_epoch or evaluate_now or _stopping(stop):
                    values = losses[flushed:b + 1].tolist()
                    now = time.perf_counter()
                    rate = (b + 1 - flushed) * config.batch_size / max(now - t_window, 1e-9)
                    t_window = now
                    lr = opt.param_groups[0]["lr"]
                    for k, v in enumerate(values):
                        if not math.isfinite(v):
                            yield ev.Failed(elapsed(), it - len(values) + k + 1,
                                            f"The loss became {v} at iteration {it - len(values) + k + 1}: training diverged. "
                                            f"Try a lower learning rate (this run used {config.lr:g}).",
                                            ckpt_path if best_state is not None else None)
                            return
                        yield ev.Step(elapsed(), epoch, it - len(values) + k + 1, round(v, 6), lr, round(rate, 1))
                    flushed = b + 1
                if _stopping(stop):
                    yield final(ev.Stopped)
                    return
                if evaluate_now:
                    last_eval = it
                    yield validate(epoch)
            if last_eval != it:
                yield validate(epoch)
            yield ev.EpochEnd(elapsed(), epoch, it, round(losses.mean().item(), 6),
                              round(losses.std().item() if per_epoch > 1 else 0.0, 6), last_val)
        yield final(ev.Finished)
    except OSError as e:  # a full disk or a read-only folder while saving: say so, keep what is on disk
        yield ev.Failed(elapsed(), it, f"Could not write the checkpoint ({e.strerror or e}): training stopped. "
                        "Free some space or choose a writable folder.", None)
