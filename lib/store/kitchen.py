"""Meals and attendance counted in SQL: the kitchen's sheet, the daily series, the mayor's trends.

Every figure of meals comes from `_meals()`, one relation: booked days of meal services, with the
child's diet and the attendance recorded for that day. The kitchen page, its CSV and the mayor's
charts therefore count the same way. The figures over a period (the daily series, the mayor's
meals) read the same relation already counted per day (`_meal_counts()`, over `day_counts`, see
lib/store/day_counts.py): the same joins and filters on the counts instead of on each booking.
tests/store/test_kitchen_counts.py checks that both give the same figures.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from lib.store import day_counts
from lib.store.db import Database, dicts
from lib.store.settings import with_deadlines
from lib.store.sql import BOOKED, OPEN_DAY, Dialects, dialects


def _meals(*, attendance: bool) -> Dialects:
    """The one relation of meals. The attendance of each booked day (at most one row per booking:
    same key) comes along only for the figures that read it: the join never changes which rows
    count, and skipping it saves the largest join of the query (6.7 million attendance rows at
    city scale) where only meals are counted. With the attendance, it is the reference the
    counts per day (`_meal_counts()`) are checked against in the tests."""
    status, join = (
        (
            "a.status",
            """LEFT JOIN attendance a ON a.child_id = b.child_id AND a.service_id = b.service_id
                                   AND a.day = b.day""",
        )
        if attendance
        else ("NULL::VARCHAR AS status", "")
    )
    return _scoped(f"""
    SELECT b.day, b.site_id, si.name AS site, b.service_id, sv.name AS service, sv.sort_order AS service_order,
           c.diet_code, d.label AS diet, d.sort_order AS diet_order, {status}
    FROM bookings b
    JOIN services sv ON sv.id = b.service_id AND sv.is_meal
    JOIN children c ON c.id = b.child_id
    JOIN diets d ON d.code = c.diet_code
    JOIN sites si ON si.id = b.site_id
    {join}
    WHERE b.state = {BOOKED} AND b.day BETWEEN $first AND $last AND {OPEN_DAY}
      AND ($site IS NULL OR b.site_id = $site) AND ($service IS NULL OR b.service_id = $service)
""")


def _meal_counts() -> Dialects:
    """`_meals()` counted per day × site × service × diet: the same joins and filters, applied to
    the counts of `day_counts` (booked, checked, present, absent) instead of to each booking.
    Read it after `day_counts.counted()` in the same transaction."""
    return _scoped(f"""
    SELECT b.day, b.site_id, si.name AS site, b.service_id, sv.name AS service, sv.sort_order AS service_order,
           b.diet_code, d.label AS diet, d.sort_order AS diet_order, b.booked, b.checked, b.present, b.absent
    FROM day_counts b
    JOIN services sv ON sv.id = b.service_id AND sv.is_meal
    JOIN diets d ON d.code = b.diet_code
    JOIN sites si ON si.id = b.site_id
    WHERE b.day BETWEEN $first AND $last AND {OPEN_DAY}
      AND ($site IS NULL OR b.site_id = $site) AND ($service IS NULL OR b.service_id = $service)
""")


def _scoped(duckdb_text: str) -> Dialects:
    """A relation filtered by `$site` / `$service` (NULL: all). PostgreSQL cannot tell the type of
    a parameter first read by `IS NULL`: there it is cast."""
    postgresql = duckdb_text.replace("$site IS NULL", "$site::INTEGER IS NULL").replace(
        "$service IS NULL", "$service::INTEGER IS NULL"
    )
    return dialects(duckdb=duckdb_text, postgresql=postgresql)


def read_counted(db: Database, sql: str, params: dict) -> list[dict]:
    """Rows of `sql` over `day_counts` for $first..$last, the days not counted yet counted first,
    in one transaction: what it reads is exact (see lib/store/day_counts.py)."""

    def work(cur):
        day_counts.counted(cur, params["first"], params["last"])
        return dicts(cur, sql, params)

    return db.write(work)


_ALL = {"site": None, "service": None}


def meal_counts(db: Database, day: date) -> list[dict]:
    """Meals booked for one day per site × service × diet (diet codes only: no health details)."""
    # Counted by ids, named afterwards: grouping 33,000 meals by their names cost a third more.
    meals = _meals(attendance=False)
    return db.dicts(
        dialects(
            duckdb=f"""SELECT m.site_id, si.name AS site, m.service_id, sv.name AS service, m.diet_code, d.label AS diet, m.meals
            FROM (SELECT site_id, service_id, diet_code, count(*) AS meals FROM ({meals})
                  GROUP BY ALL) m
            JOIN sites si ON si.id = m.site_id JOIN services sv ON sv.id = m.service_id
            JOIN diets d ON d.code = m.diet_code
            ORDER BY m.site_id, sv.sort_order, d.sort_order""",
            postgresql=f"""SELECT m.site_id, si.name AS site, m.service_id, sv.name AS service, m.diet_code,
                   d.label AS diet, m.meals
            FROM (SELECT site_id, service_id, diet_code, count(*) AS meals FROM ({meals.postgresql}) x
                  GROUP BY site_id, service_id, diet_code) m
            JOIN sites si ON si.id = m.site_id JOIN services sv ON sv.id = m.service_id
            JOIN diets d ON d.code = m.diet_code
            ORDER BY m.site_id, sv.sort_order, d.sort_order""",
        ),
        {"first": day, "last": day, **_ALL},
    )


def daily_meals(db: Database, first: date, last: date) -> list[dict]:
    """Per day × site × diet: meals booked, and among them those whose attendance says present
    or absent (absent: cooked for nothing)."""
    return read_counted(
        db,
        dialects(
            duckdb=f"""SELECT day, site, diet, sum(booked)::BIGINT AS booked, sum(present)::BIGINT AS present,
                   sum(absent)::BIGINT AS absent, sum(checked)::BIGINT AS checked
            FROM ({_meal_counts()}) GROUP BY day, site, site_id, diet, diet_order ORDER BY day, site_id, diet_order""",
            postgresql=f"""SELECT day, site, diet, sum(booked)::BIGINT AS booked, sum(present)::BIGINT AS present,
                   sum(absent)::BIGINT AS absent, sum(checked)::BIGINT AS checked
            FROM ({_meal_counts().postgresql}) x GROUP BY day, site, site_id, diet, diet_order ORDER BY day, site_id, diet_order""",
        ),
        {"first": first, "last": last, **_ALL},
    )


def meals_per_period(
    db: Database, first: date, last: date, grain: str, site_id: int | None, service_id: int | None
) -> list[dict]:
    """Meals booked per week or month (the mayor's chart), from the same relation."""
    return read_counted(
        db,
        dialects(
            duckdb=f"""SELECT date_trunc($grain, day)::DATE AS period, sum(booked)::BIGINT AS meals
            FROM ({_meal_counts()}) GROUP BY ALL ORDER BY period""",
            postgresql=f"""SELECT date_trunc($grain, day)::DATE AS period, sum(booked)::BIGINT AS meals
            FROM ({_meal_counts().postgresql}) x GROUP BY 1 ORDER BY period""",
        ),
        {"first": first, "last": last, "grain": grain, "site": site_id, "service": service_id},
    )


def last_print(db: Database, day: date) -> dict | None:
    # arg_max rather than ORDER BY … LIMIT 1: no sort (half a millisecond, even for no rows)
    found = db.row(
        dialects(
            duckdb="SELECT arg_max(printed_at, id), arg_max(counts, id) FROM kitchen_prints WHERE day = ?",
            postgresql="SELECT printed_at, counts FROM kitchen_prints WHERE day = ? ORDER BY id DESC LIMIT 1",
        ),
        [day],
    )
    return {"printed_at": found[0], "counts": found[1]} if found is not None and found[0] is not None else None


def record_print(cur: duckdb.DuckDBPyConnection, day: date, at_utc: datetime, user_id: int, counts: str) -> None:
    cur.execute(
        "INSERT INTO kitchen_prints (day, printed_at, printed_by, counts) VALUES (?, ?, ?, ?)",
        [day, at_utc, user_id, counts],
    )


def meal_rules(db: Database) -> list[dict]:
    """The meal services' weekdays and deadlines (in no particular order)."""
    return [with_deadlines(r) for r in db.dicts("SELECT * FROM services WHERE is_meal")]
