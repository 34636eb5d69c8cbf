"""Checkpoints are plain data: they load with `weights_only=True` and rebuild their own model.

A checkpoint file comes from outside (an upload, a copy, a run folder), so reading one is checked at
every depth before anything else sees it: the archive (size, entries, no compression), the pickle
(weights-only: it never runs code), then a schema. Callers get only the known fields, each of a plain
type and a bounded size, and finite weights that fit the architecture the file names. (About 250 lines: the
checks are one concept, a file's way in, kept together so that none is skipped.)
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import time
import zipfile
from pathlib import Path

import torch
from torch import nn

from . import arch
from .config import TrainConfig
from .detector import DETECTOR_FIELDS, feature_size, from_tensors
from .models import MODELS, build_model

FORMAT = "digits-checkpoint-v1"

# The archive, checked before torch.load. torch.save writes a zip of stored (uncompressed) entries:
# ~20 entries and ~0.25 MB for these networks. Compressed entries are refused: a 4 MB upload of
# DEFLATE-compressed zeros expands to gigabytes inside torch.load.
MAX_FILE_BYTES = 4 * arch.MAX_PARAMETERS + 4 * 1024 * 1024  # float32 weights of the largest network one builds
MAX_ENTRIES = 256

# The schema: known metric → (type, lowest, highest). Other metric keys are dropped.
METRICS = {
    "val_acc": (float, 0.0, 1.0), "test_acc": (float, 0.0, 1.0), "iteration": (int, 0, 10**9),
    "epoch": (int, 0, 10**6), "train_seconds": (float, 0.0, 1e8), "device": (str, 0, 100),
    # runs that fine-tune or learn from the room's drawings (digits.room): the held-out room accuracy, the
    # starting model's figures, and how many of the room's drawings it trained on, validated on, held out
    "room_acc": (float, 0.0, 1.0), "before_val_acc": (float, 0.0, 1.0), "before_test_acc": (float, 0.0, 1.0),
    "before_room_acc": (float, 0.0, 1.0), "room_train": (int, 0, 10**7), "room_val": (int, 0, 10**7),
    "room_held_out": (int, 0, 10**7),
    # calibration (digits.calibration, `python -m digits calibrate --write`): logits ÷ temperature before the
    # softmax, fitted on the validation split (absent: 1); the test set's ECE with it and without it (T = 1)
    "temperature": (float, 0.05, 20.0), "test_ece": (float, 0.0, 1.0), "uncalibrated_test_ece": (float, 0.0, 1.0),
    # the not-a-digit detector (digits.detector, `python -m digits detector --write`): its threshold, and the share
    # it flags (alone) of the validation split's digits and of drawn non-digits (digits.negatives) it was not fitted on
    "detector_threshold": (float, -1e4, 1e4), "detector_val_flagged": (float, 0.0, 1.0),
    "detector_negatives_flagged": (float, 0.0, 1.0),
}
# top-level strings kept → longest length kept; "command" made the weights, "calibration_command" the temperature
TEXT_FIELDS = {"created": 40, "command": 1000, "room_sha256": 64, "calibration_command": 1000, "detector_command": 1000}
# "detector": the not-a-digit detector's tensors (digits.detector.DETECTOR_FIELDS), at most this many numbers in all;
# their shapes are checked against the model when it is built (load_checkpoint)
MAX_DETECTOR_NUMBERS = 100_000


class CheckpointError(Exception):
    """A checkpoint file that cannot be used; the message names the file and the problem (one line)."""


def save_checkpoint(path: Path | str, model_name: str, model: nn.Module, *, config: dict | None = None,
                    metrics: dict | None = None, model_args: dict | None = None, extra: dict | None = None) -> Path:
    """Write atomically: a temporary file in the same folder, then os.replace over the real name."""
    return _write(Path(path), {
        "format": FORMAT,
        "model": model_name,
        "model_args": dict(model_args or {}),
        "state_dict": {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()},
        "config": dict(config or {}),
        "metrics": dict(metrics or {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(extra or {}),
    })


def amend_checkpoint(path: Path | str, metrics: dict | None = None, text: dict | None = None,
                     detector: dict | None = None) -> Path:
    """Add or replace metrics, text fields and the detector's tensors of a checkpoint file in place, atomically
    (as save_checkpoint writes). The file is read and checked as any other, the new values must pass the same
    schema, and the rest is written back as read: weights, config, created, command (fields the loader does
    not keep are not written back)."""
    path = Path(path)
    data = read_checkpoint(path)
    data["metrics"] = _metrics(path, {**data["metrics"], **(metrics or {})})
    if detector is not None:
        data["detector"] = _detector(path, detector)
    for key, value in (text or {}).items():
        if not (key in TEXT_FIELDS and isinstance(value, str) and len(value) <= TEXT_FIELDS[key]):
            raise ValueError(f"{key!r} is not a text field of a checkpoint, or longer than it keeps")
        data[key] = value
    return _write(path, {"format": FORMAT, "model": data["model"], "model_args": {}, **data})


def _write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
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


def _short(value, n: int = 40) -> str:
    """A value from a file, quoted and cut short, for a one-line message."""
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= n else text[: n - 1] + "…"


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if not path.is_file():  # a fifo or a device would block or never end
        raise CheckpointError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CheckpointError(f"{path}: {size / 1e6:.1f} MB is larger than any checkpoint of these networks "
                              f"(limit {MAX_FILE_BYTES / 1e6:.0f} MB)")
    with open(path, "rb") as f:
        return f.read(MAX_FILE_BYTES + 1)


def _check_archive(path: Path, raw: bytes) -> None:
    """The zip that torch.save writes: few entries, all stored, small in total. Nothing is expanded here."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            entries = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise CheckpointError(f"{path}: not a loadable checkpoint (not a torch zip archive: {str(e)[:80]})") from None
    if len(entries) > MAX_ENTRIES:
        raise CheckpointError(f"{path}: not a loadable checkpoint "
                              f"({len(entries)} archive entries; at most {MAX_ENTRIES})")
    if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
        raise CheckpointError(f"{path}: not a loadable checkpoint "
                              "(compressed archive entries; torch.save stores them plain)")
    total = sum(e.file_size for e in entries)
    if total > MAX_FILE_BYTES:
        raise CheckpointError(f"{path}: not a loadable checkpoint ({total / 1e6:.0f} MB inside the archive)")


def _metrics(path: Path, value) -> dict:
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: metrics must be a mapping, not {_short(value)}")
    out = {}
    for key, (kind, low, high) in METRICS.items():
        if key not in value:
            continue
        v = value[key]
        if kind is str:
            ok = isinstance(v, str) and len(v) <= high
        else:
            ok = (isinstance(v, (int, float)) and not isinstance(v, bool) and (kind is float or isinstance(v, int))
                  and math.isfinite(v) and low <= v <= high)
        if not ok:
            raise CheckpointError(f"{path}: metrics.{key} must be "
                                  f"{'text' if kind is str else f'a number from {low} to {high}'}, "
                                  f"not {_short(v)}")
        out[key] = kind(v)
    return out


def _config(path: Path, value) -> dict:
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: config must be a mapping, not {_short(value)}")
    known = {k: v for k, v in value.items() if k in TrainConfig.field_names()}
    try:
        TrainConfig.from_dict(known)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: config: {str(e)[:200]}") from None
    return known


def _weights(path: Path, value) -> dict[str, torch.Tensor]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in value.items()):
        raise CheckpointError(f"{path}: state_dict must map parameter names to tensors")
    for k, v in value.items():
        if k.endswith(".num_batches_tracked") and v.dtype == torch.int64 and v.numel() == 1:
            continue  # batch norm's count of batches seen: the one whole number a state_dict holds
        if not v.is_floating_point():
            raise CheckpointError(f"{path}: weights {k[:40]!r} are {v.dtype}, not floating point")
        if not torch.isfinite(v).all():
            raise CheckpointError(f"{path}: weights {k[:40]!r} hold NaN or infinite values")
    return value


def _detector(path: Path, value) -> dict[str, torch.Tensor]:
    """The detector's tensors, checked for what can be checked without the model: names, kinds, size, finite."""
    if not isinstance(value, dict) or set(value) != set(DETECTOR_FIELDS) or \
            not all(isinstance(v, torch.Tensor) and v.is_floating_point() for v in value.values()):
        raise CheckpointError(f"{path}: detector must map {', '.join(DETECTOR_FIELDS)} to float tensors")
    if sum(v.numel() for v in value.values()) > MAX_DETECTOR_NUMBERS:
        raise CheckpointError(f"{path}: detector holds more than {MAX_DETECTOR_NUMBERS:,} numbers")
    if not all(torch.isfinite(v).all() for v in value.values()):
        raise CheckpointError(f"{path}: detector holds NaN or infinite values")
    return value


def read_checkpoint(path: Path | str) -> dict:
    """The checkpoint's known fields, validated (see the module docstring); never runs code from the file."""
    path = Path(path)
    raw = _read_bytes(path)
    _check_archive(path, raw)
    try:
        data = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as e:  # a foreign pickle, a pickle that tries to run code, a corrupt entry…
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: not a loadable checkpoint ({reason[:200]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a digits checkpoint (no '{FORMAT}' marker)")
    model = data.get("model")
    if not isinstance(model, str) or model not in MODELS:
        raise CheckpointError(f"{path}: unknown model {_short(model)}; known: {', '.join(MODELS)}")
    if data.get("model_args") not in (None, {}):
        raise CheckpointError(f"{path}: model_args must be empty (these models take no arguments)")
    clean = {"format": FORMAT, "model": model, "state_dict": _weights(path, data.get("state_dict")),
             "config": _config(path, data.get("config", {})), "metrics": _metrics(path, data.get("metrics", {}))}
    for key, longest in TEXT_FIELDS.items():  # descriptive text: kept when plain and short, else dropped
        if isinstance(data.get(key), str) and len(data[key]) <= longest:
            clean[key] = data[key]
    if data.get("detector") is not None:
        if "detector_threshold" not in clean["metrics"]:
            raise CheckpointError(f"{path}: a detector needs metrics.detector_threshold")
        clean["detector"] = _detector(path, data["detector"])
    return clean


def load_checkpoint(path: Path | str, detector: bool = True) -> tuple[nn.Module, dict]:
    """(model in eval mode on the CPU, metadata without the weights): the schema's fields and `path`.
    The model carries the checkpoint's calibration as `model.temperature` (1.0 when it has none) and its
    not-a-digit detector as `model.detector` (digits.detector.Detector; None when it has none, or when
    `detector` is False: what fitting a new one asks for, since the old one may no longer fit the features)."""
    data = read_checkpoint(path)
    try:
        model = build_model(data["model"], data["config"].get("layers", ""))
        model.load_state_dict(data.pop("state_dict"))
    except (RuntimeError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: weights do not fit model {data['model']!r} "
                              f"({str(e).splitlines()[0][:200]})") from None
    model.temperature = data["metrics"].get("temperature", 1.0)  # digits.models.probabilities divides by it
    model.dataset = data["config"].get("dataset", "mnist")  # what it reads: pages about digits ask
    model.detector = None  # digits.reading.classify asks it, when there is one
    if "detector" in data and not detector:
        del data["detector"]
    elif "detector" in data:
        try:
            model.detector = from_tensors(data.pop("detector"), data["metrics"]["detector_threshold"],
                                          feature_size(model))
        except ValueError as e:
            raise CheckpointError(f"{path}: {e}") from None
    data["path"] = str(path)
    return model.eval(), data
