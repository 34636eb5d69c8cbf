"""digits.config_link: a run's settings in a link, each value from outside checked, the rest at their defaults."""

import pytest
from hypothesis import given, settings, strategies as st

from digits import TrainConfig
from digits.config_link import MAX_REFUSED, query_of, settings_of


def test_a_link_gives_back_the_settings_it_was_made_from():
    chosen = {"model": "cnn", "epochs": 3, "lr": 0.0012345678, "augment": True, "optimizer": "sgd"}
    query = query_of({**TrainConfig().to_dict(), **chosen})
    assert query == {"model": "cnn", "epochs": "3", "lr": "0.0012345678", "augment": "1", "optimizer": "sgd"}
    assert settings_of(query) == (chosen, [])
    assert query_of(TrainConfig().to_dict()) == {}  # the defaults: a plain address


@pytest.mark.parametrize("name, text", [
    ("epochs", "1000000000"), ("epochs", "-3"), ("epochs", "²"), ("epochs", "3.5"), ("epochs", "0x10"),
    ("lr", "nan"), ("lr", "inf"), ("lr", "1e400"), ("lr", "-1"), ("model", "vgg"), ("model", "CNN"),
    ("batch_size", "abc"), ("batch_size", "9" * 10_000), ("augment", "maybe"), ("optimizer", "<script>"),
])
def test_a_bad_or_hostile_value_keeps_the_default_and_is_named(name, text):
    found, refused = settings_of({name: text, "epochs" if name != "epochs" else "lr": "2" if name != "epochs"
                                  else "0.05"})
    assert name not in found and len(found) == 1
    assert len(refused) == 1 and refused[0].startswith(f"{name}=") and len(refused[0]) < 40


def test_what_belongs_to_this_machine_or_is_unknown_is_not_taken_from_a_link():
    found, refused = settings_of({"start_from": "/etc/passwd", "device": "cuda", "rm -rf": "1", "epochs": "2"})
    assert found == {"epochs": 2}
    assert refused == ["'start_from' is not a setting", "'device' is not a setting", "'rm -rf' is not a setting"]


def test_many_bad_names_are_counted_not_listed():
    found, refused = settings_of({f"x{k}": "1" for k in range(10_000)})
    assert found == {} and len(refused) == MAX_REFUSED + 1 and refused[-1] == "and 95 more"  # the first 100 read


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["model", "epochs", "lr", "batch_size", "augment", "momentum", "dropout",
                                        "weight_decay", "optimizer", "eval_every", "x"]) | st.text(max_size=8),
                       st.text(max_size=40)))
def test_any_query_sets_only_settings_that_train(query):
    found, refused = settings_of(query)
    for name, value in found.items():
        TrainConfig.from_dict({name: value})  # each one valid as the Start button checks
    assert len(found) + len(refused) <= len(query) + 1


def test_a_built_network_travels_in_a_link_and_a_hostile_one_is_refused():
    layers = "conv 8 3 stride 2, batchnorm, gelu, flatten, linear 10"
    query = query_of({**TrainConfig().to_dict(), "model": "built", "layers": layers, "dataset": "fashion"})
    assert query == {"dataset": "fashion", "model": "built", "layers": layers}
    assert settings_of(query) == ({"dataset": "fashion", "model": "built", "layers": layers}, [])
    for hostile in ["conv 1000000000 3, flatten, linear 10", "relu, " * 400 + "linear 10", "conv 8 3, linear 10",
                    "<img src=x onerror=alert(1)>", "conv 8 3, flatten, linear 10" + "\u00a0" * 3]:
        found, refused = settings_of({"model": "built", "layers": hostile, "epochs": "2"})
        assert found == {"epochs": 2} and [r.split("=")[0] for r in refused] == ["model", "layers"]
        assert all(len(r) < 40 for r in refused)
    # written another way, the same network: the link's text is taken as the form writes it
    assert settings_of({"model": "built", "layers": "CONV 8 3;flatten;linear 10"})[0]["layers"] == \
        "conv 8 3, flatten, linear 10"
