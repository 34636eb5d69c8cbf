"""The Train page's charts of a run (digits.summary.RunSummary): loss, accuracy, per-epoch loss, runs compared."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from webapp.pictures.layout import LAYOUT, RUN_COLOURS, legend_below, log_ticks


def loss_chart(s) -> go.Figure:
    """Batch loss, its smoothed curve and (right axis) the learning rate, per iteration."""
    fig = go.Figure()
    fig.add_scatter(x=s.loss_x, y=s.loss_y, name="batch", mode="lines", line=dict(width=1, color="#9ecae1"))
    fig.add_scatter(x=s.loss_x, y=s.loss_smooth, name="smoothed", mode="lines", line=dict(width=2.5, color="#08519c"))
    if s.lr:
        fig.add_scatter(x=s.loss_x, y=s.lr, name="learning rate (right)", mode="lines", yaxis="y2",
                        line=dict(width=1.5, color="#636363", dash="dot"))
    fig.update_layout(title="Training loss per iteration", xaxis_title="iteration",
                      yaxis=dict(**log_ticks(s.loss_y), title="loss (cross-entropy, log scale)"),
                      yaxis2=dict(overlaying="y", side="right", rangemode="tozero", tickformat=".2~g", showgrid=False,
                                  tickmode="auto", nticks=5, title="learning rate", automargin=True),
                      **LAYOUT)
    return fig


def accuracy_range(*series) -> list[float]:
    """[low, 1]: from a little under the lowest accuracy shown to 100%; [0, 1] before there is any."""
    values = [v for xs in series for v in xs if v is not None and np.isfinite(v)]
    if not values:
        return [0.0, 1.0]
    return [max(0.0, np.floor((min(values) - 0.005) * 50) / 50), 1.0]


def accuracy_chart(s, zoom: bool = False) -> go.Figure:
    """Training accuracy as it trains (smoothed over batches) and validation accuracy at each evaluation, on
    0–100% so the whole climb stays in view, during the run and after it; `zoom`: from a little under the lowest
    validation point to 100%, to tell the last points apart."""
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
        fig.add_scatter(x=start + s.eval_x, y=first + s.room_acc, name="room's drawings (held out)",
                        mode="lines+markers", line=dict(color="#756bb1"))
        shown += [a for a in first + s.room_acc if a is not None]
    shown += [s.before["val"]] if start else []
    fig.update_layout(title="Accuracy", xaxis_title="iteration", **LAYOUT)
    if s.room_held_out:
        legend_below(fig, 3)  # three names do not fit on one row of a half-width chart
    low = accuracy_range(shown)[0] if zoom else 0.0
    fig.update_layout(uirevision=f"zoom {zoom}")  # a new range when the toggle changes, kept while the run grows
    fig.update_layout(yaxis=dict(tickformat=".0%" if low < 0.8 else ".1%", range=[low, 1.005], title="accuracy"),
                      # the run's length, until data
                      xaxis=dict(range=None if s.loss_x else [0, max(s.total_iterations, 1)]))
    return fig


def epoch_chart(s) -> go.Figure:
    """Each epoch's mean batch loss with a bar of ± one standard deviation (cut at 0: a loss is never negative)."""
    mean, std = np.array(s.epoch_mean), np.array(s.epoch_std)
    fig = go.Figure()
    fig.add_scatter(x=s.epoch_x, y=mean, name="mean ± std", mode="lines+markers", line=dict(color="#08519c"),
                    error_y=dict(type="data", array=std, arrayminus=np.minimum(std, mean), color="#6baed6",
                                 thickness=1.5))
    fig.update_layout(title="Loss per epoch: mean ± std of its batches", xaxis_title="epoch", **LAYOUT)
    fig.update_layout(xaxis=dict(dtick=1, range=[0.5, max(s.epoch_x, default=1) + 0.5]),
                      yaxis=dict(rangemode="tozero", title="loss (cross-entropy)"), showlegend=False)
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
        fig.update_layout(title="Training loss (smoothed)",
                          yaxis=dict(**log_ticks([v for s in summaries.values() for v in s.loss_smooth]),
                                     title="loss (cross-entropy, log scale)"))
    else:
        fig.update_layout(title="Validation accuracy",
                          yaxis=dict(tickformat=".1%", range=accuracy_range(*(s.val_acc for s in summaries.values())),
                                     title="validation accuracy"))
    fig.update_layout(xaxis_title="iteration", **{k: v for k, v in LAYOUT.items() if k != "hovermode"},
                      hovermode="closest")
    legend_below(fig, len(summaries))
    return fig


def figures_row(items: list[tuple[str, str, str]]) -> str:
    """A run's headline figures, (label, value, tooltip) each, as one HTML row that wraps: five across on a
    laptop, two or three a line on a phone. Every text is escaped (a device name comes from a run's file)."""
    cells = "".join(
        f"<div class='figure' title='{html.escape(tip, quote=True)}' style='min-width:110px;flex:1'>"
        f"<div style='font-size:13px;color:#666'>{html.escape(label)}</div>"
        f"<div style='font-size:26px;line-height:1.2'>{html.escape(value)}</div></div>"
        for label, value, tip in items)
    phone = ("<style>@media (max-width: 640px) { .figures .figure { min-width: 28% !important; }"
             " .figures .figure div:last-child { font-size: 18px !important; } }</style>")  # three a line, smaller
    return f"{phone}<div class='figures' style='display:flex;flex-wrap:wrap;gap:8px 16px'>{cells}</div>"
