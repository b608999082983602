"""Periods of the mayor's charts: names, short axis labels, and the running one marked."""

from datetime import date

import pytest

from lib.domain import periods


@pytest.mark.parametrize(
    "start, grain, today, expected",
    [
        (
            date(2026, 11, 1),
            "month",
            date(2026, 11, 27),
            {"label": "Novembre (mois en cours)", "tick": "nov.", "running": True},
        ),
        (date(2026, 10, 1), "month", date(2026, 11, 27), {"label": "Octobre", "tick": "oct.", "running": False}),
        (
            date(2026, 11, 1),
            "month",
            date(2026, 11, 30),
            {"label": "Novembre (mois en cours)", "tick": "nov.", "running": True},
        ),  # the last day is not over
        (date(2026, 11, 1), "month", date(2026, 12, 1), {"label": "Novembre", "tick": "nov.", "running": False}),
        (date(2026, 9, 1), "month", date(2026, 11, 27), {"label": "Septembre", "tick": "sept.", "running": False}),
        (
            date(2026, 11, 30),
            "week",
            date(2026, 12, 6),
            {"label": "Semaine du 30 novembre (semaine en cours)", "tick": "30/11", "running": True},
        ),
        (
            date(2026, 11, 23),
            "week",
            date(2026, 11, 30),
            {"label": "Semaine du 23 novembre", "tick": "23/11", "running": False},
        ),
        (
            date(2025, 12, 1),
            "week",
            date(2026, 11, 27),
            {"label": "Semaine du 1er décembre", "tick": "01/12", "running": False},
        ),
    ],
)
def test_labels(start, grain, today, expected):
    assert periods.labels(start, grain, today) == expected


@pytest.mark.parametrize(
    "first, index, grain, expected",
    [
        (date(2026, 9, 1), 0, "month", date(2026, 9, 1)),
        (date(2026, 9, 1), 4, "month", date(2027, 1, 1)),
        (date(2026, 9, 1), 0, "week", date(2026, 8, 31)),
        (date(2026, 9, 1), 13, "week", date(2026, 11, 30)),
    ],
)
def test_period_start(first, index, grain, expected):
    assert periods.period_start(first, index, grain) == expected


def test_every_month_tick_is_short_and_french():
    ticks = [periods.month_tick(date(2026, m, 1)) for m in range(1, 13)]
    assert ticks == ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
    assert max(map(len, ticks)) <= 5
    assert periods.month_year_tick(date(2027, 1, 1)) == "janv. 27"


@pytest.mark.parametrize(
    "day, following, previous, last",
    [
        (date(2026, 12, 15), date(2027, 1, 1), date(2026, 11, 1), date(2026, 12, 31)),  # December → January
        (date(2027, 1, 31), date(2027, 2, 1), date(2026, 12, 1), date(2027, 1, 31)),  # 31 January: no 3 March
        (date(2028, 2, 10), date(2028, 3, 1), date(2028, 1, 1), date(2028, 2, 29)),  # leap February
        (date(2027, 2, 28), date(2027, 3, 1), date(2027, 1, 1), date(2027, 2, 28)),  # common February
        (date(2026, 4, 30), date(2026, 5, 1), date(2026, 3, 1), date(2026, 4, 30)),  # a 30-day month
        (date(2026, 3, 31), date(2026, 4, 1), date(2026, 2, 1), date(2026, 3, 31)),  # 31 March: no 29 February
    ],
)
def test_next_and_previous_month_and_month_end(day, following, previous, last):
    assert periods.next_month(day) == following
    assert periods.previous_month(day) == previous
    assert periods.month_end(day) == last


@pytest.mark.parametrize(
    "day, count, expected",
    [
        (date(2026, 11, 27), 0, date(2026, 11, 1)),
        (date(2026, 11, 27), 14, date(2028, 1, 1)),
        (date(2026, 1, 31), -1, date(2025, 12, 1)),
        (date(2026, 1, 31), -25, date(2023, 12, 1)),
    ],
)
def test_add_months(day, count, expected):
    assert periods.add_months(day, count) == expected


def test_months_of_a_school_year():
    found = periods.months(date(2026, 9, 1), date(2027, 7, 3))
    assert found[0] == date(2026, 9, 1) and found[-1] == date(2027, 7, 1) and len(found) == 11
    assert found[4] == date(2027, 1, 1)  # across the new year
    assert periods.months(date(2026, 11, 30), date(2026, 11, 1)) == [date(2026, 11, 1)]  # same month
    assert periods.months_apart(date(2026, 9, 15), date(2027, 7, 3)) == 10
    assert periods.months_apart(date(2026, 9, 15), date(2026, 9, 1)) == 0


@pytest.mark.parametrize(
    "month, weeks, first, last",
    [
        (date(2026, 11, 27), 6, date(2026, 10, 26), date(2026, 12, 6)),  # starts on a Sunday: six rows
        (date(2027, 2, 1), 4, date(2027, 2, 1), date(2027, 2, 28)),  # 28 days from a Monday: four rows
        (date(2026, 12, 1), 5, date(2026, 11, 30), date(2027, 1, 3)),
    ],
)
def test_month_weeks_run_monday_to_sunday(month, weeks, first, last):
    found = periods.month_weeks(month)
    assert len(found) == weeks and found[0][0] == first and found[-1][-1] == last
    assert all(len(w) == 7 and w[0].weekday() == 0 for w in found)
    days = [d for w in found for d in w if d.month == month.month]
    assert days[0].day == 1 and days[-1] == periods.month_end(month) and len(days) == len(set(days))
