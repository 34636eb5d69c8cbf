"""The Model page's reliability diagram (digits.calibration.Calibration) and the not-a-digit detector's trade-off
(digits.detector_curve.Curve)."""

from __future__ import annotations

import math
import shlex
from pathlib import PurePath

import plotly.graph_objects as go

from webapp.pictures.layout import LAYOUT, legend_below

SPARSE = 30  # images in a confidence bin below which its accuracy is shown as a point with its count, not joined


def reliability_chart(c) -> go.Figure:
    """A digits.calibration.Calibration's reliability diagram: per confidence bin, the mean confidence (across)
    against the accuracy (up), marker area ∝ images; bins of fewer than SPARSE images are open points with
    their count; the diagonal is "confidence means what it says"."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated", hoverinfo="skip",
                    line=dict(color="#969696", dash="dash", width=1))
    series = [("the network's own softmax (T = 1)", c.before, "#ff7f0e")]
    if c.temperature != 1.0:
        series.append((f"with its temperature (T = {c.temperature:.2f})", c.after, "#1f77b4"))
    most = max(b.count for _, bins, _ in series for b in bins)
    hover = ("sure %{customdata[0]:.0%}–%{customdata[1]:.0%}: %{customdata[2]:,} images, "
             "mean confidence %{x:.1%}, right %{y:.1%}<extra></extra>")
    for name, bins, colour in series:
        # A bin of a few images says little: its accuracy is 0% or 100% by chance. Only bins of SPARSE images or
        # more are joined by the line; the others are open points labelled with their count.
        dense = [b for b in bins if b.count >= SPARSE]
        sparse = [b for b in bins if b.count < SPARSE]
        fig.add_scatter(x=[b.confidence for b in dense], y=[b.accuracy for b in dense], name=name, mode="lines+markers",
                        line=dict(color=colour, width=1.5), legendgroup=name,
                        marker=dict(color=colour, size=[6 + 18 * (b.count / most) ** 0.5 for b in dense]),
                        customdata=[[b.low, b.high, b.count] for b in dense], hovertemplate=hover)
        if sparse:
            fig.add_scatter(x=[b.confidence for b in sparse], y=[b.accuracy for b in sparse], mode="markers+text",
                            marker=dict(color=colour, size=7, symbol="circle-open"), legendgroup=name, showlegend=False,
                            text=[f"{b.count}" for b in sparse], textposition="top center",
                            textfont=dict(size=10, color=colour), customdata=[[b.low, b.high, b.count] for b in sparse],
                            hovertemplate=hover)
    fig.update_layout(**{**LAYOUT, "hovermode": "closest"}, title=f"Reliability on {c.measured_on:,} test images",
                      xaxis=dict(title="confidence: the top probability", range=[0, 1.02], tickformat=".0%", dtick=0.1),
                      yaxis=dict(title="accuracy: share read right", range=[0, 1.02], tickformat=".0%", dtick=0.1))
    legend_below(fig, len(series) + 1)
    return fig


def detector_chart(curve) -> go.Figure:
    """The detector's curve: real digits flagged (across, the cost) against non-digits flagged (up, the catch) at
    every threshold; the checkpoint's threshold and "detector off" (the unsure rule alone) marked. The digits' axis
    stops at 10% (past it a reader doubts too many real digits to be of use), or past the checkpoint's own point."""
    fig = go.Figure()
    hover = "threshold %{customdata}: digits flagged %{x:.2%}, not-digits flagged %{y:.1%}<extra></extra>"
    fig.add_scatter(x=curve.digits_flagged, y=curve.others_flagged, mode="lines", name="every threshold",
                    line=dict(color="#1f77b4", width=2, shape="hv"), hovertemplate=hover,
                    customdata=[f"{t:.2f}" if math.isfinite(t) else "off" for t in curve.thresholds])
    fig.add_scatter(x=[curve.at[0]], y=[curve.at[1]], mode="markers+text", name="this checkpoint's threshold",
                    marker=dict(color="#d62728", size=12, symbol="diamond"), text=[f"{curve.threshold:.2f}"],
                    textposition="bottom right", hovertemplate=hover, customdata=[f"{curve.threshold:.2f}"])
    fig.add_scatter(x=[curve.off[0]], y=[curve.off[1]], mode="markers", name="detector off: the unsure rule alone",
                    marker=dict(color="#7f7f7f", size=10, symbol="circle-open"), hovertemplate=hover,
                    customdata=["off"])
    fig.update_layout(**{**LAYOUT, "hovermode": "closest"}, title="Doubted digits against caught non-digits",
                      xaxis=dict(title="real digits flagged (lower is better)", tickformat=".0%",
                                 range=[0, max(0.1, 1.2 * curve.at[0], 1.2 * curve.off[0])]),
                      yaxis=dict(title="non-digits flagged (higher is better)", range=[0, 1.02], tickformat=".0%",
                                 dtick=0.1))
    legend_below(fig, 3)
    return fig


# Where the CLI's path arguments live in this project: a command shown with these folders runs from its root.
PATH_FLAGS = {"--checkpoint": "checkpoints", "--run-dir": "runs", "--snapshots": "runs", "--config": "runs",
              "--start-from": "checkpoints"}


def portable_path(value: str, folder: str) -> str:
    """An absolute path of the machine that ran a command, in this project's folders: from its last `runs` or
    `checkpoints` folder on (/tmp/x/runs/1/best.pt → runs/1/best.pt), else the file in `folder`."""
    parts = PurePath(value).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in ("runs", "checkpoints"):
            return "/".join(parts[i:])
    return f"{folder}/{PurePath(value).name}"


def portable_command(command: str) -> str:
    """A recorded command with the paths of the machine that ran it (an absolute --checkpoint /tmp/x/lenet5.pt)
    put in this project's folders (checkpoints/lenet5.pt), so that it runs where the reader is. A command that
    does not parse as shell words is returned as it was."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    for i, (flag, value) in enumerate(zip(words, words[1:])):
        if flag in PATH_FLAGS and PurePath(value).is_absolute():
            words[i + 1] = portable_path(value, PATH_FLAGS[flag])
    return shlex.join(words)
