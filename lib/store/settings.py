"""Administrator's settings: a service's deadlines and price, a site's daily capacity.

A service's deadline rules leave the store as the domain's `ServiceDeadlines` and come back as one:
`with_deadlines` is the one place that builds them from their columns (every read of a service's
rules goes through it), `update_service` the one place that writes them."""

from __future__ import annotations

from typing import Any

import duckdb

from lib.domain.deadlines import DeadlineRule, ServiceDeadlines
from lib.domain.records import ServiceSettings, SiteCapacity
from lib.store.db import Database, dicts
from lib.store.sql import dialects

DEADLINE_COLUMNS = (
    "book_delay_days",
    "book_delay_working",
    "book_cutoff_time",
    "cancel_delay_days",
    "cancel_delay_working",
    "cancel_cutoff_time",
)


def with_deadlines(row: dict[str, Any]) -> dict[str, Any]:
    """A service row whose six deadline columns are replaced by its `deadlines` (ServiceDeadlines)."""
    found = {k: v for k, v in row.items() if k not in DEADLINE_COLUMNS}
    found["deadlines"] = ServiceDeadlines(
        book=DeadlineRule(row["book_delay_days"], row["book_delay_working"], row["book_cutoff_time"]),
        cancel=DeadlineRule(row["cancel_delay_days"], row["cancel_delay_working"], row["cancel_cutoff_time"]),
    )
    return found


SERVICES_WITH_CAPACITIES = dialects(
    duckdb="""
        SELECT s.*, list({'site_id': ss.site_id, 'site': si.name, 'capacity': ss.capacity} ORDER BY ss.site_id)
                 AS capacities
        FROM services s JOIN site_services ss ON ss.service_id = s.id JOIN sites si ON si.id = ss.site_id
        GROUP BY ALL ORDER BY s.sort_order
        """,
    # a struct is a JSON object (psycopg reads it as a dict); the service's key groups its columns
    postgresql="""
        SELECT s.*, json_agg(json_build_object('site_id', ss.site_id, 'site', si.name, 'capacity', ss.capacity)
                             ORDER BY ss.site_id) AS capacities
        FROM services s JOIN site_services ss ON ss.service_id = s.id JOIN sites si ON si.id = ss.site_id
        GROUP BY s.id ORDER BY s.sort_order
        """,
)


def services_with_capacities(db: Database) -> list[ServiceSettings]:
    """Each service with its `deadlines` and the capacity of each site that gives it."""
    rows = db.dicts(SERVICES_WITH_CAPACITIES)
    return [
        ServiceSettings(
            id=r["id"],
            name=r["name"],
            unit_price_cents=r["unit_price_cents"],
            deadlines=r["deadlines"],
            capacities=tuple(SiteCapacity(c["site_id"], c["site"], c["capacity"]) for c in r["capacities"]),
        )
        for r in map(with_deadlines, rows)
    ]


def service_row(cur: duckdb.DuckDBPyConnection, service_id: int) -> dict | None:
    """The service's settings as stored, column by column: what the audit log records."""
    found = dicts(
        cur,
        f"SELECT id, name, unit_price_cents, {', '.join(DEADLINE_COLUMNS)} FROM services WHERE id = ?",
        [service_id],
    )
    return found[0] if found else None


def service_deadlines(
    cur: duckdb.DuckDBPyConnection, service_ids: list[int]
) -> dict[int, tuple[str, ServiceDeadlines]]:
    """Service id → (its name, its deadlines), read inside the caller's transaction: what a letter
    about a day of these services says (« annulable jusqu'au … »)."""
    if not service_ids:
        return {}
    rows = dicts(
        cur,
        f"SELECT id, name, {', '.join(DEADLINE_COLUMNS)} FROM services WHERE list_contains(?, id)",
        [service_ids],
    )
    return {r["id"]: (r["name"], r["deadlines"]) for r in map(with_deadlines, rows)}


def update_service(
    cur: duckdb.DuckDBPyConnection, service_id: int, *, unit_price_cents: int, deadlines: ServiceDeadlines
) -> None:
    book, cancel = deadlines.book, deadlines.cancel
    cur.execute(
        """UPDATE services SET unit_price_cents = ?,
                  book_delay_days = ?, book_delay_working = ?, book_cutoff_time = ?,
                  cancel_delay_days = ?, cancel_delay_working = ?, cancel_cutoff_time = ?
           WHERE id = ?""",
        [
            unit_price_cents,
            *(book.days, book.working, book.cutoff),
            *(cancel.days, cancel.working, cancel.cutoff),
            service_id,
        ],
    )


def capacity(cur: duckdb.DuckDBPyConnection, site_id: int, service_id: int) -> int | None:
    rows = cur.execute(
        "SELECT capacity FROM site_services WHERE site_id = ? AND service_id = ?", [site_id, service_id]
    ).fetchall()
    return rows[0][0] if rows else None


def set_capacity(cur: duckdb.DuckDBPyConnection, site_id: int, service_id: int, value: int) -> None:
    cur.execute(
        "UPDATE site_services SET capacity = ? WHERE site_id = ? AND service_id = ?", [value, site_id, service_id]
    )


def tariffs(db: Database, service_id: int) -> list[tuple[int | None, int]]:
    return db.rows(
        "SELECT qf_max, price_cents FROM tariffs WHERE service_id = ? ORDER BY qf_max NULLS LAST", [service_id]
    )


def replace_tariffs(cur: duckdb.DuckDBPyConnection, service_id: int, brackets: list[tuple[int | None, int]]) -> list:
    before = cur.execute(
        "SELECT qf_max, price_cents FROM tariffs WHERE service_id = ? ORDER BY qf_max NULLS LAST", [service_id]
    ).fetchall()
    cur.execute("DELETE FROM tariffs WHERE service_id = ?", [service_id])
    for qf_max, price in brackets:
        cur.execute("INSERT INTO tariffs VALUES (?, ?, ?)", [service_id, qf_max, price])
    return before
