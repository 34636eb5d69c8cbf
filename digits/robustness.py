"""Why preprocessing matters: the same drawing shifted, rotated and scaled, each version read twice,
once through `digits.preprocess.to_mnist` (the MNIST recipe: crop, scale to the 20-px box, centre by
centre of mass) and once by a plain resize of the whole drawing to 28×28.

The drawing's ink (`digits.preprocess.ink`) is moved in canvas pixels about its centre of mass; shifts
are counted in pixels of the 28×28 field (one is a 28th of the drawing's width). Every version is
sampled in one call and read in one batch, as digits.classify reads (nine shifted views averaged), so the
whole grid costs about as much as its `to_mnist` calls (~1–3 ms each on one CPU thread).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import standardize
from .device import model_device
from .preprocess import INK_CONTRAST, ink, to_mnist
from .reading import read_inputs

SHIFTS = (-4, 0, 4)               # px of the 28×28 field, down (rows) and right (columns): a 3 × 3 grid
ANGLES = (-30, -15, 0, 15, 30)    # degrees, anticlockwise as seen
SCALES = (0.5, 0.75, 1.0, 1.25)   # size factors: people draw small far more often than too big


@dataclass(frozen=True)
class Readings:
    """The network's answer for every cell of a sweep, read one way."""
    digit: np.ndarray        # int (rows, columns): the predicted digit; -1 where no ink was left to read
    confidence: np.ndarray   # float (rows, columns): that digit's probability; 0 where no ink was left
    inputs: np.ndarray       # float32 (rows, columns, 28, 28) in [0, 1]: what the network saw


@dataclass(frozen=True)
class Sweep:
    name: str                     # "shift", "rotation" or "scale"
    rows: tuple[float, ...]       # shift: px down; (0,) for rotation and scale
    columns: tuple[float, ...]    # shift: px right; rotation: degrees anticlockwise; scale: size factor
    centred: Readings             # through to_mnist, centring included
    plain: Readings               # the whole drawing resized to 28×28, nothing else


@dataclass(frozen=True)
class Robustness:
    shift: Sweep
    rotation: Sweep
    scale: Sweep


Cell = tuple[float, float, float, float]  # (down px, right px, degrees anticlockwise, scale)


def _moved(x: np.ndarray, cells: list[Cell]) -> torch.Tensor:
    """(len(cells), H, W) the ink `x` moved as each cell says, about its centre of mass (bilinear, zeros outside)."""
    h, w = x.shape
    t = torch.from_numpy(x)
    px, py = torch.arange(w, dtype=torch.float32), torch.arange(h, dtype=torch.float32)
    cx, cy = float((t.sum(0) * px).sum() / t.sum()), float((t.sum(1) * py).sum() / t.sum())
    # Output pixel p shows input pixel q = c + R(-θ)(p - c - shift) / scale; y points down, so this turns anticlockwise.
    a = torch.tensor([[math.radians(d), s, r * w / 28, down * h / 28] for down, r, d, s in cells]).T[..., None, None]
    angle, scale, right, down = a
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    dx, dy = px - cx - right, py[:, None] - cy - down                   # (B, 1, W) and (B, H, 1)
    # grid_sample's coordinates (align_corners=False): n = (2q + 1) / size - 1. Each is a row term plus a
    # column term, so only the final sums are (B, H, W).
    grid = torch.empty(len(cells), h, w, 2)
    torch.sub((2 * (cos * dx + cx) + 1) / w - 1, 2 * sin * dy / w, out=grid[..., 0])
    torch.add(2 * sin * dx / h, (2 * (cos * dy + cy) + 1) / h - 1, out=grid[..., 1])
    out = F.grid_sample(t.expand(len(cells), 1, h, w), grid, align_corners=False)[:, 0]
    for i, cell in enumerate(cells):
        if cell == (0, 0, 0, 1):
            out[i] = t  # exactly the drawing, not a resampling of it: this cell is what digits.classify reads
    return out.clamp_(0, 1)


def _readings(probs: torch.Tensor, inputs: torch.Tensor, shape: tuple[int, int]) -> Readings:
    confidence, digit = probs.max(dim=1)
    blank = inputs.flatten(1).amax(1) == 0
    return Readings(torch.where(blank, -1, digit).view(shape).numpy(),
                    torch.where(blank, 0.0, confidence).view(shape).numpy(),
                    inputs.view(*shape, 28, 28).numpy())


def robustness(model: nn.Module, drawing, shifts=SHIFTS, angles=ANGLES, scales=SCALES) -> Robustness | None:
    """Each shift (a grid of `shifts` × `shifts`), rotation and scale of the drawing, read with and without
    the MNIST centring; None if the drawing has no ink."""
    x = ink(drawing)
    if x.max() < INK_CONTRAST:
        return None
    sweeps = {"shift": (tuple(shifts), tuple(shifts), [(d, r, 0, 1) for d in shifts for r in shifts]),
              "rotation": ((0,), tuple(angles), [(0, 0, a, 1) for a in angles]),
              "scale": ((0,), tuple(scales), [(0, 0, 0, s) for s in scales])}
    cells = list(dict.fromkeys(c for _, _, group in sweeps.values() for c in group))  # each version once
    moved = _moved(x, cells)
    centred = [to_mnist(m.numpy()) for m in moved]
    centred = torch.stack([torch.from_numpy(c) if c is not None else torch.zeros(28, 28) for c in centred])
    plain = F.interpolate(moved[:, None], size=(28, 28), mode="bilinear", antialias=True,
                          align_corners=False)[:, 0].clamp_(0, 1)
    both = torch.cat([centred, plain])
    # as classify reads each
    probs = read_inputs(model, standardize(both[:, None]).to(model_device(model))).probs.float()
    n = len(cells)
    result = {}
    for name, (rows, columns, group) in sweeps.items():
        index = torch.tensor([cells.index(c) for c in group])
        shape = (len(rows), len(columns))
        result[name] = Sweep(name, rows, columns, _readings(probs[index], centred[index], shape),
                             _readings(probs[n + index], plain[index], shape))
    return Robustness(**result)
