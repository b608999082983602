"""The mayor's figures: attendance, use of the portal, money, aggregated in SQL."""

from __future__ import annotations

from datetime import date

from lib.store.db import Database
from lib.store.kitchen import read_counted
from lib.store.sql import dialects


def attendance_per_period(
    db: Database, first: date, last: date, grain: str, site_id: int | None, service_id: int | None
) -> list[dict]:
    """Booked days per week or month, and among the days already checked: present, absent
    (from the bookings counted per day, lib/store/day_counts.py)."""
    return read_counted(
        db,
        dialects(
            duckdb="""
        SELECT date_trunc($grain, b.day)::DATE AS period, sum(b.booked)::BIGINT AS booked,
               sum(b.checked)::BIGINT AS checked, sum(b.present)::BIGINT AS present, sum(b.absent)::BIGINT AS absent
        FROM day_counts b
        WHERE b.day BETWEEN $first AND $last
          AND ($site IS NULL OR b.site_id = $site) AND ($service IS NULL OR b.service_id = $service)
        GROUP BY ALL ORDER BY period
        """,
            postgresql="""
        SELECT date_trunc($grain::TEXT, b.day)::DATE AS period, sum(b.booked)::BIGINT AS booked,
               sum(b.checked)::BIGINT AS checked, sum(b.present)::BIGINT AS present, sum(b.absent)::BIGINT AS absent
        FROM day_counts b
        WHERE b.day BETWEEN $first AND $last
          AND ($site::INTEGER IS NULL OR b.site_id = $site) AND ($service::INTEGER IS NULL OR b.service_id = $service)
        GROUP BY 1 ORDER BY period
        """,
        ),
        {"first": first, "last": last, "grain": grain, "site": site_id, "service": service_id},
    )


def portal_share(db: Database, first: date, last: date) -> dict:
    """Families with bookings in the period, and those who booked at least once themselves online.
    Each child's bookers first (a hundred thousand pairs instead of millions of bookings to join)."""
    return db.dicts(
        """
        SELECT count(DISTINCT c.family_id) AS families,
               count(DISTINCT c.family_id) FILTER (WHERE u.role = 'famille') AS online
        FROM (SELECT DISTINCT child_id, created_by FROM bookings WHERE day BETWEEN ? AND ?) b
        JOIN children c ON c.id = b.child_id LEFT JOIN users u ON u.id = b.created_by
        """,
        [first, last],
    )[0]


def billing_per_month(db: Database, first: date, last: date) -> list[dict]:
    """Billed (invoices less credit notes) and paid per billed month, in cents."""
    return db.dicts(
        dialects(
            duckdb="""
        SELECT i.period_month AS period, sum(i.total_cents)::BIGINT AS billed,
               coalesce(sum((SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id)), 0)::BIGINT AS paid
        FROM invoices i WHERE i.period_month BETWEEN ? AND ?
        GROUP BY ALL ORDER BY period
        """,
            postgresql="""
        SELECT i.period_month AS period, sum(i.total_cents)::BIGINT AS billed,
               coalesce(sum(p.paid), 0)::BIGINT AS paid
        FROM invoices i
        LEFT JOIN (SELECT invoice_id, sum(amount_cents) AS paid FROM payments GROUP BY invoice_id) p
          ON p.invoice_id = i.id
        WHERE i.period_month BETWEEN ? AND ?
        GROUP BY i.period_month ORDER BY period
        """,
        ),
        [first, last],
    )


def unpaid_total(db: Database) -> int:
    return db.value(
        """SELECT coalesce(sum(greatest(i.total_cents
                 - coalesce((SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id), 0)
                 + coalesce((SELECT sum(k.total_cents) FROM invoices k WHERE k.corrects_invoice_id = i.id), 0), 0)),
                 0)::BIGINT
           FROM invoices i WHERE i.kind = 'invoice'"""
    )
