"""Speed of the digits core, measured in one run on one machine. Prints a Markdown table.

    python benchmarks/bench.py                 # CPU or GPU, whichever "auto" picks
    python benchmarks/bench.py --device cpu --batch-size 256 --iterations 150

Compares training throughput of this project's tensor-resident pipeline with the tutorials'
pipeline (torchvision.datasets.MNIST + ToTensor + Normalize + DataLoader), same model, same
batch size, same optimizer; then times a whole LeNet-5 epoch and `classify` on a drawing.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digits import TrainConfig, build_model, classify, fit, load_splits, resolve_device  # noqa: E402
from digits.data import MNIST_MEAN, MNIST_STD, batches  # noqa: E402
from digits.mnist import default_root, ensure_mnist  # noqa: E402
from digits.models import to_device  # noqa: E402
from digits.device import device_name  # noqa: E402
from digits.handdrawn import draw  # noqa: E402
from digits.train import train_step  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def tensor_pipeline(model_name, device, batch_size, iterations):
    """samples/s of digits' own loop: uint8 split on the device, permutation slices, on-device normalise."""
    splits = load_splits()
    train = splits.train.to(device)
    torch.manual_seed(0)
    model = to_device(build_model(model_name), device)  # the memory layout digits.fit uses
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    stream = (b for _ in range(1000) for b in batches(train, batch_size, gen))
    for _ in range(10):  # warm-up: allocator, kernels, caches
        train_step(model, opt, *next(stream))
    sync(device)
    t = time.perf_counter()
    for _ in range(iterations):
        train_step(model, opt, *next(stream))
    sync(device)
    return iterations * batch_size / (time.perf_counter() - t)


def seed_pipeline(model_name, device, batch_size, iterations):
    """samples/s of the tutorials' loop: per-image PIL → ToTensor → Normalize in a DataLoader, then .to(device)."""
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    loader = torch.utils.data.DataLoader(datasets.MNIST(str(default_root()), train=True, transform=tf),
                                         batch_size=batch_size, shuffle=True)
    torch.manual_seed(0)
    model = build_model(model_name).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    stream = (b for _ in range(1000) for b in loader)

    def step(x, y):
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(10):
        step(*next(stream))
    sync(device)
    t = time.perf_counter()
    for _ in range(iterations):
        step(*next(stream))
    sync(device)
    return iterations * batch_size / (time.perf_counter() - t)


def epoch_seconds(device, batch_size):
    """Wall time of one whole LeNet-5 epoch through digits.fit (50,000 images, one validation)."""
    config = TrainConfig(model="lenet5", epochs=1, batch_size=batch_size, eval_every=10**9, device=device.type)
    splits = load_splits()
    events = list(fit(config, splits))
    epoch = next(e for e in events if e.kind == "epoch")
    start = next(e for e in events if e.kind == "started")
    return epoch.elapsed - start.elapsed


def classify_latency(device, n=300):
    model = build_model("lenet5").to(device).eval()
    image = draw(7, np.random.default_rng(0)).image  # a "7" in one hand of digits.handdrawn
    for _ in range(20):
        classify(model, image)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        classify(model, image)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.99 * (n - 1))]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--iterations", type=int, default=100, help="timed training steps per pipeline run")
    args = p.parse_args()
    device = resolve_device(args.device)
    ensure_mnist()
    bs, n = args.batch_size, args.iterations
    print(f"device: {device_name(device)}; torch {torch.__version__}; {platform.processor() or platform.machine()}; "
          f"batch {bs}, median of 3 × {n} timed steps per pipeline\n")
    print("| measure | lenet5 | cnn |")
    print("|---|---|---|")
    # Median of three runs each: a 2-core VM's neighbours make single runs vary by ±15%.
    median3 = lambda f, m: statistics.median(f(m, device, bs, n) for _ in range(3))
    ours = {m: median3(tensor_pipeline, m) for m in ("lenet5", "cnn")}
    seeds = {m: median3(seed_pipeline, m) for m in ("lenet5", "cnn")}
    print(f"| training samples/s, digits pipeline | {ours['lenet5']:,.0f} | {ours['cnn']:,.0f} |")
    print(f"| training samples/s, DataLoader pipeline | {seeds['lenet5']:,.0f} | {seeds['cnn']:,.0f} |")
    print(f"| speed-up | {ours['lenet5'] / seeds['lenet5']:.1f}× | {ours['cnn'] / seeds['cnn']:.1f}× |")
    print(f"| seconds per LeNet-5 epoch (digits.fit, 50,000 images + validation) | {epoch_seconds(device, bs):.1f} | |")
    p50, p99 = classify_latency(device)
    print(f"| classify latency, 280×280 drawing, LeNet-5: p50 / p99 | {p50:.2f} ms / {p99:.2f} ms | |")


if __name__ == "__main__":
    main()
