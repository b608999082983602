"""The mayor's trends: this school year against the previous one, read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from lib.domain import periods
from lib.domain.actor import Actor
from lib.domain.errors import InvalidInput
from lib.domain.records import SiteService
from lib.domain.roles import Role
from lib.store import attendance as attendance_store
from lib.store import kitchen as kitchen_store
from lib.store import reference
from lib.store import trends as store
from lib.store.db import Database

READERS = (Role.ELECTED, Role.ADMIN)
GRAINS = {"month": "Mois", "week": "Semaine"}
RUNNING = periods.RUNNING
READING = {
    "month": "Chaque mois de l'année scolaire est comparé au même mois de l'année précédente. Cercle vide et "
    "barre pointillée : le mois en cours, compté jusqu'à aujourd'hui (chiffres partiels). "
    "Les axes partent de 0.",
    "week": "Chaque semaine de l'année scolaire est comparée à la même semaine de l'année précédente. Cercle vide "
    "et barre pointillée : la semaine en cours, comptée jusqu'à aujourd'hui (chiffres partiels). "
    "Les axes partent de 0.",
}


@dataclass(frozen=True)
class PortalShare:
    """Families with bookings this school year, and those who booked at least once themselves."""

    families: int
    online: int


@dataclass
class Trends:
    label: str
    previous_label: str | None
    grain: str
    # One per period index, both years side by side: label (« Novembre (mois en cours) », « Semaine du
    # 30 novembre »), tick (« nov. », « 30/11 »), running (the period holds today: partial figures).
    rows: list[dict] = field(default_factory=list)
    billing: list[dict] = field(default_factory=list)
    portal: PortalShare = field(default_factory=lambda: PortalShare(0, 0))
    unpaid_cents: int = 0


def filters(db: Database, actor: Actor) -> list[SiteService]:
    actor.require(*READERS)
    return attendance_store.offered(db)


def _index(period: date, start: date, grain: str) -> int:
    if grain == "month":
        return periods.months_apart(start, period)
    return (period - periods.week_start(start)).days // 7


def trends(
    db: Database,
    actor: Actor,
    today: date,
    *,
    grain: str = "month",
    site_id: int | None = None,
    service_id: int | None = None,
) -> Trends:
    """Per week or month since the start of the school year (to today), next to the same periods
    of the previous year: booked, present, attendance and no-show rates, meals."""
    actor.require(*READERS)
    if grain not in GRAINS:
        raise InvalidInput("Choisissez « Mois » ou « Semaine ».")
    offered = attendance_store.offered(db)
    if site_id is not None and site_id not in {o.site_id for o in offered}:
        raise InvalidInput("Structure inconnue.")
    if service_id is not None and service_id not in {o.service_id for o in offered}:
        raise InvalidInput("Prestation inconnue.")
    year = reference.current_school_year(db, today)
    if year is None:
        return Trends("—", None, grain)
    before = reference.previous_school_year(db, year.id)
    result = Trends(year.label, before.label if before else None, grain)
    table: dict[int, dict] = {}
    # Both years in one pass each (one join of bookings with attendance, not one per year): at city
    # scale that join is most of the time. The summer between the years tells them apart.
    first, last = (before or year).start_date, min(today, year.end_date)
    meals = {m["period"]: m for m in kitchen_store.meals_per_period(db, first, last, grain, site_id, service_id)}
    for row in store.attendance_per_period(db, first, last, grain, site_id, service_id):
        tag, y = ("previous", before) if before and row["period"] <= before.end_date else ("current", year)
        index = _index(row["period"], y.start_date, grain)
        entry = table.setdefault(
            index,
            {
                "index": index,
                **{f"{t}_{m}": None for t in ("current", "previous") for m in ("booked", "rate", "no_show", "meals")},
            },
        )
        if "label" not in entry:
            # Named after this school year's calendar, whichever year's row came first: the
            # previous year is compared week for week (month for month) of the school year.
            entry.update(periods.labels(periods.period_start(year.start_date, index, grain), grain, today))
        entry[f"{tag}_booked"] = row["booked"]
        entry[f"{tag}_rate"] = round(100 * row["present"] / row["checked"], 1) if row["checked"] else None
        entry[f"{tag}_no_show"] = round(100 * row["absent"] / row["checked"], 1) if row["checked"] else None
        entry[f"{tag}_meals"] = meals.get(row["period"], {}).get("meals", 0)
    result.rows = [table[i] for i in sorted(table)]
    result.billing = store.billing_per_month(db, (before or year).start_date, year.end_date)
    result.portal = PortalShare(**store.portal_share(db, year.start_date, min(today, year.end_date)))
    result.unpaid_cents = store.unpaid_total(db)
    return result
