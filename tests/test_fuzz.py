"""classify must answer every input with a prediction or a clear ValueError: never a crash or a hang."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from digits import build_model, classify

torch.manual_seed(0)
MODEL = build_model("lenet5").eval()

dtypes = st.sampled_from([np.uint8, np.int16, np.int64, np.float32, np.float64, np.bool_])


def check(image):
    try:
        p = classify(MODEL, image)
    except ValueError as e:
        assert "image" in str(e)  # one of classify's own messages, not an error from deep inside numpy
        return
    assert p.probs.shape == (10,) and np.isclose(p.probs.sum(), 1)
    assert p.input.shape == (28, 28) and np.isfinite(p.input).all()
    assert p.digit is None or 0 <= p.digit <= 9


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(arrays(dtypes, array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=40)))
def test_any_small_array(image):
    check(image)


@settings(max_examples=60, deadline=2000)
@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 60)),
              elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_any_float_values(image):
    check(image)


@settings(max_examples=60, deadline=2000)
@given(st.integers(1, 300), st.integers(1, 300), st.sampled_from([1, 3, 4]), st.integers(0, 255),
       st.integers(0, 2**32 - 1))
def test_random_canvases(h, w, channels, fill, seed):
    rng = np.random.default_rng(seed)
    image = np.full((h, w, channels), fill, np.uint8)
    y, x = rng.integers(0, h), rng.integers(0, w)
    image[y:y + rng.integers(1, h + 1), x:x + rng.integers(1, w + 1)] = rng.integers(0, 256)
    check(image)


@pytest.mark.parametrize("image", [
    np.zeros((280, 280, 4), np.uint8),                     # transparent, empty
    np.full((280, 280, 4), 255, np.uint8),                 # all ink (or all paper)
    np.zeros((1, 1), np.uint8), np.full((1, 1), 255, np.uint8),
    np.eye(280, dtype=np.uint8) * 255,                     # one thin diagonal line
    np.full((4096, 4096), 255, np.uint8),                  # the largest accepted, all ink
])
def test_edge_cases(image):
    check(image)


def test_absurd_size_is_refused_before_any_work():
    image = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), (10_000, 10_000), (0, 0))  # 100 Mpx view, no memory
    with pytest.raises(ValueError, match="10000×10000; the largest side accepted is 4096"):
        classify(MODEL, image)
