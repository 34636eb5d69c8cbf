"""The Losses page. Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""


import pytest
import torch

from tests.app.apptest import open_page
from tests.helpers import draw_digit
from webapp import resources


def test_losses_page_matches_torch_to_rounding_and_starts_untrained_near_ln_10(app):
    at = open_page(app, "losses")
    table = at.table[0].value
    for column, digits in (("float32 (training's precision)", 7), ("float64", 16)):
        hand, torch_value, difference, step, verdict, _ = table[column].tolist()
        assert float(difference) <= 8 * float(step)  # a few rounding steps at most
        assert verdict.startswith("yes: ") and "rounding steps apart" in verdict  # said in words
        assert len(hand.replace("0.", "").lstrip("0").replace(".", "")) <= digits  # no more digits than the type holds
    at.radio(key="loss_weights").set_value("untrained").run()
    at.number_input(key="loss_batch").set_value(2).run()
    assert not at.exception
    start = float(at.table[0].value["float64"].iloc[0])
    assert abs(start - 2.3026) < 0.1  # ln 10: the untrained network finds every class about equally likely


def test_the_losses_of_your_drawing_with_the_label_you_choose(app):
    from digits.reading import drawing_logits

    at = open_page(app, "losses")
    image = draw_digit("ring")
    at.session_state["drawing"] = image  # what the Draw page keeps
    at.run()
    at.radio(key="loss_source").set_value("drawing").run()
    guess = int(drawing_logits(resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0], image)[1].argmax())
    assert at.number_input(key="loss_label").value == guess  # it starts from what the network read
    at.number_input(key="loss_label").set_value(3).run()
    assert not at.exception
    logits = drawing_logits(resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0], image)[1].double()
    expected = -torch.log_softmax(logits, dim=1)[0, 3].item()
    assert float(at.table[0].value["float64"].iloc[0]) == pytest.approx(expected, rel=1e-9)
    assert any("your drawing, labelled **3**" in m.value for m in at.markdown)
    at.number_input(key="loss_label").set_value(guess).run()  # the network's own answer: a tiny loss from big scores
    assert all(v.startswith("yes: ") for v in at.table[0].value.iloc[4]), at.table[0].value.iloc[4].tolist()
