"""Drawings that are not digits, made up at random: what the not-a-digit detector (digits.detector) is
measured against while it is made. Random strokes built by a few rules — straight strokes, polygons and
stars, loops and spirals, zig-zags, hatching, dots, and letter-like combinations of random segments and arcs
on a 3×3 grid of anchor points — and, since issue #31, letters of the alphabet (LETTERS): no sign of
digits.heldout's (arrows, ?, #, hearts, smileys) is drawn here, but its letters (A, H, K, M, W, E, R, X) are
now among the negatives, so heldout's not-digit figure is no longer a set the detector never saw the like of;
issue #31's recorded drawings (tests/data/unseen_hands.npz, strokes from other code) are that measure now.
The letters leave out those written as digits are (O, o, I, l, Z, z, q, g, a, d). The rules leave out the two
digits a rule would make most often — one straight stroke is a 1, one closed ellipse is a 0 — since the
detector is fitted to these drawings as non-digits (a worn 0 among the negatives taught it that a worn 0
is not a digit). Others still come out looking like a digit now and then (two strokes can make a 7).

Drawn with digits.handdrawn's hand and brush (strokes_ink) and canvas styles (as_canvas).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .handdrawn import SKELETONS, STYLES, Drawing, arc, as_canvas, strokes_ink

Strokes = list[list[tuple[float, float]]]


def _points(rng: np.random.Generator, n: int) -> list[tuple[float, float]]:
    return [tuple(p) for p in rng.uniform(0.05, 0.95, (n, 2))]


def _ellipse(rng, start: float, sweep: float, n: int = 20) -> list[tuple[float, float]]:
    cx, cy = rng.uniform(0.3, 0.7, 2)
    rx, ry = rng.uniform(0.1, 0.45, 2)
    t = np.radians(start + np.linspace(0, sweep, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def strokes(rng) -> Strokes:
    """2–4 straight strokes anywhere (crosses, ticks, bars); not one, which is a 1."""
    return [_points(rng, 2) for _ in range(int(rng.integers(2, 5)))]


def polygon(rng) -> Strokes:
    """A closed polygon of 3–8 corners, convex or a star (corners taken at random, so lines may cross)."""
    n = int(rng.integers(3, 9))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n)) if rng.random() < 0.5 else rng.uniform(0, 2 * np.pi, n)
    r = rng.uniform(0.25, 0.45, n)
    pts = [(0.5 + a * np.cos(t), 0.5 + a * np.sin(t)) for a, t in zip(r, angles)]
    return [pts + pts[:1]]


def loops(rng) -> Strokes:
    """1–3 ellipses or arcs, sometimes a spiral; a lone one is an arc of at most 300°, not a closed 0."""
    if rng.random() < 0.3:
        t = np.linspace(0, rng.uniform(2, 5) * np.pi, 60)
        r = np.linspace(0.02, 0.45, 60)
        return [list(zip(0.5 + r * np.cos(t), 0.5 + r * np.sin(t)))]
    n = int(rng.integers(1, 4))
    return [_ellipse(rng, rng.uniform(0, 360), rng.uniform(90, 300 if n == 1 else 400)) for _ in range(n)]


def zigzag(rng) -> Strokes:
    """A random walk of 5–20 steps: a scribble."""
    steps = rng.normal(0, rng.uniform(0.1, 0.35), (int(rng.integers(5, 21)), 2))
    return [[tuple(p) for p in np.clip(0.5 + np.cumsum(steps, axis=0), 0.02, 0.98)]]


def hatching(rng) -> Strokes:
    """3–7 parallel lines, sometimes crossed by a second set (a grid)."""
    out = []
    for _ in range(1 + int(rng.random() < 0.4)):
        angle, n = rng.uniform(0, np.pi), int(rng.integers(3, 8))
        d = np.array([np.cos(angle), np.sin(angle)]) * 0.45
        normal = np.array([-d[1], d[0]]) / 0.45
        for k in np.linspace(-0.4, 0.4, n):
            c = 0.5 + normal * k
            out.append([tuple(c - d), tuple(c + d)])
    return out


def dots(rng) -> Strokes:
    """2–9 dots, or one (drawn with whatever brush)."""
    return [[p, (p[0] + 0.01, p[1])] for p in _points(rng, int(rng.integers(1, 10)))]


GRID = [(x, y) for y in (0.05, 0.5, 0.95) for x in (0.1, 0.5, 0.9)]


def letterlike(rng) -> Strokes:
    """2–5 strokes joining random anchors of a 3×3 grid, some bent into arcs: shapes with a letter's parts."""
    out = []
    for _ in range(int(rng.integers(2, 6))):
        a, b = rng.choice(len(GRID), 2, replace=False)
        (x0, y0), (x1, y1) = GRID[a], GRID[b]
        if rng.random() < 0.3:  # bow the segment sideways
            bend = rng.uniform(-0.4, 0.4)
            t = np.linspace(0, 1, 12)
            x = x0 + (x1 - x0) * t - bend * (y1 - y0) * np.sin(np.pi * t)
            y = y0 + (y1 - y0) * t + bend * (x1 - x0) * np.sin(np.pi * t)
            out.append(list(zip(x, y)))
        else:
            out.append([(x0, y0), (x1, y1)])
    return out


def _arc(cx, cy, rx, ry, start, end) -> list[tuple[float, float]]:  # 16 points: as the shipped detectors saw them
    return arc(cx, cy, rx, ry, start, end, n=16)


def _bowl(cx, cy, rx, ry) -> list[tuple[float, float]]:
    return _arc(cx, cy, rx, ry, 0, 360)


_P = [(0.2, 0.97), (0.2, 0.03), (0.5, 0.03)] + _arc(0.5, 0.27, 0.3, 0.24, -90, 90) + [(0.2, 0.51)]
LETTERS: dict[str, Strokes] = {
    "A": [[(0.1, 0.97), (0.5, 0.03), (0.9, 0.97)], [(0.28, 0.6), (0.72, 0.6)]],
    "B": [[(0.2, 0.03), (0.2, 0.97)], [(0.2, 0.03), (0.52, 0.03)] + _arc(0.52, 0.265, 0.26, 0.235, -90, 90)
          + [(0.2, 0.5), (0.58, 0.5)] + _arc(0.58, 0.735, 0.3, 0.235, -90, 90) + [(0.2, 0.97)]],
    "C": [_arc(0.55, 0.5, 0.4, 0.46, -40, -320)],
    "D": [[(0.2, 0.03), (0.2, 0.97)],
          [(0.2, 0.03), (0.42, 0.03)] + _arc(0.42, 0.5, 0.42, 0.47, -90, 90) + [(0.2, 0.97)]],
    "E": [[(0.85, 0.03), (0.2, 0.03), (0.2, 0.97), (0.85, 0.97)], [(0.2, 0.5), (0.7, 0.5)]],
    "F": [[(0.85, 0.03), (0.2, 0.03), (0.2, 0.97)], [(0.2, 0.5), (0.7, 0.5)]],
    "G": [_arc(0.52, 0.5, 0.4, 0.46, -40, -340) + [(0.92, 0.55), (0.6, 0.55)]],
    "H": [[(0.15, 0.03), (0.15, 0.97)], [(0.85, 0.03), (0.85, 0.97)], [(0.15, 0.5), (0.85, 0.5)]],
    "J": [[(0.3, 0.03), (0.9, 0.03)], [(0.7, 0.03), (0.7, 0.72)] + _arc(0.45, 0.72, 0.25, 0.25, 0, 180)],
    "K": [[(0.2, 0.03), (0.2, 0.97)], [(0.85, 0.03), (0.2, 0.58)], [(0.4, 0.42), (0.85, 0.97)]],
    "L": [[(0.2, 0.03), (0.2, 0.97), (0.85, 0.97)]],
    "M": [[(0.1, 0.97), (0.15, 0.03), (0.5, 0.6), (0.85, 0.03), (0.9, 0.97)]],
    "N": [[(0.15, 0.97), (0.15, 0.03), (0.85, 0.97), (0.85, 0.03)]],
    "P": [_P],
    "R": [_P + [(0.45, 0.51), (0.85, 0.97)]],
    "S": [_arc(0.5, 0.27, 0.33, 0.24, -30, -270) + _arc(0.5, 0.74, 0.35, 0.23, -90, 150)],
    "T": [[(0.1, 0.03), (0.9, 0.03)], [(0.5, 0.03), (0.5, 0.97)]],
    "U": [[(0.15, 0.03), (0.15, 0.62)] + _arc(0.5, 0.62, 0.35, 0.35, 180, 0) + [(0.85, 0.03)]],
    "V": [[(0.1, 0.03), (0.5, 0.97), (0.9, 0.03)]],
    "W": [[(0.05, 0.03), (0.28, 0.97), (0.5, 0.35), (0.72, 0.97), (0.95, 0.03)]],
    "X": [[(0.1, 0.03), (0.9, 0.97)], [(0.9, 0.03), (0.1, 0.97)]],
    "Y": [[(0.1, 0.03), (0.5, 0.5), (0.9, 0.03)], [(0.5, 0.5), (0.5, 0.97)]],
    "b": [[(0.2, 0.03), (0.2, 0.97)], _bowl(0.5, 0.72, 0.3, 0.25)],
    "e": [[(0.15, 0.5), (0.85, 0.5)] + _arc(0.5, 0.5, 0.35, 0.45, 0, -300)],
    "h": [[(0.2, 0.03), (0.2, 0.97)], [(0.2, 0.62)] + _arc(0.5, 0.62, 0.3, 0.25, 180, 360) + [(0.8, 0.97)]],
    "m": [[(0.1, 0.97), (0.1, 0.2)] + _arc(0.3, 0.4, 0.2, 0.2, 180, 360) + [(0.5, 0.97)],
          [(0.5, 0.4)] + _arc(0.7, 0.4, 0.2, 0.2, 180, 360) + [(0.9, 0.97)]],
    "n": [[(0.2, 0.97), (0.2, 0.2)] + _arc(0.5, 0.45, 0.3, 0.3, 180, 360) + [(0.8, 0.97)]],
    "p": [[(0.2, 0.2), (0.2, 0.97)], _bowl(0.5, 0.4, 0.3, 0.22)],
    "r": [[(0.25, 0.97), (0.25, 0.2)], [(0.25, 0.5), (0.45, 0.25), (0.8, 0.22)]],
    "t": [[(0.45, 0.03), (0.45, 0.9), (0.8, 0.88)], [(0.15, 0.3), (0.8, 0.3)]],
    "f": [[(0.85, 0.08), (0.6, 0.03), (0.42, 0.15), (0.42, 0.97)], [(0.15, 0.4), (0.75, 0.4)]],
    "k": [[(0.2, 0.03), (0.2, 0.97)], [(0.75, 0.35), (0.2, 0.7), (0.8, 0.97)]],
    "y": [[(0.15, 0.03), (0.5, 0.55)], [(0.85, 0.03), (0.3, 0.97)]],
    "w": [[(0.05, 0.1), (0.28, 0.9), (0.5, 0.3), (0.72, 0.9), (0.95, 0.1)]],
}


def letters(rng) -> Strokes:
    """One letter of LETTERS, picked at random."""
    return LETTERS[list(LETTERS)[int(rng.integers(len(LETTERS)))]]


KINDS = {"strokes": strokes, "polygon": polygon, "loops": loops, "zigzag": zigzag, "hatching": hatching,
         "dots": dots, "letterlike": letterlike, "letters": letters}


def worn(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The ink as a poor copy would show it: drawn small (16–48 px across), uneven and grainy, blown up again.
    Given to digits and non-digits alike, so that a detector learns shapes, not the look of clean strokes."""
    side = int(rng.integers(16, 49))
    small = np.asarray(Image.fromarray(ink).resize((side, side), Image.BILINEAR), np.float32) / 255
    small *= rng.uniform(0.4, 1.0, small.shape)                         # uneven pressure
    # blots at the edges
    small += (rng.random(small.shape) < rng.uniform(0, 0.06)) * (small > 0.05) * rng.uniform(0.3, 1.0)
    small = np.clip(small + rng.normal(0, rng.uniform(0, 0.05), small.shape), 0, 1)  # paper grain
    resample = Image.NEAREST if rng.random() < 0.5 else Image.BILINEAR
    return np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize(ink.shape[::-1], resample))


def _drawn(strokes: Strokes, rng, i: int, canvas: int, widths: tuple[float, float], worn_share: float) -> np.ndarray:
    size = rng.uniform(0.3, 0.9) * canvas
    width = max(2, min(int(rng.uniform(*widths)), int(size * 0.2)))  # a fat brush on a small drawing fills it in
    ink = strokes_ink(strokes, rng, size, width, canvas)
    return as_canvas(worn(ink, rng) if rng.random() < worn_share else ink, STYLES[i % len(STYLES)])


def negatives(per_kind: int = 100, seed: int = 0, canvas: int = 280, worn_share: float = 0.3) -> list[Drawing]:
    """`per_kind` drawings of each kind of KINDS (digit -1), in the canvas styles in turn, random sizes and
    brushes (2–45 px, dots bigger); `worn_share` of them worn (see `worn`)."""
    rng = np.random.default_rng(seed)
    return [Drawing(_drawn(make(rng), rng, i, canvas, (25, 60) if kind == "dots" else (2, 45), worn_share), -1, kind)
            for kind, make in KINDS.items() for i in range(per_kind)]


def digits_drawn(per_digit: int = 100, seed: int = 0, canvas: int = 280, worn_share: float = 0.3) -> list[Drawing]:
    """Digits from digits.handdrawn's skeletons drawn the way `negatives` draws (same sizes, brushes, wear):
    the other side of what the detector is fitted on."""
    rng = np.random.default_rng(seed)
    return [Drawing(_drawn(SKELETONS[d], rng, i, canvas, (2, 45), worn_share), d, "drawn")
            for d in range(10) for i in range(per_digit)]
