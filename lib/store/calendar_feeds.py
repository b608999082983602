"""Calendar feeds (« Calendrier du téléphone »): the secret links' hashes and what a feed shows."""

from __future__ import annotations

from datetime import date, datetime

from lib.domain.calendar_feed import FeedRecord
from lib.store.db import Cursor, Database, dicts
from lib.store.settings import with_deadlines
from lib.store.sql import ACTIVE_STATES, OPEN_DAY, WAITING

# A feed works while it is not revoked and the account that made it is active and still belongs to
# the child's family: the family's page lists exactly the feeds a phone can read.
_WORKING = """
    FROM calendar_feeds f
    JOIN children c ON c.id = f.child_id
    JOIN users u ON u.id = f.created_by AND u.active AND u.family_id = c.family_id
    WHERE f.revoked_at IS NULL"""


def create(cur: Cursor, token_hash: str, child_id: int, user_id: int, now_utc: datetime) -> int:
    return cur.execute(
        "INSERT INTO calendar_feeds (token_hash, child_id, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        [token_hash, child_id, user_id, now_utc],
    ).fetchall()[0][0]


def active(source: Database | Cursor, child_id: int) -> list[FeedRecord]:
    """The child's feeds that still work, oldest first."""
    rows = dicts(
        source,
        f"SELECT f.id, f.child_id, f.created_at, f.last_read_at {_WORKING} AND f.child_id = ? ORDER BY f.id",
        [child_id],
    )
    return [FeedRecord(**r) for r in rows]


def revoke(cur: Cursor, child_id: int, now_utc: datetime) -> list[int]:
    """Revoke every feed of the child not revoked yet (one whose account is gone too: it must not come
    back with the account); their ids."""
    rows = cur.execute(
        "UPDATE calendar_feeds SET revoked_at = ? WHERE child_id = ? AND revoked_at IS NULL RETURNING id",
        [now_utc, child_id],
    ).fetchall()
    return sorted(r[0] for r in rows)


def readable(db: Database, token_hash: str) -> dict | None:
    """The working feed behind a token hash, with its child's first name; None otherwise."""
    found = db.dicts(
        f"SELECT f.id, f.child_id, f.last_read_at, c.first_name {_WORKING} AND f.token_hash = ?", [token_hash]
    )
    return found[0] if found else None


def touch(db: Database, feed_id: int, now_utc: datetime) -> None:
    db.write(lambda cur: cur.execute("UPDATE calendar_feeds SET last_read_at = ? WHERE id = ?", [now_utc, feed_id]))


def feed_days(db: Database, child_id: int, first: date, last: date) -> list[dict]:
    """The child's booked and waiting days between `first` and `last` (a day the town closed since is
    left out: the closure says it), each with its service's row and `deadlines`, in day order. The
    child's rows are found through idx_bookings_child, fenced from the other filters as in
    lib/store/bookings.py (with them, DuckDB would scan the whole table)."""
    rows = db.dicts(
        f"""
        WITH mine AS MATERIALIZED (SELECT * FROM bookings WHERE child_id = ?)
        SELECT b.day, b.site_id, b.state = {WAITING} AS waiting, s.*
        FROM mine b JOIN services s ON s.id = b.service_id
        WHERE b.day BETWEEN ? AND ? AND b.state IN {ACTIVE_STATES} AND {OPEN_DAY}
        ORDER BY b.day, s.sort_order
        """,
        [child_id, first, last],
    )
    return [with_deadlines(r) for r in rows]


def registered_sites(db: Database, child_id: int, school_year_id: int) -> list[int]:
    return [
        r[0]
        for r in db.rows(
            "SELECT site_id FROM registrations WHERE child_id = ? AND school_year_id = ?", [child_id, school_year_id]
        )
    ]
