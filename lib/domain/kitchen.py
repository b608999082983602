"""The kitchen's day: which day the production sheet is for, and when its figures are firm."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from lib.domain.calendar import SchoolCalendar
from lib.domain.deadlines import DeadlineRule

LUNCH_SERVED = time(14, 0)  # after lunch, the sheet to prepare is the next service day's


def sheet_day(now: datetime, meal_weekdays: Iterable[int], calendar: SchoolCalendar) -> date | None:
    """Today's sheet until lunch is served on a service day; otherwise the next service day
    (after Friday comes Monday; holidays and closures skipped)."""
    today = now.date()
    return calendar.next_service_day(meal_weekdays, today, inclusive=now.time() < LUNCH_SERVED)


def firm_from(day: date, rules: Iterable[DeadlineRule], calendar: SchoolCalendar) -> datetime:
    """The moment after which no family can book or cancel `day` any more: the latest of its
    services' limits. Before it, the counts are provisional."""
    return max(rule.limit(day, calendar) for rule in rules)
