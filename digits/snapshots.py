"""How a run learned: the weights at its evaluations, kept as a bounded series of snapshots.

`fit` (digits.train) offers the model to a `SnapshotWriter` at every evaluation. Each snapshot is an
ordinary checkpoint (digits.checkpoint.save_checkpoint: written atomically, read back through the same
checked loader) named by its iteration, `it-000001500.pt`, in the run folder's `snapshots/` (see
digits.runs). At most MAX_SNAPSHOTS are kept, ~250 KB each: when one more would exceed that, every
other kept snapshot is deleted (the stride between kept evaluations doubles), so the kept ones stay
evenly spread over the run; the first evaluation and the latest are always kept. The latest is the
model as training left it at its last evaluation, which for a finished run is its final weights
(every epoch ends with an evaluation); the best model is the run's best.pt, as before.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from .checkpoint import load_checkpoint, save_checkpoint
from .runs import SNAPSHOTS

MAX_SNAPSHOTS = 24                   # kept per run: enough frames to watch the filters form, ~6 MB a run
NAME = re.compile(r"it-(\d{9})\.pt")  # it-<iteration, nine digits>.pt
MAX_LISTED = 1000                    # directory entries looked at when listing (a run folder is outside data)


def snapshot_name(iteration: int) -> str:
    return f"it-{iteration:09d}.pt"


class SnapshotWriter:
    """Saves the model at each evaluation into `folder`, keeping at most `limit`, evenly thinned."""

    def __init__(self, folder: Path | str, limit: int = MAX_SNAPSHOTS):
        if limit < 2:
            raise ValueError(f"keep at least 2 snapshots (the first and the latest), got {limit}")
        self.folder, self.limit = Path(folder), limit
        self.kept: list[tuple[int, Path]] = []  # (evaluation number from 0, file), oldest first
        self.stride = 1                          # kept evaluations are the multiples of this, and the latest
        self.evaluations = 0

    def save(self, model_name: str, model: nn.Module, iteration: int, *, config: dict, metrics: dict) -> Path:
        """Write the snapshot of this evaluation, then thin the series back to the limit; the new file."""
        number, self.evaluations = self.evaluations, self.evaluations + 1
        path = save_checkpoint(self.folder / snapshot_name(iteration), model_name, model, config=config,
                               metrics={**metrics, "iteration": iteration})
        if self.kept and self.kept[-1][0] % self.stride:  # the previous latest was kept only for being the latest
            self.kept.pop()[1].unlink(missing_ok=True)
        self.kept.append((number, path))
        while len(self.kept) > self.limit:
            self.stride *= 2
            for n, p in self.kept[:-1]:
                if n % self.stride:
                    p.unlink(missing_ok=True)
            self.kept = [(n, p) for n, p in self.kept[:-1] if n % self.stride == 0] + self.kept[-1:]
        return path


@dataclass(frozen=True)
class Snapshot:
    path: Path
    iteration: int           # from the file name; the checkpoint's own metrics say the same once loaded


def list_snapshots(run_dir: Path | str) -> list[Snapshot]:
    """A run's snapshots (in RUN_DIR/snapshots), in training order. Only plain files named as the writer
    names them count (no links); at most MAX_LISTED entries are looked at."""
    found = []
    try:
        with os.scandir(Path(run_dir) / SNAPSHOTS) as entries:
            for i, entry in enumerate(entries):
                if i >= MAX_LISTED:
                    break
                match = NAME.fullmatch(entry.name)
                if match and entry.is_file(follow_symlinks=False):
                    found.append(Snapshot(Path(entry.path), int(match.group(1))))
    except OSError:  # no such folder, not a folder, unreadable: no snapshots
        return []
    return sorted(found, key=lambda s: s.iteration)


def load_snapshot(snapshot: Snapshot | Path | str) -> tuple[nn.Module, dict]:
    """(model in eval mode, metadata) through digits.load_checkpoint's checks; CheckpointError if unusable."""
    return load_checkpoint(snapshot.path if isinstance(snapshot, Snapshot) else snapshot)
