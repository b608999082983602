"""Months and weeks: their arithmetic (the next month, a month's last day, a month's weeks), the
names the mayor's charts and tables give them, and whether one is still running.

A month (or week) that has not ended yet holds fewer days than a whole one: drawn beside whole
ones without a mark, it reads as a drop. Its label says « (mois en cours) » and the charts draw it
apart. Labels come in two lengths: whole for tables and hover (« Semaine du 30 novembre »), short
for a chart's axis at 390 px (« nov. », « 30/11 »)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TypedDict

from babel.dates import format_date

from lib.domain.fr import LOCALE

RUNNING = {"month": "mois en cours", "week": "semaine en cours"}


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, count: int) -> date:
    """The first day of the month `count` months after the one holding `day` (before it when
    negative). Counting months, not days: no month length to get wrong."""
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def next_month(day: date) -> date:
    """The first day of the month after the one holding `day`."""
    return add_months(day, 1)


def previous_month(day: date) -> date:
    """The first day of the month before the one holding `day`."""
    return add_months(day, -1)


def month_end(day: date) -> date:
    """The last day of the month holding `day`."""
    return next_month(day) - timedelta(days=1)


def months_apart(first: date, later: date) -> int:
    """How many months from the month holding `first` to the one holding `later` (0: the same)."""
    return (later.year - first.year) * 12 + later.month - first.month


def months(first: date, last: date) -> list[date]:
    """The first day of every month from the one holding `first` to the one holding `last`."""
    return [add_months(first, n) for n in range(months_apart(first, last) + 1)]


def month_weeks(day: date) -> list[list[date]]:
    """The weeks, Monday to Sunday, that hold a day of the month holding `day` (a wall calendar's
    rows: the first and last weeks overlap the months beside it)."""
    monday, last = week_start(month_start(day)), month_end(day)
    weeks = []
    while monday <= last:
        weeks.append([monday + timedelta(days=n) for n in range(7)])
        monday += timedelta(weeks=1)
    return weeks


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def period_start(first_day: date, index: int, grain: str) -> date:
    """The `index`-th month or week (0 = the one holding `first_day`)."""
    if grain == "month":
        return add_months(first_day, index)
    return week_start(first_day) + timedelta(weeks=index)


def period_end(start: date, grain: str) -> date:
    if grain == "month":
        return month_end(start)
    return start + timedelta(days=6)


def is_running(start: date, grain: str, today: date) -> bool:
    """The period holds today: its figures so far are not a whole period's."""
    return start <= today <= period_end(start, grain)


def month_name(day: date) -> str:
    """'Novembre'."""
    return format_date(day, "MMMM", locale=LOCALE).capitalize()


def month_tick(day: date) -> str:
    """'nov.', 'sept.', 'mai': short enough for eleven months side by side on a phone; lower case,
    as French writes months (and never to be read as the English 'Nov')."""
    return format_date(day, "MMM", locale=LOCALE)


def month_year_tick(day: date) -> str:
    """'nov. 26': a month on an axis that spans two school years."""
    return f"{month_tick(day)} {day:%y}"


def week_name(monday: date) -> str:
    """'Semaine du 30 novembre', 'Semaine du 1er décembre'."""
    day = "1er" if monday.day == 1 else str(monday.day)
    return f"Semaine du {day} {format_date(monday, 'MMMM', locale=LOCALE)}"


def week_tick(monday: date) -> str:
    """'30/11'."""
    return f"{monday.day:02d}/{monday.month:02d}"


class PeriodLabels(TypedDict):
    label: str  # tables and hover: « Novembre (mois en cours) »
    tick: str  # a chart's axis: « nov. »
    running: bool


def labels(start: date, grain: str, today: date) -> PeriodLabels:
    """label (tables, hover), tick (axis) and running (bool) for the period starting at `start`."""
    running = is_running(start, grain, today)
    label = month_name(start) if grain == "month" else week_name(start)
    tick = month_tick(start) if grain == "month" else week_tick(start)
    return {"label": f"{label} ({RUNNING[grain]})" if running else label, "tick": tick, "running": running}
