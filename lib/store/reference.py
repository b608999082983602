"""Reference data: settings, school years, sites, services, diets, closures."""

from __future__ import annotations

from datetime import date

from lib.domain.calendar import Closure, ClosureKind, SchoolCalendar
from lib.domain.records import SchoolYearRecord
from lib.store.db import Database

DEFAULT_SETTINGS = {
    "town_name": "Ville",
    "contact_email": "",
    "holiday_zone": "C",
}


def settings(db: Database) -> dict[str, str]:
    values = dict(DEFAULT_SETTINGS)
    values.update(dict(db.rows("SELECT key, value FROM settings")))
    return values


_YEAR = "SELECT id, label, start_date, end_date FROM school_years"


def school_years(db: Database) -> list[SchoolYearRecord]:
    return [SchoolYearRecord(*row) for row in db.rows(f"{_YEAR} ORDER BY id")]


def closures(db: Database) -> list[Closure]:
    """The closures in force (a withdrawn one closes nothing)."""
    rows = db.rows(
        "SELECT start_date, end_date, reason, site_id, service_id, kind FROM closures WHERE withdrawn_at IS NULL"
    )
    # sorted here, not by ORDER BY: DuckDB's sort costs half a millisecond even for a few rows
    return [
        Closure(start=r[0], end=r[1], reason=r[2], site_id=r[3], service_id=r[4], kind=ClosureKind(r[5]))
        for r in sorted(rows, key=lambda r: r[0])
    ]


def school_calendar(db: Database) -> SchoolCalendar:
    return SchoolCalendar(zone=settings(db)["holiday_zone"], closures=tuple(closures(db)))


def current_school_year(db: Database, today: date) -> SchoolYearRecord | None:
    """The school year containing `today`; in the summer, the coming one; else the last one."""
    found = db.row(
        f"""{_YEAR}
           ORDER BY CASE WHEN $today BETWEEN start_date AND end_date THEN 0
                         WHEN start_date > $today THEN 1 ELSE 2 END,
                    CASE WHEN start_date > $today THEN start_date END,
                    start_date DESC
           LIMIT 1""",
        {"today": today},
    )
    return SchoolYearRecord(*found) if found else None


def previous_school_year(db: Database, school_year_id: int) -> SchoolYearRecord | None:
    found = db.row(f"{_YEAR} WHERE id < ? ORDER BY id DESC LIMIT 1", [school_year_id])
    return SchoolYearRecord(*found) if found else None


def all_service_weekdays(db: Database) -> set[int]:
    return {int(d) for (text,) in db.rows("SELECT weekdays FROM services") for d in text.split(",") if d}
