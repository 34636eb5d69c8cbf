"""The Predictions page's charts of a model's test answers: the confusion matrix, accuracy per digit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go


def confusion_chart(confusion: np.ndarray) -> go.Figure:
    """Counts of true → predicted, the mistakes coloured (the diagonal would drown them). A transparent
    square marker on each cell makes it clickable: plotly reports clicks on points, not on heatmap cells."""
    off = confusion.astype(float)
    np.fill_diagonal(off, np.nan)
    fig = go.Figure(go.Heatmap(z=off, x=list(range(10)), y=list(range(10)),
                               text=[[f"{v}" for v in row] for row in confusion],
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
                      yaxis=dict(range=[min(0.9, per_class.min() - 0.02), 1.005], tickformat=".0%"),
                      xaxis=dict(dtick=1))
    return fig
