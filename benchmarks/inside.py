"""Server CPU time of the Inside page's computations for one drawing, per shipped checkpoint. Prints a Markdown table.

    python benchmarks/inside.py                  # median of 30 runs each
    python benchmarks/inside.py --runs 100

torch runs on one thread, as the app server sets it (torch.set_num_threads(1)); the drawing is one
280×280 canvas "7" of digits.handdrawn. The issue's budget: everything for one drawing in ≤ 100 ms.
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

from digits import catalog, classify, load_checkpoint
from digits.explain import (
    IG_STEPS,
    OCCLUSION_PATCH,
    OCCLUSION_STRIDE,
    gradient_x_input,
    integrated_gradients,
    occlusion,
)
from digits.handdrawn import draw
from digits.inside import filters, trace
from digits.robustness import ANGLES, SCALES, SHIFTS, robustness

ROOT = Path(__file__).resolve().parents[1]


def steps(model, image) -> dict:
    """The page's computations for one drawing, each a function of nothing."""
    x = classify(model, image).input
    return {
        "classify (to_mnist + forward)": lambda: classify(model, image),
        "activations + filters": lambda: (trace(model, x), filters(model)),
        "gradient × input": lambda: gradient_x_input(model, x),
        f"integrated gradients ({IG_STEPS} steps)": lambda: integrated_gradients(model, x),
        f"occlusion ({OCCLUSION_PATCH} px patch, stride {OCCLUSION_STRIDE})": lambda: occlusion(model, x),
        "robustness grid": lambda: robustness(model, image),
    }


def everything(model, image) -> None:
    """All of it from the drawing, in the order a page would ask."""
    x = classify(model, image).input
    trace(model, x), filters(model)
    gradient_x_input(model, x), integrated_gradients(model, x), occlusion(model, x)
    robustness(model, image)


def median_ms(f, runs: int) -> float:
    for _ in range(3):  # warm-up: allocator, kernels
        f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=30, help="timed runs of each measure (the median is shown)")
    args = p.parse_args()
    torch.set_num_threads(1)
    image = draw(7, np.random.default_rng(0)).image
    models = {name: load_checkpoint(ROOT / "checkpoints" / name)[0] for name in catalog.SHIPPED}
    cells = len(SHIFTS) ** 2 + len(ANGLES) + len(SCALES) - 2  # the unchanged drawing counted once
    print(f"torch {torch.__version__}, 1 thread; {platform.processor() or platform.machine()}; 280×280 drawing; "
          f"robustness grid {cells} versions × 2 readings; median of {args.runs} runs, ms\n")
    print("| measure | " + " | ".join(models) + " |")
    print("|---|" + "---|" * len(models))
    rows = {name: steps(model, image) for name, model in models.items()}
    for measure in next(iter(rows.values())):
        print(f"| {measure} | " + " | ".join(f"{median_ms(rows[m][measure], args.runs):.1f}" for m in models) + " |")
    print("| **total, one drawing** | "
          + " | ".join(f"**{median_ms(lambda: everything(models[m], image), args.runs):.1f}**" for m in models)
          + " |")


if __name__ == "__main__":
    main()
