"""The Train page's sections: following runs as they grow (events read incrementally, labels, tables) and the
controls of a live run. The New-run panel is webapp/train_form.py."""

from __future__ import annotations

import zlib
from pathlib import Path

import pandas as pd
import streamlit as st

from digits.config import choice_words
from digits.control import (
    pause_requested,
    pause_run,
    resume_run,
    stop_run,
)
from digits.models import title
from digits.runs import EventReader, list_runs, read_name, read_plain, run_state
from digits.summary import run_title
from webapp import presenter, resources


def run_reader(run_dir: Path) -> EventReader:
    """The run's events so far, read incrementally: each call reads only the lines added since the last."""
    readers = st.session_state.setdefault("_readers", {})
    reader = readers.setdefault(str(run_dir), EventReader(run_dir))
    reader.read()
    return reader


def run_events(run_dir: Path) -> list:
    return run_reader(run_dir).events


def log_tail(path: Path, size: int = 1500) -> str:
    """The end of a run's train.log as text (shown with st.code, never as markdown)."""
    return read_plain(path, size).decode("utf-8", "replace").strip()


def active_run() -> Path | None:
    """The run that is training now, whoever started it (one job per server)."""
    for run in list_runs(resources.RUNS)[:20]:
        if run_state(run) == "running":
            return run
    return None


def run_labels(names: list[str], live: Path | None) -> dict[str, str]:
    """Each run's words in the selectors: what it is (digits.summary.run_title), marked while it trains,
    and its folder's name added where two would read the same (a selectbox tells options by their words)."""
    labels = {n: ("● training · " if resources.RUNS / n == live else "") + run_title(resources.RUNS / n) for n in names}
    seen = list(labels.values())
    return {n: f"{t} · {n}" if seen.count(t) > 1 else t for n, t in labels.items()}


def run_select(names: list[str], labels: dict[str, str]) -> str:
    """The Run selector; the chosen run's folder name lives in session_state["run"]. The widget is keyed by the
    chosen run's words: Streamlit's selectbox keeps showing the words its chosen option had when it was made
    (a run that ended would still read "● training" there until a reload), so new words make a new widget."""
    current = st.session_state["run"]
    key = f"run_select-{zlib.crc32(labels[current].encode()):08x}"

    def picked():
        st.session_state["run"] = st.session_state[key]

    return st.selectbox("Run", names, index=names.index(current), key=key, format_func=labels.get, on_change=picked)


def before_after(s) -> pd.DataFrame | None:
    """The starting model beside the run's best checkpoint, for runs that fine-tune or use the room's drawings."""
    if not s.before or s.final not in ("finished", "stopped"):
        return None
    rows = [("MNIST test (10,000 images)", s.before.get("test"), s.test_acc)]
    if s.room_held_out:
        rows.append((f"Room's drawings, held out ({s.room_held_out:,})", s.before.get("room"), s.final_room_acc))
    def pct(v):
        return f"{v:.2%}" if v is not None else "–"

    def change(b, a):
        return f"{(a - b) * 100:+.2f} points" if a is not None and b is not None else "–"

    return pd.DataFrame([{"accuracy on": what, "before": pct(b), "after": pct(a), "change": change(b, a)}
                         for what, b, a in rows])


def runs_table(names: list[str], summaries: dict) -> pd.DataFrame:
    """Runs side by side, one row each (by given name, else folder): their settings, then their results
    (TensorBoard's hparams view)."""
    def pct(v):
        return f"{v:.2%}" if v is not None else "–"

    rows = []
    for n in names:
        s, c = summaries[n], summaries[n].config
        architecture = title(s.model) if s.model else "–"
        if c.get("layers"):  # a built network: its layers say what it is
            architecture = f"{architecture}: {c['layers']}"
        rows.append({"run": read_name(resources.RUNS / n) or n, "architecture": architecture,
                     "epochs": c.get("epochs"), "batch": c.get("batch_size"),
                     "optimizer": choice_words("optimizer", c["optimizer"]) if "optimizer" in c else "–",
                     "learning rate": f"{c['lr']:g}" if "lr" in c else "–",
                     "schedule": choice_words("schedule", c["schedule"]) if "schedule" in c else "–",
                     "augment": "yes" if c.get("augment") else "no",
                     "iterations": f"{s.iteration:,} / {s.total_iterations:,}", "seconds": f"{s.elapsed:.0f}",
                     "best validation": pct(s.best_val_acc), "test": pct(s.test_acc)})
    return pd.DataFrame(rows)


def run_controls(run_dir: Path, paused: bool) -> None:
    """Pause or Resume, and Stop, for the presenter."""
    if not presenter.is_presenter():
        return
    a, b = st.columns(2)
    if st.session_state.get("_stopping") == run_dir.name:
        a.button(":material/hourglass_top: Stopping…", width="stretch", disabled=True, key="stopping")
        return
    if paused and not pause_requested(run_dir):  # resumed: the run is back at its next batch
        a.button(":material/hourglass_top: Resuming…", width="stretch", disabled=True, key="resuming")
    elif paused:
        if a.button(":material/play_arrow: Resume", width="stretch", key="resume"):
            resume_run(run_dir)
            st.rerun(scope="fragment")
    elif pause_requested(run_dir):
        a.button(":material/hourglass_top: Pausing…", width="stretch", disabled=True, key="pausing")
    elif a.button(":material/pause: Pause", width="stretch", key="pause",
                  help="The run waits between two batches, its model unchanged, until you resume it"):
        if not pause_run(run_dir):
            st.warning("This run's process could not be reached; it may just have ended.")
        st.rerun(scope="fragment")
    if b.button(":material/stop: Stop training", width="stretch", key="stop"):
        stopped = stop_run(run_dir)  # a paused run stops from its pause
        st.session_state["_stopping"] = run_dir.name  # until it ends: "stopping", not "resuming"
        resume_run(run_dir)
        if stopped:
            st.toast("Stop requested: the run finishes its batch and keeps its best checkpoint, if a validation has "
                     "made one.")
        else:
            st.warning("This run's process could not be reached; it may just have ended.")
