"""Reference data: settings, school years, sites, services, diets, closures."""

from __future__ import annotations

from lib.domain.calendar import Closure, SchoolCalendar
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


def school_years(db: Database) -> list[dict]:
    return db.dicts("SELECT id, label, start_date, end_date FROM school_years ORDER BY id")


def sites(db: Database) -> list[dict]:
    return db.dicts("SELECT id, name, kind, address, capacity FROM sites ORDER BY id")


def services(db: Database) -> list[dict]:
    return db.dicts("SELECT * FROM services ORDER BY sort_order, id")


def closures(db: Database) -> list[Closure]:
    return [
        Closure(start=r[0], end=r[1], reason=r[2], site_id=r[3])
        for r in db.rows("SELECT start_date, end_date, reason, site_id FROM closures ORDER BY start_date")
    ]


def school_calendar(db: Database) -> SchoolCalendar:
    return SchoolCalendar(zone=settings(db)["holiday_zone"], closures=tuple(closures(db)))
