"""Children, registrations and bookings: the queries behind "Mes inscriptions".

Reads go through `Database`; the functions taking `cur` run inside a write transaction that the
service opens with `Database.write`, so a whole change (template, occasional days, a cancel with
its waiting-list promotion, the audit entry) commits or rolls back as one.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import NamedTuple

import duckdb

from lib.domain.planning import BookingChange, BookingState
from lib.domain.records import Child, FoundChild, SchoolYearRecord
from lib.store import day_counts
from lib.store.db import Database
from lib.store.settings import with_deadlines
from lib.store.sql import ACTIVE_STATES, BOOKED, CANCELLED, CHILD_KEPT, WAITING, Dialects, dialects

# Archived children (lib/store/families.py) are not booked, listed nor found: to these queries they
# no longer exist.
_CHILD = f"SELECT id, family_id, first_name, last_name, school_class FROM children c WHERE {CHILD_KEPT}"


def child(db: Database, child_id: int) -> Child | None:
    found = db.row(f"{_CHILD} AND id = ?", [child_id])
    return Child(*found) if found else None


def family_children(db: Database, family_id: int) -> list[Child]:
    return [Child(*row) for row in db.rows(f"{_CHILD} AND family_id = ? ORDER BY birth_date", [family_id])]


def search_children(db: Database, words: list[str], limit: int) -> list[FoundChild]:
    """Children whose first or last name contains every word (accents and case ignored)."""
    rows = db.rows(
        dialects(
            duckdb=f"""
        SELECT c.id, c.family_id, c.first_name, c.last_name, c.school_class, f.name AS family
        FROM children c JOIN families f ON f.id = c.family_id
        WHERE list_bool_and([strip_accents(lower(c.first_name || ' ' || c.last_name)) LIKE '%' || w || '%'
                             FOR w IN $words]) AND {CHILD_KEPT}
        ORDER BY c.last_name, c.first_name LIMIT $limit
        """,
            postgresql=f"""
        SELECT c.id, c.family_id, c.first_name, c.last_name, c.school_class, f.name AS family
        FROM children c JOIN families f ON f.id = c.family_id
        WHERE (SELECT coalesce(bool_and(strip_accents(lower(c.first_name || ' ' || c.last_name)) LIKE '%' || w || '%'),
                               true)
               FROM unnest($words::TEXT[]) AS w) AND {CHILD_KEPT}
        ORDER BY c.last_name, c.first_name LIMIT $limit
        """,
        ),
        {"words": words, "limit": limit},
    )
    return [FoundChild(*row) for row in rows]


def offered_services(db: Database) -> list[dict]:
    """Every site × service offered, with the service's rules and the daily capacity."""
    return db.dicts(
        """
        SELECT ss.site_id, si.name AS site_name, si.kind AS site_kind, ss.capacity, s.*
        FROM site_services ss JOIN sites si ON si.id = ss.site_id JOIN services s ON s.id = ss.service_id
        ORDER BY ss.site_id, s.sort_order
        """
    )


def registrations(db: Database, child_id: int, school_year_id: int) -> list[dict]:
    return db.dicts(
        dialects(
            duckdb="""
        SELECT r.id, r.site_id, si.name AS site_name, si.kind AS site_kind,
               list(rs.service_id ORDER BY rs.service_id) FILTER (WHERE rs.service_id IS NOT NULL) AS service_ids
        FROM registrations r JOIN sites si ON si.id = r.site_id
        LEFT JOIN registration_services rs ON rs.registration_id = r.id
        WHERE r.child_id = ? AND r.school_year_id = ?
        GROUP BY ALL ORDER BY r.site_id
        """,
            postgresql="""
        SELECT r.id, r.site_id, si.name AS site_name, si.kind AS site_kind,
               list(rs.service_id ORDER BY rs.service_id) FILTER (WHERE rs.service_id IS NOT NULL) AS service_ids
        FROM registrations r JOIN sites si ON si.id = r.site_id
        LEFT JOIN registration_services rs ON rs.registration_id = r.id
        WHERE r.child_id = ? AND r.school_year_id = ?
        GROUP BY r.id, r.site_id, si.name, si.kind ORDER BY r.site_id
        """,
        ),
        [child_id, school_year_id],
    )


_CHILD_COLUMNS = [f.name for f in fields(Child)]
_YEAR_COLUMNS = [f.name for f in fields(SchoolYearRecord)]


def booking_basis(
    db: Database, child_id: int, school_year_id: int | None
) -> tuple[Child | None, SchoolYearRecord | None, list[dict]]:
    """(the child, the school year, the services the child is registered for that year, each
    with its deadlines and the site that gives it), in one statement: a calendar shown asks for the three each
    time, and DuckDB spends about a millisecond a statement however small (bench/NOTES.md)."""
    rows = db.dicts(
        f"""
        SELECT {", ".join(f"c.{n} AS child_{n}" for n in _CHILD_COLUMNS)},
               {", ".join(f"y.{n} AS year_{n}" for n in _YEAR_COLUMNS)},
               s.*, r.site_id
        FROM children c LEFT JOIN school_years y ON y.id = $year
        LEFT JOIN registrations r ON r.child_id = c.id AND r.school_year_id = y.id
        LEFT JOIN registration_services rs ON rs.registration_id = r.id
        LEFT JOIN services s ON s.id = rs.service_id
        WHERE c.id = $child AND {CHILD_KEPT}
        """,
        {"child": child_id, "year": school_year_id},
    )
    if not rows:
        return None, None, []
    first = rows[0]
    child = Child(**{n: first[f"child_{n}"] for n in _CHILD_COLUMNS})
    year = SchoolYearRecord(**{n: first[f"year_{n}"] for n in _YEAR_COLUMNS}) if first["year_id"] is not None else None
    prefixed = {f"child_{n}" for n in _CHILD_COLUMNS} | {f"year_{n}" for n in _YEAR_COLUMNS}
    services = sorted(
        (with_deadlines({k: v for k, v in r.items() if k not in prefixed}) for r in rows if r["id"] is not None),
        key=lambda r: r["sort_order"],
    )
    return child, year, services


def save_registration(
    cur: duckdb.DuckDBPyConnection,
    child_id: int,
    school_year_id: int,
    site_id: int,
    service_ids: list[int],
    now_utc: datetime,
) -> int:
    found = cur.execute(
        "SELECT id FROM registrations WHERE child_id = ? AND school_year_id = ? AND site_id = ?",
        [child_id, school_year_id, site_id],
    ).fetchall()
    if found:
        reg_id = found[0][0]
        cur.execute("UPDATE registrations SET updated_at = ? WHERE id = ?", [now_utc, reg_id])
        cur.execute("DELETE FROM registration_services WHERE registration_id = ?", [reg_id])
    else:
        reg_id = cur.execute(
            "INSERT INTO registrations (child_id, school_year_id, site_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            [child_id, school_year_id, site_id, now_utc, now_utc],
        ).fetchall()[0][0]
    if service_ids:
        cur.execute("INSERT INTO registration_services SELECT ?, unnest(?::INTEGER[])", [reg_id, service_ids])
    return reg_id


def delete_registration(cur: duckdb.DuckDBPyConnection, registration_id: int) -> None:
    cur.execute("DELETE FROM registration_services WHERE registration_id = ?", [registration_id])
    cur.execute("DELETE FROM registrations WHERE id = ?", [registration_id])


def active_bookings_count(db: Database, child_id: int, service_ids: list[int], site_id: int, since: date) -> int:
    return db.value(
        f"""SELECT count(*) FROM bookings WHERE child_id = ? AND list_contains(?, service_id) AND site_id = ?
           AND day >= ? AND state IN {ACTIVE_STATES}""",
        [child_id, service_ids, site_id, since],
    )


def month_view(
    db: Database, child_id: int, first: date, last: date
) -> list[tuple[int, date, BookingState | None, str | None]]:
    """(service_id, day, booking state or None, attendance status or None) for one child and
    one period, in one query."""
    rows = db.rows(
        """
        SELECT coalesce(b.service_id, a.service_id), coalesce(b.day, a.day), b.state, a.status
        FROM (SELECT * FROM bookings WHERE child_id = $child AND day BETWEEN $first AND $last) b
        FULL OUTER JOIN (SELECT * FROM attendance WHERE child_id = $child AND day BETWEEN $first AND $last) a
          ON a.service_id = b.service_id AND a.day = b.day
        """,
        {"child": child_id, "first": first, "last": last},
    )
    return [
        (service, day, None if state is None else BookingState(state), status) for service, day, state, status in rows
    ]


# One child's bookings through idx_bookings_child: the MATERIALIZED fence keeps the day filter
# from joining `child_id = ?` in the scan, which would turn the index lookup into a full scan.
_CHILD_ROWS = "(WITH mine AS MATERIALIZED (SELECT rowid AS row, * FROM bookings WHERE child_id = ?) SELECT * FROM mine)"


# PostgreSQL plans the child's index by itself.
_CHILD_STATES = dialects(
    duckdb=f"SELECT service_id, day, state FROM {_CHILD_ROWS} WHERE day BETWEEN ? AND ?",
    postgresql="SELECT service_id, day, state FROM bookings WHERE child_id = ? AND day BETWEEN ? AND ?",
)


def states(
    cur: duckdb.DuckDBPyConnection, child_id: int, first: date, last: date
) -> dict[tuple[int, date], BookingState]:
    # One day: its row groups are found by their day range (bookings are stored roughly in day
    # order), twice as fast as the child's index; a longer period goes through the index.
    rows = cur.execute(
        "SELECT service_id, day, state FROM bookings WHERE child_id = ? AND day BETWEEN ? AND ?"
        if first == last
        else _CHILD_STATES,
        [child_id, first, last],
    ).fetchall()
    return {(r[0], r[1]): BookingState(r[2]) for r in rows}


# Several changes of one child: the rows it has, updated in one statement (DuckDB through the child's
# rows fenced above and their rowid; PostgreSQL by the primary key).
_CHANGES = """(SELECT unnest($services) AS service_id, unnest($days) AS day, unnest($sites) AS site_id,
                      unnest($states) AS state) c"""
_UPDATE_CHANGES = dialects(
    duckdb=f"""
    UPDATE bookings SET state = c.state, origin = $origin, site_id = c.site_id, updated_by = $user, updated_at = $now
    FROM {_CHANGES}, {_CHILD_ROWS.replace("?", "$child")} mine
    WHERE bookings.rowid = mine.row AND mine.service_id = c.service_id AND mine.day = c.day
    RETURNING bookings.service_id, bookings.day
    """,
    postgresql="""
    UPDATE bookings SET state = c.state, origin = $origin, site_id = c.site_id, updated_by = $user, updated_at = $now
    FROM (SELECT unnest($services::INTEGER[]) AS service_id, unnest($days::DATE[]) AS day,
                 unnest($sites::INTEGER[]) AS site_id, unnest($states::VARCHAR[]) AS state) c
    WHERE bookings.child_id = $child AND bookings.service_id = c.service_id AND bookings.day = c.day
    RETURNING bookings.service_id, bookings.day
    """,
)

DayKey = tuple[int, int, date]  # (site_id, service_id, day): one place where children are counted


class Places(NamedTuple):
    free: int  # the capacity minus the children booked and waiting
    waiting: int


class Promoted(NamedTuple):
    """A child who had been waiting for a day and now has its place."""

    child_id: int
    service_id: int
    day: date


# The (site, service, day) keys of a change travel as three parallel list parameters and come back
# as rows through a zipped unnest: a change touches one to two hundred days, and registering a
# DataFrame for so few rows cost more than the statement itself (see bench/RESULTS.md).
_KEYS = "(SELECT unnest($sites) AS site_id, unnest($services) AS service_id, unnest($days) AS day)"


def _key_params(keys: list[DayKey]) -> dict:
    keys = sorted(set(keys))
    return {"sites": [k[0] for k in keys], "services": [k[1] for k in keys], "days": [k[2] for k in keys]}


def _taken(keys: list[DayKey]) -> tuple[Dialects, dict]:
    """Children booked and waiting per (site, service, day) over the period of `keys`: one scan
    per (site, service) with constant filters, so DuckDB skips the row groups outside the period
    (bookings are stored roughly in day order) and filters the rest without a join. A join with
    the keys, or an OR of the pairs, read the same rows three to six times slower at city scale."""
    pairs = sorted({(site, service) for site, service, _ in keys})
    parts: list[str] = []
    params: dict[str, object] = {"first": min(k[2] for k in keys), "last": max(k[2] for k in keys)}
    for n, (site, service) in enumerate(pairs):
        parts.append(f"""SELECT site_id, service_id, day, count(*) FILTER (WHERE state = {BOOKED}) AS booked,
                                count(*) AS taken
                         FROM bookings WHERE site_id = $site{n} AND service_id = $service{n}
                           AND day BETWEEN $first AND $last AND state IN {ACTIVE_STATES} GROUP BY ALL""")
        params |= {f"site{n}": site, f"service{n}": service}
    duckdb_text = "(" + " UNION ALL ".join(parts) + ")"
    # PostgreSQL has no GROUP BY ALL.
    return dialects(
        duckdb=duckdb_text, postgresql=duckdb_text.replace("GROUP BY ALL", "GROUP BY site_id, service_id, day")
    ), params


# DuckDB: two transactions bumping the same row conflict (optimistic), the loser runs again; in
# the process the write lock serialises writers anyway. PostgreSQL: the upsert takes the row lock
# of every (site, service, day), in key order (no deadlock between two multi-day changes), and
# inserts the missing rows; a second transaction on the same day waits for the first to end, then
# fails to serialize (SERIALIZABLE) and runs again, seeing the first one's bookings. Two replicas
# booking the last place: one place, one waiting list (tests/store/test_day_locks.py).
_LOCK_DAYS = dialects(
    duckdb=f"""INSERT INTO booking_day_locks SELECT site_id, service_id, day, 1 FROM {_KEYS}
            ON CONFLICT (site_id, service_id, day) DO UPDATE SET version = booking_day_locks.version + 1""",
    postgresql=f"""INSERT INTO booking_day_locks
            SELECT site_id, service_id, day, 1 FROM {_KEYS} k ORDER BY site_id, service_id, day
            ON CONFLICT (site_id, service_id, day) DO UPDATE SET version = booking_day_locks.version + 1""",
)


def lock_days(cur: duckdb.DuckDBPyConnection, keys: list[DayKey]) -> None:
    """Bump the (site, service, day) rows of `keys`, taking their row locks on PostgreSQL:
    concurrent writers of a day conflict here (see `_LOCK_DAYS`)."""
    if not keys:
        return
    cur.execute(_LOCK_DAYS, _key_params(keys))


_PLACES = f"""
        SELECT d.site_id, d.service_id, d.day, ss.capacity - coalesce(t.taken, 0) AS free,
               coalesce(t.taken - t.booked, 0) AS waiting
        FROM {_KEYS} d JOIN site_services ss USING (site_id, service_id)
        LEFT JOIN {{taken}} t USING (site_id, service_id, day)
        """
# PostgreSQL guesses one row for the keys joined with the capacities, joins the counts in a nested
# loop and counts the period again for each key (a year's template: 150 scans). Counted once, first.
_PLACES_POSTGRESQL = f"""
        WITH t AS MATERIALIZED {{taken}}
        SELECT d.site_id, d.service_id, d.day, ss.capacity - coalesce(t.taken, 0) AS free,
               coalesce(t.taken - t.booked, 0) AS waiting
        FROM {_KEYS} d JOIN site_services ss USING (site_id, service_id)
        LEFT JOIN t USING (site_id, service_id, day)
        """


def places(cur: duckdb.DuckDBPyConnection, keys: list[DayKey]) -> dict[DayKey, Places]:
    """For each (site, service, day) of `keys`: (free places, children waiting). Free is the
    capacity minus the children booked and those waiting (a newcomer never jumps the waiting
    list). One scan of the period for all the keys: a change needs nothing else to decide, and
    promotes a waiting list only where this says there is one."""
    if not keys:
        return {}
    if len(set(keys)) == 1:
        # One day (a click on the calendar): a scan with constant filters, half the cost of the
        # general statement's joins with the keys and the capacities.
        site, service, day = keys[0]
        free, waiting = cur.execute(
            f"""SELECT (SELECT capacity FROM site_services WHERE site_id = $site AND service_id = $service) - count(*),
                      count(*) FILTER (WHERE state = {WAITING})
               FROM bookings WHERE site_id = $site AND service_id = $service AND day = $day
                 AND state IN {ACTIVE_STATES}""",
            {"site": site, "service": service, "day": day},
        ).fetchall()[0]
        return {} if free is None else {keys[0]: Places(free, waiting)}
    taken, params = _taken(keys)
    rows = cur.execute(
        dialects(duckdb=_PLACES.format(taken=taken), postgresql=_PLACES_POSTGRESQL.format(taken=taken.postgresql)),
        _key_params(keys) | params,
    ).fetchall()
    return {(site, service, day): Places(free, waiting) for site, service, day, free, waiting in rows}


_INSERT_NEW = dialects(
    duckdb="""
        INSERT INTO bookings (child_id, service_id, day, site_id, state, origin, created_by, created_at,
                              updated_by, updated_at)
        SELECT $child, unnest($services), unnest($days), unnest($sites), unnest($states), $origin, $user, $now,
               $user, $now
        """,
    postgresql="""
        INSERT INTO bookings (child_id, service_id, day, site_id, state, origin, created_by, created_at,
                              updated_by, updated_at)
        SELECT $child, unnest($services::INTEGER[]), unnest($days::DATE[]), unnest($sites::INTEGER[]),
               unnest($states::VARCHAR[]), $origin, $user, $now, $user, $now
        """,
)


def upsert_bookings(
    cur: duckdb.DuckDBPyConnection,
    child_id: int,
    changes: list[BookingChange],
    origin: str,
    user_id: int,
    now_utc: datetime,
) -> None:
    """Insert new (child, service, day) rows or update the state of existing ones, in one
    statement."""
    if not changes:
        return
    day_counts.forget(cur, [c.day for c in changes])
    params = {
        "child": child_id,
        "services": [c.service_id for c in changes],
        "days": [c.day for c in changes],
        "sites": [c.site_id for c in changes],
        "states": [c.state for c in changes],
        "origin": origin,
        "user": user_id,
        "now": now_utc,
    }
    # UPDATE the rows the child already has (found through its index), then INSERT the others: an
    # INSERT … ON CONFLICT probes the primary key row by row and cost three times as much. One
    # change (a click on the calendar) updates its row by its key: a third of the general statement.
    if len(changes) == 1:
        changed = cur.execute(
            """UPDATE bookings SET state = $state, origin = $origin, site_id = $site, updated_by = $user, updated_at = $now
               WHERE child_id = $child AND service_id = $service AND day = $day
               RETURNING service_id, day""",
            {
                "child": child_id,
                "service": changes[0].service_id,
                "day": changes[0].day,
                "site": changes[0].site_id,
                "state": changes[0].state,
                "origin": origin,
                "user": user_id,
                "now": now_utc,
            },
        ).fetchall()
    else:
        changed = cur.execute(_UPDATE_CHANGES, params).fetchall()
    if len(changed) == len(changes):
        return
    done = set(changed)
    new = [c for c in changes if (c.service_id, c.day) not in done]
    cur.execute(
        _INSERT_NEW,
        {
            **params,
            "services": [c.service_id for c in new],
            "days": [c.day for c in new],
            "sites": [c.site_id for c in new],
            "states": [c.state for c in new],
        },
    )


_PROMOTE = f"""
        WITH free AS (
            SELECT d.site_id, d.service_id, d.day, ss.capacity - coalesce(t.booked, 0) AS n
            FROM {_KEYS} d JOIN site_services ss USING (site_id, service_id)
            LEFT JOIN {{taken}} t USING (site_id, service_id, day)
            WHERE coalesce(t.taken, 0) > coalesce(t.booked, 0)
        ), queue AS (
            SELECT b.child_id, b.service_id, b.day, free.n,
                   row_number() OVER (PARTITION BY b.site_id, b.service_id, b.day
                                      ORDER BY b.updated_at, b.created_at, b.child_id) AS position
            FROM bookings b JOIN free USING (site_id, service_id, day)
            WHERE b.state = {WAITING} AND b.day BETWEEN $first AND $last
        )
        UPDATE bookings SET state = {BOOKED}, updated_by = $user, updated_at = $now
        FROM queue
        WHERE bookings.child_id = queue.child_id AND bookings.service_id = queue.service_id
          AND bookings.day = queue.day AND queue.position <= queue.n
        RETURNING bookings.child_id, bookings.service_id, bookings.day
        """
# As in `places`: the counts once, first, not once per key.
_PROMOTE_POSTGRESQL = f"""
        WITH t AS MATERIALIZED {{taken}}, free AS (
            SELECT d.site_id, d.service_id, d.day, ss.capacity - coalesce(t.booked, 0) AS n
            FROM {_KEYS} d JOIN site_services ss USING (site_id, service_id)
            LEFT JOIN t USING (site_id, service_id, day)
            WHERE coalesce(t.taken, 0) > coalesce(t.booked, 0)
        ), queue AS (
            SELECT b.child_id, b.service_id, b.day, free.n,
                   row_number() OVER (PARTITION BY b.site_id, b.service_id, b.day
                                      ORDER BY b.updated_at, b.created_at, b.child_id) AS position
            FROM bookings b JOIN free USING (site_id, service_id, day)
            WHERE b.state = {WAITING} AND b.day BETWEEN $first AND $last
        )
        UPDATE bookings SET state = {BOOKED}, updated_by = $user, updated_at = $now
        FROM queue
        WHERE bookings.child_id = queue.child_id AND bookings.service_id = queue.service_id
          AND bookings.day = queue.day AND queue.position <= queue.n
        RETURNING bookings.child_id, bookings.service_id, bookings.day
        """


def promote_waiting(
    cur: duckdb.DuckDBPyConnection, keys: list[DayKey], user_id: int, now_utc: datetime
) -> list[Promoted]:
    """On each (site, service, day) of `keys`, give the free places to the waiting list in the
    order it was joined. Returns who was promoted, on which day."""
    if not keys:
        return []
    taken, params = _taken(keys)
    promoted = cur.execute(
        dialects(duckdb=_PROMOTE.format(taken=taken), postgresql=_PROMOTE_POSTGRESQL.format(taken=taken.postgresql)),
        {**_key_params(keys), **params, "user": user_id, "now": now_utc},
    ).fetchall()
    day_counts.forget(cur, [r[2] for r in promoted])
    return [Promoted(*row) for row in promoted]


def waiting_days(cur: duckdb.DuckDBPyConnection, site_id: int, service_id: int, since: date) -> list[DayKey]:
    return [
        tuple(r)
        for r in cur.execute(
            f"""SELECT DISTINCT site_id, service_id, day FROM bookings
           WHERE site_id = ? AND service_id = ? AND day >= ? AND state = {WAITING}""",
            [site_id, service_id, since],
        ).fetchall()
    ]


class Cancelled(NamedTuple):
    """A booking (or a place on a waiting list) a closure cancelled, with its state before."""

    child_id: int
    service_id: int
    day: date
    site_id: int
    before: BookingState


# The (site, service) scopes of a closure travel as two parallel lists, None meaning every one.
_SCOPES = "(SELECT unnest($sites::INTEGER[]) AS site_id, unnest($services::INTEGER[]) AS service_id)"


def _in_scope(table: str) -> str:
    return f"""{table}.day BETWEEN $first AND $last AND {table}.state IN {ACTIVE_STATES}
               AND EXISTS (SELECT 1 FROM {_SCOPES} k WHERE (k.site_id IS NULL OR k.site_id = {table}.site_id)
                                                      AND (k.service_id IS NULL OR k.service_id = {table}.service_id))"""


def _scope_params(scopes: list[tuple[int | None, int | None]], first: date, last: date) -> dict:
    return {"sites": [s for s, _ in scopes], "services": [v for _, v in scopes], "first": first, "last": last}


def in_scope_counts(
    db: Database, scopes: list[tuple[int | None, int | None]], first: date, last: date
) -> tuple[int, int, int]:
    """(bookings, waiting places, families) that `cancel_where` would cancel now."""
    found = db.row(
        f"""SELECT count(*) FILTER (WHERE b.state = {BOOKED}), count(*) FILTER (WHERE b.state = {WAITING}),
                   count(DISTINCT c.family_id)
            FROM bookings b JOIN children c ON c.id = b.child_id WHERE {_in_scope("b")}""",
        _scope_params(scopes, first, last),
    )
    assert found is not None  # an aggregate always has its row
    return found[0], found[1], found[2]


# The rows of a scope, then those rows cancelled by their physical address (DuckDB's rowid,
# PostgreSQL's ctid, both stable inside the transaction that read them).
_CANCEL_FOUND = dialects(
    duckdb="SELECT rowid, child_id, service_id, day, site_id, state FROM bookings WHERE {scope}",
    postgresql="SELECT ctid::text, child_id, service_id, day, site_id, state FROM bookings WHERE {scope} FOR UPDATE",
)
_CANCEL_ROWS = dialects(
    duckdb=f"""UPDATE bookings SET state = {CANCELLED}, updated_by = $user, updated_at = $now
               WHERE list_contains($rows, rowid)""",
    postgresql=f"""UPDATE bookings SET state = {CANCELLED}, updated_by = $user, updated_at = $now
                   WHERE ctid = ANY($rows::tid[])""",
)


def cancel_where(
    cur: duckdb.DuckDBPyConnection,
    scopes: list[tuple[int | None, int | None]],
    first: date,
    last: date,
    user_id: int,
    now_utc: datetime,
) -> list[Cancelled]:
    """Cancel every booking and every place on a waiting list from `first` to `last` in `scopes`
    ((site, service) pairs, None for every one): set-based, whatever the number of children. No
    waiting list moves up: the day is closed. Returns what changed, with the state before."""
    params = _scope_params(scopes, first, last)
    found = cur.execute(_CANCEL_FOUND.format(scope=_in_scope("bookings")), params).fetchall()
    if not found:
        return []
    cur.execute(_CANCEL_ROWS, {"rows": [r[0] for r in found], "user": user_id, "now": now_utc})
    day_counts.forget(cur, [r[3] for r in found])
    return [Cancelled(child, service, day, site, BookingState(state)) for _, child, service, day, site, state in found]
