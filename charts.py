"""The app's figures and pictures: plotly charts of a run and of a model's test predictions, the Draw
page's probability bars, enlarged images. Plain functions of numbers; no Streamlit here."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=300, uirevision="keep",
              legend=dict(orientation="h", y=1.12, x=0), hovermode="x unified")


def loss_chart(s) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=s.loss_x, y=s.loss_y, name="batch loss", mode="lines", line=dict(width=1, color="#9ecae1"))
    fig.add_scatter(x=s.loss_x, y=s.loss_smooth, name="smoothed", mode="lines", line=dict(width=2.5, color="#08519c"))
    fig.update_layout(title="Training loss per iteration", xaxis_title="iteration", yaxis_type="log", **LAYOUT)
    return fig


def accuracy_chart(s, others: dict | None = None) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=s.eval_x, y=s.train_acc, name="train", mode="lines+markers", line=dict(color="#fd8d3c"))
    fig.add_scatter(x=s.eval_x, y=s.val_acc, name="validation", mode="lines+markers", line=dict(color="#31a354"))
    for name, o in (others or {}).items():
        fig.add_scatter(x=o.eval_x, y=o.val_acc, name=f"val · {name}", mode="lines", line=dict(dash="dot"))
    fig.update_layout(title="Accuracy at each evaluation", xaxis_title="iteration", yaxis_tickformat=".1%", **LAYOUT)
    return fig


def epoch_chart(s) -> go.Figure:
    mean, std = np.array(s.epoch_mean), np.array(s.epoch_std)
    fig = go.Figure()
    fig.add_scatter(x=s.epoch_x + s.epoch_x[::-1], y=list(mean + std) + list(np.maximum(mean - std, 0))[::-1],
                    fill="toself", fillcolor="rgba(107,174,214,0.3)", line=dict(width=0), name="± std", hoverinfo="skip")
    fig.add_scatter(x=s.epoch_x, y=s.epoch_mean, name="mean loss", mode="lines+markers", line=dict(color="#08519c"))
    fig.update_layout(title="Loss per epoch: mean ± std", xaxis_title="epoch", xaxis_dtick=1, **LAYOUT)
    return fig


def probability_bars(probs: np.ndarray, height: int = 150) -> str:
    """Ten vertical bars as plain HTML: the Draw page's chart, cheap for a browser to draw on every
    stroke (a plotly chart costs a busy laptop far more). Built from our own numbers only."""
    top = int(np.argmax(probs))
    bars = "".join(
        f"<div style='flex:1;text-align:center;font-size:13px'>"
        f"<div style='height:{height}px;display:flex;flex-direction:column;justify-content:flex-end'>"
        f"<div style='font-size:11px;color:#555'>{p:.0%}</div>"
        f"<div style='height:{max(float(p) * height, 1):.0f}px;background:{'#31a354' if i == top else '#9ecae1'};"
        f"border-radius:3px 3px 0 0'></div></div><div>{i}</div></div>"
        for i, p in enumerate(probs))
    return f"<div class='probs' style='display:flex;gap:6px;align-items:flex-end'>{bars}</div>"


def upscale(image: np.ndarray, factor: int = 8) -> np.ndarray:
    """Nearest-neighbour enlargement, so each network pixel stays a visible square."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))


def framed(image: np.ndarray, right: bool, factor: int = 3) -> np.ndarray:
    """A test image enlarged, in a green frame when the model was right and a red one when wrong."""
    grey = upscale(image, factor)
    out = np.zeros((grey.shape[0] + 8, grey.shape[1] + 8, 3), np.uint8)
    out[:] = (46, 160, 67) if right else (220, 38, 38)
    out[4:-4, 4:-4] = grey[..., None]
    return out


def confusion_chart(confusion: np.ndarray) -> go.Figure:
    """Counts of true → predicted, the mistakes coloured (the diagonal would drown them)."""
    off = confusion.astype(float)
    np.fill_diagonal(off, np.nan)
    fig = go.Figure(go.Heatmap(z=off, x=list(range(10)), y=list(range(10)), text=[[f"{v}" for v in row] for row in confusion],
                               texttemplate="%{text}", colorscale="Reds", showscale=False,
                               hovertemplate="true %{y} → predicted %{x}: %{text}<extra></extra>"))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10),
                      title="Confusion matrix (choose a pair above to see those images)",
                      xaxis=dict(title="predicted", dtick=1), yaxis=dict(title="true", dtick=1, autorange="reversed"))
    return fig


def per_class_chart(per_class: np.ndarray) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(range(10)), y=per_class, text=[f"{a:.1%}" for a in per_class], textposition="outside",
                           marker_color="#3182bd"))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), title="Accuracy per digit",
                      yaxis=dict(range=[min(0.9, per_class.min() - 0.02), 1.005], tickformat=".0%"), xaxis=dict(dtick=1))
    return fig
