"""Checkpoints uploaded by people: checked, stored under a safe new name, never over another file.

In a workshop many people may upload at once, so a name is claimed atomically (a hard link, which
fails if the name exists) and the folder has a cap: past it, uploads are refused with a message and
nothing already there is deleted.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from .catalog import SHIPPED
from .checkpoint import CheckpointError, load_checkpoint

MAX_UPLOAD_BYTES = 5 * 1024 * 1024   # one file; these networks' checkpoints are ~0.25 MB
MAX_UPLOADS = 50                     # files in the folder besides the shipped ones
MAX_FOLDER_BYTES = 100 * 1024 * 1024  # all of them together
MAX_STEM = 60                        # characters of the uploaded name that are kept
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(filename: str) -> str:
    """The last path component, plain characters only, at most MAX_STEM long, without '.pt'."""
    stem = _UNSAFE.sub("-", str(filename).replace("\\", "/").rsplit("/", 1)[-1])
    stem = stem[:-3] if stem.lower().endswith(".pt") else stem
    return stem.strip(".-")[:MAX_STEM].strip(".-") or "uploaded"


def _room(folder: Path, size: int) -> None:
    uploads = [p for p in folder.glob("*.pt") if p.name not in SHIPPED]
    if len(uploads) >= MAX_UPLOADS:
        raise CheckpointError(f"the checkpoints folder already holds {len(uploads)} uploaded files, the most it keeps; "
                              "ask the presenter to remove some")
    used = sum(p.stat().st_size for p in uploads if p.is_file())
    if used + size > MAX_FOLDER_BYTES:
        raise CheckpointError(f"the uploaded files already take {used / 1e6:.0f} MB of the "
                              f"{MAX_FOLDER_BYTES / 1e6:.0f} MB kept; ask the presenter to remove some")


def import_checkpoint(data: bytes, filename: str, folder: Path | str, protected: tuple[str, ...] = SHIPPED,
                      max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """Check an uploaded checkpoint and store it in `folder` under a safe, new name; the stored path.

    Refused with a one-line CheckpointError: too large, the folder full, or anything `load_checkpoint`
    refuses (weights-only loading never runs code from the file). A protected or taken name gets a number.
    """
    shown = safe_stem(filename) + ".pt"  # messages name the upload by its safe name only
    if len(data) > max_bytes:
        raise CheckpointError(f"{shown}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _room(folder, len(data))
        fd, tmp = tempfile.mkstemp(prefix=".upload.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise CheckpointError(f"{shown}: cannot store uploads in {folder.name}/ ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            load_checkpoint(tmp)
        except CheckpointError as e:
            raise CheckpointError(str(e).replace(tmp, shown)) from None
        os.chmod(tmp, 0o644)
        return _claim(Path(tmp), folder, safe_stem(filename), protected)
    except OSError as e:  # a full disk while writing
        raise CheckpointError(f"{shown}: could not be stored ({e.strerror or e})") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def _claim(tmp: Path, folder: Path, stem: str, protected: tuple[str, ...]) -> Path:
    """Link `tmp` to the first free name stem.pt, stem-1.pt, …: os.link fails if the name exists, so two
    uploads at the same moment never take the same name."""
    for n in range(MAX_UPLOADS * 20):
        target = folder / (f"{stem}.pt" if n == 0 else f"{stem}-{n}.pt")
        if target.name in protected:
            continue
        try:
            os.link(tmp, target)
            return target
        except FileExistsError:
            continue
    raise CheckpointError(f"{stem}.pt: no free name left for it; rename the file")
