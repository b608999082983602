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
