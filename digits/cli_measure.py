"""The command line's verbs that measure or fit a checkpoint — `evaluate`, `calibrate`, `detector`, `drawn`,
`heldout` (digits.cli parses them) — each loading the checkpoint, calling the library, printing its figures."""

from __future__ import annotations

import shlex

import numpy as np

from . import calibration, detector_curve, detector_fit
from .checkpoint import MAX_DETECTOR_NUMBERS, TEXT_FIELDS, amend_checkpoint, load_checkpoint
from .data import load_splits
from .detector import feature_size
from .evaluate import evaluate as evaluate_split  # the library's, not this verb
from .handdrawn import drawn_digits
from .heldout import not_digits, unseen_digits
from .measure import drawn_accuracy, read
from .mnist import dataset_spec
from .reading import VIEWS, answers_of


def splits_of(meta: dict):
    """The splits a checkpoint was trained and chosen on: its config's validation size and seed."""
    config = meta.get("config", {})
    return load_splits(config.get("val_size", 10_000), config.get("seed", 0), dataset=config.get("dataset", "mnist"))


def evaluate(args) -> int:
    model, meta = load_checkpoint(args.checkpoint)
    test = splits_of(meta).test
    m = evaluate_split(model, test)
    print(f"{args.checkpoint}: {meta['model']}, test accuracy {m.accuracy:.2%} (loss {m.loss:.4f}) "
          "on 10,000 test images")
    for name, acc in zip(dataset_spec(meta["config"].get("dataset", "mnist")).classes, m.per_class):
        print(f"  {name}: {acc:.2%}")
    a = answers_of(model, test.images)  # the test images are already what to_mnist makes of a drawing
    print(f"read as digits.classify reads a drawing (the input and its {len(VIEWS) - 1} one-pixel shifts, averaged): "
          f"accuracy {(a.digit == test.labels).double().mean():.2%}, flagged {a.flagged.double().mean():.2%} "
          f"(unsure {a.unsure.double().mean():.2%}, not a digit {a.not_digit.double().mean():.2%}), "
          f"ECE ({calibration.BINS} bins) {calibration.ece(a.probs, test.labels):.2%}")
    return 0


def calibrate(args) -> int:
    for path in args.checkpoints:
        model, meta = load_checkpoint(path)
        splits = splits_of(meta)
        c = calibration.calibrate(model, splits)
        was = f" (it had {model.temperature:.3f})" if "temperature" in meta["metrics"] else ""
        print(f"{path}: {meta['model']}, temperature {c.temperature:.3f} "
              f"fitted on {len(splits.val):,} validation images{was}; "
              f"on {c.measured_on:,} test images, ECE ({calibration.BINS} bins) "
              f"{c.ece_before:.2%} → {c.ece_after:.2%}, "
              f"NLL {c.nll_before:.4f} → {c.nll_after:.4f}")
        if args.write:
            # what remakes this file's temperature
            command = f"python -m digits calibrate {shlex.quote(str(path))} --write"
            amend_checkpoint(path, {"temperature": c.temperature, "test_ece": c.ece_after,
                                    "uncalibrated_test_ece": c.ece_before},
                             {"calibration_command": command}
                             if len(command) <= TEXT_FIELDS["calibration_command"] else {})
            print(f"  written to {path}")
    return 0


def detector(args) -> int:
    for path in args.checkpoints:
        if args.curve:  # the checkpoint's own detector, as it is: its trade-off only
            model, meta = load_checkpoint(path)
            digits_only(meta, path, "the not-a-digit detector")
            if model.detector is None:
                raise ValueError(f"{path} has no not-a-digit detector: `python -m digits detector {path} --write` "
                                 "fits one")
            print(f"{path}: {meta['model']}, the not-a-digit detector's trade-off")
            print_curve(model, splits_of(meta).test.images)
            continue
        model, meta = load_checkpoint(path, detector=False)  # a stale detector (another shape) is replaced
        digits_only(meta, path, "the not-a-digit detector")
        numbers = (detector_fit.HIDDEN + 2) * feature_size(model) + detector_fit.HIDDEN + 1
        if numbers > MAX_DETECTOR_NUMBERS:  # a wide built network: more features than a checkpoint may hold
            raise ValueError(f"{path}: its activations give {feature_size(model):,} detector features, a detector of "
                             f"{numbers:,} numbers; a checkpoint holds at most {MAX_DETECTOR_NUMBERS:,}")
        splits = splits_of(meta)
        fitted = detector_fit.fit(model, splits.train.images, splits.val.images)
        det = model.detector = fitted.detector
        answers = answers_of(model, splits.test.images)  # MNIST test images are what to_mnist makes
        alone, unsure = answers.not_digit, answers.unsure
        print(f"{path}: {meta['model']}, detector threshold {det.threshold:.3f}; flagged by it alone: "
              + ", ".join(f"{name} {share:.1%}" for name, share in fitted.flagged.items())
              + f"; MNIST test {alone.double().mean():.2%}, "
              f"with the unsure ones {(alone | unsure).double().mean():.2%} "
              f"(unsure alone {unsure.double().mean():.2%})")
        print_curve(model, splits.test.images)
        if args.write:
            command = f"python -m digits detector {shlex.quote(str(path))} --write"  # what remakes this file's detector
            amend_checkpoint(path, {"detector_threshold": det.threshold,
                                    "detector_val_flagged": fitted.flagged["validation digits"],
                                    "detector_negatives_flagged": fitted.flagged["drawn non-digits"]},
                             {"detector_command": command} if len(command) <= TEXT_FIELDS["detector_command"] else {},
                             detector=det.tensors())
            print(f"  written to {path}")
    return 0


def print_curve(model, test_images) -> None:
    """The detector's trade-off (digits.detector_curve) as a Markdown table, indented under its checkpoint."""
    curve = detector_curve.measure(model, detector_curve.standard_sets(test_images))
    print("\n".join(f"  {line}" if line else "" for line in detector_curve.table(curve)))


def digits_only(meta: dict, path, what: str) -> None:
    """ValueError (one line) for a checkpoint that reads another dataset than MNIST's digits."""
    dataset = meta.get("config", {}).get("dataset", "mnist")
    if dataset != "mnist":
        raise ValueError(f"{path} reads {dataset_spec(dataset).title}: {what} is for digit models")


def drawn(args) -> int:
    drawings = drawn_digits(args.per_digit, args.seed)
    print(f"{len(drawings)} drawings ({args.per_digit} of each digit, seed {args.seed})")
    for path in args.checkpoints:
        model, meta = load_checkpoint(path)
        digits_only(meta, path, "drawn-digit accuracy")
        acc, per_digit = drawn_accuracy(model, drawings)
        print(f"{path}: {meta['model']}, drawn-digit accuracy {acc:.2%}  "
              + " ".join(f"{d}:{a:.0%}" for d, a in enumerate(per_digit)))
    return 0


def heldout(args) -> int:
    sets = {"unseen hands and pens": unseen_digits(args.per_digit, args.seed),
            "low-resolution scans": unseen_digits(args.per_digit, args.seed, lowres=True),
            "not digits": not_digits(args.per_digit, args.seed),
            "drawn digits": drawn_digits(args.per_digit, args.seed)}
    print(", ".join(f"{len(v):,} {k}" for k, v in sets.items())
          + f" (seed {args.seed}; the drawn digits are digits.handdrawn's)")
    for path in args.checkpoints:
        model, meta = load_checkpoint(path)
        digits_only(meta, path, "reading unseen hands")
        clean, scans, others, drawn = (read(model, s) for s in sets.values())
        detector = ("with its not-a-digit detector" if getattr(model, "detector", None)
                    else "no detector: unsure answers only")
        print(f"{path}: {meta['model']} ({detector})\n"
              f"  unseen hands {clean.accuracy:.2%} (worst digit {np.nanmin(clean.per_digit):.0%}), "
              f"flagged {clean.flagged:.1%}\n"
              f"  low-resolution scans {scans.accuracy:.2%} (worst digit {np.nanmin(scans.per_digit):.0%}), "
              f"flagged {scans.flagged:.1%}\n"
              f"  drawn digits {drawn.accuracy:.2%}, flagged {drawn.flagged:.1%}\n"
              f"  not digits flagged {others.flagged:.1%}: "
              + " ".join(f"{k} {v:.0%}" for k, v in others.flagged_by_kind.items()))
    return 0
