"""The Model page's figures on the MNIST test set: the reliability diagram and the calibration error of what the
Draw page shows, and the not-a-digit detector's trade-off (digits.detector_curve). Measuring them takes ~15 s of a
core (the nine views of 10,000 images, 2,400 drawings for the curve), so each checkpoint's are
measured once and kept on disk, keyed by the SHA-256 of the checkpoint file: a new file version gets new figures,
every session and every restart reuses them, and the shipped checkpoints' come with the project. And the
checkpoint taken home: its ONNX file and its weights (digits.export)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import streamlit as st

from digits import detector_curve, export
from digits.calibration import Bin, Calibration, measure_model, reading_ece
from digits.catalog import file_sha256
from digits.detector_fit import FALSE_ALARMS
from digits.reading import LOW_CONFIDENCE
from webapp import resources
from webapp.pictures import model as pictures
from webapp.text import plain

MAX_BYTES = 64 * 1024  # a kept file is ~3 KB; anything far larger is not ours
VERSION = 2  # of what is kept: a change to how the figures are measured bumps it, and old files are not read
# 2: the detector's curve (2026-12-04)


def figures_folder() -> Path:
    return resources.CHECKPOINTS / ".figures"


def _from_json(data: dict) -> tuple[Calibration, float, detector_curve.Curve | None]:
    """The kept figures, checked field by field (a file on disk is outside input): ValueError when anything is off."""
    c = dict(data["calibration"])
    for side in ("before", "after"):
        c[side] = [Bin(**{f.name: float(b[f.name]) if f.name != "count" else int(b[f.name])
                          for f in dataclasses.fields(Bin)}) for b in c[side]]
        if not all(math.isfinite(v) for b in c[side] for v in (b.low, b.high, b.confidence, b.accuracy)) or any(
                b.count < 0 for b in c[side]):
            raise ValueError("a bin is not a count of images with finite figures")
    numbers = {f.name: float(c[f.name]) for f in dataclasses.fields(Calibration) if f.name not in ("before", "after")}
    numbers["measured_on"] = int(numbers["measured_on"])
    calibration = Calibration(**numbers, before=c["before"], after=c["after"])
    ece = float(data["reading_ece"])
    if not all(math.isfinite(v) for v in (*numbers.values(), ece)):
        raise ValueError("a figure is not a number")
    return calibration, ece, detector_curve.from_json(data["curve"]) if data["curve"] is not None else None


def figures(path: Path, test, digits: bool) -> tuple[Calibration, float, detector_curve.Curve | None]:
    """(reliability and ECE with and without the checkpoint's temperature, ECE as the Draw page reads, the
    detector's curve: None without a detector or for a model of another dataset than `digits`) for the checkpoint
    at `path` on `test`: from disk when this file version's were kept, else measured and kept (a folder that
    cannot be written only means measuring again next time)."""
    key = file_sha256(path)
    kept = figures_folder() / f"{key}.json"
    try:
        if kept.stat().st_size > MAX_BYTES:
            raise ValueError("too large to be ours")
        data = json.loads(kept.read_text())
        if data.get("version") == VERSION and data.get("sha256") == key and data.get("measured_on") == len(test):
            return _from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OverflowError):
        pass  # not kept yet, or a file that is not ours: measure
    model = resources.load_model(path)[0]
    calibration, ece = measure_model(model, test), reading_ece(model, test)
    curve = (detector_curve.measure(model, detector_curve.standard_sets(test.images))
             if digits and getattr(model, "detector", None) is not None else None)
    try:
        figures_folder().mkdir(exist_ok=True)
        partial = kept.with_suffix(".tmp")  # written whole, then renamed: a crash leaves no half file behind
        partial.write_text(json.dumps({"version": VERSION, "sha256": key, "measured_on": len(test),
                                       "calibration": dataclasses.asdict(calibration), "reading_ece": ece,
                                       "curve": detector_curve.to_json(curve) if curve is not None else None}))
        partial.replace(kept)
    except OSError:
        pass
    return calibration, ece, curve


def take_home(path: Path, model, meta: dict) -> None:
    """Download buttons for the checkpoint as ONNX, its weights as a state_dict and their description; each file
    made when its button is pressed."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem if path.parent == resources.CHECKPOINTS
                  else f"run-{path.parent.name}")[:60]
    st.markdown("**Take it home**")
    a, b, c = st.columns(3)
    a.download_button("ONNX: runs without PyTorch", lambda: export.onnx_bytes(model), f"{stem}.onnx",
                      "application/octet-stream", key="model_onnx", icon=":material/download:")
    b.download_button("Weights: a PyTorch state_dict", lambda: export.state_dict_bytes(model), f"{stem}-weights.pt",
                      "application/octet-stream", key="model_weights", icon=":material/download:")
    c.download_button("What the weights are (JSON)", lambda: json.dumps(export.description(model, meta), indent=2),
                      f"{stem}-weights.json", "application/json", key="model_spec", icon=":material/download:")
    st.caption(f"The ONNX file (opset {export.OPSET}) takes `pixels`, float32 (N, 1, 28, 28) in [0, 1], white on "
               "black and centred as MNIST's; it gives `logits` and `probabilities`, the calibration temperature "
               "folded in. One view, no not-a-digit detector. Five lines that use it with ONNX Runtime alone are in "
               "the README (*Command line*); `python -m digits export` writes the same files.")


def detector_section(curve) -> None:
    """The not-a-digit detector's trade-off: its curve, where this checkpoint's threshold sits, and what moving it
    would give (digits.detector_curve)."""
    st.markdown("**Not a digit: where the line is drawn**")
    st.plotly_chart(pictures.detector_chart(curve), key="detector_curve",
                    config={"displaylogo": False, "displayModeBar": False})
    st.caption(f"Measured on {plain(curve.digits)} and {plain(curve.others)}, none of which the detector was fitted "
               "on. Each point is one threshold of the detector's score, with the unsure rule (top probability under "
               f"{LOW_CONFIDENCE:.0%}) always on, as the Draw page answers.")
    words = [f"Here this checkpoint flags **{curve.at[0]:.1%}** of real digits (\"Not sure\" or \"That does not look "
             f"like a digit\") and catches **{curve.at[1]:.0%}** of the non-digits. With the detector off, the unsure "
             f"rule alone would flag {curve.off[0]:.1%} of digits and catch {curve.off[1]:.0%}."]
    for share, how in ((curve.at[0] / 2, "half as many"), (curve.at[0] * 2, "twice as many")):
        if (point := curve.others_at(share)) is not None:
            words.append(f"A threshold that doubts at most {how} digits ({share:.1%}) would catch {point[1]:.0%}.")
    words.append(f"The threshold was chosen when the detector was fitted: the score that flags at most "
                 f"{FALSE_ALARMS:.0%} of each of three digit sets it was not fitted on. `python -m digits detector "
                 "CHECKPOINT --curve` prints the curve as a table.")
    st.markdown(" ".join(words))
