"""What the training loop reports of its batches: the training clock, each epoch's batch losses (kept on the
device, read back in chunks) and the Step events made of them, which end in Failed when the loss diverges."""

from __future__ import annotations

import math
import time

import torch

from . import events as ev


class Clock:
    """Seconds of training since the start, to the millisecond; time spent paused is left out."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return round(time.perf_counter() - self.start, 3)

    def leave_out(self, seconds: float) -> None:
        self.start += seconds


class EpochLosses:
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


def steps(losses: EpochLosses, epoch: int, iteration: int, peak_lr: float, elapsed: float,
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
