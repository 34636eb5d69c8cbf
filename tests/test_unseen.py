"""Issue #31's independent set, tests/data/unseen_hands.npz: digits and not-digits drawn in Chromium on the Draw
page's canvas with the mouse and a finger by benchmarks/record_unseen.py, from strokes that share no code with the
training pipeline. The shipped models never train on it; here it is a check that reading hands nobody here drew
does not get worse (the full picture: python benchmarks/unseen.py)."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from digits import build_model, classify
from digits.handdrawn import as_canvas  # (g, g, g, 255): the canvas as the page sent it

DATA = Path(__file__).parent / "data" / "unseen_hands.npz"
# Today's level, set a little below what was measured (python benchmarks/unseen.py, 2026-12-04). When the set was
# recorded, LeNet-5 read 396 of the 400 digits right (99.0%; its 1s 90%) and flagged 83 of the 115 not-digits
# (72.2%), the CNN 395 (98.8%; its 1s 87.5%) and 89 (77.4%): the misreads were each a "1 with flag" read as 7, the
# not-digits taken for digits mostly an s (5), a B (8), an H (4) or an e (8). The checkpoints retrained with drawn
# digits in people's forms and refitted with letters among the negatives (issue #31) read all 400 right and flag
# 92 (80.0%) and 99 (86.1%).
READ_RIGHT = {"lenet5": 0.99, "cnn": 0.99}    # share of the set's digits whose digit is read right (the goal: 99%)
WORST_DIGIT = 0.97                            # the share of the worst-read digit (the goal)
FLAGGED = {"lenet5": 0.76, "cnn": 0.82}       # share of its not-digits flagged (unsure or not a digit)


@pytest.fixture(scope="module")
def hands() -> dict:
    with np.load(DATA) as z:  # no pickles: every field is a plain array
        return {k: z[k] for k in z.files}


def read(model, hands) -> tuple[float, float, float]:
    """(share of the digits read right, that of the worst-read digit, share of the not-digits flagged), each
    drawing read by classify."""
    answers = [classify(model, as_canvas(g)) for g in hands["images"]]
    labels = hands["labels"]
    right = np.array([p.digit == label for p, label in zip(answers, labels)])
    flagged = [p.flagged for p, label in zip(answers, labels) if label < 0]
    worst = min(right[labels == digit].mean() for digit in range(10))
    return float(right[labels >= 0].mean()), float(worst), float(np.mean(flagged))


def test_the_set_has_its_documented_fields_and_size(hands):
    assert set(hands) == {"images", "labels", "kinds", "forms"}
    images, labels = hands["images"], hands["labels"]
    n = len(images)
    assert images.shape == (n, 280, 280) and images.dtype == np.uint8
    assert labels.shape == hands["kinds"].shape == hands["forms"].shape == (n,)
    assert labels.dtype == np.int8 and set(labels.tolist()) == {-1, *range(10)}
    assert hands["kinds"].dtype.kind == hands["forms"].dtype.kind == "U"
    assert all(images.reshape(n, -1).max(1) == 255)  # every canvas holds a stroke of full ink
    for digit in range(10):
        mine = labels == digit
        assert mine.sum() >= 30, digit
        assert len(set(hands["forms"][mine])) >= 2, digit  # more than one way of writing each digit
    assert (labels < 0).sum() >= 100
    for part in (labels >= 0, labels < 0):  # drawn with the mouse and with a finger, digits and not-digits alike
        assert set(hands["kinds"][part]) == {"mouse", "touch"}


def test_no_drawing_is_stored_twice(hands):
    digests = {hashlib.sha256(g.tobytes()).hexdigest() for g in hands["images"]}
    assert len(digests) == len(hands["images"])


@pytest.mark.parametrize("name", ["lenet5", "cnn"])
def test_each_shipped_checkpoint_reads_the_set_at_least_as_well_as_when_it_was_recorded(hands, shipped, name):
    right, worst, flagged = read(shipped[name], hands)
    assert right >= READ_RIGHT[name], f"{name} read {right:.1%} of the unseen hands' digits right"
    assert worst >= WORST_DIGIT, f"{name} read {worst:.1%} of its worst digit right"
    assert flagged >= FLAGGED[name], f"{name} flagged {flagged:.1%} of the unseen hands' not-digits"


def test_the_guard_fails_a_network_that_learned_nothing(hands):
    torch.manual_seed(0)  # fresh weights: about one digit in ten read right, by chance
    right, _, _ = read(build_model("lenet5").eval(), hands)
    assert right < min(READ_RIGHT.values())
