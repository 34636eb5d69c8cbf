"""Every page through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""

import ast
import base64
import io
import re
import shutil
from contextlib import closing

import numpy as np
import pytest
import streamlit as st
import torch
from PIL import Image
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

import ui
from digits import TrainConfig, build_model, classify, load_checkpoint, save_checkpoint
from tests.helpers import draw_digit, synthetic_split

APP = str(ui.ROOT / "app.py")
STREAMLIT_INIT = PagesManager.__init__


@pytest.fixture
def app(tmp_path, monkeypatch):
    """The app with its own checkpoints, runs folder and drawings store, and a small stand-in for the MNIST test set."""
    # AppTest puts Streamlit back into its pages-folder mode before every run (app_test.py resets
    # PagesManager.uses_pages_directory); a real server leaves that mode for good at its first
    # st.navigation (see ui.use_app_navigation). Do as the server does, or every page run would be run
    # twice and a button press lost in between. The test below runs pages in that mode on purpose.
    def leave_legacy_mode(self, *args, **kwargs):
        STREAMLIT_INIT(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", leave_legacy_mode)
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "checkpoints" / "cnn.pt", "cnn", build_model("cnn"), metrics={"test_acc": 0.1})
    monkeypatch.setattr(ui, "CHECKPOINTS", tmp_path / "checkpoints")
    monkeypatch.setattr(ui, "RUNS", tmp_path / "runs")
    monkeypatch.setenv("DIGITS_DRAWINGS", str(tmp_path / "drawings.sqlite"))  # never the room's own file
    monkeypatch.setattr(ui, "test_split", lambda: synthetic_split(200, 5))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    yield at
    st.cache_resource.clear()
    st.cache_data.clear()


def shown(markdown: str) -> str:
    """The text a person sees of markdown that ui.plain escaped."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")  # the zero-width spaces ui.plain adds


def start_button(at):
    """The Train page's Start button (the fine-tune button comes before it)."""
    (button,) = [b for b in at.button if b.label.endswith("Start training")]
    return button


def open_page(at, page):
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def test_every_file_in_pages_asks_for_the_app_navigation_first():
    """Streamlit's pages-folder mode can run any pages/*.py on its own (see ui.use_app_navigation)."""
    for path in sorted((ui.ROOT / "pages").glob("*.py")):
        body = [n for n in ast.parse(path.read_text()).body if not isinstance(n, (ast.Import, ast.ImportFrom))]
        assert body and ast.unparse(body[0]) == "ui.use_app_navigation()", path.name


def test_a_page_run_on_its_own_by_the_pages_folder_mode_comes_back_through_app_py(app, monkeypatch):
    monkeypatch.setattr(PagesManager, "__init__", STREAMLIT_INIT)  # the mode a fresh server starts in
    at = open_page(app, "draw")
    assert at.title[0].value == "Draw a digit"
    assert at.sidebar.selectbox(key="checkpoint").value.endswith("cnn.pt")
    assert any("Compute:" in c.value for c in at.sidebar.caption)


def test_home_and_sidebar(app):
    assert app.title[0].value.endswith("digits")
    assert app.sidebar.selectbox(key="checkpoint").value.endswith("cnn.pt")
    assert any("Compute:" in c.value for c in app.sidebar.caption)


def test_a_server_on_the_network_that_only_localhost_may_reach_says_so(app):
    from streamlit import config

    def warnings(address, hosts):
        config.set_option("server.address", address)
        config.set_option("server.allowedHosts", hosts)
        app.run()
        assert not app.exception, app.exception
        return [w.value for w in app.sidebar.warning]

    before = config.get_option("server.address"), config.get_option("server.allowedHosts")
    try:
        assert warnings("localhost", ["localhost", "127.0.0.1", "::1"]) == []
        (warning,) = warnings("0.0.0.0", ["localhost", "127.0.0.1", "::1"])
        assert "The room cannot connect yet" in warning and "--server.allowedHosts" in warning
        assert warnings("0.0.0.0", ["localhost", "192.168.1.20"]) == []
        assert warnings("0.0.0.0", []) == []  # Streamlit then accepts any name
    finally:
        config.set_option("server.address", before[0])
        config.set_option("server.allowedHosts", before[1])


def test_train_page_form_and_validation(app):
    at = open_page(app, "train")
    assert at.selectbox[0].options == ["LeNet-5 · 61,706 params", "Small CNN · 57,790 params"]
    assert at.info[0].value.startswith("No runs yet")
    field = {n.label: n for n in at.number_input}
    field["Batch size"].set_value(8192)          # more than the 60,000 - 55,000 training images left
    field["Validation images"].set_value(55_000)
    start_button(at).click().run()
    assert at.error and "batch size must be from 1 to 5000" in at.error[0].value
    assert not list(ui.RUNS.glob("*"))           # nothing was started


def test_the_fine_tune_button_fills_the_form_and_a_room_without_drawings_starts_nothing(app, tmp_path, monkeypatch):
    from digits import drawings as store

    monkeypatch.setenv("DIGITS_DRAWINGS", str(tmp_path / "room.sqlite"))
    at = open_page(app, "train")
    (button,) = [b for b in at.button if "Fine-tune" in b.label]
    button.click().run()
    assert at.session_state["cfg_start_from"] == str(ui.CHECKPOINTS / "cnn.pt")  # the sidebar's checkpoint
    assert at.session_state["cfg_model"] == "cnn" and at.session_state["cfg_drawings"] is True
    assert at.session_state["cfg_epochs"] == TrainConfig.recipe("room")["epochs"]
    assert any("no labelled digit drawings" in c.value for c in at.caption)
    start_button(at).click().run()
    assert at.error and "no digit drawings" in at.error[0].value
    assert not list(ui.RUNS.glob("*"))
    with closing(store.connect()) as db:
        for i in range(3):
            store.add(db, np.full((28, 28), i, np.uint8), i, "s")
    at.run()
    assert any("3 labelled digit drawings" in c.value for c in at.caption)


def test_the_fast_recipe_button_fills_the_form_with_the_recipe_from_scratch(app):
    at = open_page(app, "train")
    at.selectbox[0].set_value("cnn")
    at.toggle(key="cfg_drawings").set_value(True)
    at.run()
    (button,) = [b for b in at.button if "Fast recipe" in b.label]
    button.click().run()
    assert not at.exception
    expected = {"model": "lenet5", "start_from": "", "drawings": False, **TrainConfig.recipe("fast")}
    assert {k: at.session_state["cfg_" + k] for k in expected} == expected
    assert {n.label: n.value for n in at.number_input}["Epochs"] == expected["epochs"]  # the form shows it


def test_a_runs_folder_that_cannot_be_written_is_a_message_and_nothing_starts(app, monkeypatch):
    blocker = ui.RUNS.parent / "runs-is-a-file"
    blocker.write_text("a file where the runs folder should be")  # (chmod does not stop root)
    monkeypatch.setattr(ui, "RUNS", blocker)
    at = open_page(app, "train")
    {n.label: n for n in at.number_input}["Epochs"].set_value(1)
    start_button(at).click().run()
    assert not at.exception
    assert at.error and "Cannot create the run folder" in at.error[0].value and "Nothing was started" in at.error[0].value
    assert blocker.read_text().startswith("a file")
    assert at.info[0].value.startswith("No runs yet")  # the page goes on


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


def test_draw_page_says_draw_a_digit_when_empty(app):
    at = open_page(app, "draw")
    assert any("Draw a digit" in i.value for i in at.info)


def canvas_value(image: np.ndarray) -> dict:
    """What the canvas component sends back: its Fabric JSON and a PNG data URL of the drawing."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}], "background": "#000000"}, "data": url},
            "backgroundFit": None}


def test_draw_page_classifies_an_injected_drawing(app):
    at = open_page(app, "draw")
    image = draw_digit("ring")
    at.session_state["canvas-0"] = canvas_value(image)
    at.run()
    assert not at.exception
    expected = classify(ui.load_model(ui.CHECKPOINTS / "cnn.pt")[0], image)
    html = [h.proto.body for h in at.get("html")]
    shown = [h for h in html if "class='digit" in h]  # a firm answer, or a guess greyed (the fixture's model is untrained)
    assert shown and f">{expected.digit}</div>" in shown[0]
    assert ("class='digit guess'" in shown[0]) == (expected.unsure or expected.not_digit)
    bars = [h for h in html if "class='probs'" in h]
    assert bars and bars[0].count("border-radius") == 10  # one bar per digit


def test_one_tap_keeps_the_drawing_once_with_its_label_and_a_second_tap_relabels_it(app, tmp_path):
    from digits import drawings

    at = open_page(app, "draw")
    image = draw_digit("ring")
    at.session_state["canvas-0"] = canvas_value(image)
    at.run()
    expected = classify(ui.load_model(ui.CHECKPOINTS / "cnn.pt")[0], image)
    (pills,) = at.pills
    assert pills.options[0] == f"✓ Right, it is a {expected.digit}" and len(pills.options) == 11  # right, 9 others, not a digit
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


def test_losses_page_matches_torch_to_rounding_and_starts_untrained_near_ln_10(app):
    at = open_page(app, "losses")
    table = at.table[0].value
    for column, digits in (("float32 (training's precision)", 7), ("float64", 16)):
        hand, torch_value, difference, step, _ = table[column].tolist()
        assert float(difference) <= 8 * float(step)  # a few rounding steps at most
        assert len(hand.replace("0.", "").lstrip("0").replace(".", "")) <= digits  # no more digits than the type holds
    at.radio(key="loss_weights").set_value("untrained").run()
    at.number_input(key="loss_batch").set_value(2).run()
    assert not at.exception
    start = float(at.table[0].value["float64"].iloc[0])
    assert abs(start - 2.3026) < 0.1  # ln 10: the untrained network finds every class about equally likely


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


def test_model_page_shows_calibration_with_and_without_the_temperature(app):
    import json

    from digits.calibration import ece, logits_of, reading_ece
    from digits.checkpoint import amend_checkpoint

    test = ui.test_split()  # the fixture's 200 synthetic test images
    at = open_page(app, "model")
    (chart,) = at.get("plotly_chart")
    assert [d["name"] for d in json.loads(chart.proto.spec)["data"]] == ["perfectly calibrated", "the network's own softmax (T = 1)"]
    logits = logits_of(ui.load_model(ui.CHECKPOINTS / "cnn.pt")[0], test)
    words = " ".join(m.value for m in at.markdown)
    assert f"**{ece(logits.softmax(1), test.labels):.2%}**" in words and "has no temperature" in words
    shown = "Read as the Draw page reads a drawing (each image and its 8 one-pixel shifts, averaged): "
    assert shown + f"**{reading_ece(ui.load_model(ui.CHECKPOINTS / 'cnn.pt')[0], test):.2%}**" in words

    amend_checkpoint(ui.CHECKPOINTS / "cnn.pt", {"temperature": 2.0}, {"calibration_command": "python -m digits calibrate x"})
    at = open_page(at, "model")
    (chart,) = at.get("plotly_chart")
    assert [d["name"] for d in json.loads(chart.proto.spec)["data"]][-1] == "with its temperature (T = 2.00)"
    words = " ".join(m.value for m in at.markdown)
    before, after = ece(logits.softmax(1), test.labels), ece((logits / 2).softmax(1), test.labels)
    assert f"**{before:.2%}** with the network's own probabilities and **{after:.2%}** with its temperature of 2.00" in words
    assert "python -m digits calibrate x" in [c.value for c in at.code]
    provenance = dict(zip(at.dataframe[1].value.iloc[:, 0], at.dataframe[1].value["value"]))
    assert provenance["Calibration temperature"] == "2.000"


def inside_layers(at) -> list[str]:
    """The layer names the Inside page shows in its activation rows, in order."""
    return [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**") and "  \n" in m.value]


def test_inside_page_shows_every_layer_of_a_test_image_from_a_link(app):
    app.query_params["test"] = "3"
    at = open_page(app, "inside")
    assert inside_layers(at) == ["Conv2d-1", "Pool-1", "Conv2d-2", "Pool-2", "Linear-1", "Linear-2", "Linear-3", "Linear-4"]
    model = ui.load_model(ui.CHECKPOINTS / "cnn.pt")[0]
    image = ui.test_split().images[3].numpy().astype(np.float32) / 255
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

    run = ui.RUNS / "20261123-120000"
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


@pytest.mark.slow
def test_train_page_starts_follows_and_stops_a_run(app):
    """Real MNIST: Start launches `python -m digits train`, the page follows its events, Stop stops it."""
    import time

    from digits.runs import list_runs, read_events, run_state

    at = open_page(app, "train")
    at.selectbox[0].set_value("cnn")
    field = {n.label: n for n in at.number_input}
    field["Epochs"].set_value(5)
    field["Evaluate every (0 = auto)"].set_value(50)
    start_button(at).click().run()
    (run,) = list_runs(ui.RUNS)
    deadline = time.time() + 120
    while time.time() < deadline and not any(e.kind == "evaluation" for e in read_events(run)):
        time.sleep(0.5)
    at.run()
    assert not at.exception
    assert at.get("progress") and "iteration" in at.get("progress")[0].proto.text
    assert len(at.get("plotly_chart")) >= 2
    next(b for b in at.button if "Stop training" in b.label).click().run()
    deadline = time.time() + 30
    while time.time() < deadline and run_state(run) == "running":
        time.sleep(0.2)
    at.run()
    assert run_state(run) == "stopped"
    assert any("Stopped on request" in s.value for s in at.success)
    assert (run / "best.pt").exists()


def test_a_run_that_is_starting_says_which_step_of_its_start_up_it_is_in(app):
    import os

    from digits.process import hold_lock
    from digits.runs import CONFIG, LOCK, write_json, write_starting

    run = ui.RUNS / "20260101-000000-lenet5"
    run.mkdir(parents=True)
    write_json(run / CONFIG, TrainConfig().to_dict())
    lock = hold_lock(run / LOCK)  # as the launcher holds it for the process: the run is live, no events yet
    try:
        write_starting(run, "loading MNIST")
        at = open_page(app, "train")
        assert any(i.value.startswith("Starting (") and i.value.endswith("s): loading MNIST…") for i in at.info)
        write_starting(run, "building the model")
        at.run()
        assert any(i.value.endswith("building the model…") for i in at.info)
    finally:
        os.close(lock)


def test_a_live_run_before_its_first_step_says_what_it_is_doing(app):
    """A run with a not-digit share draws its made-up non-digits first (digits.events.Preparing): the page says so
    beside the progress bar, not only in the event log below the charts."""
    from digits import events as ev
    from digits.runs import RunWriter

    config = TrainConfig(not_digits=0.25).to_dict()
    writer = RunWriter(ui.RUNS / "20260101-000000-cnn", config)  # holds the run's lock: live
    try:
        writer.write(ev.Started(0.1, "cnn", 57_790, "cpu", "CPU (1 thread)", 50_000, 10_000, 10_000, 391, 391, config))
        at = open_page(app, "train")
        assert not any("made-up non-digits" in c.value for c in at.caption)  # only Started: nothing to add
        writer.write(ev.Preparing(0.2, 14_000))
        at.run()
        assert any(shown(c.value).endswith("Drawing 14,000 made-up non-digits (scribbles, shapes, strokes) to train "
                                           "towards no digit; the first steps follow") for c in at.caption)
    finally:
        writer.close()


def test_a_broken_checkpoint_is_listed_with_its_reason_and_pages_keep_working(app):
    good = ui.CHECKPOINTS / "cnn.pt"
    (ui.CHECKPOINTS / "truncated.pt").write_bytes(good.read_bytes()[:3000])
    (ui.CHECKPOINTS / "notes.pt").write_text("not a checkpoint")
    for page in ("home", "predictions", "draw", "losses", "model"):
        at = open_page(app, page)
        assert at.sidebar.expander[0].label == "⚠ 2 unusable checkpoint files"
        reasons = " ".join(shown(c.value) for c in at.sidebar.expander[0].caption)
        assert "truncated.pt: not a loadable checkpoint" in reasons and "notes.pt" in reasons
        assert at.sidebar.selectbox(key="checkpoint").options == [ui.checkpoint_label(good)]


@pytest.mark.slow
def test_the_train_page_finds_a_run_whose_launcher_is_gone(app):
    """As after a server restart: the process that started the run has exited, the run goes on."""
    import subprocess
    import sys
    import time

    from digits.launch import stop_run
    from digits.runs import read_events

    code = ("import sys; from digits.launch import start_run; "
            f"print(start_run({{'model': 'cnn', 'epochs': 30, 'eval_every': 40}}, {str(ui.RUNS)!r}))")
    launcher = subprocess.run([sys.executable, "-c", code], cwd=ui.ROOT, capture_output=True, text=True, timeout=60)
    run = ui.Path(launcher.stdout.strip())
    deadline = time.time() + 120
    while time.time() < deadline and not any(e.kind == "evaluation" for e in read_events(run)):
        time.sleep(0.5)
    at = open_page(app, "train")
    assert at.selectbox(key="run").value == run.name
    assert at.get("progress") and "iteration" in at.get("progress")[0].proto.text
    stop_run(run)


def _unescaped_links(at) -> list[str]:
    """Markdown on the page that would render a link or an image (an unescaped ']('), with its text."""
    texts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success") for e in at.get(kind)]
    return [t for t in texts if isinstance(t, str) and re.search(r"(?<!\\)\]\(", t)]


def test_every_page_renders_with_the_whole_hostile_corpus_on_disk(app):
    from tests.hostile import LEAK, hostile_checkpoints, hostile_runs

    hostile_checkpoints(ui.CHECKPOINTS)
    runs = hostile_runs(ui.RUNS, long_line_mb=1)
    for page in ("home", "train", "predictions", "draw", "room", "inside", "losses", "model"):
        at = open_page(app, page)
        assert not _unescaped_links(at), page
        reasons = " ".join(shown(c.value) for c in at.sidebar.expander[0].caption)
        assert "test-acc-text.pt: metrics.test_acc must be a number" in reasons and str(ui.CHECKPOINTS) not in reasons
    at = open_page(app, "train")
    for name in runs:
        at.selectbox(key="run").set_value(name).run()
        assert not at.exception, name
        assert not _unescaped_links(at), name
    at.selectbox(key="run").set_value("20261101-000005-markdown-message").run()
    assert any(LEAK in shown(e.value) for e in at.error)  # the message is shown, as text
    # The Inside page steps through a run folder's snapshots: only plain files count, bad ones are a message.
    at = open_page(at, "inside")
    at.session_state["drawing"] = draw_digit("ring")
    at.segmented_control(key="inside_source").set_value("run").run()
    at.selectbox(key="inside_run").set_value("20261101-000018-snapshots").run()
    slider = at.select_slider(key="inside_snapshot-20261101-000018-snapshots")
    assert slider.options == ["iteration 100", "iteration 250", "iteration 300"]  # plain files only: no link, no folder
    for i in range(len(slider.options)):
        at.select_slider(key="inside_snapshot-20261101-000018-snapshots").set_value(i).run()
        assert not at.exception and not _unescaped_links(at)
    # Every usable checkpoint of the corpus opens on the Model page.
    for path in ui.valid_checkpoints():
        at.session_state["open_checkpoint"] = str(path)
        open_page(at, "model")


def test_with_a_presenter_key_start_and_upload_ask_for_it_once(app, monkeypatch):
    monkeypatch.setenv("DIGITS_PRESENTER_KEY", "room-42")
    at = open_page(app, "train")
    {n.label: n for n in at.number_input}["Epochs"].set_value(1)
    start_button(at).click().run()
    assert any("for the presenter" in w.value for w in at.warning) and not ui.list_runs(ui.RUNS)
    at.text_input(key="_presenter_try_train").set_value("wrong").run()
    assert any("not the presenter key" in e.value for e in at.error)
    draw = open_page(at, "draw")
    assert not draw.get("file_uploader")  # uploads are locked too
    at = open_page(at, "train")
    at.text_input(key="_presenter_try_train").set_value("room-42").run()
    at = open_page(at, "draw")
    assert at.get("file_uploader")  # unlocked for this browser session


def test_the_new_run_panel_follows_each_choice_at_once(app):
    at = open_page(app, "train")
    labels = lambda: [n.label for n in at.number_input]
    assert "Momentum" not in labels()  # Adam keeps its own momentum terms
    assert any("LeNet-5 (1998)" in c.value for c in at.caption)
    at.selectbox(key="cfg_optimizer").set_value("sgd").run()
    assert "Momentum" in labels()
    at.selectbox(key="cfg_model").set_value("cnn").run()  # no form to submit: the caption follows at once
    assert any(c.value.startswith("Small CNN: two 3×3") for c in at.caption)
    assert not any("LeNet-5 (1998)" in c.value for c in at.caption)
    assert not list(ui.RUNS.glob("*"))  # and nothing started on the way


@pytest.mark.parametrize("box, advice", [((120, 120, 160, 160), "drawing the digit larger"),
                                         ((20, 20, 260, 260), "still has to choose one of 0–9")])
def test_an_unsure_answer_gives_advice_that_fits_the_drawing(app, box, advice):
    at = open_page(app, "draw")  # the fixture's model is untrained: unsure of everything
    at.session_state["canvas-0"] = canvas_value(draw_digit("ring", box=box))
    at.run()
    assert not at.exception
    (warning,) = at.warning
    assert warning.value.startswith("Not sure") and advice in warning.value
    guess = classify(ui.load_model(ui.CHECKPOINTS / "cnn.pt")[0], draw_digit("ring", box=box))
    (answer,) = [h.proto.body for h in at.get("html") if "class='unsure'" in h.proto.body]  # in the headline, greyed
    assert f"opacity:.5'>{guess.digit}</div>" in answer and f"its best guess ({guess.confidence:.0%})" in answer
    assert not [h for h in at.get("html") if "class='digit'" in h.proto.body]  # no firm answer beside it


def test_a_drawing_the_detector_flags_says_not_a_digit_and_greys_the_guess(app, tmp_path):
    from digits import drawings
    from digits.checkpoint import amend_checkpoint
    from digits.detector import feature_size
    from tests.test_detector import a_detector

    path = ui.CHECKPOINTS / "cnn.pt"  # the fixture's model, now with a detector that flags everything
    amend_checkpoint(path, {"detector_threshold": -1e4}, detector=a_detector(feature_size(load_checkpoint(path)[0]), -1e4).tensors())
    at = open_page(app, "draw")
    image = draw_digit("ring", box=(120, 120, 160, 160))  # small, and the untrained model is unsure: still no "draw larger"
    at.session_state["canvas-0"] = canvas_value(image)
    at.run()
    assert not at.exception
    guess = classify(ui.load_model(path)[0], image)
    assert guess.not_digit and guess.unsure
    html = [h.proto.body for h in at.get("html")]
    (answer,) = [h for h in html if "class='not-digit'" in h]
    assert "That does not look like a digit" in answer and f"opacity:.5'>{guess.digit}</div>" in answer  # the guess, greyed
    assert not at.warning  # not the unsure advice
    at.pills[0].set_value("right").run()  # right: it is not a digit
    assert any("Kept as not a digit" in s.value for s in at.success)
    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        (d,) = drawings.drawings(db)
    assert d.label == drawings.NOT_A_DIGIT


def test_home_says_where_to_start_and_shows_the_rooms_address_when_the_room_can_connect(app):
    from streamlit import config

    assert [l.proto.label for l in app.get("page_link")][:2] == ["1 · Draw a digit", "2 · Train your own"]
    assert not app.get("image")  # listening on this machine only: no room to invite
    before = config.get_option("server.address"), config.get_option("server.allowedHosts")
    try:
        config.set_option("server.address", "0.0.0.0")
        config.set_option("server.allowedHosts", ["localhost", "192.168.1.20"])
        app.run()
        assert not app.exception
        assert any("http://192.168.1.20:" in h.proto.body for h in app.get("html"))
        assert app.get("image")  # its QR code
    finally:
        config.set_option("server.address", before[0])
        config.set_option("server.allowedHosts", before[1])


def test_the_qr_code_reads_back_as_the_address():
    import segno

    import charts

    png = charts.qr_png("http://192.168.1.20:8501")
    assert png.startswith(b"\x89PNG")
    code = segno.make("http://192.168.1.20:8501", error="m")
    assert Image.open(io.BytesIO(png)).size[0] == 12 * (code.symbol_size(scale=1)[0])  # 12 px a module, quiet zone included


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


def test_the_losses_of_your_drawing_with_the_label_you_choose(app):
    from digits.reading import drawing_logits

    at = open_page(app, "losses")
    image = draw_digit("ring")
    at.session_state["drawing"] = image  # what the Draw page keeps
    at.run()
    at.radio(key="loss_source").set_value("drawing").run()
    at.number_input(key="loss_label").set_value(3).run()
    assert not at.exception
    logits = drawing_logits(ui.load_model(ui.CHECKPOINTS / "cnn.pt")[0], image)[1].double()
    expected = -torch.log_softmax(logits, dim=1)[0, 3].item()
    assert float(at.table[0].value["float64"].iloc[0]) == pytest.approx(expected, rel=1e-9)
    assert any("your drawing, labelled **3**" in m.value for m in at.markdown)


def test_a_run_name_with_markup_stays_text_in_the_comparison_legend():
    import charts
    from digits.summary import RunSummary

    fig = charts.compare_chart({"<a href='http://127.0.0.1:9/leak'>x</a> · mine": RunSummary()}, "loss")
    assert fig.data[0].name == "&lt;a href=&#x27;http://127.0.0.1:9/leak&#x27;&gt;x&lt;/a&gt; · mine"


# ---------- the Room page: a real drawings store in the test's folder ----------

def room_store(tmp_path, model, items):
    """Store (pixels, label, session, model name) items; the predictions of `model` as classify reads a drawing
    whose 28×28 these pixels are (answers_of: nine shifted views)."""
    from digits import drawings
    from digits.reading import answers_of

    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        ids = [drawings.add(db, pixels, label, session, png=b"\x89PNG", model=name) for pixels, label, session, name in items]
    images = torch.from_numpy(np.stack([pixels for pixels, *_ in items]))
    return ids, answers_of(model, images).digit.tolist()


def gallery(at) -> tuple[list[int], list[int]]:
    """(ids shown, ids marked wrong) in the Room page's gallery."""
    (body,) = [h.proto.body for h in at.get("html") if "class='gallery'" in h.proto.body]
    return ([int(i) for i in re.findall(r"alt='drawing (\d+)'", body)],
            [int(i) for i in re.findall(r"class='tile wrong'.*?alt='drawing (\d+)'", body)])


def test_an_empty_room_says_how_to_fill_it(app):
    at = open_page(app, "room")
    assert any("No drawings yet" in i.value and "Draw page" in i.value for i in at.info)
    assert [link.proto.page for link in at.get("page_link")][-1] == "draw"


@pytest.fixture
def room(app, tmp_path):
    """The Room page over six stored drawings: four digits (the first labelled as the model reads it, the
    second as another digit), one not a digit, one with a model name full of markup."""
    from digits import drawings

    rng = np.random.default_rng(3)
    pixels = [rng.integers(0, 256, (28, 28), dtype=np.uint8) for _ in range(6)]
    model = ui.load_model(ui.CHECKPOINTS / "cnn.pt")[0]
    _, predicted = room_store(tmp_path / "probe", model, [(p, 0, "probe", None) for p in pixels])
    labels = [predicted[0], (predicted[1] + 1) % 10, predicted[2], (predicted[3] + 5) % 10, drawings.NOT_A_DIGIT, predicted[5]]
    names = ["cnn.pt", "cnn.pt", "lenet5.pt", "cnn.pt", "cnn.pt", "<img src=x onerror=alert(1)>"]
    ids, _ = room_store(tmp_path, model, [(p, lab, f"s{k % 2}", name) for k, (p, lab, name) in enumerate(zip(pixels, labels, names))])
    return open_page(app, "room"), ids, labels


def test_the_room_page_shows_counts_accuracy_and_marks_the_wrong_ones(room):
    at, ids, labels = room
    assert at.metric[0].value == "6"
    (table,) = at.dataframe
    row = table.value.iloc[0]
    assert row["On the room's digits"] == pytest.approx(300 / 5) and row["Right"] == "3 of 5"  # not-a-digit left out
    assert row["On MNIST's test set"] == pytest.approx(10.0)
    shown_ids, wrong = gallery(at)
    assert shown_ids == ids[::-1] and sorted(wrong) == [ids[1], ids[3]]  # newest first; not-a-digit is never wrong
    bodies = " ".join(h.proto.body for h in at.get("html"))
    assert "<img src=x" not in bodies and "&lt;img src=x onerror=alert(1)&gt;" in bodies


def test_the_room_page_reads_drawings_as_the_draw_page_does(app, tmp_path):
    """Drawings whose one forward pass and nine-view reading disagree, labelled as the Draw page read them: the
    Room page must call them right (a tap on *Right* is never shown as wrong there: its table, matrix and gallery
    read the same answers)."""
    from digits.data import normalize
    from digits.reading import read_inputs

    trained = ui.CHECKPOINTS / "trained.pt"
    shutil.copy(ui.ROOT / "checkpoints" / "cnn.pt", trained)  # the shipped one: it has doubts where noise is concerned
    model = ui.load_model(trained)[0]
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)
    inputs = normalize(torch.from_numpy(pixels))
    with torch.no_grad():
        one_pass = model.eval()(inputs).argmax(1)
    read = read_inputs(model, inputs).digit
    differ = (one_pass != read).nonzero().flatten()[:12].tolist()
    assert differ  # the test means something: one pass reads these otherwise
    room_store(tmp_path, model, [(pixels[k], int(read[k]), f"s{k}", "trained.pt") for k in differ])
    at = open_page(app, "room")
    rows = {r["Checkpoint"]: r["Right"] for _, r in at.dataframe[0].value.iterrows()}
    assert rows[ui.checkpoint_label(trained)] == f"{len(differ)} of {len(differ)}"


def test_a_checkpoint_that_learned_from_the_room_is_measured_on_its_held_out_drawings_only(app, tmp_path):
    from digits.room import part

    rng = np.random.default_rng(5)
    pixels = [rng.integers(0, 256, (28, 28), dtype=np.uint8) for _ in range(40)]
    model = ui.load_model(ui.CHECKPOINTS / "cnn.pt")[0]
    room_store(tmp_path, model, [(p, k % 10, f"s{k % 2}", "cnn.pt") for k, p in enumerate(pixels)])
    save_checkpoint(ui.CHECKPOINTS / "tuned.pt", "cnn", model, metrics={"test_acc": 0.1, "room_train": 24})
    at = open_page(app, "room")
    rows = {r["Checkpoint"]: r["Right"] for _, r in at.dataframe[0].value.iterrows()}
    held = sum(part(p) == "held_out" for p in pixels)
    assert 0 < held < 40
    assert rows[ui.checkpoint_label(ui.CHECKPOINTS / "tuned.pt")].endswith(f"of {held} held out")
    assert rows[ui.checkpoint_label(ui.CHECKPOINTS / "cnn.pt")].endswith("of 40")


def test_the_room_gallery_filters(room):
    from digits import drawings

    at, ids, _ = room
    at.toggle(key="room_wrong").set_value(True).run()
    assert gallery(at) == ([ids[3], ids[1]], [ids[3], ids[1]])
    at.toggle(key="room_wrong").set_value(False)
    at.selectbox(key="room_label").set_value(drawings.NOT_A_DIGIT).run()
    assert gallery(at)[0] == [ids[4]]
    at.selectbox(key="room_label").set_value("any")
    at.selectbox(key="room_model").set_value("lenet5.pt").run()
    assert gallery(at)[0] == [ids[2]]
    at.selectbox(key="room_model").set_value("<img src=x onerror=alert(1)>").run()
    assert gallery(at)[0] == [ids[5]]


def test_the_room_relabels_and_deletes_what_is_picked(room, tmp_path):
    from digits import drawings

    at, ids, labels = room
    pick = [m for m in at.multiselect if m.key.startswith("room_pick")][0]
    pick.set_value([ids[1], ids[4]])
    at.selectbox(key="room_new_label").set_value(7).run()  # the buttons come alive once something is picked
    at.button(key="room_relabel").click().run()
    assert not at.exception and any("Relabelled 2 drawings as 7" in s.value for s in at.success)
    pick = [m for m in at.multiselect if m.key.startswith("room_pick")][0]
    assert pick.value == []  # the choice is cleared once done
    pick.set_value([ids[0]]).run()
    assert at.button(key="room_delete").disabled  # not before saying yes
    at.checkbox(key="room_sure").check().run()
    at.button(key="room_delete").click().run()
    assert any("Deleted 1 drawing." in shown(s.value) for s in at.success)
    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        assert {d.id: d.label for d in drawings.drawings(db)} == {**dict(zip(ids[1:], labels[1:])), ids[1]: 7, ids[4]: 7}
    assert at.metric[0].value == "5" and ids[0] not in gallery(at)[0]


def test_room_changes_and_imports_are_the_presenters(room, monkeypatch):
    monkeypatch.setenv("DIGITS_PRESENTER_KEY", "room-42")
    at, _, _ = room
    at.run()
    assert not [m for m in at.multiselect if m.key.startswith("room_pick")] and not at.get("file_uploader")
    assert any("for the presenter" in c.value for c in at.caption)
    assert gallery(at)[0]  # looking stays open


def test_a_bad_import_file_is_one_line_and_a_good_one_is_added(room, tmp_path):
    from digits import drawings

    at, ids, _ = room
    at.file_uploader(key="room_import").set_value(("room.npz", b"PK\x03\x04 not really a zip", "application/octet-stream")).run()
    assert not at.exception
    (error,) = at.error
    assert shown(error.value).startswith("Not done: not a readable .npz file") and "\n" not in error.value
    good = io.BytesIO()
    np.savez(good, images=np.zeros((3, 28, 28), np.uint8), labels=np.array([1, 2, -1]))
    at.file_uploader(key="room_import").set_value(("more.npz", good.getvalue(), "application/octet-stream")).run()
    assert any("Imported 3 drawings (0 were already in the room)." in shown(s.value) for s in at.success)
    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        assert [d.label for d in drawings.drawings(db)][len(ids):] == [1, 2, -1]
    assert at.metric[0].value == str(len(ids) + 3)


def test_a_drawings_file_that_is_not_a_store_is_one_line_on_both_pages(app, tmp_path):
    (tmp_path / "drawings.sqlite").write_bytes(b"not an sqlite file " * 200)
    at = open_page(app, "room")
    (error,) = at.error
    assert shown(error.value).startswith("drawings.sqlite: cannot be used as the drawings store") and "\n" not in error.value
    assert str(tmp_path) not in error.value  # the file's name, not the server's folders
    at = open_page(at, "draw")
    at.session_state["canvas-0"] = canvas_value(draw_digit("ring"))
    at.run()
    at.pills[0].set_value("right").run()
    assert not at.exception and not at.success
    (error,) = at.error
    assert shown(error.value).startswith("Not kept:") and "cannot be used as the drawings store" in shown(error.value)
