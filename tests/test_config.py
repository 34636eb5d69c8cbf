"""A run's settings (digits.config.TrainConfig): refused with a clear message when invalid, and the validation
interval a run without eval_every gets."""

import pytest

from digits import TrainConfig


@pytest.mark.parametrize("changes, message", [
    ({"lr": 0}, "learning rate must be above 0"),
    ({"lr": -1.0}, "learning rate"),
    ({"batch_size": 59_000}, "batch size must be from 1 to 8192"),
    ({"val_size": 50_000, "batch_size": 20_000}, "at most the 10000 training images"),
    ({"model": "resnet"}, "unknown model 'resnet'"),
    ({"optimizer": "rmsprop"}, "optimizer must be"),
    ({"epochs": 0}, "epochs must be"),
    ({"device": "tpu"}, "device must be"),
])
def test_config_refuses_bad_values_with_clear_messages(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


@pytest.mark.parametrize("share", [-0.1, 0.6, float("nan"), True])
def test_not_digit_share_is_checked(share):
    with pytest.raises(ValueError, match="not-digit share must be"):
        TrainConfig(not_digits=share)


def test_a_run_without_eval_every_is_validated_often_enough_to_draw_a_curve():
    assert TrainConfig().eval_every == 0
    assert TrainConfig().evaluation_interval(782) == 78        # 2 LeNet-5 epochs: 10 validations, not 1
    assert TrainConfig().evaluation_interval(7820) == 500      # the shipped 20-epoch recipe: the tutorial's 500
    assert TrainConfig().evaluation_interval(3) == 1
    assert TrainConfig(eval_every=40).evaluation_interval(782) == 40


def test_a_setting_applies_only_where_it_takes_part_in_the_run():
    from digits.config import applies

    assert not applies("momentum", TrainConfig(optimizer="adam").to_dict())
    assert applies("momentum", TrainConfig(optimizer="sgd").to_dict())
    assert not applies("room_share", TrainConfig().to_dict()) and applies("room_share", {"drawings": True})
    assert all(applies(f, {}) for f in ("epochs", "lr", "batch_size"))
