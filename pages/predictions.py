from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import ui
from digits.evaluate import Metrics, logits_of, metrics_of

ui.use_app_navigation()

PAGE = 28  # images per batch shown (four rows of seven on a laptop screen)

st.title("Predictions on the test set")
ui.upload_checkpoint()
path = ui.checkpoint_or_stop()
test = ui.mnist_or_stop()


@st.cache_data(show_spinner="Classifying the 10,000 test images…", max_entries=8)
def predictions(path: str, mtime: float) -> tuple[np.ndarray, Metrics]:
    """(probabilities for every test image, their metrics), from one pass over the test set."""
    model, _ = ui.load_model(Path(path))
    logits = logits_of(model, test)
    return logits.softmax(1).cpu().numpy(), metrics_of(logits, test.labels)


probs, metrics = predictions(str(path), path.stat().st_mtime)
predicted = probs.argmax(1)
labels = test.labels.numpy()
correct = predicted == labels
confusion, per_class = metrics.confusion, metrics.per_class

c = st.columns(4)
c[0].metric("Test accuracy", f"{metrics.accuracy:.2%}")
c[1].metric("Mistakes", f"{(~correct).sum():,} of {len(labels):,}")
c[2].metric("Hardest digit", f"{per_class.argmin()} ({per_class.min():.1%})")
c[3].metric("Model", ui.checkpoint_label(path).split(" · ")[0])

f1, f2, f3 = st.columns([1, 1, 1])
only_mistakes = f1.toggle("Only mistakes", key="only_mistakes")
true_digit = f2.selectbox("True label", ["any"] + list(range(10)), key="true_digit")
pred_digit = f3.selectbox("Predicted as", ["any"] + list(range(10)), key="pred_digit")
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


def tile(i: int) -> np.ndarray:
    """The test image, 4× larger, framed green when right and red when wrong."""
    img = ui.upscale(test.images[i].numpy(), 3)
    rgb = np.stack([img] * 3, axis=-1)
    framed = np.zeros((rgb.shape[0] + 8, rgb.shape[1] + 8, 3), np.uint8)
    framed[:] = (46, 160, 67) if correct[i] else (220, 38, 38)
    framed[4:-4, 4:-4] = rgb
    return framed


page_idx = shown[batch * PAGE:(batch + 1) * PAGE]
if len(page_idx):
    captions = [f"{'✓' if correct[i] else '✗'} true {labels[i]} · pred {predicted[i]} ({probs[i].max():.0%})" for i in page_idx]
    st.image([tile(i) for i in page_idx], caption=captions, width=120)
else:
    st.info("No test image matches these filters.")

st.subheader("Where the model goes wrong")
c1, c2 = st.columns([3, 2])
text = [[f"{v}" for v in row] for row in confusion]
off = confusion.astype(float)
np.fill_diagonal(off, np.nan)  # colour the mistakes; the diagonal would drown them
heat = go.Figure(go.Heatmap(z=off, x=list(range(10)), y=list(range(10)), text=text, texttemplate="%{text}",
                            colorscale="Reds", showscale=False, hovertemplate="true %{y} → predicted %{x}: %{text}<extra></extra>"))
heat.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), title="Confusion matrix (choose a pair above to see those images)",
                   xaxis=dict(title="predicted", dtick=1), yaxis=dict(title="true", dtick=1, autorange="reversed"))
c1.plotly_chart(heat, key="confusion")
bars = go.Figure(go.Bar(x=list(range(10)), y=per_class, text=[f"{a:.1%}" for a in per_class], textposition="outside",
                        marker_color="#3182bd"))
bars.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), title="Accuracy per digit",
                   yaxis=dict(range=[min(0.9, per_class.min() - 0.02), 1.005], tickformat=".0%"), xaxis=dict(dtick=1))
c2.plotly_chart(bars, key="per-class")
