"""Read-only queries behind the home pages of each role."""

from __future__ import annotations

from datetime import date

from lib.store.db import Database
from lib.store.sql import ACTIVE_STATES, BOOKED, RIGHT_REQUESTED, WAITING, dialects


def family_children(db: Database, family_id: int, school_year_id: int) -> list[dict]:
    """The family's children with their registrations for one school year."""
    return db.dicts(
        dialects(
            duckdb="""
        SELECT c.id, c.first_name, c.last_name, c.school_class, c.birth_date, d.label AS diet,
               list({'site': s.name, 'services': (
                        SELECT list(sv.name ORDER BY sv.sort_order)
                        FROM registration_services rs JOIN services sv ON sv.id = rs.service_id
                        WHERE rs.registration_id = r.id)} ORDER BY s.id)
                 FILTER (WHERE r.id IS NOT NULL) AS registrations
        FROM children c
        JOIN diets d ON d.code = c.diet_code
        LEFT JOIN registrations r ON r.child_id = c.id AND r.school_year_id = ?
        LEFT JOIN sites s ON s.id = r.site_id
        WHERE c.family_id = ?
        GROUP BY ALL
        ORDER BY c.birth_date
        """,
            postgresql="""
        SELECT c.id, c.first_name, c.last_name, c.school_class, c.birth_date, d.label AS diet,
               array_agg(json_build_object('site', s.name, 'services', (
                        SELECT array_agg(sv.name ORDER BY sv.sort_order)
                        FROM registration_services rs JOIN services sv ON sv.id = rs.service_id
                        WHERE rs.registration_id = r.id)) ORDER BY s.id)
                 FILTER (WHERE r.id IS NOT NULL) AS registrations
        FROM children c
        JOIN diets d ON d.code = c.diet_code
        LEFT JOIN registrations r ON r.child_id = c.id AND r.school_year_id = ?
        LEFT JOIN sites s ON s.id = r.site_id
        WHERE c.family_id = ?
        GROUP BY c.id, c.first_name, c.last_name, c.school_class, c.birth_date, d.label
        ORDER BY c.birth_date
        """,
        ),
        [school_year_id, family_id],
    )


def family_next_bookings(db: Database, family_id: int, today: date, per_child: int) -> list[dict]:
    return db.dicts(
        dialects(
            duckdb=f"""
        SELECT child_id, day, service FROM (
            SELECT b.child_id, b.day, s.name AS service,
                   dense_rank() OVER (PARTITION BY b.child_id ORDER BY b.day) AS n, s.sort_order
            FROM bookings b
            JOIN children c ON c.id = b.child_id
            JOIN services s ON s.id = b.service_id
            WHERE c.family_id = ? AND b.state = {BOOKED} AND b.day >= ?
        ) WHERE n <= ?
        ORDER BY child_id, day, sort_order
        """,
            postgresql=f"""
        SELECT child_id, day, service FROM (
            SELECT b.child_id, b.day, s.name AS service,
                   dense_rank() OVER (PARTITION BY b.child_id ORDER BY b.day) AS n, s.sort_order
            FROM bookings b
            JOIN children c ON c.id = b.child_id
            JOIN services s ON s.id = b.service_id
            WHERE c.family_id = ? AND b.state = {BOOKED} AND b.day >= ?
        ) x WHERE n <= ?
        ORDER BY child_id, day, sort_order
        """,
        ),
        [family_id, today, per_child],
    )


def family_balance(db: Database, family_id: int) -> dict:
    """Issued invoices not fully paid: how many and how much is left, in cents."""
    found = db.dicts(
        dialects(
            duckdb="""
        SELECT count(*) FILTER (WHERE left_cents > 0) AS unpaid_count,
               coalesce(sum(left_cents) FILTER (WHERE left_cents > 0), 0)::BIGINT AS unpaid_cents
        FROM (
            SELECT i.total_cents - coalesce((SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id), 0)
                   + coalesce((SELECT sum(k.total_cents) FROM invoices k WHERE k.corrects_invoice_id = i.id), 0)
                   AS left_cents
            FROM invoices i WHERE i.family_id = ? AND i.kind = 'invoice'
        )
        """,
            postgresql="""
        SELECT count(*) FILTER (WHERE left_cents > 0) AS unpaid_count,
               coalesce(sum(left_cents) FILTER (WHERE left_cents > 0), 0)::BIGINT AS unpaid_cents
        FROM (
            SELECT i.total_cents - coalesce((SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id), 0)
                   + coalesce((SELECT sum(k.total_cents) FROM invoices k WHERE k.corrects_invoice_id = i.id), 0)
                   AS left_cents
            FROM invoices i WHERE i.family_id = ? AND i.kind = 'invoice'
        ) x
        """,
        ),
        [family_id],
    )
    return found[0]


def day_counts_by_site(db: Database, day: date) -> list[dict]:
    """Per site × service on one day: booked children and attendance recorded so far."""
    return db.dicts(
        f"""
        SELECT si.name AS site, sv.name AS service,
               count(*) FILTER (WHERE b.state = {BOOKED}) AS booked,
               count(*) FILTER (WHERE b.state = {WAITING}) AS waiting,
               count(a.child_id) FILTER (WHERE a.status = 'present') AS present,
               count(a.child_id) FILTER (WHERE a.status IN ('absent', 'justified')) AS absent,
               any_value(ss.capacity) AS capacity
        FROM bookings b
        JOIN sites si ON si.id = b.site_id
        JOIN services sv ON sv.id = b.service_id
        LEFT JOIN site_services ss ON ss.site_id = b.site_id AND ss.service_id = b.service_id
        LEFT JOIN attendance a ON a.child_id = b.child_id AND a.service_id = b.service_id AND a.day = b.day
        WHERE b.day = ? AND b.state IN {ACTIVE_STATES}
        GROUP BY si.id, si.name, sv.sort_order, sv.name
        ORDER BY si.id, sv.sort_order
        """,
        [day],
    )


def year_figures(db: Database, start: date, end: date, until: date) -> dict:
    """Registrations and bookings of the school year starting at `start`, counted up to `until`."""
    return db.dicts(
        f"""
        SELECT
          (SELECT count(DISTINCT r.child_id) FROM registrations r JOIN school_years y ON y.id = r.school_year_id
            WHERE y.start_date = $start) AS children,
          (SELECT count(DISTINCT c.family_id) FROM registrations r JOIN school_years y ON y.id = r.school_year_id
            JOIN children c ON c.id = r.child_id WHERE y.start_date = $start) AS families,
          (SELECT count(*) FROM bookings WHERE state = {BOOKED} AND day BETWEEN $start AND least($end, $until))
            AS bookings_to_date,
          (SELECT count(*) FILTER (WHERE status = 'present') FROM attendance WHERE day BETWEEN $start AND least($end, $until))
            AS present_to_date,
          (SELECT count(*) FROM attendance WHERE day BETWEEN $start AND least($end, $until)) AS checked_to_date
        """,
        {"start": start, "end": end, "until": until},
    )[0]


def admin_figures(db: Database) -> dict:
    return db.dicts(
        f"""
        SELECT (SELECT count(*) FROM families) AS families,
               (SELECT count(*) FROM children) AS children,
               (SELECT count(*) FROM users WHERE active) AS users,
               (SELECT count(*) FROM families WHERE payment_right = {RIGHT_REQUESTED}) AS payment_requests,
               (SELECT count(*) FROM invoices) AS invoices
        """
    )[0]


def users_by_role(db: Database) -> list[dict]:
    return db.dicts("SELECT role, count(*) AS users FROM users WHERE active GROUP BY role ORDER BY role")


def bookings_per_school_month(db: Database, school_year_ids: list[int], current_id: int, today: date) -> list[dict]:
    """Booked days per month of each school year (month 0 = the year's first month); the
    current year only up to `today`, the others whole. Counted per day first, then matched to
    the years: the range join on 11 million bookings took most of a second at city scale."""
    return db.dicts(
        dialects(
            duckdb=f"""
        WITH per_day AS (SELECT day, count(*) AS booked FROM bookings WHERE state = {BOOKED} GROUP BY day)
        SELECT y.id AS school_year_id, date_diff('month', date_trunc('month', y.start_date), date_trunc('month', b.day))
               AS month_index, sum(b.booked)::BIGINT AS booked
        FROM per_day b JOIN school_years y ON b.day BETWEEN y.start_date AND y.end_date
        WHERE list_contains($ids, y.id) AND (y.id <> $current OR b.day <= $today)
        GROUP BY ALL ORDER BY ALL
        """,
            postgresql=f"""
        WITH per_day AS (SELECT day, count(*) AS booked FROM bookings WHERE state = {BOOKED} GROUP BY day)
        SELECT y.id AS school_year_id,
               ((extract(year FROM b.day) - extract(year FROM y.start_date)) * 12
                + extract(month FROM b.day) - extract(month FROM y.start_date))::BIGINT AS month_index,
               sum(b.booked)::BIGINT AS booked
        FROM per_day b JOIN school_years y ON b.day BETWEEN y.start_date AND y.end_date
        WHERE list_contains($ids, y.id) AND (y.id <> $current OR b.day <= $today)
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        ),
        {"ids": school_year_ids, "current": current_id, "today": today},
    )
