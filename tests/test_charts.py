"""Charts: series never differ by colour alone, and numbers are French (decimal comma, 1 000)."""

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
