"""digits.inside, digits.explain and digits.robustness against references written here: a forward pass by
hand with torch.nn.functional, the models' docstring tables, torch.autograd, and the models themselves."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from digits import build_model, classify, count_parameters, load_checkpoint, to_mnist
from digits.explain import gradient_x_input, integrated_gradients, occlusion
from digits.handdrawn import draw
from digits.inside import INPUT, explain_number, filters, network_input, operations, trace
from digits.models import LeNet5, SmallCNN
from digits.robustness import ANGLES, SCALES, SHIFTS, robustness

MEAN, STD = 0.1307, 0.3081  # MNIST's pixel statistics, as pytorch/examples normalises


@pytest.fixture(scope="module")
def shipped():
    return {name: load_checkpoint(f"checkpoints/{name}.pt")[0] for name in ("lenet5", "cnn")}


def untrained(name: str):
    torch.manual_seed(0)
    return build_model(name).eval()


def model_of(shipped, name: str, trained: bool):
    return shipped[name] if trained else untrained(name)


@pytest.fixture(scope="module")
def drawing():
    return draw(7, np.random.default_rng(0)).image


@pytest.fixture(scope="module")
def image(drawing, shipped):
    """A drawn 7 as the network reads it: (28, 28) in [0, 1]."""
    return classify(shipped["lenet5"], drawing).input


MODELS = pytest.mark.parametrize("name, trained", [("lenet5", True), ("lenet5", False), ("cnn", True), ("cnn", False)])


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


def standardised(image: np.ndarray) -> torch.Tensor:
    return ((torch.tensor(image, dtype=torch.float64) - MEAN) / STD).view(1, 1, 28, 28)


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
            changed = (linear(after, layer)[(slice(None), *position)] - linear(before, layer)[(0, *position)]).abs()
            changed = changed.view(28, 28).numpy() > 1e-12
            assert not (changed & ~inside).any(), (layer, position)
            if name == "lenet5":  # tanh and average pooling: every pixel of the field has its say
                assert (changed == inside).all(), (layer, position)
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

def logits_of(model, images: list[np.ndarray]) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.cat([standardised(i) for i in images]).float()).double()


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
    # the small CNN): 16 steps leave a gap of up to ~20 % of the rise for LeNet-5 (~2 % for the small
    # CNN) on drawings like this one, which more steps close.
    model = shipped[name]
    logits = logits_of(model, [image, blank])
    digit = int(logits[0].argmax())
    rise = float(logits[0, digit] - logits[1, digit])
    gaps = {}
    for steps in (16, 128):
        a = integrated_gradients(model, image, steps=steps)
        assert a.target == digit and a.values.shape == (28, 28)
        assert a.gap == pytest.approx(float(a.values.astype(np.float64).sum()) - rise, abs=1e-4)
        gaps[steps] = abs(a.gap)
    assert rise > 5 and gaps[16] < 0.2 * rise
    assert gaps[128] < 0.01 * rise and gaps[128] < gaps[16]


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


# ---- robustness ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lenet5", "cnn"])
def test_robustness_reads_the_unchanged_drawing_as_classify_does(shipped, drawing, name):
    model = shipped[name]
    r = robustness(model, drawing)
    p = classify(model, drawing)
    centre = [(r.shift, (SHIFTS.index(0), SHIFTS.index(0))), (r.rotation, (0, ANGLES.index(0))),
              (r.scale, (0, SCALES.index(1.0)))]
    for sweep, cell in centre:
        assert sweep.centred.digit[cell] == p.digit
        assert sweep.centred.confidence[cell] == pytest.approx(p.probs.max(), abs=1e-5)
        np.testing.assert_allclose(sweep.centred.inputs[cell], p.input, atol=1e-6)
    for sweep, rows, columns in [(r.shift, SHIFTS, SHIFTS), (r.rotation, (0,), ANGLES), (r.scale, (0,), SCALES)]:
        assert (sweep.rows, sweep.columns) == (tuple(rows), tuple(columns))
        for readings in (sweep.centred, sweep.plain):
            assert readings.digit.shape == readings.confidence.shape == (len(rows), len(columns))
            assert readings.inputs.shape == (len(rows), len(columns), 28, 28)
            assert ((readings.digit >= 0) & (readings.digit <= 9)).all()
            assert ((readings.confidence > 0.1) & (readings.confidence <= 1)).all()


def test_robustness_moves_the_ink_as_pillow_does(shipped):
    """Each version, read plainly (the canvas resized to 28×28), is the canvas shifted with numpy, or turned
    and scaled about its centre of mass by Pillow, then resized; read centred, it is to_mnist of that."""
    ink = np.zeros((280, 280), np.uint8)
    ink[100:180, 60:140] = 255   # a heavy square left of the middle…
    ink[130:150, 140:220] = 255  # …and an arm to its right
    canvas = np.dstack([ink, ink, ink, np.full_like(ink, 255)])
    r = robustness(shipped["cnn"], canvas, shifts=(0, 4), angles=(0, 30, -15), scales=(0.5, 1.25))
    x = ink.astype(np.float32) / 255
    cy, cx = [float((x.sum(axis) * np.arange(280)).sum() / x.sum()) for axis in (1, 0)]
    paper = Image.fromarray(x, mode="F")
    centre = (cx + 0.5, cy + 0.5)  # Pillow's coordinates: pixel (0, 0) spans 0..1
    # 4 px of 28: 40 of 280
    expected = [(r.shift, (1, 0), np.roll(x, 40, axis=0)), (r.shift, (0, 1), np.roll(x, 40, axis=1))]
    for j, angle in enumerate(r.rotation.columns):
        expected.append((r.rotation, (0, j), paper.rotate(angle, Image.BILINEAR, center=centre)))  # anticlockwise
    for j, scale in enumerate(r.scale.columns):
        about = (1 / scale, 0, centre[0] * (1 - 1 / scale), 0, 1 / scale, centre[1] * (1 - 1 / scale))  # output → input
        expected.append((r.scale, (0, j), paper.transform(paper.size, Image.AFFINE, about, Image.BILINEAR)))
    for sweep, cell, moved in expected:
        moved = np.array(moved, np.float32)
        assert moved.sum() > 1000, (sweep.name, cell)
        resized = F.interpolate(torch.from_numpy(moved)[None, None], size=(28, 28), mode="bilinear",
                                antialias=True)[0, 0]
        np.testing.assert_allclose(sweep.plain.inputs[cell], resized.clamp(0, 1).numpy(), atol=1e-5,
                                   err_msg=f"{sweep.name} {cell}")
        np.testing.assert_allclose(sweep.centred.inputs[cell], to_mnist(moved), atol=1e-4,
                                   err_msg=f"{sweep.name} {cell}")


def test_robustness_of_a_blank_drawing_is_none(shipped):
    assert robustness(shipped["cnn"], np.zeros((280, 280, 4), np.uint8)) is None                   # transparent
    assert robustness(shipped["cnn"], np.dstack([np.zeros((280, 280, 3), np.uint8),
                                                 np.full((280, 280), 255, np.uint8)])) is None      # black paper
