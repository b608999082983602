"""Booking and cancellation deadlines: defined once, used by the calendar, the preview and the save.

The seed's rules are the defaults: a booked day can be cancelled until 2 working days before it,
an occasional day booked until 7 days before it, each time until a cut-off hour on that last
day. Each service carries its own rules (`DeadlineRule`), editable by an administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lib.domain.calendar import SchoolCalendar
from lib.domain.clock import PARIS
from lib.domain.errors import InvalidInput, PortailError
from lib.domain.fr import hour, long_date

MAX_DELAY_DAYS = 60


class DeadlinePassed(PortailError):
    """Too late to book or cancel this day (the message names the exact limit)."""


@dataclass(frozen=True)
class DeadlineRule:
    days: int
    working: bool  # True: jours ouvrés (weekends and public holidays skipped); False: calendar days
    cutoff: time = time(23, 59)

    def __post_init__(self) -> None:
        if not isinstance(self.days, int) or not 0 <= self.days <= MAX_DELAY_DAYS:
            raise InvalidInput(f"Le délai doit être un nombre de jours entre 0 et {MAX_DELAY_DAYS}.")

    def limit(self, day: date, calendar: SchoolCalendar) -> datetime:
        """The last moment (Paris time) this rule allows acting on `day`."""
        if self.working:
            last_day = calendar.add_working_days(day, -self.days)
        else:
            last_day = day - timedelta(days=self.days)
        return datetime.combine(last_day, self.cutoff, PARIS)

    def allows(self, day: date, calendar: SchoolCalendar, now: datetime) -> bool:
        return now <= self.limit(day, calendar)


DEFAULT_BOOK = DeadlineRule(7, working=False)
DEFAULT_CANCEL = DeadlineRule(2, working=True)


def limit_text(moment: datetime) -> str:
    """'le vendredi 27 novembre 2026 à 23 h 59'."""
    return f"le {long_date(moment)} à {hour(moment)}"


def check_booking(day: date, rule: DeadlineRule, calendar: SchoolCalendar, now: datetime) -> None:
    limit = rule.limit(day, calendar)
    if now > limit:
        raise DeadlinePassed(f"Réservation impossible pour le {long_date(day)} : la limite était {limit_text(limit)}.")


def check_cancellation(day: date, rule: DeadlineRule, calendar: SchoolCalendar, now: datetime) -> None:
    limit = rule.limit(day, calendar)
    if now > limit:
        raise DeadlinePassed(f"Annulation impossible pour le {long_date(day)} : la limite était {limit_text(limit)}.")
