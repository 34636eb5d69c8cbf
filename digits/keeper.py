"""The training run's keeper: it validates, keeps the best model (in memory and in the checkpoint), writes the
snapshots, measures the starting model (the before/after baseline) and finishes the run (the best weights back,
calibrated, measured on the test set). The training loop (digits.train.fit) calls it by name: `baseline`,
`validate`, `finish`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

import torch

from . import events as ev
from .batch_source import BatchSource
from .calibration import fit_temperature, measure
from .checkpoint import save_checkpoint
from .config import TrainConfig
from .device import device_name
from .evaluate import accuracy, accuracy_of, logits_of
from .snapshots import SnapshotWriter
from .step_log import Clock


class Window:
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


class Best:
    """The best model so far by its validation score: the score (None before the first validation), its
    MNIST validation accuracy, its iteration and a copy of its weights."""

    def __init__(self):
        self.score: float | None = None
        self.val_acc: float | None = None
        self.iteration = 0
        self.state: dict[str, torch.Tensor] | None = None
        self.val_logits: torch.Tensor | None = None  # its MNIST validation logits: the temperature is fitted on them

    def offer(self, score: float, val_acc: float, iteration: int, model: torch.nn.Module,
              val_logits: torch.Tensor) -> bool:
        """Keep `model` if `score` beats the best so far; whether it did."""
        if self.score is not None and score <= self.score:
            return False
        self.score, self.val_acc, self.iteration, self.val_logits = score, val_acc, iteration, val_logits
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return True


class Keeper:
    """Validation, the best model, the checkpoint, the snapshots, the baseline and the run's final event."""

    def __init__(self, config: TrainConfig, model: torch.nn.Module, data: BatchSource, clock: Clock,
                 checkpoint: Path | str | None = None, snapshots: Path | str | None = None,
                 extra_meta: dict | None = None):
        self.config, self.model, self.data, self.clock = config, model, data, clock
        self.checkpoint = str(checkpoint) if checkpoint else None
        self.frames = SnapshotWriter(snapshots) if snapshots else None
        self.extra_meta = extra_meta or {}
        self.best, self.window = Best(), Window(data.device)
        self.last_val, self.validated_at = float("nan"), -1  # the latest validation accuracy and its iteration
        self.before: dict = {}  # the starting model's figures, in runs that have something to compare them with
        self.record = data.room.record() if data.room else {}

    def kept(self) -> str | None:
        """The checkpoint's path, once there is a best model in it."""
        return self.checkpoint if self.best.state is not None else None

    def room_acc(self) -> float | None:
        held_out = self.data.held_out
        return round(accuracy(self.model, held_out), 6) if held_out is not None else None

    def save(self, metrics: dict) -> None:
        """The model, as it is now, to the checkpoint (if the run has one) with `metrics` and the room's record."""
        if self.checkpoint:
            kept = {k: v for k, v in {**metrics, **self.before, **self.record}.items()
                    if v is not None and k != "room_sha256"}
            extra = {**self.extra_meta, **({"room_sha256": self.record["room_sha256"]} if self.record else {})}
            save_checkpoint(self.checkpoint, self.config.model, self.model, config=self.config.to_dict(),
                            metrics=kept, extra=extra)

    def snapshot(self, iteration: int, metrics: dict) -> None:
        if self.frames:
            self.frames.save(self.config.model, self.model, iteration, config=self.config.to_dict(), metrics=metrics)

    def baseline(self) -> Iterator[ev.Baseline]:
        """The starting model's figures, in a run that fine-tunes or learns from the room's drawings; then the
        untrained model as the snapshots' first frame, for contrast."""
        data = self.data
        if data.room or self.config.start_from:
            self.before.update(before_val_acc=round(accuracy(self.model, data.val), 6), before_room_acc=self.room_acc(),
                               before_test_acc=round(accuracy(self.model, data.test), 6) if len(data.test) else None)
            yield ev.Baseline(self.clock(), self.before["before_val_acc"], self.before["before_test_acc"],
                              self.before["before_room_acc"])
        self.snapshot(0, {"epoch": 0})

    def validate(self, epoch: int, it: int) -> ev.Evaluation:
        """Measure the model on the validation data; keep and save it if it is the best so far; a snapshot."""
        data, model = self.data, self.model
        val_logits = logits_of(model, data.val)
        acc = round(accuracy_of(val_logits, data.val.labels), 6)
        room_val_acc = round(accuracy(model, data.room_val), 6) if data.room_val is not None else None
        train_acc, train_loss = self.window.take()
        # The best model is the best on the validation data of what the run learns: MNIST's, and the room's
        # validation drawings weighted by their share of the training images (a fine-tune that reads the
        # room better is not passed over for a 0.1-point wobble on MNIST).
        share = self.config.room_share
        score = acc if room_val_acc is None else (1 - share) * acc + share * room_val_acc
        improved = self.best.offer(score, acc, it, model, val_logits)
        if improved:
            self.save({"val_acc": acc, "iteration": it, "epoch": epoch})
        self.snapshot(it, {"val_acc": acc, "epoch": epoch})
        self.last_val, self.validated_at = acc, it
        return ev.Evaluation(self.clock(), epoch, it, train_acc, train_loss, acc, improved, self.room_acc(),
                             room_val_acc)

    def finish(self, kind: type[ev.Finished] | type[ev.Stopped], it: int) -> ev.Finished | ev.Stopped:
        """The best weights back in the model, calibrated, measured on the test set and saved; the final event."""
        best, model, data = self.best, self.model, self.data
        test_acc = final_room = None
        if best.state is not None:
            model.load_state_dict(best.state)
            # Calibrated as `python -m digits calibrate` does (digits.calibration): T fitted on the best model's
            # validation logits (kept when it was chosen: no extra pass), its error measured on test.
            model.temperature = round(fit_temperature(best.val_logits, data.val.labels), 4)
            calibration = {}
            if len(data.test):
                test_logits = logits_of(model, data.test)
                test_acc = round(accuracy_of(test_logits, data.test.labels), 6)
                m = measure(test_logits, data.test.labels, model.temperature)
                calibration = {"test_ece": round(m.ece_after, 6), "uncalibrated_test_ece": round(m.ece_before, 6)}
            final_room = self.room_acc()
            self.save({"val_acc": best.val_acc, "test_acc": test_acc, "room_acc": final_room,
                       "iteration": best.iteration,
                       "epoch": math.ceil(best.iteration / data.per_epoch), "train_seconds": self.clock(),
                       "device": device_name(data.device), "temperature": model.temperature, **calibration})
        b = self.before
        return kind(self.clock(), it, best.val_acc, best.iteration, test_acc, self.kept(), final_room,
                    b.get("before_val_acc"), b.get("before_test_acc"), b.get("before_room_acc"))
