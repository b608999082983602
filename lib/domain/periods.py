"""Weeks and months as the mayor's charts and tables name them, and whether one is still running.

A month (or week) that has not ended yet holds fewer days than a whole one: drawn beside whole
ones without a mark, it reads as a drop. Its label says « (mois en cours) » and the charts draw it
apart. Labels come in two lengths: whole for tables and hover (« Semaine du 30 novembre »), short
for a chart's axis at 390 px (« nov. », « 30/11 »)."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import format_date

from lib.domain.fr import LOCALE

RUNNING = {"month": "mois en cours", "week": "semaine en cours"}


def month_start(day: date) -> date:
    return day.replace(day=1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def period_start(first_day: date, index: int, grain: str) -> date:
    """The `index`-th month or week (0 = the one holding `first_day`)."""
    if grain == "month":
        months = first_day.year * 12 + first_day.month - 1 + index
        return date(months // 12, months % 12 + 1, 1)
    return week_start(first_day) + timedelta(weeks=index)


def period_end(start: date, grain: str) -> date:
    if grain == "month":
        return period_start(start, 1, "month") - timedelta(days=1)
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


def week_name(monday: date) -> str:
    """'Semaine du 30 novembre', 'Semaine du 1er décembre'."""
    day = "1er" if monday.day == 1 else str(monday.day)
    return f"Semaine du {day} {format_date(monday, 'MMMM', locale=LOCALE)}"


def week_tick(monday: date) -> str:
    """'30/11'."""
    return f"{monday.day:02d}/{monday.month:02d}"


def labels(start: date, grain: str, today: date) -> dict:
    """label (tables, hover), tick (axis) and running (bool) for the period starting at `start`."""
    running = is_running(start, grain, today)
    label = month_name(start) if grain == "month" else week_name(start)
    tick = month_tick(start) if grain == "month" else week_tick(start)
    return {"label": f"{label} ({RUNNING[grain]})" if running else label, "tick": tick, "running": running}
