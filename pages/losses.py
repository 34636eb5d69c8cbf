import pandas as pd
import streamlit as st
import torch
import torch.nn.functional as F

from digits import build_model, cross_entropy, multiclass_svm
from digits.data import Split
from digits.evaluate import logits_of
from digits.models import title
from digits.reading import drawing_logits
from webapp import navigation, resources
from webapp.pictures import images, room as room_pictures
from webapp.text import plain

navigation.use_app_navigation()

SIZES = [16, 64, 256, 1024, 10_000]


@st.cache_resource(show_spinner=False, max_entries=4)
def untrained(name: str, layers: str = ""):
    """The architecture with its initial random weights (seed 0), as every run starts."""
    torch.manual_seed(0)
    return build_model(name, layers).to(resources.device()).eval()


def significant(x: float, digits: int) -> str:
    return f"{x:.{digits}g}" if x else "0"


st.title("Losses")
path = resources.checkpoint_or_stop()
model, meta = resources.load_model(path)
test = resources.mnist_or_stop(resources.dataset_of(meta))

weights = st.radio("Weights", ["trained", "untrained"], horizontal=True, key="loss_weights",
                   format_func=lambda w: f"trained ({plain(resources.checkpoint_label(path))})" if w == "trained"
                   else f"untrained {title(meta['model'])} (random start, seed 0)")
net = model if weights == "trained" else untrained(meta["model"], meta["config"].get("layers", ""))
drawing = st.session_state.get("drawing")  # the Draw page's latest drawing, if any
c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
source = c1.radio("Images", ["test", "drawing"], horizontal=True, key="loss_source",
                  format_func={"test": "a batch of test images", "drawing": "your drawing"}.get,
                  disabled=drawing is None, help=None if drawing is not None else "Draw a digit on the Draw page first")
read = drawing_logits(net, drawing) if source == "drawing" and drawing is not None else None
if read is not None:
    guess = int(read[1].argmax())
    if st.session_state.get("_loss_label_for") != (seen := room_pictures.drawing_key(drawing)):  # a new drawing:
        st.session_state["_loss_label_for"], st.session_state["loss_label"] = seen, guess  # start from the guess
    label = c2.number_input("What you meant (its label)", 0, 9, key="loss_label",
                            help=f"Starts at the network's own answer, {guess}: choose another to see the loss "
                                 "of a mistake")
    c3.image(images.upscale((read[0] * 255).astype("uint8"), 3), caption="what the network saw", width=84)
    logits32, labels = read[1], torch.tensor([label])
    where = f"your drawing, labelled **{label}**,"
else:
    size = c2.select_slider("Test images in the batch", SIZES, value=64, key="loss_size")
    batches = len(test) // size
    number = c3.number_input("Batch", 1, batches, 1, key="loss_batch",
                             help=f"Which of the {batches:,} batches of {size:,} test images")
    pick = slice((number - 1) * size, number * size)
    logits32 = logits_of(net, Split(test.images[pick], test.labels[pick])).cpu()  # float32, as in training
    labels = test.labels[pick]
    where = f"test images {pick.start + 1:,}–{pick.stop:,}"

rows, columns = [], {"float32 (training's precision)": (torch.float32, 7), "float64": (torch.float64, 16)}
values = {}
for column, (dtype, digits) in columns.items():
    logits = logits32.to(dtype)
    hand, torch_ce, svm = (cross_entropy(logits, labels).item(), F.cross_entropy(logits, labels).item(),
                           multiclass_svm(logits, labels).item())
    eps = torch.finfo(dtype).eps
    # One rounding step at the size of the numbers the loss is computed from: log-sum-exp adds and subtracts
    # the scores, so a loss of 0.007 from scores of 30 carries the rounding of 30, not of 0.007.
    step = eps * max(abs(hand), logits.abs().max().item(), 1e-30)
    allowed = len(labels) + 10  # a sum of n terms in another order can drift by about n rounding steps
    apart = abs(hand - torch_ce) / step
    values[column] = [significant(hand, digits), significant(torch_ce, digits), f"{abs(hand - torch_ce):.1e}",
                      f"{step:.1e}",
                      f"yes: {apart:.0f} rounding steps apart (up to {allowed} expected)" if apart <= allowed
                      else f"no: {apart:.0f} rounding steps apart, more than the {allowed} rounding explains",
                      significant(svm, digits)]
table = pd.DataFrame(values, index=["Cross-entropy, written by hand (digits.losses)",
                                    "Cross-entropy, torch.nn.functional.cross_entropy",
                                    "|hand − PyTorch|",
                                    "One rounding step at the scores' size (the largest |score| or the loss, × ε)",
                                    "Do they agree, up to rounding?",
                                    "Multiclass SVM (hinge), written by hand"])
st.table(table)
st.markdown(
    f"On {where} with the **{weights}** weights:\n\n"
    "- **Cross-entropy** is the average of −log p(correct class) under the softmax: it punishes confident "
    "mistakes hard and keeps pushing the right class's probability towards 1. Written by hand with the "
    "log-sum-exp trick, it is PyTorch's formula with the additions in another order, so the two can differ by "
    "rounding only: a float32 keeps about 7 significant digits (machine ε = 1.2 × 10⁻⁷), a float64 about 16 "
    "(ε = 2.2 × 10⁻¹⁶). A difference of a few rounding steps at the size of the scores it is computed from "
    "means they agree.\n"
    "- **Multiclass SVM loss** adds, for each wrong class, how far its score comes within a margin of 1 of the "
    "right class's score. Once every wrong class is a margin below, it is exactly 0: it wants a gap, not certainty. "
    "A trained model's is often 0 or nearly; choose the untrained weights to see both losses where learning starts "
    "(about ln 10 ≈ 2.30 for cross-entropy, when every class is equally likely), or your drawing with a label the "
    "network does not see in it. "
    "(`torch.nn.MultiMarginLoss` gives the same number divided by the 10 classes.)"
)
