"""The small records a training run yields. Each is one JSON object: `kind` says which."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar


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


@dataclass(frozen=True)
class Step(Event):
    kind: ClassVar[str] = "step"
    epoch: int
    iteration: int          # 1-based, counted over the whole run
    loss: float             # this batch's training loss
    lr: float
    samples_per_s: float    # training throughput over the last few iterations


@dataclass(frozen=True)
class Evaluation(Event):
    kind: ClassVar[str] = "evaluation"
    epoch: int
    iteration: int
    train_acc: float        # accuracy on the training batches since the previous evaluation
    train_loss: float       # their mean loss
    val_acc: float
    best: bool              # best validation accuracy so far: the checkpoint was updated


@dataclass(frozen=True)
class EpochEnd(Event):
    kind: ClassVar[str] = "epoch"
    epoch: int
    iteration: int
    loss_mean: float        # mean and standard deviation of this epoch's batch losses
    loss_std: float
    val_acc: float


@dataclass(frozen=True)
class Finished(Event):
    kind: ClassVar[str] = "finished"
    iteration: int
    best_val_acc: float
    best_iteration: int
    test_acc: float | None  # of the best checkpoint on the official test set
    checkpoint: str | None


@dataclass(frozen=True)
class Stopped(Finished):
    kind: ClassVar[str] = "stopped"


@dataclass(frozen=True)
class Failed(Event):
    kind: ClassVar[str] = "failed"
    iteration: int
    message: str            # plain words: what happened and what to try
    checkpoint: str | None  # the best checkpoint written before the failure, intact


KINDS = {cls.kind: cls for cls in (Started, Step, Evaluation, EpochEnd, Finished, Stopped, Failed)}
FINAL_KINDS = {"finished", "stopped", "failed"}


def from_dict(d: dict) -> Event:
    """The event a `to_dict` produced (unknown keys are ignored, so old runs stay readable)."""
    cls = KINDS[d["kind"]]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})
