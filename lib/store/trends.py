"""The mayor's figures: attendance, use of the portal, money, aggregated in SQL."""

from __future__ import annotations

from datetime import date

from lib.store.db import Database


def attendance_per_period(db: Database, first: date, last: date, grain: str, site_id: int | None,
                          service_id: int | None) -> list[dict]:
    """Booked days per week or month, and among the days already checked: present, absent."""
    return db.dicts(
        """
        SELECT date_trunc($grain, b.day)::DATE AS period, count(*) AS booked, count(a.child_id) AS checked,
               count(*) FILTER (WHERE a.status = 'present') AS present,
               count(*) FILTER (WHERE a.status IN ('absent', 'justified')) AS absent
        FROM bookings b
        LEFT JOIN attendance a ON a.child_id = b.child_id AND a.service_id = b.service_id AND a.day = b.day
        WHERE b.state = 'booked' AND b.day BETWEEN $first AND $last
          AND ($site IS NULL OR b.site_id = $site) AND ($service IS NULL OR b.service_id = $service)
        GROUP BY ALL ORDER BY period
        """,
        {"first": first, "last": last, "grain": grain, "site": site_id, "service": service_id},
    )


def portal_share(db: Database, first: date, last: date) -> dict:
    """Families with bookings in the period, and those who booked at least once themselves online."""
    return db.dicts(
        """
        SELECT count(DISTINCT c.family_id) AS families,
               count(DISTINCT c.family_id) FILTER (WHERE u.role = 'famille') AS online
        FROM bookings b JOIN children c ON c.id = b.child_id LEFT JOIN users u ON u.id = b.created_by
        WHERE b.day BETWEEN ? AND ?
        """,
        [first, last],
    )[0]


def billing_per_month(db: Database, first: date, last: date) -> list[dict]:
    """Billed (invoices less credit notes) and paid per billed month, in cents."""
    return db.dicts(
        """
        SELECT i.period_month AS period, sum(i.total_cents)::BIGINT AS billed,
               coalesce(sum((SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id)), 0)::BIGINT AS paid
        FROM invoices i WHERE i.period_month BETWEEN ? AND ?
        GROUP BY ALL ORDER BY period
        """,
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
