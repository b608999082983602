"""Family files (« Familles », « Mon dossier », « À valider »).

Staff read every file (agents and administrators; opening one is written in the journal), the
administrator writes. A family reads and changes its own file only, with the same refusal whether
another file exists or not: phones, address, contacts, pick-up people and consents at once (audited),
its quotient familial as a proposal the administrator accepts or refuses (it changes prices).
Every write is one `db.write(work)` with its audit entry. Families, children and guardians are
archived, never deleted: archiving cancels their bookings from the next day on (the families whose
waiting children get the freed places are told by e-mail), erases the children's health data at once,
closes their accounts and keeps their invoices.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import pandas as pd

from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.calendar import SchoolCalendar
from lib.domain.changes import (
    ChangeKind,
    ChangeState,
    PendingChange,
    check_note,
    quotient_of,
    quotient_payload,
)
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.families import (
    LOGIN_ELSEWHERE,
    SCHOOL_CLASSES,
    BillingShare,
    ChildInput,
    ChildRecord,
    Consent,
    ConsentKind,
    Contact,
    ContactInput,
    Family,
    FoundFamily,
    Guardian,
    GuardianInput,
    QuotientInput,
    QuotientRecord,
    check_billing,
    check_child,
    check_contact,
    check_guardian,
    check_name,
    check_quotient,
    check_shares,
    check_town_ref,
    email_elsewhere,
    login_diverges,
    optional_phone,
    optional_text,
)
from lib.domain.invoicing import invoice_visible
from lib.domain.planning import BookingChange, BookingState
from lib.domain.roles import Role
from lib.domain.spreadsheet import csv_bytes
from lib.domain.validation import fold, is_id
from lib.services import health, reservations, trail
from lib.services.trail import refusals_audited
from lib.store import bookings as bookings_store
from lib.store import families as store
from lib.store import health as health_store
from lib.store import reference, users
from lib.store.db import Cursor, Database

READERS = (Role.AGENT, Role.ADMIN)
SEARCH_MIN = 2
SEARCH_LIMIT = 30
REASON_MAX = 500
_NOT_YOURS = "Dossier introuvable ou non rattaché à votre compte."


@dataclass(frozen=True)
class FamilyFile:
    """Everything a family file shows, read at one moment."""

    family: Family
    guardians: list[Guardian]
    children: list[ChildRecord]
    quotients: list[QuotientRecord]  # the one in force first
    contacts: list[Contact]
    consents: list[Consent]
    shares: list[BillingShare]
    changes: list[PendingChange]  # the family's proposals, oldest first

    def guardian(self, rank: int) -> Guardian | None:
        return next((g for g in self.guardians if g.rank == rank), None)

    def consent(self, child_id: int, kind: ConsentKind) -> bool | None:
        """Granted, refused, or None when nobody answered yet."""
        return next((c.granted for c in self.consents if c.child_id == child_id and c.kind is kind), None)

    @property
    def pending(self) -> list[PendingChange]:
        return [c for c in self.changes if c.state is ChangeState.PENDING]


@dataclass
class ArchiveResult:
    cancelled: int = 0  # bookings and waiting places cancelled
    promoted: int = 0  # children of other families who got a freed place
    accounts_closed: int = 0
    health_purged: int = 0  # children whose health data (PAI) was erased

    def summary(self, who: str, first_day: str) -> str:
        return (
            f"{who} archivé(e). À partir du {first_day} : {self.cancelled} réservation(s) ou place(s) en liste "
            f"d'attente annulée(s), {self.accounts_closed} compte(s) fermé(s). Les factures sont conservées."
            + (
                f" Fiche(s) de santé effacée(s) : {self.health_purged} (elles ne sont gardées que pour les enfants "
                "inscrits)."
                if self.health_purged
                else ""
            )
        )


def _read(db: Database, family_id: int) -> FamilyFile:
    found = store.family(db, family_id)
    if found is None:
        raise NotFound("Famille introuvable.")
    split = store.shares(db, family_id)
    return FamilyFile(
        family=found,
        guardians=store.guardians(db, family_id),
        children=store.children(db, family_id),
        quotients=store.quotients(db, family_id),
        contacts=store.contacts(db, family_id),
        consents=store.consents(db, family_id),
        shares=[BillingShare(c, g, p) for c, by in split.items() for g, p in by.items()],
        changes=store.changes(db, family_id, None),
    )


def _staff_family(db: Database, actor: Actor, family_id: object, *roles: Role) -> Family:
    actor.require(*roles)
    found = store.family(db, family_id) if is_id(family_id) else None
    if found is None:
        raise NotFound("Famille introuvable.")
    return found


def _own_family_id(actor: Actor) -> int:
    if not actor.is_family or actor.family_id is None:
        raise NotAllowed("Cette page est réservée aux familles.")
    return actor.family_id


def _plain(record: Guardian | ChildRecord | Contact | None) -> dict | None:
    return None if record is None else asdict(record)


# --- staff: search and read -----------------------------------------------------------------------


def search(db: Database, actor: Actor, text: object, include_archived: bool = False) -> list[FoundFamily]:
    """Families by family, guardian or child name, e-mail or town number (several words narrow it)."""
    actor.require(*READERS)
    if text is not None and not isinstance(text, str):
        raise InvalidInput("Recherche illisible : saisissez un nom, une adresse e-mail ou un numéro.")
    words = [w for w in fold((text or "").strip()).split() if w][:5]
    if sum(len(w) for w in words) < SEARCH_MIN:
        raise InvalidInput(f"Saisissez au moins {SEARCH_MIN} caractères d'un nom, d'une adresse e-mail ou d'un numéro.")
    return store.search(db, [w[:60] for w in words], bool(include_archived), SEARCH_LIMIT)


def family_file(db: Database, actor: Actor, family_id: object) -> FamilyFile:
    """A family's file for the staff (the page records the reading once: `record_read`)."""
    return _read(db, _staff_family(db, actor, family_id, *READERS).id)


def record_read(db: Database, actor: Actor, family_id: object, now: datetime) -> None:
    """A staff member opened a family's file: who read whose data, in the journal. The page calls it
    once each time a family is chosen, not on every rerun."""
    found = _staff_family(db, actor, family_id, *READERS)
    db.write(lambda cur: trail.write(cur, actor, now, action="family.read", entity="family", entity_id=found.id))


def diets(db: Database, actor: Actor) -> list[tuple[str, str]]:
    """(code, label) of the diets a child may have."""
    actor.require(*READERS)
    return store.diet_codes(db)


# --- administrator: writes -------------------------------------------------------------------------


def _free_ref(db: Database, table: str, ref: str | None, own_id: int | None, label: str) -> str | None:
    if ref is not None and store.ref_taken(db, table, ref, own_id):
        raise InvalidInput(f"{label} : « {ref} » est déjà le numéro d'un autre dossier.")
    return ref


def create_family(
    db: Database, actor: Actor, name: object, town_ref: object, guardian: GuardianInput, now: datetime
) -> int:
    """A new family with its first guardian; its id."""
    actor.require(Role.ADMIN)
    family_name = check_name(name, "Nom de la famille")
    ref = _free_ref(db, "families", check_town_ref(town_ref, "Identifiant mairie"), None, "Identifiant mairie")
    first = check_guardian(guardian, 1)

    def work(cur: Cursor) -> int:
        family_id = store.insert_family(cur, family_name, ref, to_utc_naive(now))
        store.save_guardian(cur, family_id, 1, first)
        trail.write(
            cur,
            actor,
            now,
            action="family.create",
            entity="family",
            entity_id=family_id,
            after={"name": family_name, "town_ref": ref},
        )
        return family_id

    return db.write(work)


def update_family(
    db: Database,
    actor: Actor,
    family_id: object,
    name: object,
    town_ref: object,
    billing: object,
    now: datetime,
    *,
    non_resident: object = None,
) -> None:
    """The file's name, town reference, billing mode and « hors commune » flag (None: unchanged)."""
    found = _staff_family(db, actor, family_id, Role.ADMIN)
    family_name = check_name(name, "Nom de la famille")
    ref = _free_ref(db, "families", check_town_ref(town_ref, "Identifiant mairie"), found.id, "Identifiant mairie")
    mode = check_billing(billing, store.guardians(db, found.id))
    if non_resident is not None and not isinstance(non_resident, bool):
        raise InvalidInput("« Hors commune » : cochez la case ou laissez-la vide.")
    outside = found.non_resident if non_resident is None else non_resident

    def work(cur: Cursor) -> None:
        store.update_family(cur, found.id, family_name, ref, mode, outside)
        trail.write(
            cur,
            actor,
            now,
            action="family.update",
            entity="family",
            entity_id=found.id,
            before={
                "name": found.name,
                "town_ref": found.town_ref,
                "billing": found.billing,
                "non_resident": found.non_resident,
            },
            after={"name": family_name, "town_ref": ref, "billing": mode, "non_resident": outside},
        )

    db.write(work)


def _guardian_email(db: Database, family_id: int, rank: int, before: Guardian | None, email: str | None) -> None:
    """A guardian's e-mail is no other family's nor the staff's (the import's rule), and an activated
    account's login changes only through its holder (« Mon compte »), never diverging from it here."""
    who = f"Responsable {rank}, e-mail"
    if email is not None and email_elsewhere(store.email_families(db, email), family_id):
        raise InvalidInput(f"{who} : l'adresse {email} est déjà celle d'un autre compte du portail.")
    if before is None or before.user_id is None:
        return
    login = store.activated_login(db, before.user_id)
    if login_diverges(before.email, email, login):
        raise InvalidInput(f"{who} : ce responsable a un compte actif ({login}) ; {LOGIN_ELSEWHERE}")


def save_guardian(
    db: Database, actor: Actor, family_id: object, rank: object, typed: GuardianInput, now: datetime
) -> int:
    """Guardian 1 or 2 of the family, created or changed (a family has at most two)."""
    found = _staff_family(db, actor, family_id, Role.ADMIN)
    if not is_id(rank) or rank not in (1, 2):
        raise InvalidInput("Une famille a au plus 2 responsables : choisissez le responsable 1 ou 2.")
    clean = check_guardian(typed, rank)
    before = next((g for g in store.guardians(db, found.id) if g.rank == rank), None)
    _guardian_email(db, found.id, rank, before, clean.email)

    def work(cur: Cursor) -> int:
        guardian_id = store.save_guardian(cur, found.id, rank, clean)
        trail.write(
            cur,
            actor,
            now,
            action="guardian.save",
            entity="family",
            entity_id=found.id,
            before=_plain(before),
            after=asdict(clean),
        )
        return guardian_id

    return db.write(work)


def _apply_quotient(cur: Cursor, actor: Actor, family: Family, typed: QuotientInput, now: datetime) -> int | None:
    in_force = store.set_quotient(cur, family.id, typed, actor.user_id, to_utc_naive(now))
    trail.write(
        cur,
        actor,
        now,
        action="family.quotient",
        entity="family",
        entity_id=family.id,
        before={"qf": family.quotient_familial},
        after={**asdict(typed), "in_force": in_force},
    )
    return in_force


def record_quotient(db: Database, actor: Actor, family_id: object, typed: QuotientInput, now: datetime) -> None:
    """A new line of the QF history (the QF in force is the latest date's). It changes prices: a
    refusal is written in the journal."""
    with refusals_audited(db, actor, now, "family.quotient.refused", "family", family_id):
        found = _staff_family(db, actor, family_id, Role.ADMIN)
        clean = check_quotient(typed, now.date())
        db.write(lambda cur: _apply_quotient(cur, actor, found, clean, now))


def _child_of(db: Database, family_id: int, child_id: object, refusal: str) -> ChildRecord:
    found = store.child(db, child_id) if is_id(child_id) else None
    if found is None or found.family_id != family_id:
        raise NotAllowed(refusal)
    return found


def _checked_child(db: Database, typed: ChildInput, now: datetime, own_id: int | None) -> ChildInput:
    clean = check_child(typed, now.date(), SCHOOL_CLASSES, [code for code, _ in store.diet_codes(db)])
    _free_ref(db, "children", clean.town_ref, own_id, "Identifiant mairie de l'enfant")
    return clean


def create_child(db: Database, actor: Actor, family_id: object, typed: ChildInput, now: datetime) -> int:
    found = _staff_family(db, actor, family_id, Role.ADMIN)
    if found.archived_at is not None:
        raise InvalidInput("Cette famille est archivée : désarchivez-la d'abord.")
    clean = _checked_child(db, typed, now, None)

    def work(cur: Cursor) -> int:
        child_id = store.insert_child(cur, found.id, clean)
        trail.write(cur, actor, now, action="child.create", entity="child", entity_id=child_id, after=asdict(clean))
        return child_id

    return db.write(work)


def update_child(db: Database, actor: Actor, child_id: object, typed: ChildInput, now: datetime) -> None:
    actor.require(Role.ADMIN)
    before = store.child(db, child_id) if is_id(child_id) else None
    if before is None:
        raise NotFound("Enfant introuvable.")
    clean = _checked_child(db, typed, now, before.id)

    def work(cur: Cursor) -> None:
        store.update_child(cur, before.id, clean)
        trail.write(
            cur,
            actor,
            now,
            action="child.update",
            entity="child",
            entity_id=before.id,
            before=_plain(before),
            after=asdict(clean),
        )

    db.write(work)


def save_shares(
    db: Database, actor: Actor, child_id: object, percents: Sequence[object], now: datetime
) -> dict[int, int]:
    """A child's bill split between the two guardians (shared custody): guardian id → percent."""
    actor.require(Role.ADMIN)
    found = store.child(db, child_id) if is_id(child_id) else None
    if found is None:
        raise NotFound("Enfant introuvable.")
    ranked = store.guardians(db, found.family_id)
    if [g.rank for g in ranked] != [1, 2]:
        raise InvalidInput("Répartition : la famille doit avoir deux responsables.")
    split = dict(zip([g.id for g in ranked], check_shares(percents), strict=True))

    def work(cur: Cursor) -> None:
        store.save_shares(cur, found.id, split)
        trail.write(
            cur,
            actor,
            now,
            action="child.shares",
            entity="child",
            entity_id=found.id,
            after={str(k): v for k, v in split.items()},
        )

    db.write(work)
    return split


# --- contacts and consents: the administrator, or the family for its own file ----------------------


def _editable_family(db: Database, actor: Actor, family_id: object) -> int:
    """The family whose contacts and consents the actor may change: any for the administrator, its
    own for a family (the same refusal whether another family exists or not)."""
    if actor.is_family:
        own = _own_family_id(actor)
        if family_id != own:
            raise NotAllowed(_NOT_YOURS)
        return own
    return _staff_family(db, actor, family_id, Role.ADMIN).id


def save_contact(
    db: Database, actor: Actor, family_id: object, contact_id: object, typed: ContactInput, now: datetime
) -> int:
    """A new contact (`contact_id` None) or a change to one of the family's: emergency contact,
    authorised pick-up person, or both; for one child or all."""
    fid = _editable_family(db, actor, family_id)
    clean = check_contact(typed)
    if clean.child_id is not None:
        _child_of(db, fid, clean.child_id, "Enfant introuvable dans ce dossier.")
    before = None
    if contact_id is not None:
        before = next((c for c in store.contacts(db, fid) if c.id == contact_id), None)
        if before is None:
            raise NotAllowed("Contact introuvable dans ce dossier.")

    def work(cur: Cursor) -> int:
        saved = store.save_contact(cur, fid, None if before is None else before.id, clean)
        trail.write(
            cur,
            actor,
            now,
            action="contact.save",
            entity="family",
            entity_id=fid,
            before=_plain(before),
            after=asdict(clean),
        )
        return saved

    return db.write(work)


def remove_contact(db: Database, actor: Actor, family_id: object, contact_id: object, now: datetime) -> None:
    fid = _editable_family(db, actor, family_id)
    before = next((c for c in store.contacts(db, fid) if c.id == contact_id), None)
    if before is None:
        raise NotAllowed("Contact introuvable dans ce dossier.")

    def work(cur: Cursor) -> None:
        store.archive_contact(cur, fid, before.id, to_utc_naive(now))
        trail.write(cur, actor, now, action="contact.remove", entity="family", entity_id=fid, before=asdict(before))

    db.write(work)


def set_consent(
    db: Database, actor: Actor, family_id: object, child_id: object, kind: object, granted: object, now: datetime
) -> None:
    fid = _editable_family(db, actor, family_id)
    found = _child_of(db, fid, child_id, "Enfant introuvable dans ce dossier.")
    try:
        consent = ConsentKind(str(kind))
    except ValueError:
        raise InvalidInput("Autorisation inconnue : choisissez photos ou sorties.") from None
    if not isinstance(granted, bool):
        raise InvalidInput("Autorisation : répondez oui ou non.")

    def work(cur: Cursor) -> None:
        store.save_consent(cur, fid, found.id, consent, granted, actor.user_id, to_utc_naive(now))
        trail.write(
            cur,
            actor,
            now,
            action="consent.set",
            entity="child",
            entity_id=found.id,
            after={"kind": consent, "granted": granted},
        )

    db.write(work)


# --- archives ----------------------------------------------------------------------------------------


def _reason(reason: object) -> str:
    text = optional_text(reason, "Motif", REASON_MAX)
    if text is None:
        raise InvalidInput("Motif : indiquez pourquoi le dossier est archivé.")
    return text


def _archive_children(
    cur: Cursor, actor: Actor, child_ids: list[int], calendar: SchoolCalendar, now: datetime, why: str
) -> ArchiveResult:
    """What archiving does to children, inside the archive's transaction: their bookings go from
    tomorrow (`_cancel_from_tomorrow`) and their health data at once (kept only while a child is
    registered, GDPR art. 9)."""
    result = _cancel_from_tomorrow(cur, actor, child_ids, calendar, now)
    result.health_purged = len(health.forget(cur, child_ids, actor.user_id, to_utc_naive(now), why))
    return result


def _cancel_from_tomorrow(
    cur: Cursor, actor: Actor, child_ids: list[int], calendar: SchoolCalendar, now: datetime
) -> ArchiveResult:
    """Cancel the children's bookings and waiting places from the day after `now`, give the freed
    places to the waiting lists and tell the families who got one (as a cancellation in « Mes
    inscriptions » does)."""
    at = to_utc_naive(now)
    first = now.date() + timedelta(days=1)
    result = ArchiveResult()
    held = store.future_bookings(cur, child_ids, first)
    keys = sorted({(site, service, day) for _, site, service, day, _ in held})
    bookings_store.lock_days(cur, keys)
    places = bookings_store.places(cur, keys)
    for child_id in child_ids:
        changes = [
            BookingChange(service, day, site, BookingState.CANCELLED)
            for child, site, service, day, _ in held
            if child == child_id
        ]
        bookings_store.upsert_bookings(cur, child_id, changes, "staff", actor.user_id, at)
    result.cancelled = len(held)
    freed = sorted(
        {
            (site, service, day)
            for _, site, service, day, state in held
            if state is BookingState.BOOKED and places.get((site, service, day), reservations.NO_PLACE).waiting > 0
        }
    )
    promoted = bookings_store.promote_waiting(cur, freed, actor.user_id, at)
    result.promoted = len(promoted)
    reservations.announce_promotions(cur, promoted, calendar, at, now)
    return result


def archive_family(db: Database, actor: Actor, family_id: object, reason: object, now: datetime) -> str:
    """Archive a family: from tomorrow its children's bookings and waiting places are cancelled, its
    accounts closed (and their sessions ended); its invoices, payments and history stay."""
    found = _staff_family(db, actor, family_id, Role.ADMIN)
    why = _reason(reason)
    if found.archived_at is not None:
        raise InvalidInput("Cette famille est déjà archivée.")
    kids = [c.id for c in store.children(db, found.id)]
    calendar = reference.school_calendar(db)

    def work(cur: Cursor) -> ArchiveResult:
        result = _archive_children(cur, actor, kids, calendar, now, "dossier de la famille archivé")
        store.set_family_archived(cur, found.id, to_utc_naive(now))
        closed = store.deactivate_users(cur, found.id)
        for user_id in closed:
            users.delete_sessions_of(cur, user_id)
        result.accounts_closed = len(closed)
        trail.write(
            cur,
            actor,
            now,
            action="family.archive",
            entity="family",
            entity_id=found.id,
            after={"cancelled": result.cancelled, "promoted": result.promoted, "accounts_closed": closed},
            reason=why,
        )
        return result

    result = db.write(work)
    return result.summary(found.name, fr.long_date(now.date() + timedelta(days=1)))


def unarchive_family(db: Database, actor: Actor, family_id: object, now: datetime) -> str:
    """Bring an archived family back, its children and accounts with it; the cancelled bookings stay
    cancelled (book again)."""
    found = _staff_family(db, actor, family_id, Role.ADMIN)
    if found.archived_at is None:
        raise InvalidInput("Cette famille n'est pas archivée.")
    accounts = [g.user_id for g in store.guardians(db, found.id) if g.user_id is not None]

    def work(cur: Cursor) -> None:
        store.set_family_archived(cur, found.id, None)
        store.reactivate_users(cur, accounts)
        trail.write(
            cur,
            actor,
            now,
            action="family.unarchive",
            entity="family",
            entity_id=found.id,
            after={"accounts": accounts},
        )

    db.write(work)
    return f"{found.name} est de nouveau active. Les réservations annulées à l'archivage restent annulées."


def archive_child(db: Database, actor: Actor, child_id: object, reason: object, now: datetime) -> str:
    actor.require(Role.ADMIN)
    found = store.child(db, child_id) if is_id(child_id) else None
    if found is None:
        raise NotFound("Enfant introuvable.")
    why = _reason(reason)
    if found.archived_at is not None:
        raise InvalidInput(f"{found.first_name} est déjà archivé(e).")

    calendar = reference.school_calendar(db)

    def work(cur: Cursor) -> ArchiveResult:
        result = _archive_children(cur, actor, [found.id], calendar, now, "enfant archivé")
        store.set_child_archived(cur, found.id, to_utc_naive(now))
        trail.write(
            cur,
            actor,
            now,
            action="child.archive",
            entity="child",
            entity_id=found.id,
            after={"cancelled": result.cancelled, "promoted": result.promoted},
            reason=why,
        )
        return result

    result = db.write(work)
    return result.summary(f"{found.first_name} {found.last_name}", fr.long_date(now.date() + timedelta(days=1)))


def unarchive_child(db: Database, actor: Actor, child_id: object, now: datetime) -> str:
    actor.require(Role.ADMIN)
    found = store.child(db, child_id) if is_id(child_id) else None
    if found is None:
        raise NotFound("Enfant introuvable.")
    family = store.family(db, found.family_id)
    if found.archived_at is None:
        raise InvalidInput(f"{found.first_name} n'est pas archivé(e).")
    if family is not None and family.archived_at is not None:
        raise InvalidInput("La famille est archivée : désarchivez d'abord la famille.")

    def work(cur: Cursor) -> None:
        store.set_child_archived(cur, found.id, None)
        trail.write(cur, actor, now, action="child.unarchive", entity="child", entity_id=found.id)

    db.write(work)
    return f"{found.first_name} est de nouveau actif(ve). Les réservations annulées restent annulées."


# --- the family's own file (« Mon dossier ») ---------------------------------------------------------


def my_file(db: Database, actor: Actor) -> FamilyFile:
    return _read(db, _own_family_id(actor))


def update_my_guardian(db: Database, actor: Actor, rank: object, phone: object, address: object, now: datetime) -> None:
    """A guardian changes his own phone and address (names and e-mails go through the town hall; the
    other guardian's, through the other guardian or the town hall)."""
    fid = _own_family_id(actor)
    before = next((g for g in store.guardians(db, fid) if g.rank == rank), None)
    if before is None or before.user_id != actor.user_id:
        raise NotAllowed("Responsable introuvable dans votre dossier.")
    who = f"Responsable {before.rank}"
    new_phone = optional_phone(phone, f"{who}, téléphone")
    new_address = optional_text(address, f"{who}, adresse")

    def work(cur: Cursor) -> None:
        store.set_guardian_contact(cur, before.id, new_phone, new_address)
        trail.write(
            cur,
            actor,
            now,
            action="guardian.contact",
            entity="family",
            entity_id=fid,
            before={"rank": before.rank, "phone": before.phone, "address": before.address},
            after={"rank": before.rank, "phone": new_phone, "address": new_address},
        )

    db.write(work)


def propose_quotient(db: Database, actor: Actor, typed: QuotientInput, now: datetime) -> int:
    """The family's new QF waits for the town hall (a pending one is replaced)."""
    fid = _own_family_id(actor)
    clean = check_quotient(typed, now.date())

    def work(cur: Cursor) -> int:
        change_id = store.propose(
            cur, fid, None, ChangeKind.QF, quotient_payload(clean), actor.user_id, to_utc_naive(now)
        )
        trail.write(
            cur,
            actor,
            now,
            action="change.propose",
            entity="family",
            entity_id=fid,
            after={"change": change_id, **asdict(clean)},
        )
        return change_id

    return db.write(work)


# --- staff: what waits for validation -----------------------------------------------------------------

# Who decides each kind: the QF changes prices, the administrator alone accepts it.
DECIDERS: dict[ChangeKind, tuple[Role, ...]] = {ChangeKind.QF: (Role.ADMIN,)}


def may_decide(actor: Actor, change: PendingChange) -> bool:
    """Whether the actor may accept or refuse this kind of change (the page shows the buttons then)."""
    return actor.role in DECIDERS[change.kind]


def pending(db: Database, actor: Actor) -> list[PendingChange]:
    actor.require(*READERS)
    return store.changes(db, None, ChangeState.PENDING)


def current_quotient(db: Database, actor: Actor, family_id: int) -> int | None:
    """The QF in force of the family a change concerns (« ancien → nouveau »)."""
    found = _staff_family(db, actor, family_id, *READERS)
    return found.quotient_familial


def decide(db: Database, actor: Actor, change_id: object, accept: bool, note: object, now: datetime) -> str:
    """Accept (the change is applied through the staff form's own store function, in the same
    transaction) or refuse (the note stays for the family) a pending change."""
    with refusals_audited(db, actor, now, "change.refused_decision", "pending_change", change_id):
        actor.require(*READERS)
        text = check_note(note, required=not accept)

        def work(cur: Cursor) -> str:
            found = store.change(cur, change_id) if is_id(change_id) else None
            if found is None:
                raise NotFound("Demande introuvable.")
            actor.require(*DECIDERS[found.kind])
            if found.state is not ChangeState.PENDING:
                raise InvalidInput("Cette demande a déjà été traitée.")
            state = ChangeState.ACCEPTED if accept else ChangeState.REFUSED
            store.decide(cur, found.id, state, actor.user_id, to_utc_naive(now), text)
            if accept:
                family = store.family_in(cur, found.family_id)
                _apply_quotient(cur, actor, family, quotient_of(found), now)
            trail.write(
                cur,
                actor,
                now,
                action=f"change.{state.value}",
                entity="family",
                entity_id=found.family_id,
                after={"change": found.id, "kind": found.kind},
                reason=text,
            )
            return f"Demande de {found.family} {state.label.lower()}."

        return db.write(work)


# --- the family's right of access ----------------------------------------------------------------------

README = """Vos données au portail famille
==============================

Ce fichier ZIP contient tout ce que la mairie conserve de votre dossier au portail, au {date} :

- famille.csv : le nom du dossier, son identifiant à la mairie, la facturation, le quotient familial en vigueur ;
- responsables.csv : les responsables, leurs adresses e-mail, téléphones et adresses ;
- enfants.csv : les enfants, leur date de naissance, leur classe et leur régime ;
- quotient_familial.csv : l'historique de votre quotient familial ;
- contacts.csv : les personnes à prévenir en cas d'urgence et celles autorisées à venir chercher les enfants,
  y compris celles retirées du dossier (colonne archive_le) ;
- autorisations.csv : les autorisations (photos, sorties) de chaque enfant ;
- inscriptions.csv : les inscriptions par année scolaire, structure et prestation ;
- reservations.csv : chaque jour réservé, annulé ou en liste d'attente ;
- factures.csv et paiements.csv : vos factures (montants en centimes d'euro) et vos paiements ; en garde
  alternée avec facture partagée, celles qui vous sont adressées seulement ;
- demandes.csv : les modifications demandées à la mairie et leur suite ;
- sante.csv : la fiche de santé (PAI, allergies, protocole, panier repas, médecin) de vos enfants ;
- demandes_sante.csv : les corrections de la fiche de santé que vous avez proposées et leur suite.

Les fichiers s'ouvrent dans un tableur (séparateur point-virgule, encodage UTF-8).
Pour faire corriger une information, utilisez « Mon dossier » ou écrivez au service enfance de la mairie.
"""


def _own_invoices(frames: dict[str, pd.DataFrame], user_id: int) -> dict[str, pd.DataFrame]:
    """The invoices (and their payments) this account sees, as « Mes factures » shows them: in shared
    custody, only those addressed to its guardian."""
    invoices = frames["factures"]
    seen = [
        invoice_visible(bool(split), None if pd.isna(payer) else int(payer), user_id)
        for split, payer in zip(invoices[store.SPLIT_FAMILY], invoices[store.PAYER_USER], strict=True)
    ]
    kept = invoices[pd.Series(seen, index=invoices.index, dtype=bool)]
    payments = frames["paiements"]
    return {
        **frames,
        "factures": kept.drop(columns=[store.SPLIT_FAMILY, store.PAYER_USER]),
        "paiements": payments[payments["facture"].isin(kept["numero"])],
    }


def my_data(db: Database, actor: Actor, now: datetime) -> bytes:
    """The family's own data (RGPD right of access): a ZIP of CSV files and a README in French."""
    fid = _own_family_id(actor)
    frames = _own_invoices(store.export_frames(db, fid), actor.user_id) | health_store.export_frames(db, fid)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(date=fr.long_date(now.date())))
        for name, frame in frames.items():
            rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
            archive.writestr(f"{name}.csv", csv_bytes(list(frame.columns), rows))
    db.write(
        lambda cur: trail.write(
            cur, actor, now, action="family.export", entity="family", entity_id=fid, after=sorted(frames)
        )
    )
    return buffer.getvalue()
