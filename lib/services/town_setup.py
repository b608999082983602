"""Setting a town up from the browser, starting from an empty database: its name, contact and
holiday zone, its school years (from the official calendar), its sites (structures), its services
(prestations) and which site gives each with what daily capacity, its diets (régimes).

The administrator writes, each change checked first (nothing written on a refusal) then stored
with its audit entry in one transaction; an agent may read. `first_steps` tells the
administrator's home how far the town got."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from lib.domain import structures as rules
from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.deadlines import DeadlineRule, ServiceDeadlines
from lib.domain.errors import InvalidInput, NotFound
from lib.domain.records import SchoolYearRecord
from lib.domain.roles import Role
from lib.domain.school_year import SchoolYear, school_year, start_year_for
from lib.domain.validation import known_id
from lib.services import settings, setup, trail
from lib.store import reference
from lib.store import structures as store
from lib.store.db import Database

# What the page sets of the town's settings, in the form's order (checked by setup.checked_setting).
TOWN_SETTINGS = {
    "town_name": "Nom de la ville",
    "contact_email": "Adresse e-mail de contact",
    "holiday_zone": "Zone de vacances scolaires",
    "public_url": "Adresse publique du portail",
}
ZONES = ("A", "B", "C")


def _may_read(actor: Actor) -> None:
    actor.require(Role.ADMIN, Role.AGENT)


# --- the town ------------------------------------------------------------------------------------


def town_settings(db: Database, actor: Actor) -> dict[str, str]:
    """The town's name, contact e-mail, holiday zone and public address, as stored ('' when unset)."""
    _may_read(actor)
    stored = reference.settings(db)
    return {key: stored.get(key, "") for key in TOWN_SETTINGS}


def save_town(db: Database, actor: Actor, values: Mapping[str, object], now: datetime) -> str:
    """Store the settings that changed, every one checked before any is written. A field left
    empty that had no value (the contact, the public address of a new town) stays unset."""
    actor.require(Role.ADMIN)
    unknown = [key for key in values if key not in TOWN_SETTINGS]
    if unknown:
        raise InvalidInput(f"Réglage inconnu « {str(unknown[0])[:40]} ».")
    stored = reference.settings(db)
    changed: dict[str, str] = {}
    for key, value in values.items():
        text = value.strip() if isinstance(value, str) else None
        if text is None:
            raise InvalidInput(f"{TOWN_SETTINGS[key]} : saisissez un texte.")
        if not text and not stored.get(key):
            continue  # left empty, as it was: nothing to check or store
        try:
            clean = setup.checked_setting(key, text)
        except InvalidInput as exc:
            raise InvalidInput(f"{TOWN_SETTINGS[key]} : {exc.message}") from None
        if clean != stored.get(key):
            changed[key] = clean
    if not changed:
        return "Aucun changement."
    at = to_utc_naive(now)

    def work(cur) -> None:
        for key, clean in changed.items():
            setup.write_setting(cur, key, clean, at, actor.user_id, None)

    db.write(work)
    return "Réglages de la ville enregistrés : " + ", ".join(TOWN_SETTINGS[k].lower() for k in changed) + "."


# --- school years --------------------------------------------------------------------------------


def school_years(db: Database, actor: Actor) -> list[SchoolYearRecord]:
    _may_read(actor)
    return reference.school_years(db)


def openable_years(db: Database, actor: Actor, today: date) -> list[SchoolYear]:
    """The school years the administrator may open now (the current one and the next), not opened
    yet, with their dates from the official calendar of the town's zone."""
    _may_read(actor)
    opened = {y.id for y in reference.school_years(db)}
    zone = reference.settings(db)["holiday_zone"]
    current = start_year_for(today)
    return [school_year(y, zone) for y in (current, current + 1) if y not in opened]


def open_school_year(db: Database, actor: Actor, start_year: object, now: datetime) -> str:
    """Open the school year starting in `start_year` (2026 for 2026/2027), its dates from the
    official holiday calendar of the town's zone."""
    actor.require(Role.ADMIN)
    current = start_year_for(now.date())
    if isinstance(start_year, bool) or not isinstance(start_year, int):
        raise InvalidInput("Année scolaire illisible : choisissez-la dans la liste.")
    if start_year > current + 1:
        raise InvalidInput(
            f"L'année scolaire {start_year}/{start_year + 1} commence dans plus d'un an : "
            f"ouvrez au plus l'année {current + 1}/{current + 2}."
        )
    if start_year < current:
        raise InvalidInput(f"L'année scolaire {start_year}/{start_year + 1} est passée : ouvrez l'année en cours.")
    year = school_year(start_year, reference.settings(db)["holiday_zone"])
    record = SchoolYearRecord(year.start_year, year.label, year.start, year.end)

    def work(cur) -> None:
        if store.school_year_exists(cur, record.id):
            raise InvalidInput(f"L'année scolaire {record.label} est déjà ouverte.")
        store.insert_school_year(cur, record)
        trail.write(
            cur,
            actor,
            now,
            action="school_year.open",
            entity="school_year",
            entity_id=record.id,
            after={"label": record.label, "start": record.start_date, "end": record.end_date},
        )

    db.write(work)
    return f"Année scolaire {record.label} ouverte."


# --- sites ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    id: int
    name: str
    kind: rules.SiteKind
    address: str
    capacity: int
    registrations: int  # registrations that refer to it: such a site is never deleted


def sites(db: Database, actor: Actor) -> list[Site]:
    _may_read(actor)
    return [
        Site(r["id"], r["name"], rules.SiteKind(r["kind"]), r["address"] or "", r["capacity"], r["registrations"])
        for r in store.sites(db)
    ]


def _site_fields(name: object, kind: object, address: object, capacity: object) -> tuple[str, str, str | None, int]:
    return (
        rules.text_field(name, "Nom de la structure", rules.NAME_MAX_LENGTH),
        rules.site_kind(kind).value,
        rules.text_field(address, "Adresse", rules.ADDRESS_MAX_LENGTH, required=False) or None,
        settings.checked_capacity(capacity),
    )


def create_site(
    db: Database, actor: Actor, *, name: object, kind: object, address: object, capacity: object, now: datetime
) -> int:
    """A new site; its id."""
    actor.require(Role.ADMIN)
    fields = _site_fields(name, kind, address, capacity)

    def work(cur) -> int:
        if store.site_name_taken(cur, fields[0]):
            raise InvalidInput(f"Une structure s'appelle déjà « {fields[0]} ».")
        site_id = store.insert_site(cur, *fields)
        trail.write(
            cur, actor, now, action="site.create", entity="site", entity_id=site_id, after=store.site_row(cur, site_id)
        )
        return site_id

    return db.write(work)


def update_site(
    db: Database,
    actor: Actor,
    site_id: object,
    *,
    name: object,
    kind: object,
    address: object,
    capacity: object,
    now: datetime,
) -> str:
    """Rename a site, change its kind, address or capacity."""
    actor.require(Role.ADMIN)
    fields = _site_fields(name, kind, address, capacity)
    found = _site_id(site_id)

    def work(cur) -> str:
        before = store.site_row(cur, found)
        if before is None:
            raise NotFound("Structure introuvable.")
        if store.site_name_taken(cur, fields[0], other_than=found):
            raise InvalidInput(f"Une structure s'appelle déjà « {fields[0]} ».")
        store.update_site(cur, found, *fields)
        trail.write(
            cur,
            actor,
            now,
            action="site.update",
            entity="site",
            entity_id=found,
            before=before,
            after=store.site_row(cur, found),
        )
        return fields[0]

    return f"Structure « {db.write(work)} » enregistrée."


def _site_id(site_id: object) -> int:
    return known_id(site_id, "Structure introuvable.")


def delete_site(db: Database, actor: Actor, site_id: object, now: datetime) -> str:
    """Delete a site nobody is registered at (its services and closures go with it)."""
    actor.require(Role.ADMIN)
    found = _site_id(site_id)

    def work(cur) -> str:
        before = store.site_row(cur, found)
        if before is None:
            raise NotFound("Structure introuvable.")
        if store.site_uses(cur, found):
            raise InvalidInput(
                f"La structure « {before['name']} » a des inscriptions ou des réservations : elle ne peut pas être "
                "supprimée (renommez-la plutôt)."
            )
        store.delete_site(cur, found)
        trail.write(cur, actor, now, action="site.delete", entity="site", entity_id=found, before=before)
        return before["name"]

    return f"Structure « {db.write(work)} » supprimée."


# --- services ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceSummary:
    id: int
    code: str
    name: str
    short_name: str
    weekdays: tuple[int, ...]
    is_meal: bool
    unit_price_cents: int
    sites: tuple[str, ...]  # the names of the sites that give it


def service_list(db: Database, actor: Actor) -> list[ServiceSummary]:
    _may_read(actor)
    return [
        ServiceSummary(
            r["id"],
            r["code"],
            r["name"],
            r["short_name"],
            tuple(int(d) for d in r["weekdays"].split(",") if d),
            r["is_meal"],
            r["unit_price_cents"],
            tuple(r["sites"] or ()),
        )
        for r in store.service_choices(db)
    ]


def _capacities(capacities: Mapping[object, object]) -> dict[int, int]:
    if not isinstance(capacities, Mapping) or not capacities:
        raise InvalidInput("Structures : cochez au moins une structure qui propose cette prestation.")
    checked = {}
    for site_id, capacity in capacities.items():
        checked[_site_id(site_id)] = settings.checked_capacity(capacity)
    return checked


def create_service(
    db: Database,
    actor: Actor,
    *,
    code: object,
    name: object,
    short_name: object,
    weekdays: Iterable[object],
    unit_price_cents: object,
    is_meal: object,
    book: DeadlineRule,
    cancel: DeadlineRule,
    capacities: Mapping[object, object],
    now: datetime,
) -> int:
    """A new service given by the sites of `capacities` (site id → daily capacity); its id. The price
    and the two deadline rules are checked as `settings.update_service` checks them."""
    actor.require(Role.ADMIN)
    clean_code = rules.service_code(code)
    clean_name = rules.text_field(name, "Nom de la prestation", rules.NAME_MAX_LENGTH)
    short = rules.text_field(short_name, "Nom court", rules.SHORT_NAME_MAX_LENGTH)
    days = rules.weekdays(weekdays)
    price = settings.checked_price(unit_price_cents)
    if not isinstance(is_meal, bool):
        raise InvalidInput("Repas : oui ou non.")
    deadlines = settings.checked_deadlines(book, cancel)
    places = _capacities(capacities)

    def work(cur) -> int:
        if store.service_code_taken(cur, clean_code):
            raise InvalidInput(f"Le code « {clean_code} » est déjà celui d'une autre prestation.")
        if store.service_name_taken(cur, clean_name):
            raise InvalidInput(f"Une prestation s'appelle déjà « {clean_name} ».")
        missing = set(places) - store.existing_sites(cur, list(places))
        if missing:
            raise NotFound("Structure introuvable : rechargez la page.")
        service_id = store.insert_service(
            cur,
            code=clean_code,
            name=clean_name,
            short_name=short,
            weekdays=days,
            unit_price_cents=price,
            is_meal=is_meal,
            deadlines=deadlines,
        )
        for site_id, capacity in sorted(places.items()):
            store.insert_site_service(cur, site_id, service_id, capacity)
        trail.write(
            cur,
            actor,
            now,
            action="service.create",
            entity="service",
            entity_id=service_id,
            after=store.created_service(cur, service_id),
        )
        return service_id

    return db.write(work)


def offer_service(
    db: Database, actor: Actor, site_id: object, service_id: object, capacity: object, now: datetime
) -> str:
    """A site starts giving an existing service, with its daily capacity."""
    actor.require(Role.ADMIN)
    site = _site_id(site_id)
    places = settings.checked_capacity(capacity)
    service = known_id(service_id, "Prestation introuvable.")

    def work(cur) -> str:
        row = store.site_row(cur, site)
        if row is None:
            raise NotFound("Structure introuvable.")
        if not store.service_exists(cur, service):
            raise NotFound("Prestation introuvable.")
        if store.offers(cur, site, service):
            raise InvalidInput(
                f"« {row['name']} » propose déjà cette prestation : changez sa capacité dans sa fiche ci-dessous."
            )
        store.insert_site_service(cur, site, service, places)
        trail.write(
            cur,
            actor,
            now,
            action="site_service.create",
            entity="site_service",
            entity_id=f"{site}:{service_id}",
            after={"capacity": places},
        )
        return row["name"]

    return f"Prestation ajoutée à « {db.write(work)} »."


# --- diets ---------------------------------------------------------------------------------------


def diets(db: Database, actor: Actor) -> list[tuple[str, str]]:
    """(code, label) of each diet, in the kitchen's order."""
    actor.require(Role.ADMIN, Role.AGENT, Role.KITCHEN)
    return store.diets(db)


def add_diet(db: Database, actor: Actor, code: object, label: object, now: datetime) -> str:
    actor.require(Role.ADMIN)
    clean_code = rules.diet_code(code)
    clean_label = rules.text_field(label, "Libellé du régime", rules.NAME_MAX_LENGTH)

    def work(cur) -> None:
        if store.diet_taken(cur, clean_code, clean_label):
            raise InvalidInput(f"Le régime « {clean_label} » (code {clean_code}) existe déjà, ou son code.")
        store.insert_diet(cur, clean_code, clean_label)
        trail.write(
            cur, actor, now, action="diet.create", entity="diet", entity_id=clean_code, after={"label": clean_label}
        )

    db.write(work)
    return f"Régime « {clean_label} » ajouté."


def add_preset_diets(db: Database, actor: Actor, now: datetime) -> str:
    """The usual diets (Standard, Sans porc, Végétarien, Sans allergène), those the town has not got."""
    actor.require(Role.ADMIN)

    def work(cur) -> list[str]:
        added = []
        for code, label in rules.PRESET_DIETS:
            if not store.diet_taken(cur, code, label):
                store.insert_diet(cur, code, label)
                trail.write(
                    cur, actor, now, action="diet.create", entity="diet", entity_id=code, after={"label": label}
                )
                added.append(label)
        return added

    added = db.write(work)
    return f"Régimes ajoutés : {', '.join(added)}." if added else "Ces régimes existent déjà."


# --- the first steps -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstSteps:
    school_year: bool
    sites: bool
    services: bool  # a service given by a site
    families: bool
    invitations: bool  # at least one family has an account

    @property
    def all_done(self) -> bool:
        return self.school_year and self.sites and self.services and self.families and self.invitations


def first_steps(db: Database, actor: Actor) -> FirstSteps:
    actor.require(Role.ADMIN)
    found = store.first_steps(db)
    return FirstSteps(
        school_year=found["years"] > 0,
        sites=found["sites"] > 0,
        services=found["services"] > 0,
        families=found["families"] > 0,
        invitations=found["family_accounts"] > 0,
    )


def default_deadlines(db: Database, actor: Actor) -> ServiceDeadlines:
    """The rules a new service's form starts with (the schema's defaults)."""
    actor.require(Role.ADMIN)
    return store.default_deadlines(db)
