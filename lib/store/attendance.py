"""Attendance (pointage): who was expected, who came."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import pandas as pd

from lib.domain.records import AttendanceChild, SiteService
from lib.store import day_counts, health
from lib.store.bulk import registered
from lib.store.db import Database
from lib.store.sql import BOOKED, CHILD_KEPT


def offered(db: Database) -> list[SiteService]:
    rows = db.rows(
        """SELECT ss.site_id, si.name AS site, ss.service_id, s.name AS service
           FROM site_services ss JOIN sites si ON si.id = ss.site_id JOIN services s ON s.id = ss.service_id
           ORDER BY ss.site_id, s.sort_order"""
    )
    return [SiteService(*row) for row in rows]


def sheet(db: Database, day: date, site_id: int, service_id: int) -> list[AttendanceChild]:
    """Children booked that day at that site for that service, and those already pointed there
    without a booking, with their status if recorded."""
    rows = db.rows(
        f"""
        SELECT c.id AS child_id, c.first_name, c.last_name, c.school_class,
               b.child_id IS NOT NULL AS booked, a.status
        FROM children c
        LEFT JOIN bookings b ON b.child_id = c.id AND b.day = $day AND b.service_id = $service
             AND b.site_id = $site AND b.state = {BOOKED}
        LEFT JOIN attendance a ON a.child_id = c.id AND a.day = $day AND a.service_id = $service
        WHERE b.child_id IS NOT NULL OR (a.child_id IS NOT NULL AND a.site_id = $site)
        ORDER BY c.school_class, c.last_name, c.first_name
        """,
        {"day": day, "site": site_id, "service": service_id},
    )
    return _flagged(db, rows)


def _flagged(db: Database, rows: list[tuple]) -> list[AttendanceChild]:
    """The rows as records, each with its PAI flag (lib/store/health.py alone reads that table)."""
    with_pai = health.pai_children(db, [row[0] for row in rows])
    return [replace(AttendanceChild(*row), pai=row[0] in with_pai) for row in rows]


def registered_children(db: Database, site_id: int, service_id: int, school_year_id: int) -> list[AttendanceChild]:
    """The children registered there that year (an archived child is no longer offered)."""
    rows = db.rows(
        f"""SELECT c.id AS child_id, c.first_name, c.last_name, c.school_class
           FROM registrations r JOIN registration_services rs ON rs.registration_id = r.id
           JOIN children c ON c.id = r.child_id
           WHERE r.site_id = ? AND rs.service_id = ? AND r.school_year_id = ? AND {CHILD_KEPT}
           ORDER BY c.last_name, c.first_name""",
        [site_id, service_id, school_year_id],
    )
    return _flagged(db, rows)


def current(cur: duckdb.DuckDBPyConnection, day: date, service_id: int, child_ids: list[int]) -> dict[int, str]:
    rows = cur.execute(
        "SELECT child_id, status FROM attendance WHERE day = ? AND service_id = ? AND list_contains(?, child_id)",
        [day, service_id, child_ids],
    ).fetchall()
    return dict(rows)


def upsert(cur: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> None:
    day_counts.forget(cur, list(rows["day"].unique()))
    with registered(cur, rows) as view:
        cur.execute(
            f"""INSERT INTO attendance (child_id, service_id, day, site_id, status, recorded_by, recorded_at)
                SELECT child_id, service_id, day, site_id, status, recorded_by, recorded_at FROM {view}
                ON CONFLICT (child_id, service_id, day) DO UPDATE SET status = excluded.status,
                  site_id = excluded.site_id, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at"""
        )
