"""The classifiers: networks built from a spec (digits.arch), two of them shipped. Each takes (N, 1, 28, 28)
MNIST-normalised images and returns logits (N, 10)."""

from __future__ import annotations

import math
from contextlib import contextmanager
from functools import partial
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from . import arch
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


def _layer_module(layer: dict, shape: tuple) -> nn.Module | None:
    """The weighted module of one layer spec on an input of `shape` (None for a layer without weights)."""
    kind = layer["layer"]
    if kind == "conv":
        return nn.Conv2d(shape[0], layer["channels"], layer["kernel"], layer["stride"], layer["padding"])
    if kind == "linear":
        return nn.Linear(shape[0], layer["width"])
    if kind == "batchnorm":
        return (nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0])
    if kind == "dropout":
        return nn.Dropout(layer["p"])
    return None


ACTIVATIONS = {"tanh": torch.tanh, "relu": F.relu, "gelu": F.gelu}  # a layer's name → the function its stage runs
_FUNCTIONS = {**ACTIVATIONS, "flatten": partial(torch.flatten, start_dim=1)}


class Built(nn.Module):
    """A network from a spec (digits.arch): its layers in order, each a Stage of the forward pass.

    Weighted layers are attributes named by their spec's `key` (the shipped networks keep the names their
    checkpoints have always had: `c1`, `conv1`…), else by kind and count (`conv1`, `linear2`, `bn1`,
    `dropout1`), so a checkpoint's state_dict is the same for the same spec.
    """

    # A padded border must be *background*, which after normalisation is -mean/std, not 0.
    BACKGROUND = -MNIST_MEAN / MNIST_STD

    def __init__(self, spec: list[dict], channels_last: bool = False):
        super().__init__()
        self.spec = arch.checked(spec, shapes=False)
        rows = arch.rows(self.spec)  # the network as a whole, checked once: its shapes, its size
        self.channels_last = channels_last  # digits.models.to_device: NHWC weights and activations
        self._stages, counts = [], {}
        inputs = [arch.INPUT] + [r.shape for r in rows][:-1]
        for row, layer, shape in zip(rows, self.spec, inputs):
            self._stages.append((row.group, row.words, self._function(layer, shape, counts)))
        self.widest = max(math.prod(r.shape) for r in rows)  # floats of its largest output for one image

    def _function(self, layer: dict, shape: tuple, counts: dict):
        kind = layer["layer"]
        module = _layer_module(layer, shape)
        if module is not None:
            family = {"batchnorm": "bn"}.get(kind, kind)
            counts[family] = counts.get(family, 0) + 1
            name = layer.get("key") or f"{family}{counts[family]}"
            self.add_module(name, module)
            return name  # looked up at each stages() call: the module as it is now (moved, loaded)
        if kind == "pad":
            return partial(F.pad, pad=(layer["size"],) * 4, value=self.BACKGROUND)
        if kind.endswith("pool"):
            return partial(F.max_pool2d if kind == "maxpool" else F.avg_pool2d, kernel_size=layer["size"])
        return _FUNCTIONS[kind]

    def stages(self) -> list[Stage]:
        """The forward pass as named steps, in order; `forward` runs exactly these (digits.inside records them)."""
        return [Stage(group, words, getattr(self, fn) if isinstance(fn, str) else fn)
                for group, words, fn in self._stages]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 1, 28, 28) → (N, 10) logits
        return run_stages(self.stages(), x)


class Registered(NamedTuple):
    cls: type[nn.Module]  # the network; Built takes its layers from the run's config (config.layers)
    title: str           # the name people read: "LeNet-5"
    description: str     # one line on what it is


def _spec(text: str, groups: list[str], keys: list[str]) -> list[dict]:
    """A shipped network's spec: its text form, each layer's name on the Inside page, its weights' names."""
    layers = arch.parse(text)
    weighted = iter(keys)
    for layer, group in zip(layers, groups):
        layer["group"] = group
        if layer["layer"] in ("conv", "linear"):
            layer["key"] = next(weighted)
    return layers


class LeNet5(Built):
    """LeNet-5 (LeCun et al. 1998), as in the tutorial "CNN from scratch" this project started from.

    | layer | operation                         | output      | params |
    |-------|-----------------------------------|-------------|--------|
    | input | pad 2                             | 1 × 32 × 32 |      0 |
    | C1    | conv 6 @ 5×5, tanh                | 6 × 28 × 28 |    156 |
    | S2    | average pool 2×2, tanh            | 6 × 14 × 14 |      0 |
    | C3    | conv 16 @ 5×5, tanh               | 16 × 10 × 10|  2,416 |
    | S4    | average pool 2×2, tanh            | 16 × 5 × 5  |      0 |
    | C5    | conv 120 @ 5×5, tanh              | 120 × 1 × 1 | 48,120 |
    | F6    | flatten, linear 84, tanh          | 84          | 10,164 |
    | out   | linear 10                         | 10          |    850 |
    |       | total                             |             | 61,706 |

    The paper feeds 32×32 images with the digit in the central 28×28 (so that stroke ends can reach the centre
    of C3's receptive fields): 2 pixels of background on each side. The output is logits; softmax turns them
    into probabilities at inference.
    """

    SPEC = _spec("pad 2, conv 6 5, tanh, avgpool 2, tanh, conv 16 5, tanh, avgpool 2, tanh, conv 120 5, tanh, "
                 "flatten, linear 84, tanh, linear 10",
                 ["input", "C1", "C1", "S2", "S2", "C3", "C3", "S4", "S4", "C5", "C5", "F6", "F6", "F6", "out"],
                 ["c1", "c3", "c5", "f6", "out"])

    def __init__(self):
        # Training is faster in NHWC here (2-core CPU: ~8,500 → ~10,000 samples/s).
        super().__init__(self.SPEC, channels_last=True)


class SmallCNN(Built):
    """The small CNN of the tutorial "Dataloading…" this project started from (57,790 parameters).

    | layer    | operation                          | output       | params |
    |----------|------------------------------------|--------------|--------|
    | Conv2d-1 | conv 6 @ 3×3, ReLU                 | 6 × 26 × 26  |     60 |
    | Pool-1   | max pool 2×2                       | 6 × 13 × 13  |      0 |
    | Conv2d-2 | conv 12 @ 3×3, ReLU                | 12 × 11 × 11 |    660 |
    | Pool-2   | max pool 2×2                       | 12 × 5 × 5   |      0 |
    | Linear-1 | flatten, linear 140, ReLU          | 140          | 42,140 |
    | Linear-2 | linear 80, ReLU                    | 80           | 11,280 |
    | Linear-3 | linear 40, ReLU                    | 40           |  3,240 |
    | Linear-4 | linear 10                          | 10           |    410 |
    |          | total                              |              | 57,790 |
    """

    SPEC = _spec("conv 6 3, relu, maxpool 2, conv 12 3, relu, maxpool 2, flatten, linear 140, relu, linear 80, relu, "
                 "linear 40, relu, linear 10",
                 ["Conv2d-1", "Conv2d-1", "Pool-1", "Conv2d-2", "Conv2d-2", "Pool-2", "Linear-1", "Linear-1",
                  "Linear-1", "Linear-2", "Linear-2", "Linear-3", "Linear-3", "Linear-4"],
                 ["conv1", "conv2", "fc1", "fc2", "fc3", "fc4"])

    def __init__(self):
        super().__init__(self.SPEC)  # NHWC is slower for this one (2-core CPU: ~17,000 → ~11,000 samples/s)


BUILT = "built"  # the model name of a network a learner built (its config's `layers` hold it)

# name → its class and words. Adding a shipped model is one class (its spec) and one line here.
MODELS: dict[str, Registered] = {
    "lenet5": Registered(LeNet5, "LeNet-5", "LeNet-5 (1998): tanh convolutions with average pooling, 32×32 input"),
    "cnn": Registered(SmallCNN, "Small CNN",
                      "Small CNN: two 3×3 ReLU convolutions with max pooling, four linear layers"),
    BUILT: Registered(Built, "Your own network", "the layers you build on the Train page (or --arch on the CLI)"),
}
SHIPPED = tuple(name for name, entry in MODELS.items() if entry.cls is not Built)  # built with no layers given


def title(name: str) -> str:
    """ "LeNet-5" for "lenet5"; an unknown name as it is."""
    return MODELS[name].title if name in MODELS else name


def build_model(name: str, layers: str = "") -> nn.Module:
    """A freshly initialised model: a shipped one by name, or "built" from `layers` (digits.arch's text form);
    ValueError with one line for an unknown name or a network that does not work out."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    cls = MODELS[name].cls
    if cls is not Built:
        return cls()
    if not layers:
        raise ValueError("a built network needs its layers")
    return Built(arch.parse(layers))


INFERENCE_MB = 256  # a forward pass without gradients holds about one layer's input and output at once


def inference_batch(model: nn.Module, wanted: int) -> int:
    """`wanted`, or fewer images at once for a network whose layers are wide (a built one): so that a layer's
    input and output for the batch stay within INFERENCE_MB in float32. The shipped ones take 7,000 and more."""
    widest = getattr(model, "widest", 0)
    return max(1, min(wanted, INFERENCE_MB * 2**20 // max(1, 2 * 4 * widest)))


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
