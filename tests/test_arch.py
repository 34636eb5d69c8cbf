"""digits.arch and the networks built from it: the shipped networks as specs, shapes and parameters against torch's
own, the text form, hostile specs refused in one line, and a built network trained, saved, loaded, explained."""

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings, strategies as st

from digits import TrainConfig, arch, build_model, count_parameters, load_checkpoint, save_checkpoint
from digits.inside import explain_number, trace
from digits.models import BUILT, Built, LeNet5, SmallCNN

ROOT = Path(__file__).resolve().parents[1]
RICH = "conv 8 3 pad 1, batchnorm, gelu, maxpool 2, conv 16 3 stride 2, relu, dropout 0.25, flatten, linear 32, " \
       "tanh, linear 10"


def built(text: str, seed: int = 0) -> Built:
    torch.manual_seed(seed)
    return build_model(BUILT, text).eval()


def test_the_shipped_networks_are_specs_with_their_parameter_counts():
    assert count_parameters(LeNet5()) == arch.parameters(LeNet5.SPEC) == 61_706
    assert count_parameters(SmallCNN()) == arch.parameters(SmallCNN.SPEC) == 57_790
    # the same weights' names as every checkpoint made before the builder: the shipped files load unchanged
    assert list(LeNet5().state_dict())[::2] == ["c1.weight", "c3.weight", "c5.weight", "f6.weight", "out.weight"]
    assert list(load_checkpoint(ROOT / "checkpoints" / "cnn.pt")[0].state_dict()) == list(SmallCNN().state_dict())


@pytest.mark.parametrize("text", [RICH, arch.text(LeNet5.SPEC), "flatten, linear 10",
                                  "pad 3, conv 4 7 stride 3 pad 2, avgpool 2, flatten, linear 10"])
def test_shapes_and_parameters_are_torchs_own(text):
    model, rows = built(text), arch.rows(arch.parse(text))
    x = torch.zeros(2, 1, 28, 28)
    for stage, row in zip(model.stages(), rows):
        x = stage.fn(x)
        assert tuple(x.shape[1:]) == row.shape, row
    assert sum(r.parameters for r in rows) == count_parameters(model)
    assert arch.text(arch.parse(text)) == text  # the text form is canonical


def test_text_and_json_are_the_same_network():
    spec = arch.parse(RICH)
    assert arch.parse(json.dumps(spec)) == spec
    assert arch.parse("CONV 8 3 PAD 1\n batchnorm; gelu, maxpool 2, conv 16 3 stride 2, relu, dropout 0.25,"
                      " flatten, linear 32, tanh, linear 10") == spec


HOSTILE = {
    "conv 1000000000 3, flatten, linear 10": "layer 1 (conv): channels must be a whole number from 1 to 512",
    "conv 8 -3, flatten, linear 10": "layer 1 (conv): '-3' is not a plain number",
    "relu, " * 10_000 + "linear 10": "at most 2,000 characters",
    "relu, " * 45 + "flatten, linear 10": "a network has 1 to 40 layers, got 47",
    "conv 8 3, linear 10": "layer 2 (linear 10) needs a flat input, gets 8 × 26 × 26: add a flatten before it",
    "flatten, conv 8 3, linear 10": "layer 2 (conv 8 @ 3×3) needs an image, gets 784 flat values",
    "conv 8 11, conv 8 11, conv 8 11, flatten, linear 10": "layer 3 (conv 8 @ 11×11) gets 8×8, smaller than its "
                                                           "11×11 window",
    "flatten, linear 84": "the last layer must be linear 10",
    "flatten, linear 4096, linear 4096, linear 10": "parameters: at most 1,000,000",
    "conv 200 1, conv 200 11 pad 5, maxpool 4, flatten, linear 10": "parameters: at most 1,000,000",
    "conv 64 3 pad 1, conv 64 5 pad 2, maxpool 4, flatten, linear 10": "multiply-adds an image: at most 10,000,000",
    "conv 512 3 pad 1, maxpool 4, flatten, linear 10": "MB at batch 256: at most 400 MB",
    '[{"layer": "flatten"}, {"layer": "linear", "width": 1' + "0" * 400 + '}]': "width must be a whole number",
    "lstm 3": "layer 1: 'lstm' is not a layer",
    "conv 8": "write a convolution as 'conv CHANNELS KERNEL [stride S] [pad P]'",
    "linear ８": "is not a plain number",  # a full-width digit: isdigit() says yes, int() would too
    "dropout 1e9, flatten, linear 10": "'1e9' is not a plain number",
    "[" * 100_000: "at most 2,000 characters",
    "[" * 900 + "]" * 900: "layer 1: not a layer (list)",
    '[{"layer": "conv", "channels": true, "kernel": 3}]': "channels must be a whole number from 1 to 512, got True",
    '[{"layer": "conv", "channels": 8.5, "kernel": 3}]': "channels must be a whole number",
    '[{"layer": "dropout", "p": NaN}]': "p must be a number from 0 to 0.9, got nan",
    '[{"layer": "linear", "width": "10"}]': "width must be a whole number from 1 to 4096, got '10'",
    '[{"layer": "linear", "width": 10, "code": "rm -rf"}]': "unknown field 'code'",
    '[{"layer": "linear", "width": 10, "key": "__class__"}]': "key must be a short plain name",
    '{"layer": "linear"}': "a network must be a list of layers, not dict",
    '[["linear", 10]]': "layer 1: not a layer (list)",
    "[1, 2": "does not parse",
}


@pytest.mark.parametrize("text, words", list(HOSTILE.items()), ids=range(len(HOSTILE)))
def test_hostile_specs_are_refused_in_one_line(text, words):
    with pytest.raises(ValueError) as e:
        arch.parse(text)
    assert words in str(e.value) and "\n" not in str(e.value) and len(str(e.value)) < 200
    with pytest.raises(ValueError):  # the same through a run's config, as a form, a link or a checkpoint gives it
        TrainConfig(model=BUILT, layers=text[:2000])


LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-10**500, 10**500), st.floats(allow_nan=True),
                   st.text(max_size=8), st.sampled_from(list(arch.FIELDS)))
JSONISH = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(["layer", "channels", "kernel", "stride", "padding", "size", "p", "width", "key", "group", "x"]),
    inner, max_size=5), max_leaves=30)


@settings(max_examples=300, deadline=2000)
@given(st.lists(st.dictionaries(st.sampled_from(["layer", "channels", "kernel", "size", "p", "width", "stride"]),
                                LEAVES | st.integers(0, 600), max_size=4), max_size=12) | JSONISH)
def test_any_json_is_a_network_within_bounds_or_one_line(value):
    try:
        spec = arch.parse(json.dumps(value, allow_nan=True))
    except ValueError as e:
        assert "\n" not in str(e)
        return
    assert arch.parameters(spec) <= arch.MAX_PARAMETERS
    assert spec[-1] == {"layer": "linear", "width": 10} | {k: v for k, v in spec[-1].items() if k in arch.NAMES}


@settings(max_examples=200, deadline=2000)
@given(st.text(alphabet="conv relu maxpool linear flatten dropout pad stride 0123456789.,\n-", max_size=120))
def test_any_text_is_a_network_or_one_line(text):
    try:
        spec = arch.parse(text)
    except ValueError as e:
        assert "\n" not in str(e)
        return
    assert arch.parse(arch.text(spec)) == spec


def test_a_built_network_trains_saves_loads_and_is_explained(tmp_path, image):
    model = built(RICH).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(32, 1, 28, 28), torch.arange(32) % 10
    for _ in range(3):  # batch norm's running statistics move off their defaults
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    path = save_checkpoint(tmp_path / "mine.pt", BUILT, model, config=TrainConfig(model=BUILT, layers=RICH).to_dict())
    loaded, meta = load_checkpoint(path)
    assert meta["config"]["layers"] == RICH and isinstance(loaded, Built)
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    t = trace(loaded, image)
    assert [a.layer for a in t.layers] == ["conv 1", "pool 1", "conv 2", "flatten", "linear 1", "linear 2"]
    values = {a.layer: a.values for a in t.layers}
    for layer, position in [("conv 1", (3, 0, 5)), ("conv 1", (7, 13, 13)), ("pool 1", (2, 4, 4)),
                            ("conv 2", (9, 3, 5)), ("linear 1", (5,)), ("linear 2", (4,))]:
        c = explain_number(loaded, image, layer, position)
        assert c.value == pytest.approx(float(values[layer][position]), abs=1e-5), (layer, position)
    assert explain_number(loaded, image, "conv 1", (0, 0, 0)).function == "batch norm, GELU"


def test_a_checkpoint_of_a_built_network_without_its_layers_is_refused_in_one_line(tmp_path):
    from digits import CheckpointError

    path = save_checkpoint(tmp_path / "x.pt", BUILT, built("flatten, linear 10"), config={})
    with pytest.raises(CheckpointError, match="a built network needs its layers"):
        load_checkpoint(path)
    path = save_checkpoint(tmp_path / "y.pt", BUILT, built("flatten, linear 10"),
                           config={"model": BUILT, "layers": "flatten, linear 20, linear 10"})
    with pytest.raises(CheckpointError, match="weights do not fit"):
        load_checkpoint(path)


def test_the_first_layer_is_a_layer_of_its_own_on_the_inside_page():
    assert [r.group for r in arch.rows(arch.parse("relu, flatten, linear 10"))] == ["relu 1", "flatten", "linear 1"]
    assert arch.rows(LeNet5.SPEC)[0].group == "input"  # LeNet-5's padding, named so


def test_a_run_of_a_built_network_is_bounded_at_its_own_batch_size():
    layers = "conv 32 3 pad 1, relu, flatten, linear 10"
    assert TrainConfig(model=BUILT, layers=layers, batch_size=256).layers == layers
    with pytest.raises(ValueError, match="MB at batch 8000: at most 1,000 MB"):
        TrainConfig(model=BUILT, layers=layers, batch_size=8000, val_size=1000)


def test_wide_networks_are_read_in_smaller_batches():
    from digits.models import inference_batch

    assert inference_batch(LeNet5(), 4000) == 4000
    wide = built("conv 128 1, maxpool 4, flatten, linear 10")
    assert inference_batch(wide, 2000) == 256 * 2**20 // (8 * 128 * 28 * 28) < 2000


def test_read_takes_json_or_text_files(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(arch.parse(RICH), indent=2))
    (tmp_path / "b.txt").write_text(RICH.replace(", ", "\n"))
    assert arch.read(tmp_path / "a.json") == arch.read(tmp_path / "b.txt") == RICH
    (tmp_path / "c.bin").write_bytes(b"\xff\xfe" * 10)
    (tmp_path / "d.json").write_text(" " * (arch.MAX_FILE + 1))
    (tmp_path / "e.json").write_text("[" * 50_000 + "]" * 50_000)
    for name, words in [("c.bin", "not text"), ("d.json", "at most 100,000 bytes"), ("none", "cannot read"),
                        ("e.json", "nested too deeply")]:
        with pytest.raises(ValueError, match=words):
            arch.read(tmp_path / name)
