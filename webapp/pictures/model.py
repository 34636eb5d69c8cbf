"""The Model page's reliability diagram (digits.calibration.Calibration)."""

from __future__ import annotations

import plotly.graph_objects as go

from webapp.pictures.layout import LAYOUT, legend_below


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
    legend_below(fig, len(series) + 1)
    return fig
