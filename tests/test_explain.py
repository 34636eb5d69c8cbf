"""digits.explain against torch.autograd and the models themselves: gradient × input, integrated gradients,
occlusion."""

import numpy as np
import pytest
import torch

from digits.explain import gradient_x_input, integrated_gradients, occlusion
from tests.helpers import MEAN, MODELS, STD, logits_of, model_of, untrained


@MODELS
def test_gradient_x_input_is_the_pixels_times_the_gradient(shipped, image, name, trained):
    model = model_of(shipped, name, trained)
    pixels = torch.tensor(image, requires_grad=True)
    logits = model(((pixels - MEAN) / STD).view(1, 1, 28, 28))[0]
    for target in (None, 3):
        digit = int(logits.argmax()) if target is None else target
        (grad,) = torch.autograd.grad(logits[digit], pixels, retain_graph=True)
        a = gradient_x_input(model, image, target)
        assert (a.target, a.gap, a.method) == (digit, None, "gradient × input")
        assert a.values.shape == (28, 28) and a.values.dtype == np.float32
        np.testing.assert_allclose(a.values, (grad * pixels).detach().numpy(), atol=1e-6, rtol=1e-5)
        assert a.logit == pytest.approx(float(logits[digit].detach()), abs=1e-5)


@pytest.mark.parametrize("name", ["lenet5", "cnn"])
def test_integrated_gradients_add_up_to_the_rise_from_a_blank_image(shipped, image, name):
    blank = np.zeros((28, 28), np.float32)
    model = untrained(name)
    a = integrated_gradients(model, image, target=4)
    logits = logits_of(model, [image, blank])
    rise = float(logits[0, 4] - logits[1, 4])
    assert a.target == 4 and a.logit == pytest.approx(float(logits[0, 4]), abs=1e-5)
    assert a.gap == pytest.approx(float(a.values.astype(np.float64).sum()) - rise, abs=1e-5)
    if name == "lenet5":  # untrained, all tanh: smooth along the path, 16 Gauss–Legendre steps integrate it exactly
        assert abs(a.gap) < 1e-5 * abs(rise)
    # A trained one rises steeply near the blank end (tanh saturates in LeNet-5, ReLUs switch on in
    # the small CNN): 16 steps leave a gap of up to ~20 % of the rise on drawings like this one, which more steps
    # close. The ReLUs' kinks close it unevenly: the CNN retrained for issue #31 left 8.8%, 1.1%, 3.8%, 1.2%, 0.09%
    # of the rise at 16, 32, 64, 128, 256 steps (LeNet-5: 2.9%, 0.9%, 0.03%, 0, 0).
    model = shipped[name]
    logits = logits_of(model, [image, blank])
    digit = int(logits[0].argmax())
    rise = float(logits[0, digit] - logits[1, digit])
    gaps = {}
    for steps in (16, 256):
        a = integrated_gradients(model, image, steps=steps)
        assert a.target == digit and a.values.shape == (28, 28)
        assert a.gap == pytest.approx(float(a.values.astype(np.float64).sum()) - rise, abs=1e-4)
        gaps[steps] = abs(a.gap)
    assert rise > 5 and gaps[16] < 0.2 * rise
    assert gaps[256] < 0.01 * rise and gaps[256] < gaps[16]


def test_attribution_refuses_a_target_that_is_not_a_digit(shipped, image):
    for target in (-1, 10):
        with pytest.raises(ValueError, match="0..9"):
            gradient_x_input(shipped["cnn"], image, target)
        with pytest.raises(ValueError, match="0..9"):
            integrated_gradients(shipped["cnn"], image, target)
        with pytest.raises(ValueError, match="0..9"):
            occlusion(shipped["cnn"], image, target)


@pytest.mark.parametrize("name", ["lenet5", "cnn"])
def test_occlusion_is_the_probability_lost_under_each_patch(shipped, name):
    model = shipped[name]
    corner = np.zeros((28, 28), np.float32)
    corner[1:6, 2:5] = 1.0  # ink in the top-left corner only: patches from row or column 6 on cover blank paper
    o = occlusion(model, corner)
    probs = torch.softmax(logits_of(model, [corner])[0] / model.temperature, 0)  # the probability the app shows
    # float32 throughout: one image in a batch of 65 and the same image alone may take different kernels (~1e-6 apart)
    assert o.target == int(probs.argmax()) and o.probability == pytest.approx(float(probs[o.target]), abs=1e-5)
    assert (o.grid.shape, o.drop.shape, o.patch, o.stride) == ((8, 8), (28, 28), 7, 3)  # starts 0, 3, …, 21
    assert np.abs(o.grid[2:, :]).max() < 1e-6 and np.abs(o.grid[:, 2:]).max() < 1e-6
    assert np.abs(o.drop[12:, :]).max() < 1e-6 and np.abs(o.drop[:, 12:]).max() < 1e-6
    # The patches over the ink: the drop is the model's own probability with the patch blanked.
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        covered = corner.copy()
        covered[3 * i:3 * i + 7, 3 * j:3 * j + 7] = 0
        p = torch.softmax(logits_of(model, [covered])[0] / model.temperature, 0)[o.target]
        assert o.grid[i, j] == pytest.approx(o.probability - float(p), abs=1e-5)
    assert o.drop[0, 0] == pytest.approx(o.grid[0, 0], abs=1e-6)  # pixel (0, 0): only the first patch covers it
    assert o.drop[3, 3] == pytest.approx(o.grid[:2, :2].mean(), abs=1e-6)


def test_occlusion_grid_follows_patch_and_stride(shipped, image):
    model = shipped["cnn"]
    o = occlusion(model, image, target=2, patch=5, stride=4)  # starts 0, 4, …, 20
    assert (o.target, o.grid.shape, o.patch, o.stride) == (2, (6, 6), 5, 4)
    covered = image.copy()
    covered[8:13, 12:17] = 0
    p = torch.softmax(logits_of(model, [image, covered]) / model.temperature, 1)[:, 2]
    assert o.grid[2, 3] == pytest.approx(float(p[0] - p[1]), abs=1e-5)
    for patch, stride in [(0, 3), (29, 3), (7, 0)]:
        with pytest.raises(ValueError, match="patch and stride"):
            occlusion(model, image, patch=patch, stride=stride)
