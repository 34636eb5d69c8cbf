import numpy as np
import pytest
import torch

from digits import build_model, classify, to_mnist
from digits.preprocess import STROKE_RANGE, _stroke_width
from tests.helpers import draw_digit


def centre_of_mass(x):
    rows, cols = np.indices(x.shape)
    return (rows * x).sum() / x.sum(), (cols * x).sum() / x.sum()


def ink_box(x, level=0.1):
    r, c = np.nonzero(x > level)
    return r.max() - r.min() + 1, c.max() - c.min() + 1


@pytest.mark.parametrize("box", [(60, 60, 220, 220), (5, 5, 120, 120), (170, 150, 275, 275)])
def test_made_like_mnist_box_20_and_centre_of_mass_centred(box):
    x = to_mnist(draw_digit("ring", box=box))
    assert x.shape == (28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert max(ink_box(x)) in (20, 21)
    cy, cx = centre_of_mass(x)
    assert abs(cy - 13.5) <= 0.501 and abs(cx - 13.5) <= 0.501  # MNIST shifts by whole pixels


def test_aspect_ratio_is_kept():
    tall = to_mnist(draw_digit("bar", box=(100, 40, 140, 240), width=18))
    h, w = ink_box(tall)
    assert h in (20, 21) and w <= 5


@pytest.mark.parametrize("variant", [
    dict(box=(5, 5, 165, 165)),                         # off-centre, top left
    dict(box=(110, 110, 270, 270)),                     # off-centre, bottom right
    dict(box=(120, 120, 170, 170), width=6),            # tiny
    dict(size=560, box=(20, 20, 540, 540), width=58),   # huge
    dict(style="black-on-white"),
    dict(style="transparent"),
])
def test_position_size_and_colours_do_not_change_what_the_network_sees(variant):
    reference = to_mnist(draw_digit("ring"))
    x = to_mnist(draw_digit("ring", **variant))
    assert np.abs(x - reference).mean() < 0.03


@pytest.mark.parametrize("width", [4, 40, 60])
def test_stroke_width_is_brought_into_mnist_range(width):
    x = to_mnist(draw_digit("ring", width=width))
    lo, hi = STROKE_RANGE
    assert lo - 0.7 <= _stroke_width(x > 0.5) <= hi + 0.7


def test_empty_canvas_is_no_digit():
    blank = draw_digit("ring", width=0) * 0
    blank[..., 3] = 255
    assert to_mnist(blank) is None
    p = classify(build_model("cnn"), blank)
    assert p.digit is None and p.confidence == 0.0 and np.isclose(p.probs.sum(), 1)
    assert to_mnist(np.zeros((280, 280, 4), np.uint8)) is None  # fully transparent


@pytest.mark.parametrize("image, message", [
    (np.zeros((3, 4, 5, 6)), "must be H×W"),
    (np.zeros((28, 28, 2)), "must be H×W"),
    (np.zeros((0, 28)), "empty"),
    (np.full((28, 28), np.nan), "NaN"),
    (np.full((28, 28), np.inf), "NaN or infinite"),
    (np.full((28, 28), -5), "0..255"),
    (np.full((28, 28), 2.0), r"\[0, 1\]"),
    (np.zeros((5000, 10), np.uint8), "largest side"),
    (np.array([["a"]]), "numbers"),
])
def test_bad_input_is_a_clear_value_error(image, message):
    with pytest.raises(ValueError, match=message):
        classify(build_model("cnn"), image)


def test_grey_and_rgb_inputs_are_read_too():
    rgba = draw_digit("ring")
    reference = to_mnist(rgba)
    assert np.allclose(to_mnist(rgba[..., 0]), reference)
    assert np.allclose(to_mnist(rgba[..., :3]), reference)
    assert np.allclose(to_mnist(rgba[..., 0] / 255.0), reference, atol=1e-5)


def test_paper_grain_and_specks_of_dust_do_not_shrink_the_digit():
    """A scan: faint grain everywhere and a few dark specks far from the digit. Were they ink, the bounding
    box would span the page and the digit would end up small in the middle of the 28×28."""
    clean = draw_digit("ring", box=(90, 90, 190, 190), width=14)
    rng = np.random.default_rng(0)
    noisy = clean.astype(np.float32)
    noisy[..., :3] += rng.normal(0, 8, noisy.shape[:2])[..., None]            # grain, ~3% of full ink
    for i, (y, x) in enumerate(rng.integers(0, 280, (12, 2))):              # specks of 1 and 2 pixels
        noisy[y, x:x + 1 + i % 2, :3] = 255
    noisy = np.clip(noisy, 0, 255).astype(np.uint8)
    reference, x = to_mnist(clean), to_mnist(noisy)
    assert max(ink_box(x > 0.3)) in (20, 21)
    assert np.abs(x - reference).mean() < 0.05  # 0.25 when grain and specks counted as ink


@pytest.mark.parametrize("radius", [1, 2, 5, 13])
@pytest.mark.parametrize("dilate", [True, False])
def test_fast_morphology_is_max_pooling_exactly(radius, dilate):
    """_morph's doubling window is the square max (min) filter a padded max_pool2d computes, to the bit:
    the picture's edge counts as neither ink nor paper."""
    import torch.nn.functional as F

    from digits.preprocess import _morph

    rng = np.random.default_rng(radius)
    for shape in [(57, 31), (3, 40), (40, 1)]:
        x = torch.from_numpy(rng.random(shape).astype(np.float32))
        k, sign = 2 * radius + 1, 1 if dilate else -1
        y = F.max_pool2d(sign * x[None, None], (1, k), stride=1, padding=(0, radius))
        want = sign * F.max_pool2d(y, (k, 1), stride=1, padding=(radius, 0))[0, 0]
        assert torch.equal(_morph(x, radius, dilate), want)
