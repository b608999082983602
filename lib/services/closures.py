"""« Fermetures et grèves »: the administrator declares that sites and services are closed on some
days (a closure, a strike, a « pont ») and may withdraw it; agents read the list.

Declaring is one transaction: the closure rows, every booking and waiting place of those days in
scope cancelled (past days too: a strike noticed afterwards is credited by the next invoicing run),
one `closure.declare` entry and one `closure.cancelled` entry per child (so the journal finds them by
the child's name), and the families' e-mail. A closed day is never billed
twice over: its bookings are cancelled, and `sql.OPEN_DAY` leaves it out of invoices and meals even
if a booking slipped in. Withdrawing reopens the days; the cancelled bookings stay cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from lib.domain.actor import Actor
from lib.domain.calendar import ClosureKind
from lib.domain.clock import to_utc_naive
from lib.domain.closures import (
    CancelledDay,
    ChildCancellations,
    ClosureList,
    ClosurePreview,
    ClosureResult,
    Declaration,
    FamilyCancellations,
    Scope,
    check_days,
    check_declaration,
    scope_text,
    scopes,
)
from lib.domain.errors import InvalidInput, NotFound
from lib.domain.planning import BookingState
from lib.domain.records import SiteService
from lib.domain.roles import Role
from lib.domain.validation import known_id
from lib.services import family_mail
from lib.store import attendance as offers
from lib.store import audit
from lib.store import bookings as bookings_store
from lib.store import closures as store
from lib.store.bookings import Cancelled
from lib.store.db import Cursor, Database

READERS = (Role.AGENT, Role.ADMIN)


@dataclass(frozen=True)
class Choices:
    """What the declaration form offers."""

    sites: list[tuple[int, str]]
    services: list[tuple[int, str]]
    kinds: list[ClosureKind]


def choices(db: Database, actor: Actor) -> Choices:
    actor.require(Role.ADMIN)
    offered = offers.offered(db)
    sites = sorted({(o.site_id, o.site) for o in offered})
    services = list(dict.fromkeys((o.service_id, o.service) for o in offered))
    return Choices(sites, services, list(ClosureKind))


def listed(db: Database, actor: Actor, today: date) -> ClosureList:
    """In force and not over (by first day), in force and over, withdrawn (newest first)."""
    actor.require(*READERS)
    found = store.listed(db)
    in_force = [c for c in found if c.withdrawn_at is None]
    return ClosureList(
        coming=[c for c in in_force if c.closure.end >= today],
        past=[c for c in reversed(in_force) if c.closure.end < today],
        withdrawn=sorted(
            (c for c in found if c.withdrawn_at is not None), key=lambda c: c.withdrawn_at or datetime.min, reverse=True
        ),
    )


def preview(
    db: Database, actor: Actor, site_ids: object, service_ids: object, start: object, end: object
) -> ClosurePreview:
    """How many bookings, waiting places and families a declaration would cancel now."""
    actor.require(Role.ADMIN)
    first, last = check_days(start, end)
    offered = offers.offered(db)
    scoped = scopes(site_ids, service_ids, offered)
    booked, waiting, families = bookings_store.in_scope_counts(db, scoped, first, last)
    return ClosurePreview(booked, waiting, families, tuple(_scope_texts(scoped, offered)))


def declare(
    db: Database,
    actor: Actor,
    site_ids: object,
    service_ids: object,
    start: object,
    end: object,
    kind: object,
    reason: object,
    now: datetime,
) -> ClosureResult:
    """Declare the closure and cancel what it covers, in one transaction. The families concerned are
    told by e-mail, queued in the same transaction: the messages commit or roll back with the rest."""
    actor.require(Role.ADMIN)
    declaration = check_declaration(start, end, kind, reason)
    offered = offers.offered(db)
    scoped = scopes(site_ids, service_ids, offered)
    at = to_utc_naive(now)

    def work(cur: Cursor) -> ClosureResult:
        if store.already_declared(cur, scoped, declaration):
            raise InvalidInput("Cette fermeture est déjà déclarée : elle figure dans la liste.")
        ids = store.insert(cur, scoped, declaration, actor.user_id, at)
        cancelled = bookings_store.cancel_where(cur, scoped, declaration.start, declaration.end, actor.user_id, at)
        result = ClosureResult(
            closure_ids=tuple(ids),
            declaration=declaration,
            scopes=tuple(_scope_texts(scoped, offered)),
            families=tuple(_families(cur, cancelled)),
        )
        _audit(cur, actor, at, result, scoped)
        family_mail.closure_declared(cur, result, user_id=actor.user_id, now=now)
        return result

    return db.write(work)


def _scope_texts(scoped: list[Scope], offered: list[SiteService]) -> list[str]:
    sites = {o.site_id: o.site for o in offered}
    services = {o.service_id: o.service for o in offered}
    return [scope_text(None if s is None else sites[s], None if v is None else services[v]) for s, v in scoped]


def _families(cur: Cursor, cancelled: list[Cancelled]) -> list[FamilyCancellations]:
    """The cancelled days grouped by family (by name) and child (by first name), days in order."""
    if not cancelled:
        return []
    names = store.service_names(cur)
    days: dict[int, list[CancelledDay]] = {}
    for row in sorted(cancelled, key=lambda r: (r.day, r.service_id)):
        waiting = row.before is BookingState.WAITING
        days.setdefault(row.child_id, []).append(CancelledDay(row.service_id, names[row.service_id], row.day, waiting))
    families: dict[int, tuple[str, list[ChildCancellations]]] = {}
    for child_id, first, last, family_id, family in store.concerned(cur, list(days)):
        child = ChildCancellations(child_id, first, last, tuple(days[child_id]))
        families.setdefault(family_id, (family, []))[1].append(child)
    return [
        FamilyCancellations(family_id, name, tuple(sorted(children, key=lambda c: (c.first_name, c.child_id))))
        for family_id, (name, children) in sorted(families.items(), key=lambda f: (f[1][0], f[0]))
    ]


def _audit(cur: Cursor, actor: Actor, at: datetime, result: ClosureResult, scoped: list[Scope]) -> None:
    declaration = result.declaration
    # The children's entries first: newest first, the journal shows the declaration above them.
    audit.record_each(
        cur,
        at_utc=at,
        user_id=actor.user_id,
        action="closure.cancelled",
        entity="child",
        entries=[
            (
                child.child_id,
                {
                    "booked": [[d.service_id, d.day] for d in child.days if not d.was_waiting],
                    "waiting": [[d.service_id, d.day] for d in child.days if d.was_waiting],
                },
                {"closures": list(result.closure_ids), "kind": declaration.kind.value},
            )
            for family in result.families
            for child in family.children
        ],
        reason=declaration.reason,
    )
    audit.record(
        cur,
        at_utc=at,
        user_id=actor.user_id,
        action="closure.declare",
        entity="closure",
        entity_id=",".join(str(i) for i in result.closure_ids),
        after={
            **_described(declaration),
            "scopes": [list(s) for s in scoped],
            "scope_names": list(result.scopes),
            "booked": result.booked,
            "waiting": result.waiting,
            "families": len(result.families),
        },
        reason=declaration.reason,
    )


def _described(declaration: Declaration) -> dict:
    return {
        "kind": declaration.kind.value,
        "start": declaration.start,
        "end": declaration.end,
        "reason": declaration.reason,
    }


def withdraw(db: Database, actor: Actor, closure_id: object, now: datetime) -> str:
    """Reopen the days of a closure. The bookings it cancelled stay cancelled: the families book
    again if they wish (said on the page and in the returned sentence)."""
    actor.require(Role.ADMIN)
    refusal = NotFound("Fermeture introuvable ou déjà retirée.")
    closure_id = known_id(closure_id, refusal.message)
    at = to_utc_naive(now)

    def work(cur: Cursor) -> str:
        withdrawn = store.withdraw(cur, closure_id, at)
        if withdrawn is None:
            raise refusal
        closure = withdrawn.closure
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="closure.withdraw",
            entity="closure",
            entity_id=closure_id,
            before={
                **_described(Declaration(closure.start, closure.end, closure.kind, closure.reason)),
                "scope_names": [withdrawn.scope],
            },
        )
        return (
            f"{closure.sentence} ({withdrawn.scope}) retirée : ces jours sont de nouveau ouverts. Les réservations "
            "annulées par cette fermeture restent annulées ; les familles peuvent réserver à nouveau."
        )

    return db.write(work)
