"""digits.reading: classify reads a drawing's 28×28 input and its one-pixel shifts, averaged, at the model's
temperature; read_inputs reads a batch the same way."""

import numpy as np
import pytest
import torch

from digits import build_model, classify, to_mnist
from digits.reading import VIEWS, read_inputs
from tests.helpers import draw_digit


def nine_view_logits(model, x: np.ndarray) -> torch.Tensor:
    """The mean logits of a 28×28 input and of it moved one pixel each way, blank paper let in: written out here
    with numpy, apart from digits.reading.views."""
    views = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            moved = np.zeros_like(x)
            moved[max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)] = x[max(-dy, 0):28 - max(dy, 0),
                                                                              max(-dx, 0):28 - max(dx, 0)]
            views.append((moved - 0.1307) / 0.3081)
    with torch.no_grad():
        return model.eval()(torch.from_numpy(np.stack(views)).view(9, 1, 28, 28)).double().mean(0, keepdim=True)


def test_classify_reads_the_input_first_then_its_eight_one_pixel_shifts():
    assert VIEWS[0] == (0, 0)  # the view the not-a-digit detector reads
    assert sorted(VIEWS) == [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def test_reading_no_inputs_gives_no_answers():
    torch.manual_seed(0)
    answers = read_inputs(build_model("cnn"), torch.zeros(0, 1, 28, 28))
    assert answers.probs.shape == (0, 10) and answers.not_digit.shape == (0,) and answers.flagged.shape == (0,)


def test_classify_returns_probabilities_and_what_the_network_saw():
    torch.manual_seed(0)
    model = build_model("lenet5")
    image = draw_digit("ring")
    p = classify(model, image)
    assert p.digit in range(10) and p.probs.shape == (10,) and np.isclose(p.probs.sum(), 1)
    assert np.array_equal(p.input, to_mnist(image))
    assert np.allclose(p.probs, torch.softmax(nine_view_logits(model, p.input), 1)[0].numpy(), atol=1e-6)
    x = torch.from_numpy((p.input - 0.1307) / 0.3081).view(1, 1, 28, 28)
    one_view = torch.softmax(model(x).double(), 1)[0].detach().numpy()
    assert not np.allclose(p.probs, one_view, atol=1e-6)  # the views are really read, not only the input itself


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_classify_divides_the_logits_by_the_models_temperature(temperature):
    torch.manual_seed(0)
    model = build_model("cnn")
    image = draw_digit("ring")
    logits = nine_view_logits(model, to_mnist(image))
    model.temperature = temperature  # as load_checkpoint sets it from a calibrated checkpoint
    p = classify(model, image)
    reference = torch.softmax(logits.double() / temperature, 1)[0].numpy()
    np.testing.assert_allclose(p.probs, reference, atol=1e-9)
    assert np.isclose(p.probs.sum(), 1) and p.digit == int(logits.argmax())  # the digit read never changes
    plain = torch.softmax(logits.double(), 1)[0].numpy().max()
    if temperature == 1.0:  # two batches computed apart: equal to rounding
        assert abs(plain - p.confidence) < 1e-9
    else:
        assert np.sign(plain - p.confidence) == np.sign(temperature - 1)  # T > 1 softens, T < 1 sharpens
