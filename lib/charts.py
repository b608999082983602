"""Rows in, plotly figures out. No data access here: the numbers come from lib.services."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

# Two hues that stay distinct for the common colour-vision deficiencies, plus a pattern on the
# earlier year so the series never differ by colour alone.
CURRENT = "#1d4ed8"
PREVIOUS = "#9ca3af"


def monthly_comparison(frame: pd.DataFrame, *, current_label: str, previous_label: str | None,
                       value_title: str) -> go.Figure:
    """Grouped bars per school month: `frame` has columns month_label, current, previous."""
    figure = go.Figure()
    if previous_label is not None:
        figure.add_bar(x=frame["month_label"], y=frame["previous"], name=previous_label, marker_color=PREVIOUS,
                       marker_pattern_shape="/", hovertemplate="%{x} : %{y}<extra>" + previous_label + "</extra>")
    figure.add_bar(x=frame["month_label"], y=frame["current"], name=current_label, marker_color=CURRENT,
                   hovertemplate="%{x} : %{y}<extra>" + current_label + "</extra>")
    figure.update_layout(barmode="group", yaxis_title=value_title, legend_orientation="h", legend_y=-0.2,
                         margin=dict(l=10, r=10, t=10, b=10), height=340, separators=", ")
    return figure
