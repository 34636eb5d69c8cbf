"""The app's figures and pictures: plotly charts of a run and of a model's test predictions, the Draw
page's probability bars, enlarged images, the room's QR code. Plain functions; no Streamlit here."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

# Legends sit under the plot (never over a line), titles above it.
LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=330, uirevision="keep",
              legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0), hovermode="x unified")
LEGEND_ROW = 22  # px a legend row below a plot takes
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")  # categorical (d3's), one a run


def _legend_below(fig: go.Figure, rows: int) -> None:
    """The legend under the plot, never over a line: the figure grows by its rows."""
    fig.update_layout(height=LAYOUT["height"] + LEGEND_ROW * rows, margin=dict(l=10, r=10, t=40, b=50 + LEGEND_ROW * rows),
                      legend=dict(orientation="v", yanchor="top", y=-0.2, xanchor="left", x=0))


def log_ticks(values) -> dict:
    """A log axis labelled at 1, 2, 5 × 10^k in plain numbers ("0.05", not "5"), ranged to the nearest of
    them around the data, so that at least two labels show."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x) and x > 0], float)
    if not len(v):
        return dict(type="log")
    steps = [m * 10.0 ** k for k in range(-6, 4) for m in (1, 2, 5)]
    lo = max([t for t in steps if t <= v.min()], default=steps[0])
    hi = min([t for t in steps if t >= v.max()], default=steps[-1])
    ticks = [t for t in steps if lo <= t <= hi]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks],
                range=[np.log10(lo) - 0.02, np.log10(hi) + 0.02])


def loss_chart(s) -> go.Figure:
    """Batch loss, its smoothed curve and (right axis) the learning rate, per iteration."""
    fig = go.Figure()
    fig.add_scatter(x=s.loss_x, y=s.loss_y, name="batch", mode="lines", line=dict(width=1, color="#9ecae1"))
    fig.add_scatter(x=s.loss_x, y=s.loss_smooth, name="smoothed", mode="lines", line=dict(width=2.5, color="#08519c"))
    if s.lr:
        fig.add_scatter(x=s.loss_x, y=s.lr, name="learning rate (right)", mode="lines", yaxis="y2",
                        line=dict(width=1.5, color="#636363", dash="dot"))
    fig.update_layout(title="Training loss per iteration", xaxis_title="iteration", yaxis=log_ticks(s.loss_y),
                      yaxis2=dict(overlaying="y", side="right", rangemode="tozero", tickformat=".2~g", showgrid=False, tickmode="auto", nticks=5,
                                  title="learning rate", automargin=True),
                      **LAYOUT)
    return fig


def accuracy_range(*series) -> list[float]:
    """[low, 1]: from a little under the lowest accuracy shown to 100%; [0, 1] before there is any."""
    values = [v for xs in series for v in xs if v is not None and np.isfinite(v)]
    if not values:
        return [0.0, 1.0]
    return [max(0.0, np.floor((min(values) - 0.005) * 50) / 50), 1.0]


def accuracy_chart(s) -> go.Figure:
    """Training accuracy as it trains (smoothed over batches) and validation accuracy at each evaluation."""
    fig = go.Figure()
    shown = list(s.val_acc)
    if s.acc_smooth:
        fig.add_scatter(x=s.loss_x, y=s.acc_smooth, name="train (batches, smoothed)", mode="lines",
                        line=dict(width=1.5, color="#fd8d3c"))
        first = s.eval_x[0] if s.eval_x else None  # scale to the curve from the first validation on
        shown += [a for x, a in zip(s.loss_x, s.acc_smooth) if first is not None and x >= first]
    else:  # a run logged before batch accuracies: the training batches' accuracy between evaluations
        fig.add_scatter(x=s.eval_x, y=s.train_acc, name="train", mode="lines+markers", line=dict(color="#fd8d3c"))
        shown += s.train_acc
    start = [0] if "val" in s.before else []  # a run from a checkpoint starts where that model was (Baseline)
    fig.add_scatter(x=start + s.eval_x, y=[s.before.get("val")] * len(start) + s.val_acc, name="validation",
                    mode="lines+markers", line=dict(color="#31a354"))
    if s.room_held_out:  # a run with the room's drawings: its held-out part
        first = [s.before.get("room")] if start else []
        fig.add_scatter(x=start + s.eval_x, y=first + s.room_acc, name="room's drawings (held out)", mode="lines+markers",
                        line=dict(color="#756bb1"))
        shown += [a for a in first + s.room_acc if a is not None]
    shown += [s.before["val"]] if start else []
    fig.update_layout(title="Accuracy", xaxis_title="iteration", **LAYOUT)
    if s.room_held_out:
        _legend_below(fig, 3)  # three names do not fit on one row of a half-width chart
    fig.update_layout(yaxis=dict(tickformat=".0%" if accuracy_range(shown)[0] < 0.8 else ".1%", range=accuracy_range(shown)),
                      xaxis=dict(range=None if s.loss_x else [0, max(s.total_iterations, 1)]))  # the run's length, until data
    return fig


def epoch_chart(s) -> go.Figure:
    """Each epoch's mean batch loss with a bar of ± one standard deviation (cut at 0: a loss is never negative)."""
    mean, std = np.array(s.epoch_mean), np.array(s.epoch_std)
    fig = go.Figure()
    fig.add_scatter(x=s.epoch_x, y=mean, name="mean ± std", mode="lines+markers", line=dict(color="#08519c"),
                    error_y=dict(type="data", array=std, arrayminus=np.minimum(std, mean), color="#6baed6", thickness=1.5))
    fig.update_layout(title="Loss per epoch: mean ± std of its batches", xaxis_title="epoch", **LAYOUT)
    fig.update_layout(xaxis=dict(dtick=1, range=[0.5, max(s.epoch_x, default=1) + 0.5]),
                      yaxis=dict(rangemode="tozero"), showlegend=False)
    return fig


def compare_chart(summaries: dict, what: str) -> go.Figure:
    """Several runs on one plot: "loss" (smoothed training loss) or "accuracy" (validation), legend below.
    Run names are text from files and people: escaped, since plotly reads tags (a link too) in trace names."""
    fig = go.Figure()
    for (name, s), colour in zip(summaries.items(), RUN_COLOURS):
        name = html.escape(name)
        if what == "loss":
            fig.add_scatter(x=s.loss_x, y=s.loss_smooth, name=name, mode="lines", line=dict(color=colour))
        else:
            fig.add_scatter(x=s.eval_x, y=s.val_acc, name=name, mode="lines+markers", line=dict(color=colour))
    if what == "loss":
        fig.update_layout(title="Training loss (smoothed)", yaxis=log_ticks([v for s in summaries.values() for v in s.loss_smooth]))
    else:
        fig.update_layout(title="Validation accuracy",
                          yaxis=dict(tickformat=".1%", range=accuracy_range(*(s.val_acc for s in summaries.values()))))
    fig.update_layout(xaxis_title="iteration", **{k: v for k, v in LAYOUT.items() if k != "hovermode"}, hovermode="closest")
    _legend_below(fig, len(summaries))
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
    """Counts of true → predicted, the mistakes coloured (the diagonal would drown them). A transparent
    square marker on each cell makes it clickable: plotly reports clicks on points, not on heatmap cells."""
    off = confusion.astype(float)
    np.fill_diagonal(off, np.nan)
    fig = go.Figure(go.Heatmap(z=off, x=list(range(10)), y=list(range(10)), text=[[f"{v}" for v in row] for row in confusion],
                               texttemplate="%{text}", colorscale="Reds", showscale=False, hoverinfo="skip"))
    true, pred = np.divmod(np.arange(100), 10)
    fig.add_scatter(x=pred, y=true, mode="markers", customdata=confusion.ravel(), showlegend=False,
                    marker=dict(symbol="square", size=30, color="rgba(0,0,0,0)"),
                    hovertemplate="true %{y} → predicted %{x}: %{customdata} images (click to see them)<extra></extra>")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), clickmode="event+select", dragmode=False,
                      title="Confusion matrix: click a cell to see its images",
                      xaxis=dict(title="predicted", dtick=1, range=[-0.5, 9.5]),
                      yaxis=dict(title="true", dtick=1, range=[9.5, -0.5]))
    return fig


def per_class_chart(per_class: np.ndarray) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(range(10)), y=per_class, text=[f"{a:.1%}" for a in per_class], textposition="outside",
                           marker_color="#3182bd"))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), title="Accuracy per digit",
                      yaxis=dict(range=[min(0.9, per_class.min() - 0.02), 1.005], tickformat=".0%"), xaxis=dict(dtick=1))
    return fig


def reliability_chart(c) -> go.Figure:
    """A digits.calibration.Calibration's reliability diagram: per confidence bin, the mean confidence (across)
    against the accuracy (up), marker area ∝ images; the diagonal is "confidence means what it says"."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated", hoverinfo="skip",
                    line=dict(color="#969696", dash="dash", width=1))
    series = [("the network's own softmax (T = 1)", c.before, "#ff7f0e")]
    if c.temperature != 1.0:
        series.append((f"with its temperature (T = {c.temperature:.2f})", c.after, "#1f77b4"))
    most = max(b.count for _, bins, _ in series for b in bins)
    for name, bins, colour in series:
        fig.add_scatter(x=[b.confidence for b in bins], y=[b.accuracy for b in bins], name=name, mode="lines+markers",
                        line=dict(color=colour, width=1.5),
                        marker=dict(color=colour, size=[6 + 18 * (b.count / most) ** 0.5 for b in bins]),
                        customdata=[[b.low, b.high, b.count] for b in bins],
                        hovertemplate="sure %{customdata[0]:.0%}–%{customdata[1]:.0%}: %{customdata[2]:,} images, "
                                      "mean confidence %{x:.1%}, right %{y:.1%}<extra></extra>")
    fig.update_layout(**{**LAYOUT, "hovermode": "closest"}, title=f"Reliability on {c.measured_on:,} test images",
                      xaxis=dict(title="confidence: the top probability", range=[0, 1.02], tickformat=".0%", dtick=0.1),
                      yaxis=dict(title="accuracy: share read right", range=[0, 1.02], tickformat=".0%", dtick=0.1))
    _legend_below(fig, len(series) + 1)
    return fig


def qr_png(text: str, scale: int = 12) -> bytes:
    """A QR code of `text` as PNG bytes (segno), dark on white with the standard quiet zone, large
    enough to read from the back of a room when shown on a projector."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
