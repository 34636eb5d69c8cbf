"""The workshop arc, measured through the commands a presenter types: a room that draws in an unusual hand,
its drawings imported into a fresh store, each shipped checkpoint fine-tuned with the "room" recipe.

    python benchmarks/room.py                    # 40 drawings of each digit, both shipped checkpoints
    python benchmarks/room.py --per-digit 20 --checkpoints checkpoints/lenet5.pt

The room is digits.handdrawn's "segments" hand (calculator-style digits, which MNIST's writers did not
use), drawn on a 280×280 canvas and stored as the Draw page stores an answer: the 28×28 the network saw.
Everything runs in a temporary folder: `drawings import`, then `train --recipe room --start-from CKPT`
as a subprocess, whose final line gives the before → after figures. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (first: the repository on the path for python benchmarks/NAME.py)
import numpy as np

from digits import classify, load_checkpoint
from digits.handdrawn import drawn_digits
from digits.room import Room

ROOT = Path(__file__).resolve().parents[1]

PERCENT = r"([\d.]+)%"


def room_npz(path: Path, per_digit: int, reader: Path) -> tuple[int, Room]:
    """Write the room's drawings as a drawings .npz; (how many, their split)."""
    model, _ = load_checkpoint(reader)
    drawn = drawn_digits(per_digit, seed=7, hand="segments")
    images = np.stack([(classify(model, d.image).input * 255).round().astype(np.uint8) for d in drawn])
    labels = np.array([d.digit for d in drawn], np.int64)
    np.savez_compressed(path, images=images, labels=labels)
    return len(labels), Room.of((images, labels))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-digit", type=int, default=40)
    p.add_argument("--checkpoints", type=Path, nargs="+",
                   default=[ROOT / "checkpoints/lenet5.pt", ROOT / "checkpoints/cnn.pt"])
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "DIGITS_DRAWINGS": str(tmp / "room.sqlite")}
        n, room = room_npz(tmp / "room.npz", args.per_digit, args.checkpoints[0])
        subprocess.run([sys.executable, "-m", "digits", "drawings", "import", str(tmp / "room.npz")], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        for ckpt in args.checkpoints:
            command = ["train", "--recipe", "room", "--start-from", str(ckpt), "--checkpoint", str(tmp / "tuned.pt"),
                       "--quiet"]
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "digits", *command], cwd=ROOT, env=env, capture_output=True,
                                  text=True)
            wall = time.perf_counter() - t0
            final = re.search(rf"MNIST test {PERCENT} → {PERCENT}, room \(held out\) {PERCENT} → {PERCENT}",
                              done.stdout)
            trained = re.search(r"in ([\d.]+) s of training", done.stdout)
            if done.returncode or not final:
                print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
                return 1
            b_test, a_test, b_room, a_room = map(float, final.groups())
            rows.append((ckpt.name, b_room, a_room, b_test, a_test, float(trained.group(1)), wall))
    print(f"{n} drawings ({args.per_digit} of each digit, calculator-style): {len(room.train)} to learn from, "
          f"{len(room.val)} to choose the best model, {len(room.held_out)} held out · "
          f"{platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}\n")
    print("| checkpoint | room, held out: before → after | MNIST test: before → after | training | whole command |")
    print("|---|---|---|---|---|")
    for name, b_room, a_room, b_test, a_test, trained, wall in rows:
        print(f"| {name} | {b_room:.2f}% → **{a_room:.2f}%** | {b_test:.2f}% → {a_test:.2f}% "
              f"| {trained:.0f} s | {wall:.0f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
