"""Rows in, plotly figures out. No data access here: the numbers come from lib.services.

What a reader can trust on every chart: value axes start at 0 (a bar or a rate drawn from 92 %
makes a 1-point change look like a collapse); numbers are French on the axis and in the hover
(« 14 205 », a narrow no-break space between thousands as lib/domain/fr.py writes them, « 93,4 % »);
a period still running is drawn apart and says « mois en cours »; axis labels are short (« nov. »,
« 30/11 ») so eleven months fit whole on a 390-px phone, the whole name is in the hover."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

THOUSANDS = "\u202f"  # as babel writes fr_FR numbers (lib/domain/fr.py)
PERCENT = "\u202f%"
EURO = "\u00a0€"
COUNT_FORMAT = ",~f"  # d3: thousands grouped with the layout's separator, no useless decimals


def _french(figure: go.Figure, **layout) -> go.Figure:
    """French numbers everywhere on a chart: decimal comma, narrow space between thousands (14 205,
    not 14k), value axis from 0, labels that make room for themselves."""
    figure.update_layout(
        separators="," + THOUSANDS, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend_orientation="h", **layout
    )
    figure.update_yaxes(
        separatethousands=True, exponentformat="none", rangemode="tozero", tickformat=COUNT_FORMAT, automargin=True
    )
    figure.update_xaxes(automargin=True)
    return figure


def _axis(frame: pd.DataFrame, label: str) -> tuple[list, list]:
    """(tick, whole label) per row: the short tick on the axis when the rows have one."""
    labels = frame[label].tolist()
    ticks = frame["tick"].tolist() if "tick" in frame else labels
    return ticks, labels


def _running(frame: pd.DataFrame) -> list[bool]:
    return [bool(v) for v in frame["running"]] if "running" in frame else [False] * len(frame)


# Two hues that stay distinct for the common colour-vision deficiencies, plus a pattern on the
# earlier year so the series never differ by colour alone.
CURRENT = "#1d4ed8"
PREVIOUS = "#9ca3af"


def monthly_comparison(
    frame: pd.DataFrame,
    *,
    current_label: str,
    previous_label: str | None,
    value_title: str,
    running_name: str = "mois en cours",
) -> go.Figure:
    """Grouped bars per school month: `frame` has columns month_label, current, previous, and
    optionally tick (the axis's short label) and running (this month is not over: its bar is
    dotted and marked « mois en cours »)."""
    figure = go.Figure()
    ticks, labels = _axis(frame, "month_label")
    running = _running(frame)
    hover = "%{customdata} : %{y:" + COUNT_FORMAT + "}<extra>"
    if previous_label is not None:
        figure.add_bar(
            x=ticks,
            y=frame["previous"].tolist(),
            name=previous_label,
            marker_color=PREVIOUS,
            marker_pattern_shape="/",
            customdata=labels,
            hovertemplate=hover + previous_label + "</extra>",
        )
    figure.add_bar(
        x=ticks,
        y=frame["current"].tolist(),
        name=current_label,
        marker_color=CURRENT,
        marker={
            "pattern": {
                "shape": ["." if r else "" for r in running],
                "fillmode": "overlay",
                "fgcolor": "#ffffff",
                "solidity": 0.4,
            },
            "opacity": [0.6 if r else 1.0 for r in running],
        },
        customdata=labels,
        hovertemplate=hover + current_label + "</extra>",
    )
    for tick, is_running, *values in zip(ticks, running, frame["current"], frame.get("previous", frame["current"])):
        if is_running:
            top = max((v for v in values if v is not None and v == v), default=0)
            figure.add_annotation(
                x=tick,
                y=top,
                text=running_name,
                showarrow=False,
                yanchor="bottom",
                font={"size": 12, "color": "#1f2430"},
            )
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
        kept = list(totals.index[: MAX_STACKS - 1])
        others = f"{OTHERS} ({len(totals) - len(kept)})"
        rest = per_day[~per_day.index.get_level_values(0).isin(kept)].groupby(level=1, sort=False).sum()
        parts = [(group, per_day.loc[group]) for group in kept] + [(others, rest)]
    else:
        parts = [(group, per_day.loc[group]) for group in dict.fromkeys(frame[stack_by])]
    for i, (group, part) in enumerate(parts):
        part = part.sort_index()
        figure.add_bar(
            x=part.index.tolist(),
            y=part.tolist(),
            name=str(group),
            marker_color=PALETTE[i % len(PALETTE)],
            marker_pattern_shape=PATTERNS[i % len(PATTERNS)],
            hovertemplate="%{x|%d/%m} : %{y:" + COUNT_FORMAT + "} repas<extra>" + str(group) + "</extra>",
        )
    checked = frame[frame["checked"] > 0].groupby("day")["present"].sum()
    if not checked.empty:
        figure.add_scatter(
            x=checked.index.tolist(),
            y=checked.tolist(),
            name="Repas pris (pointés présents)",
            mode="lines+markers",
            line={"color": "#111827", "dash": "dot"},
            marker_symbol="diamond",
            hovertemplate="%{x|%d/%m} : %{y:" + COUNT_FORMAT + "} repas pris<extra></extra>",
        )
    return _french(
        figure,
        barmode="stack",
        yaxis_title="Repas",
        xaxis_tickformat="%d/%m",
        xaxis_hoverformat="%d/%m/%Y",
        legend_y=-0.25,
        height=360,
    )


def year_lines(
    frame: pd.DataFrame,
    *,
    column: str,
    current_label: str,
    previous_label: str | None,
    value_title: str,
    percent: bool = False,
    running_name: str = "en cours",
) -> go.Figure:
    """One measure per period, this year (solid, circles) against the previous (dashed, squares).
    `frame` has label (whole, for the hover), optionally tick (axis) and running: the period still
    running is left off the line and drawn alone as an open circle named « … (en cours) », so a
    few days' figures never pass for a whole month's."""
    figure = go.Figure()
    ticks, labels = _axis(frame, "label")
    running = _running(frame)
    value = "%{y:,.1f}" + PERCENT if percent else "%{y:" + COUNT_FORMAT + "}"
    hover = "%{customdata} : " + value + "<extra>"
    if previous_label is not None and f"previous_{column}" in frame:
        figure.add_scatter(
            x=ticks,
            y=frame[f"previous_{column}"].tolist(),
            name=previous_label,
            mode="lines+markers",
            line={"color": PREVIOUS, "dash": "dash"},
            marker_symbol="square",
            customdata=labels,
            hovertemplate=hover + previous_label + "</extra>",
        )
    if f"current_{column}" in frame:
        values = frame[f"current_{column}"].tolist()
        figure.add_scatter(
            x=ticks,
            y=[None if r else v for v, r in zip(values, running)],
            name=current_label,
            mode="lines+markers",
            line={"color": CURRENT},
            marker_symbol="circle",
            customdata=labels,
            hovertemplate=hover + current_label + "</extra>",
        )
        partial = [(t, v, label) for t, v, label, r in zip(ticks, values, labels, running) if r and v is not None]
        if partial:
            name = f"{current_label} ({running_name})"
            figure.add_scatter(
                x=[p[0] for p in partial],
                y=[p[1] for p in partial],
                name=name,
                mode="markers",
                marker={"color": CURRENT, "symbol": "circle-open", "size": 11, "line": {"width": 2}},
                customdata=[p[2] for p in partial],
                hovertemplate=hover + name + "</extra>",
            )
    figure = _french(figure, yaxis_title=value_title, legend_y=-0.25, height=320)
    if percent:
        figure.update_yaxes(ticksuffix=PERCENT)
    return figure


def billing(frame: pd.DataFrame) -> go.Figure:
    """Billed and paid per month, in euros: `frame` has label (whole), optionally tick, billed and
    paid in cents."""
    figure = go.Figure()
    if frame.empty:
        return figure
    ticks, labels = _axis(frame, "label")
    for name, column, colour, pattern in (("Facturé", "billed", CURRENT, ""), ("Encaissé", "paid", "#15803d", "x")):
        figure.add_bar(
            x=ticks,
            y=(frame[column] / 100).tolist(),
            name=name,
            marker_color=colour,
            marker_pattern_shape=pattern,
            customdata=labels,
            hovertemplate="%{customdata} : %{y:,.2f}" + EURO + "<extra>" + name + "</extra>",
        )
    return _french(figure, barmode="group", yaxis_title="Euros", legend_y=-0.25, height=320)
