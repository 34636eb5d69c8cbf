import re

import numpy as np
import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas  # only importable inside a running Streamlit

from digits import TrainConfig, build_model, classify
from digits.inside import trace
from digits.mnist import dataset_spec
from digits.models import BUILT, SHIPPED, LeNet5, title
from digits.runs import list_runs
from digits.snapshots import list_snapshots
from digits.summary import run_name, run_title
from webapp import inside as sections, navigation, resources
from webapp.text import plain

navigation.use_app_navigation()

st.title("Inside the network")
st.caption("What every layer computes from one image, why the network answered what it did, and how it learned.")


@st.cache_resource(show_spinner=False, max_entries=8)
def untrained(name: str, layers: str = "") -> torch.nn.Module:
    """A network as training starts it (seed 0): the contrast to a trained one."""
    torch.manual_seed(0)
    return build_model(name, layers).to(resources.device()).eval()


def buildable() -> str:
    """The network being built on the Train page, when it works out ("" when not)."""
    try:
        return TrainConfig(model=BUILT, layers=st.session_state.get("cfg_layers") or "").layers
    except ValueError:
        return ""


def runs_with_snapshots() -> dict[str, list]:
    """{run folder name: its snapshots, first to last} for the runs that kept any."""
    found = {}
    for run in list_runs(resources.RUNS)[:50]:
        if snapshots := list_snapshots(run):
            found[run.name] = snapshots
    return found


def choose_model():
    """(model, words naming it, the run's snapshots and the chosen one's index, or None) from the controls at the
    top."""
    sources = {"checkpoint": "Checkpoint", "run": "A run's snapshots", "untrained": "Untrained"}
    left, right = st.columns([3, 2])
    source = left.segmented_control("Model", list(sources), format_func=sources.get, default="checkpoint",
                                    required=True, key="inside_source",
                                    help="The checkpoint chosen in the sidebar; the snapshots a training run kept "
                                         "at each evaluation, untrained to trained; or a network before any "
                                         "training.")
    if source == "untrained":
        layers = buildable()
        name = right.selectbox("Architecture", [*SHIPPED, *([BUILT] if layers else [])], format_func=title,
                               key="inside_untrained", help="Your own network is the one built on the Train page.")
        return untrained(name, layers if name == BUILT else ""), f"{title(name)}, untrained", None
    if source == "run":
        runs = runs_with_snapshots()  # here, not above: a stroke with another source lists no folders
        if not runs:
            right.info("No run has snapshots yet: a run started on the Train page keeps the weights at every "
                       "evaluation.")
        else:
            run = right.selectbox("Run", list(runs), key="inside_run",
                                  format_func=lambda n: run_title(resources.RUNS / n))
            snapshots = runs[run]
            index = right.select_slider(
                "Snapshot", range(len(snapshots)), value=len(snapshots) - 1, key=f"inside_snapshot-{run}",
                format_func=lambda i: f"iteration {snapshots[i].iteration:,}",
                help="The weights at each evaluation of the run, from the untrained network (iteration 0) to the last.")
            model, meta = resources.load_model(snapshots[index].path)
            acc = meta["metrics"].get("val_acc")
            words = (f"{title(meta['model'])}, {run_name(resources.RUNS / run)}, "
                     f"iteration {snapshots[index].iteration:,}")
            return (model, words + (f" (validation {acc:.2%})" if acc is not None else " (untrained)"),
                    (snapshots, index))
    path = resources.selected_checkpoint()
    if path is None:
        st.info("No checkpoint yet: train one on the Train page, or look at an untrained network.")
        st.stop()
    model, _ = resources.load_model(path)
    return model, resources.checkpoint_label(path), None


def choose_image(dataset: str = "mnist"):
    """(the image as drawn or None, the 28×28 in [0, 1] the network reads, words saying what it is)."""
    asked = st.query_params.get("test")  # a "look inside" link from Predictions: text from a URL, anyone's
    if asked is not None:
        del st.query_params["test"]
        if re.fullmatch(r"[0-9]{1,5}", asked) and int(asked) < 10_000:  # ASCII digits only: "²".isdigit() is true
            st.session_state["inside_image"], st.session_state["inside_test"] = "test", int(asked)
        else:
            st.warning("The link asked for a test image that does not exist: the test images are numbered 0 to 9,999.")
    kinds = {"drawing": "A drawing", "test": "A test image"}
    st.session_state.setdefault("inside_image", "drawing")  # a default set here, as the link above may set it
    kind = st.segmented_control("Image", list(kinds), format_func=kinds.get, required=True, key="inside_image")
    where = st.container()
    if kind == "test":
        test = resources.mnist_or_stop(dataset)
        i = where.number_input("Test image (0–9,999)", 0, len(test) - 1, key="inside_test")
        label = dataset_spec(dataset).classes[int(test.labels[i])]
        return None, test.images[i].numpy().astype(np.float32) / 255, f"test image {i}, labelled {label}"
    with where:
        canvas = st_canvas(stroke_width=16, stroke_color="#FFFFFF", background_color="#000000", width=220, height=220,
                           drawing_mode="freedraw", return_image_data=True,
                           key=f"inside-canvas-{st.session_state.get('canvas_id', 0)}")
    mine = canvas.image_data
    if mine is not None and mine[..., :3].any():
        st.session_state["drawing"] = mine  # the Draw page's drawing, now this one
        return mine, None, "your drawing"
    drawing = st.session_state.get("drawing")
    if drawing is None:
        where.info("Draw a digit here or on the Draw page: every layer below follows each stroke.")
        st.stop()
    where.image(drawing, width=90, caption="Your last drawing: draw above to replace it")
    return drawing, None, "your last drawing"


@st.fragment
def body() -> None:
    model, model_words, run = choose_model()
    sections.section(1, "What the network receives", "The MNIST recipe: the ink cropped, scaled into a 20-px box and "
                     "centred by its centre of mass in 28×28, then standardised (mean 0.1307, std 0.3081)."
                     + (" LeNet-5 pads it to 32×32." if isinstance(model, LeNet5) else ""))
    cols = st.columns([5, 3, 3, 3])
    with cols[0]:
        drawing, image, image_words = choose_image(resources.dataset_of(model))
    try:
        if image is None:
            prediction = classify(model, drawing)
            image = prediction.input
            if prediction.digit is None:
                st.info("Draw a digit: there is no ink yet.")
                return
        seen = trace(model, image)
    except ValueError as e:  # a drawing too large, a model whose output is not a number
        st.error(plain(e))
        return
    classes = dataset_spec(resources.dataset_of(model)).classes
    sections.received(cols, seen, image, f"{model_words} · {image_words}", classes)
    sections.layers(seen)
    sections.learned_filters(model)
    sections.one_number(model, image, seen)
    sections.why(model, image, seen, classes)
    sections.robust(model, drawing, image)
    sections.how_it_learned(run)


body()
