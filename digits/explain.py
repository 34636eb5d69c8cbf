"""Which pixels of one 28×28 image made the network answer what it did: gradient × input and
integrated gradients (computed with Captum, PyTorch's attribution library), and occlusion.

All three work on the image in [0, 1] (the network's standardisation is part of the function they
explain), so blank paper is 0: the baseline of integrated gradients is a blank image, and occlusion
covers with blank paper. Sizes are chosen for one drawing within the app's budget (~100 ms of one
CPU thread for everything; benchmarks/inside.py measures them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import InputXGradient, IntegratedGradients
from torch import nn

from .data import standardize
from .device import model_device
from .inside import pixels
from .models import eval_mode, probabilities

IG_STEPS = 32          # integration steps (Gauss–Legendre), one batched pass; 16 left LeNet-5 a 12% median
                       # completeness gap, 32 leaves 3%
OCCLUSION_PATCH = 7    # px: the square of blank paper slid over the 28×28 image…
OCCLUSION_STRIDE = 3   # px: …in steps of 3: 8 × 8 = 64 positions that cover it exactly (7 + 7 × 3 = 28)


@dataclass(frozen=True)
class Attribution:
    method: str                  # "gradient × input" or "integrated gradients"
    target: int                  # the digit whose logit is explained
    values: np.ndarray           # (28, 28) float32, signed: each pixel's share of that logit
    logit: float                 # the target's logit for the image
    gap: float | None            # integrated gradients: sum(values) − (logit − the logit of a blank image), the
                                 # integration's error; None for gradient × input (it has no such property)


@dataclass(frozen=True)
class Occlusion:
    target: int                  # the digit whose probability is watched
    probability: float           # its probability for the whole image
    grid: np.ndarray             # (n, n) float32: how much covering the patch at row i, column j lowers that
                                 # probability (negative: it rises); that patch's top-left pixel is (i, j) × stride
    drop: np.ndarray             # (28, 28) float32: each pixel's mean of `grid` over the patches that cover it
    patch: int                   # px, side of the square patch
    stride: int                  # px between patch positions


def _pixels(model: nn.Module, image: np.ndarray) -> torch.Tensor:
    """The image as (1, 1, 28, 28) pixels in [0, 1] on the model's device (checked by digits.inside.pixels)."""
    return pixels(image).to(model_device(model))


def _digit(target: int | None, scores: torch.Tensor) -> int:
    """`target` checked, or the predicted digit when it is None."""
    if target is None:
        return int(scores.argmax())
    if not 0 <= int(target) <= 9:
        raise ValueError(f"target must be a digit 0..9, got {target}")
    return int(target)


def _attribution(kind, name: str, model: nn.Module, image: np.ndarray, target: int | None, **options) -> Attribution:
    x = _pixels(model, image)
    with eval_mode(model):
        with torch.no_grad():
            logits = model(standardize(torch.cat([x, torch.zeros_like(x)]))).float().cpu()  # the image, a blank one
        digit = _digit(target, logits[0])
        explained = lambda pixels: model(standardize(pixels))  # noqa: E731 — the function of the pixels explained
        values = (kind(explained).attribute(x.requires_grad_(), target=digit, **options)
                  .detach().float().cpu()[0, 0].numpy())
    rise = float(logits[0, digit] - logits[1, digit])
    gap = float(values.astype(np.float64).sum() - rise) if name == "integrated gradients" else None
    return Attribution(name, digit, values, float(logits[0, digit]), gap)


def gradient_x_input(model: nn.Module, image: np.ndarray, target: int | None = None) -> Attribution:
    """Each pixel times the target logit's gradient there; `target` defaults to the predicted digit."""
    return _attribution(InputXGradient, "gradient × input", model, image, target)


def integrated_gradients(model: nn.Module, image: np.ndarray, target: int | None = None,
                         steps: int = IG_STEPS) -> Attribution:
    """Integrated gradients (Sundararajan et al. 2017) from a blank image: they sum to the logit's rise
    from it, up to the integration's error (`gap`, which more steps shrink)."""
    return _attribution(IntegratedGradients, "integrated gradients", model, image, target,
                        baselines=0.0, n_steps=steps, method="gausslegendre", internal_batch_size=steps)


def occlusion(model: nn.Module, image: np.ndarray, target: int | None = None,
              patch: int = OCCLUSION_PATCH, stride: int = OCCLUSION_STRIDE) -> Occlusion:
    """Slide a patch of blank paper over the image and watch the target's probability fall.

    By hand rather than with Captum's Occlusion: here the image and every patch position go through one
    batched forward (Captum evaluates the image apart and builds each mask in Python, about twice the
    time on this CPU), and the drop at each position is kept (Captum returns only the per-pixel mean)."""
    if not (1 <= patch <= 28 and 1 <= stride <= 28):
        raise ValueError(f"patch and stride must be from 1 to 28 px, got {patch} and {stride}")
    x = _pixels(model, image)
    starts = torch.arange(0, 28 - patch + 1, stride)
    n = len(starts)
    rows = (torch.arange(28) >= starts[:, None]) & (torch.arange(28) < starts[:, None] + patch)  # (n, 28): in patch i
    covered = (rows[:, None, :, None] & rows[None, :, None, :]).view(n * n, 1, 28, 28).to(x.device)
    with torch.no_grad(), eval_mode(model):
        batch = torch.cat([x, x.masked_fill(covered, 0.0)])  # the image first: the same forward reads it
        probs = probabilities(model, model(standardize(batch)).float(), dim=1).cpu()
    digit = _digit(target, probs[0])
    grid = probs[0, digit] - probs[1:, digit]                                                 # (n * n,)
    covered = covered.cpu()[:, 0].float()
    drop = (covered * grid[:, None, None]).sum(0) / covered.sum(0).clamp(min=1)
    return Occlusion(digit, float(probs[0, digit]), grid.view(n, n).numpy(), drop.numpy(), patch, stride)
