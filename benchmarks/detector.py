"""classify's latency as it is, without the not-a-digit detector, and reading one view instead of nine, per shipped
checkpoint. Prints a Markdown table.

    python benchmarks/detector.py                # 300 calls of each, alternated
    python benchmarks/detector.py --runs 1000 --threads 2
    python benchmarks/detector.py --device cuda  # as the Draw page reads on a GPU (resources.device())

The drawing is one 280×280 canvas "7" of digits.handdrawn. "Without detector" is the same checkpoint with its
detector taken off (model.detector = None: the softmax rule only, as a checkpoint without one); "one view" reads
the 28×28 input alone instead of it and its eight one-pixel shifts (digits.reading.VIEWS set to the unmoved view).
The three are called in turn, one call each, so that whatever else the machine does falls on all alike. torch on one
thread by default, as the app server sets it. Issue #15's budget: p50 ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)
import numpy as np
import torch

from digits import catalog, classify, load_checkpoint, reading, resolve_device
from digits.device import device_name
from digits.handdrawn import draw

ROOT = Path(__file__).resolve().parents[1]


VARIANTS = ("as shipped", "without detector", "one view")


def latencies(model, image, runs: int) -> dict[str, list[float]]:
    """Milliseconds of each classify call in each of VARIANTS, alternated."""
    detector, views = model.detector, reading.VIEWS
    times = {v: [] for v in VARIANTS}
    for i in range(len(VARIANTS) * (runs + 20)):  # the first 20 of each warm up
        variant = VARIANTS[i % len(VARIANTS)]
        model.detector = None if variant == "without detector" else detector
        reading.VIEWS = ((0, 0),) if variant == "one view" else views
        t = time.perf_counter()
        classify(model, image)
        if i >= 20 * len(VARIANTS):
            times[variant].append((time.perf_counter() - t) * 1000)
    model.detector, reading.VIEWS = detector, views
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    image = draw(7, np.random.default_rng(0)).image
    print(f"{device_name(device)}, {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} thread(s), {args.runs} calls each, alternated\n")
    print("| checkpoint | classify p50 / p99, " + " | ".join(VARIANTS) + " |")
    print("|---|" + "---|" * len(VARIANTS))
    for name in catalog.SHIPPED:
        model, _ = load_checkpoint(ROOT / "checkpoints" / name)
        model = model.to(device).eval()
        t = latencies(model, image, args.runs)
        def cell(ms):
            return f"{statistics.median(ms):.2f} ms / {np.percentile(ms, 99):.2f} ms"

        print(f"| {name} | " + " | ".join(cell(t[v]) for v in VARIANTS) + " |")


if __name__ == "__main__":
    main()
