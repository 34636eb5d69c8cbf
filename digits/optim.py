"""The optimizer a TrainConfig asks for, and the one-cycle learning-rate schedule."""

from __future__ import annotations

import math

import torch

from .config import TrainConfig


def optimizer(config: TrainConfig, model: torch.nn.Module, total_steps: int):
    """The optimizer and, for the one-cycle schedule, its per-step learning-rate scheduler (else None)."""
    if config.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              weight_decay=config.weight_decay, nesterov=config.momentum > 0)
    if config.schedule == "constant":
        return opt, None
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda step: one_cycle(step, total_steps))


def one_cycle(step: int, total: int, warmup: float = 0.25) -> float:
    """Learning-rate factor: linear warm-up from 4% to 100% over the first quarter, then cosine to 0
    (the one-cycle policy of Smith & Topin 2018, without its momentum cycling)."""
    up = max(1, round(warmup * total))
    if step < up:
        return 0.04 + 0.96 * step / up
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - up) / max(1, total - up))))
