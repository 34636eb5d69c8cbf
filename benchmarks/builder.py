"""A built network (digits.arch → digits.models.Built) against the same network written as a plain class: time
per training epoch on MNIST, alternated in one run (a shared 2-core VM's neighbours move single runs by ±15–50%).

    python benchmarks/builder.py                     # LeNet-5 and a 3-layer ReLU net, 3 rounds of 120 steps
    python benchmarks/builder.py --rounds 5 --iterations 200 --device cpu

A round times `--iterations` training steps of each network (batch 128, Adam, digits' own train_step on a
device-resident split) in turn; an epoch is 391 such steps (50,000 images). The Built forward runs the spec's
stages (a Python list walked per call); the class is the hand-written LeNet-5 this project shipped before the
builder, and a hand-written twin of the ReLU net. Prints a Markdown table: median seconds per epoch of each and
the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)
import torch
import torch.nn.functional as F
from torch import nn

from digits import build_model, load_splits, resolve_device
from digits.data import MNIST_MEAN, MNIST_STD, batches
from digits.device import device_name
from digits.models import BUILT, to_device
from digits.train import train_step

EPOCH = 391  # steps of 128 in 50,000 training images
RELU = "conv 8 3, relu, maxpool 2, flatten, linear 64, relu, linear 10"


class LeNet5Class(nn.Module):
    """LeNet-5 as this project wrote it before the builder (the same weights' names, the same arithmetic)."""

    channels_last = True

    def __init__(self):
        super().__init__()
        self.c1, self.c3, self.c5 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5), nn.Conv2d(16, 120, 5)
        self.f6, self.out = nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.pad(x, (2, 2, 2, 2), value=-MNIST_MEAN / MNIST_STD)          # (N, 1, 32, 32)
        x = torch.tanh(F.avg_pool2d(torch.tanh(self.c1(x)), 2))            # (N, 6, 14, 14)
        x = torch.tanh(F.avg_pool2d(torch.tanh(self.c3(x)), 2))            # (N, 16, 5, 5)
        x = torch.tanh(self.c5(x)).flatten(1)                              # (N, 120)
        return self.out(torch.tanh(self.f6(x)))                            # (N, 10)


class ReluClass(nn.Module):
    """The 3-layer ReLU net of RELU, by hand."""

    def __init__(self):
        super().__init__()
        self.conv1, self.linear1, self.linear2 = nn.Conv2d(1, 8, 3), nn.Linear(8 * 13 * 13, 64), nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2).flatten(1)             # (N, 1352)
        return self.linear2(F.relu(self.linear1(x)))                       # (N, 10)


def seconds_per_epoch(model, train, device, iterations: int) -> float:
    torch.manual_seed(0)
    model = to_device(model, device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    stream = (b for _ in range(1000) for b in batches(train, 128, gen))
    for _ in range(10):  # warm-up: allocator, kernels
        train_step(model, opt, *next(stream))
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(iterations):
        train_step(model, opt, *next(stream))
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / iterations * EPOCH


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iterations", type=int, default=120)
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    device = resolve_device(args.device)
    train = load_splits().train.to(device)
    pairs = {"LeNet-5": (lambda: build_model("lenet5"), LeNet5Class),
             "3-layer ReLU": (lambda: build_model(BUILT, RELU), ReluClass)}
    for name, (built, cls) in pairs.items():
        assert sum(p.numel() for p in built().parameters()) == sum(p.numel() for p in cls().parameters()), name
    times = {name: {"built": [], "class": []} for name in pairs}
    for r in range(args.rounds):
        for name, (built, cls) in pairs.items():
            order = (("built", built), ("class", cls)) if r % 2 == 0 else (("class", cls), ("built", built))
            for kind, make in order:
                times[name][kind].append(seconds_per_epoch(make(), train, device, args.iterations))
    print(f"{device_name(device)}, {args.rounds} rounds of {args.iterations} steps of 128, alternated; "
          f"seconds per epoch ({EPOCH} steps), medians\n")
    print("| network | built from a spec | the same as a class | built / class (median of rounds) |")
    print("|---|---|---|---|")
    for name, t in times.items():
        ratio = statistics.median(b / c for b, c in zip(t["built"], t["class"]))
        print(f"| {name} | {statistics.median(t['built']):.2f} s | {statistics.median(t['class']):.2f} s | "
              f"{ratio:.3f} |")


if __name__ == "__main__":
    main()
