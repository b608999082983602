"""The audit log: who changed what, when, before and after, and why."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import duckdb

from lib.store.db import Database


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v))


def record(cur: duckdb.DuckDBPyConnection, *, at_utc: datetime, user_id: int | None, action: str, entity: str,
           entity_id: Any, before: Any = None, after: Any = None, reason: str | None = None) -> None:
    cur.execute(
        "INSERT INTO audit_log (logged_at, user_id, action, entity, entity_id, before, after, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [at_utc, user_id, action, entity, None if entity_id is None else str(entity_id), _json(before), _json(after),
         reason],
    )


def entries(db: Database, *, action_prefix: str = "", entity: str | None = None, entity_id: str | None = None,
            limit: int = 200) -> list[dict]:
    return db.dicts(
        """
        SELECT a.id, a.logged_at, a.user_id, coalesce(u.display_name, 'Système') AS who, u.role, a.action,
               a.entity, a.entity_id, a.before, a.after, a.reason
        FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
        WHERE starts_with(a.action, $prefix) AND ($entity IS NULL OR a.entity = $entity)
          AND ($entity_id IS NULL OR a.entity_id = $entity_id)
        ORDER BY a.id DESC LIMIT $limit
        """,
        {"prefix": action_prefix, "entity": entity, "entity_id": entity_id, "limit": limit},
    )


def record_refusal(db: Database, *, at_utc: datetime, user_id: int | None, action: str, entity: str, entity_id: Any,
                   reason: str) -> None:
    """A refused attempt, in its own small transaction (the refused work itself wrote nothing)."""
    db.write(lambda cur: record(cur, at_utc=at_utc, user_id=user_id, action=action, entity=entity,
                                entity_id=entity_id, reason=reason[:500]))
