import pandas as pd
import streamlit as st
import torch.nn.functional as F

import ui
from digits import cross_entropy, multiclass_svm
from digits.data import Split
from digits.evaluate import logits_of

ui.use_app_navigation()

st.title("Losses")
path = ui.checkpoint_or_stop()
test = ui.mnist_or_stop()
model, meta = ui.load_model(path)
size = st.select_slider("Test batch", [16, 64, 256, 1024, 10_000], value=64)
logits = logits_of(model, Split(test.images[:size], test.labels[:size])).double().cpu()
labels = test.labels[:size]
table = pd.DataFrame([
    {"loss": "Cross-entropy, written by hand (digits.losses)", "value": f"{cross_entropy(logits, labels).item():.16f}"},
    {"loss": "Cross-entropy, torch.nn.functional.cross_entropy", "value": f"{F.cross_entropy(logits, labels).item():.16f}"},
    {"loss": "Multiclass SVM (hinge), written by hand", "value": f"{multiclass_svm(logits, labels).item():.16f}"},
])
st.table(table.set_index("loss"))
st.markdown(
    f"On the first **{size}** test images with **{ui.plain(ui.checkpoint_label(path))}**:\n\n"
    "- **Cross-entropy** is the average of −log p(correct class) under the softmax: it punishes confident "
    "mistakes hard and keeps pushing the right class's probability towards 1. Written by hand with the "
    "log-sum-exp trick, it matches PyTorch's to the last digits.\n"
    "- **Multiclass SVM loss** adds, for each wrong class, how far its score comes within a margin of 1 of the "
    "right class's score. Once every wrong class is a margin below, it is exactly 0: it wants a gap, not certainty. "
    "(`torch.nn.MultiMarginLoss` gives the same number divided by the 10 classes.)"
)
