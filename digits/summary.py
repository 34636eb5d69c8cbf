"""What a dashboard shows of a run, computed from its events: progress, ETA, curves and a log."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .events import Event, describe

MAX_POINTS = 1500  # loss points drawn per run: enough for the shape, cheap to redraw every second


@dataclass
class RunSummary:
    model: str = ""
    device: str = ""                   # "cpu", "cuda", "mps"
    device_name: str = ""              # "CPU (2 threads)", "NVIDIA H100 80GB HBM3"
    parameters: int = 0
    epochs: int = 0
    epoch: int = 0
    iteration: int = 0
    total_iterations: int = 0
    elapsed: float = 0.0
    samples_per_s: float = 0.0
    best_val_acc: float | None = None
    last_val_acc: float | None = None
    test_acc: float | None = None
    checkpoint: str | None = None
    final: str | None = None          # "finished", "stopped", "failed" or None while running
    message: str = ""                  # why it failed
    loss_x: list = field(default_factory=list)
    loss_y: list = field(default_factory=list)
    loss_smooth: list = field(default_factory=list)
    eval_x: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    epoch_x: list = field(default_factory=list)
    epoch_mean: list = field(default_factory=list)
    epoch_std: list = field(default_factory=list)
    log: list = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return min(1.0, self.iteration / self.total_iterations) if self.total_iterations else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far (None before there is a pace)."""
        if not self.iteration or not self.total_iterations or self.final:
            return None
        return self.elapsed / self.iteration * (self.total_iterations - self.iteration)


def ema(values: list[float], weight: float = 0.95) -> list[float]:
    """Exponential moving average with bias correction (as TensorBoard's smoothing slider)."""
    out, avg = [], 0.0
    for i, v in enumerate(values, 1):
        avg = weight * avg + (1 - weight) * v
        out.append(avg / (1 - weight ** i))
    return out


def summarize(events: list[Event]) -> RunSummary:
    """What the Train page shows of a run, from its typed events (digits.runs.EventReader)."""
    s = RunSummary()
    losses, steps = [], []
    for e in events:
        s.elapsed = max(s.elapsed, e.elapsed)
        if e.kind == "step":
            steps.append(e.iteration)
            losses.append(e.loss)
            s.iteration, s.epoch, s.samples_per_s = e.iteration, e.epoch, e.samples_per_s
            continue
        if e.kind == "started":
            s.model, s.device, s.device_name, s.parameters = e.model, e.device, e.device_name, e.parameters
            s.total_iterations, s.epochs = e.total_iterations, e.config.get("epochs", 0)
        elif e.kind == "evaluation":
            s.eval_x.append(e.iteration)
            s.train_acc.append(e.train_acc)
            s.val_acc.append(e.val_acc)
            s.last_val_acc = e.val_acc
            if e.best:
                s.best_val_acc = e.val_acc
        elif e.kind == "epoch":
            s.epoch_x.append(e.epoch)
            s.epoch_mean.append(e.loss_mean)
            s.epoch_std.append(e.loss_std)
        elif e.kind in ("finished", "stopped"):
            s.final, s.test_acc, s.checkpoint, s.best_val_acc = e.kind, e.test_acc, e.checkpoint, e.best_val_acc
        elif e.kind == "failed":
            s.final, s.message, s.checkpoint = e.kind, e.message, e.checkpoint
        if e.kind != "started" and (line := describe(e)):
            s.log.append(line)
    if losses:
        smooth = ema(losses)
        stride = max(1, int(np.ceil(len(losses) / MAX_POINTS)))
        s.loss_x, s.loss_y, s.loss_smooth = steps[::stride], losses[::stride], smooth[::stride]
    return s
