"""Digit images and their ten probabilities, as several pages show them: pixel blocks, frames, bars."""

from __future__ import annotations

import numpy as np

from webapp.pictures.numbers import percent


def probability_bars(probs: np.ndarray, height: int = 150, greyed: bool = False) -> str:
    """Ten vertical bars as plain HTML: the Draw page's chart, cheap for a browser to draw on every
    stroke (a plotly chart costs a busy laptop far more). Built from our own numbers only. The top bar is
    green for an answer, grey (`greyed`) for a guess the page does not give as one (unsure, not a digit)."""
    top = int(np.argmax(probs))
    top_colour = "#bdbdbd" if greyed else "#31a354"
    bars = "".join(
        f"<div style='flex:1;text-align:center;font-size:13px'>"
        f"<div style='height:{height}px;display:flex;flex-direction:column;justify-content:flex-end'>"
        f"<div style='font-size:11px;color:#555'>{percent(p, 0)}</div>"
        f"<div style='height:{max(float(p) * height, 1):.0f}px;background:{top_colour if i == top else '#9ecae1'};"
        f"border-radius:3px 3px 0 0'></div></div><div>{i}</div></div>"
        for i, p in enumerate(probs))
    return (f"<div class='probs{' greyed' if greyed else ''}' style='display:flex;gap:6px;align-items:flex-end'>"
            f"{bars}</div>")


def upscale(image: np.ndarray, factor: int = 8) -> np.ndarray:
    """Nearest-neighbour enlargement, so each network pixel stays a visible square."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))


def framed(image: np.ndarray, right: bool, factor: int = 3) -> np.ndarray:
    """A test image enlarged, in a green frame when the model was right and a red one when wrong."""
    grey = upscale(image, factor)
    out = np.zeros((grey.shape[0] + 8, grey.shape[1] + 8, 3), np.uint8)
    out[:] = (46, 160, 67) if right else (220, 38, 38)
    out[4:-4, 4:-4] = grey[..., None]
    return out
