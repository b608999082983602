"""The audit log's two doors. Refusals that matter to the town's accounts (payments, invoicing,
tariffs) leave a trace: the work wrote nothing, the audit log says who tried what and why it was
refused. And the administrator reads the log in French (`journal`, `journal_csv`): who, what (a
sentence from lib/domain/journal.py), which family or child, when (Paris time)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from lib.domain import fr
from lib.domain import journal as journal_rules
from lib.domain.actor import Actor
from lib.domain.clock import PARIS, from_utc_naive, to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed, PortailError
from lib.domain.roles import Role
from lib.domain.spreadsheet import csv_bytes
from lib.domain.validation import fold
from lib.store import audit
from lib.store.db import Cursor, Database


def write(
    cur: Cursor,
    actor: Actor,
    now: datetime,
    *,
    action: str,
    entity: str,
    entity_id: int | str,
    before: object = None,
    after: object = None,
    reason: str | None = None,
) -> int:
    """A change's journal entry, in the change's transaction, by the person who made it; its id."""
    return audit.record(
        cur,
        at_utc=to_utc_naive(now),
        user_id=actor.user_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
    )


@contextmanager
def refusals_audited(
    db: Database, actor: Actor | None, now: datetime, action: str, entity: str, entity_id: Any
) -> Iterator[None]:
    try:
        yield
    except PortailError as exc:
        audit.record_refusal(
            db,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id if actor else None,
            action=action,
            entity=entity,
            entity_id=entity_id if isinstance(entity_id, (int, str)) else repr(entity_id)[:40],
            reason=exc.message,
        )
        raise


def record_child_file_read(db: Database, actor: Actor, child_id: int, now: datetime) -> None:
    """A staff member opened a child's file (registration and bookings): who read whose data, in
    the journal, as the GDPR asks of a service holding children's data. The page calls it once each
    time a child is chosen, not on every rerun."""
    if actor.role not in (Role.AGENT, Role.ADMIN):
        raise NotAllowed("Seul le personnel de la mairie consulte le dossier d'un enfant.")
    db.write(
        lambda cur: audit.record(
            cur,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id,
            action="child.read",
            entity="child",
            entity_id=int(child_id),
        )
    )


# --- reading the log, in French -------------------------------------------------------------------

PAGE_LIMIT = 200  # entries shown on the page; the CSV takes up to CSV_LIMIT
CSV_LIMIT = 5000
CSV_HEADERS = ["Date et heure", "Qui", "Action", "Famille ou enfant", "Motif"]


@dataclass(frozen=True)
class JournalLine:
    at: datetime  # aware, Paris
    when: str  # « 27/11/2026 à 9 h 30 »
    who: str  # « Nadia Benali (agent d'animation) »
    what: str  # the French sentence
    concerns: str  # « Hugo Martin (Famille Martin) » or ''
    reason: str  # the reason typed or recorded, or ''


@dataclass
class Journal:
    lines: list[JournalLine]
    more: bool  # there were more entries than the limit


def _load(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def _name_filter(name: object) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidInput("Nom illisible : saisissez le nom d'une famille ou d'un enfant.")
    text = " ".join(name.split())
    if not text:
        return None
    if len(text) > journal_rules.NAME_MAX:
        raise InvalidInput(f"Nom trop long : {journal_rules.NAME_MAX} caractères au plus.")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InvalidInput("Nom illisible : saisissez seulement des lettres, des espaces ou des tirets.")
    if sum(c.isalpha() for c in text) < 2:
        raise InvalidInput("Saisissez au moins 2 lettres du nom de la famille ou de l'enfant.")
    return fold(text)


def _day_or_none(value: object) -> date | None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise InvalidInput("Choisissez une période : un jour de début et un jour de fin.")
    return value


def _bounds(first_seen: object, last_seen: object) -> tuple[datetime | None, datetime | None]:
    """The Paris days from `first` to `last` (inclusive) as UTC instants [start, end)."""
    first, last = _day_or_none(first_seen), _day_or_none(last_seen)
    if first is not None and last is not None and last < first:
        raise InvalidInput("La fin de la période précède son début : vérifiez les dates.")
    start = to_utc_naive(datetime.combine(first, time(0), PARIS)) if first is not None else None
    end = to_utc_naive(datetime.combine(last + timedelta(days=1), time(0), PARIS)) if last is not None else None
    return start, end


def journal(
    db: Database,
    actor: Actor,
    *,
    kind: str = "Tout",
    name: object = None,
    first: object = None,
    last: object = None,
    limit: int = PAGE_LIMIT,
) -> Journal:
    """The audit log in French, newest first (administrator only): one kind of change
    (`journal_rules.KINDS`), a family or child whose name contains `name`, the Paris days from
    `first` to `last`."""
    actor.require(Role.ADMIN)
    if kind not in journal_rules.KINDS:
        raise InvalidInput("Type de changement inconnu : choisissez-en un dans la liste.")
    folded = _name_filter(name)
    start, end = _bounds(first, last)
    limit = max(1, min(int(limit), CSV_LIMIT))
    rows = audit.journal(
        db, prefixes=list(journal_rules.KINDS[kind]), name=folded, first_utc=start, last_utc=end, limit=limit + 1
    )
    services = audit.service_names(db) if rows else {}
    lines = []
    for row in rows[:limit]:
        entry = journal_rules.Entry(
            action=row["action"],
            entity=row["entity"],
            entity_id=row["entity_id"],
            before=_load(row["before"]),
            after=_load(row["after"]),
            reason=row["reason"],
            child=row["child"],
            family=row["family"],
            invoice=row["invoice"],
            site=row["site"],
            service=row["service"],
            services=services,
        )
        at = from_utc_naive(row["logged_at"])
        lines.append(
            JournalLine(
                at,
                fr.numeric_date_time(at),
                journal_rules.who(row["who"], row["role"]),
                journal_rules.sentence(entry),
                journal_rules.concerns(entry),
                journal_rules.shown_reason(entry),
            )
        )
    return Journal(lines, more=len(rows) > limit)


def journal_csv(db: Database, actor: Actor, **filters: Any) -> bytes:
    """The same entries as CSV for a French spreadsheet (semicolons, UTF-8 with BOM); a reason
    typed as « =HYPERLINK(…) » stays text there."""
    found = journal(db, actor, **filters, limit=CSV_LIMIT)
    return csv_bytes(
        CSV_HEADERS, ([line.when, line.who, line.what, line.concerns, line.reason] for line in found.lines)
    )
