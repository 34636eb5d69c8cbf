"""The Train page's network builder (webapp.builder): start from a shipped network or blank, add, move and remove
layers, each change showing the shapes and parameters at once and a network that does not work out in one line.
Through AppTest."""

from digits import arch
from digits.models import LeNet5
from tests.app.apptest import open_page, shown


def building(app):
    at = open_page(app, "train")
    at.selectbox(key="cfg_model").set_value("built").run()
    assert not at.exception, at.exception
    return at


def table(at) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def verdict(at) -> str:
    return " ".join(shown(e.value) for e in [*at.error, *at.success])


def test_starting_from_lenet5_shows_its_table_and_its_61706_parameters(app):
    at = building(app)
    at.button(key="builder_start_LeNet-5").click().run()
    rows = table(at)
    assert [r["output"] for r in rows][:3] == ["1 × 28 × 28", "1 × 32 × 32", "6 × 28 × 28"]
    assert sum(r["parameters"] for r in rows) == 61_706 and "61,706 parameters" in verdict(at)
    assert at.session_state["cfg_layers"] == arch.text(LeNet5.SPEC)
    assert at.selectbox(key="cfg_model").value == "built"  # the choice's words do not follow the count


def test_add_move_and_remove_layers_with_shapes_and_parameters_at_once(app):
    at = building(app)
    at.button(key="builder_start_Blank").click().run()
    assert at.session_state["cfg_layers"] == "flatten, linear 10" and "7,850 parameters" in verdict(at)
    at.selectbox(key="builder_kind").set_value("conv").run()
    at.number_input(key="builder_channels").set_value(4).run()
    at.selectbox(key="builder_where").set_value(0).run()
    at.button(key="builder_add").click().run()
    assert at.session_state["cfg_layers"] == "conv 4 3, flatten, linear 10"
    assert [r["output"] for r in table(at)] == ["1 × 28 × 28", "4 × 26 × 26", "2704", "10"]
    assert f"{40 + 2704 * 10 + 10:,} parameters" in verdict(at)
    at.selectbox(key="builder_kind").set_value("relu").run()
    at.selectbox(key="builder_where").set_value(1).run()
    at.button(key="builder_add").click().run()
    assert at.session_state["cfg_layers"] == "conv 4 3, relu, flatten, linear 10"
    at.selectbox(key="builder_at").set_value(2).run()  # the flatten, moved before the convolution: it breaks
    at.button(key="builder_up").click().run()
    at.button(key="builder_up").click().run()
    assert at.session_state["cfg_layers"] == "flatten, conv 4 3, relu, linear 10"
    assert "Not trainable yet: layer 2 (conv 4 @ 3×3) needs an image, gets 784 flat values" in verdict(at)
    at.button(key="builder_remove").click().run()  # the flatten goes: the linear layer now misses one
    assert "layer 3 (linear 10) needs a flat input, gets 4 × 26 × 26: add a flatten before it" in verdict(at)


def test_text_that_does_not_parse_is_refused_in_one_line_and_the_network_kept(app):
    at = building(app)
    before = at.session_state["cfg_layers"]
    for text in ["conv 1000000000 3, flatten, linear 10", "conv -1 3", "<b>x</b>", "relu, " * 5000]:
        at.text_area(key="builder_text").set_value(text).run()
        assert not at.exception and at.session_state["cfg_layers"] == before
        (said,) = [shown(w.value) for w in at.warning]
        assert said.startswith("Not taken:") and "\n" not in said
    at.text_area(key="builder_text").set_value("conv 8 3 stride 2\nrelu\nflatten\nlinear 10").run()
    assert at.session_state["cfg_layers"] == "conv 8 3 stride 2, relu, flatten, linear 10"
    assert [r["output"] for r in table(at)][1] == "8 × 13 × 13"


def test_a_built_network_that_does_not_work_out_does_not_start(app):
    at = building(app)
    at.session_state["presenter"] = True
    at.button(key="builder_start_Blank").click().run()
    at.selectbox(key="builder_at").set_value(0).run()
    at.button(key="builder_remove").click().run()
    [b for b in at.button if b.label.endswith("Start training")][0].click().run()
    assert any("Cannot start: layer 1 (linear 10) needs a flat input" in shown(e.value) for e in at.error)


def test_a_layer_added_after_starting_from_lenet5_goes_before_its_output(app):
    at = building(app)
    at.selectbox(key="builder_where").set_value(2).run()  # somewhere in the starter network
    at.button(key="builder_start_LeNet-5").click().run()
    at.selectbox(key="builder_kind").set_value("dropout").run()
    at.button(key="builder_add").click().run()
    assert at.session_state["cfg_layers"].endswith("linear 84, tanh, dropout 0.25, linear 10")


def test_a_link_with_layers_but_not_the_network_they_build_sets_nothing_hidden(app):
    app.query_params.update({"layers": "conv 4 3, flatten, linear 10", "epochs": "2"})
    at = open_page(app, "train")
    assert at.selectbox(key="cfg_model").value == "lenet5" and "cfg_layers" not in at.session_state
    assert "layers='conv 4 3, flatten, l'" in " ".join(shown(i.value) for i in at.info)


def test_inside_looks_into_a_built_network_without_convolutions(app):
    at = building(app)
    at.text_area(key="builder_text").set_value("flatten, linear 64, relu, linear 10").run()
    at.session_state["inside_source"], at.session_state["inside_image"] = "untrained", "test"
    at.session_state["inside_untrained"] = "built"
    at = open_page(at, "inside")
    assert [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**linear")] == ["linear 1", "linear 2"]
    assert at.selectbox(key="inside_layer").options == ["linear 1", "linear 2"]
