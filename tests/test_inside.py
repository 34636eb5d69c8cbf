"""digits.inside against references written here: a forward pass by hand with torch.nn.functional, the
models' docstring tables, and the models themselves. (About 275 lines: the forward pass by hand, the reference,
is a fifth of it.)"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from digits import count_parameters
from digits.inside import INPUT, explain_number, filters, network_input, operations, trace
from digits.models import LeNet5, SmallCNN
from tests.helpers import MEAN, MODELS, STD, model_of, standardised, untrained

# ---- a forward pass by hand ------------------------------------------------------------------------

def by_hand(model, x: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{layer: (the value its weights or pooling compute, the layer's output)} in float64, for standardised x
    (N, 1, 28, 28)."""
    w = {k: v.detach().double() for k, v in model.state_dict().items()}
    x, out = x.double(), {}
    if isinstance(model, LeNet5):
        x = F.pad(x, (2, 2, 2, 2), value=-MEAN / STD)  # the 32×32 of the paper, background around the digit
        out["input"] = (x, x)
        for layer, conv, pool in [("C1", "c1", None), ("S2", None, 2), ("C3", "c3", None), ("S4", None, 2),
                                  ("C5", "c5", None)]:
            z = F.conv2d(x, w[f"{conv}.weight"], w[f"{conv}.bias"]) if conv else F.avg_pool2d(x, pool)
            x = torch.tanh(z)
            out[layer] = (z, x)
        z = x.flatten(1) @ w["f6.weight"].T + w["f6.bias"]
        x = torch.tanh(z)
        out["F6"] = (z, x)
        z = x @ w["out.weight"].T + w["out.bias"]
        out["out"] = (z, z)
    else:
        for layer, conv in [("Conv2d-1", "conv1"), ("Conv2d-2", "conv2")]:
            z = F.conv2d(x, w[f"{conv}.weight"], w[f"{conv}.bias"])
            x = z.clamp(min=0)
            out[layer] = (z, x)
            pool = "Pool-" + layer[-1]
            x = F.max_pool2d(x, 2)
            out[pool] = (x, x)
        x = x.flatten(1)
        for i in range(1, 5):
            z = x @ w[f"fc{i}.weight"].T + w[f"fc{i}.bias"]
            x = z.clamp(min=0) if i < 4 else z
            out[f"Linear-{i}"] = (z, x)
    return out




def table(cls) -> list[dict[str, str]]:
    """The rows of a model's docstring table (the total row left out)."""
    lines = [line.strip() for line in cls.__doc__.splitlines() if line.strip().startswith("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return [dict(zip(rows[0], row)) for row in rows[2:] if row[0]]


def shape(words: str) -> tuple[int, ...]:
    return tuple(int(n) for n in words.split("×"))


# ---- trace and operations ------------------------------------------------------------------------

@MODELS
def test_trace_is_the_forward_pass_written_by_hand(shipped, image, name, trained):
    model = model_of(shipped, name, trained)
    t = trace(model, image)
    reference = by_hand(model, standardised(image))
    assert [a.layer for a in t.layers] == list(reference)
    for a in t.layers:
        assert a.values.dtype == np.float32
        np.testing.assert_allclose(a.values, reference[a.layer][1][0].numpy(), atol=1e-5, rtol=1e-4, err_msg=a.layer)
    np.testing.assert_allclose(t.input, standardised(image)[0].numpy(), atol=1e-6)
    np.testing.assert_array_equal(t.image, image)


@MODELS
def test_trace_ends_in_the_models_logits_and_their_softmax(shipped, image, name, trained):
    """…with the checkpoint's temperature (digits.calibration), as digits.classify shows them."""
    model = model_of(shipped, name, trained)
    t = trace(model, image)
    with torch.no_grad():
        logits = model(standardised(image).float())[0]
    np.testing.assert_allclose(t.layers[-1].values, logits.numpy(), atol=1e-5)
    temperature = model.temperature if trained else 1.0
    np.testing.assert_allclose(t.probs, torch.softmax(logits.double() / temperature, 0).numpy(), atol=1e-6)
    assert t.digit == int(logits.argmax())


@pytest.mark.parametrize("name, cls", [("lenet5", LeNet5), ("cnn", SmallCNN)])
def test_layers_are_the_rows_of_the_models_table(image, name, cls):
    rows = table(cls)
    t = trace(untrained(name), image)
    assert [a.layer for a in t.layers] == [r["layer"] for r in rows]
    assert [a.operation for a in t.layers] == [r["operation"] for r in rows]
    assert [a.shape for a in t.layers] == [shape(r["output"]) for r in rows]


@pytest.mark.parametrize("name, cls", [("lenet5", LeNet5), ("cnn", SmallCNN)])
def test_operations_add_up_to_the_model_and_line_up_with_the_trace(image, name, cls):
    model = untrained(name)
    ops = operations(model)
    assert sum(op.params for op in ops) == count_parameters(model)
    rows = table(cls)
    for row, activation in zip(rows, trace(model, image).layers):
        mine = [op for op in ops if op.layer == row["layer"]]
        assert ", ".join(op.operation for op in mine) == row["operation"]
        assert sum(op.params for op in mine) == int(row["params"].replace(",", ""))
        assert mine[-1].shape == activation.shape == shape(row["output"])
    # Every step's shape is what running the model's own modules one after the other gives.
    x = standardised(np.zeros((28, 28))).float()
    for op, stage in zip(ops, model.stages(), strict=True):
        x = stage.fn(x)
        assert op.shape == tuple(x.shape[1:]), op


@pytest.mark.parametrize("name", ["lenet5", "cnn"])
def test_filters_are_the_convolution_weights(shipped, name):
    model = shipped[name]
    convs = [model.c1, model.c3, model.c5] if name == "lenet5" else [model.conv1, model.conv2]
    found = filters(model)
    assert [f.layer for f in found] == (["C1", "C3", "C5"] if name == "lenet5" else ["Conv2d-1", "Conv2d-2"])
    for f, conv in zip(found, convs, strict=True):
        np.testing.assert_array_equal(f.weights, conv.weight.detach().numpy())
        np.testing.assert_array_equal(f.bias, conv.bias.detach().numpy())


def test_a_trace_keeps_its_own_copy_of_the_image(shipped, image):
    mine = image.copy()
    t = trace(shipped["cnn"], mine)
    mine[:] = 0  # the caller reuses its buffer (the next stroke)
    np.testing.assert_array_equal(t.image, image)


def test_network_input_refuses_what_is_not_a_28_by_28_image_in_0_1():
    for bad in (np.zeros((28, 27)), np.full((28, 28), 1.5), np.full((28, 28), -0.1), np.full((28, 28), np.nan)):
        with pytest.raises(ValueError, match="28×28"):
            network_input(bad)
    np.testing.assert_allclose(network_input(np.ones((28, 28)))[0, 0].numpy(), (1 - MEAN) / STD, rtol=1e-6)


# ---- explain_number ------------------------------------------------------------------------------

COMPUTED = {"lenet5": ["C1", "S2", "C3", "S4", "C5", "F6", "out"],
            "cnn": ["Conv2d-1", "Pool-1", "Conv2d-2", "Pool-2", "Linear-1", "Linear-2", "Linear-3", "Linear-4"]}


def source_values(t, source: str) -> np.ndarray:
    """The maps or units a Computation's `source` names: a layer of the trace, or the network input."""
    named = {a.layer: a.values for a in t.layers}
    return named[source] if source in named else t.input


@MODELS
def test_explain_number_lands_on_the_recorded_activation(shipped, image, name, trained):
    model = model_of(shipped, name, trained)
    t = trace(model, image)
    reference = by_hand(model, standardised(image))
    rng = np.random.default_rng(1)
    values = {a.layer: a.values for a in t.layers}
    for layer in COMPUTED[name]:
        dims = values[layer].shape
        for _ in range(12):
            position = tuple(int(rng.integers(n)) for n in dims)
            c = explain_number(model, image, layer, position)
            assert (c.layer, c.position) == (layer, position)
            assert c.value == pytest.approx(float(values[layer][position]), abs=1e-5), (layer, position)
            assert c.pre_activation == pytest.approx(float(reference[layer][0][0][position]),
                                                     abs=1e-5), (layer, position)
            # The arithmetic shown adds up, and reads the layer before and the layer's own weights.
            source = source_values(t, c.source)
            if c.patch_origin is None:  # a fully connected layer: the source's units, flattened
                np.testing.assert_allclose(c.inputs, source.reshape(-1), atol=1e-6)
            else:
                top, left = c.patch_origin
                k = c.inputs.shape[-1]
                # a convolution reads every map, pooling its own
                maps = slice(None) if c.weights is not None else position[0]
                np.testing.assert_allclose(c.inputs, source[maps, top:top + k, left:left + k], atol=1e-6)
            if c.weights is not None:
                np.testing.assert_allclose(c.products, c.inputs * c.weights, rtol=1e-6, atol=1e-7)
                assert c.pre_activation == pytest.approx(float(c.products.astype(np.float64).sum()) + c.bias, abs=1e-4)
                assert c.reduce == "sum + bias"
            else:
                assert c.reduce == ("mean" if name == "lenet5" else "max") and c.bias == 0.0
                assert c.pre_activation == pytest.approx(float(c.inputs.mean() if c.reduce == "mean"
                                                               else c.inputs.max()), abs=1e-6)
            function = {"tanh": np.tanh, "ReLU": lambda z: max(z, 0.0), None: lambda z: z}[c.function]
            assert c.value == pytest.approx(function(c.pre_activation), abs=1e-9)


def test_explain_number_reads_the_right_weights(shipped, image):
    model = shipped["lenet5"]
    c = explain_number(model, image, "C3", (5, 2, 7))
    np.testing.assert_array_equal(c.weights, model.c3.weight[5].detach().numpy())
    assert c.bias == pytest.approx(float(model.c3.bias[5].detach()))
    assert (c.source, c.patch_origin, c.inputs.shape) == ("S2", (2, 7), (6, 5, 5))
    c = explain_number(model, image, "out", (3,))
    np.testing.assert_array_equal(c.weights, model.out.weight[3].detach().numpy())
    assert (c.source, c.function, c.inputs.shape) == ("F6", None, (84,))
    c = explain_number(shipped["cnn"], image, "Conv2d-1", (4, 10, 11))
    assert (c.source, c.patch_origin, c.inputs.shape) == (INPUT, (10, 11), (1, 3, 3))


# The pixels of the 28×28 input that (row, col) of each layer depends on, worked out by hand from the
# tables: LeNet-5's C1 reads a 5×5 patch of the 32×32 padding, which starts 2 px above and left of the image.
FIELDS = {
    "lenet5": {"C1": lambda r, c: (r - 2, c - 2, r + 3, c + 3),
               "S2": lambda r, c: (2 * r - 2, 2 * c - 2, 2 * r + 4, 2 * c + 4),
               "C3": lambda r, c: (2 * r - 2, 2 * c - 2, 2 * r + 12, 2 * c + 12),
               "S4": lambda r, c: (4 * r - 2, 4 * c - 2, 4 * r + 14, 4 * c + 14), "C5": lambda r, c: (-2, -2, 30, 30)},
    "cnn": {"Conv2d-1": lambda r, c: (r, c, r + 3, c + 3), "Pool-1": lambda r, c: (2 * r, 2 * c, 2 * r + 4, 2 * c + 4),
            "Conv2d-2": lambda r, c: (2 * r, 2 * c, 2 * r + 8, 2 * c + 8),
            "Pool-2": lambda r, c: (4 * r, 4 * c, 4 * r + 10, 4 * c + 10)},
}


def linear(values: dict, layer: str) -> torch.Tensor:
    """A layer's numbers before any ReLU, whose zeros would hide a dependence: the small CNN's pooling of
    ReLUs is the ReLU of the pooled convolution."""
    if layer.startswith("Pool-"):
        return F.max_pool2d(values["Conv2d-" + layer[-1]][0], 2)
    return values[layer][0]


@pytest.mark.parametrize("name, trained", [("lenet5", False), ("lenet5", True), ("cnn", False), ("cnn", True)])
def test_the_receptive_field_is_the_pixels_that_matter(shipped, image, name, trained):
    """Each pixel of the input nudged in turn (one batch through the forward pass by hand): the number
    changes for pixels inside its field and for no pixel outside it."""
    model = model_of(shipped, name, trained)
    x = standardised(image)
    nudged = x.repeat(28 * 28, 1, 1, 1)
    nudged.view(28 * 28, 28 * 28)[torch.arange(28 * 28), torch.arange(28 * 28)] += 0.5
    before, after = by_hand(model, x), by_hand(model, nudged)
    rng = np.random.default_rng(2)
    for layer, expected in FIELDS[name].items():
        maps, h, w = before[layer][0].shape[1:]
        for position in [(0, 0, 0), (maps - 1, h - 1, w - 1)] + [tuple(int(rng.integers(n)) for n in (maps, h, w))
                                                                 for _ in range(3)]:
            field = explain_number(model, image, layer, position).field
            assert field == expected(*position[1:]), (layer, position)
            top, left, bottom, right = field
            inside = np.zeros((28, 28), bool)
            inside[max(top, 0):bottom, max(left, 0):right] = True
            change = (linear(after, layer)[(slice(None), *position)] - linear(before, layer)[(0, *position)]).abs()
            change = change.view(28, 28).numpy()
            changed = change > 1e-12
            assert not (changed & ~inside).any(), (layer, position)
            if name == "lenet5":  # tanh and average pooling: every pixel of the field has its say, however small
                # (a saturated tanh of the trained net passes some pixels' nudge on as ~1e-13: still a say)
                assert ((change > 0) == inside).all(), (layer, position)
            else:                 # max pooling listens to one pixel of each window
                assert changed.any(), (layer, position)
    for layer in ("F6", "out") if name == "lenet5" else ("Linear-1", "Linear-4"):
        assert explain_number(model, image, layer, (0,)).field == (0, 0, 28, 28)


@pytest.mark.parametrize("name, layer, position, message", [
    ("lenet5", "C7", (0, 0, 0), "no layer 'C7'"),
    ("lenet5", "input", (0, 0, 0), "no weights or pooling"),
    ("lenet5", "C1", (6, 0, 0), "outside"),
    ("lenet5", "C1", (0, 28, 0), "outside"),
    ("lenet5", "C1", (0, -1, 0), "outside"),
    ("lenet5", "C1", (0, 0), "outside"),
    ("lenet5", "F6", (84,), "outside"),
    ("lenet5", "F6", (0, 0, 0), "outside"),
    ("cnn", "Linear-4", (10,), "outside"),
    ("cnn", "C1", (0, 0, 0), "no layer 'C1'"),
])
def test_explain_number_refuses_bad_layers_and_positions(image, name, layer, position, message):
    with pytest.raises(ValueError, match=message):
        explain_number(untrained(name), image, layer, position)


# ---- attribution ---------------------------------------------------------------------------------

