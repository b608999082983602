"""Children's health (PAI): who reads it, who changes it, how long it is kept.

Health data is special (GDPR art. 9). The agents and administrators who look after the children
read and change a child's record; the child's own family reads it and proposes corrections, which
wait for the staff; the kitchen and the elected get nothing but the diet code. Every read and
every change leaves an audit entry naming the children and the fields — never a value: the
journal is read, and exported to CSV, by every administrator. An archived child, and a child with
no registration in a school year ended less than PURGE_GRACE_DAYS ago, loses its health data
(`purge_unregistered`, run at the server's start and once a day).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.health import (
    PURGE_GRACE_DAYS,
    ChildHealth,
    HealthRecord,
    HealthRequest,
    RequestState,
    changed_fields,
    health_record,
    note_text,
)
from lib.domain.records import Child
from lib.domain.roles import Role
from lib.domain.validation import is_id
from lib.services import attendance, trail
from lib.store import audit, bookings
from lib.store import health as store
from lib.store.db import Database

STAFF = (Role.AGENT, Role.ADMIN)
UNKNOWN_CHILD = "Enfant introuvable ou non rattaché à votre compte."


@dataclass(frozen=True)
class SheetHealth:
    """The records of an attendance sheet's children: `children` lists who was on the list read
    (a child added afterwards is not covered), `records` those of them with health data."""

    children: tuple[int, ...]
    records: list[ChildHealth]


@dataclass(frozen=True)
class HealthFile:
    """A child's health as its file shows it: the record (None: nothing written), the family's
    proposal waiting for the staff, and the family's last decided one (a refusal's note)."""

    child: Child
    record: HealthRecord | None
    updated_at: datetime | None  # UTC (naive)
    pending: HealthRequest | None
    decided: HealthRequest | None


# --- who may see whose health ------------------------------------------------------------------------


def _staff(actor: Actor) -> None:
    if actor.role not in STAFF:
        raise NotAllowed("Les informations de santé (PAI) sont réservées aux agents d'animation et à l'administration.")


def _child(db: Database, actor: Actor, child_id: object) -> Child:
    """The child, if the actor is staff or its family; the same refusal whether it exists or not."""
    if not actor.is_family:
        _staff(actor)
    found = bookings.child(db, child_id) if is_id(child_id) else None
    if found is None or (actor.is_family and (actor.family_id is None or found.family_id != actor.family_id)):
        raise NotAllowed(UNKNOWN_CHILD)
    return found


def _own_child(db: Database, actor: Actor, child_id: object) -> Child:
    if not actor.is_family:
        raise NotAllowed("Seule la famille de l'enfant propose une correction de son PAI ; le personnel la saisit.")
    return _child(db, actor, child_id)


def _kept(cur, child_id: int, name: str, today: date) -> None:
    """Health data is kept only for children registered this school year or a later one."""
    if not store.registered_now(cur, child_id, today):
        raise InvalidInput(
            f"{name} n'est inscrit(e) à aucune année scolaire en cours ou à venir : "
            "les informations de santé ne sont conservées que pour les enfants inscrits. Enregistrez d'abord "
            "l'inscription."
        )


# --- reading --------------------------------------------------------------------------------------


def sheet_health(
    db: Database,
    actor: Actor,
    day: object,
    site_id: object,
    service_id: object,
    now: datetime,
    added: tuple[int, ...] = (),
) -> SheetHealth:
    """The health records of the children of one attendance sheet (those expected or already
    pointed, and those the staff added on screen from `added`), for the agent who has them in
    front of them. One audit entry for the whole list, shaped as the pointage's: the ids of the
    children whose record was shown, so the journal finds it by a child's name."""
    _staff(actor)
    sheet = attendance.sheet(db, actor, day, site_id, service_id, now)
    children = tuple(c.child_id for c in sheet.with_added(list(added)))
    records = store.for_children(db, list(children))
    db.write(
        lambda cur: audit.record(
            cur,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id,
            action="health.read",
            entity="site_service_day",
            entity_id=f"{site_id}:{service_id}:{sheet.day.isoformat()}",
            after={str(r.child_id): "PAI" for r in records},
            reason=f"{len(children)} enfant(s) sur la liste",
        )
    )
    return SheetHealth(children, records)


def child_health(db: Database, actor: Actor, child_id: object, now: datetime) -> HealthFile:
    """A child's health file, for the staff or the child's own family; audited (`health.read`). A
    refusal (another family's child, the kitchen) is in the journal too (`health.access_refused`)."""
    with trail.refusals_audited(db, actor, now, "health.access_refused", "child", child_id):
        child = _child(db, actor, child_id)
    found = store.for_children(db, [child.id])
    requests = store.latest_requests(db, child.id)
    db.write(
        lambda cur: audit.record(
            cur,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id,
            action="health.read",
            entity="child",
            entity_id=child.id,
        )
    )
    return HealthFile(
        child,
        found[0].record if found else None,
        found[0].updated_at if found else None,
        next((r for r in requests if r.state is RequestState.PENDING), None),
        next((r for r in requests if r.state is not RequestState.PENDING), None),
    )


# --- writing --------------------------------------------------------------------------------------


def save_health(db: Database, actor: Actor, child_id: object, values: Mapping[str, object], now: datetime) -> str:
    """The staff write a child's record (`values`: the fields of lib.domain.health.LABELS); the
    audit entry names the fields changed, never their values."""
    _staff(actor)
    child = _child(db, actor, child_id)
    record = health_record(values, now.date())
    at = to_utc_naive(now)

    def work(cur) -> list[str]:
        _kept(cur, child.id, f"{child.first_name} {child.last_name}", now.date())
        return _write(cur, actor, child.id, record, at)

    changed = db.write(work)
    if not changed:
        return "Aucun changement : le PAI était déjà celui-ci."
    return f"PAI de {child.first_name} {child.last_name} enregistré."


def _write(
    cur, actor: Actor, child_id: int, record: HealthRecord, at: datetime, reason: str | None = None
) -> list[str]:
    """Store the record and its audit entry (field names only); the fields changed."""
    changed = changed_fields(store.record_of(cur, child_id), record)
    if changed:
        store.save(cur, child_id, record, actor.user_id, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="health.update",
            entity="child",
            entity_id=child_id,
            after={"fields": changed},
            reason=reason,
        )
    return changed


def propose_health(db: Database, actor: Actor, child_id: object, values: Mapping[str, object], now: datetime) -> str:
    """The family proposes a correction of its child's record; it waits for the staff (a new
    proposal replaces the one waiting). A refusal is in the journal (`health.access_refused`)."""
    with trail.refusals_audited(db, actor, now, "health.access_refused", "child", child_id):
        child = _own_child(db, actor, child_id)
    record = health_record(values, now.date())
    at = to_utc_naive(now)

    def work(cur) -> None:
        _kept(cur, child.id, f"{child.first_name} {child.last_name}", now.date())
        changed = changed_fields(store.record_of(cur, child.id), record)
        if not changed:
            raise InvalidInput("Vous n'avez rien changé : la fiche de santé est déjà celle-ci.")
        request_id = store.submit(cur, child.id, record, actor.user_id, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="health.propose",
            entity="child",
            entity_id=child.id,
            after={"fields": changed, "request": request_id},
        )

    db.write(work)
    return (
        f"Votre correction de la fiche de santé de {child.first_name} est envoyée : elle attend la validation "
        "du service éducation."
    )


def pending_health(db: Database, actor: Actor, now: datetime) -> list[tuple[HealthRequest, HealthRecord | None]]:
    """The families' proposals waiting, each with the record it would replace (old → new). Each
    child whose data is shown gets its `health.read` entry, in one transaction."""
    _staff(actor)
    requests = store.pending(db)
    current = {h.child_id: h.record for h in store.for_children(db, [r.child_id for r in requests])}
    if requests:
        at = to_utc_naive(now)

        def work(cur) -> None:
            for request in requests:
                audit.record(
                    cur,
                    at_utc=at,
                    user_id=actor.user_id,
                    action="health.read",
                    entity="child",
                    entity_id=request.child_id,
                    reason="correction proposée par la famille",
                )

        db.write(work)
    return [(r, current.get(r.child_id)) for r in requests]


def _not_expired(proposed: HealthRecord, today: date) -> None:
    """A proposal waits: its « valable jusqu'au » may have passed since the family sent it."""
    if proposed.valid_until is not None and proposed.valid_until < today:
        raise InvalidInput("La date de validité proposée est passée : refusez la demande avec une note.")


def decide_health(db: Database, actor: Actor, request_id: object, accept: object, note: object, now: datetime) -> str:
    """Accept (written through the staff's own store function) or refuse a family's proposal, in
    one transaction with its audit; the proposal's payload is cleared either way."""
    _staff(actor)
    if not isinstance(accept, bool):
        raise InvalidInput("Choisissez d'accepter ou de refuser la correction.")
    text = note_text(note, required=not accept)
    at = to_utc_naive(now)

    def work(cur) -> HealthRequest:
        request = store.pending_by_id(cur, request_id) if is_id(request_id) else None
        if request is None or request.proposed is None:
            raise InvalidInput("Cette correction n'attend plus de validation : rechargez la liste.")
        state = RequestState.ACCEPTED if accept else RequestState.REFUSED
        if accept:
            child = Child(request.child_id, 0, request.first_name, request.last_name, None)
            _kept(cur, child.id, f"{child.first_name} {child.last_name}", now.date())
            _not_expired(request.proposed, now.date())
            record = health_record(request.proposed.payload(), now.date())
            _write(cur, actor, request.child_id, record, at, reason="correction de la famille acceptée")
        store.decide(cur, request.id, state, actor.user_id, at, text)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action=f"health.{state.value}",
            entity="child",
            entity_id=request.child_id,
            after={"request": request.id},
        )
        return request

    request = db.write(work)
    verdict = "acceptée et enregistrée" if accept else "refusée ; la famille verra votre note"
    return f"Correction du PAI de {request.first_name} {request.last_name} {verdict}."


# --- retention ---------------------------------------------------------------------------------------


def purge_unregistered(db: Database, now: datetime) -> int:
    """Forget the health data and proposals of every archived child and of every child with no
    registration in a school year ended less than PURGE_GRACE_DAYS ago, the current or a later one
    (one `health.purged` entry each, by the system). The server calls it when it starts, the daily
    housekeeping once a day. How many children were purged."""
    at = to_utc_naive(now)

    def work(cur) -> int:
        gone = forget(
            cur,
            store.unregistered(cur, now.date() - timedelta(days=PURGE_GRACE_DAYS)),
            None,
            at,
            "plus d'inscription en cours ou à venir",
        )
        return len(gone)

    return db.write(work)


def forget(cur, child_ids: list[int], user_id: int | None, at: datetime, reason: str) -> list[int]:
    """Inside the caller's transaction, purge these children's health data and proposals: one
    `health.purged` entry (by `user_id`, None for the system) for each child who had some; their ids."""
    if not child_ids:
        return []
    gone = store.purge(cur, child_ids)
    for child_id in gone:
        audit.record(
            cur,
            at_utc=at,
            user_id=user_id,
            action="health.purged",
            entity="child",
            entity_id=child_id,
            reason=reason,
        )
    return gone
