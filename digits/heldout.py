"""Harder held-out sets, for measuring only: digits in hands and pens the project's other drawings do not
use, and things that are not digits at all. Nothing here may be trained or tuned on (issue #15's rule):
the training augmentations and the not-a-digit detector's negatives come from other generators.

Made the way digits.handdrawn makes its drawings (stroke skeletons in a unit box, y down, bent by a random
hand), with other skeletons (European 1, 4, 7 and 9, looped 2, cursive joins), other pens (a hairline, a
fat marker) and a low-resolution scan (drawn small, blotched, enlarged in blocks).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from .handdrawn import SKELETONS, STYLES, Drawing, arc, as_canvas, strokes_ink

# Other ways people write digits (continental Europe, cursive school hands).
EUROPEAN = {
    **SKELETONS,
    1: [[(0.3, 0.28), (0.58, 0.04), (0.58, 0.96)], [(0.35, 0.96), (0.8, 0.96)]],           # flag and foot
    4: [[(0.65, 0.96), (0.65, 0.04), (0.1, 0.66), (0.9, 0.66)]],                             # closed top
    7: [[(0.1, 0.12), (0.2, 0.05), (0.9, 0.06), (0.45, 0.96)], [(0.3, 0.52), (0.8, 0.52)]],  # bar
    9: [arc(0.5, 0.3, 0.28, 0.26, 0, 365) + [(0.78, 0.3), (0.7, 0.8)]
        + arc(0.5, 0.8, 0.2, 0.17, 0, 160)],                                                # curled tail
}
CURSIVE = {
    **SKELETONS,
    2: [arc(0.5, 0.3, 0.3, 0.26, 200, 380) + [(0.2, 0.88)] + arc(0.3, 0.85, 0.1, 0.1, -90, 270)[::-1]
        + [(0.9, 0.92)]],                                                                    # looped
    3: [[(0.15, 0.1), (0.8, 0.1), (0.4, 0.45)] + arc(0.48, 0.7, 0.34, 0.26, -90, 160)],     # flat top, pointed middle
    8: [arc(0.5, 0.27, 0.22, 0.22, 300, 20)[::-1] + [(0.22, 0.75)] + arc(0.5, 0.74, 0.3, 0.22, 180, 540)
        + [(0.68, 0.42), (0.5, 0.05)]],                                                      # one continuous stroke
    0: [arc(0.5, 0.5, 0.24, 0.47, -80, 300) + [(0.62, 0.12)]],                              # narrow, overlapping end
}
HANDS = {"written": SKELETONS, "european": EUROPEAN, "cursive": CURSIVE}
PENS = {"hairline": (2, 5), "marker": (34, 48), "usual": (8, 30)}  # brush width range in canvas pixels

# Not digits: letters, signs and marks people draw when asked to test a digit reader.
NOT_DIGITS = {
    "A": [[(0.1, 0.95), (0.5, 0.05), (0.9, 0.95)], [(0.27, 0.6), (0.73, 0.6)]],
    "X": [[(0.1, 0.05), (0.9, 0.95)], [(0.9, 0.05), (0.1, 0.95)]],
    "∩": [arc(0.5, 0.5, 0.38, 0.42, 180, 360) + [(0.88, 0.95)], [(0.12, 0.5), (0.12, 0.95)]],
    "H": [[(0.15, 0.05), (0.15, 0.95)], [(0.85, 0.05), (0.85, 0.95)], [(0.15, 0.5), (0.85, 0.5)]],
    "K": [[(0.2, 0.05), (0.2, 0.95)], [(0.85, 0.05), (0.2, 0.55), (0.85, 0.95)]],
    "M": [[(0.1, 0.95), (0.15, 0.05), (0.5, 0.6), (0.85, 0.05), (0.9, 0.95)]],
    "W": [[(0.05, 0.05), (0.28, 0.95), (0.5, 0.35), (0.72, 0.95), (0.95, 0.05)]],
    "E": [[(0.85, 0.05), (0.2, 0.05), (0.2, 0.95), (0.85, 0.95)], [(0.2, 0.5), (0.7, 0.5)]],
    "R": [[(0.2, 0.95), (0.2, 0.05)] + arc(0.45, 0.28, 0.3, 0.23, -90, 90) + [(0.2, 0.51), (0.85, 0.95)]],
    "+": [[(0.5, 0.1), (0.5, 0.9)], [(0.1, 0.5), (0.9, 0.5)]],
    "#": [[(0.35, 0.05), (0.3, 0.95)], [(0.7, 0.05), (0.65, 0.95)],
          [(0.1, 0.35), (0.9, 0.35)], [(0.1, 0.68), (0.9, 0.68)]],
    "?": [arc(0.5, 0.25, 0.3, 0.2, 190, 420) + [(0.5, 0.65)], [(0.5, 0.9), (0.5, 0.92)]],
    "♥": [arc(0.3, 0.3, 0.2, 0.2, 135, 360) + arc(0.7, 0.3, 0.2, 0.2, 180, 405) + [(0.5, 0.95), (0.16, 0.44)]],
    "★": [[(0.5, 0.03), (0.79, 0.93), (0.03, 0.37), (0.97, 0.37), (0.21, 0.93), (0.5, 0.03)]],
    "✓": [[(0.05, 0.55), (0.35, 0.95), (0.95, 0.05)]],
    "→": [[(0.05, 0.5), (0.95, 0.5)], [(0.65, 0.2), (0.95, 0.5), (0.65, 0.8)]],
    "·": [[(0.5, 0.5), (0.51, 0.5)]],
    "~": [arc(0.3, 0.5, 0.2, 0.2, 180, 360) + arc(0.7, 0.5, 0.2, 0.2, 180, 0)],
    "☺": [arc(0.5, 0.5, 0.45, 0.45, 0, 360), [(0.35, 0.35), (0.36, 0.36)], [(0.65, 0.35), (0.66, 0.36)],
          arc(0.5, 0.55, 0.25, 0.2, 20, 160)],
    "scribble": [],  # a random zig-zag, made per drawing (see _scribble)
}


def _scribble(rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """A tangle of 8–16 quick back-and-forth lines across the box: someone testing the reader."""
    return [[tuple(p) for p in rng.uniform(0.05, 0.95, (int(rng.integers(8, 17)), 2))]]


def _render(skeleton, rng: np.random.Generator, style: str, pen: tuple[int, int], lowres: bool,
            canvas: int = 280) -> np.ndarray:
    size = rng.uniform(0.35, 0.85) * canvas
    width = min(int(rng.integers(*pen)), int(size * 0.16))  # a marker still leaves the loops of a small digit open
    ink = Image.fromarray(strokes_ink(skeleton, rng, size, width, canvas))
    if lowres:  # a poor scan: 24–40 px across, uneven ink that bleeds in blotches, paper grain, enlarged in blocks
        side = int(rng.integers(24, 41))
        small = np.asarray(ink.resize((side, side), Image.BILINEAR), np.float32) / 255
        near_ink = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3))) > 0
        blotches = (rng.uniform(0, 1, small.shape) < 0.08) & near_ink
        small = small * rng.uniform(0.55, 1.0, small.shape) + blotches * rng.uniform(0.4, 1.0, small.shape)
        small = np.clip(small + rng.normal(0, 0.03, small.shape), 0, 1)
        ink = Image.fromarray((small * 255).astype(np.uint8)).resize((canvas, canvas), Image.NEAREST)
    return as_canvas(np.asarray(ink), style)


def unseen_digits(per_digit: int = 20, seed: int = 0, lowres: bool = False) -> list[Drawing]:
    """Digits in every hand of HANDS with every pen of PENS, `per_digit` of each digit in each pairing
    (clean), or as low-resolution scans (`lowres`)."""
    rng = np.random.default_rng(seed + (1000 if lowres else 0))
    out = []
    for hand, skeletons in HANDS.items():
        for name, pen in PENS.items():
            if lowres and name == "hairline":  # a hairline does not survive a 30-pixel scan
                continue
            for digit in range(10):
                for i in range(per_digit):
                    style = STYLES[i % len(STYLES)]
                    out.append(Drawing(_render(skeletons[digit], rng, style, pen, lowres), digit, f"{hand}/{style}"))
    return out


def not_digits(per_kind: int = 10, seed: int = 0) -> list[Drawing]:
    """`per_kind` drawings of each thing in NOT_DIGITS (digit -1), in the usual pens."""
    rng = np.random.default_rng(seed + 2000)
    out = []
    for kind, skeleton in NOT_DIGITS.items():
        for i in range(per_kind):
            strokes = skeleton or _scribble(rng)
            pen = PENS["marker"] if kind == "·" else PENS["usual"]
            style = STYLES[i % len(STYLES)]
            out.append(Drawing(_render(strokes, rng, style, pen, False), -1, f"{kind}/{style}"))
    return out
