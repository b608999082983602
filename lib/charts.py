"""Rows in, plotly figures out. No data access here: the numbers come from lib.services."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

def _french(figure: go.Figure, **layout) -> go.Figure:
    """French numbers everywhere on a chart: decimal comma, space between thousands (1 000, not 1k),
    dates as 27/11/2026 in hover labels."""
    figure.update_layout(separators=", ", margin=dict(l=10, r=10, t=10, b=10), legend_orientation="h", **layout)
    figure.update_yaxes(separatethousands=True, exponentformat="none")
    return figure


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
    return _french(figure, barmode="group", yaxis_title=value_title, legend_y=-0.2, height=340)


# Distinct hues (colour-blind safe) and a pattern each, so series never differ by colour alone.
PALETTE = ["#1d4ed8", "#b45309", "#15803d", "#7c3aed", "#be123c", "#0f766e", "#4b5563", "#a21caf"]
PATTERNS = ["", "/", "x", ".", "-", "+", "\\", "|"]


MAX_STACKS = 8
OTHERS = "Autres"


def daily_meals(frame: pd.DataFrame, *, stack_by: str) -> go.Figure:
    """Meals booked per day, stacked by site or diet, with the meals actually eaten as a line
    (where attendance exists) so the waste shows. Beyond MAX_STACKS groups (a city's hundred
    sites), the biggest ones keep their own colour and the rest stack as « Autres (n) »: a hundred
    stacked colours cannot be told apart, and drawing them took most of a second."""
    figure = go.Figure()
    if frame.empty:
        return figure
    # One grouping for every stack, and plain lists for plotly: a filter and a groupby per stack,
    # and pandas Series handed to plotly (converted and validated each time), took most of the
    # kitchen page's chart time at city scale.
    per_day = frame.groupby([stack_by, "day"], sort=False)["booked"].sum()
    totals = per_day.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    if len(totals) > MAX_STACKS:
        kept = list(totals.index[:MAX_STACKS - 1])
        others = f"{OTHERS} ({len(totals) - len(kept)})"
        rest = per_day[~per_day.index.get_level_values(0).isin(kept)].groupby(level=1, sort=False).sum()
        parts = [(group, per_day.loc[group]) for group in kept] + [(others, rest)]
    else:
        parts = [(group, per_day.loc[group]) for group in dict.fromkeys(frame[stack_by])]
    for i, (group, part) in enumerate(parts):
        part = part.sort_index()
        figure.add_bar(x=part.index.tolist(), y=part.tolist(), name=str(group), marker_color=PALETTE[i % len(PALETTE)],
                       marker_pattern_shape=PATTERNS[i % len(PATTERNS)],
                       hovertemplate="%{x|%d/%m} : %{y} repas<extra>" + str(group) + "</extra>")
    checked = frame[frame["checked"] > 0].groupby("day")["present"].sum()
    if not checked.empty:
        figure.add_scatter(x=checked.index.tolist(), y=checked.tolist(), name="Repas pris (pointés présents)",
                           mode="lines+markers", line=dict(color="#111827", dash="dot"), marker_symbol="diamond",
                           hovertemplate="%{x|%d/%m} : %{y} repas pris<extra></extra>")
    return _french(figure, barmode="stack", yaxis_title="Repas", xaxis_tickformat="%d/%m",
                   xaxis_hoverformat="%d/%m/%Y", legend_y=-0.25, height=360)


def year_lines(frame: pd.DataFrame, *, column: str, current_label: str, previous_label: str | None,
               value_title: str) -> go.Figure:
    """One measure per period, this year (solid, circles) against the previous (dashed, squares)."""
    figure = go.Figure()
    if previous_label is not None and f"previous_{column}" in frame:
        figure.add_scatter(x=frame["label"], y=frame[f"previous_{column}"], name=previous_label, mode="lines+markers",
                           line=dict(color=PREVIOUS, dash="dash"), marker_symbol="square")
    if f"current_{column}" in frame:
        figure.add_scatter(x=frame["label"], y=frame[f"current_{column}"], name=current_label, mode="lines+markers",
                           line=dict(color=CURRENT), marker_symbol="circle")
    return _french(figure, yaxis_title=value_title, legend_y=-0.25, height=320)


def billing(frame: pd.DataFrame) -> go.Figure:
    """Billed and paid per month, in euros."""
    figure = go.Figure()
    if frame.empty:
        return figure
    figure.add_bar(x=frame["label"], y=frame["billed"] / 100, name="Facturé", marker_color=CURRENT,
                   hovertemplate="%{x} : %{y:,.2f} €<extra>Facturé</extra>")
    figure.add_bar(x=frame["label"], y=frame["paid"] / 100, name="Encaissé", marker_color="#15803d",
                   marker_pattern_shape="x", hovertemplate="%{x} : %{y:,.2f} €<extra>Encaissé</extra>")
    return _french(figure, barmode="group", yaxis_title="Euros", legend_y=-0.25, height=320)
