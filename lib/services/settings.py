"""Settings an administrator edits: each service's deadlines and price, daily capacities (the
audit log is read through `lib.services.trail`). Every change is checked, then written with its
audit entry."""

from __future__ import annotations

from datetime import datetime

from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.deadlines import DeadlineRule, ServiceDeadlines
from lib.domain.errors import InvalidInput, NotFound
from lib.domain.invoicing import Bracket, check_base_tariff_change, check_brackets
from lib.domain.records import ServiceSettings
from lib.domain.roles import Role
from lib.domain.validation import parse_brackets, whole_number
from lib.services.trail import refusals_audited
from lib.store import audit
from lib.store import bookings as bookings_store
from lib.store import invoices as invoices_store
from lib.store import settings as store
from lib.store.db import Database

MAX_PRICE_CENTS = 10_000  # 100 € for one meal or half-day: anything above is a typing mistake
MAX_CAPACITY = 5_000


def checked_price(unit_price_cents: object) -> int:
    """A service's unit price in cents, as an administrator may set it."""
    return whole_number(unit_price_cents, "Prix unitaire (centimes)", 0, MAX_PRICE_CENTS)


def checked_deadlines(book: object, cancel: object) -> ServiceDeadlines:
    """A service's two rules, each built by `deadline_rule` from the form."""
    if not isinstance(book, DeadlineRule) or not isinstance(cancel, DeadlineRule):
        raise InvalidInput("Délais illisibles : saisissez-les dans le formulaire de la prestation.")
    return ServiceDeadlines(book, cancel)


def checked_capacity(value: object) -> int:
    """A site's daily capacity for a service."""
    return whole_number(value, "Capacité", 0, MAX_CAPACITY)


def services(db: Database, actor: Actor) -> list[ServiceSettings]:
    actor.require(Role.ADMIN)
    return store.services_with_capacities(db)


def update_service(
    db: Database,
    actor: Actor,
    service_id: int,
    *,
    unit_price_cents: object,
    book: DeadlineRule,
    cancel: DeadlineRule,
    now: datetime,
) -> str:
    """Save a service's price and its two deadline rules (`deadline_rule` reads them from the form). The
    price is the base tariff: once a month is invoiced it no longer changes (a new price applies from a
    date, lib.services.tariffs); a refused change is kept in the audit log."""
    actor.require(Role.ADMIN)
    price = checked_price(unit_price_cents)
    deadlines = checked_deadlines(book, cancel)

    def work(cur) -> str:
        before = store.service_row(cur, service_id)
        if before is None:
            raise NotFound("Prestation introuvable.")
        if price != before["unit_price_cents"]:
            check_base_tariff_change(invoices_store.published_until(cur))
        store.update_service(cur, service_id, unit_price_cents=price, deadlines=deadlines)
        audit.record(
            cur,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id,
            action="service.update",
            entity="service",
            entity_id=service_id,
            before=before,
            after=store.service_row(cur, service_id),
        )
        return before["name"]

    with refusals_audited(db, actor, now, "service.refused", "service", service_id):
        name = db.write(work)
    return f"Paramètres de « {name} » enregistrés."


def set_capacity(db: Database, actor: Actor, site_id: int, service_id: int, value: object, now: datetime) -> str:
    actor.require(Role.ADMIN)
    capacity = checked_capacity(value)

    def work(cur) -> int:
        before = store.capacity(cur, site_id, service_id)
        if before is None:
            raise NotFound("Cette structure ne propose pas cette prestation.")
        store.set_capacity(cur, site_id, service_id, capacity)
        # More places: the waiting lists of the coming days move up, in order.
        promoted = bookings_store.promote_waiting(
            cur, bookings_store.waiting_days(cur, site_id, service_id, now.date()), actor.user_id, to_utc_naive(now)
        )
        audit.record(
            cur,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id,
            action="capacity.update",
            entity="site_service",
            entity_id=f"{site_id}:{service_id}",
            before={"capacity": before},
            after={"capacity": capacity, "promoted": len(promoted)},
        )
        for child_id, promoted_service, day in promoted:
            audit.record(
                cur,
                at_utc=to_utc_naive(now),
                user_id=None,
                action="booking.promoted",
                entity="child",
                entity_id=child_id,
                before={"waiting": [[promoted_service, day]]},
                after={"booked": [[promoted_service, day]]},
                reason="capacité augmentée",
            )
        return len(promoted)

    promoted = db.write(work)
    return "Capacité enregistrée." + (
        f" {promoted} enfant(s) de la liste d'attente ont obtenu une place." if promoted else ""
    )


def tariffs(db: Database, actor: Actor, service_id: int) -> list[Bracket]:
    actor.require(Role.ADMIN)
    return [Bracket(q, p) for q, p in store.tariffs(db, service_id)]


def save_tariff_grid(
    db: Database, actor: Actor, service_id: int, grid: list[tuple[str | None, str | None]], now: datetime
) -> str:
    """The brackets as typed in the page's grid, (ceiling, price) text cells (`parse_brackets`):
    a grid that cannot be read is refused before anything is written."""
    actor.require(Role.ADMIN)
    return set_tariffs(db, actor, service_id, parse_brackets(grid), now)


def set_tariffs(db: Database, actor: Actor, service_id: int, brackets: list[Bracket], now: datetime) -> str:
    """Replace a service's quotient-familial brackets (an empty list: one price for all): its base tariff's,
    which no longer changes once a month is invoiced (as `update_service`'s price)."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "tariff.refused", "service", service_id):
        clean = check_brackets(brackets)
    at = to_utc_naive(now)
    after = [(b.qf_max, b.price_cents) for b in clean]

    def work(cur) -> str:
        row = store.service_row(cur, service_id)
        if row is None:
            raise NotFound("Prestation introuvable.")
        before = store.replace_tariffs(cur, service_id, after)
        if sorted(before, key=_bracket_order) != sorted(after, key=_bracket_order):
            check_base_tariff_change(invoices_store.published_until(cur))  # refused: the transaction is undone
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="tariff.update",
            entity="service",
            entity_id=service_id,
            before=[list(b) for b in before],
            after=[[b.qf_max, b.price_cents] for b in clean],
        )
        return row["name"]

    with refusals_audited(db, actor, now, "tariff.refused", "service", service_id):
        name = db.write(work)
    return f"Tarifs de « {name} » enregistrés."


def _bracket_order(bracket: tuple[int | None, int]) -> tuple[bool, int]:
    qf_max = bracket[0]
    return (qf_max is None, qf_max or 0)
