"""Where computation runs: choosing a device, and its name in words."""

from __future__ import annotations

import torch


def available_devices() -> list[str]:
    """The device choices this machine can honour: "auto" and "cpu" always, then any GPU present."""
    return ["auto", "cpu"] + [d for d, there in (("cuda", torch.cuda.is_available()),
                                                 ("mps", torch.backends.mps.is_available())) if there]


def resolve_device(name: str = "auto") -> torch.device:
    """auto → CUDA, then Apple MPS, then CPU; an explicit choice that is absent is an error."""
    present = available_devices()
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if d in present))
    if name not in present:
        raise ValueError(f"device {name!r} is not available on this machine")
    return torch.device(name)


def prepare(device: torch.device) -> None:
    """Settings that make training faster on `device` without changing what it learns. CUDA: TF32 for
    matmuls and convolutions (Ampere and later: ~10 mantissa bits, as PyTorch's own default for cuDNN
    convolutions) and cuDNN autotuning, which pays off because every batch has the same shape. Nothing on
    the CPU: its thread count is the CLI's --threads."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True


def device_name(device: torch.device) -> str:
    """ "NVIDIA H100 80GB HBM3", "Apple GPU (MPS)", "CPU (2 threads)". """
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({cpu_threads()})"


def cpu_threads() -> str:
    """How many threads torch computes with on the CPU: "1 thread", "2 threads"."""
    n = torch.get_num_threads()
    return f"{n} thread{'' if n == 1 else 's'}"


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model's weights are on."""
    return next(model.parameters()).device
