"""Administrator's settings: a service's deadlines and price, a site's daily capacity."""

from __future__ import annotations

from datetime import time

import duckdb

from lib.store.db import Database, dicts


def services_with_capacities(db: Database) -> list[dict]:
    return db.dicts(
        """
        SELECT s.id, s.name, s.sort_order, s.weekdays, s.unit_price_cents, s.book_delay_days, s.book_delay_working,
               s.cancel_delay_days, s.cancel_delay_working, s.cutoff_time,
               list({'site_id': ss.site_id, 'site': si.name, 'capacity': ss.capacity} ORDER BY ss.site_id)
                 AS capacities
        FROM services s JOIN site_services ss ON ss.service_id = s.id JOIN sites si ON si.id = ss.site_id
        GROUP BY ALL ORDER BY s.sort_order
        """
    )


def service_row(cur: duckdb.DuckDBPyConnection, service_id: int) -> dict | None:
    found = dicts(
        cur,
        """SELECT id, name, unit_price_cents, book_delay_days, book_delay_working, cancel_delay_days,
                                 cancel_delay_working, cutoff_time FROM services WHERE id = ?""",
        [service_id],
    )
    return found[0] if found else None


def update_service(
    cur: duckdb.DuckDBPyConnection,
    service_id: int,
    *,
    unit_price_cents: int,
    book_delay_days: int,
    book_delay_working: bool,
    cancel_delay_days: int,
    cancel_delay_working: bool,
    cutoff_time: time,
) -> None:
    cur.execute(
        """UPDATE services SET unit_price_cents = ?, book_delay_days = ?, book_delay_working = ?,
                  cancel_delay_days = ?, cancel_delay_working = ?, cutoff_time = ? WHERE id = ?""",
        [
            unit_price_cents,
            book_delay_days,
            book_delay_working,
            cancel_delay_days,
            cancel_delay_working,
            cutoff_time,
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
