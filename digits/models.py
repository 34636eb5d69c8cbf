"""The two classifiers. Each takes (N, 1, 28, 28) MNIST-normalised images and returns logits (N, 10)."""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .data import MNIST_MEAN, MNIST_STD


class Stage(NamedTuple):
    """One step of a model's forward pass. A model's `stages()` lists them in order and its `forward`
    runs exactly those, so what digits.inside records is, by construction, the forward pass."""
    layer: str                                  # the row of the class docstring's table it belongs to: "C1"
    operation: str                              # what it does; a layer's steps joined by ", " are the table's words
    fn: Callable[[torch.Tensor], torch.Tensor]  # a module of the model, or a function without weights


def run_stages(stages: list[Stage], x: torch.Tensor) -> torch.Tensor:
    for stage in stages:
        x = stage.fn(x)
    return x


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998), as in the tutorial "CNN from scratch" this project started from.

    | layer | operation                         | output      | params |
    |-------|-----------------------------------|-------------|--------|
    | input | 28×28 padded to 32×32             | 1 × 32 × 32 |      0 |
    | C1    | conv 6 @ 5×5, tanh                | 6 × 28 × 28 |    156 |
    | S2    | average pool 2×2 stride 2, tanh   | 6 × 14 × 14 |      0 |
    | C3    | conv 16 @ 5×5, tanh               | 16 × 10 × 10|  2,416 |
    | S4    | average pool 2×2 stride 2, tanh   | 16 × 5 × 5  |      0 |
    | C5    | conv 120 @ 5×5, tanh              | 120 × 1 × 1 | 48,120 |
    | F6    | flatten, fully connected 84, tanh | 84          | 10,164 |
    | out   | fully connected 10                | 10          |    850 |
    |       | total                             |             | 61,706 |

    The output is logits; softmax turns them into probabilities at inference.
    """

    # The paper feeds 32×32 images with the digit in the central 28×28 (so that stroke ends can
    # reach the centre of C3's receptive fields); the border must be *background*, which after
    # normalisation is -mean/std, not 0.
    BACKGROUND = -MNIST_MEAN / MNIST_STD
    # Training is faster with NHWC weights and activations here (2-core CPU: ~8,500 → ~10,000 samples/s).
    channels_last = True

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def stages(self) -> list[Stage]:
        """The forward pass as named steps, in order; `forward` runs exactly these (digits.inside records them)."""
        return [
            Stage("input", "28×28 padded to 32×32",
                  partial(F.pad, pad=(2, 2, 2, 2), value=self.BACKGROUND)),  # (N, 1, 32, 32)
            Stage("C1", "conv 6 @ 5×5", self.c1),                            # (N, 6, 28, 28)
            Stage("C1", "tanh", torch.tanh),
            Stage("S2", "average pool 2×2 stride 2", partial(F.avg_pool2d, kernel_size=2)),  # (N, 6, 14, 14)
            Stage("S2", "tanh", torch.tanh),
            Stage("C3", "conv 16 @ 5×5", self.c3),                           # (N, 16, 10, 10)
            Stage("C3", "tanh", torch.tanh),
            Stage("S4", "average pool 2×2 stride 2", partial(F.avg_pool2d, kernel_size=2)),  # (N, 16, 5, 5)
            Stage("S4", "tanh", torch.tanh),
            Stage("C5", "conv 120 @ 5×5", self.c5),                          # (N, 120, 1, 1)
            Stage("C5", "tanh", torch.tanh),
            Stage("F6", "flatten", partial(torch.flatten, start_dim=1)),     # (N, 120)
            Stage("F6", "fully connected 84", self.f6),                      # (N, 84)
            Stage("F6", "tanh", torch.tanh),
            Stage("out", "fully connected 10", self.out),                    # (N, 10) logits (softmax at inference)
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_stages(self.stages(), x)


class SmallCNN(nn.Module):
    """The small CNN of the tutorial "Dataloading…" this project started from (57,790 parameters).

    | layer    | operation                          | output       | params |
    |----------|------------------------------------|--------------|--------|
    | Conv2d-1 | conv 6 @ 3×3, ReLU                 | 6 × 26 × 26  |     60 |
    | Pool-1   | max pool 2×2                       | 6 × 13 × 13  |      0 |
    | Conv2d-2 | conv 12 @ 3×3, ReLU                | 12 × 11 × 11 |    660 |
    | Pool-2   | max pool 2×2                       | 12 × 5 × 5   |      0 |
    | Linear-1 | flatten, 300 → 140, ReLU           | 140          | 42,140 |
    | Linear-2 | 140 → 80, ReLU                     | 80           | 11,280 |
    | Linear-3 | 80 → 40, ReLU                      | 40           |  3,240 |
    | Linear-4 | 40 → 10                            | 10           |    410 |
    |          | total                              |              | 57,790 |
    """

    channels_last = False  # NHWC is slower for this one (2-core CPU: ~17,000 → ~11,000 samples/s)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 12, 3)
        self.fc1 = nn.Linear(12 * 5 * 5, 140)
        self.fc2 = nn.Linear(140, 80)
        self.fc3 = nn.Linear(80, 40)
        self.fc4 = nn.Linear(40, 10)

    def stages(self) -> list[Stage]:
        """The forward pass as named steps, in order; `forward` runs exactly these (digits.inside records them)."""
        return [
            Stage("Conv2d-1", "conv 6 @ 3×3", self.conv1),                   # (N, 6, 26, 26)
            Stage("Conv2d-1", "ReLU", F.relu),
            Stage("Pool-1", "max pool 2×2", partial(F.max_pool2d, kernel_size=2)),  # (N, 6, 13, 13)
            Stage("Conv2d-2", "conv 12 @ 3×3", self.conv2),                  # (N, 12, 11, 11)
            Stage("Conv2d-2", "ReLU", F.relu),
            Stage("Pool-2", "max pool 2×2", partial(F.max_pool2d, kernel_size=2)),  # (N, 12, 5, 5)
            Stage("Linear-1", "flatten", partial(torch.flatten, start_dim=1)),  # (N, 300)
            Stage("Linear-1", "300 → 140", self.fc1),                        # (N, 140)
            Stage("Linear-1", "ReLU", F.relu),
            Stage("Linear-2", "140 → 80", self.fc2),                         # (N, 80)
            Stage("Linear-2", "ReLU", F.relu),
            Stage("Linear-3", "80 → 40", self.fc3),                          # (N, 40)
            Stage("Linear-3", "ReLU", F.relu),
            Stage("Linear-4", "40 → 10", self.fc4),                          # (N, 10) logits
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_stages(self.stages(), x)


class Registered(NamedTuple):
    cls: type[nn.Module]
    title: str           # the name people read: "LeNet-5"
    description: str     # one line on what it is


# name → its class and words. Adding a model is one class and one line here.
MODELS: dict[str, Registered] = {
    "lenet5": Registered(LeNet5, "LeNet-5", "LeNet-5 (1998): tanh convolutions with average pooling, 32×32 input"),
    "cnn": Registered(SmallCNN, "Small CNN",
                      "Small CNN: two 3×3 ReLU convolutions with max pooling, four linear layers"),
}


def title(name: str) -> str:
    """ "LeNet-5" for "lenet5"; an unknown name as it is."""
    return MODELS[name].title if name in MODELS else name


def build_model(name: str, **kwargs) -> nn.Module:
    """A freshly initialised model from the registry."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name].cls(**kwargs)


def to_device(model: nn.Module, device) -> nn.Module:
    """Move a model to `device` in the memory layout it trains fastest in."""
    layout = torch.channels_last if getattr(model, "channels_last", False) else torch.contiguous_format
    return model.to(device, memory_format=layout)


@contextmanager
def eval_mode(model: nn.Module):
    """Evaluation mode for a block (dropout and batch norm off, should a model have them), then the
    mode the model was in before: a caller in the middle of training gets its model back training."""
    if not any(m.training for m in model.modules()):  # already so (how the app keeps its models): nothing to set
        yield model
        return
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def probabilities(model: nn.Module, logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax(logits / T): what the app and the CLI show as the model's confidence. T is the model's
    `temperature`, set by digits.checkpoint.load_checkpoint from the checkpoint (fitted on validation
    images by digits.calibration; 1 for a model without one). T > 0 never changes which digit is on top."""
    return torch.softmax(logits / getattr(model, "temperature", 1.0), dim=dim)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
