"""What a dashboard shows of a run, computed from its events: progress, ETA, curves and a log; and a
run's title, what it is in a few words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import TrainConfig
from .events import Event, describe
from .models import title
from .runs import CONFIG, last_event, read_json, read_name

MAX_POINTS = 1500  # loss points drawn per run: enough for the shape, cheap to redraw every second
PACE_WINDOW = 30.0  # seconds of the run's latest steps that set its pace (ETA): recent, and steady
PACE_STEPS, PACE_SECONDS = 20, 1.0  # no pace (so no ETA) before this many steps over at least this long: at step 1
                                    # a pace from the start would count start-up time (a 10-minute ETA for an 18 s run)
RATE_STEPS = 200    # latest steps whose median samples/s is shown (a validation drags one reading down)


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
    paused: bool = False               # the loop is waiting between two batches (digits.control.pause_run)
    pace: float = 0.0                  # iterations per second over the last PACE_WINDOW seconds
    val_size: int = 0                  # images in each validation, and in the test pass at the end
    test_size: int = 0
    val_seconds: float | None = None   # median measured time of one validation (None before the first)
    room_train: int = 0                # the room's drawings trained on, and held out (digits.room)
    room_held_out: int = 0
    room_acc: list = field(default_factory=list)     # held-out room accuracy at each of eval_x (None: not measured)
    final_room_acc: float | None = None              # the best checkpoint's, at the end
    before: dict = field(default_factory=dict)       # the starting model's figures: {"test": …, "room": …, "val": …}
    config: dict = field(default_factory=dict)
    loss_x: list = field(default_factory=list)
    loss_y: list = field(default_factory=list)
    loss_smooth: list = field(default_factory=list)
    acc_smooth: list = field(default_factory=list)   # training accuracy of the batches, smoothed like the loss
    lr: list = field(default_factory=list)           # the learning rate at each of loss_x
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
        """Seconds left: the iterations left at the recent pace (validations included), then the finish
        (finish_seconds). None before there is a pace, while paused, and once the run ended."""
        if not self.pace or not self.total_iterations or self.final:
            return None
        return max(0, self.total_iterations - self.iteration) / self.pace + self.finish_seconds

    @property
    def finish_seconds(self) -> float:
        """The work after the last step: a validation and the test pass (test_size / val_size of one), timed by
        the run's own validations; before the first, a forward pass estimated at a third of a training step."""
        if not self.val_size:
            return 0.0
        one = self.val_seconds if self.val_seconds is not None else (
            self.val_size / (3 * self.samples_per_s) if self.samples_per_s else 0.0)
        return one * (1 + self.test_size / self.val_size)

    @property
    def finishing(self) -> bool:
        """Every step done, the final validation and test under way."""
        return not self.final and bool(self.total_iterations) and self.iteration >= self.total_iterations


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
    losses, steps, accs, lrs, rates, times, validations = [], [], [], [], [], [], []
    for e in events:
        s.elapsed = max(s.elapsed, e.elapsed)
        if e.kind == "step":
            steps.append(e.iteration)
            losses.append(e.loss)
            accs.append(e.acc)
            lrs.append(e.lr)
            rates.append(e.samples_per_s)
            times.append(e.elapsed)
            s.iteration, s.epoch, s.paused = e.iteration, e.epoch, False
            continue
        if e.kind == "started":
            s.model, s.device, s.device_name, s.parameters = e.model, e.device, e.device_name, e.parameters
            s.total_iterations, s.epochs, s.config = e.total_iterations, e.config.get("epochs", 0), e.config
            s.room_train, s.room_held_out = e.room_train, e.room_held_out
            s.val_size, s.test_size = e.val_size, e.test_size
        elif e.kind == "baseline":
            s.before = {k: v for k, v in (("val", e.val_acc), ("test", e.test_acc), ("room", e.room_acc))
                        if v is not None}
        elif e.kind in ("paused", "resumed"):
            s.paused = e.kind == "paused"
        elif e.kind == "evaluation":
            if times and steps[-1] == e.iteration:  # its steps are read back just before it: the gap is its time
                validations.append(e.elapsed - times[-1])
            s.eval_x.append(e.iteration)
            s.train_acc.append(e.train_acc)
            s.val_acc.append(e.val_acc)
            s.room_acc.append(e.room_acc)
            s.last_val_acc = e.val_acc
            if e.best:
                s.best_val_acc = e.val_acc
        elif e.kind == "epoch":
            s.epoch_x.append(e.epoch)
            s.epoch_mean.append(e.loss_mean)
            s.epoch_std.append(e.loss_std)
        elif e.kind in ("finished", "stopped"):
            s.final, s.test_acc, s.checkpoint, s.best_val_acc = e.kind, e.test_acc, e.checkpoint, e.best_val_acc
            s.final_room_acc = e.room_acc
            s.before = {k: v for k, v in (("val", e.before_val_acc), ("test", e.before_test_acc),
                                          ("room", e.before_room_acc)) if v is not None}
        elif e.kind == "failed":
            s.final, s.message, s.checkpoint = e.kind, e.message, e.checkpoint
        if e.kind != "started" and (line := describe(e)):
            s.log.append(line)
    if losses:
        _curves(s, steps, losses, accs, lrs, rates, times)
    if validations:
        s.val_seconds = float(np.median(validations))
    if s.paused or s.final:
        s.pace = 0.0
    return s


def _curves(s: RunSummary, steps, losses, accs, lrs, rates, times) -> None:
    """The step events' curves, smoothed and thinned to MAX_POINTS, the throughput and the pace."""
    smooth = ema(losses)
    stride = max(1, int(np.ceil(len(losses) / MAX_POINTS)))
    s.loss_x, s.loss_y, s.loss_smooth, s.lr = steps[::stride], losses[::stride], smooth[::stride], lrs[::stride]
    if None not in accs:  # runs written before batch accuracies were logged have none
        s.acc_smooth = ema(accs)[::stride]
    s.samples_per_s = float(np.median(rates[-RATE_STEPS:]))
    s.pace = _pace(steps, times)


def _pace(iterations: list[int], times: list[float]) -> float:
    """Iterations per second over the last PACE_WINDOW seconds of steps (all of them early on), timed from the
    first step (start-up is not training); 0 before PACE_STEPS steps over PACE_SECONDS: too little to tell."""
    if len(times) < PACE_STEPS or times[-1] - times[0] < PACE_SECONDS:
        return 0.0
    # Steps are read back in chunks that share one time: start the window at a step of an earlier chunk.
    first = min(int(np.searchsorted(times, times[-1] - PACE_WINDOW)), int(np.searchsorted(times, times[-1])) - 1)
    return (iterations[-1] - iterations[first]) / (times[-1] - times[first])


_RUN_ID = re.compile(r"^\d{4}(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-")


def run_title(run_dir: Path | str) -> str:
    """A run in a few words: "LeNet-5 · 3 epochs · lr 0.005 · test 98.91% · <its name> · 11-23 09:40:12".
    From its config, its last event and its name file; a folder without a readable config is its name."""
    run_dir = Path(run_dir)
    try:
        config = TrainConfig.from_dict(read_json(run_dir / CONFIG) or {"model": None})
    except ValueError:
        return run_dir.name
    words = [title(config.model), f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}", f"lr {config.lr:g}"]
    if config.augment:
        words.append("augmented")
    if config.roughen:
        words.append("roughened")
    if config.not_digits:
        words.append("not-digits")
    if config.drawn_digits:
        words.append("drawn digits")
    last = last_event(run_dir)
    if last is not None and getattr(last, "test_acc", None) is not None:
        words.append(f"test {last.test_acc:.2%}")
    return " · ".join([*words, run_name(run_dir)])


def run_name(run_dir: Path | str) -> str:
    """What a person calls a run: the name given at its start and when it started ("run A · 11-23 09:40:12"),
    else "run 11-23 09:40:12" ("run <its folder>" for a folder not named by its start). The short form checkpoint
    lists use; run_title adds what the run is."""
    run_dir = Path(run_dir)
    when = _RUN_ID.match(run_dir.name)
    stamp = "{}-{} {}:{}:{}".format(*when.groups()) if when else run_dir.name
    if name := read_name(run_dir):
        return f"{name} · {stamp}"
    return f"run {stamp}"
