"""Record issue #31's independent test set: digits and not-digits drawn by hand-like strokes in a real Chromium on
the app's own Draw page, saved as tests/data/unseen_hands.npz (read by benchmarks/unseen.py and tests/test_unseen.py).
(About 500 lines: the letterforms, the hand that bends them and the browser that draws them are one tool, kept in one
file so that how the set was made reads in one place, apart from everything the training code uses.)

    python benchmarks/record_unseen.py                    # 40 of each digit, 5 of each not-digit; ~23 min on 2 cores
    python benchmarks/record_unseen.py --only 3 --out /tmp/trial.npz   # a trial: the first 3 of each kind

Made independently of the training code: the letterforms and the hand below are this file's own (it imports nothing
of digits.handdrawn, digits.heldout, digits.augment or digits.negatives). Each digit comes in the shapes people use
(a 4 with an open or a closed top, a 1 with a flag and a foot, a 7 crossed or not, a 2 with a loop, 6, 8 and 9 in one
stroke or two...), each drawn by a person-like hand: its size (a small corner digit to one filling the canvas), place,
slant and turn, a pen that starts and stops slowly, cuts corners when fast, wobbles, overshoots or stops short at a
stroke's end and misplaces a second stroke a little, and strokes drawn in another order or direction.

Recorded through the real app (testkit.served.launch): the Draw page's canvas (streamlit-drawable-canvas, brush 18,
the page's default), half with the mouse in a 1400×900 window, half with a finger (touch events through the DevTools
protocol) in a 390×844 phone window. What is kept is exactly what the page received: the PNG that the canvas sent
to the server over Streamlit's websocket (the component's `toDataURL`, the `image_data` that pages/draw.py passes
to digits.classify), checked against the canvas's pixels in the browser. The app's Clear button clears it. A mouse
hovers a moment before it presses, as a hand does; a finger cannot start a stroke under the canvas's invisible
toolbar (its top right: `lands`), so a touch drawing that would is drawn anew from the same letterform. (The Draw
page has hidden that toolbar on devices without hover since, webapp/canvas.py; the recorded set was made before,
so a re-recording keeps the check, to stay the same set.)
Recorded 2026-12-04: 515 drawings in 23 min, none lost on the way; classify with LeNet-5, the page's checkpoint, on
each stored canvas says the digit the page showed for it, 515 of 515.

The file (np.savez_compressed): `images` (N, 280, 280) uint8, the canvas's grey level: the page's RGBA array is
(g, g, g, 255) (white ink on black, opaque; checked when recording); `labels` (N,) int8, 0–9 or -1 for not a digit;
`kinds` (N,) "mouse" or "touch"; `forms` (N,) the letterform's name. The shipped models never train on it.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)
import numpy as np
from PIL import Image

from testkit.served import CHROMIUM, launch, open_page, wait_idle

ROOT = Path(__file__).resolve().parents[1]
SIDE = 280      # px: the Draw page's canvas
MARGIN = 12     # px: drawings are placed this far inside the canvas's edge (the brush is 18 px wide)
RATE = 60       # pointer samples a second: Chromium hands pages one move per frame
SEED = 31       # issue #31
TOOLBAR = (150, 34)  # px: the canvas's top right that a finger cannot start a stroke in (lands), with 4–9 px to spare


# --- Letterforms: strokes in a glyph box, x to the right and y downwards, both 0..1 -------------------------------

def ell(cx, cy, rx, ry, a0, a1):
    """An elliptic arc from angle a0 to a1 in degrees (0 is to the right, 90 is down: growing angles turn clockwise)."""
    t = np.radians(np.linspace(a0, a1, max(8, int(abs(a1 - a0) / 5))))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def poly(*points):
    """Straight lines through the points: corners stay corners (until a fast hand cuts them)."""
    return np.array(points, float)


def spline(*points):
    """A smooth curve through the points (Catmull-Rom)."""
    p = np.array(points, float)
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    t = np.linspace(0, 1, 16, endpoint=False)[:, None]
    out = [0.5 * (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t ** 2 + (3 * b - a - 3 * c + d) * t ** 3)
           for a, b, c, d in zip(p, p[1:], p[2:], p[3:])]
    return np.vstack([*out, p[-2:-1]])


def dot(x, y, r=0.03):
    """A full stop drawn as a small tight circle (a click without a move leaves nothing on the canvas)."""
    return ell(x, y, r, r, 0, 540)


def star():
    a = np.radians(-90 + 144 * np.arange(6))
    return poly(*zip(0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)))


def wiggle(u):
    x = np.linspace(0, 1, 13)
    return spline(*zip(x, 0.5 + 0.5 * np.sin(x * 2 * np.pi * u(2, 3.5) + u(0, 6))))


def scribble(u):
    return spline(*[(u(0, 1), u(0, 1)) for _ in range(int(u(7, 14)))])


def two_a(u):
    return ell(0.5, 0.28, 0.48, 0.28, 195, 360)


def three_b(u):
    return ell(0.5, 0.72, 0.5, 0.28, 250, 510)


def five_body(u):
    return np.vstack([poly((0.15, 0), (0.17, 0.45)), ell(0.45, 0.7, 0.48, 0.3, 235, 510 + u(-20, 10))])


def nine_loop(u):
    return ell(0.5, 0.28, 0.48, 0.28, 0, -360 - u(0, 25))


# (label, name, glyph): glyph(u) → (width / height, strokes); u(lo, hi) draws a uniform number. Label -1: not a digit.
FORMS = [
    (0, "0 narrow oval", lambda u: (u(0.42, 0.6), [ell(0.5, 0.5, 0.5, 0.5, -90, -450 - u(-25, 30))])),
    (0, "0 round oval", lambda u: (u(0.7, 0.95), [ell(0.5, 0.5, 0.5, 0.5, -90, -450 - u(-25, 30))])),
    (0, "0 clockwise, open top", lambda u: (u(0.5, 0.75), [ell(0.5, 0.5, 0.5, 0.5, -100, 250 - u(5, 40))])),
    (1, "1 plain stroke", lambda u: (0.05, [poly((0.5, 0), (0.5, 1))])),
    (1, "1 with flag", lambda u: (u(0.22, 0.32), [poly((0, u(0.22, 0.35)), (1, 0), (1, 1))])),
    (1, "1 flag and foot", lambda u: (u(0.45, 0.6), [poly((0.15, u(0.2, 0.3)), (0.55, 0), (0.55, 1)),
                                                     poly((0.1, 1), (1, 1))])),
    (2, "2 plain", lambda u: (u(0.6, 0.8), [np.vstack([two_a(u), spline((0.98, 0.28), (0.75, 0.6), (0.3, 0.85),
                                                                        (0, 1)), poly((0, 1), (1, u(0.94, 1)))])])),
    (2, "2 looped", lambda u: (u(0.6, 0.8), [np.vstack([two_a(u), spline(
        (0.98, 0.28), (0.7, 0.62), (0.25, 0.88), (0.05, 1), (0, 0.86), (0.15, 0.8), (0.3, 0.97), (0.65, 1),
        (1, 0.97))])])),
    (2, "2 angular", lambda u: (u(0.55, 0.75), [np.vstack([ell(0.5, 0.25, 0.48, 0.25, 190, 360),
                                                           poly((0.98, 0.25), (0, 1), (1, 1))])])),
    (3, "3 round", lambda u: (u(0.55, 0.75), [np.vstack([ell(0.5, 0.25, 0.45, 0.25, 200, 450 + u(0, 40)),
                                                         ell(0.5, 0.75, 0.5, 0.25, 270 - u(0, 40), 510)])])),
    (3, "3 flat top", lambda u: (u(0.55, 0.75), [np.vstack([poly((0, 0), (1, 0), (0.35, 0.42)), three_b(u)])])),
    (4, "4 closed top", lambda u: (u(0.6, 0.8), [poly((0.7, 0), (0, 0.68), (1, 0.68)),
                                                 poly((0.7, u(-0.02, 0.1)), (0.7, 1))])),
    (4, "4 open top", lambda u: (u(0.6, 0.8), [poly((u(0, 0.1), 0), (0, 0.62), (1, 0.62)),
                                               poly((0.72, u(0, 0.2)), (0.72, 1))])),
    (4, "4 open top, leaning", lambda u: (u(0.6, 0.8), [poly((0.3, 0), (0, 0.6), (1, 0.6)),
                                                        poly((0.75, 0.05), (0.68, 1))])),
    (5, "5 two strokes", lambda u: (u(0.55, 0.75), [five_body(u), poly((0.15, 0), (0.95, u(-0.04, 0.04)))])),
    (5, "5 one stroke", lambda u: (u(0.55, 0.75), [np.vstack([poly((0.95, 0), (0.15, 0)), five_body(u)])])),
    (5, "5 angular", lambda u: (u(0.55, 0.75), [poly((0.15, 0), (0.12, 0.45), (0.75, 0.42), (0.97, 0.68),
                                                     (0.8, 0.96), (0.4, 1), (0, 0.88)), poly((0.15, 0), (0.95, 0))])),
    (6, "6 one stroke", lambda u: (u(0.55, 0.75), [spline(
        (0.85, 0), (0.45, 0.12), (0.1, 0.5), (0.12, 0.85), (0.45, 1), (0.85, 0.88), (0.92, 0.62), (0.55, 0.45),
        (0.2, 0.55), (0.1, 0.72))])),
    (6, "6 straight stem", lambda u: (u(0.55, 0.75), [np.vstack([
        poly((0.75, 0), (0.08, 0.7)), ell(0.5, 0.72, 0.42, 0.28, 180, -180 - u(-10, 25))])])),
    (6, "6 two strokes", lambda u: (u(0.55, 0.75), [poly((0.8, 0), (0.12, 0.7)),
                                                    ell(0.52, 0.72, 0.42, 0.28, -90, -450 - u(-10, 25))])),
    (7, "7 plain", lambda u: (u(0.55, 0.75), [poly((0, 0), (1, 0), (u(0.2, 0.45), 1))])),
    (7, "7 crossed", lambda u: (u(0.55, 0.75), [poly((0, 0), (1, 0), (0.35, 1)), poly((0.4, 0.5), (0.95, 0.5))])),
    (7, "7 hooked top, curved stem", lambda u: (u(0.55, 0.75), [np.vstack([
        poly((0, 0.18), (0.02, 0), (1, 0)), spline((1, 0), (0.7, 0.4), (0.5, 0.7), (0.45, 1))])])),
    (8, "8 one stroke", lambda u: (u(0.5, 0.7), [spline(
        (0.85, 0.1), (0.5, 0), (0.15, 0.15), (0.2, 0.35), (0.5, 0.5), (0.85, 0.68), (0.85, 0.9), (0.5, 1),
        (0.15, 0.9), (0.15, 0.68), (0.5, 0.5), (0.8, 0.32), (0.8, 0.12), (0.55, 0.02))])),
    (8, "8 two loops", lambda u: (u(0.5, 0.7), [ell(0.5, 0.25, u(0.3, 0.45), 0.25, -90, -450),
                                                ell(0.5, 0.73, 0.5, 0.27, -90, 270)])),
    (9, "9 straight tail", lambda u: (u(0.5, 0.7), [np.vstack([nine_loop(u), poly((0.98, 0.28), (u(0.8, 1), 1))])])),
    (9, "9 curved tail", lambda u: (u(0.5, 0.7), [np.vstack([nine_loop(u), spline(
        (0.98, 0.28), (0.95, 0.7), (0.65, 0.98), (0.25, 0.92))])])),
    (9, "9 two strokes", lambda u: (u(0.5, 0.7), [ell(0.45, 0.28, 0.45, 0.28, -90, -450), poly((0.92, 0.1),
                                                                                             (0.85, 1))])),
    (-1, "A", lambda u: (u(0.7, 0.9), [poly((0, 1), (0.5, 0), (1, 1)), poly((0.22, 0.62), (0.8, 0.62))])),
    (-1, "B", lambda u: (u(0.55, 0.7), [poly((0, 0), (0, 1)), np.vstack([
        poly((0, 0), (0.5, 0)), ell(0.5, 0.25, 0.42, 0.25, -90, 90), poly((0.5, 0.5), (0.05, 0.5), (0.55, 0.5)),
        ell(0.55, 0.75, 0.45, 0.25, -90, 90), poly((0.55, 1), (0, 1))])])),
    (-1, "X", lambda u: (u(0.7, 0.9), [poly((0, 0), (1, 1)), poly((1, 0), (0, 1))])),
    (-1, "K", lambda u: (u(0.6, 0.8), [poly((0, 0), (0, 1)), poly((1, 0), (0, 0.55), (1, 1))])),
    (-1, "M", lambda u: (u(0.8, 1), [poly((0, 1), (0.05, 0), (0.5, 0.7), (0.95, 0), (1, 1))])),
    (-1, "H", lambda u: (u(0.7, 0.9), [poly((0, 0), (0, 1)), poly((1, 0), (1, 1)), poly((0, 0.5), (1, 0.5))])),
    (-1, "e", lambda u: (u(0.8, 1), [np.vstack([poly((0.05, 0.5), (0.95, 0.5)), ell(0.5, 0.5, 0.45, 0.5, 0, -300)])])),
    (-1, "s", lambda u: (u(0.55, 0.75), [spline((0.9, 0.12), (0.5, 0), (0.1, 0.18), (0.3, 0.42), (0.75, 0.6),
                                                (0.92, 0.82), (0.55, 1), (0.05, 0.88))])),
    (-1, "+", lambda u: (u(0.85, 1.15), [poly((0.5, 0), (0.5, 1)), poly((0, 0.5), (1, 0.5))])),
    (-1, "=", lambda u: (u(1.3, 2), [poly((0, 0.1), (1, 0.1)), poly((0, 0.9), (1, 0.9))])),
    (-1, "?", lambda u: (u(0.55, 0.7), [np.vstack([ell(0.5, 0.25, 0.48, 0.25, 190, 450), poly((0.5, 0.5),
                                                                                             (0.5, 0.75))]),
                                        dot(0.5, 0.96)])),
    (-1, "#", lambda u: (u(0.85, 1.15), [poly((0.35, 0), (0.3, 1)), poly((0.72, 0), (0.67, 1)),
                                         poly((0, 0.33), (1, 0.33)), poly((0, 0.68), (1, 0.68))])),
    (-1, "arrow right", lambda u: (u(1.4, 2), [poly((0, 0.5), (1, 0.5)), poly((0.75, 0.1), (1, 0.5), (0.75, 0.9))])),
    (-1, "arrow up", lambda u: (u(0.5, 0.7), [poly((0.5, 1), (0.5, 0)), poly((0.1, 0.3), (0.5, 0), (0.9, 0.3))])),
    (-1, "smiley", lambda u: (u(0.9, 1.1), [ell(0.5, 0.5, 0.5, 0.5, -90, -450), dot(0.33, 0.35), dot(0.67, 0.35),
                                            ell(0.5, 0.55, 0.28, 0.22, 20, 160)])),
    (-1, "star", lambda u: (u(0.9, 1.1), [star()])),
    (-1, "heart", lambda u: (u(0.9, 1.1), [np.vstack([
        spline((0.5, 0.3), (0.3, 0), (0, 0.2), (0.1, 0.55), (0.5, 1)),
        spline((0.5, 1), (0.9, 0.55), (1, 0.2), (0.7, 0), (0.5, 0.3))])])),
    (-1, "check mark", lambda u: (u(0.7, 1), [poly((0, 0.6), (0.35, 1), (1, 0))])),
    (-1, "triangle", lambda u: (u(0.9, 1.1), [poly((0.5, 0), (1, 1), (0, 1), (0.5, 0))])),
    (-1, "square", lambda u: (u(0.9, 1.1), [poly((0, 0), (1, 0), (1, 1), (0, 1), (0, 0))])),
    (-1, "scribble", lambda u: (u(0.7, 1.3), [scribble(u)])),
    (-1, "wiggly line", lambda u: (u(2.5, 4), [wiggle(u)])),
    (-1, "lone dot", lambda u: (1, [ell(0.5, 0.5, 0.5, 0.5, 0, 540)])),
]
SIZES = {"lone dot": (8, 26)}  # px, the longer side where a form is not drawn at a digit's size


# --- The hand: where and how large a glyph goes, and how a pen moves along each stroke ----------------------------

def place(aspect: float, strokes: list, rng, size=None) -> list[np.ndarray]:
    """The glyph's strokes in canvas pixels: sized (mostly 130–230 px tall, a fifth small, a fifth filling the
    canvas), slanted, turned a little, put somewhere on the canvas; strokes after the first a little off."""
    side = rng.uniform(*size) if size else rng.choice([rng.uniform(55, 130), rng.uniform(130, 230),
                                                       rng.uniform(230, 265)], p=[0.2, 0.6, 0.2])
    h = side / max(1.0, aspect)
    w = aspect * h
    slant, turn = np.clip(rng.normal(0.15, 0.15), -0.2, 0.5), rng.normal(0, 0.06)  # tan of the slant; radians
    c, s = np.cos(turn), np.sin(turn)
    out = []
    for i, g in enumerate(strokes):
        x, y = (g[:, 0] - 0.5) * w, (g[:, 1] - 0.5) * h
        x = x - y * slant
        p = np.stack([c * x - s * y, s * x + c * y], 1)
        out.append(p + (rng.normal(0, 0.025 * side, 2) if i else 0))
    allp = np.vstack(out)
    lo, hi = allp.min(0), allp.max(0)
    room = (SIDE - 2 * MARGIN) - (hi - lo)
    if (room < 0).any():  # wider than the canvas after slant and turn: shrink it to fit
        k = (SIDE - 2 * MARGIN) / (hi - lo).max()
        out, lo, hi = [p * k for p in out], lo * k, hi * k
        room = np.maximum((SIDE - 2 * MARGIN) - (hi - lo), 0)
    corner = MARGIN + room * rng.beta(2, 2, 2) - lo  # off-centre, seldom against an edge
    return [p + corner for p in out]


def densify(p: np.ndarray, step: float = 1.0) -> np.ndarray:
    """The polyline through p with points `step` px apart (repeated points dropped)."""
    p = p[np.r_[True, np.abs(np.diff(p, axis=0)).sum(1) > 1e-9]]
    if len(p) < 2:
        return np.vstack([p, p + 0.5])
    s = np.r_[0, np.cumsum(np.hypot(*np.diff(p, axis=0).T))]
    t = np.linspace(0, s[-1], max(2, int(s[-1] / step) + 1))
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], 1)


def smooth(p: np.ndarray, width: int) -> np.ndarray:
    """A moving average over `width` px of a 1-px-spaced path: a fast hand rounds corners."""
    if width < 2 or len(p) < 2 * width:
        return p
    pad = np.pad(p, ((width // 2, width - 1 - width // 2), (0, 0)), mode="edge")
    k = np.ones(width) / width
    return np.stack([np.convolve(pad[:, i], k, "valid") for i in range(2)], 1)


def ends(p: np.ndarray, start: float, end: float) -> np.ndarray:
    """The stroke run on past its ends along its direction (> 0 px) or lifted early (< 0 px, at most a quarter)."""
    def at_end(q, e):
        if e >= 1:
            d = q[-1] - q[-min(len(q), 8)]
            d = d / (np.hypot(*d) or 1)
            return np.vstack([q, q[-1] + d * np.arange(1, int(e) + 1)[:, None]])
        return q[:max(2, len(q) - min(int(-e), len(q) // 4))] if e < 0 else q
    return at_end(at_end(p, end)[::-1], start)[::-1]


def wobble(p: np.ndarray, amplitude: float, rng) -> np.ndarray:
    """A 1-px-spaced path moved sideways by slow waves (the arm) and a faint fast tremor (the fingers)."""
    d = np.gradient(p, axis=0)
    d = d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    s = np.arange(len(p))
    waves = [(amplitude * rng.uniform(0.3, 1), rng.uniform(25, 140)) for _ in range(3)] + [(0.25 * amplitude, 9)]
    off = sum(a * np.sin(2 * np.pi * s / lam + rng.uniform(0, 2 * np.pi)) for a, lam in waves)
    return p + np.stack([-d[:, 1], d[:, 0]], 1) * off[:, None]


def pen(path: np.ndarray, size: float, rng) -> np.ndarray:
    """The pointer positions a person's pen reports along one stroke, RATE a second: a speed of 250–1000 px/s,
    slow at both ends (minimum-jerk profile); the faster, the more it wobbles and cuts corners."""
    speed = np.exp(rng.uniform(np.log(250), np.log(1000)))
    p = smooth(densify(path), int(speed / 100))
    p = ends(p, size * rng.uniform(-0.04, 0.07), size * rng.uniform(-0.04, 0.09))
    p = densify(wobble(p, rng.uniform(0.3, 1.2) * (0.5 + speed / 500), rng))
    s = np.r_[0, np.cumsum(np.hypot(*np.diff(p, axis=0).T))]
    tau = np.linspace(0, 1, max(3, int(s[-1] / speed * RATE) + 1))
    at = s[-1] * (10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5)
    return np.clip(np.stack([np.interp(at, s, p[:, 0]), np.interp(at, s, p[:, 1])], 1), 1, SIDE - 1)


def hand(glyph, name: str, rng) -> list[np.ndarray]:
    """One drawing of a letterform: its strokes as pointer positions on the canvas, in the order drawn."""
    aspect, strokes = glyph(rng.uniform)
    strokes = [g[::-1] if rng.random() < 0.15 else g for g in strokes]  # a stroke drawn the other way round
    if len(strokes) > 1 and rng.random() < 0.3:  # another stroke order
        strokes = [strokes[i] for i in rng.permutation(len(strokes))]
    placed = place(aspect, strokes, rng, SIZES.get(name))
    size = np.ptp(np.vstack(placed), axis=0).max()
    return [pen(p, size, rng) for p in placed]


def lands(strokes: list[np.ndarray], kind: str) -> bool:
    """Whether every stroke starts where the canvas takes it. The canvas's toolbar (streamlit-drawable-canvas 0.13)
    rests invisible over the canvas's top right, 141 × 30 px, and moves above the canvas only while a mouse hovers
    over it: a finger that starts a stroke there draws nothing (a mouse, there, only within the top 4 px)."""
    top = TOOLBAR[1] if kind == "touch" else 4
    return not any(x >= SIDE - TOOLBAR[0] and y <= top for x, y in (p[0] for p in strokes))


def plan(per_digit: int, per_sign: int, seed: int) -> list[tuple[int, str, str, list]]:
    """(label, letterform, kind, strokes) of every drawing, the same for a seed: each digit's letterforms in turn,
    each drawn with the mouse and a finger by turns."""
    rng = np.random.default_rng(seed)
    out = []
    for label in [*range(10), -1]:
        forms = [(name, glyph) for lab, name, glyph in FORMS if lab == label]
        n = per_digit if label >= 0 else per_sign * len(forms)
        for i in range(n):
            f, k = i % len(forms), i // len(forms)  # the letterform, and its how-manyth drawing
            name, glyph, kind = *forms[f], ("mouse", "touch")[(k + f) % 2]
            strokes = hand(glyph, name, rng)
            while not lands(strokes, kind):
                strokes = hand(glyph, name, rng)
            out.append((label, name, kind, strokes))
    return out


# --- The browser: the Draw page, drawn on and read back -----------------------------------------------------------

DATA_URL = re.compile(rb"data:image/png;base64,[A-Za-z0-9+/=]+")


def decode(data_url: bytes | str) -> np.ndarray:
    if isinstance(data_url, str):
        data_url = data_url.encode()
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(b",", 1)[1]))).convert("RGBA"))


class Board:
    """The app's Draw page in a browser context of its own, drawn on with the mouse or, in a phone window, a finger."""

    def __init__(self, browser, url: str, kind: str):
        phone = kind == "touch"
        self.context = browser.new_context(viewport={"width": 390, "height": 844} if phone else
                                           {"width": 1400, "height": 900}, is_mobile=phone, has_touch=phone)
        self.page = self.context.new_page()
        self.sent: list[bytes] = []  # the canvas images the page sent to the server, in order
        self.redrawn = 0             # drawings that did not land whole and were drawn again
        self.page.on("websocket", lambda ws: ws.on("framesent", self._frame))
        self.cdp = self.context.new_cdp_session(self.page) if phone else None
        open_page(self.page, url, "draw", "Draw a digit")
        self._blank()

    def _frame(self, payload) -> None:
        self.sent.extend(DATA_URL.findall(payload if isinstance(payload, bytes) else payload.encode()))

    def _blank(self) -> None:
        self.page.get_by_text("Draw a digit on the canvas.").first.wait_for(timeout=60_000)
        wait_idle(self.page)
        self.page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " if (m) m.scrollTop = 0; window.scrollTo(0, 0); }")
        self.page.wait_for_timeout(300)  # the new canvas's script sets up its handlers

    def _stroke(self, x0: float, y0: float, points: np.ndarray) -> None:
        if self.cdp is None:
            self.page.mouse.move(x0 + points[0][0], y0 + points[0][1])
            self.page.wait_for_timeout(250)  # a hand on a mouse arrives, then presses: the toolbar has moved away
            self.page.mouse.down()
            for x, y in points[1:]:
                self.page.mouse.move(x0 + x, y0 + y)
            self.page.mouse.up()
            return
        def touch(kind, x, y):
            self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x0 + x, "y": y0 + y}]})
        touch("touchStart", *points[0])
        for x, y in points[1:]:
            touch("touchMove", x, y)
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    def draw(self, strokes: list[np.ndarray]) -> tuple[np.ndarray, str]:
        """Draw the strokes, then (the canvas's RGBA as the server received it, the digit the page shows); clear.
        A drawing that did not land whole (a stroke on a canvas still being set up) is cleared and drawn again."""
        for _ in range(3):
            image = self._attempt(strokes)
            if image is not None:
                self.page.locator(".digit").first.wait_for(timeout=30_000)
                wait_idle(self.page)
                shown = self.page.locator(".digit").first.inner_text().strip()
                self._clear()
                return image, shown
            self.redrawn += 1
            self._clear()
        raise RuntimeError("three tries and the drawing never reached the page whole")

    def _attempt(self, strokes: list[np.ndarray]) -> np.ndarray | None:
        """The canvas the page received after these strokes, if it holds every one of them (else None)."""
        box = self.page.locator("canvas.upper-canvas").first.bounding_box()
        assert 0 <= box["y"] <= self.page.viewport_size["height"] - SIDE, f"the canvas is out of view: {box}"
        self.sent.clear()
        for i, points in enumerate(strokes):
            if i:
                self.page.wait_for_timeout(120)  # the pen lifted, moved to the next stroke
            self._stroke(box["x"], box["y"], points)
        self.page.wait_for_timeout(450)  # the canvas sends 200 ms after the last stroke
        shown = self.page.locator("canvas.dc-canvas.lower-canvas").first
        for _ in range(20):
            seen = decode(shown.evaluate("c => c.toDataURL('image/png')"))
            if self.sent and np.array_equal(decode(self.sent[-1]), seen):
                break
            self.page.wait_for_timeout(250)
        else:
            return None
        # every stroke left ink where it passed (the brush is 18 px wide): none was lost
        ink = seen[..., 0] > 128
        whole = all(ink[int(round(y)), int(round(x))] for p in strokes for x, y in p[[0, len(p) // 2, -1]])
        return seen if whole else None

    def _clear(self) -> None:
        self.page.get_by_role("button", name="Clear").click()
        self._blank()


def record(url: str, drawings: list, kind: str, browser, log) -> list[tuple[np.ndarray, str]]:
    """Draw every drawing of this input kind on the Draw page; (grey canvas, digit shown) of each."""
    board = Board(browser, url, kind)
    out = []
    try:
        for n, strokes in enumerate(drawings, 1):
            try:
                rgba, shown = board.draw(strokes)
            except Exception:
                shot = Path(tempfile.gettempdir()) / "record_unseen_failure.png"
                board.page.screenshot(path=str(shot), full_page=True)
                log(f"{kind} drawing {n} failed; the page: {shot}")
                raise
            grey = rgba[..., 0]
            if not ((rgba[..., 1] == grey).all() and (rgba[..., 2] == grey).all() and (rgba[..., 3] == 255).all()):
                raise RuntimeError("the canvas is not white ink on opaque black: store its RGBA instead")
            out.append((grey.copy(), shown))
            if n % 25 == 0:
                log(f"{kind}: {n}/{len(drawings)}")
    finally:
        log(f"{kind}: {board.redrawn} drawings cleared and drawn again (they had not reached the page whole)")
        board.context.close()
    return out


def cross_check(images: np.ndarray, shown: list[str]) -> list[str]:
    """How often each shipped checkpoint's classify, on the stored image, says the digit the page showed."""
    from digits import classify, load_checkpoint

    lines = []
    for name in ("lenet5", "cnn"):
        model, _ = load_checkpoint(ROOT / "checkpoints" / f"{name}.pt")
        same = sum(str(classify(model, np.dstack([g, g, g, np.full_like(g, 255)])).digit) == s
                   for g, s in zip(images, shown))
        lines.append(f"classify({name}) on the stored canvas = the digit the page showed: {same}/{len(shown)}")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "unseen_hands.npz")
    p.add_argument("--per-digit", type=int, default=40, help="drawings of each digit (default 40)")
    p.add_argument("--per-sign", type=int, default=5, help="drawings of each not-digit letterform (default 5)")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--only", type=int, default=0, help="a trial: the first ONLY drawings of each label")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # a stop still closes the browser and the app

    drawings = plan(args.per_digit, args.per_sign, args.seed)
    if args.only:
        drawings = [d for i, d in enumerate(drawings) if sum(e[0] == d[0] for e in drawings[:i]) < args.only]
    started = time.monotonic()
    def log(text):
        print(f"[{time.monotonic() - started:5.0f} s] {text}", flush=True)
    got = {}
    store = Path(tempfile.mkdtemp(prefix="unseen-drawings-")) / "drawings.sqlite"  # the app keeps nothing of ours
    url, server = launch(dict(os.environ), drawings=store)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                for kind in ("mouse", "touch"):
                    mine = [i for i, d in enumerate(drawings) if d[2] == kind]
                    got.update(zip(mine, record(url, [drawings[i][3] for i in mine], kind, browser, log)))
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    images = np.stack([got[i][0] for i in range(len(drawings))])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=images, labels=np.array([d[0] for d in drawings], np.int8),
                        kinds=np.array([d[2] for d in drawings]), forms=np.array([d[1] for d in drawings]))
    log(f"{len(drawings)} drawings ({sum(d[0] >= 0 for d in drawings)} digits) → {args.out} "
        f"({args.out.stat().st_size / 1e6:.2f} MB)")
    for line in cross_check(images, [got[i][1] for i in range(len(drawings))]):
        print(line)


if __name__ == "__main__":
    main()
