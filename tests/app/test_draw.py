"""The Draw page. Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""

import io
from contextlib import closing

import numpy as np
import pytest
from PIL import Image

from digits import classify, load_checkpoint
from tests.app.apptest import canvas_value, open_page, shown
from tests.helpers import draw_digit
from webapp import resources


def test_draw_page_says_draw_a_digit_when_empty(app):
    at = open_page(app, "draw")
    assert any("Draw a digit" in i.value for i in at.info)


def test_draw_page_classifies_an_injected_drawing(app):
    at = open_page(app, "draw")
    image = draw_digit("ring")
    at.session_state["canvas-0"] = canvas_value(image)
    at.run()
    assert not at.exception
    expected = classify(resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0], image)
    html = [h.proto.body for h in at.get("html")]
    # a firm answer, or a guess greyed (the fixture's model is untrained)
    shown = [h for h in html if "class='digit" in h]
    assert shown and f">{expected.digit}</div>" in shown[0]
    assert ("class='digit guess'" in shown[0]) == (expected.unsure or expected.not_digit)
    bars = [h for h in html if "class='probs" in h]
    assert bars and bars[0].count("border-radius") == 10  # one bar per digit
    assert ("class='probs greyed'" in bars[0]) == expected.flagged  # a guess it does not give is grey there too


def test_one_tap_keeps_the_drawing_once_with_its_label_and_a_second_tap_relabels_it(app, tmp_path):
    from digits import drawings

    at = open_page(app, "draw")
    image = draw_digit("ring")
    at.session_state["canvas-0"] = canvas_value(image)
    at.run()
    expected = classify(resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0], image)
    (pills,) = at.pills
    # right, 9 others, not a digit
    assert pills.options[0] == f"✓ Right, it is a {expected.digit}" and len(pills.options) == 11
    assert any("anonymous id for this browser session" in c.value for c in at.caption)
    pills.set_value("right").run()
    assert not at.exception
    assert any(f"Kept as {expected.digit}" in s.value and "1 drawing in" in s.value for s in at.success)
    at.run()  # the same drawing again: not stored twice
    other = 3 if expected.digit != 3 else 4
    at.pills[0].set_value(other).run()
    assert any(f"Kept as {other}" in s.value for s in at.success)
    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        (d,) = drawings.drawings(db)
        canvas = Image.open(io.BytesIO(drawings.png(db, d.id)))
    assert (d.label, d.predicted, d.model) == (other, expected.digit, "cnn.pt")
    assert d.confidence == pytest.approx(expected.confidence) and len(d.session) == 32
    np.testing.assert_array_equal(d.pixels, (expected.input * 255).round().astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(canvas), image)  # the canvas as drawn, RGBA

    at.session_state["canvas-0"] = canvas_value(draw_digit("bar"))  # a new drawing is a new one to keep
    at.run()
    at.pills[0].set_value(drawings.NOT_A_DIGIT).run()
    assert any("Kept as not a digit" in s.value and "2 drawings" in s.value for s in at.success)


def test_a_refused_drawing_is_one_line_and_nothing_is_kept(app, tmp_path, monkeypatch):
    from digits import drawings

    monkeypatch.setattr(drawings, "MAX_DRAWINGS", 0)
    at = open_page(app, "draw")
    at.session_state["canvas-0"] = canvas_value(draw_digit("ring"))
    at.run()
    at.pills[0].set_value(drawings.NOT_A_DIGIT).run()
    assert not at.exception and not at.success
    (error,) = at.error
    assert shown(error.value).startswith("Not kept: the room's collection is full") and "\n" not in error.value


@pytest.mark.parametrize("box, advice", [((120, 120, 160, 160), "drawing the digit larger"),
                                         ((20, 20, 260, 260), "still has to choose one of 0–9")])
def test_an_unsure_answer_gives_advice_that_fits_the_drawing(app, box, advice):
    at = open_page(app, "draw")  # the fixture's model is untrained: unsure of everything
    at.session_state["canvas-0"] = canvas_value(draw_digit("ring", box=box))
    at.run()
    assert not at.exception
    (warning,) = at.warning
    assert warning.value.startswith("Not sure") and advice in warning.value
    guess = classify(resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0], draw_digit("ring", box=box))
    (answer,) = [h.proto.body for h in at.get("html") if "class='unsure'" in h.proto.body]  # in the headline, greyed
    assert f"opacity:.5'>{guess.digit}</div>" in answer and f"its best guess ({guess.confidence:.0%})" in answer
    assert not [h for h in at.get("html") if "class='digit'" in h.proto.body]  # no firm answer beside it


def test_a_drawing_the_detector_flags_says_not_a_digit_and_greys_the_guess(app, tmp_path):
    from digits import drawings
    from digits.checkpoint import amend_checkpoint
    from digits.detector import feature_size
    from tests.helpers import a_detector

    path = resources.CHECKPOINTS / "cnn.pt"  # the fixture's model, now with a detector that flags everything
    amend_checkpoint(path, {"detector_threshold": -1e4},
                     detector=a_detector(feature_size(load_checkpoint(path)[0]), -1e4).tensors())
    at = open_page(app, "draw")
    # small, and the untrained model is unsure: still no "draw larger"
    image = draw_digit("ring", box=(120, 120, 160, 160))
    at.session_state["canvas-0"] = canvas_value(image)
    at.run()
    assert not at.exception
    guess = classify(resources.load_model(path)[0], image)
    assert guess.not_digit and guess.unsure
    html = [h.proto.body for h in at.get("html")]
    (answer,) = [h for h in html if "class='not-digit'" in h]
    # the guess, greyed
    assert "That does not look like a digit" in answer and f"opacity:.5'>{guess.digit}</div>" in answer
    assert not at.warning  # not the unsure advice
    at.pills[0].set_value("right").run()  # right: it is not a digit
    assert any("Kept as not a digit" in s.value for s in at.success)
    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        (d,) = drawings.drawings(db)
    assert d.label == drawings.NOT_A_DIGIT

