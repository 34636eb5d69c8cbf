"""The Train page's helpers: following runs as they grow, and the settings form built from TrainConfig."""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

import ui
from digits import MODELS, TrainConfig, build_model, count_parameters
from digits.config import choice_words, fields as config_fields, label as config_label
from digits.device import available_devices
from digits.runs import EventReader, list_runs, read_plain, run_state


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
    for run in list_runs(ui.RUNS)[:20]:
        if run_state(run) == "running":
            return run
    return None


@functools.lru_cache(maxsize=None)
def _parameters(model: str) -> int:
    return count_parameters(build_model(model))


def _config_input(where, f, default):
    """The input for one TrainConfig field, from its metadata: label, help, choices or bounds and step."""
    m = f.metadata
    args = dict(label=config_label(f), help=m["help"][:1].upper() + m["help"][1:])
    if f.name == "model":
        args["help"] = "  \n".join(r.description for r in MODELS.values())
        options, words = list(MODELS), lambda v: f"{MODELS[v].title} · {_parameters(v):,} params"
        return where.selectbox(options=options, index=options.index(default), format_func=words, **args)
    if m["choices"] is not None:
        options = available_devices() if f.name == "device" else list(m["choices"])
        return where.selectbox(options=options, index=options.index(default) if default in options else 0,
                               format_func=lambda v: choice_words(f.name, v), **args)
    if f.type in (bool, "bool"):
        return where.toggle(value=default, **args)
    if f.type in (int, "int"):
        return where.number_input(min_value=m["low"], max_value=m["high"], value=default, step=m["step"] or 1, **args)
    return where.number_input(min_value=float(m["low"]), max_value=float(m["high"]), value=float(default),
                              step=m["step"] or 0.01, format="%g", **args)


def config_form(defaults: TrainConfig, columns: int = 4) -> dict:
    """One input per TrainConfig field, laid out in rows of `columns`; the values entered, by field name.
    Validation is TrainConfig's own: build it from the result and show its ValueError."""
    values, settings = {}, config_fields()
    for start in range(0, len(settings), columns):  # a row at a time: on a phone they stack in order
        for where, f in zip(st.columns(columns), settings[start:start + columns]):
            values[f.name] = _config_input(where, f, getattr(defaults, f.name))
    return values
