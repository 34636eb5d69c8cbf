"""The Inside page. Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""


import numpy as np
import pytest
import torch

from digits import build_model
from tests.app.apptest import inside_layers, open_page, shown
from tests.helpers import draw_digit
from webapp import resources


def test_inside_page_shows_every_layer_of_a_test_image_from_a_link(app):
    app.query_params["test"] = "3"
    at = open_page(app, "inside")
    assert inside_layers(at) == ["Conv2d-1", "Pool-1", "Conv2d-2", "Pool-2",
                                 "Linear-1", "Linear-2", "Linear-3", "Linear-4"]
    model = resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0]
    image = resources.test_split().images[3].numpy().astype(np.float32) / 255
    expected = int(model(((torch.from_numpy(image) - 0.1307) / 0.3081).view(1, 1, 28, 28)).argmax())
    digits = [h.proto.body for h in at.get("html") if "inside-digit" in h.proto.body]
    assert digits and f">{expected}</div>" in digits[0]
    assert [h for h in at.get("html") if "class='sweep'" in h.proto.body]  # the robustness grid
    assert any("✓" in m.value for m in at.markdown)  # the one-number arithmetic lands on the shown value


def test_inside_page_reads_the_draw_pages_drawing_and_an_untrained_network(app):
    at = open_page(app, "inside")
    assert any("Draw a digit" in i.value for i in at.info)  # nothing drawn yet
    at.session_state["drawing"] = draw_digit("ring")
    at.run()
    assert not at.exception
    assert len(inside_layers(at)) == 8
    at.segmented_control(key="inside_source").set_value("untrained").run()
    at.selectbox(key="inside_untrained").set_value("lenet5").run()
    assert not at.exception
    assert inside_layers(at) == ["C1", "S2", "C3", "S4", "C5", "F6", "out"]


def test_inside_page_steps_through_a_runs_snapshots_and_skips_broken_ones(app, tmp_path):
    from digits.runs import CONFIG, SNAPSHOTS, write_json
    from digits.snapshots import SnapshotWriter

    run = resources.RUNS / "20261123-120000"
    run.mkdir(parents=True)
    write_json(run / CONFIG, {"model": "lenet5"})
    writer = SnapshotWriter(run / SNAPSHOTS)
    torch.manual_seed(1)
    model = build_model("lenet5")
    writer.save("lenet5", model, 0, config={}, metrics={"epoch": 0})
    with torch.no_grad():
        model.c1.weight.mul_(2)
    writer.save("lenet5", model, 500, config={}, metrics={"val_acc": 0.5, "epoch": 1})
    (run / SNAPSHOTS / "it-000000250.pt").write_bytes(b"not a checkpoint")
    at = open_page(app, "inside")
    at.session_state["drawing"] = draw_digit("ring")
    at.segmented_control(key="inside_source").set_value("run").run()
    assert not at.exception
    slider = at.select_slider(key="inside_snapshot-20261123-120000")
    assert slider.value == 2  # the latest first
    assert any("iteration 500" in c.value for c in at.caption)
    slider.set_value(0).run()
    assert not at.exception
    assert any("iteration 0 (untrained)" in shown(c.value) for c in at.caption)
    slider.set_value(1).run()  # the broken file: a message, the page still there
    assert any("cannot be used" in e.value for e in at.error)



def test_the_worked_example_starts_at_a_unit_that_responds_without_saturating():
    from webapp.inside import telling_unit

    values = np.array([0.0, -1.0, 0.999, 0.3, -0.5, 0.05, 0.0, 0.031])
    assert telling_unit(values, "conv 6 @ 5×5, tanh") in (3, 4)  # not ±1 (saturated), not ~0 (blank paper)
    assert telling_unit(np.array([0.0, 8.0, 2.0, 1.0, 3.0]), "conv, ReLU") in (2, 4)  # a middle response, not 8
    assert telling_unit(np.zeros(3), "tanh") == 0


@pytest.mark.parametrize("asked", ["²", "①", "1" * 4301, "-1", "10000", " 3", "3.0", "0x10"])
def test_a_bad_test_image_number_in_the_url_is_one_line_and_the_page_works(app, asked):
    app.query_params["test"] = asked
    at = open_page(app, "inside")
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "The link asked for a test image that does not exist: the test images are numbered 0 to 9,999."]
