"""Charts: series never differ by colour alone, numbers are French (decimal comma, 1 000), and a
city's hundred sites stack as the biggest few plus « Autres », with every meal still counted."""

from datetime import date

import pandas as pd
import pytest

from lib import charts


def signature(trace) -> tuple:
    """What tells a series apart besides its colour."""
    marker = trace.marker or {}
    pattern = getattr(marker, "pattern", None)
    return (trace.type, getattr(pattern, "shape", None) or "", getattr(marker, "symbol", None),
            getattr(getattr(trace, "line", None), "dash", None) if trace.type == "scatter" else None)


def figures():
    months = pd.DataFrame({"month_label": ["Septembre", "Octobre"], "current": [10, 12], "previous": [9, 11]})
    days = pd.DataFrame({"day": [date(2026, 11, d) for d in (2, 2, 2, 3, 3, 3)] * 2,
                         "site": ["A", "B", "C"] * 4, "diet": ["standard", "sans porc", "végétarien"] * 4,
                         "booked": [5] * 12, "present": [4] * 12, "checked": [1] * 12})
    periods = pd.DataFrame({"label": ["Septembre", "Octobre"], "current_rate": [93.4, 92.1],
                            "previous_rate": [91.0, 90.5]})
    money = pd.DataFrame({"label": ["Septembre 2026"], "billed": [2_220_290], "paid": [2_087_030]})
    return {
        "monthly_comparison": charts.monthly_comparison(months, current_label="2026/2027",
                                                        previous_label="2025/2026", value_title="Jours"),
        "daily_meals": charts.daily_meals(days, stack_by="site"),
        "daily_meals_diet": charts.daily_meals(days, stack_by="diet"),
        "year_lines": charts.year_lines(periods, column="rate", current_label="2026/2027",
                                        previous_label="2025/2026", value_title="%"),
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
    assert layout.separators == ", "                      # 93,4 and 22 202
    assert layout.yaxis.separatethousands and layout.yaxis.exponentformat == "none"   # 20 000, not 20k
    if name.startswith("daily_meals"):
        assert layout.xaxis.tickformat == "%d/%m" and layout.xaxis.hoverformat == "%d/%m/%Y"  # not "Nov 27, 2026"


def frame(groups: int) -> pd.DataFrame:
    return pd.DataFrame([dict(day=date(2026, 11, d), site=f"Site {g:03d}", diet="Standard", booked=g + d, present=0,
                              absent=0, checked=0) for g in range(groups) for d in (2, 3)])


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
