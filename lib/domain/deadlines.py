"""Booking and cancellation deadlines: defined once, used by the calendar, the preview and the save.

Each service carries two rules (`ServiceDeadlines`): until when a day can be booked, until when a
booked day can be cancelled, each a number of days before it (calendar or working days) and a
cut-off hour on that last day. An administrator edits them (`deadline_rule` reads the form); their
default values are the database schema's (lib/store/migrations/006_deadline_cutoffs.sql).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lib.domain.calendar import SchoolCalendar
from lib.domain.clock import PARIS
from lib.domain.errors import InvalidInput, PortailError
from lib.domain.fr import hour, long_date, time_of_day
from lib.domain.validation import whole_number

MAX_DELAY_DAYS = 60


class DeadlinePassed(PortailError):
    """Too late to book or cancel this day (the message names the exact limit)."""


def _delay_days(value: object, label: str) -> int:
    """The one check of a delay: a whole number of days from 0 to MAX_DELAY_DAYS."""
    return whole_number(value, label, 0, MAX_DELAY_DAYS)


@dataclass(frozen=True)
class DeadlineRule:
    days: int
    working: bool  # True: jours ouvrés (weekends and public holidays skipped); False: calendar days
    cutoff: time  # Paris wall-clock hour on the last day

    def __post_init__(self) -> None:
        _delay_days(self.days, "Délai")
        if not isinstance(self.working, bool):
            raise InvalidInput("Jours ouvrés ou jours calendaires : choisissez l'un ou l'autre.")
        if not isinstance(self.cutoff, time):
            raise InvalidInput("Heure limite illisible.")

    def limit(self, day: date, calendar: SchoolCalendar) -> datetime:
        """The last moment (Paris time) this rule allows acting on `day`."""
        if self.working:
            last_day = calendar.add_working_days(day, -self.days)
        else:
            last_day = day - timedelta(days=self.days)
        return datetime.combine(last_day, self.cutoff, PARIS)

    def allows(self, day: date, calendar: SchoolCalendar, now: datetime) -> bool:
        return now <= self.limit(day, calendar)

    def describe(self) -> str:
        """'jusqu'à 2 jour(s) ouvré(s) avant, 23 h 59': the rule as the administrator reads it."""
        return f"jusqu'à {self.days} jour(s) {'ouvré(s) ' if self.working else ''}avant, {time_of_day(self.cutoff)}"


@dataclass(frozen=True)
class ServiceDeadlines:
    """A service's two rules, as the store reads and writes them."""

    book: DeadlineRule  # until when a day can be booked
    cancel: DeadlineRule  # until when a booked day can be cancelled


def deadline_rule(days: object, working: bool, cutoff: object, *, of: str) -> DeadlineRule:
    """The rule an administrator typed, or a refusal naming the field: `of` completes its label,
    « de réservation » (« Délai de réservation », « Heure limite de réservation ») or « d'annulation »."""
    if not isinstance(cutoff, time):
        raise InvalidInput(f"Heure limite {of} illisible.")
    return DeadlineRule(_delay_days(days, f"Délai {of}"), working, cutoff.replace(second=0, microsecond=0))


def limit_text(moment: datetime, *, article: bool = True) -> str:
    """'le vendredi 27 novembre 2026 à 23 h 59'; without the article after « jusqu'au »."""
    text = f"{long_date(moment)} à {hour(moment)}"
    return f"le {text}" if article else text


def check_booking(day: date, rule: DeadlineRule, calendar: SchoolCalendar, now: datetime) -> None:
    limit = rule.limit(day, calendar)
    if now > limit:
        raise DeadlinePassed(f"Réservation impossible pour le {long_date(day)} : la limite était {limit_text(limit)}.")


def check_cancellation(day: date, rule: DeadlineRule, calendar: SchoolCalendar, now: datetime) -> None:
    limit = rule.limit(day, calendar)
    if now > limit:
        raise DeadlinePassed(f"Annulation impossible pour le {long_date(day)} : la limite était {limit_text(limit)}.")
