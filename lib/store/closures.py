"""Closures and strikes: the rows the town declares and withdraws (the calendar reads those in
force through `reference.closures`; `sql.OPEN_DAY` keeps their days out of meals and invoices)."""

from __future__ import annotations

from datetime import datetime

import duckdb

from lib.domain.calendar import Closure, ClosureKind
from lib.domain.closures import Declaration, DeclaredClosure, Scope
from lib.store.db import Database


def insert(
    cur: duckdb.DuckDBPyConnection, scopes: list[Scope], declaration: Declaration, user_id: int, now_utc: datetime
) -> list[int]:
    """One row per (site, service) scope; their ids in the order of `scopes`."""
    rows = cur.execute(
        """
        INSERT INTO closures (site_id, service_id, start_date, end_date, reason, kind, created_by, created_at)
        SELECT unnest($sites::INTEGER[]), unnest($services::INTEGER[]), $start, $end, $reason, $kind, $user, $now
        RETURNING id
        """,
        {
            "sites": [s for s, _ in scopes],
            "services": [v for _, v in scopes],
            "start": declaration.start,
            "end": declaration.end,
            "reason": declaration.reason,
            "kind": declaration.kind.value,
            "user": user_id,
            "now": now_utc,
        },
    ).fetchall()
    return sorted(r[0] for r in rows)


def already_declared(cur: duckdb.DuckDBPyConnection, scopes: list[Scope], declaration: Declaration) -> bool:
    """A closure in force with the same scope, days, kind and reason (a form sent twice)."""
    return bool(
        cur.execute(
            """
            SELECT count(*) FROM closures k
            JOIN (SELECT unnest($sites::INTEGER[]) AS site_id, unnest($services::INTEGER[]) AS service_id) s
              ON k.site_id IS NOT DISTINCT FROM s.site_id AND k.service_id IS NOT DISTINCT FROM s.service_id
            WHERE k.withdrawn_at IS NULL AND k.start_date = $start AND k.end_date = $end AND k.kind = $kind
              AND k.reason = $reason
            """,
            {
                "sites": [s for s, _ in scopes],
                "services": [v for _, v in scopes],
                "start": declaration.start,
                "end": declaration.end,
                "kind": declaration.kind.value,
                "reason": declaration.reason,
            },
        ).fetchall()[0][0]
    )


_LISTED = """
    SELECT k.id, k.start_date, k.end_date, k.reason, k.site_id, k.service_id, k.kind, si.name AS site,
           sv.name AS service, k.created_at, u.display_name AS created_by, k.withdrawn_at
    FROM closures k
    LEFT JOIN sites si ON si.id = k.site_id
    LEFT JOIN services sv ON sv.id = k.service_id
    LEFT JOIN users u ON u.id = k.created_by
"""


def _declared(row: tuple) -> DeclaredClosure:
    cid, start, end, reason, site_id, service_id, kind, site, service, created_at, created_by, withdrawn_at = row
    closure = Closure(start, end, reason, site_id=site_id, service_id=service_id, kind=ClosureKind(kind))
    return DeclaredClosure(cid, closure, site, service, created_at, created_by, withdrawn_at)


def listed(db: Database) -> list[DeclaredClosure]:
    """Every closure row, withdrawn ones included, by first day."""
    return [_declared(row) for row in db.rows(f"{_LISTED} ORDER BY k.start_date, k.id")]


def withdraw(cur: duckdb.DuckDBPyConnection, closure_id: int, now_utc: datetime) -> DeclaredClosure | None:
    """Withdraw a closure in force; None when there is none of that id (or it is withdrawn)."""
    done = cur.execute(
        "UPDATE closures SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL RETURNING id",
        [now_utc, closure_id],
    ).fetchall()
    if not done:
        return None
    return _declared(cur.execute(f"{_LISTED} WHERE k.id = ?", [closure_id]).fetchall()[0])


def concerned(cur: duckdb.DuckDBPyConnection, child_ids: list[int]) -> list[tuple[int, str, str, int, str]]:
    """(child id, first name, last name, family id, family name) of `child_ids`."""
    return cur.execute(
        """SELECT c.id, c.first_name, c.last_name, f.id, f.name FROM children c JOIN families f ON f.id = c.family_id
           WHERE list_contains($ids, c.id)""",
        {"ids": sorted(set(child_ids))},
    ).fetchall()


def service_names(cur: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(cur.execute("SELECT id, name FROM services").fetchall())
