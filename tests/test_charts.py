"""Charts: series never differ by colour alone, numbers are French (decimal comma, 1 000), and a
city's hundred sites stack as the biggest few plus « Autres », with every meal still counted."""

import re
from datetime import date

import pandas as pd
import pytest

from lib import charts


def signature(trace) -> tuple:
    """What tells a series apart besides its colour."""
    marker = trace.marker or {}
    pattern = getattr(marker, "pattern", None)
    return (
        trace.type,
        getattr(pattern, "shape", None) or "",
        getattr(marker, "symbol", None),
        getattr(getattr(trace, "line", None), "dash", None) if trace.type == "scatter" else None,
    )


def figures():
    months = pd.DataFrame({"month_label": ["Septembre", "Octobre"], "current": [10, 12], "previous": [9, 11]})
    days = pd.DataFrame(
        {
            "day": [date(2026, 11, d) for d in (2, 2, 2, 3, 3, 3)] * 2,
            "site": ["A", "B", "C"] * 4,
            "diet": ["standard", "sans porc", "végétarien"] * 4,
            "booked": [5] * 12,
            "present": [4] * 12,
            "checked": [1] * 12,
        }
    )
    periods = pd.DataFrame(
        {"label": ["Septembre", "Octobre"], "current_rate": [93.4, 92.1], "previous_rate": [91.0, 90.5]}
    )
    money = pd.DataFrame({"label": ["Septembre 2026"], "billed": [2_220_290], "paid": [2_087_030]})
    return {
        "monthly_comparison": charts.monthly_comparison(
            months, current_label="2026/2027", previous_label="2025/2026", value_title="Jours"
        ),
        "daily_meals": charts.daily_meals(days, stack_by="site"),
        "daily_meals_diet": charts.daily_meals(days, stack_by="diet"),
        "year_lines": charts.year_lines(
            periods, column="rate", current_label="2026/2027", previous_label="2025/2026", value_title="%"
        ),
        "billing": charts.billing(money),
    }


@pytest.mark.parametrize("name", list(figures()))
def test_series_never_differ_by_colour_alone(name):
    figure = figures()[name]
    marks = [signature(t) for t in figure.data]
    assert len(marks) >= 2 and len(set(marks)) == len(marks), (name, marks)


@pytest.mark.parametrize("name", list(figures()))
def test_numbers_are_french(name):
    layout = figures()[name].layout
    assert layout.separators == ",\u202f"  # 93,4 and 22 202 (narrow no-break space, as fr.py)
    assert layout.yaxis.separatethousands and layout.yaxis.exponentformat == "none"  # 20 000, not 20k
    if name.startswith("daily_meals"):
        assert layout.xaxis.tickformat == "%d/%m" and layout.xaxis.hoverformat == "%d/%m/%Y"  # not "Nov 27, 2026"


def frame(groups: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "day": date(2026, 11, d),
                "site": f"Site {g:03d}",
                "diet": "Standard",
                "booked": g + d,
                "present": 0,
                "absent": 0,
                "checked": 0,
            }
            for g in range(groups)
            for d in (2, 3)
        ]
    )


def test_a_few_sites_each_get_their_own_bar():
    figure = charts.daily_meals(frame(3), stack_by="site")
    assert [t.name for t in figure.data] == ["Site 000", "Site 001", "Site 002"]


def test_a_hundred_sites_stack_as_the_biggest_and_the_others_with_every_meal_counted():
    data = frame(100)
    figure = charts.daily_meals(data, stack_by="site")
    names = [t.name for t in figure.data]
    assert len(names) == charts.MAX_STACKS
    assert names[:3] == ["Site 099", "Site 098", "Site 097"]  # the biggest first
    assert names[-1] == "Autres (93)"
    assert sum(sum(t.y) for t in figure.data) == data["booked"].sum()


def test_the_most_stacks_a_chart_draws_still_differ_by_more_than_colour():
    figure = charts.daily_meals(frame(100), stack_by="site")
    marks = [signature(t) for t in figure.data]
    assert len(marks) == charts.MAX_STACKS and len(set(marks)) == len(marks)


# --- charts that do not mislead -----------------------------------------------------------------


def running_months() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month_label": ["Septembre", "Octobre", "Novembre (mois en cours)", "Décembre"],
            "tick": ["sept.", "oct.", "nov.", "déc."],
            "running": [False, False, True, False],
            "current": [5703, 3157, 1200, None],
            "previous": [5090, 2993, 4341, 3257],
        }
    )


def running_rates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["Septembre", "Octobre", "Novembre (mois en cours)"],
            "tick": ["sept.", "oct.", "nov."],
            "running": [False, False, True],
            "current_rate": [93.4, 92.6, 97.0],
            "previous_rate": [92.9, 93.2, 93.4],
        }
    )


@pytest.mark.parametrize("name", list(figures()))
def test_value_axes_start_at_zero_and_ticks_group_thousands(name):
    axis = figures()[name].layout.yaxis
    assert axis.rangemode == "tozero"
    assert axis.tickformat == ",~f"  # d3: « 14 205 » with the layout's narrow space, « 0,5 », never « 14.2k »


@pytest.mark.parametrize("name", list(figures()))
def test_hover_numbers_are_formatted(name):
    for trace in figures()[name].data:
        assert "%{y}" not in trace.hovertemplate, (name, trace.hovertemplate)  # plotly's default: no grouping
        assert re.search(r"%\{y:,", trace.hovertemplate), (name, trace.hovertemplate)


def test_the_running_month_bar_is_marked_and_named():
    figure = charts.monthly_comparison(
        running_months(), current_label="2026/2027", previous_label="2025/2026", value_title="Jours"
    )
    current = figure.data[-1]
    assert list(current.x) == ["sept.", "oct.", "nov.", "déc."]  # short French ticks on the axis
    assert list(current.customdata) == list(running_months()["month_label"])  # the whole name in the hover
    assert list(current.marker.pattern.shape) == ["", "", ".", ""]
    assert list(current.marker.opacity) == [1.0, 1.0, 0.6, 1.0]
    [note] = figure.layout.annotations
    assert (note.text, note.x, note.y) == ("mois en cours", "nov.", 4341)  # above the taller bar of its group


def test_without_a_running_month_nothing_is_marked():
    frame = running_months().assign(running=False)
    assert (
        charts.monthly_comparison(frame, current_label="a", previous_label="b", value_title="x").layout.annotations
        == ()
    )


def test_a_running_month_is_left_off_the_rate_line_and_drawn_apart():
    figure = charts.year_lines(
        running_rates(),
        column="rate",
        current_label="2026/2027",
        previous_label="2025/2026",
        value_title="% de présents",
        percent=True,
        running_name="mois en cours",
    )
    previous, current, running = figure.data
    assert list(current.y) == [93.4, 92.6, None]  # the line stops at the last whole month
    assert (running.name, list(running.x), list(running.y)) == ("2026/2027 (mois en cours)", ["nov."], [97.0])
    assert running.marker.symbol == "circle-open" and running.mode == "markers"
    assert list(previous.y) == [92.9, 93.2, 93.4]  # the previous year's months are whole
    assert figure.layout.yaxis.ticksuffix == "\u202f%" and figure.layout.yaxis.rangemode == "tozero"
    assert current.hovertemplate.startswith("%{customdata} : %{y:,.1f}\u202f%")


def test_counts_have_no_percent_suffix():
    frame = running_rates().rename(columns={"current_rate": "current_booked", "previous_rate": "previous_booked"})
    figure = charts.year_lines(frame, column="booked", current_label="a", previous_label="b", value_title="Jours")
    assert figure.layout.yaxis.ticksuffix is None
    assert "%{y:,~f}" in figure.data[0].hovertemplate


def test_billing_ticks_are_short_and_hover_in_euros():
    money = pd.DataFrame({"label": ["Septembre 2026"], "tick": ["sept. 26"], "billed": [2_220_290], "paid": [0]})
    figure = charts.billing(money)
    assert list(figure.data[0].x) == ["sept. 26"] and list(figure.data[0].customdata) == ["Septembre 2026"]
    assert figure.data[0].hovertemplate.startswith("%{customdata} : %{y:,.2f}\u00a0€")
