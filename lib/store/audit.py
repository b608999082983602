"""The audit log: who changed what, when, before and after, and why."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

import duckdb

from lib.store.db import Database
from lib.store.sql import dialects


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(
        value, ensure_ascii=False, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v)
    )


def record(
    cur: duckdb.DuckDBPyConnection,
    *,
    at_utc: datetime,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: Any,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> int:
    """Write one entry; its id (a receipt quotes it as the change's reference)."""
    return cur.execute(
        "INSERT INTO audit_log (logged_at, user_id, action, entity, entity_id, before, after, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [
            at_utc,
            user_id,
            action,
            entity,
            None if entity_id is None else str(entity_id),
            _json(before),
            _json(after),
            reason,
        ],
    ).fetchall()[0][0]


def record_each(
    cur: duckdb.DuckDBPyConnection,
    *,
    at_utc: datetime,
    user_id: int | None,
    action: str,
    entity: str,
    entries: list[tuple[Any, Any, Any]],
    reason: str | None = None,
) -> None:
    """One entry per (entity id, before, after) of `entries`, in one statement: a closure writes one
    per child whose bookings it cancelled, hundreds on a town-wide strike."""
    if not entries:
        return
    cur.execute(
        """INSERT INTO audit_log (logged_at, user_id, action, entity, entity_id, before, after, reason)
           SELECT $at, $user, $action, $entity, unnest($ids::VARCHAR[]), unnest($befores::VARCHAR[]),
                  unnest($afters::VARCHAR[]), $reason""",
        {
            "at": at_utc,
            "user": user_id,
            "action": action,
            "entity": entity,
            "ids": [None if e[0] is None else str(e[0]) for e in entries],
            "befores": [_json(e[1]) for e in entries],
            "afters": [_json(e[2]) for e in entries],
            "reason": reason,
        },
    )


def record_refusal(
    db: Database, *, at_utc: datetime, user_id: int | None, action: str, entity: str, entity_id: Any, reason: str
) -> None:
    """A refused attempt, in its own small transaction (the refused work itself wrote nothing)."""
    db.write(
        lambda cur: record(
            cur, at_utc=at_utc, user_id=user_id, action=action, entity=entity, entity_id=entity_id, reason=reason[:500]
        )
    )


# The names an entry's ids stand for, looked up where the log is read (the log keeps ids: a name
# can change, the id cannot). An entity id that is not a number of ours finds nothing.
_NAMED = """
    SELECT a.id, a.logged_at, a.user_id, u.display_name AS who, u.role, a.action, a.entity, a.entity_id,
           a.before, a.after, a.reason,
           CASE WHEN c.id IS NOT NULL THEN c.first_name || ' ' || c.last_name END AS child,
           coalesce(cf.name, f.name, inf.name) AS family, i.number AS invoice,
           s.name AS site, coalesce(sv.name, es.name) AS service
    FROM audit_log a
    LEFT JOIN users u ON u.id = a.user_id
    LEFT JOIN children c ON a.entity = 'child' AND c.id = TRY_CAST(a.entity_id AS INTEGER)
    LEFT JOIN families cf ON cf.id = c.family_id
    LEFT JOIN families f ON a.entity = 'family' AND f.id = TRY_CAST(a.entity_id AS INTEGER)
    LEFT JOIN invoices i ON a.entity = 'invoice' AND i.id = TRY_CAST(a.entity_id AS INTEGER)
    LEFT JOIN families inf ON inf.id = i.family_id
    LEFT JOIN sites s ON a.entity IN ('site_service', 'site_service_day')
                     AND s.id = TRY_CAST(split_part(a.entity_id, ':', 1) AS INTEGER)
    LEFT JOIN services sv ON a.entity IN ('site_service', 'site_service_day')
                         AND sv.id = TRY_CAST(split_part(a.entity_id, ':', 2) AS INTEGER)
    LEFT JOIN services es ON a.entity = 'service' AND es.id = TRY_CAST(a.entity_id AS INTEGER)
"""


# TRY_CAST(… AS INTEGER) in PostgreSQL's words.
_NAMED_PG = re.sub(r"TRY_CAST\((.+?) AS INTEGER\)", r"try_integer(\1)", _NAMED)
JOURNAL = dialects(
    duckdb=f"""
        WITH named AS ({_NAMED}
            WHERE (len($prefixes) = 0 OR EXISTS (SELECT 1 FROM unnest($prefixes) t(p) WHERE starts_with(a.action, p)))
              AND ($first IS NULL OR a.logged_at >= $first) AND ($last IS NULL OR a.logged_at < $last))
        SELECT * FROM named n
        WHERE $name IS NULL
           OR contains(strip_accents(lower(coalesce(n.child, ''))), $name)
           OR contains(strip_accents(lower(coalesce(n.family, ''))), $name)
           OR (n.entity = 'site_service_day' AND EXISTS (
                 SELECT 1 FROM children k JOIN families kf ON kf.id = k.family_id
                 WHERE list_contains(json_keys(TRY_CAST(n.after AS JSON)), k.id::VARCHAR)
                   AND (contains(strip_accents(lower(k.first_name || ' ' || k.last_name)), $name)
                        OR contains(strip_accents(lower(kf.name)), $name))))
        ORDER BY n.logged_at DESC, n.id DESC LIMIT $limit
        """,
    # TRY_CAST is try_integer / try_jsonb (lib/store/postgresql.sql); a parameter only tested for
    # NULL (or a list maybe empty) says its type
    postgresql=f"""
        WITH named AS ({_NAMED_PG}
            WHERE (cardinality($prefixes::VARCHAR[]) = 0
                   OR EXISTS (SELECT 1 FROM unnest($prefixes::VARCHAR[]) t(p) WHERE starts_with(a.action, p)))
              AND ($first::TIMESTAMP IS NULL OR a.logged_at >= $first)
              AND ($last::TIMESTAMP IS NULL OR a.logged_at < $last))
        SELECT * FROM named n
        WHERE $name::VARCHAR IS NULL
           OR contains(strip_accents(lower(coalesce(n.child, ''))), $name)
           OR contains(strip_accents(lower(coalesce(n.family, ''))), $name)
           OR (n.entity = 'site_service_day' AND EXISTS (
                 SELECT 1 FROM children k JOIN families kf ON kf.id = k.family_id
                 WHERE jsonb_typeof(try_jsonb(n.after)) = 'object' AND jsonb_exists(try_jsonb(n.after), k.id::VARCHAR)
                   AND (contains(strip_accents(lower(k.first_name || ' ' || k.last_name)), $name)
                        OR contains(strip_accents(lower(kf.name)), $name))))
        ORDER BY n.logged_at DESC, n.id DESC LIMIT $limit
        """,
)


def journal(
    db: Database,
    *,
    prefixes: list[str],
    name: str | None,
    first_utc: datetime | None,
    last_utc: datetime | None,
    limit: int,
) -> list[dict]:
    """Entries newest first (by time, then by id), with names. `prefixes`: the actions to keep (all if empty). `name`
    (lower case, no accents): a child's or family's name contains it — the entity's own child or
    family, an invoice's family, or one of the children of an attendance entry. `first_utc` ≤
    logged_at < `last_utc`."""
    return db.dicts(
        JOURNAL,
        {"prefixes": prefixes, "name": name, "first": first_utc, "last": last_utc, "limit": limit},
    )


def service_names(db: Database) -> dict[int, str]:
    return {row["id"]: row["name"] for row in db.dicts("SELECT id, name FROM services")}
