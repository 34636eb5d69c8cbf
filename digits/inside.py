"""Inside a network, for one 28×28 image: every layer's activations, the learned filters, every
operation's output shape, and how one number of a layer is computed from the layer before it.

Everything is read from the model's `stages()` (digits.models): the steps its `forward` runs, padding,
pooling and activation functions included, so what is shown can never disagree with the prediction.
The results are plain records of numpy arrays, names and shapes; a page renders them as they are.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import standardize
from .device import model_device
from .models import Stage, eval_mode, probabilities

INPUT = "input"  # the name of the network's own input (LeNet-5's "input" layer is its 32×32 padding of it)


@dataclass(frozen=True)
class Activation:
    layer: str               # "C1": a row of the model's docstring table, in forward order
    operation: str           # "conv 6 @ 5×5, tanh": the layer's steps in the table's words
    values: np.ndarray       # float32, one image: (C, H, W) maps or (n,) units

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape


@dataclass(frozen=True)
class Trace:
    """One image through the network, layer by layer."""
    image: np.ndarray        # (28, 28) float32 in [0, 1]: the image as given (e.g. Prediction.input)
    input: np.ndarray        # (1, 28, 28) float32: what the network received, MNIST-standardised
    layers: list[Activation] # every layer's output in forward order; the last one's values are the logits
    probs: np.ndarray        # (10,) softmax of this one image's logits ÷ the model's temperature (digits.classify
                             # averages the logits of the image and its one-pixel shifts first: a little different)

    @property
    def digit(self) -> int:
        return int(self.probs.argmax())


@dataclass(frozen=True)
class Operation:
    """One step of the forward pass, as a model page lists it."""
    layer: str               # the table row it belongs to: "C1"
    operation: str           # "conv 6 @ 5×5", "tanh", "max pool 2×2", "flatten"…
    shape: tuple[int, ...]   # its output for one image: (6, 28, 28), (84,)
    params: int              # weights and biases of this step (0 for steps without weights)


@dataclass(frozen=True)
class Filters:
    layer: str               # the convolution's table row: "C1"
    weights: np.ndarray      # (out maps, in maps, k, k) float32
    bias: np.ndarray         # (out maps,) float32


@dataclass(frozen=True)
class Computation:
    """How one number of a layer comes out of the layer before it, in arithmetic a learner can follow."""
    layer: str                        # the layer the number belongs to
    position: tuple[int, ...]         # (map, row, col) in its maps, or (unit,)
    source: str                       # the layer read, or INPUT for the network input itself
    patch_origin: tuple[int, int] | None  # (row, col) in the source's maps of inputs[..., 0, 0];
                                          # None for a linear layer
    inputs: np.ndarray                # what it reads: (in maps, k, k) patch of the source, or (n,) vector
    weights: np.ndarray | None        # the kernels (in maps, k, k) or weight row (n,); None for pooling
    products: np.ndarray | None       # inputs × weights, elementwise
    bias: float                       # 0.0 for pooling
    reduce: str                       # "sum + bias", "mean" or "max"
    pre_activation: float             # the products summed plus the bias (or the pooled value)
    function: str | None              # "tanh", "ReLU", "batch norm, GELU"… or None (the last layer: a logit)
    value: float                      # function(pre_activation): the activation at `position`
    field: tuple[int, int, int, int]  # (top, left, bottom, right), bottom and right exclusive: the pixels of the
                                      # 28×28 input it depends on; LeNet-5's reach past 0..28 into its padding


def pixels(image: np.ndarray) -> torch.Tensor:
    """A (28, 28) image in [0, 1], checked, as a (1, 1, 28, 28) float32 tensor of its own (the caller's
    array may be read-only, or reused for the next stroke)."""
    a = np.asarray(image, dtype=np.float32)
    if a.shape != (28, 28) or not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise ValueError(f"expected a 28×28 image with values in [0, 1], got shape {a.shape}")
    return torch.tensor(a).view(1, 1, 28, 28)


def network_input(image: np.ndarray) -> torch.Tensor:
    """A (28, 28) image in [0, 1] as the networks take it: (1, 1, 28, 28), MNIST-standardised."""
    return standardize(pixels(image))


@torch.no_grad()
def _run(model: nn.Module, x: torch.Tensor) -> list[tuple[Stage, torch.Tensor, torch.Tensor]]:
    """(step, its input, its output) for every step of the forward pass; tensors on the CPU, as float32."""
    out, x = [], x.to(model_device(model))
    with eval_mode(model):
        for stage in model.stages():
            y = stage.fn(x)
            out.append((stage, x.float().cpu(), y.float().cpu()))
            x = y
    return out


def _layers(steps) -> list[tuple[str, list]]:
    """The steps grouped by layer, in order: [(layer, [(stage, input, output), …]), …]."""
    groups: list[tuple[str, list]] = []
    for step in steps:
        if not groups or groups[-1][0] != step[0].layer:
            groups.append((step[0].layer, []))
        groups[-1][1].append(step)
    return groups


def trace(model: nn.Module, image: np.ndarray) -> Trace:
    """Every layer's output for one 28×28 image in [0, 1] (e.g. `digits.classify(...).input`)."""
    x = network_input(image)
    layers = [Activation(name, ", ".join(s.operation for s, _, _ in steps), steps[-1][2][0].numpy().copy())
              for name, steps in _layers(_run(model, x))]
    logits = torch.from_numpy(layers[-1].values)
    return Trace(np.array(image, np.float32), x[0].numpy().copy(),  # its own copy
                 layers, probabilities(model, logits, 0).numpy())


def operations(model: nn.Module) -> list[Operation]:
    """Every step of the forward pass with its output shape for one image and its parameters."""
    blank = network_input(np.zeros((28, 28), np.float32))
    return [Operation(s.layer, s.operation, tuple(y.shape[1:]),
                      sum(p.numel() for p in s.fn.parameters()) if isinstance(s.fn, nn.Module) else 0)
            for s, _, y in _run(model, blank)]


def filters(model: nn.Module) -> list[Filters]:
    """The learned kernels and biases of every convolution, in forward order."""
    def as32(t):
        return t.detach().float().cpu().numpy().copy()

    return [Filters(s.layer, as32(s.fn.weight), as32(s.fn.bias)) for s in model.stages() if isinstance(s.fn, nn.Conv2d)]


def _geometry(fn) -> tuple[int, int, int] | None:
    """(kernel, stride, padding) of a spatial step, (1, 1, 0) of an elementwise one, None of one that mixes all."""
    if isinstance(fn, nn.Conv2d):
        return fn.kernel_size[0], fn.stride[0], fn.padding[0]
    if isinstance(fn, functools.partial) and fn.func in (F.avg_pool2d, F.max_pool2d):
        k = fn.keywords["kernel_size"]
        return k, fn.keywords.get("stride") or k, fn.keywords.get("padding", 0)
    if isinstance(fn, functools.partial) and fn.func is F.pad:
        return 1, 1, fn.keywords["pad"][0]  # the image moves by the padding; sides are equal in these models
    if fn in _FUNCTIONS or isinstance(fn, (nn.Dropout, nn.BatchNorm2d)):
        return 1, 1, 0
    return None


def _field(stages: list[Stage], row: int, col: int) -> tuple[int, int, int, int]:
    """The input pixels that position (row, col) of the last of `stages` depends on (top, left, bottom, right)."""
    top, bottom, left, right = row, row, col, col  # inclusive
    for stage in reversed(stages):
        g = _geometry(stage.fn)
        if g is None:
            return 0, 0, 28, 28
        k, s, p = g
        top, bottom, left, right = top * s - p, bottom * s - p + k - 1, left * s - p, right * s - p + k - 1
    return top, left, bottom + 1, right + 1


def _reads_neighbours(stage: Stage) -> bool:
    """Whether one output number of this step combines several input numbers (with weights or by pooling)."""
    return isinstance(stage.fn, (nn.Conv2d, nn.Linear)) or (_geometry(stage.fn) or (0,))[0] > 1


def _f64(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


# a step after the weights → the same in float64 (GELU's exact form: z·Φ(z))
_FUNCTIONS = {torch.tanh: np.tanh, F.relu: lambda z: max(z, 0.0), F.gelu: lambda z: z * (1 + math.erf(z / 2**0.5)) / 2}


def _after(fn, value: float, channel: int) -> float:
    """One number through a step that follows the weights: an activation, batch norm (its running statistics:
    the model is in eval mode) or dropout (nothing, in eval mode)."""
    if isinstance(fn, (nn.BatchNorm1d, nn.BatchNorm2d)):
        mean, var = float(fn.running_mean[channel]), float(fn.running_var[channel])
        scale, shift = float(fn.weight[channel].detach()), float(fn.bias[channel].detach())
        return (value - mean) / math.sqrt(var + fn.eps) * scale + shift
    return value if isinstance(fn, nn.Dropout) else float(_FUNCTIONS[fn](value))


def _arithmetic(fn, x: np.ndarray, position: tuple[int, ...]):
    """(patch origin, inputs, weights, bias, reduce) of one output number of a conv, pooling or linear step on x."""
    if isinstance(fn, nn.Linear):
        (unit,) = position
        return None, x, _f64(fn.weight[unit]), float(fn.bias[unit].detach()), "sum + bias"
    c, row, col = position
    k, s, p = _geometry(fn)
    top, left = row * s - p, col * s - p
    if isinstance(fn, nn.Conv2d):
        padded = np.pad(x, ((0, 0), (p, p), (p, p)))  # a convolution's own padding is zeros
        patch = padded[:, top + p:top + p + k, left + p:left + p + k]
        return (top, left), patch, _f64(fn.weight[c]), float(fn.bias[c].detach()), "sum + bias"
    return (top, left), x[c, top:top + k, left:left + k], None, 0.0, "max" if fn.func is F.max_pool2d else "mean"


def explain_number(model: nn.Module, image: np.ndarray, layer: str, position: tuple[int, ...]) -> Computation:
    """How the activation at `position` of `layer` (a convolution, pooling or linear layer) is computed.

    The arithmetic is redone here in float64 from the layer's recorded input and its weights, apart from
    the network's own forward pass; the tests check that it lands on the recorded activation."""
    steps = _run(model, network_input(image))
    groups = _layers(steps)
    names = [name for name, _ in groups]
    if layer not in names:
        raise ValueError(f"no layer {layer!r}; this model's layers: {', '.join(names)}")
    mine = groups[names.index(layer)][1]
    main = next((i for i, (s, _, _) in enumerate(mine) if _reads_neighbours(s)), None)
    if main is None:
        raise ValueError(f"{layer} has no weights or pooling: each of its numbers is one number of the layer before")
    stage, x, y = mine[main]
    position = tuple(int(i) for i in position)
    if len(position) != y.dim() - 1 or not all(0 <= i < n for i, n in zip(position, y.shape[1:])):
        raise ValueError(f"position {position} is outside {layer}'s output {tuple(y.shape[1:])}")
    origin, inputs, weights, bias, reduce = _arithmetic(stage.fn, x[0].double().numpy(), position)
    products = None if weights is None else inputs * weights
    pre = (float(products.sum() + bias) if products is not None
           else float(inputs.max() if reduce == "max" else inputs.mean()))
    after = mine[main + 1:]  # the layer's steps after its weights: activation, batch norm, dropout
    value = pre
    for step, _, _ in after:
        value = _after(step.fn, value, position[0])
    upto = [s for s, _, _ in steps[:next(i for i, t in enumerate(steps) if t is mine[main]) + 1]]
    field = _field(upto, *(position[1:] if len(position) == 3 else (0, 0)))
    def as32(a):
        return None if a is None else a.astype(np.float32)

    source = names[names.index(layer) - 1] if names.index(layer) else INPUT
    return Computation(layer, position, source, origin, as32(inputs), as32(weights), as32(products), bias, reduce, pre,
                       ", ".join(s.operation for s, _, _ in after) or None, value, field)
