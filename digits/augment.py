"""Batched random distortions on the device: affine ones (the "distorted training data" of the LeNet-5
paper) and roughening (other pens, low-resolution scans, blotches: issue #15).

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


def roughen(x: torch.Tensor, generator: torch.Generator, share: float = 0.5) -> torch.Tensor:
    """Make a random `share` of (N, 1, H, W) images look drawn with another pen or scanned badly: each of
    those gets its own mix of a thinner or thicker stroke (a 3×3 erosion or dilation, blended in part),
    a lower resolution (shrunk to 8–24 px by area, inked unevenly and bleeding as a poor scan is,
    enlarged back in blocks or smoothly) and ink blotches
    (a few soft blobs and specks). Background 0, ink up to 1 (apply before normalising); parameters come
    from the CPU generator so runs repeat. For the other hands, pens and scans of issue #15: procedural,
    made without looking at digits.heldout's drawings (which stay the measure)."""
    n, _, h, w = x.shape
    u = torch.rand(n, 6, generator=generator).to(x.device)               # (N, 6) per-image draws in [0, 1)
    chosen = u[:, 0] < share
    def pick(p):
        return (chosen & (u[:, 1 + p[0]] < p[1])).view(n, 1, 1, 1).to(x.dtype)

    # Stroke width: half of the chosen thicker or thinner, by a random part of one pixel.
    thick, thin = F.max_pool2d(x, 3, 1, 1), -F.max_pool2d(-x, 3, 1, 1)
    amount = u[:, 4].view(n, 1, 1, 1)
    widened = torch.where(u[:, 5].view(n, 1, 1, 1) < 0.5, thick, thin)
    x = x + pick((0, 0.5)) * amount * (widened - x)
    # Low resolution: one size per batch, drawn from 8 to 24 px; blocks (nearest) or smooth (bilinear). A poor
    # scan or a cheap camera also inks unevenly at that resolution: each coarse pixel's ink is scaled by its own
    # random factor (0.5–1) and a random share (up to 12%) of the paper pixels next to a stroke take some ink
    # (bleeding).
    side = int(torch.randint(8, 25, (1,), generator=generator))
    small = F.interpolate(x, size=(side, side), mode="area")
    spots = torch.rand(n, 3, side, side, generator=generator).to(x.device)
    share_bled = 0.12 * torch.rand(n, 1, 1, 1, generator=generator).to(x.device)
    bleed = (spots[:, 1:2] < share_bled) & (F.max_pool2d(small, 3, 1, 1) > 0.1) & (small < 0.1)
    small = (small * (0.5 + 0.5 * spots[:, :1]) + bleed * (0.3 + 0.7 * spots[:, 2:3])).clamp(0, 1)
    blocky = torch.rand(1, generator=generator).item() < 0.5
    big = F.interpolate(small, size=(h, w), mode="nearest") if blocky else \
        F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    big = big / big.amax((2, 3), keepdim=True).clamp_min(0.1)  # its strongest ink full, as digits.preprocess makes it
    x = x + pick((1, 0.5)) * (big.clamp(0, 1) - x)
    # Blotches: three soft blobs of random size and darkness, and specks, on a third of the chosen.
    cy, cx, r, ink = (torch.rand(n, 3, 1, 1, generator=generator).to(x.device) for _ in range(4))
    yy = torch.linspace(0, 1, h, device=x.device).view(1, 1, h, 1)
    xx = torch.linspace(0, 1, w, device=x.device).view(1, 1, 1, w)
    blobs = (ink * 0.8 * torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (0.02 + 0.06 * r) ** 2))
             ).amax(1, keepdim=True)
    specks = (torch.rand(n, 1, h, w, generator=generator).to(x.device) < 0.01).to(x.dtype)
    x = x + pick((2, 0.33)) * (blobs + specks)
    return x.clamp_(0, 1)
