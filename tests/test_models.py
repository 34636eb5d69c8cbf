import pytest
import torch
from torchinfo import summary

from digits import build_model, count_parameters
from digits.data import MNIST_MEAN, MNIST_STD
from digits.models import SHIPPED


def layer_table(model):
    """(layer class, output shape without batch, parameters) for each leaf layer, as torchinfo reports it."""
    info = summary(model, input_size=(2, 1, 28, 28), verbose=0, depth=1)
    return [(layer.class_name, tuple(layer.output_size[1:]), layer.num_params)
            for layer in info.summary_list if layer.depth == 1]


def test_lenet5_matches_the_seed_table():
    model = build_model("lenet5")
    assert count_parameters(model) == 61_706
    assert layer_table(model) == [
        ("Conv2d", (6, 28, 28), 156),
        ("Conv2d", (16, 10, 10), 2_416),
        ("Conv2d", (120, 1, 1), 48_120),
        ("Linear", (84,), 10_164),
        ("Linear", (10,), 850),
    ]


def test_small_cnn_matches_the_seed_table():
    model = build_model("cnn")
    assert count_parameters(model) == 57_790
    assert layer_table(model) == [
        ("Conv2d", (6, 26, 26), 60),
        ("Conv2d", (12, 11, 11), 660),
        ("Linear", (140,), 42_140),
        ("Linear", (80,), 11_280),
        ("Linear", (40,), 3_240),
        ("Linear", (10,), 410),
    ]


@pytest.mark.parametrize("name", SHIPPED)
def test_models_map_normalised_images_to_logits(name):
    out = build_model(name)(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 10) and out.dtype == torch.float32


def test_lenet5_pads_with_background_not_zero():
    """A blank MNIST image must look blank to C1 everywhere, padding included (the 32×32 border is paper)."""
    model = build_model("lenet5")
    seen = {}
    model.c1.register_forward_hook(lambda m, i, o: seen.setdefault("c1", o))
    blank = torch.full((1, 1, 28, 28), (0 - MNIST_MEAN) / MNIST_STD)
    model(blank)
    c1 = seen["c1"][0]
    assert torch.allclose(c1, c1[:, :1, :1].expand_as(c1), atol=1e-6)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown model 'resnet'.*lenet5"):
        build_model("resnet")


def test_eval_mode_gives_a_training_model_back_training_and_leaves_an_evaluating_one_alone():
    from digits.models import eval_mode

    model = build_model("lenet5")
    with eval_mode(model):
        assert not any(m.training for m in model.modules())
    assert all(m.training for m in model.modules())
    model.eval()
    with eval_mode(model):
        pass
    assert not any(m.training for m in model.modules())
