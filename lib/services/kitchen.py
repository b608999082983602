"""The canteen manager's production sheet: meals per site × service × diet, firm or provisional,
what changed since the sheet was last printed, CSV and PDF; and the daily meals series.

Printing moves the « changes since the last print » baseline: only the « Cuisine » page's buttons
do it (a Streamlit action inside the cook's session). A plain download (`count_as_printed=False`,
the /export/ link) writes nothing, so a link planted on another site cannot move it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from lib.domain import fr, periods
from lib.domain.actor import Actor
from lib.domain.calendar import parse_weekdays
from lib.domain.clock import from_utc_naive, to_utc_naive
from lib.domain.deadlines import DeadlineRule, limit_text
from lib.domain.errors import InvalidInput
from lib.domain.kitchen import firm_from, sheet_day
from lib.domain.roles import Role
from lib.domain.spreadsheet import csv_bytes
from lib.store import kitchen as store
from lib.store import reference
from lib.store.db import Database

READERS = (Role.KITCHEN, Role.AGENT, Role.ADMIN)
MAX_RANGE_DAYS = 400


@dataclass(frozen=True)
class MealGroup:
    """One site's service on the sheet: its meals per diet, in the sheet's order."""

    site: str
    service: str
    diets: list[tuple[str, int]]  # (diet, meals)

    @property
    def meals(self) -> int:
        return sum(meals for _, meals in self.diets)


@dataclass(frozen=True)
class DayMeals:
    """One day of the period's chart, every site and diet together."""

    day: date
    booked: int
    present: int  # among the booked, those checked present
    absent: int  # and those checked absent: cooked for nothing


@dataclass
class Sheet:
    day: date
    rows: list[dict]  # site, service, diet, meals
    firm: bool
    firm_at: datetime
    changes: list[tuple[str, int, int]] = field(default_factory=list)  # (what, before, now)
    printed_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(r["meals"] for r in self.rows)

    def groups(self) -> list[MealGroup]:
        """The sheet per site and service (in the sheet's order), each diet's meals summed."""
        found: dict[tuple[str, str], dict[str, int]] = {}
        for row in self.rows:
            diets = found.setdefault((row["site"], row["service"]), {})
            diets[row["diet"]] = diets.get(row["diet"], 0) + row["meals"]
        return [MealGroup(site, service, list(diets.items())) for (site, service), diets in found.items()]

    @property
    def status_text(self) -> str:
        when = limit_text(self.firm_at, article=False)
        if self.firm:
            return f"✅ Chiffres définitifs : plus aucune famille ne peut réserver ni annuler (depuis le {when})."
        return f"⏳ Chiffres provisoires : les familles peuvent encore annuler jusqu'au {when}."


def _rules(db: Database) -> tuple[list[DeadlineRule], set[int]]:
    rules: list[DeadlineRule] = []
    weekdays: set[int] = set()
    for service in store.meal_rules(db):
        rules += (service["deadlines"].book, service["deadlines"].cancel)
        weekdays |= set(parse_weekdays(service["weekdays"]))
    return rules, weekdays


def default_day(db: Database, actor: Actor, now: datetime) -> date | None:
    actor.require(*READERS)
    _, weekdays = _rules(db)
    return sheet_day(now, weekdays, reference.school_calendar(db))


def _check_day(db: Database, day: object) -> date:
    """A day of the school years the town holds (the sheet of year 1 or 9999 means nothing)."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInput("Choisissez un jour.")
    years = reference.school_years(db)
    if not years:
        raise InvalidInput("Aucune année scolaire n'est configurée.")
    first, last = min(y["start_date"] for y in years), max(y["end_date"] for y in years)
    if not first <= day <= last:
        raise InvalidInput(
            f"Jour hors des années scolaires connues : choisissez un jour du "
            f"{fr.numeric_date(first)} au {fr.numeric_date(last)}."
        )
    return day


def sheet(db: Database, actor: Actor, day: date, now: datetime) -> Sheet:
    actor.require(*READERS)
    day = _check_day(db, day)
    rules, _ = _rules(db)
    if not rules:
        raise InvalidInput("Aucune prestation de repas n'est configurée.")
    firm_at = firm_from(day, rules, reference.school_calendar(db))
    rows = store.meal_counts(db, day)
    result = Sheet(day, rows, now > firm_at, firm_at)
    printed = store.last_print(db, day)
    if printed is not None:
        result.printed_at = from_utc_naive(printed["printed_at"])
        result.changes = _changes(json.loads(printed["counts"]), rows)
    return result


def _key(row) -> str:
    return f"{row['site']} — {row['service']} — {row['diet']}" if isinstance(row, dict) else " — ".join(row[:3])


def _changes(before: list, rows: list[dict]) -> list[tuple[str, int, int]]:
    old = {" — ".join(r[:3]): r[3] for r in before}
    new = {_key(r): r["meals"] for r in rows}
    return [(k, old.get(k, 0), new.get(k, 0)) for k in sorted(set(old) | set(new)) if old.get(k, 0) != new.get(k, 0)]


def _remember_print(db: Database, actor: Actor, data: Sheet, now: datetime) -> None:
    counts = json.dumps([[r["site"], r["service"], r["diet"], r["meals"]] for r in data.rows], ensure_ascii=False)
    db.write(lambda cur: store.record_print(cur, data.day, to_utc_naive(now), actor.user_id, counts))


def _csv(data: Sheet, town: str, now: datetime) -> bytes:
    """Semicolons, UTF-8 with BOM: opens as is in a French spreadsheet; names are inert cells."""
    rows = [[data.day.isoformat(), row["site"], row["service"], row["diet"], row["meals"]] for row in data.rows]
    rows += [
        [data.day.isoformat(), "TOTAL", "", "", data.total],
        [],
        ["Statut", "définitif" if data.firm else "provisoire"],
    ]
    return csv_bytes(["Jour", "Structure", "Prestation", "Régime", "Repas"], rows)


def _pdf(data: Sheet, town: str, now: datetime) -> bytes:
    from lib.services.kitchen_pdf import render

    return render(data, town, now)


FILE_KINDS = {"csv": _csv, "pdf": _pdf}


def sheet_file(db: Database, actor: Actor, day: date, now: datetime, kind: str, *, count_as_printed: bool) -> bytes:
    """The production sheet as a file, `kind` "csv" or "pdf". When `count_as_printed`, the next
    sheet shows what changed since this one."""
    if kind not in FILE_KINDS:
        raise InvalidInput("Format inconnu : .csv ou .pdf.")
    data = sheet(db, actor, day, now)
    body = FILE_KINDS[kind](data, reference.settings(db)["town_name"], now)
    if count_as_printed:
        _remember_print(db, actor, data, now)
    return body


def daily_series(db: Database, actor: Actor, first: date, last: date) -> list[dict]:
    """Meals per day × site × diet, booked and eaten, for the chart."""
    actor.require(*READERS)
    check_range(first, last)
    return store.daily_meals(db, first, last)


def meals_per_day(series: list[dict]) -> list[DayMeals]:
    """The daily series (per day × site × diet) summed per day, day by day: the chart's table."""
    found: dict[date, DayMeals] = {}
    for row in series:
        day = row["day"]
        so_far = found.get(day, DayMeals(day, 0, 0, 0))
        found[day] = DayMeals(
            day, so_far.booked + row["booked"], so_far.present + row["present"], so_far.absent + row["absent"]
        )
    return [found[day] for day in sorted(found)]


def check_range(first: object, last: object) -> None:
    if not isinstance(first, date) or not isinstance(last, date):
        raise InvalidInput("Choisissez une période (début et fin).")
    if last < first:
        raise InvalidInput("La fin de la période précède son début : vérifiez les dates.")
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidInput(f"Période trop longue : {MAX_RANGE_DAYS} jours au plus.")


def default_range(today: date) -> tuple[date, date]:
    """The current month and the next two weeks."""
    return periods.month_start(today), today + timedelta(days=14)
