"""The Model page. Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""



from digits.catalog import file_sha256
from tests.app.apptest import open_page
from webapp import resources


def test_model_page_shows_the_layer_table(app):
    at = open_page(app, "model")
    table = at.dataframe[0].value
    assert table["parameters"].sum() == 57_790
    assert at.metric[0].value == "57,790"
    # Every step, pooling and activations included, so the shapes follow one from another.
    assert list(table["operation"][:3]) == ["conv 6 @ 3×3", "ReLU", "max pool 2×2"]
    assert list(table["output"][:3]) == ["6 × 26 × 26", "6 × 26 × 26", "6 × 13 × 13"]
    provenance = dict(zip(at.dataframe[1].value.iloc[:, 0], at.dataframe[1].value["value"]))
    assert provenance["Test accuracy"] == "10.00%" and provenance["File"] == "cnn.pt"


def legend(chart) -> list[str]:
    """The names a reliability chart lists in its legend (a series' sparse bins are points without one)."""
    import json

    return [d["name"] for d in json.loads(chart.proto.spec)["data"] if d.get("showlegend", True)]


def test_model_page_shows_calibration_with_and_without_the_temperature(app):
    from digits.calibration import ece, logits_of, reading_ece
    from digits.checkpoint import amend_checkpoint

    test = resources.test_split()  # the fixture's 200 synthetic test images
    at = open_page(app, "model")
    (chart,) = at.get("plotly_chart")
    assert legend(chart) == ["perfectly calibrated", "the network's own softmax (T = 1)"]
    logits = logits_of(resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0], test)
    words = " ".join(m.value for m in at.markdown)
    assert f"**{ece(logits.softmax(1), test.labels):.2%}**" in words and "has no temperature" in words
    shown = "Read as the Draw page reads a drawing (each image and its 8 one-pixel shifts, averaged): "
    assert shown + f"**{reading_ece(resources.load_model(resources.CHECKPOINTS / 'cnn.pt')[0], test):.2%}**" in words

    amend_checkpoint(resources.CHECKPOINTS / "cnn.pt", {"temperature": 2.0},
                     {"calibration_command": "python -m digits calibrate x"})
    at = open_page(at, "model")
    (chart,) = at.get("plotly_chart")
    assert legend(chart)[-1] == "with its temperature (T = 2.00)"
    words = " ".join(m.value for m in at.markdown)
    before, after = ece(logits.softmax(1), test.labels), ece((logits / 2).softmax(1), test.labels)
    assert (f"**{before:.2%}** with the network's own probabilities and **{after:.2%}** with its temperature of 2.00"
            in words)
    assert "python -m digits calibrate x" in [c.value for c in at.code]
    provenance = dict(zip(at.dataframe[1].value.iloc[:, 0], at.dataframe[1].value["value"]))
    assert provenance["Calibration temperature"] == "2.000"



def test_the_figures_are_measured_once_per_checkpoint_file_and_kept_on_disk(app, monkeypatch):
    import streamlit as st

    from webapp import model as sections

    at = open_page(app, "model")  # measured and kept
    words = " ".join(m.value for m in at.markdown)
    (kept,) = (resources.CHECKPOINTS / ".figures").glob("*.json")
    assert kept.stem == file_sha256(resources.CHECKPOINTS / "cnn.pt")

    def never(*args):
        raise AssertionError("measured again")

    measured = sections.measure_model, sections.reading_ece
    monkeypatch.setattr(sections, "measure_model", never)
    monkeypatch.setattr(sections, "reading_ece", never)
    st.cache_data.clear()  # a new server: only the disk remembers
    at = open_page(at, "model")
    assert " ".join(m.value for m in at.markdown) == words

    kept.write_text('{"version": 1, "sha256": "' + kept.stem + '", "calibration": {"temperature": "<b>x</b>"}}')
    monkeypatch.setattr(sections, "measure_model", measured[0])  # (undo() would also undo the app fixture's folders)
    monkeypatch.setattr(sections, "reading_ece", measured[1])
    st.cache_data.clear()
    at = open_page(at, "model")  # a file that is not ours is measured over, never trusted
    assert " ".join(m.value for m in at.markdown) == words


def test_the_shipped_checkpoints_come_with_their_figures():
    """Their first Model page view computes nothing: a retrained shipped checkpoint needs its figures kept again
    (open its Model page once, or call webapp.model.figures, and commit checkpoints/.figures/<sha256>.json)."""
    import json

    from webapp import model as sections

    for name in ("lenet5.pt", "cnn.pt"):
        path = resources.ROOT / "checkpoints" / name
        kept = json.loads(
            (resources.ROOT / "checkpoints" / ".figures" / f"{file_sha256(path)}.json").read_text())
        calibration, ece, curve = sections._from_json(kept)
        assert kept["measured_on"] == 10_000 and calibration.measured_on == 10_000 and 0 < ece < 0.01
        assert curve.n_digits == 2000 and curve.off[1] < curve.at[1]  # the detector's curve, on real MNIST


def test_the_settings_listed_are_those_that_applied_to_the_run(app):
    """Momentum is no setting of an Adam run, nor the room's share of a run without the room's drawings."""
    from digits import TrainConfig, build_model, save_checkpoint

    config = TrainConfig(optimizer="adam").to_dict()
    save_checkpoint(resources.CHECKPOINTS / "cnn.pt", "cnn", build_model("cnn"), config=config,
                    metrics={"test_acc": 0.1})
    at = open_page(app, "model")
    listed = list(at.dataframe[1].value.iloc[:, 0])
    assert "Optimizer" in listed and not any(n.startswith(("Momentum", "Room's share")) for n in listed), listed


def test_kept_figures_that_are_not_numbers_of_images_are_refused():
    import json

    import pytest as pt

    from webapp import model as sections

    good = json.loads((resources.ROOT / "checkpoints" / ".figures" /
                       f"{file_sha256(resources.ROOT / 'checkpoints' / 'lenet5.pt')}.json").read_text())
    sections._from_json(good)
    for field, value in (("accuracy", float("nan")), ("count", -5), ("confidence", float("inf"))):
        bad = json.loads(json.dumps(good))
        bad["calibration"]["before"][0][field] = value
        with pt.raises(ValueError):
            sections._from_json(bad)


def test_the_checkpoint_can_be_taken_home_as_onnx_weights_and_their_description(app):
    at = open_page(app, "model")
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert set(buttons) == {"ONNX: runs without PyTorch", "Weights: a PyTorch state_dict",
                            "What the weights are (JSON)"}
    assert not at.exception
    assert any("opset 17" in c.value and "temperature folded in" in c.value for c in at.caption)


def test_a_checkpoint_with_a_detector_shows_where_its_threshold_sits_on_its_curve(app):
    """The shipped CNN (with its detector) in the app's folder: the curve is measured on the test set the page
    has (the fixture's) and drawn, with the checkpoint's threshold and "detector off" marked."""
    import json
    import shutil

    from digits import detector_curve

    shipped = resources.CHECKPOINTS / "shipped.pt"
    shutil.copy(resources.ROOT / "checkpoints" / "cnn.pt", shipped)
    at = open_page(app, "model")
    at.sidebar.selectbox(key="checkpoint").set_value(shipped).run()
    assert not at.exception
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    (spec,) = [s for s in charts.values() if "Doubted digits" in json.dumps(s["layout"]["title"])]
    names = [d["name"] for d in spec["data"]]
    assert names == ["every threshold", "this checkpoint's threshold", "detector off: the unsure rule alone"]
    model = resources.load_model(shipped)[0]
    curve = detector_curve.measure(model, detector_curve.standard_sets(resources.test_split().images))
    assert spec["data"][1]["x"] == [curve.at[0]] and spec["data"][1]["y"] == [curve.at[1]]
    words = " ".join(m.value for m in at.markdown)
    assert f"flags **{curve.at[0]:.1%}** of real digits" in words and f"catches **{curve.at[1]:.0%}**" in words


def test_a_checkpoint_without_a_detector_shows_no_curve(app):
    at = open_page(app, "model")
    assert not any("Doubted digits" in c.proto.spec for c in at.get("plotly_chart"))
    assert "where the line is drawn" not in " ".join(m.value for m in at.markdown)


def test_a_kept_curve_with_markup_or_huge_numbers_is_shown_as_text_or_measured_again(app):
    """A kept figures file is outside input: its words are shown as text, never markdown, and a number too big for
    an integer is measured over, not a traceback."""
    import json
    import shutil

    import pytest as pt

    from tests.app.apptest import _unescaped_links, shown
    from webapp import model as sections

    shipped = resources.CHECKPOINTS / "shipped.pt"
    shutil.copy(resources.ROOT / "checkpoints" / "cnn.pt", shipped)
    at = open_page(app, "model")
    at.sidebar.selectbox(key="checkpoint").set_value(shipped).run()  # measured and kept for the file
    kept = resources.CHECKPOINTS / ".figures" / f"{file_sha256(shipped)}.json"
    data = json.loads(kept.read_text())
    data["curve"]["digits"] = "![x](https://evil.example/p.png) [click](https://evil.example)"
    kept.write_text(json.dumps(data))
    import streamlit as st

    st.cache_data.clear()
    at.run()
    assert not at.exception and not _unescaped_links(at)
    assert any("[click](https://evil.example)" in shown(c.value) for c in at.caption)  # there, as text
    data["calibration"]["before"][0]["count"] = 1e999
    kept.write_text(json.dumps(data).replace("Infinity", "1e999"))
    with pt.raises(OverflowError):
        sections._from_json(json.loads(kept.read_text()))
    st.cache_data.clear()
    at.run()
    assert not at.exception  # measured again
    assert json.loads(kept.read_text())["calibration"]["before"][0]["count"] < 10**9
