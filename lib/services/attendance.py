"""Pointage: staff mark each expected child present, absent or absent with a justification, and
add a child who came without a booking. One transaction per save; corrections are audited."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd

from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput
from lib.domain.records import AttendanceChild, SiteService
from lib.domain.roles import Role
from lib.store import attendance as store
from lib.store import audit, reference
from lib.store.db import Database

STAFF = (Role.AGENT, Role.ADMIN)
STATUSES = {"present": "Présent", "absent": "Absent", "justified": "Absence justifiée"}


@dataclass
class AttendanceSheet:
    day: date
    site: str
    service: str
    rows: list[AttendanceChild]  # expected, or already pointed without a booking
    addable: list[AttendanceChild]  # registered at the site for the service, not on the sheet

    def with_added(self, added: list[int]) -> list[AttendanceChild]:
        """The sheet's children, then those of `addable` the staff added on screen: they came, so
        they are shown present (and saved so when the pointage is saved)."""
        chosen = set(added)
        return self.rows + [replace(c, status="present") for c in self.addable if c.child_id in chosen]


def choices(db: Database, actor: Actor) -> list[SiteService]:
    actor.require(*STAFF)
    return store.offered(db)


def _pair(db: Database, site_id: object, service_id: object) -> SiteService:
    found = next((o for o in store.offered(db) if o.site_id == site_id and o.service_id == service_id), None)
    if found is None:
        raise InvalidInput("Structure ou prestation inconnue : choisissez-les dans les listes.")
    return found


def _day(day: object, now: datetime) -> date:
    if not isinstance(day, date):
        raise InvalidInput("Choisissez un jour.")
    if day > now.date():
        raise InvalidInput(f"Le {fr.long_date(day)} n'est pas encore arrivé : on pointe le jour même ou après.")
    return day


def sheet(
    db: Database, actor: Actor, day: object, site_id: object, service_id: object, now: datetime
) -> AttendanceSheet:
    actor.require(*STAFF)
    day = _day(day, now)
    pair = _pair(db, site_id, service_id)
    rows = store.sheet(db, day, pair.site_id, pair.service_id)
    year = reference.current_school_year(db, day)
    listed = {r.child_id for r in rows}
    addable = [
        c
        for c in store.registered_children(db, pair.site_id, pair.service_id, year.id if year else -1)
        if c.child_id not in listed
    ]
    return AttendanceSheet(day, pair.site, pair.service, rows, addable)


def unmarked(data: AttendanceSheet, edits: dict) -> list[int]:
    """The expected children with no status, neither stored nor chosen on screen (`edits`)."""
    return [r.child_id for r in data.rows if r.status is None and edits.get(r.child_id) is None]


def save(
    db: Database, actor: Actor, day: object, site_id: object, service_id: object, statuses: dict, now: datetime
) -> str:
    """Record the statuses given (child id → present / absent / justified) in one transaction."""
    data = sheet(db, actor, day, site_id, service_id, now)
    count = _record(db, actor, data, site_id, service_id, _checked(data, statuses), now)
    if count == 0:
        return "Aucun changement : le pointage était déjà celui-ci."
    return f"Pointage enregistré : {count} enfant(s) mis à jour pour {data.site} — {data.service}."


def mark_rest_present(
    db: Database, actor: Actor, day: object, site_id: object, service_id: object, edits: dict, now: datetime
) -> str:
    """« Marquer présents … non pointés »: the statuses chosen on screen (`edits`) are saved as
    they are, and only the expected children with no status, stored or chosen, become present."""
    data = sheet(db, actor, day, site_id, service_id, now)
    edits = _checked(data, {c: s for c, s in edits.items() if s is not None}, allow_empty=True)
    rest = unmarked(data, edits)
    if not rest:
        raise InvalidInput("Tous les enfants attendus sont déjà pointés.")
    _record(db, actor, data, site_id, service_id, {**edits, **dict.fromkeys(rest, "present")}, now)
    said = f"Pointage enregistré pour {data.site} — {data.service} : {len(rest)} enfant(s) non pointé(s) marqué(s) présent(s)"
    if edits:
        counts: dict[str, int] = {}
        for status in edits.values():
            counts[STATUSES[status].lower()] = counts.get(STATUSES[status].lower(), 0) + 1
        said += (
            ", et les choix de la grille enregistrés aussi ("
            + ", ".join(f"{n} {word}" for word, n in counts.items())
            + ")"
        )
    return said + "."


def _checked(data: AttendanceSheet, statuses: object, *, allow_empty: bool = False) -> dict[int, str]:
    allowed = {r.child_id for r in data.rows} | {c.child_id for c in data.addable}
    if not isinstance(statuses, dict) or (not statuses and not allow_empty):
        raise InvalidInput("Aucun enfant pointé.")
    for child_id, status in statuses.items():
        if status not in STATUSES:
            raise InvalidInput(f"Statut de présence inconnu : « {status} ».")
        if child_id not in allowed or isinstance(child_id, bool):
            raise InvalidInput(
                f"L'enfant n° {child_id} n'est ni réservé ce jour-là ni inscrit à « {data.site} » "
                f"pour « {data.service} » : il ne peut pas être pointé ici."
            )
    return dict(statuses)


def _record(
    db: Database, actor: Actor, data: AttendanceSheet, site_id, service_id, statuses: dict[int, str], now: datetime
) -> int:
    at = to_utc_naive(now)

    def work(cur) -> int:
        before = store.current(cur, data.day, service_id, list(statuses))
        changed = {c: s for c, s in statuses.items() if before.get(c) != s}
        if not changed:
            return 0
        store.upsert(
            cur,
            pd.DataFrame(
                [
                    {
                        "child_id": c,
                        "service_id": service_id,
                        "day": data.day,
                        "site_id": site_id,
                        "status": s,
                        "recorded_by": actor.user_id,
                        "recorded_at": at,
                    }
                    for c, s in changed.items()
                ]
            ),
        )
        corrected = {c: before[c] for c in changed if c in before}
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="attendance.save",
            entity="site_service_day",
            entity_id=f"{site_id}:{service_id}:{data.day.isoformat()}",
            before={str(c): s for c, s in corrected.items()} or None,
            after={str(c): s for c, s in changed.items()},
            reason=f"{len(corrected)} correction(s)" if corrected else None,
        )
        return len(changed)

    return db.write(work)
