"""The held-out sets of digits.heldout: made the same way every time, of the size they say, and read by
`read` exactly as digits.classify reads each drawing."""

import numpy as np

from digits import build_model, classify
from digits.heldout import HANDS, NOT_DIGITS, PENS, not_digits, unseen_digits
from digits.measure import read


def test_the_sets_are_the_same_for_a_seed_and_differ_between_seeds():
    a, b, c = unseen_digits(1, 0), unseen_digits(1, 0), unseen_digits(1, 1)
    assert len(a) == len(HANDS) * len(PENS) * 10
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b))
    assert not all(np.array_equal(x.image, y.image) for x, y in zip(a, c))
    scans = unseen_digits(1, 0, lowres=True)
    assert len(scans) == len(HANDS) * (len(PENS) - 1) * 10  # no hairline scans
    others = not_digits(2, 0)
    assert len(others) == 2 * len(NOT_DIGITS) and {d.digit for d in others} == {-1}
    assert all(d.image.shape == (280, 280, 4) and d.image.dtype == np.uint8 for d in a + scans + others)


def test_read_counts_what_classify_answers():
    model = build_model("cnn").eval()
    drawings = unseen_digits(1, 3)[:20] + not_digits(1, 3)[:5]
    answers = [classify(model, d.image) for d in drawings]
    r = read(model, drawings)
    assert r.accuracy == np.mean([p.digit == d.digit for p, d in zip(answers[:20], drawings[:20])])
    assert r.flagged == np.mean([p.digit is None or p.unsure or p.not_digit for p in answers])
