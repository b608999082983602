"""Booked days counted per day × site × service × diet, kept up to date by the writes.

The mayor's trends read two school years of bookings with their attendance: 11 million rows at
city scale, most of a second for the engine on every view. `day_counts` holds the same counts
already grouped per day × site × service × diet (a few hundred thousand rows).

Invariant: for every day listed in `day_counts_done`, the rows of `day_counts` for that day are
exactly `_COUNT` over the bookings and attendance of that day. The store functions that write
bookings or attendance (`bookings.upsert_bookings`, `bookings.promote_waiting`,
`attendance.upsert`) call `forget()` with the days they touched, in their own transaction. A
reader calls `counted()` inside one transaction: the days of its period that are not listed are
counted again from the bookings first (set-based), so what it reads is exact, never a cache.
Nothing else here depends on the clock: a future day is counted like a past one and struck off
again by the next booking of that day.

What the counts leave to the reader, because it can change without a booking write: the meal
flag of a service, the closures (`OPEN_DAY`), the names. Children's diets are written only by
the loads (demo, bench), before any count; a later change of diet must call `forget()` too.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from lib.store.sql import BOOKED, dialects

# One row per booked (child, service, day), with its attendance if any (same key: at most one).
_COUNT = dialects(
    duckdb=f"""
    SELECT b.day, b.site_id, b.service_id, c.diet_code, count(*) AS booked, count(a.child_id) AS checked,
           count(*) FILTER (WHERE a.status = 'present') AS present,
           count(*) FILTER (WHERE a.status IN ('absent', 'justified')) AS absent
    FROM bookings b
    LEFT JOIN children c ON c.id = b.child_id
    LEFT JOIN attendance a ON a.child_id = b.child_id AND a.service_id = b.service_id AND a.day = b.day
    WHERE b.state = {BOOKED} AND b.day BETWEEN $first AND $last AND list_contains($days, b.day)
    GROUP BY ALL
""",
    postgresql=f"""
    SELECT b.day, b.site_id, b.service_id, c.diet_code, count(*) AS booked, count(a.child_id) AS checked,
           count(*) FILTER (WHERE a.status = 'present') AS present,
           count(*) FILTER (WHERE a.status IN ('absent', 'justified')) AS absent
    FROM bookings b
    LEFT JOIN children c ON c.id = b.child_id
    LEFT JOIN attendance a ON a.child_id = b.child_id AND a.service_id = b.service_id AND a.day = b.day
    WHERE b.state = {BOOKED} AND b.day BETWEEN $first AND $last AND list_contains($days, b.day)
    GROUP BY b.day, b.site_id, b.service_id, c.diet_code
""",
)
_INSERT_COUNTS = dialects(
    duckdb=f"INSERT INTO day_counts {_COUNT}", postgresql=f"INSERT INTO day_counts {_COUNT.postgresql}"
)


def forget(cur: duckdb.DuckDBPyConnection, days: list[date]) -> None:
    """The counts of `days` no longer hold: a booking or an attendance of theirs is being written."""
    if days:
        cur.execute("DELETE FROM day_counts_done WHERE list_contains($days, day)", {"days": sorted(set(days))})


def counted(cur: duckdb.DuckDBPyConnection, first: date, last: date) -> None:
    """Count again the days from `first` to `last` that are not counted (inside the reader's
    transaction, before it reads `day_counts`)."""
    listed = {
        r[0] for r in cur.execute("SELECT day FROM day_counts_done WHERE day BETWEEN ? AND ?", [first, last]).fetchall()
    }
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    missing = [d for d in days if d not in listed]
    if not missing:
        return
    params = {"first": missing[0], "last": missing[-1], "days": missing}
    cur.execute("DELETE FROM day_counts WHERE day BETWEEN $first AND $last AND list_contains($days, day)", params)
    cur.execute(_INSERT_COUNTS, params)
    cur.execute("INSERT INTO day_counts_done SELECT unnest($days)", {"days": missing})
