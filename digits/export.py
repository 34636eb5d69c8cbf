"""A checkpoint taken home: the network as an ONNX file that ONNX Runtime (or any ONNX reader) runs without digits
or PyTorch, and its weights as a plain PyTorch state_dict with a JSON description beside them.

The ONNX file (opset 17) takes `pixels`, float32 (N, 1, 28, 28): MNIST-style images, white digit on black, in
[0, 1] (a drawing made so by digits.preprocess.to_mnist, or any MNIST image / 255). It gives `logits` (N, 10), the
network's own scores, and `probabilities` (N, 10): softmax(logits / T) with the checkpoint's calibration
temperature T folded in. The standardisation with MNIST's mean and standard deviation is inside the file. It is
one view of the image (the Draw page averages nine; digits.reading) and has no not-a-digit detector.

    python -m digits export checkpoints/lenet5.pt --onnx lenet5.onnx --state-dict lenet5-weights.pt"""

from __future__ import annotations

import copy
import io
import json
import warnings
from pathlib import Path

import torch
from torch import nn

from .data import MNIST_MEAN, MNIST_STD
from .mnist import dataset_spec
from .models import MODELS, eval_mode

OPSET = 17
INPUT, OUTPUTS = "pixels", ("logits", "probabilities")
# The TorchScript-based exporter: the one that needs no more packages and takes a fraction of a second for these
# networks (the torch.export-based one needs onnxscript and seconds). PyTorch marks it legacy and warns at every
# export; said once here instead (filters set once at import: catch_warnings would change them for every thread).
warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export", category=DeprecationWarning)
warnings.filterwarnings("ignore", message="Constant folding - Only steps=1", category=UserWarning)


class Portable(nn.Module):
    """The network as the ONNX file runs it: pixels in [0, 1] → (logits, calibrated probabilities)."""

    def __init__(self, model: nn.Module, temperature: float):
        super().__init__()
        self.model, self.temperature = model, float(temperature)

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model((pixels - MNIST_MEAN) / MNIST_STD)
        return logits, torch.softmax(logits / self.temperature, dim=1)


def onnx_bytes(model: nn.Module) -> bytes:
    """The ONNX file of a loaded checkpoint's model (its `temperature` folded in), on the CPU, batch size free."""
    # A copy on the CPU: the app's model is shared by every session, and may live on a GPU.
    portable = Portable(copy.deepcopy(model).cpu(), getattr(model, "temperature", 1.0))
    out = io.BytesIO()
    with eval_mode(portable):
        torch.onnx.export(portable, (torch.zeros(1, 1, 28, 28),), out, dynamo=False, opset_version=OPSET,
                          input_names=[INPUT], output_names=list(OUTPUTS),
                          dynamic_axes={INPUT: {0: "n"}, **{name: {0: "n"} for name in OUTPUTS}})
    return out.getvalue()


def description(model: nn.Module, meta: dict) -> dict:
    """What the weights are, for someone without digits: the architecture, the input, the calibration."""
    name = meta["model"]
    return {"architecture": name, "description": MODELS[name].description, "layers": model.spec,
            "dataset": dataset_spec(getattr(model, "dataset", "mnist")).title,
            "classes": list(dataset_spec(getattr(model, "dataset", "mnist")).classes),
            "class": type(model).__name__, "input": "float32 (N, 1, 28, 28): MNIST-style pixels in [0, 1], "
            f"standardised as (x - {MNIST_MEAN}) / {MNIST_STD} before the network",
            "output": "logits (N, 10); probabilities = softmax(logits / temperature)",
            "temperature": float(getattr(model, "temperature", 1.0)),
            "test_accuracy": (meta.get("metrics") or {}).get("test_acc")}


def state_dict_bytes(model: nn.Module) -> bytes:
    """The network's weights as a plain state_dict (tensors only: torch.load(weights_only=True) reads it)."""
    out = io.BytesIO()
    torch.save({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, out)
    return out.getvalue()


def export(model: nn.Module, meta: dict, onnx: Path | None = None, state_dict: Path | None = None) -> list[Path]:
    """Write what is asked: the ONNX file; the state_dict and, beside it, its description as JSON. The paths."""
    written = []
    if onnx is not None:
        onnx.write_bytes(onnx_bytes(model))
        written.append(onnx)
    if state_dict is not None:
        state_dict.write_bytes(state_dict_bytes(model))
        spec = state_dict.with_suffix(".json")
        spec.write_text(json.dumps(description(model, meta), indent=2) + "\n")
        written += [state_dict, spec]
    return written
