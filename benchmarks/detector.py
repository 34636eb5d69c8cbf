"""classify's latency with and without the not-a-digit detector, per shipped checkpoint. Prints a Markdown table.

    python benchmarks/detector.py                # 300 calls of each, alternated
    python benchmarks/detector.py --runs 1000 --threads 2

The drawing is one 280×280 canvas "7" of digits.handdrawn. "Before" is the same checkpoint with its detector
taken off (model.detector = None: the softmax rule only, as a checkpoint without one); the two are called in
turn, one call each, so that whatever else the machine does falls on both alike. torch on one thread by
default, as the app server sets it. Issue #15's budget: p50 ≤ 5 ms.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digits import catalog, classify, load_checkpoint  # noqa: E402
from digits.handdrawn import draw  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def latencies(model, image, runs: int) -> dict[str, list[float]]:
    """Milliseconds of each classify call, without and with the detector, alternated."""
    detector = model.detector
    times = {"without detector": [], "with detector": []}
    for i in range(2 * runs + 40):  # the first 40 warm up
        model.detector = None if i % 2 == 0 else detector
        t = time.perf_counter()
        classify(model, image)
        if i >= 40:
            times["with detector" if model.detector else "without detector"].append((time.perf_counter() - t) * 1000)
    model.detector = detector
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    image = draw(7, np.random.default_rng(0)).image
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} thread(s), "
          f"{args.runs} calls each, alternated\n")
    print("| checkpoint | classify p50 / p99, without detector | with detector |")
    print("|---|---|---|")
    for name in catalog.SHIPPED:
        model, _ = load_checkpoint(ROOT / "checkpoints" / name)
        t = latencies(model, image, args.runs)
        cell = lambda ms: f"{statistics.median(ms):.2f} ms / {np.percentile(ms, 99):.2f} ms"
        print(f"| {name} | {cell(t['without detector'])} | {cell(t['with detector'])} |")


if __name__ == "__main__":
    main()
