"""Speed of the digits core, measured in one run on one machine. Prints Markdown tables. (About 275 lines: every
speed figure of docs/speed.md from one program, so that they are taken in one run and compare.)

    python benchmarks/bench.py                 # CPU or GPU, whichever "auto" picks
    python benchmarks/bench.py --device cpu --batch-size 256 --iterations 150
    python benchmarks/bench.py --recipe fast   # the recipe as whole processes against the seeds' pipeline
    python benchmarks/bench.py --start         # Start (digits.launch) → first event, first chart point

Every figure is a ratio against a reference measured in the same run, alternated with it (a shared
2-core VM's neighbours move single runs by ±15–50%), and the medians of the ratios are what to quote;
absolute times come second. The reference is the seeds' pipeline: torchvision.datasets.MNIST +
ToTensor + Normalize + DataLoader, same model, same optimizer.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)
import numpy as np
import torch
import torch.nn.functional as F

from digits import TrainConfig, build_model, classify, fit, load_splits, resolve_device
from digits.data import MNIST_MEAN, MNIST_STD, batches
from digits.device import device_name
from digits.handdrawn import draw
from digits.mnist import default_root, ensure_mnist
from digits.models import to_device
from digits.train import train_step


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
    config = TrainConfig(model="lenet5", epochs=1, batch_size=batch_size, eval_every=10**6, device=device.type)
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


def seed_epochs(device, epochs: float = 2.5, batch_size: int = 64) -> float:
    """Seconds the seeds' pipeline (DataLoader, batch 64, as the tutorials) takes to train LeNet-5 with SGD
    for `epochs` passes over the 60,000 training images: the reference for a whole fast-recipe process.
    Timed from the first batch, so its imports and start-up are left out (in the reference's favour)."""
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    loader = torch.utils.data.DataLoader(datasets.MNIST(str(default_root()), train=True, transform=tf),
                                         batch_size=batch_size, shuffle=True)
    torch.manual_seed(0)
    model = build_model("lenet5").to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    steps = round(epochs * len(loader))
    t = time.perf_counter()
    for _, (x, y) in zip(range(steps), (b for _ in range(math.ceil(epochs)) for b in loader)):
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    sync(device)
    return time.perf_counter() - t


def recipe_process(recipe: str, device) -> tuple[float, float, float]:
    """(wall seconds, test accuracy, validation accuracy) of `python -m digits train --recipe RECIPE` as a whole
    process: interpreter, imports, MNIST, training, evaluations, checkpoint."""
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "best.pt"
        cmd = [sys.executable, "-m", "digits", "train", "--model", "lenet5", "--recipe", recipe,
               "--device", device.type, "--checkpoint", str(ckpt), "--quiet"]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=Path(__file__).resolve().parents[1])
        wall = time.perf_counter() - t
        metrics = torch.load(ckpt, weights_only=True)["metrics"]
    return wall, metrics["test_acc"], metrics["val_acc"]


def recipe_table(recipe: str, device, runs: int = 3) -> None:
    """The recipe's whole process against the seeds' pipeline for 2.5 epochs, alternated, `runs` rounds."""
    rows = []
    for i in range(runs):
        wall, test_acc, val_acc = recipe_process(recipe, device)
        reference = seed_epochs(device)
        rows.append((wall, reference, test_acc, val_acc))
        print(f"| {i + 1} | {wall:.1f} s | {reference:.1f} s | {wall / reference:.2f} "
              f"| {test_acc:.2%} | {val_acc:.2%} |")
    walls, refs, ratios = zip(*((w, r, w / r) for w, r, *_ in rows))
    print(f"| median | {statistics.median(walls):.1f} s | {statistics.median(refs):.1f} s "
          f"| {statistics.median(ratios):.2f} "
          f"| {statistics.median(r[2] for r in rows):.2%} | |")


def first_things(runs_dir: str, device, spare: bool) -> tuple[float, float, dict[str, float]]:
    """Seconds from Start (digits.launch.start_run, the fast recipe) to the first event and the first chart
    point (a Step event), and to each start-up step starting.txt said. With `spare`, a warm process
    (digits.spare) is made ready first, as the Train page does while the settings are chosen."""
    from digits import launch
    from digits.control import stop_run
    from digits.process import lock_held
    from digits.runs import EventReader, read_starting

    if spare:
        os.environ["DIGITS_SPARE"] = "1"
        launch.ready_spare()
        while not launch.waiting_spare().ready():
            time.sleep(0.05)
    t = time.perf_counter()
    run = launch.start_run(TrainConfig(model="lenet5", device=device.type, **TrainConfig.recipe("fast")), runs_dir)
    steps, first, step, reader = {}, None, None, EventReader(run)
    while step is None and time.perf_counter() - t < 120:
        steps.setdefault(read_starting(run), time.perf_counter() - t)
        reader.read()
        if reader.events and first is None:
            first = time.perf_counter() - t
        if any(e.kind == "step" for e in reader.events):
            step = time.perf_counter() - t
        time.sleep(0.01)
    stop_run(run)
    while lock_held(Path(runs_dir) / launch.ACTIVE):  # one run at a time: the next waits for this one to end
        time.sleep(0.05)
    return first or math.inf, step or math.inf, steps  # inf: nothing within 120 s, the machine is too busy


def start_table(device, runs: int = 3) -> None:
    """Start → first event and first chart point, cold (a new process) and handed to a waiting spare,
    against a bare `python -c "import torch"`, alternated in each round."""
    rows = []
    with tempfile.TemporaryDirectory() as runs_dir:
        for i in range(runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import torch"], check=True)
            torch_import = time.perf_counter() - t
            cold_first, cold_step, _ = first_things(runs_dir, device, spare=False)
            warm_first, warm_step, said = first_things(runs_dir, device, spare=True)
            rows.append((cold_first, cold_step, warm_first, warm_step, torch_import))
            said = ", ".join(f"{w or '(none)'} {s:.2f} s" for w, s in said.items())
            print(f"| {i + 1} | {cold_first:.2f} s | {cold_step:.2f} s | {warm_first:.2f} s | {warm_step:.2f} s "
                  f"| {torch_import:.2f} s | {warm_step / torch_import:.2f} | {said} |")
    def med(k):
        return statistics.median(r[k] for r in rows)

    print(f"| median | {med(0):.2f} s | {med(1):.2f} s | {med(2):.2f} s | {med(3):.2f} s | {med(4):.2f} s "
          f"| {statistics.median(r[3] / r[4] for r in rows):.2f} | |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--iterations", type=int, default=100, help="timed training steps per pipeline run")
    p.add_argument("--recipe", help="time this recipe (digits.config.RECIPES) as 3 whole processes instead")
    p.add_argument("--start", action="store_true", help="time Start → first event and first chart point instead")
    p.add_argument("--rounds", type=int, default=3, help="alternated rounds of --recipe and --start (default: 3)")
    args = p.parse_args()
    device = resolve_device(args.device)
    ensure_mnist()
    when = f"{time.strftime('%Y-%m-%d')}, {device_name(device)}, {os.cpu_count()} cores, torch {torch.__version__}"
    if args.recipe:
        print(f"{when}: `python -m digits train --model lenet5 --recipe {args.recipe}` (whole process) "
              "against the seeds' DataLoader pipeline training LeNet-5 for 2.5 epochs at batch 64 "
              "(training loop only), alternated\n")
        print("| round | recipe, wall | seeds' pipeline, 2.5 epochs | ratio | test accuracy | validation accuracy |")
        print("|---|---|---|---|---|---|")
        recipe_table(args.recipe, device, args.rounds)
        return
    if args.start:
        print(f"{when}: Start (digits.launch.start_run of the fast recipe, as the app: normal priority until the first "
              "chart point, then nice 19 and SCHED_IDLE) → first event in events.jsonl and first chart point (a Step "
              "event); cold (a new process) and handed to a waiting spare (digits.spare), against `python -c 'import "
              "torch'`, alternated in each round\n")
        print("| round | cold: first event | cold: first chart point | spare: first event | spare: first chart point "
              "| import torch | spare's first point ÷ import torch | spare: starting.txt said, at |")
        print("|---|---|---|---|---|---|---|---|")
        start_table(device, args.rounds)
        return
    bs, n = args.batch_size, args.iterations
    print(f"device: {device_name(device)}; torch {torch.__version__}; {platform.processor() or platform.machine()}; "
          f"batch {bs}, median of 3 × {n} timed steps per pipeline\n")
    print("| measure | lenet5 | cnn |")
    print("|---|---|---|")
    # Three rounds, each pipeline once per round, one after the other: a ratio of two neighbours in
    # time, then the median of the three ratios.
    ours, seeds = {m: [] for m in ("lenet5", "cnn")}, {m: [] for m in ("lenet5", "cnn")}
    for _ in range(3):
        for m in ours:
            ours[m].append(tensor_pipeline(m, device, bs, n))
            seeds[m].append(seed_pipeline(m, device, bs, n))
    ratio = {m: statistics.median(a / b for a, b in zip(ours[m], seeds[m])) for m in ours}
    med = {m: (statistics.median(ours[m]), statistics.median(seeds[m])) for m in ours}
    print(f"| speed-up of the training step, digits ÷ DataLoader pipeline (median of 3 alternated ratios) "
          f"| {ratio['lenet5']:.1f}× | {ratio['cnn']:.1f}× |")
    print(f"| training samples/s, digits pipeline | {med['lenet5'][0]:,.0f} | {med['cnn'][0]:,.0f} |")
    print(f"| training samples/s, DataLoader pipeline | {med['lenet5'][1]:,.0f} | {med['cnn'][1]:,.0f} |")
    print(f"| seconds per LeNet-5 epoch (digits.fit, 50,000 images + validation) | {epoch_seconds(device, bs):.1f} | |")
    p50, p99 = classify_latency(device)
    print(f"| classify latency, 280×280 drawing, LeNet-5: p50 / p99 | {p50:.2f} ms / {p99:.2f} ms | |")


if __name__ == "__main__":
    main()
