"""School years (années scolaires), computed from the official holiday calendar.

A school year N/N+1 runs from the day after the summer holidays of year N end to the day
before the summer holidays of year N+1 begin, in the town's zone. When the holiday data does not
cover a year yet, the usual shape (first weekday of September, last day before the first
Saturday of July) stands in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lib.domain.calendar import school_holiday_name

SUMMER = "Vacances d'été"


@dataclass(frozen=True)
class SchoolYear:
    start_year: int
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start_year}/{self.start_year + 1}"


def start_year_for(day: date) -> int:
    """The school year a date belongs to, for registration purposes: from August on, the
    coming year (families register during the summer)."""
    return day.year if day.month >= 8 else day.year - 1


def school_year(start_year: int, zone: str) -> SchoolYear:
    return SchoolYear(start_year, _first_day(start_year, zone), _last_day(start_year + 1, zone))


def current_and_previous(today: date, zone: str) -> tuple[SchoolYear, SchoolYear]:
    current = start_year_for(today)
    return school_year(current, zone), school_year(current - 1, zone)


def _first_day(year: int, zone: str) -> date:
    day = date(year, 8, 31)
    if school_holiday_name(day, zone) == SUMMER:
        while school_holiday_name(day, zone) == SUMMER:
            day += timedelta(days=1)
        return day
    day = date(year, 9, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _last_day(year: int, zone: str) -> date:
    for day_of_month in range(1, 15):
        day = date(year, 7, day_of_month)
        if school_holiday_name(day, zone) == SUMMER:
            return day - timedelta(days=1)
    day = date(year, 7, 1)
    while day.weekday() != 5:
        day += timedelta(days=1)
    return day - timedelta(days=1)
