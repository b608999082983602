"""The school calendar: public holidays, school holidays by zone, the town's closures.

`SchoolCalendar` answers the questions every other rule asks: is this a working day, what is
the date N working days before, on which days is a service given between two dates, and why a
day is off. Public holidays come from `holidays` (France), school holidays from
`vacances-scolaires-france` (zone A, B or C) cross-checked with the `holidays` package's school
category, closures from the town's own list.

The two school sources disagree: `vacances-scolaires-france` (the ministry's open data) has no
« Pont de l'Ascension » for 2023–2026 (Friday 15 May 2026 had no school), which `holidays`
computes from the arrêtés. So a day is a school holiday when the open data says so, or when
`holidays` names it the Ascension bridge, or when the open data does not reach that far yet and
`holidays` closes it. Elsewhere the open data wins (it is the authority, `holidays` a rule that
can miss an exception); the town's own closures then add whatever both sources miss.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays as _holidays
from vacances_scolaires_france import SchoolHolidayDates

from lib.domain.errors import InvalidInput

ZONES = ("A", "B", "C")
WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class ClosureKind(StrEnum):
    """Why the town does not give a service (the store's `closures.kind`; the schema's CHECK lists
    the same values)."""

    CLOSURE = "fermeture"
    STRIKE = "greve"
    BRIDGE = "pont"

    @property
    def label(self) -> str:
        """« Fermeture », « Grève », « Pont »: the word a calendar cell starts with."""
        return CLOSURE_KIND_LABELS[self]


CLOSURE_KIND_LABELS = {ClosureKind.CLOSURE: "Fermeture", ClosureKind.STRIKE: "Grève", ClosureKind.BRIDGE: "Pont"}


@dataclass(frozen=True)
class Closure:
    """A period the town closes a site (every site when `site_id` is None) for a service (every
    service when `service_id` is None): a closure, a strike or a « pont »."""

    start: date
    end: date
    reason: str
    site_id: int | None = None
    service_id: int | None = None
    kind: ClosureKind = ClosureKind.CLOSURE

    def covers(self, day: date, site_id: int | None, service_id: int | None = None) -> bool:
        """A town-wide closure covers every site, a site's closure only that site; a closure of
        every service covers each, a service's closure (a strike of the canteen) only that service.
        Asking about no particular site or service, only the closures of all of them count."""
        in_period = self.start <= day <= self.end
        return (
            in_period
            and (self.site_id is None or self.site_id == site_id)
            and (self.service_id is None or self.service_id == service_id)
        )

    @property
    def sentence(self) -> str:
        """« Grève : grève du personnel de restauration »: what a closed day says."""
        return f"{self.kind.label} : {self.reason}"


@lru_cache(maxsize=1)
def _school_holiday_data() -> SchoolHolidayDates:
    # Loading the CSV shipped with the package takes ~50 ms: once per process.
    return SchoolHolidayDates()


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> dict[date, str]:
    return dict(_holidays.country_holidays("FR", years=year, language="fr"))


def public_holiday_name(day: date) -> str | None:
    """French name of the public holiday on `day`, or None."""
    return _public_holidays(day.year).get(day)


ASCENSION_BRIDGE = "Pont de l'Ascension"


@lru_cache(maxsize=64)
def _computed_school_holidays(year: int, zone: str) -> dict[date, str]:
    return dict(
        _holidays.country_holidays(
            "FR", subdiv=f"Zone {zone.upper()}", years=year, categories=(_holidays.SCHOOL,), language="fr"
        )
    )


def school_holiday_name(day: date, zone: str) -> str | None:
    """Name of the school holidays covering `day` in `zone` ("Vacances de Noël"), or None."""
    data = _school_holiday_data().data
    row = data.get(day)
    if row is not None and row[f"vacances_zone_{zone.lower()}"]:
        name: str = row["nom_vacances"]
        return name
    computed = _computed_school_holidays(day.year, zone).get(day)
    if computed == ASCENSION_BRIDGE or (computed is not None and day > _open_data_until()):
        return computed
    return None


@lru_cache(maxsize=1)
def _open_data_until() -> date:
    last: date = max(_school_holiday_data().data)
    return last


def check_zone(zone: str) -> str:
    zone = (zone or "").strip().upper()
    if zone not in ZONES:
        raise InvalidInput(f"Zone de vacances scolaires inconnue : « {zone} » (A, B ou C).")
    return zone


@dataclass(frozen=True)
class SchoolCalendar:
    """Calendar of one town: its holiday zone and its own closures."""

    zone: str = "C"
    closures: tuple[Closure, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", check_zone(self.zone))
        object.__setattr__(self, "closures", tuple(self.closures))

    # --- single days -------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        """Jour ouvré: Monday to Friday, not a public holiday (school holidays still count)."""
        return day.weekday() < 5 and public_holiday_name(day) is None

    def closure_on(self, day: date, site_id: int | None = None, service_id: int | None = None) -> Closure | None:
        return next((c for c in self.closures if c.covers(day, site_id, service_id)), None)

    def day_off_reason(self, day: date, site_id: int | None = None, service_id: int | None = None) -> str | None:
        """Why no school service (or not `service_id`) is given on `day` at `site_id`, in French,
        or None on a school day."""
        if day.weekday() >= 5:
            return "Week-end"
        holiday = public_holiday_name(day)
        if holiday is not None:
            return f"Jour férié ({holiday})"
        vacation = school_holiday_name(day, self.zone)
        if vacation is not None:
            return vacation
        closure = self.closure_on(day, site_id, service_id)
        if closure is not None:
            return closure.sentence
        return None

    def is_school_day(self, day: date, site_id: int | None = None, service_id: int | None = None) -> bool:
        return self.day_off_reason(day, site_id, service_id) is None

    # --- arithmetic ----------------------------------------------------------------------------
    def add_working_days(self, day: date, count: int) -> date:
        """The date `count` working days after `day` (before it when `count` < 0).

        `day` itself is never counted: add_working_days(Monday, -2) is the Thursday before.
        """
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        current = day
        while remaining:
            current += timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def service_days(
        self,
        weekdays: Iterable[int],
        start: date,
        end: date,
        site_id: int | None = None,
        service_id: int | None = None,
    ) -> list[date]:
        """Days in [start, end] on which a service given on ISO `weekdays` (1 = Monday) runs."""
        wanted = frozenset(weekdays)
        return [d for d in _days(start, end) if d.isoweekday() in wanted and self.is_school_day(d, site_id, service_id)]

    def next_service_day(
        self, weekdays: Iterable[int], after: date, *, inclusive: bool = False, horizon_days: int = 120
    ) -> date | None:
        """The first day on or after (`inclusive`) / after `after` when a service given on ISO
        `weekdays` runs somewhere; None if nothing runs within `horizon_days` (summer)."""
        wanted = frozenset(weekdays)
        day = after if inclusive else after + timedelta(days=1)
        for _ in range(horizon_days):
            if day.isoweekday() in wanted and self.is_school_day(day):
                return day
            day += timedelta(days=1)
        return None


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def parse_weekdays(text: str) -> tuple[int, ...]:
    """'1,2,4,5' -> (1, 2, 4, 5); ISO weekdays, Monday = 1."""
    try:
        days = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError as exc:
        raise InvalidInput(f"Jours de la semaine illisibles : « {text} ».") from exc
    if not days or any(d < 1 or d > 7 for d in days):
        raise InvalidInput(f"Jours de la semaine invalides : « {text} » (1 = lundi … 7 = dimanche).")
    return days
