"""What every page reads: where checkpoints and runs live, the inference device, the MNIST test set,
and the checkpoints (listed, labelled, loaded once per file version, chosen, uploaded).

Pages and helpers read the folders as `resources.CHECKPOINTS` and `resources.RUNS` (tests point them elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
import torch

from digits import CheckpointError, load_checkpoint, resolve_device
from digits.catalog import checkpoint_info, list_checkpoints
from digits.data import load_test
from digits.device import cpu_threads, device_name
from digits.mnist import MNISTUnavailable, dataset_spec
from digits.models import title
from digits.runs import CHECKPOINT, list_runs
from digits.summary import run_name
from webapp.text import plain

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = Path(os.environ.get("DIGITS_CHECKPOINTS", ROOT / "checkpoints"))
RUNS = Path(os.environ.get("DIGITS_RUNS", ROOT / "runs"))


@st.cache_resource
def device() -> torch.device:
    return resolve_device("auto")


def device_label() -> str:
    d = device()
    return f"GPU · {device_name(d)}" if d.type != "cpu" else f"CPU · {cpu_threads()}"


@st.cache_resource(show_spinner="Loading the test set…", max_entries=2)
def test_split(dataset: str = "mnist"):
    """A dataset's official 10,000 test images (fetched and verified on first use)."""
    return load_test(dataset=dataset)


def mnist_or_stop(dataset: str = "mnist"):
    """The test set of `dataset` (MNIST's, or Fashion-MNIST's for a checkpoint that reads it), or a message."""
    try:
        return test_split(dataset)
    except MNISTUnavailable as e:
        st.error(f"{dataset_spec(dataset).title} is not available: {e}")
        st.stop()


def dataset_of(model_or_meta) -> str:
    """What a checkpoint reads: "mnist" (digits) or "fashion" (its config's dataset; a loaded model carries it)."""
    if isinstance(model_or_meta, dict):
        return model_or_meta.get("config", {}).get("dataset", "mnist")
    return getattr(model_or_meta, "dataset", "mnist")


def digits_or_stop(path: Path, what: str) -> None:
    """Stop a page that is about digits, with a plain line, when the checkpoint reads another dataset."""
    try:
        dataset = checkpoint_info(path).config.get("dataset", "mnist")
    except CheckpointError:
        return  # the page's own loading says why the file is unusable
    if dataset != "mnist":
        st.info(f"{checkpoint_label(path)} reads {dataset_spec(dataset).title}, not digits: {what} is for digit "
                "models. Choose a digit checkpoint in the sidebar.", icon=":material/info:")
        st.stop()


# ---------- checkpoints ----------

def _checkpoints():
    """(valid CheckpointInfo list, {bad path: reason}): shipped, uploaded, then each run's best model.
    The core checks each file once per version of it (size, mtime)."""
    return list_checkpoints(CHECKPOINTS, [r / CHECKPOINT for r in list_runs(RUNS)])


def checkpoint_label(path: Path) -> str:
    """A checkpoint's name in selectboxes and captions: model · where from (a file's name, or the run's name and
    start, digits.summary.run_name) · test accuracy."""
    where = path.name if path.parent == CHECKPOINTS else run_name(path.parent)
    try:
        info = checkpoint_info(path)
    except CheckpointError:
        return f"⚠ {where} (invalid)"
    acc = info.metrics.get("test_acc")
    acc = f", test {acc:.2%}" if acc is not None else ""
    dataset = info.config.get("dataset", "mnist")
    return f"{title(info.model)}{'' if dataset == 'mnist' else ' · ' + dataset_spec(dataset).title} · {where}{acc}"


@st.cache_resource(show_spinner=False, max_entries=32)  # ~250 KB a model: a run's snapshots fit
def _model(path: str, size: int, mtime_ns: int):
    model, meta = load_checkpoint(path)
    return model.to(device()).eval(), meta


def load_model(path: Path, stop: bool = True):
    """(model on the inference device, metadata), loaded once per file version. A file that went bad
    since it was listed ends the page with its reason (or, with stop=False, gives None)."""
    try:
        st_ = path.stat()
        return _model(str(path), st_.st_size, st_.st_mtime_ns)
    except (CheckpointError, OSError) as e:
        if not stop:
            return None
        st.error(plain(f"This checkpoint cannot be used: {e}"))
        st.stop()


def valid_checkpoints() -> list[Path]:
    return [c.path for c in _checkpoints()[0]]


def checkpoint_select(label: str, key: str, default: Path | None = None) -> Path | None:
    """A selectbox of the valid checkpoints; its value survives page switches through session_state."""
    options = [str(p) for p in valid_checkpoints()]
    if not options:
        return None
    if st.session_state.get(key) not in options:
        st.session_state[key] = str(default) if default and str(default) in options else options[0]
    chosen = st.selectbox(label, options, key=key, format_func=lambda p: checkpoint_label(Path(p)))
    return Path(chosen)


def invalid_checkpoints() -> dict[Path, str]:
    return _checkpoints()[1]


def selected_checkpoint() -> Path | None:
    value = st.session_state.get("checkpoint")
    return Path(value) if value and Path(value).exists() else None


def checkpoint_or_stop() -> Path:
    """The checkpoint chosen in the sidebar; without one, say how to get one and end the page here."""
    path = selected_checkpoint()
    if path is None:
        st.info("No model yet: train one on the Train page, or choose a checkpoint in the sidebar.")
        st.stop()
    return path
