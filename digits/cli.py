"""`python -m digits data | train | evaluate | calibrate | drawn | heldout | predict | drawings`: the core's verbs,
printed for a terminal.

The command line: one short function a verb (the parser is digits.cli_args); the verbs that
measure or fit a checkpoint (evaluate, calibrate, detector, drawn, heldout) are in digits.cli_measure. The work
itself is in the library.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import torch

from . import arch, cli_measure as measure, drawing_files, drawings
from .batch_source import room_of
from .catalog import checkpoint_info
from .checkpoint import CheckpointError, load_checkpoint
from .cli_args import parser
from .config import TrainConfig
from .control import pause_requested
from .drawing_formats import MAX_IMPORT_BYTES
from .events import describe
from .export import export
from .mnist import MNISTUnavailable, dataset_spec, ensure_mnist
from .models import BUILT
from .preprocess import read_image
from .process import lower_priority
from .reading import classify
from .runs import CHECKPOINT, EVENTS, SNAPSHOTS, RunWriter, write_starting
from .serve import serve
from .train import fit


def _data(args) -> int:
    root = ensure_mnist(args.root, progress=print)
    print(f"MNIST verified in {root}")
    return 0


def _train_config(args) -> TrainConfig:
    """The config from --config and the flags (flags win); ValueError if invalid or the run folder is taken."""
    flags = {name: getattr(args, name) for name in TrainConfig.field_names() if getattr(args, name) is not None}
    base = TrainConfig.from_file(args.config).to_dict() if args.config else {}
    recipe = TrainConfig.recipe(args.recipe) if args.recipe else {}
    settings = {**base, **recipe, **flags}
    if args.arch:  # a network spec file: a JSON list of layers, or their text form
        settings.update(model=BUILT, layers=arch.read(args.arch))
    if settings.get("start_from") and "model" not in settings:  # fine-tuning: the checkpoint's architecture
        info = checkpoint_info(settings["start_from"])
        settings.update(model=info.model, layers=info.config.get("layers", ""))
    config = TrainConfig.from_dict(settings)
    events = args.run_dir / EVENTS if args.run_dir else None
    if events and ((events.is_file() and events.stat().st_size) or (args.run_dir / CHECKPOINT).exists()):
        raise ValueError(f"{args.run_dir} already holds a run; choose a new or empty folder")
    return config


def _report(events, writer: RunWriter | None, quiet: bool, wall: float) -> int:
    """Print the events (a progress bar for steps) and write them to the run folder; the exit code."""
    from tqdm import tqdm  # here: only a run that prints its progress needs it (~0.1 s to import)

    bar, code = None, 0
    for event in events:
        if writer:
            writer.write(event)
        kind = event.kind
        if kind == "step":
            bar.update(1)
            bar.set_postfix(epoch=event.epoch, loss=f"{event.loss:.4f}", refresh=False)
        elif kind == "started":
            print(describe(event))
            bar = tqdm(total=event.total_iterations, unit="it", disable=quiet, file=sys.stderr, leave=False)
        elif kind in ("preparing", "baseline", "evaluation", "epoch", "paused", "resumed"):
            tqdm.write(describe(event))
        else:
            if bar:
                bar.close()
            print(describe(event), file=sys.stderr if kind == "failed" else sys.stdout)
            code = 1 if kind == "failed" else 0
            if kind != "failed":
                print(f"Wall time with start-up and data loading: {time.perf_counter() - wall:.1f} s")
            if event.checkpoint:
                print(f"Checkpoint: {event.checkpoint}")
    return code


def _lowered(events, nice: int):
    """The events; after the first Step, this process at `nice` (digits.process.lower_priority): start-up and
    the first chart point at normal priority, the rest of training on the CPU that others leave over."""
    for event in events:
        yield event
        if nice and event.kind == "step":
            lower_priority(os.getpid(), nice)
            nice = 0


def _train(args, argv: list[str]) -> int:
    wall = time.perf_counter()
    config = _train_config(args)  # a ValueError is a one-line error, exit code 2 (main)
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
    starting = (lambda words: write_starting(args.run_dir, words)) if args.run_dir else (lambda words: None)
    try:
        room = room_of(config, None)  # before MNIST: a room with nothing to learn from is said at once
        starting("loading MNIST")
        splits = config.splits(progress=lambda m: print(m, file=sys.stderr))
        starting("building the model")  # the Started event follows as soon as it is built
        events = fit(config, splits, checkpoint=checkpoint, stop=stop,
                     extra_meta={"command": "python -m digits " + shlex.join(argv)},
                     snapshots=args.run_dir / SNAPSHOTS if args.run_dir else None,
                     pause=(lambda: pause_requested(args.run_dir)) if args.run_dir else None, room=room)
        return _report(_lowered(events, args.nice), writer, args.quiet, wall)
    except (MNISTUnavailable, ValueError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. the disk filled up under events.jsonl: the best checkpoint stays as it was
        print(f"error: training stopped, cannot write to disk: {e.strerror or e}", file=sys.stderr)
        return 1
    finally:
        if writer:
            writer.close()


def _predict(args) -> int:
    model, _ = load_checkpoint(args.checkpoint)
    try:
        image = read_image(args.image)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    p = classify(model, image)
    if p.digit is None:
        print("No ink found: the image looks empty.")
        return 1
    classes = dataset_spec(model.dataset).classes  # "0".."9", or Fashion-MNIST's words
    print(f"{classes[p.digit]}" + ("  (does not look like a digit: the network's guess)" if p.not_digit
                                   else "  (unsure)" if p.unsure else ""))
    for name, prob in zip(classes, p.probs):
        print(f"  {name}: {prob:.4f}")
    return 0


def _drawings(args) -> int:
    if args.action != "stats" and args.file is None:
        raise ValueError(f"drawings {args.action} needs a .npz file")
    if args.action == "export" and args.file.suffix != ".npz":
        raise ValueError(f"the export's file name must end in .npz, got {args.file.name}")
    db = drawings.connect()
    if args.action == "export":
        print(f"{drawing_files.export_npz(db, args.file):,} drawings written to {args.file}")
    elif args.action == "import":
        if not args.file.is_file() or args.file.stat().st_size > MAX_IMPORT_BYTES:
            raise ValueError(f"{args.file} is not a file of at most {MAX_IMPORT_BYTES >> 20} MB")
        added, known = drawing_files.import_npz(db, args.file.read_bytes())
        print(f"{added:,} drawings added from {args.file}" + (f" ({known:,} were already stored)" if known else ""))
    counts = drawings.counts(db)
    words = ", ".join(f"{d}: {n}" for d, n in counts.items() if d != drawings.NOT_A_DIGIT)
    print(f"{sum(counts.values()):,} drawings in {drawings.store_name(drawings.default_path())} — {words}; "
          f"not a digit: {counts[drawings.NOT_A_DIGIT]}")
    return 0


def _export(args) -> int:
    if args.onnx is None and args.state_dict is None:
        print("error: say what to write: --onnx FILE and/or --state-dict FILE", file=sys.stderr)
        return 2
    if args.state_dict is not None and args.state_dict.suffix == ".json":
        print("error: --state-dict names the weights' file; its .json description is written beside it",
              file=sys.stderr)
        return 2
    model, meta = load_checkpoint(args.checkpoint, detector=False)
    for path in export(model, meta, args.onnx, args.state_dict):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    try:
        if args.command == "data":
            return _data(args)
        if args.command == "train":
            return _train(args, argv)
        if args.command == "evaluate":
            return measure.evaluate(args)
        if args.command == "calibrate":
            return measure.calibrate(args)
        if args.command == "detector":
            return measure.detector(args)
        if args.command == "drawn":
            return measure.drawn(args)
        if args.command == "drawings":
            return _drawings(args)
        if args.command == "heldout":
            return measure.heldout(args)
        if args.command == "export":
            return _export(args)
        if args.command == "serve":
            return serve(args.replicas, args.port, args.address, args.host)
        return _predict(args)
    except (CheckpointError, MNISTUnavailable, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a folder that does not exist, a full disk: the file's name and why, in one line
        print(f"error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
