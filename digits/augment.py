"""Batched random affine distortions on the device: the "distorted training data" of the LeNet-5 paper.

Written by hand on purpose: torchvision's v2 transforms draw one set of parameters per call, so a
batch would be rotated, scaled and shifted all alike; here every image gets its own, in one
`affine_grid` + `grid_sample` on the device, with no per-image Python loop.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(x: torch.Tensor, generator: torch.Generator, degrees: float = 12.0,
                  scale: tuple[float, float] = (0.85, 1.15), shear: float = 0.25,
                  translate: float = 2.5 / 14) -> torch.Tensor:
    """Distort every image of (N, C, H, W) by its own rotation (°), scale, shear and shift.

    `translate` is a fraction of the half-width (2.5/14: up to 2.5 px on 28×28). The background
    must be 0 (apply before normalising). Parameters are drawn on the CPU generator so runs repeat.
    """
    n = x.shape[0]
    u = torch.rand(n, 5, generator=generator) * 2 - 1                   # (N, 5) in [-1, 1)
    angle = u[:, 0] * math.radians(degrees)
    s = scale[0] + (u[:, 1] + 1) / 2 * (scale[1] - scale[0])
    sh = u[:, 2] * shear
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output coordinates to input ones: (rotation · shear) / scale, plus the shift.
    theta = torch.stack([
        torch.stack([cos, -sin + cos * sh, u[:, 3] * translate], 1),
        torch.stack([sin, cos + sin * sh, u[:, 4] * translate], 1),
    ], 1) / torch.stack([s, s, torch.ones(n)], 1).unsqueeze(1)          # (N, 2, 3)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
