"""What each role sees on arriving: real figures from the database, checked per actor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from lib.domain import periods
from lib.domain.actor import Actor
from lib.domain.errors import NotAllowed
from lib.domain.invoicing import InvoiceStatus, PaymentRight
from lib.domain.records import SchoolYearRecord
from lib.domain.roles import Role
from lib.services import invoicing, payments
from lib.store import overview, reference
from lib.store.db import Database

NEXT_BOOKINGS_PER_CHILD = 5


@dataclass(frozen=True)
class Town:
    """Public facts about the town shown on every page."""

    name: str
    contact_email: str  # may be empty: no contact line then


def town(db: Database) -> Town:
    values = reference.settings(db)
    return Town(name=values["town_name"], contact_email=values["contact_email"])


@dataclass(frozen=True)
class Registration:
    site: str
    services: list[str]  # in the services' order


@dataclass
class ChildSummary:
    id: int
    first_name: str
    last_name: str
    school_class: str
    diet: str
    registrations: list[Registration]
    next_bookings: list[tuple[date, list[str]]] = field(default_factory=list)


@dataclass
class FamilyHome:
    school_year: str | None
    children: list[ChildSummary]
    unpaid_count: int
    unpaid_cents: int


def family_home(db: Database, actor: Actor, today: date) -> FamilyHome:
    """The actor's own family: children, this year's registrations, next booked days, balance."""
    if not actor.is_family or actor.family_id is None:
        raise NotAllowed("Cette page est réservée aux familles.")
    year = reference.current_school_year(db, today)
    rows = overview.family_children(db, actor.family_id, year.id if year else -1)
    children = {
        r["id"]: ChildSummary(
            r["id"],
            r["first_name"],
            r["last_name"],
            r["school_class"],
            r["diet"],
            [Registration(g["site"], g["services"] or []) for g in r["registrations"] or []],
        )
        for r in rows
    }
    for b in overview.family_next_bookings(db, actor.family_id, today, NEXT_BOOKINGS_PER_CHILD):
        child = children[b["child_id"]]
        if child.next_bookings and child.next_bookings[-1][0] == b["day"]:
            child.next_bookings[-1][1].append(b["service"])
        else:
            child.next_bookings.append((b["day"], [b["service"]]))
    balance = overview.family_balance(db, actor.family_id)
    return FamilyHome(
        year.label if year else None, list(children.values()), balance["unpaid_count"], balance["unpaid_cents"]
    )


@dataclass
class FamilyActions:
    unpaid: list[invoicing.InvoiceRow]  # oldest first
    can_pay_online: bool


def family_actions(db: Database, actor: Actor, now: datetime) -> FamilyActions:
    """What waits for the family: its unpaid invoices, oldest first, and whether it may pay them online."""
    rows = invoicing.family_invoices(db, actor, now)  # refuses anyone but a family; its own invoices only
    unpaid = sorted((r for r in rows if r.status is InvoiceStatus.UNPAID), key=lambda r: (r.month, r.number))
    return FamilyActions(unpaid, payments.payment_right(db, actor).right is PaymentRight.GRANTED)


def linked_invoice(rows: list[invoicing.InvoiceRow], number: object) -> invoicing.InvoiceRow | None:
    """The invoice a link names (« ?facture=F-2026-000267 »), among the rows `family_invoices` gave
    the family: another family's number, or anything else, names none of them."""
    if not isinstance(number, str):
        return None
    return next((r for r in rows if r.number == number.strip()), None)


def next_service_day(db: Database, today: date, *, inclusive: bool) -> date | None:
    calendar = reference.school_calendar(db)
    return calendar.next_service_day(reference.all_service_weekdays(db), today, inclusive=inclusive)


@dataclass(frozen=True)
class SiteDayCount:
    """One site × service on one day: children booked and waiting, attendance recorded so far."""

    site: str
    service: str
    booked: int
    waiting: int
    present: int
    absent: int
    capacity: int | None


@dataclass
class DayCounts:
    day: date | None
    rows: list[SiteDayCount]


def agent_home(db: Database, actor: Actor, today: date) -> DayCounts:
    """Children expected per site and service today (or on the next service day)."""
    actor.require(Role.AGENT, Role.ADMIN)
    day = next_service_day(db, today, inclusive=True)
    return DayCounts(day, [SiteDayCount(**r) for r in overview.day_counts_by_site(db, day)] if day else [])


@dataclass(frozen=True)
class YearFigures:
    """A school year from its start to a given day."""

    children: int  # registered
    families: int
    bookings_to_date: int
    present_to_date: int
    checked_to_date: int  # attendance recorded, present or not


@dataclass
class YearComparison:
    label: str
    previous_label: str | None
    current: YearFigures
    previous: YearFigures | None
    months: list[dict] = field(default_factory=list)  # month_label, tick, running, current, previous: a chart


def elected_home(db: Database, actor: Actor, today: date) -> YearComparison | None:
    """This school year to date against the previous one at the same point."""
    actor.require(Role.ELECTED, Role.ADMIN)
    year = reference.current_school_year(db, today)
    if year is None:
        return None
    until = min(today - timedelta(days=1), year.end_date)
    current = YearFigures(**overview.year_figures(db, year.start_date, year.end_date, until))
    before = reference.previous_school_year(db, year.id)
    previous = None
    if before is not None:
        same_point = before.start_date + (until - year.start_date)
        previous = YearFigures(**overview.year_figures(db, before.start_date, before.end_date, same_point))
    months = _months_compared(db, year, before, today)
    return YearComparison(year.label, before.label if before else None, current, previous, months)


def _months_compared(db: Database, year: SchoolYearRecord, before: SchoolYearRecord | None, today: date) -> list[dict]:
    """Booked days per school month, this year (to this month) against the whole previous year."""
    ids = [year.id] + ([before.id] if before else [])
    rows = overview.bookings_per_school_month(db, ids, year.id, today)
    counts = {(r["school_year_id"], r["month_index"]): r["booked"] for r in rows}
    months = []
    for index, month in enumerate(periods.months(year.start_date, year.end_date)):
        named = periods.labels(month, "month", today)  # « Novembre (mois en cours) », « nov. », running
        months.append(
            {
                "month_label": named["label"],
                "tick": named["tick"],
                "running": named["running"],
                "current": counts.get((year.id, index), 0) if month <= today else None,
                "previous": counts.get((before.id, index), 0) if before else None,
            }
        )
    return months


@dataclass(frozen=True)
class AdminHome:
    families: int
    children: int
    users: int  # active accounts
    payment_requests: int  # families waiting for an answer about paying online
    invoices: int
    users_by_role: dict[Role, int]  # active accounts


def admin_home(db: Database, actor: Actor) -> AdminHome:
    actor.require(Role.ADMIN)
    return AdminHome(
        **overview.admin_figures(db), users_by_role={Role(r["role"]): r["users"] for r in overview.users_by_role(db)}
    )
