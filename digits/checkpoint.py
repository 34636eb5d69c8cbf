"""Checkpoints are plain data: they load with `weights_only=True` and rebuild their own model."""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .models import MODELS, build_model

FORMAT = "digits-checkpoint-v1"


class CheckpointError(Exception):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class CheckpointInfo:
    path: Path
    model: str
    metrics: dict
    config: dict
    created: str


def save_checkpoint(path: Path | str, model_name: str, model: nn.Module, *, config: dict | None = None,
                    metrics: dict | None = None, model_args: dict | None = None, extra: dict | None = None) -> Path:
    """Write atomically: a temporary file in the same folder, then os.replace over the real name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": FORMAT,
        "model": model_name,
        "model_args": dict(model_args or {}),
        "state_dict": {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()},
        "config": dict(config or {}),
        "metrics": dict(metrics or {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(extra or {}),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path: Path | str) -> dict:
    """The checkpoint's plain-data dict, validated; never runs code from the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated zip, foreign pickle, a pickle that tries to run code...
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: not a loadable checkpoint ({reason[:200]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a digits checkpoint (no '{FORMAT}' marker)")
    if data.get("model") not in MODELS:
        raise CheckpointError(f"{path}: unknown model {data.get('model')!r}; known: {', '.join(MODELS)}")
    if not isinstance(data.get("state_dict"), dict):
        raise CheckpointError(f"{path}: has no state_dict")
    return data


def load_checkpoint(path: Path | str) -> tuple[nn.Module, dict]:
    """(model in eval mode on the CPU, metadata without the weights)."""
    data = read_checkpoint(path)
    try:
        model = build_model(data["model"], **data.get("model_args", {}))
        model.load_state_dict(data["state_dict"])
    except (RuntimeError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: weights do not fit model {data['model']!r} ({str(e).splitlines()[0][:200]})") from None
    meta = {k: v for k, v in data.items() if k != "state_dict"}
    meta["path"] = str(path)
    return model.eval(), meta


MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # these networks' checkpoints are ~0.25 MB
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def import_checkpoint(data: bytes, filename: str, folder: Path | str, protected: tuple[str, ...] = (),
                      max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """Check an uploaded checkpoint and store it in `folder` under a safe, new name.

    Refused with a CheckpointError: too large, not a loadable digits checkpoint (weights-only loading
    never runs code from the file), weights that do not fit the architecture it names. The file name
    keeps only its last component and plain characters, can never leave `folder`, and never
    overwrites a file there (a protected or taken name gets a number).
    """
    if len(data) > max_bytes:
        raise CheckpointError(f"{filename}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    stem = SAFE_NAME.sub("-", Path(filename.replace("\\", "/")).name).strip(".-") or "uploaded"
    stem = stem[:-3] if stem.endswith(".pt") else stem
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        load_checkpoint(tmp)
        for n in range(1000):
            target = folder / (f"{stem}.pt" if n == 0 else f"{stem}-{n}.pt")
            if target.name not in protected and not target.exists():
                break
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        return target
    except CheckpointError as e:
        raise CheckpointError(str(e).replace(tmp, filename)) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def list_checkpoints(folder: Path | str) -> tuple[list[CheckpointInfo], dict[Path, str]]:
    """(valid checkpoints sorted by name, {bad file: reason}); bad files are reported, never raised."""
    good, bad = [], {}
    for path in sorted(Path(folder).glob("*.pt")):
        try:
            model, meta = load_checkpoint(path)
        except CheckpointError as e:
            bad[path] = str(e)
            continue
        good.append(CheckpointInfo(path, meta["model"], meta.get("metrics", {}), meta.get("config", {}),
                                   meta.get("created", "")))
    return good, bad
