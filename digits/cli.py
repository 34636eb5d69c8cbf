"""`python -m digits data | train | evaluate | predict`: the core's verbs, printed for a terminal."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from .checkpoint import CheckpointError, load_checkpoint
from .data import MNISTUnavailable, ensure_mnist, load_splits
from .runs import CHECKPOINT, RunWriter
from .train import TrainConfig, fit

FLAG_HELP = {
    "model": "lenet5 or cnn", "epochs": "passes over the training split", "batch_size": "images per step",
    "optimizer": "adam or sgd", "lr": "peak learning rate", "momentum": "SGD momentum",
    "weight_decay": "L2 penalty", "schedule": "onecycle or constant", "val_size": "validation images (of 60,000)",
    "eval_every": "iterations between validations", "augment": "random affine distortions",
    "seed": "random seed", "device": "auto, cpu, cuda or mps",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m digits", description="Train and use MNIST digit classifiers.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("data", help="fetch and verify MNIST")
    d.add_argument("--root", help="data folder (default: $DIGITS_DATA or ./data)")

    t = sub.add_parser("train", help="train a model")
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in (bool, "bool"):
            t.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=FLAG_HELP[f.name])
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            t.add_argument(flag, type=kind, default=f.default, help=f"{FLAG_HELP[f.name]} (default: {f.default})")
    t.add_argument("--run-dir", type=Path, help="write config.json, events.jsonl and best.pt here")
    t.add_argument("--checkpoint", type=Path, help="where to save the best model "
                   "(default: RUN_DIR/best.pt, else checkpoints/MODEL-TIME.pt)")
    t.add_argument("--threads", type=int, default=0, help="CPU threads for torch (default: torch's choice)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="test accuracy of a checkpoint")
    e.add_argument("checkpoint", type=Path)

    h = sub.add_parser("drawn", help="accuracy on the project's synthetic canvas drawings (digits.handdrawn)")
    h.add_argument("checkpoints", type=Path, nargs="+")
    h.add_argument("--per-digit", type=int, default=30, help="drawings of each digit (default: 30)")
    h.add_argument("--seed", type=int, default=0)

    r = sub.add_parser("predict", help="classify an image file (PNG, JPEG…)")
    r.add_argument("image", type=Path)
    r.add_argument("--checkpoint", type=Path, required=True)
    return p


def _data(args) -> int:
    root = ensure_mnist(args.root, progress=print)
    print(f"MNIST verified in {root}")
    return 0


def _train(args, argv: list[str]) -> int:
    import torch
    from tqdm import tqdm

    wall = time.perf_counter()
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    try:
        config = TrainConfig(**values)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    checkpoint = args.checkpoint or (args.run_dir / CHECKPOINT if args.run_dir
                                     else Path("checkpoints") / f"{config.model}-{time.strftime('%Y%m%d-%H%M%S')}.pt")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # a stop request: finish the batch, keep the best checkpoint
        signal.signal(sig, lambda *_: stop.set())
    try:
        writer = RunWriter(args.run_dir, config.to_dict()) if args.run_dir else None
    except OSError as e:
        print(f"error: cannot write the run folder {args.run_dir}: {e.strerror or e}", file=sys.stderr)
        return 2
    command = "python -m digits " + shlex.join(argv)
    bar = None
    code = 0
    try:
        splits = load_splits(config.val_size, config.seed, progress=lambda m: print(m, file=sys.stderr))
        for event in fit(config, splits, checkpoint=checkpoint, stop=stop, extra_meta={"command": command}):
            if writer:
                writer.write(event)
            kind = event.kind
            if kind == "started":
                print(f"Training {event.model} ({event.parameters:,} parameters) on {event.device_name}: "
                      f"{event.train_size:,} train / {event.val_size:,} validation / {event.test_size:,} test images")
                bar = tqdm(total=event.total_iterations, unit="it", disable=args.quiet, file=sys.stderr, leave=False)
            elif kind == "step":
                bar.update(1)
                bar.set_postfix(epoch=event.epoch, loss=f"{event.loss:.4f}", refresh=False)
            elif kind == "evaluation":
                line = (f"Iteration {event.iteration}: train acc {event.train_acc:.2%}, train loss {event.train_loss:.4f}, "
                        f"val acc {event.val_acc:.2%}")
                tqdm.write(line + ("  Updated the best model!" if event.best else ""))
            elif kind == "epoch":
                tqdm.write(f"Epoch {event.epoch}: loss {event.loss_mean:.4f} ± {event.loss_std:.4f}, val acc {event.val_acc:.2%}")
            else:
                if bar:
                    bar.close()
                if kind == "failed":
                    print(f"Failed: {event.message}", file=sys.stderr)
                    code = 1
                else:
                    verb = "Finished" if kind == "finished" else "Stopped on request"
                    test = f", test accuracy {event.test_acc:.2%}" if event.test_acc is not None else ""
                    print(f"{verb} after {event.iteration} iterations in {event.elapsed:.1f} s of training "
                          f"({time.perf_counter() - wall:.1f} s with data loading): best val acc "
                          f"{event.best_val_acc:.2%} (iteration {event.best_iteration}){test}")
                    if event.checkpoint:
                        print(f"Checkpoint: {event.checkpoint}")
    except (MNISTUnavailable, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        code = 2
    except OSError as e:  # e.g. the disk filled up under events.jsonl: the best checkpoint stays as it was
        print(f"error: training stopped, cannot write to disk: {e.strerror or e}", file=sys.stderr)
        code = 1
    finally:
        if writer:
            writer.close()
    return code


def _evaluate(args) -> int:
    from .evaluate import evaluate

    model, meta = load_checkpoint(args.checkpoint)
    val_size = meta.get("config", {}).get("val_size", 10_000)
    m = evaluate(model, load_splits(val_size, meta.get("config", {}).get("seed", 0)).test)
    print(f"{args.checkpoint}: {meta['model']}, test accuracy {m.accuracy:.2%} (loss {m.loss:.4f}) on 10,000 test images")
    for digit, acc in enumerate(m.per_class):
        print(f"  {digit}: {acc:.2%}")
    return 0


def _drawn(args) -> int:
    from .handdrawn import drawn_accuracy, drawn_digits

    drawings = drawn_digits(args.per_digit, args.seed)
    print(f"{len(drawings)} drawings ({args.per_digit} of each digit, seed {args.seed})")
    for path in args.checkpoints:
        model, meta = load_checkpoint(path)
        acc, per_digit = drawn_accuracy(model, drawings)
        print(f"{path}: {meta['model']}, drawn-digit accuracy {acc:.2%}  "
              + " ".join(f"{d}:{a:.0%}" for d, a in enumerate(per_digit)))
    return 0


def _predict(args) -> int:
    from PIL import Image

    from .preprocess import classify

    model, _ = load_checkpoint(args.checkpoint)
    try:
        image = np.asarray(Image.open(args.image).convert("RGBA"))
    except (OSError, ValueError) as e:
        print(f"error: cannot read {args.image}: {e}", file=sys.stderr)
        return 2
    p = classify(model, image)
    if p.digit is None:
        print("No ink found: the image looks empty.")
        return 1
    print(f"{p.digit}" + ("  (unsure)" if p.unsure else ""))
    for digit, prob in enumerate(p.probs):
        print(f"  {digit}: {prob:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    try:
        if args.command == "data":
            return _data(args)
        if args.command == "train":
            return _train(args, argv)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "drawn":
            return _drawn(args)
        return _predict(args)
    except (CheckpointError, MNISTUnavailable, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
