"""The app's one Streamlit helper module: paths, caches, the shared sidebar and the charts.

Pages stay thin: widgets → one core call → rendering with what is here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from streamlit.runtime.pages_manager import PagesManager

from digits import CheckpointError, load_checkpoint, resolve_device
from digits.data import MNIST_MD5, MNISTUnavailable, load_test, raw_folder, verify
from digits.runs import CHECKPOINT, list_runs, read_events, run_state
from digits.train import device_name


def use_app_navigation() -> None:
    """Streamlit sees the pages/ folder and, until app.py has called st.navigation once, may run a
    page named in the first request's URL on its own (its older multipage mode), without app.py's
    sidebar. When that happens, switch that mode off and run again: the rerun goes through app.py.
    Every page calls this first (app.py needs not: its st.navigation call switches the mode off)."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


ROOT = Path(__file__).resolve().parent
CHECKPOINTS = Path(os.environ.get("DIGITS_CHECKPOINTS", ROOT / "checkpoints"))
RUNS = Path(os.environ.get("DIGITS_RUNS", ROOT / "runs"))
SHIPPED = ("lenet5.pt", "cnn.pt")  # the trained checkpoints that come with the repository
MODEL_NAMES = {"lenet5": "LeNet-5", "cnn": "Small CNN"}


@st.cache_resource
def device() -> torch.device:
    return resolve_device("auto")


def device_label() -> str:
    d = device()
    return f"GPU · {device_name(d)}" if d.type != "cpu" else f"CPU · {torch.get_num_threads()} threads"


@st.cache_data(ttl=60, show_spinner=False)
def dataset_ready() -> bool:
    files = [raw_folder(None) / name for name in MNIST_MD5]
    return all(f.exists() for f in files) and not verify()


@st.cache_resource(show_spinner="Loading the MNIST test set…")
def test_split():
    """The official 10,000 test images (fetched and verified on first use)."""
    return load_test()


def mnist_or_stop():
    try:
        return test_split()
    except MNISTUnavailable as e:
        st.error(f"MNIST is not available: {e}")
        st.stop()


# ---------- checkpoints ----------

def checkpoint_paths() -> list[Path]:
    """Shipped checkpoints first, then other files in checkpoints/, then the best model of each run."""
    shipped = [CHECKPOINTS / n for n in SHIPPED if (CHECKPOINTS / n).exists()]
    others = sorted(p for p in CHECKPOINTS.glob("*.pt") if p.name not in SHIPPED)
    runs = [r / CHECKPOINT for r in list_runs(RUNS) if (r / CHECKPOINT).exists()]
    return shipped + others + runs


@st.cache_data(show_spinner=False, max_entries=256)
def _meta(path: str, mtime: float) -> dict:
    try:
        _, meta = load_checkpoint(path)
    except CheckpointError as e:
        return {"error": str(e)}
    return meta


def checkpoint_meta(path: Path) -> dict:
    return _meta(str(path), path.stat().st_mtime)


def checkpoint_label(path: Path) -> str:
    meta = checkpoint_meta(path)
    where = path.name if path.parent == CHECKPOINTS else f"run {path.parent.name}"
    if "error" in meta:
        return f"⚠ {where} (invalid)"
    acc = meta.get("metrics", {}).get("test_acc")
    acc = f", test {acc:.2%}" if acc is not None else ""
    return f"{MODEL_NAMES.get(meta['model'], meta['model'])} · {where}{acc}"


@st.cache_resource(show_spinner=False, max_entries=8)
def _model(path: str, mtime: float):
    model, meta = load_checkpoint(path)
    return model.to(device()).eval(), meta


def load_model(path: Path):
    """(model on the inference device, metadata), loaded once per file version."""
    return _model(str(path), path.stat().st_mtime)


def valid_checkpoints() -> list[Path]:
    return [p for p in checkpoint_paths() if "error" not in checkpoint_meta(p)]


def checkpoint_select(label: str, key: str, default: Path | None = None) -> Path | None:
    """A selectbox of the valid checkpoints; its value survives page switches through session_state."""
    options = [str(p) for p in valid_checkpoints()]
    if not options:
        return None
    if st.session_state.get(key) not in options:
        st.session_state[key] = str(default) if default and str(default) in options else options[0]
    chosen = st.selectbox(label, options, key=key, format_func=lambda p: checkpoint_label(Path(p)))
    return Path(chosen)


def selected_checkpoint() -> Path | None:
    value = st.session_state.get("checkpoint")
    return Path(value) if value and Path(value).exists() else None


def sidebar() -> None:
    if "open_checkpoint" in st.session_state:  # set by a button before this widget exists in the run
        st.session_state["checkpoint"] = st.session_state.pop("open_checkpoint")
    with st.sidebar:
        checkpoint_select("Model", key="checkpoint")
        if not valid_checkpoints():
            st.caption("No checkpoint yet: train one on the Train page.")
        st.caption(f"Compute: {device_label()}")
        st.caption("MNIST: verified ✓" if dataset_ready() else "MNIST: fetched on first use")


# ---------- runs ----------

def run_events(run_dir: Path) -> list[dict]:
    """All events of a run, read incrementally: each call reads only the lines added since the last."""
    cache = st.session_state.setdefault("_events", {})
    offset, events = cache.get(str(run_dir), (0, []))
    new, offset = read_events(run_dir, offset)
    events = events + new
    cache[str(run_dir)] = (offset, events)
    return events


def active_run() -> Path | None:
    """The run that is training now, whoever started it (one job per server)."""
    for run in list_runs(RUNS)[:20]:
        if run_state(run) == "running":
            return run
    return None


# ---------- charts ----------

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=300, uirevision="keep",
              legend=dict(orientation="h", y=1.12, x=0), hovermode="x unified")


def loss_chart(s) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=s.loss_x, y=s.loss_y, name="batch loss", mode="lines", line=dict(width=1, color="#9ecae1"))
    fig.add_scatter(x=s.loss_x, y=s.loss_smooth, name="smoothed", mode="lines", line=dict(width=2.5, color="#08519c"))
    fig.update_layout(title="Training loss per iteration", xaxis_title="iteration", yaxis_type="log", **LAYOUT)
    return fig


def accuracy_chart(s, others: dict | None = None) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=s.eval_x, y=s.train_acc, name="train", mode="lines+markers", line=dict(color="#fd8d3c"))
    fig.add_scatter(x=s.eval_x, y=s.val_acc, name="validation", mode="lines+markers", line=dict(color="#31a354"))
    for name, o in (others or {}).items():
        fig.add_scatter(x=o.eval_x, y=o.val_acc, name=f"val · {name}", mode="lines", line=dict(dash="dot"))
    fig.update_layout(title="Accuracy at each evaluation", xaxis_title="iteration", yaxis_tickformat=".1%", **LAYOUT)
    return fig


def epoch_chart(s) -> go.Figure:
    mean, std = np.array(s.epoch_mean), np.array(s.epoch_std)
    fig = go.Figure()
    fig.add_scatter(x=s.epoch_x + s.epoch_x[::-1], y=list(mean + std) + list(np.maximum(mean - std, 0))[::-1],
                    fill="toself", fillcolor="rgba(107,174,214,0.3)", line=dict(width=0), name="± std", hoverinfo="skip")
    fig.add_scatter(x=s.epoch_x, y=s.epoch_mean, name="mean loss", mode="lines+markers", line=dict(color="#08519c"))
    fig.update_layout(title="Loss per epoch: mean ± std", xaxis_title="epoch", xaxis_dtick=1, **LAYOUT)
    return fig


def probability_chart(probs: np.ndarray, height: int = 260) -> go.Figure:
    top = int(np.argmax(probs))
    colors = ["#31a354" if i == top else "#9ecae1" for i in range(10)]
    fig = go.Figure(go.Bar(x=list(range(10)), y=probs, marker_color=colors,
                           text=[f"{p:.0%}" if p >= 0.01 else "" for p in probs], textposition="outside"))
    fig.update_layout(margin=dict(l=10, r=10, t=10, b=10), height=height, xaxis=dict(dtick=1, title="digit"),
                      yaxis=dict(range=[0, 1.1], tickformat=".0%"), showlegend=False)
    return fig


def upscale(image: np.ndarray, factor: int = 8) -> np.ndarray:
    """Nearest-neighbour enlargement, so each network pixel stays a visible square."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))
