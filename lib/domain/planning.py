"""What a booking change will do, decided before anything is written.

A weekly template ("semaine type") or a set of occasional days becomes a `Plan`: the days to
book, the days to cancel, and the days skipped with the reason in French. The same functions
serve the preview ("Appliquer") and the save ("Confirmer"), so what the parent saw is what is
saved; the calendar's colours come from `day_cells`, which applies the same deadline rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from lib.domain.calendar import WEEKDAY_NAMES, SchoolCalendar
from lib.domain.deadlines import DeadlinePassed, DeadlineRule, check_booking, check_cancellation, limit_text
from lib.domain.errors import InvalidInput
from lib.domain.fr import long_date
from lib.domain.periods import month_start

Key = tuple[int, date]  # (service_id, day)


class BookingState(StrEnum):
    """The state of a stored booking (the store's `bookings.state`; the schema's CHECK lists the
    same values). Cancelling keeps the row, so that the history stays readable."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    WAITING = "waiting"  # the day was full: on its waiting list


ACTIVE = (BookingState.BOOKED, BookingState.WAITING)  # stored states that hold (or wait for) a place


class BookingChange(NamedTuple):
    """One booking row a change writes: the service's day for the child, at the site that gives it."""

    service_id: int
    day: date
    site_id: int
    state: BookingState


@dataclass(frozen=True)
class ServiceInfo:
    """A service as one registered child sees it: where it is given and its deadlines."""

    id: int
    code: str
    name: str
    short_name: str
    weekdays: tuple[int, ...]
    site_id: int
    book: DeadlineRule
    cancel: DeadlineRule


class State(StrEnum):
    """What a calendar cell shows: a stored booking state, or what the day allows, or attendance."""

    BOOKED = BookingState.BOOKED.value
    CANCELLED = BookingState.CANCELLED.value
    WAITING = BookingState.WAITING.value
    BOOKABLE = "bookable"
    LOCKED = "locked"
    CLOSED = "closed"
    PRESENT = "present"
    ABSENT = "absent"
    JUSTIFIED = "justified"
    TO_BOOK = "to_book"  # preview only
    TO_CANCEL = "to_cancel"  # preview only


@dataclass(frozen=True)
class Skip:
    service_id: int
    day: date
    reason: str


@dataclass
class Plan:
    to_book: list[Key] = field(default_factory=list)
    to_cancel: list[Key] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.to_book and not self.to_cancel

    def by_month(self) -> list[tuple[date, list[Key], list[Key]]]:
        """(first day of the month, days to book, days to cancel), month by month in day order:
        the preview names every day that will change, without paging through the calendar."""
        months: dict[date, tuple[list[Key], list[Key]]] = {}
        for keys, slot in ((self.to_book, 0), (self.to_cancel, 1)):
            for key in keys:
                months.setdefault(month_start(key[1]), ([], []))[slot].append(key)
        return [
            (month, sorted(book, key=_by_day), sorted(cancel, key=_by_day))
            for month, (book, cancel) in sorted(months.items())
        ]

    def skipped_by_reason(self) -> list[tuple[str, int]]:
        """('Vacances de Noël', 8), … in order of first appearance."""
        counts: dict[str, int] = {}
        for skip in self.skipped:
            counts[skip.reason] = counts.get(skip.reason, 0) + 1
        return list(counts.items())


def _by_day(key: Key) -> tuple[date, int]:
    return key[1], key[0]


# --- validation ------------------------------------------------------------------------------


def check_period(
    start: date | None, end: date | None, year_start: date, year_end: date, year_label: str, today: date
) -> None:
    if start is None or end is None:
        raise InvalidInput("Indiquez le début et la fin de la période.")
    if end < start:
        raise InvalidInput("La fin de la période précède son début : vérifiez les dates.")
    if start < year_start or end > year_end:
        raise InvalidInput(
            f"La période doit rester dans l'année scolaire {year_label} "
            f"(du {long_date(year_start)} au {long_date(year_end)})."
        )
    if end < today:
        raise InvalidInput("Cette période est entièrement passée : choisissez des jours à venir.")


def check_template(template: Mapping[int, Iterable[int]], services: Sequence[ServiceInfo]) -> dict[int, set[int]]:
    """Ticked weekdays per service named in the template, checked against the days each service is
    given. A service left out of the template is left as it is; one named with no day ticked has
    its days cancelled (the parent unticked them all)."""
    by_id = {s.id: s for s in services}
    clean: dict[int, set[int]] = {}
    for service_id, weekdays in template.items():
        service = by_id.get(service_id)
        if service is None:
            raise InvalidInput("Prestation inconnue ou non choisie à l'inscription de cet enfant.")
        days = set(weekdays)
        wrong = sorted(days - set(service.weekdays))
        if wrong:
            raise InvalidInput(
                f"« {service.name} » n'est pas assurée le {WEEKDAY_NAMES[wrong[0] - 1]} : décochez ce jour."
            )
        clean[service_id] = days
    if not clean:
        raise InvalidInput("La semaine type n'a pas changé : cochez ou décochez au moins un jour, puis « Appliquer ».")
    return clean


def current_pattern(
    services: Sequence[ServiceInfo],
    current: Mapping[Key, BookingState],
    calendar: SchoolCalendar,
    first: date,
    last: date,
) -> dict[int, tuple[int, ...]]:
    """The weekdays each service is booked on at least half of its open days of [first, last]:
    the weekly template the editor opens with, so that what the parent does not touch stays."""
    pattern: dict[int, tuple[int, ...]] = {}
    for service in services:
        open_days: dict[int, int] = {}
        active: dict[int, int] = {}
        day = first
        while day <= last:
            weekday = day.isoweekday()
            if weekday in service.weekdays and calendar.day_off_reason(day, service.site_id, service.id) is None:
                open_days[weekday] = open_days.get(weekday, 0) + 1
                if current.get((service.id, day)) in ACTIVE:
                    active[weekday] = active.get(weekday, 0) + 1
            day += timedelta(days=1)
        pattern[service.id] = tuple(w for w in service.weekdays if active.get(w, 0) and 2 * active[w] >= open_days[w])
    return pattern


# --- plans -----------------------------------------------------------------------------------


def plan_template(
    template: Mapping[int, Iterable[int]],
    services: Sequence[ServiceInfo],
    start: date,
    end: date,
    current: Mapping[Key, BookingState],
    calendar: SchoolCalendar,
    now: datetime,
    *,
    override: bool = False,
) -> Plan:
    """Replace the bookings of [start, end] from today on by the weekly template, for the services
    the template names (the others are not touched).

    `current` maps (service, day) to the stored `BookingState`.
    Ticked days are booked when the booking deadline allows (or `override`), unticked booked
    days cancelled when the cancellation deadline allows; past days are never touched.
    """
    ticked = check_template(template, services)
    today = now.date()
    plan = Plan()
    first = max(start, today)
    for service in services:
        if service.id not in ticked:
            continue
        wanted = ticked[service.id]
        day = first
        while day <= end:
            weekday = day.isoweekday()
            if weekday in service.weekdays:
                _plan_template_day(
                    plan, service, day, weekday in wanted, current.get((service.id, day)), calendar, now, override
                )
            day += timedelta(days=1)
    return plan


def _plan_template_day(
    plan: Plan,
    service: ServiceInfo,
    day: date,
    wanted: bool,
    state: BookingState | None,
    calendar: SchoolCalendar,
    now: datetime,
    override: bool,
) -> None:
    closed = calendar.day_off_reason(day, service.site_id, service.id)
    if closed is not None:
        if wanted:
            plan.skipped.append(Skip(service.id, day, closed))
        return
    key = (service.id, day)
    active = state in ACTIVE
    if wanted and not active:
        if override or service.book.allows(day, calendar, now):
            plan.to_book.append(key)
        else:
            plan.skipped.append(Skip(service.id, day, "Délai de réservation dépassé"))
    elif not wanted and active:
        if override or service.cancel.allows(day, calendar, now):
            plan.to_cancel.append(key)
        else:
            plan.skipped.append(Skip(service.id, day, "Délai d'annulation dépassé : réservation conservée"))
    else:
        plan.unchanged += 1


def plan_days(
    service: ServiceInfo,
    book: Iterable[date],
    cancel: Iterable[date],
    current: Mapping[Key, BookingState],
    calendar: SchoolCalendar,
    now: datetime,
    *,
    override: bool = False,
) -> Plan:
    """Occasional days: book the days in `book`, cancel the days in `cancel`, and touch no other
    day. All or nothing: a day that may not change raises, with its limit. A day already in the
    state asked for is left as it is (counted unchanged)."""
    book, cancel = set(book), set(cancel)
    both = sorted(book & cancel)
    if both:
        raise InvalidInput(f"Le {long_date(both[0])} ne peut pas être à la fois réservé et annulé.")
    today = now.date()
    plan = Plan()
    for day in sorted(book | cancel):
        key = (service.id, day)
        tick = day in book
        if tick == (current.get(key) in ACTIVE):
            plan.unchanged += 1
            continue
        closed = calendar.day_off_reason(day, service.site_id, service.id)
        if tick and (closed is not None or day.isoweekday() not in service.weekdays):
            raise InvalidInput(
                f"« {service.name} » n'est pas assurée le {long_date(day)}" + (f" ({closed})." if closed else ".")
            )
        if day < today and not override:
            raise DeadlinePassed(f"Le {long_date(day)} est déjà passé : il ne peut plus être modifié.")
        if tick:
            if not override:
                check_booking(day, service.book, calendar, now)
            plan.to_book.append(key)
        else:
            if not override:
                check_cancellation(day, service.cancel, calendar, now)
            plan.to_cancel.append(key)
    return plan


# --- calendar cells --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    service_id: int
    day: date
    state: State
    locked: bool  # the family can no longer change this day
    note: str = ""  # French detail: closure reason, the limit, attendance


def day_cells(
    services: Sequence[ServiceInfo],
    first: date,
    last: date,
    bookings: Mapping[Key, BookingState],
    attendance: Mapping[Key, str],
    calendar: SchoolCalendar,
    now: datetime,
    preview: Plan | None = None,
) -> list[Cell]:
    """One cell per service day of [first, last] for the child's services, with its state."""
    to_book = set(preview.to_book) if preview else set()
    to_cancel = set(preview.to_cancel) if preview else set()
    cells: list[Cell] = []
    day = first
    while day <= last:
        for service in services:
            if day.isoweekday() in service.weekdays:
                cell = _cell(service, day, bookings, attendance, calendar, now, to_book, to_cancel)
                if cell is not None:
                    cells.append(cell)
        day += timedelta(days=1)
    return cells


def _cell(
    service: ServiceInfo,
    day: date,
    bookings: Mapping[Key, BookingState],
    attendance: Mapping[Key, str],
    calendar: SchoolCalendar,
    now: datetime,
    to_book: set[Key],
    to_cancel: set[Key],
) -> Cell | None:
    key = (service.id, day)
    closed = calendar.day_off_reason(day, service.site_id, service.id)
    if closed is not None:
        return Cell(service.id, day, State.CLOSED, True, closed) if day.weekday() < 5 else None
    if key in to_book:
        return Cell(service.id, day, State.TO_BOOK, False, "sera réservé à la confirmation")
    if key in to_cancel:
        return Cell(service.id, day, State.TO_CANCEL, False, "sera annulé à la confirmation")
    seen = attendance.get(key)
    if seen is not None:
        return Cell(service.id, day, State(seen), True)
    state = bookings.get(key)
    if state in ACTIVE:
        limit = service.cancel.limit(day, calendar)
        locked = now > limit
        note = f"annulable jusqu'au {limit_text(limit, article=False)}" if not locked else "délai d'annulation dépassé"
        return Cell(service.id, day, State(state), locked, note)
    limit = service.book.limit(day, calendar)
    locked = now > limit
    note = "délai de réservation dépassé" if locked else f"réservable jusqu'au {limit_text(limit, article=False)}"
    if state == BookingState.CANCELLED:
        return Cell(service.id, day, State.CANCELLED, locked, note)
    return Cell(service.id, day, State.LOCKED if locked else State.BOOKABLE, locked, note)
