"""A town's structure as its administrator sets it up: school years, sites, the services each site
gives with its daily capacity, diets; and what the first-steps checklist reads."""

from __future__ import annotations

from typing import Any

import duckdb

from lib.domain.deadlines import ServiceDeadlines
from lib.domain.records import SchoolYearRecord
from lib.store.db import Database, dicts
from lib.store.settings import DEADLINE_COLUMNS, with_deadlines
from lib.store.sql import dialects

# --- school years --------------------------------------------------------------------------------


def school_year_exists(cur: duckdb.DuckDBPyConnection, year_id: int) -> bool:
    return bool(cur.execute("SELECT count(*) FROM school_years WHERE id = ?", [year_id]).fetchall()[0][0])


def insert_school_year(cur: duckdb.DuckDBPyConnection, year: SchoolYearRecord) -> None:
    cur.execute(
        "INSERT INTO school_years (id, label, start_date, end_date) VALUES (?, ?, ?, ?)",
        [year.id, year.label, year.start_date, year.end_date],
    )


# --- sites ---------------------------------------------------------------------------------------

_SITE = "SELECT id, name, kind, address, capacity FROM sites"


def sites(db: Database) -> list[dict[str, Any]]:
    """Every site with the registrations that refer to it (`registrations`)."""
    return db.dicts(
        f"""SELECT s.*, (SELECT count(*) FROM registrations r WHERE r.site_id = s.id) AS registrations
            FROM ({_SITE}) s ORDER BY s.name"""
    )


def site_row(cur: duckdb.DuckDBPyConnection, site_id: int) -> dict[str, Any] | None:
    found = dicts(cur, f"{_SITE} WHERE id = ?", [site_id])
    return found[0] if found else None


def site_name_taken(cur: duckdb.DuckDBPyConnection, name: str, other_than: int | None = None) -> bool:
    """Another site already has this name (case and accents as typed, spaces trimmed)."""
    return bool(
        cur.execute(
            "SELECT count(*) FROM sites WHERE lower(name) = lower(?) AND id IS DISTINCT FROM ?", [name, other_than]
        ).fetchall()[0][0]
    )


def insert_site(cur: duckdb.DuckDBPyConnection, name: str, kind: str, address: str | None, capacity: int) -> int:
    return cur.execute(
        "INSERT INTO sites (name, kind, address, capacity) VALUES (?, ?, ?, ?) RETURNING id",
        [name, kind, address, capacity],
    ).fetchall()[0][0]


def update_site(
    cur: duckdb.DuckDBPyConnection, site_id: int, name: str, kind: str, address: str | None, capacity: int
) -> None:
    cur.execute(
        "UPDATE sites SET name = ?, kind = ?, address = ?, capacity = ? WHERE id = ?",
        [name, kind, address, capacity, site_id],
    )


def site_uses(cur: duckdb.DuckDBPyConnection, site_id: int) -> int:
    """Registrations, bookings and attendance rows that refer to the site."""
    return cur.execute(
        """SELECT (SELECT count(*) FROM registrations WHERE site_id = $s)
                + (SELECT count(*) FROM bookings WHERE site_id = $s)
                + (SELECT count(*) FROM attendance WHERE site_id = $s)""",
        {"s": site_id},
    ).fetchall()[0][0]


def delete_site(cur: duckdb.DuckDBPyConnection, site_id: int) -> None:
    """The site, the services it offered and its own closures (the caller checked nothing else refers to it)."""
    cur.execute("DELETE FROM site_services WHERE site_id = ?", [site_id])
    cur.execute("DELETE FROM closures WHERE site_id = ?", [site_id])
    cur.execute("DELETE FROM sites WHERE id = ?", [site_id])


# --- services ------------------------------------------------------------------------------------


def service_code_taken(cur: duckdb.DuckDBPyConnection, code: str) -> bool:
    return bool(cur.execute("SELECT count(*) FROM services WHERE code = ?", [code]).fetchall()[0][0])


def service_name_taken(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(cur.execute("SELECT count(*) FROM services WHERE lower(name) = lower(?)", [name]).fetchall()[0][0])


def existing_sites(cur: duckdb.DuckDBPyConnection, site_ids: list[int]) -> set[int]:
    return {r[0] for r in cur.execute("SELECT id FROM sites WHERE list_contains(?, id)", [site_ids]).fetchall()}


def insert_service(
    cur: duckdb.DuckDBPyConnection,
    *,
    code: str,
    name: str,
    short_name: str,
    weekdays: tuple[int, ...],
    unit_price_cents: int,
    is_meal: bool,
    deadlines: ServiceDeadlines,
) -> int:
    """A new service, last in the services' order; its id. A day a child is present without a booking
    is billed at its unit price until the town sets another (lib.services.tariffs)."""
    book, cancel = deadlines.book, deadlines.cancel
    return cur.execute(
        """INSERT INTO services (code, name, short_name, weekdays, unit_price_cents, unbooked_price_cents, is_meal,
                  book_delay_days, book_delay_working, book_cutoff_time,
                  cancel_delay_days, cancel_delay_working, cancel_cutoff_time, sort_order)
           SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(max(sort_order), 0) + 1 FROM services
           RETURNING id""",
        [
            code,
            name,
            short_name,
            ",".join(str(d) for d in weekdays),
            unit_price_cents,
            unit_price_cents,  # a day present without a booking: the normal price until the town says otherwise
            is_meal,
            *(book.days, book.working, book.cutoff),
            *(cancel.days, cancel.working, cancel.cutoff),
        ],
    ).fetchall()[0][0]


def created_service(cur: duckdb.DuckDBPyConnection, service_id: int) -> dict[str, Any]:
    """A service as it was created, for the audit log: its columns and the capacity of each site."""
    row = dicts(
        cur,
        """SELECT code, name, short_name, weekdays, unit_price_cents, is_meal,
                  book_delay_days, book_delay_working, book_cutoff_time,
                  cancel_delay_days, cancel_delay_working, cancel_cutoff_time
           FROM services WHERE id = ?""",
        [service_id],
    )[0]
    row["sites"] = [
        list(r)
        for r in cur.execute(
            "SELECT site_id, capacity FROM site_services WHERE service_id = ? ORDER BY site_id", [service_id]
        ).fetchall()
    ]
    return row


def service_exists(cur: duckdb.DuckDBPyConnection, service_id: int) -> bool:
    return bool(cur.execute("SELECT count(*) FROM services WHERE id = ?", [service_id]).fetchall()[0][0])


def offers(cur: duckdb.DuckDBPyConnection, site_id: int, service_id: int) -> bool:
    return bool(
        cur.execute(
            "SELECT count(*) FROM site_services WHERE site_id = ? AND service_id = ?", [site_id, service_id]
        ).fetchall()[0][0]
    )


def insert_site_service(cur: duckdb.DuckDBPyConnection, site_id: int, service_id: int, capacity: int) -> None:
    cur.execute("INSERT INTO site_services VALUES (?, ?, ?)", [site_id, service_id, capacity])


_SERVICE_CHOICES = """SELECT s.id, s.code, s.name, s.short_name, s.weekdays, s.is_meal, s.unit_price_cents, s.sort_order,
                  list(si.name ORDER BY si.name) FILTER (WHERE si.id IS NOT NULL) AS sites
           FROM services s LEFT JOIN site_services ss ON ss.service_id = s.id LEFT JOIN sites si ON si.id = ss.site_id
           GROUP BY {groups} ORDER BY s.sort_order, s.id"""
SERVICE_CHOICES = dialects(
    duckdb=_SERVICE_CHOICES.format(groups="ALL"), postgresql=_SERVICE_CHOICES.format(groups="s.id")
)


def service_choices(db: Database) -> list[dict[str, Any]]:
    """Every service (id, code, name, short name, weekdays, meal) with the sites that give it."""
    return db.dicts(SERVICE_CHOICES)


# --- diets ---------------------------------------------------------------------------------------


def diets(db: Database) -> list[tuple[str, str]]:
    return db.rows("SELECT code, label FROM diets ORDER BY sort_order, code")


def diet_taken(cur: duckdb.DuckDBPyConnection, code: str, label: str) -> bool:
    return bool(
        cur.execute("SELECT count(*) FROM diets WHERE code = ? OR lower(label) = lower(?)", [code, label]).fetchall()[
            0
        ][0]
    )


def insert_diet(cur: duckdb.DuckDBPyConnection, code: str, label: str) -> None:
    cur.execute(
        "INSERT INTO diets (code, label, sort_order) SELECT ?, ?, coalesce(max(sort_order), 0) + 1 FROM diets",
        [code, label],
    )


# --- the first steps -----------------------------------------------------------------------------


def first_steps(db: Database) -> dict[str, int]:
    """How far a town got: school years, sites, services given by a site, families, family accounts."""
    found = db.dicts(
        """SELECT (SELECT count(*) FROM school_years) AS years,
                  (SELECT count(*) FROM sites) AS sites,
                  (SELECT count(DISTINCT service_id) FROM site_services) AS services,
                  (SELECT count(*) FROM families) AS families,
                  (SELECT count(*) FROM users WHERE family_id IS NOT NULL) AS family_accounts"""
    )
    return found[0]


# (column, its default as an SQL expression) of the services' columns among a list, from each engine's catalog.
SERVICE_DEFAULTS = dialects(
    duckdb="SELECT column_name, column_default FROM duckdb_columns() "
    "WHERE table_name = 'services' AND list_contains(?, column_name)",
    postgresql="SELECT column_name::VARCHAR, column_default FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = 'services' AND column_name::VARCHAR = ANY(?::VARCHAR[])",
)


def default_deadlines(db: Database) -> ServiceDeadlines:
    """The deadline rules a new service starts with: the `services` table's column defaults, the one
    place they are written down (migrations/006_deadline_cutoffs.sql), evaluated by the database."""
    defaults = dict(db.rows(SERVICE_DEFAULTS, [list(DEADLINE_COLUMNS)]))
    values = db.dicts("SELECT " + ", ".join(f"{defaults[c]} AS {c}" for c in DEADLINE_COLUMNS))[0]
    return with_deadlines(values)["deadlines"]
