"""The command line's parser: one sub-command a verb, the train verb's flags built from TrainConfig's fields and
their metadata (digits.config), so that a new setting is a flag without touching this file."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from pathlib import Path

from .config import RECIPES, TrainConfig, applies


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit code 2, not the usage block
        self.exit(2, f"error: {message} (see: {self.prog} --help)\n")


def _count(low: int, high: int):
    """An argparse type: a whole number from low to high."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value
    return parse


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, from its metadata; defaults None so that --config can fill them."""
    for f in dataclasses.fields(TrainConfig):
        flag, m = "--" + f.name.replace("_", "-"), f.metadata
        m = {**m, "help": m["help"].replace("%", "%%")}  # argparse formats help with %: "15%" broke --help
        if f.type in (bool, "bool"):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{m['help']} (default: {f.default})")
            continue
        kind = {"int": int, "float": float}.get(str(f.type), str)
        choices = list(m["choices"]) if m["choices"] is not None else None
        parser.add_argument(flag, type=kind, default=None, choices=choices, help=f"{m['help']} (default: {f.default})")


def train_command(settings: dict) -> str:
    """The `python -m digits train` command for these settings: the flag of each setting that applies to the run
    and differs from its default (a run started by the app records `--config its/config.json` instead)."""
    words = ["python", "-m", "digits", "train"]
    for f in dataclasses.fields(TrainConfig):
        value = settings.get(f.name, f.default)
        if value == f.default or not applies(f.name, settings):
            continue
        flag = "--" + f.name.replace("_", "-")
        words += [flag if value else "--no-" + flag[2:]] if f.type in (bool, "bool") else [flag, str(value)]
    return shlex.join(words)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m digits", description="Train and use MNIST digit classifiers.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    d = sub.add_parser("data", help="fetch and verify MNIST")
    d.add_argument("--root", help="data folder (default: $DIGITS_DATA or ./data)")

    t = sub.add_parser("train", help="train a model")
    _add_config_flags(t)
    t.add_argument("--config", type=Path, help="a config.json to start from; flags given override it")
    t.add_argument("--arch", type=Path, help="train your own network: a file of its layers, a JSON list "
                   "([{\"layer\": \"conv\", \"channels\": 8, \"kernel\": 3}, …]) or their text form "
                   "('conv 8 3, relu, maxpool 2, flatten, linear 10'; digits.arch); sets --model built")
    t.add_argument("--recipe", choices=RECIPES, help="a named set of settings (digits.config.RECIPES): "
                   "fast = LeNet-5 to 99%% test accuracy in seconds (README, Speed); "
                   "room = fine-tune --start-from on the "
                   "room's drawings; flags given override it")
    t.add_argument("--run-dir", type=Path,
                   help="write config.json, events.jsonl, best.pt and snapshots/ here (a new or empty folder)")
    t.add_argument("--checkpoint", type=Path, help="where to save the best model "
                   "(default: RUN_DIR/best.pt, else checkpoints/MODEL-TIME.pt)")
    t.add_argument("--threads", type=_count(0, 1024), default=0, help="CPU threads for torch (default: torch's choice)")
    t.add_argument("--nice", type=_count(0, 19), default=0, help="once the first steps are out, lower this process's "
                   "priority to this nice value and to the CPU others leave over "
                   "(the app's Start: 19; default: 0, as is)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    _measuring(sub)
    _elsewhere(sub)
    return p


def _measuring(sub) -> None:
    """The verbs that measure a checkpoint, fit its calibration or detector, or read an image with it."""
    e = sub.add_parser("evaluate", help="test accuracy of a checkpoint")
    e.add_argument("checkpoint", type=Path)

    c = sub.add_parser("calibrate", help="fit a temperature on the validation split so that confidence matches "
                       "accuracy; "
                       "expected calibration error on the test set before and after (digits.calibration)")
    c.add_argument("checkpoints", type=Path, nargs="+")
    c.add_argument("--write", action="store_true", help="store the temperature and the ECEs in each checkpoint")

    n = sub.add_parser("detector", help="fit the not-a-digit detector on the classifier's features: MNIST training "
                       "digits (as they are and as read off a canvas) and worn drawn digits against random drawn "
                       "non-digits (digits.detector); what it flags of digits and non-digits it was not fitted on, and "
                       "its trade-off as the threshold moves (digits.detector_curve)")
    n.add_argument("checkpoints", type=Path, nargs="+")
    what = n.add_mutually_exclusive_group()  # --curve fits nothing: there would be nothing to write
    what.add_argument("--write", action="store_true",
                      help="store the detector, its threshold and figures in each checkpoint")
    what.add_argument("--curve", action="store_true",
                      help="fit nothing: print the checkpoint's detector's trade-off (digits flagged against "
                      "non-digits flagged at each threshold, and where its own threshold sits)")

    h = sub.add_parser("drawn", help="accuracy on the project's synthetic canvas drawings (digits.handdrawn)")
    h.add_argument("checkpoints", type=Path, nargs="+")
    h.add_argument("--per-digit", type=_count(1, 10_000), default=30, help="drawings of each digit (default: 30)")
    h.add_argument("--seed", type=_count(0, 2**32 - 1), default=0)

    o = sub.add_parser("heldout", help="reading of unseen hands, low-resolution scans and things that are not digits "
                       "(digits.heldout: for measuring only)")
    o.add_argument("checkpoints", type=Path, nargs="+")
    o.add_argument("--per-digit", type=_count(1, 1000), default=20,
                   help="drawings of each digit per hand and pen (default: 20)")
    o.add_argument("--seed", type=_count(0, 2**32 - 1), default=0)

    r = sub.add_parser("predict", help="classify an image file (PNG, JPEG…)")
    r.add_argument("image", type=Path)
    r.add_argument("--checkpoint", type=Path, required=True)


def _elsewhere(sub) -> None:
    """The verbs beyond one checkpoint: the room's drawings, a checkpoint taken home, a lecture hall."""
    w = sub.add_parser("drawings", help="the room's collected drawings ($DIGITS_DRAWINGS, else data/drawings.sqlite)")
    w.add_argument("action", choices=["stats", "export", "import"])
    w.add_argument("file", type=Path, nargs="?", help="the .npz to write (export) or read (import)")

    x = sub.add_parser("export", help="a checkpoint for use elsewhere: ONNX (ONNX Runtime runs it without digits or "
                                      "PyTorch) and/or a plain PyTorch state_dict with a JSON description beside it")
    x.add_argument("checkpoint", type=Path)
    x.add_argument("--onnx", type=Path, help="the ONNX file to write (pixels in [0, 1] → logits, probabilities)")
    x.add_argument("--state-dict", type=Path, help="the .pt to write (the weights); its .json description beside it")

    s = sub.add_parser("serve", help="a lecture hall: several app processes behind Caddy, each browser kept on one "
                                     "(docs/workshop.md)")
    s.add_argument("--replicas", type=int, default=2, help="app processes (default 2: one a core)")
    s.add_argument("--port", type=int, default=8501, help="the port people open (default 8501)")
    s.add_argument("--address", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1; 0.0.0.0 for the room's network)")
    s.add_argument("--host", action="append", default=[], metavar="NAME",
                   help="a name people type to reach this machine (repeatable; its network address is added)")
