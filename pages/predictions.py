from pathlib import Path

import numpy as np
import streamlit as st

from digits.evaluate import Predictions, predict
from digits.mnist import dataset_spec
from digits.models import title
from webapp import navigation, resources, upload
from webapp.pictures import images, predictions as pictures
from webapp.pictures.numbers import percent

navigation.use_app_navigation()

PAGE = 28  # images per batch shown (four rows of seven on a laptop screen)
CELL = 56  # images shown for a cell of the confusion matrix

st.title("Predictions on the test set")
upload.upload_checkpoint()
path = resources.checkpoint_or_stop()
dataset = resources.dataset_of(resources.load_model(path)[1])
test = resources.mnist_or_stop(dataset)
CLASSES = dataset_spec(dataset).classes  # "0".."9", or Fashion-MNIST's "T-shirt/top", "Trouser"…


@st.cache_data(show_spinner="Classifying the 10,000 test images…", max_entries=8)
def predictions(path: str, mtime: float) -> Predictions:
    """Every test image's probabilities and the metrics, from one pass over the test set."""
    return predict(resources.load_model(Path(path))[0], resources.mnist_or_stop(dataset))


def _pick_cell() -> None:
    """A click on the confusion matrix: remember the cell (true, predicted) whose images to show."""
    points = st.session_state["confusion"].selection.get("points", [])
    if points:
        st.session_state["cell"] = (int(points[0]["y"]), int(points[0]["x"]))


def tiles(indices, key: str) -> None:
    """Test images in frames (green right, red wrong), each with its label and the model's answer; one of
    them closer, with all ten probabilities."""
    if not len(indices):
        st.info("No test image here.")
        return
    captions = [f"{'✓' if correct[i] else '✗'} true {CLASSES[labels[i]]} · pred {CLASSES[predicted[i]]} "
                f"({percent(probs[i].max(), 0)})" for i in indices]
    st.image([images.framed(test.images[i].numpy(), correct[i]) for i in indices], caption=captions, width=120)
    pick, picture, bars = st.columns([2, 1, 3], vertical_alignment="center")
    i = pick.selectbox("Look closer at", indices, key=f"closer-{key}",
                       format_func=lambda i: f"test image {i}: true {CLASSES[labels[i]]}, "
                                             f"predicted {CLASSES[predicted[i]]}")
    pick.page_link("pages/inside.py", label="Look inside the network at it", icon=":material/visibility:",
                   query_params={"test": int(i)})
    picture.image(images.framed(test.images[i].numpy(), correct[i], factor=4))
    bars.html(images.probability_bars(probs[i], height=90))


answers = predictions(str(path), path.stat().st_mtime)
probs, predicted, labels, correct, metrics = (answers.probs, answers.predicted, answers.labels, answers.correct,
                                              answers.metrics)
per_class = metrics.per_class

c = st.columns(4)
c[0].metric("Test accuracy", f"{metrics.accuracy:.2%}")
c[1].metric("Mistakes", f"{(~correct).sum():,} of {len(labels):,}")
c[2].metric("Hardest digit" if dataset == "mnist" else "Hardest class",
            f"{CLASSES[per_class.argmin()]} ({per_class.min():.1%})")
c[3].metric("Architecture", title(resources.load_model(path)[1]["model"]))

f1, f2, f3 = st.columns([1, 1, 1])
only_mistakes = f1.toggle("Only mistakes", key="only_mistakes")
def class_words(c):
    return c if c == "any" else CLASSES[c]


true_digit = f2.selectbox("True label", ["any"] + list(range(10)), key="true_digit", format_func=class_words)
pred_digit = f3.selectbox("Predicted as", ["any"] + list(range(10)), key="pred_digit", format_func=class_words)
keep = ~correct if only_mistakes else np.ones_like(correct)
if true_digit != "any":
    keep &= labels == true_digit
if pred_digit != "any":
    keep &= predicted == pred_digit
shown = np.flatnonzero(keep)

filters = (only_mistakes, true_digit, pred_digit, str(path))
if st.session_state.get("_filters") != filters:
    st.session_state["_filters"], st.session_state["batch"] = filters, 0
pages = max(1, -(-len(shown) // PAGE))
b1, b2, b3 = st.columns([1, 1, 4])
if b1.button(":material/chevron_left: Previous batch", disabled=st.session_state["batch"] == 0):
    st.session_state["batch"] -= 1
if b2.button("Next batch :material/chevron_right:", disabled=st.session_state["batch"] >= pages - 1):
    st.session_state["batch"] += 1
batch = min(st.session_state["batch"], pages - 1)
b3.caption(f"Batch {batch + 1} of {pages} · {len(shown):,} images match")


page_idx = shown[batch * PAGE:(batch + 1) * PAGE]
if len(page_idx):
    tiles(page_idx, key="batch")
else:
    st.info("No test image matches these filters.")

st.subheader("Where the model goes wrong")
c1, c2 = st.columns([3, 2])
c1.plotly_chart(pictures.confusion_chart(metrics.confusion), key="confusion", on_select=_pick_cell,
                selection_mode="points", config={"displaylogo": False})
c2.plotly_chart(pictures.per_class_chart(per_class), key="per-class", config={"displaylogo": False})
if dataset != "mnist":
    st.caption("Classes by number: " + " · ".join(f"{i} {name}" for i, name in enumerate(CLASSES)))
if cell := st.session_state.get("cell"):
    true, pred = cell
    chosen = np.flatnonzero((labels == true) & (predicted == pred))
    head, close = st.columns([5, 1], vertical_alignment="bottom")
    head.markdown(f"**True {CLASSES[true]}, predicted {CLASSES[pred]}: "
                  f"{len(chosen):,} test image{'s' if len(chosen) != 1 else ''}**"
                  + (f" (the first {CELL})" if len(chosen) > CELL else ""))
    if close.button(":material/close: Close", key="close-cell"):
        st.session_state.pop("cell")
        st.rerun()
    tiles(chosen[:CELL], key="cell")
