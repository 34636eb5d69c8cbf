"""How the shipped checkpoints read issue #31's independent set: hands nobody here drew, read exactly as the Draw
page reads them. Prints Markdown tables.

    python benchmarks/unseen.py                              # tests/data/unseen_hands.npz, both shipped checkpoints
    python benchmarks/unseen.py --sheet /tmp/unseen_sheet.png   # and a contact sheet of the worst cases

The set was drawn on the app's own canvas in Chromium with the mouse and a finger by benchmarks/record_unseen.py,
whose strokes share no code with the training pipeline; the shipped models never train on it. Each stored canvas
becomes the RGBA array the Draw page passes to digits.classify, (g, g, g, 255). Read right: the digit read is the
one drawn, flagged or not. Flagged: "Not sure" or "That does not look like a digit" (Prediction.flagged).
Where scikit-learn happens to be installed, its bundled 8×8 scans of 43 writers (load_digits) are read too, each
drawn as a 160×160 block in the middle of a 280×280 canvas; it is not one of the project's dependencies.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)
import numpy as np
from PIL import Image, ImageDraw

from digits import classify, load_checkpoint
from digits.handdrawn import as_canvas  # (g, g, g, 255): the canvas as the page sent it

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "unseen_hands.npz"
CHECKPOINTS = ("lenet5", "cnn")
TILE, CAPTION, COLUMNS, MOST = 120, 30, 8, 48  # px, px, tiles a row, tiles a checkpoint on the sheet


@dataclass(frozen=True)
class Reading:
    """classify's answers for a set, one entry a drawing."""
    digit: np.ndarray       # (N,) int: the digit read, -1 without ink
    confidence: np.ndarray  # (N,) its probability
    unsure: np.ndarray      # (N,) bool
    not_digit: np.ndarray   # (N,) bool

    @property
    def flagged(self) -> np.ndarray:
        return (self.digit < 0) | self.unsure | self.not_digit


def read(model, images: np.ndarray) -> Reading:
    answers = [classify(model, as_canvas(g)) for g in images]
    return Reading(np.array([-1 if p.digit is None else p.digit for p in answers]),
                   np.array([p.confidence for p in answers]), np.array([p.unsure for p in answers]),
                   np.array([p.not_digit for p in answers]))


def scans() -> tuple[np.ndarray, np.ndarray] | None:
    """scikit-learn's 8×8 scans as 280×280 canvases (grey, white ink) and their labels; None without scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    d = load_digits()
    canvases = np.zeros((len(d.images), 280, 280), np.uint8)
    for c, im in zip(canvases, d.images):  # 0..16 ink
        c[60:220, 60:220] = np.asarray(Image.fromarray((im * 255 / 16).astype(np.uint8)).resize((160, 160),
                                                                                             Image.BILINEAR))
    return canvases, d.target


def pct(x) -> str:
    return f"{100 * np.mean(x):.1f}%" if np.size(x) else "–"


def summary(s: dict, readings: dict) -> list[str]:
    digits, signs = s["labels"] >= 0, s["labels"] < 0
    lines = ["| checkpoint | digits read right | mouse | touch | worst digit | digits flagged | not-digits flagged |",
             "|---|---|---|---|---|---|---|"]
    for name, r in readings.items():
        right = r.digit == s["labels"]
        per = [right[s["labels"] == d].mean() for d in range(10)]
        worst = int(np.argmin(per))
        lines.append(f"| {name} | {pct(right[digits])} | {pct(right[digits & (s['kinds'] == 'mouse')])} | "
                     f"{pct(right[digits & (s['kinds'] == 'touch')])} | {worst}: {pct(per[worst])} | "
                     f"{pct(r.flagged[digits])} | {pct(r.flagged[signs])} |")
    return lines


def per_digit(s: dict, readings: dict) -> list[str]:
    head = " | ".join(f"{n} read right | {n} flagged" for n in readings)
    lines = [f"| digit | drawings | {head} |", "|---|---|" + "---|---|" * len(readings)]
    for d in range(10):
        mine = s["labels"] == d
        cells = " | ".join(f"{pct(r.digit[mine] == d)} | {pct(r.flagged[mine])}" for r in readings.values())
        lines.append(f"| {d} | {mine.sum()} | {cells} |")
    return lines


def mistakes(label: int, r: Reading, mine: np.ndarray) -> str:
    """'3/13 misread (9 ×2, 1 ×1)' for a digit's letterform; '2/5 taken as a digit (4 ×2)' for a not-digit's."""
    wrong = mine & ((r.digit != label) if label >= 0 else ~r.flagged)
    if not wrong.any():
        return ""
    counts = ", ".join(f"{d if d >= 0 else 'no ink'} ×{n}" for d, n in Counter(r.digit[wrong].tolist()).most_common())
    return f"{wrong.sum()}/{mine.sum()} {'misread as' if label >= 0 else 'taken as a digit:'} {counts}"


def per_form(s: dict, readings: dict) -> list[str]:
    lines = [f"| letterform | {' | '.join(readings)} |", "|---|" + "---|" * len(readings)]
    for form in dict.fromkeys(s["forms"].tolist()):  # in the file's order: digits 0–9, then the not-digits
        mine = s["forms"] == form
        label = int(s["labels"][mine][0])
        cells = [mistakes(label, r, mine) for r in readings.values()]
        if any(cells):
            lines.append(f"| {form} | {' | '.join(c or '–' for c in cells)} |")
    return lines if len(lines) > 2 else ["No letterform has an error."]


def worst(s: dict, r: Reading) -> list[int]:
    """The drawings most worth a look: misread digits and not-digits taken as digits (the most confident first),
    then digits read right but flagged."""
    digits = s["labels"] >= 0
    wrong = np.flatnonzero((digits & (r.digit != s["labels"])) | (~digits & ~r.flagged))
    flagged = np.flatnonzero(digits & (r.digit == s["labels"]) & r.flagged)
    return [*wrong[np.argsort(-r.confidence[wrong])], *flagged[np.argsort(r.confidence[flagged])]][:MOST]


def answer(r: Reading, i: int) -> str:
    if r.digit[i] < 0:
        return "no ink"
    verdict = " not a digit" if r.not_digit[i] else " unsure" if r.unsure[i] else ""
    return f"{r.digit[i]} {r.confidence[i]:.0%}{verdict}"


def sheet(path: Path, s: dict, readings: dict) -> int:
    """A PNG of each checkpoint's worst cases, captioned "truth -> answer confidence"; how many tiles."""
    rows = []  # (checkpoint, indices) a row
    for name, r in readings.items():
        cases = worst(s, r)
        rows += [(name, cases[k:k + COLUMNS]) for k in range(0, len(cases), COLUMNS)] or [(name, [])]
    tile_h = TILE + CAPTION
    out = Image.new("RGB", (COLUMNS * (TILE + 4) + 70, len(rows) * (tile_h + 4) + 4), (245, 245, 245))
    draw = ImageDraw.Draw(out)
    for row, (name, cases) in enumerate(rows):
        y = 4 + row * (tile_h + 4)
        draw.text((4, y + 4), name, fill=(0, 0, 0))
        for col, i in enumerate(cases):
            x = 70 + col * (TILE + 4)
            out.paste(Image.fromarray(s["images"][i]).resize((TILE, TILE), Image.BILINEAR), (x, y))
            truth = s["labels"][i] if s["labels"][i] >= 0 else "not"
            draw.text((x + 2, y + TILE + 2), f"{truth} -> {answer(readings[name], i)}", fill=(160, 0, 0))
            draw.text((x + 2, y + TILE + 15), f"{s['forms'][i][:17]} {s['kinds'][i]}", fill=(90, 90, 90))
    path.parent.mkdir(parents=True, exist_ok=True)
    out.save(path)
    return sum(len(c) for _, c in rows)


def scan_lines(models: dict) -> list[str]:
    found = scans()
    if found is None:
        return ["scikit-learn is not installed: its 8×8 scans (load_digits, 43 writers) are left out."]
    images, labels = found
    lines = [f"scikit-learn's 8×8 scans, {len(labels)} digits of 43 writers, as 160×160 on the canvas:", "",
             "| checkpoint | read right | worst digit | flagged |", "|---|---|---|---|"]
    for name, model in models.items():
        r = read(model, images)
        per = [(r.digit[labels == d] == d).mean() for d in range(10)]
        lines.append(f"| {name} | {pct(r.digit == labels)} | {int(np.argmin(per))}: {pct(min(per))} | "
                     f"{pct(r.flagged)} |")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--sheet", type=Path, help="write a PNG contact sheet of the worst cases here")
    args = p.parse_args()
    with np.load(args.data) as z:
        s = {k: z[k] for k in ("images", "labels", "kinds", "forms")}
    models = {name: load_checkpoint(ROOT / "checkpoints" / f"{name}.pt")[0] for name in CHECKPOINTS}
    readings = {name: read(model, s["images"]) for name, model in models.items()}
    digits = s["labels"] >= 0
    kinds = Counter(s["kinds"][digits].tolist())
    print(f"## Unseen hands: {args.data.name}, {digits.sum()} digits (mouse {kinds['mouse']}, touch "
          f"{kinds['touch']}) and {(~digits).sum()} not-digits, read as the Draw page reads\n")
    for block in (summary(s, readings), ["", "### Per digit", ""], per_digit(s, readings),
                  ["", "### Letterforms with errors", ""], per_form(s, readings), [""], scan_lines(models)):
        print("\n".join(block))
    if args.sheet:
        print(f"\nContact sheet: {args.sheet} ({sheet(args.sheet, s, readings)} worst cases)")


if __name__ == "__main__":
    main()
