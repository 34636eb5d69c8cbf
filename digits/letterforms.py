"""Digits as people write them and MNIST's writers seldom did, drawn procedurally for the models to learn from
(config.drawn_digits, digits.batch_source): a 1 with a long, steep flag and one with a foot, a crossed 7, an
open 4, a flat-topped 3, a 9 on a straight stem, an 8 of two rings, a slashed 0... (issue #31: every recorded
digit the shipped models misread was a 1 with a long flag, read as a 7).

Each digit has a few forms, stroke skeletons in a unit box (y down) written here, not digits.handdrawn's
SKELETONS (which, with digits.heldout, stay sets to measure with). They are bent by handdrawn's random hand,
drawn with its round brush on a 280×280 canvas in its canvas styles, and read back through digits.preprocess as
classify reads a drawing: the network learns them in the form it will meet them.
"""

from __future__ import annotations

import numpy as np
import torch

from .handdrawn import STYLES, Drawing, arc, as_canvas, strokes_ink
from .preprocess import to_mnist

Skeleton = list[list[tuple[float, float]]]

FORMS: dict[int, dict[str, Skeleton]] = {
    0: {"oval": [arc(0.5, 0.5, 0.3, 0.45, -100, 265)],
        "slashed": [arc(0.5, 0.5, 0.3, 0.45, -90, 270), [(0.78, 0.12), (0.22, 0.88)]]},
    1: {"stroke": [[(0.52, 0.03), (0.48, 0.97)]],
        "long flag": [[(0.24, 0.38), (0.62, 0.03), (0.6, 0.97)]],
        "flag and foot": [[(0.3, 0.24), (0.56, 0.03), (0.56, 0.95)], [(0.28, 0.96), (0.84, 0.96)]],
        "curved flag": [[(0.22, 0.36), (0.34, 0.22), (0.46, 0.1), (0.58, 0.03), (0.58, 0.97)]]},
    2: {"round": [arc(0.48, 0.32, 0.32, 0.27, 190, 375) + [(0.14, 0.94), (0.88, 0.94)]],
        "looped": [arc(0.5, 0.3, 0.3, 0.26, 195, 370) + [(0.2, 0.86)] + arc(0.22, 0.84, 0.08, 0.1, -90, 180)[::-1]
                   + [(0.9, 0.93)]],
        "straight": [[(0.14, 0.12), (0.5, 0.03), (0.84, 0.18), (0.16, 0.95), (0.88, 0.95)]]},
    3: {"round": [arc(0.48, 0.28, 0.28, 0.23, 210, 445) + arc(0.48, 0.72, 0.33, 0.25, -85, 150)],
        "flat top": [[(0.16, 0.05), (0.82, 0.05), (0.42, 0.42)] + arc(0.46, 0.7, 0.34, 0.27, -95, 155)]},
    4: {"closed": [[(0.64, 0.03), (0.12, 0.64), (0.9, 0.64)], [(0.64, 0.03), (0.64, 0.97)]],
        "open": [[(0.3, 0.03), (0.16, 0.6), (0.88, 0.6)], [(0.7, 0.22), (0.7, 0.97)]]},
    5: {"one stroke": [[(0.84, 0.04), (0.28, 0.04), (0.22, 0.46)] + arc(0.48, 0.7, 0.33, 0.26, -120, 155)],
        "hat last": [[(0.28, 0.05), (0.22, 0.46)] + arc(0.48, 0.7, 0.33, 0.26, -120, 155),
                     [(0.28, 0.05), (0.84, 0.02)]]},
    6: {"curved": [arc(0.72, 0.55, 0.5, 0.52, 250, 180)[::-1] + arc(0.5, 0.72, 0.26, 0.24, 180, 540)],
        "straight back": [[(0.68, 0.03), (0.28, 0.6)] + arc(0.5, 0.73, 0.25, 0.23, 200, 560)]},
    7: {"plain": [[(0.1, 0.05), (0.9, 0.05), (0.4, 0.97)]],
        "crossed": [[(0.1, 0.05), (0.9, 0.05), (0.4, 0.97)], [(0.34, 0.52), (0.86, 0.5)]],
        "hooked": [[(0.12, 0.2), (0.1, 0.05), (0.9, 0.05), (0.45, 0.97)]]},
    8: {"one stroke": [arc(0.5, 0.27, 0.25, 0.23, 80, 440) + arc(0.5, 0.72, 0.3, 0.26, -80, 280)],
        "two rings": [arc(0.5, 0.26, 0.22, 0.22, 0, 365), arc(0.5, 0.72, 0.3, 0.26, -90, 275)]},
    9: {"straight stem": [arc(0.48, 0.28, 0.28, 0.25, 0, 365), [(0.76, 0.28), (0.76, 0.97)]],
        "curved tail": [arc(0.5, 0.28, 0.27, 0.25, 0, 365) + [(0.74, 0.6), (0.62, 0.88), (0.4, 0.97)]],
        "q-like": [arc(0.42, 0.3, 0.28, 0.26, -10, 355), [(0.7, 0.08), (0.72, 0.97)]]},
}

COUNT = sum(map(len, FORMS.values()))  # forms of all ten digits: a pool of per_form each holds per_form × COUNT


def drawings(per_form: int, seed: int, canvas: int = 280) -> list[Drawing]:
    """`per_form` drawings of each form of each digit, in random hands and brushes, the canvas styles in turn."""
    rng = np.random.default_rng(seed)
    out = []
    for digit, forms in FORMS.items():
        for skeleton in forms.values():
            for i in range(per_form):
                size = rng.uniform(0.3, 0.85) * canvas
                width = max(2, min(int(rng.uniform(6, 34)), int(size * 0.2)))
                ink = strokes_ink(skeleton, rng, size, width, canvas)
                out.append(Drawing(as_canvas(ink, STYLES[i % len(STYLES)]), digit, "drawn"))
    return out


def pool(per_form: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`drawings(per_form, seed)` as classify reads them: uint8 (N, 28, 28) images and int64 (N,) labels (a drawing
    that comes out without ink is left out)."""
    read = [(x, d.digit) for d in drawings(per_form, seed) if (x := to_mnist(d.image)) is not None]
    images = torch.from_numpy(np.stack([x for x, _ in read]))
    return images.mul(255).round().to(torch.uint8), torch.tensor([digit for _, digit in read])
