"""A test set of canvas drawings: the ten digits drawn as mouse strokes, in many hands.

People do not draw like MNIST: off-centre, small, huge, thick, thin, slanted, in a square
280×280 canvas, white on black or black on white or on a transparent background. Each
drawing here is made from a digit's stroke skeleton (in a unit box, y down) bent by a random
hand: slant, rotation, aspect, size, position, stroke width, wobble, style.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

STYLES = ("white-on-black", "black-on-white", "transparent")


def arc(cx, cy, rx, ry, start, end, n=24):
    """Points on an ellipse from angle `start` to `end` (degrees, 0 = right, 90 = down)."""
    t = np.radians(np.linspace(start, end, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


# Each digit: a list of strokes, each a list of (x, y) in [0, 1]², y pointing down.
SKELETONS: dict[int, list[list[tuple[float, float]]]] = {
    0: [arc(0.5, 0.5, 0.32, 0.46, -90, 275)],
    1: [[(0.38, 0.2), (0.55, 0.04), (0.55, 0.96)]],
    2: [arc(0.5, 0.3, 0.3, 0.26, 200, 380) + [(0.12, 0.95), (0.9, 0.95)]],
    3: [arc(0.48, 0.27, 0.3, 0.23, 200, 450) + arc(0.48, 0.73, 0.34, 0.23, -90, 160)],
    4: [[(0.62, 0.04), (0.1, 0.66), (0.9, 0.66)], [(0.66, 0.3), (0.66, 0.97)]],
    5: [[(0.82, 0.05), (0.25, 0.05), (0.2, 0.45)] + arc(0.48, 0.69, 0.34, 0.27, -115, 160)],
    6: [[(0.7, 0.03), (0.45, 0.2), (0.25, 0.48)] + arc(0.5, 0.72, 0.27, 0.25, 180, 545)],
    7: [[(0.1, 0.06), (0.9, 0.06), (0.42, 0.96)]],
    8: [arc(0.5, 0.26, 0.24, 0.22, 90, 450) + arc(0.5, 0.72, 0.32, 0.26, -90, 270)],
    9: [arc(0.5, 0.3, 0.28, 0.26, 0, 365), [(0.78, 0.3), (0.72, 0.97)]],
}


# A hand the MNIST writers did not have: digits as a calculator shows them, seven straight segments
# (a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle), each one stroke;
# this 7 has a hook (f) and this 9 no tail (d). The shipped models misread its 6 as a 5 nearly always:
# a room full of such drawings is what fine-tuning on the room's drawings is for (tests/test_room.py).
_L, _R, _T, _M, _B = 0.2, 0.8, 0.05, 0.5, 0.95
_SEGMENTS = {"a": [(_L, _T), (_R, _T)], "b": [(_R, _T), (_R, _M)], "c": [(_R, _M), (_R, _B)], "d": [(_L, _B), (_R, _B)],
             "e": [(_L, _M), (_L, _B)], "f": [(_L, _T), (_L, _M)], "g": [(_L, _M), (_R, _M)]}
SEGMENT_SKELETONS = {digit: [_SEGMENTS[s] for s in segments] for digit, segments in enumerate(
    ("abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "fabc", "abcdefg", "abfgc"))}
HANDS = {"written": SKELETONS, "segments": SEGMENT_SKELETONS}


@dataclass(frozen=True)
class Drawing:
    image: np.ndarray   # (280, 280, 4) uint8 RGBA, as the canvas returns it
    digit: int
    style: str


def _hand(points: np.ndarray, rng: np.random.Generator, size: float, canvas: int) -> np.ndarray:
    """Bend unit-box points into canvas pixels the way one person's hand would."""
    slant = rng.uniform(-0.35, 0.3)                 # shear: x moves with height
    angle = math.radians(rng.uniform(-12, 12))
    aspect = rng.uniform(0.7, 1.15)                 # width / height
    p = points - 0.5
    p[:, 0] = p[:, 0] * aspect - slant * p[:, 1]
    c, s = math.cos(angle), math.sin(angle)
    p = p @ np.array([[c, s], [-s, c]])
    p += rng.normal(0, 0.012, p.shape)              # wobble of a mouse hand
    p *= size
    extent = p.max(0) - p.min(0)
    room = canvas - extent - 20
    offset = 10 + rng.uniform(0, 1, 2) * np.maximum(room, 0) - p.min(0)
    return p + offset


def draw(digit: int, rng: np.random.Generator, style: str = "white-on-black", canvas: int = 280,
         hand: str = "written") -> Drawing:
    """One drawing of `digit` in a random hand of the kind `hand` names (a key of HANDS)."""
    skeleton = HANDS[hand][digit]
    size = rng.uniform(0.3, 0.85) * canvas          # digit height in pixels: small to nearly the full canvas
    width = int(rng.uniform(8, 30))                  # brush width in pixels
    ink = strokes_ink(skeleton, rng, size, width, canvas)
    return Drawing(as_canvas(ink, style), digit, style)


def strokes_ink(skeleton, rng: np.random.Generator, size: float, width: int, canvas: int = 280) -> np.ndarray:
    """A skeleton bent by a random hand (`_hand`) and drawn with a round brush: ink (canvas², uint8)."""
    bent = _hand(np.concatenate([np.array(s, float) for s in skeleton]), rng, size, canvas)
    ink = Image.new("L", (canvas, canvas), 0)
    d = ImageDraw.Draw(ink)
    start = 0
    for stroke in skeleton:
        pts = [tuple(xy) for xy in bent[start:start + len(stroke)]]
        start += len(stroke)
        d.line(pts, fill=255, width=width, joint="curve")
        for x, y in (pts[0], pts[-1]):              # round caps, as a canvas brush draws
            d.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    return np.asarray(ink)


def as_canvas(ink: np.ndarray, style: str = "white-on-black") -> np.ndarray:
    """Ink (H×W uint8, 255 = full ink) as the canvas returns it: RGBA in one of the three STYLES."""
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    if style == "white-on-black":
        rgba[..., :3], rgba[..., 3] = ink[..., None], 255
    elif style == "black-on-white":
        rgba[..., :3], rgba[..., 3] = 255 - ink[..., None], 255
    elif style == "transparent":                     # transparent paper: ink colour with alpha
        rgba[..., :3], rgba[..., 3] = (20, 20, 20), ink
    else:
        raise ValueError(f"unknown style {style!r}; one of {', '.join(STYLES)}")
    return rgba


def drawn_digits(per_digit: int = 30, seed: int = 0, hand: str = "written") -> list[Drawing]:
    """per_digit drawings of each digit, styles in turn; the same seed gives the same set."""
    rng = np.random.default_rng(seed)
    return [draw(d, rng, STYLES[i % len(STYLES)], hand=hand) for d in range(10) for i in range(per_digit)]
