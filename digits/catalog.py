"""Which checkpoints there are: the files of a folder and of the runs, each checked once per version.

Bad files are reported with their reason, never raised, so that one broken file never hides the others.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .checkpoint import CheckpointError, load_checkpoint

SHIPPED = ("lenet5.pt", "cnn.pt")  # the trained checkpoints that come with the repository, in checkpoints/


@dataclass(frozen=True)
class CheckpointInfo:
    """What a valid checkpoint says of itself, after the schema: plain, small, valid data."""
    path: Path
    model: str                      # a key of digits.MODELS
    metrics: dict = field(default_factory=dict)   # only METRICS keys, in range
    config: dict = field(default_factory=dict)    # only TrainConfig fields, valid values
    created: str = ""
    command: str = ""


@functools.lru_cache(maxsize=512)
def _info(path: str, size: int, mtime_ns: int) -> CheckpointInfo | str:
    try:
        _, meta = load_checkpoint(path)
    except CheckpointError as e:
        return str(e)
    return CheckpointInfo(Path(path), meta["model"], meta["metrics"], meta["config"],
                          meta.get("created", ""), meta.get("command", ""))


@functools.lru_cache(maxsize=512)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def file_sha256(path: Path | str) -> str:
    """The SHA-256 of a checkpoint file, computed once per version of it (size and mtime): what figures and
    answers measured with it are kept under (webapp.model, digits.room_answers)."""
    st = Path(path).stat()
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


def checkpoint_info(path: Path | str) -> CheckpointInfo:
    """The checked metadata of one file; loaded once per version of the file (size and mtime)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        raise CheckpointError(f"{path}: no such file") from None
    info = _info(str(path), st.st_size, st.st_mtime_ns)
    if isinstance(info, str):
        raise CheckpointError(info)
    return info


def checkpoint_files(folder: Path | str, runs: list[Path] = ()) -> list[Path]:
    """Shipped checkpoints first, then other files in `folder` by name, then each run's best model."""
    folder = Path(folder)
    shipped = [folder / n for n in SHIPPED if (folder / n).exists()]
    others = sorted(p for p in folder.glob("*.pt") if p.name not in SHIPPED) if folder.is_dir() else []
    return shipped + others + [p for p in runs if p.exists()]


def list_checkpoints(folder: Path | str, runs: list[Path] = ()) -> tuple[list[CheckpointInfo], dict[Path, str]]:
    """(valid checkpoints in `checkpoint_files` order, {bad file: reason}); bad files are reported, never raised."""
    good, bad = [], {}
    for path in checkpoint_files(folder, runs):
        try:
            good.append(checkpoint_info(path))
        except CheckpointError as e:
            bad[path] = str(e)
    return good, bad
