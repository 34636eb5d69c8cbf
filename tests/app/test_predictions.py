"""The Predictions page. Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""

import re

from tests.app.apptest import open_page


def test_predictions_page_shows_a_batch_and_filters(app):
    at = open_page(app, "predictions")
    assert at.metric[0].label == "Test accuracy"
    assert "Batch 1 of 8 · 200 images match" in [c.value for c in at.caption]
    at.toggle(key="only_mistakes").set_value(True).run()
    assert not at.exception
    mistakes = int(at.metric[1].value.split(" of ")[0].replace(",", ""))
    assert f"{mistakes} images match" in " ".join(c.value for c in at.caption)
    at.selectbox(key="true_digit").set_value(3).run()
    assert not at.exception


def test_a_confusion_matrix_cell_shows_its_images_and_one_closer(app):
    at = open_page(app, "predictions")
    true, pred = map(int, re.search(r"true (\d), predicted (\d)", at.selectbox(key="closer-batch").options[0]).groups())
    at.session_state["cell"] = (true, pred)  # what a click on that cell of the matrix leaves
    at.run()
    assert not at.exception
    heading = next(m.value for m in at.markdown if m.value.startswith(f"**True {true}, predicted {pred}:"))
    count = int(re.search(r": ([\d,]+) test", heading).group(1).replace(",", ""))
    options = at.selectbox(key="closer-cell").options
    assert count == len(options) and all(f"true {true}, predicted {pred}" in o for o in options)
    bars = [h.proto.body for h in at.get("html") if "class='probs'" in h.proto.body]
    assert len(bars) == 2  # one image closer under the batch, one under the cell
    next(b for b in at.button if "Close" in b.label).click().run()
    assert "cell" not in at.session_state and not at.exception

