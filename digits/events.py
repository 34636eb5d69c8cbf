"""The small records a training run yields. Each is one JSON object: `kind` says which."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from .config import TrainConfig  # the only dict an event holds is the run's config
from .mnist import dataset_spec


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"
    elapsed: float          # seconds since the run started

    def to_dict(self) -> dict:
        return {"kind": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Started(Event):
    kind: ClassVar[str] = "started"
    model: str
    parameters: int
    device: str             # "cpu", "cuda", "mps"
    device_name: str        # e.g. "NVIDIA H100 80GB HBM3" or "CPU (2 threads)"
    train_size: int
    val_size: int
    test_size: int
    iterations_per_epoch: int
    total_iterations: int
    config: dict
    room_train: int = 0     # the room's drawings trained on (digits.room), before repeating them
    room_val: int = 0       # the room's drawings that help choose the best model
    room_held_out: int = 0  # the room's drawings measured at each evaluation, never trained on nor chosen by


@dataclass(frozen=True)
class Preparing(Event):
    """Made-up non-digits (config.not_digits) or digits (config.drawn_digits) being drawn for a run
    (digits.batch_source), before its first step: tens of seconds on a CPU that would otherwise pass without a word."""
    kind: ClassVar[str] = "preparing"
    not_digits: int         # drawings being made (those that come out blank are left out)
    drawn_digits: int = 0   # the same, of digits (runs written before it have none)


@dataclass(frozen=True)
class Baseline(Event):
    """The model a run starts from, measured before its first step: in runs that fine-tune a checkpoint or
    use the room's drawings, so that their curves start from where the model was."""
    kind: ClassVar[str] = "baseline"
    val_acc: float
    test_acc: float | None
    room_acc: float | None  # on the held-out room drawings


@dataclass(frozen=True)
class Step(Event):
    kind: ClassVar[str] = "step"
    epoch: int
    iteration: int          # 1-based, counted over the whole run
    loss: float             # this batch's training loss
    lr: float               # the learning rate this batch was trained with
    samples_per_s: float    # training throughput over the last few iterations
    acc: float | None = None  # this batch's training accuracy (None in runs written before it was logged)


@dataclass(frozen=True)
class Evaluation(Event):
    kind: ClassVar[str] = "evaluation"
    epoch: int
    iteration: int
    train_acc: float        # accuracy on the training batches since the previous evaluation
    train_loss: float       # their mean loss
    val_acc: float
    best: bool              # best validation so far (MNIST's, and the room's in runs with its drawings): saved
    room_acc: float | None = None      # accuracy on the held-out room drawings (None: the run does not use them)
    room_val_acc: float | None = None  # accuracy on the room's validation drawings


@dataclass(frozen=True)
class EpochEnd(Event):
    kind: ClassVar[str] = "epoch"
    epoch: int
    iteration: int
    loss_mean: float        # mean and standard deviation of this epoch's batch losses
    loss_std: float
    val_acc: float


@dataclass(frozen=True)
class Paused(Event):
    kind: ClassVar[str] = "paused"
    iteration: int          # the last iteration done before the pause


@dataclass(frozen=True)
class Resumed(Paused):
    kind: ClassVar[str] = "resumed"


@dataclass(frozen=True)
class Finished(Event):
    kind: ClassVar[str] = "finished"
    iteration: int
    best_val_acc: float | None  # None when the run ended before its first validation
    best_iteration: int
    test_acc: float | None  # of the best checkpoint on the official test set
    checkpoint: str | None
    room_acc: float | None = None         # the best checkpoint on the held-out room drawings
    before_val_acc: float | None = None   # the model the run started from (a checkpoint to fine-tune, or
    before_test_acc: float | None = None  # random weights), measured the same way; only in runs that
    before_room_acc: float | None = None  # fine-tune or use the room's drawings


@dataclass(frozen=True)
class Stopped(Finished):
    kind: ClassVar[str] = "stopped"


@dataclass(frozen=True)
class Failed(Event):
    kind: ClassVar[str] = "failed"
    iteration: int
    message: str            # plain words: what happened and what to try
    checkpoint: str | None  # the best checkpoint written before the failure, intact


KINDS = {cls.kind: cls for cls in (Started, Preparing, Baseline, Step, Evaluation, EpochEnd, Paused, Resumed,
                                   Finished, Stopped, Failed)}
FINAL_KINDS = {"finished", "stopped", "failed"}


MAX_TEXT = 2000        # characters of a text field read back from a file


def _valid(type_name: str, value):
    """`value` if it is of the annotated type (numbers from JSON included), else ValueError."""
    if value is None and type_name.endswith("| None"):
        return None
    base = type_name.split(" |")[0]
    if base == "bool" and isinstance(value, bool):
        return value
    if base == "int" and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
        return value
    if base == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if base == "str" and isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    if base == "dict" and isinstance(value, dict):
        return TrainConfig.from_dict(value).to_dict()
    raise ValueError(f"expected {type_name}")


def from_dict(d) -> Event:
    """The event a `to_dict` produced; ValueError for anything else (a file's line is data from outside).
    Unknown keys are ignored, so runs written by older versions stay readable."""
    if not isinstance(d, dict) or not isinstance(d.get("kind"), str) or d["kind"] not in KINDS:
        raise ValueError("not an event")
    cls = KINDS[d["kind"]]
    try:
        return cls(**{f.name: _valid(str(f.type), d[f.name]) for f in dataclasses.fields(cls)
                      if f.name in d or f.default is dataclasses.MISSING})
    except KeyError as e:
        raise ValueError(f"{d['kind']} event without {e}") from None


def before_after(e: Finished) -> str:
    """"; before → after: MNIST test 99.10% → 99.05%, room (held out) 60.00% → 92.00%", or "" without a before."""
    pairs = [(what, b, a) for what, b, a in (("MNIST test", e.before_test_acc, e.test_acc),
                                             ("room (held out)", e.before_room_acc, e.room_acc)) if b is not None]
    if not pairs:
        return ""
    return "; before → after: " + ", ".join(f"{what} {b:.2%} → {a:.2%}" if a is not None else f"{what} {b:.2%} → –"
                                             for what, b, a in pairs)


def describe(e: Event) -> str | None:
    """One line of words for an event worth a log line (None for steps): the CLI and the app both say it so."""
    if isinstance(e, Started):
        room = (f" (with {e.room_train:,} of the room's drawings, repeated; {e.room_val:,} more to validate, "
                f"{e.room_held_out:,} held out)"
                if e.room_train or e.room_held_out else "")
        return (f"Training {e.model} ({e.parameters:,} parameters) on {e.device_name}: {e.train_size:,} train{room} / "
                f"{e.val_size:,} validation / {e.test_size:,} test images"
                + (f" of {dataset_spec(e.config['dataset']).title}" if e.config.get("dataset", "mnist") != "mnist"
                   else ""))
    if isinstance(e, Preparing):
        made = [f"{e.not_digits:,} made-up non-digits (scribbles, shapes, letters) to train towards no digit"] * bool(
            e.not_digits) + [f"{e.drawn_digits:,} digits in the forms people write them"] * bool(e.drawn_digits)
        return f"Drawing {' and '.join(made) or 'nothing'}; the first steps follow"
    if isinstance(e, Baseline):
        return (f"Before training: val acc {e.val_acc:.2%}"
                + (f", test accuracy {e.test_acc:.2%}" if e.test_acc is not None else "")
                + (f", room (held out) {e.room_acc:.2%}" if e.room_acc is not None else ""))
    if isinstance(e, Evaluation):
        # The training figures are the mean over the batches since the previous validation (the chart's line is
        # a smoothed batch curve, so the two differ early on): said, so the log and the chart do not seem to disagree.
        return (f"Iteration {e.iteration}: validation acc {e.val_acc:.2%}; training batches since the last "
                f"validation, on average: acc {e.train_acc:.2%}, loss {e.train_loss:.4f}"
                + (f"; room (held out) {e.room_acc:.2%}" if e.room_acc is not None else "")
                + ("  Updated the best model!" if e.best else ""))
    if isinstance(e, EpochEnd):
        return (f"Epoch {e.epoch}: loss {e.loss_mean:.4f} ± {e.loss_std:.4f} (mean ± std of its batches), "
                f"validation acc {e.val_acc:.2%}")
    if isinstance(e, Finished):  # and Stopped
        chosen = " (chosen on MNIST's and the room's validation drawings)" if e.room_acc is not None else ""
        best = (f"best model at iteration {e.best_iteration}{chosen}, val acc {e.best_val_acc:.2%}"
                if e.best_val_acc is not None else "no validation yet")
        test = f", test accuracy {e.test_acc:.2%}" if e.test_acc is not None else ""
        verb = "Stopped on request" if isinstance(e, Stopped) else "Finished"
        return f"{verb} after {e.iteration} iterations in {e.elapsed:.1f} s of training: {best}{test}{before_after(e)}"
    if isinstance(e, Resumed):
        return f"Resumed at iteration {e.iteration}"
    if isinstance(e, Paused):
        return f"Paused after iteration {e.iteration}"
    if isinstance(e, Failed):
        return f"Failed: {e.message}"
    return None
