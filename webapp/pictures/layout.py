"""The look every chart of the app shares: margins, legends under the plot, run colours, log axes."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

# Legends sit under the plot (never over a line), titles above it.
# Plotly's toolbar stands upright at the right edge, never over a title that reaches across a half-width chart.
LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=330, uirevision="keep",
              legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0), hovermode="x unified",
              modebar=dict(orientation="v"))
LEGEND_ROW = 22  # px a legend row below a plot takes
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")  # categorical (d3's), one a run


def legend_below(fig: go.Figure, rows: int) -> None:
    """The legend under the plot, never over a line: the figure grows by its rows."""
    fig.update_layout(height=LAYOUT["height"] + LEGEND_ROW * rows,
                      margin=dict(l=10, r=10, t=40, b=50 + LEGEND_ROW * rows),
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
