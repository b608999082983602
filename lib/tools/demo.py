"""The demo town: a deterministic, realistic data set built in a few seconds.

Modelled on the seed guide: two ALAE (maternelle Jean Moulin, élémentaire Claude Nougaro) for
school-day meals and "ALAE anim'action" on Wednesdays; about 400 children in about 270
families; the previous school year with attendance (so trends have history) and the current one
with weekly templates, occasional days and cancellations; two months of invoices.

The school years are computed from `today`, so the demo stays alive whenever it is built; for a
given date the result is always the same.

Command line (used by `make run` and `make demo`):
    python -m lib.tools.demo [--if-missing] [--path FILE] [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
from schwifty import IBAN

from lib.domain import periods
from lib.domain.actor import Actor
from lib.domain.calendar import Closure, ClosureKind, SchoolCalendar
from lib.domain.clock import PARIS, to_utc_naive
from lib.domain.errors import NotAllowed
from lib.domain.invoicing import DEFAULT_RECOVERY_MINIMUM_CENTS, MINIMUM_SETTING, PaymentRight, payment_reference
from lib.domain.planning import BookingState
from lib.domain.roles import Role
from lib.domain.school_year import SchoolYear, current_and_previous
from lib.services import closures as closure_service
from lib.services import invoicing, sepa
from lib.services.auth import hash_password
from lib.services.command_line import run_in_french
from lib.services.config import MODE, PRODUCTION, db_path, mail_sink_dir, production
from lib.services.demo_marks import DEMO_PASSWORD, SANDBOXES
from lib.store import audit, deployment, health, outbox
from lib.store import families as families_store
from lib.store import invoices as invoice_store
from lib.store.bulk import continue_sequences, insert_frame
from lib.store.db import Cursor, Database, connect, connect_file, is_url
from lib.store.migrate import migrate
from lib.store.server import empty_server_database, has_setting, server_database_in_use

SEED = 20262027
ZONE = "C"
TOWN = "Ville de Belcastel-sur-Save (démonstration)"
CONTACT = "inscriptions@belcastel-demo.fr"

# What the invoices say of the town: a régie de recettes at the town hall, as Levignac has (the SIRET
# passes its check digit; the SGC is the public accountant the régie hands its unpaid invoices to).
INVOICE_LEGAL = {
    "town_address": "Mairie, 1 place de la Mairie, 31530 Belcastel-sur-Save",
    "town_siret": "21310297300012",
    "collection_mode": "regie",
    "official_name": "Monique Garrigues",
    "official_title": "Maire",
    "regie_name": "Régie enfance-jeunesse de Belcastel-sur-Save",
    "regie_address": "Mairie, 1 place de la Mairie, 31530 Belcastel-sur-Save",
    "regie_hours": "lundi, mardi, jeudi et vendredi de 8 h 30 à 12 h, mercredi de 14 h à 18 h",
    "accountant_name": "Service de gestion comptable de Colomiers",
    "accountant_address": "4 allée du Rouergue, 31770 Colomiers",
}

SITES = [  # id, name, kind, address, capacity
    (1, "ALAE Jean Moulin (école maternelle)", "maternelle", "2 rue Jean Moulin", 150),
    (2, "ALAE Claude Nougaro (école élémentaire)", "elementaire", "15 allée Claude Nougaro", 260),
    (3, "ALAE anim'action", "mercredi", "1 place du Foirail", 130),
]
SERVICES = [  # id, code, name, short name, weekdays, price, is_meal, sort
    (1, "cantine", "Restauration scolaire", "Cantine", "1,2,4,5", 350, True, 1),
    (2, "mercredi_repas", "Mercredi repas", "Repas", "3", 400, True, 2),
    (3, "mercredi_am", "Mercredi après-midi", "Après-midi", "3", 800, False, 3),
]
SITE_SERVICES = [(1, 1, 150), (2, 1, 260), (3, 2, 130), (3, 3, 130)]
TARIFFS = [(1, 700, 250), (1, 1200, 350), (1, None, 420)]  # cantine by quotient familial
DIETS = [
    ("standard", "Standard", 1, 0.78),
    ("sans_porc", "Sans porc", 2, 0.12),
    ("vegetarien", "Végétarien", 3, 0.07),
    ("pai_panier", "PAI panier-repas", 4, 0.03),
]
LEVELS = ["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]  # age at entry: 3 + index
MATERNELLE = {"PS", "MS", "GS"}
STAFF = [
    ("agent@demo.fr", "agent", "Nadia Benali (agent d'animation)"),
    ("cuisine@demo.fr", "cuisine", "Patrick Roux (cuisine centrale)"),
    ("maire@demo.fr", "elu", "Monique Garrigues (maire)"),
    ("admin@demo.fr", "admin", "Service éducation (administrateur)"),
]
FAMILY_COUNT = 270

FIRST_F = [
    "Emma",
    "Jade",
    "Louise",
    "Alice",
    "Chloé",
    "Lina",
    "Léa",
    "Rose",
    "Anna",
    "Mila",
    "Inès",
    "Ambre",
    "Julia",
    "Mia",
    "Léna",
    "Manon",
    "Juliette",
    "Lou",
    "Zoé",
    "Camille",
    "Agathe",
    "Jeanne",
    "Lucie",
    "Nina",
    "Eva",
    "Romane",
    "Sarah",
    "Iris",
    "Margaux",
    "Clara",
    "Adèle",
    "Louna",
    "Victoire",
    "Maëlys",
    "Charlotte",
    "Elena",
    "Capucine",
    "Héloïse",
    "Lola",
    "Gabrielle",
]
FIRST_M = [
    "Gabriel",
    "Léo",
    "Raphaël",
    "Arthur",
    "Louis",
    "Lucas",
    "Adam",
    "Jules",
    "Hugo",
    "Maël",
    "Liam",
    "Noah",
    "Paul",
    "Ethan",
    "Tiago",
    "Sacha",
    "Gabin",
    "Nathan",
    "Aaron",
    "Mohamed",
    "Théo",
    "Noé",
    "Victor",
    "Martin",
    "Mathis",
    "Axel",
    "Léon",
    "Antoine",
    "Marius",
    "Nino",
    "Timéo",
    "Robin",
    "Tom",
    "Eden",
    "Valentin",
    "Clément",
    "Samuel",
    "Baptiste",
    "Oscar",
    "Yanis",
]
PARENT_F = [
    "Sophie",
    "Aurélie",
    "Céline",
    "Émilie",
    "Julie",
    "Sandrine",
    "Nathalie",
    "Laure",
    "Caroline",
    "Amandine",
    "Fatima",
    "Audrey",
]
PARENT_M = [
    "Nicolas",
    "Julien",
    "Sébastien",
    "Thomas",
    "Mathieu",
    "Olivier",
    "Karim",
    "Jérôme",
    "Guillaume",
    "Fabien",
    "David",
    "Romain",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Sanchez",
    "Gérard",
    "Nguyen",
    "Boyer",
    "Denis",
    "Lemaire",
    "Duval",
    "Joly",
    "Gautier",
    "Roger",
    "Roche",
    "Roy",
    "Noël",
    "Meyer",
    "Lucas",
    "Meunier",
    "Jean",
    "Perez",
    "Marchand",
    "Dufour",
    "Blanchard",
    "Marie",
    "Barbier",
    "Brun",
    "Dumas",
    "Brunet",
    "Schmitt",
    "Leroux",
    "Colin",
    "Fernandez",
    "Pujol",
    "Castex",
    "Sabatier",
    "Estève",
    "Azéma",
    "Cazeneuve",
    "Fabre",
    "Rouquette",
    "Delpech",
    "Bousquet",
]
STREETS = """rue des Écoles|avenue de Toulouse|chemin du Moulin|rue de la Mairie|impasse des Lilas|
allée des Platanes|route de Lévignac|rue du Lavoir|chemin de la Save|place de l'Église""".replace("\n", "").split("|")


@dataclass
class _Child:
    id: int
    family_id: int
    first_name: str
    last_name: str
    level: int  # index in LEVELS for the current school year
    diet: str
    wednesday: bool
    canteen: bool


# The rows of the bookings and attendance tables, in the column order of their frames.
_Booking = tuple[int, int, date, int, str, str, int, datetime, int, datetime]
_Attendance = tuple[int, int, date, int, str, int, datetime]


def demo_exists(path: str | Path) -> bool:
    if is_url(path):
        # built in place, not moved into place: a build that stopped half-way left accounts but not
        # the setting its last steps write, and is built again
        return server_database_in_use(str(path)) and has_setting(str(path), MINIMUM_SETTING)
    path = Path(path)
    return path.exists() and path.stat().st_size > 0


def build_demo(path: str | Path, today: date, bank: str = "payfip") -> dict[str, int]:
    """Build the demo database at `path` (replacing it) for the given `today`, paying online
    through one of the portal's own test banks (`bank`: a key of demo_marks.SANDBOXES).

    Built in a temporary file beside the target, then moved into place, so a failure never
    leaves half a town. Refuses with DatabaseLocked when another process holds `path`.
    """
    if is_url(path):
        # On a PostgreSQL server the town is built in place, in a database emptied first (a
        # failure leaves it to be built again: `--if-missing` sees no town in it).
        url = str(path)
        empty_server_database(url)
        db = connect(url)
        try:
            counts = _fill(db, today, bank)
        finally:
            db.close()
        empty_mailbox(mail_sink_dir(url))
        return counts
    path = Path(path)
    if path.exists():
        connect_file(path).close()  # raises DatabaseLocked (in French) if a server holds it
    tmp = path.with_name(path.name + ".tmp-build")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    db = Database(tmp)
    try:
        counts = _fill(db, today, bank)
    finally:
        db.close()
    Path(str(path) + ".wal").unlink(missing_ok=True)
    os.replace(tmp, path)
    empty_mailbox(mail_sink_dir(path))
    return counts


def _fill(db: Database, today: date, bank: str) -> dict[str, int]:
    migrate(db)
    counts = db.write(lambda cur: _populate(cur, today, bank))
    counts["closures"] = _declare_closures(db, today)
    counts["mandates"] = _direct_debit(db, today)
    counts["invoices"] = _invoices(db, random.Random(SEED + 1), today)
    db.write(lambda cur: deployment.put_setting(cur, MINIMUM_SETTING, str(DEFAULT_RECOVERY_MINIMUM_CENTS)))
    db.write(outbox.forget_history)  # the demo's past months were never e-mailed
    db.checkpoint()
    return counts


def empty_mailbox(directory: Path) -> None:
    """The demo's mailbox starts empty with its town: the messages of the rebuilt town only."""
    for part in ("new", "cur", "tmp"):
        for item in (directory / part).glob("*"):
            if item.is_file():
                item.unlink()


def _populate(cur: Cursor, today: date, bank: str) -> dict[str, int]:
    rng = random.Random(SEED)
    now_utc = to_utc_naive(datetime.combine(today, time(6, 0), PARIS))
    current, previous = current_and_previous(today, ZONE)
    years = [previous, current]

    # The families booked around the training days, declared before the year began; the strike
    # comes later (_declare_closures) and cancels the bookings it finds, as a town's would.
    calendar = SchoolCalendar(zone=ZONE, closures=tuple(training_days(years)))

    frames: dict[str, pd.DataFrame] = {}
    frames["settings"] = pd.DataFrame(
        [
            ("town_name", TOWN),
            ("contact_email", CONTACT),
            ("holiday_zone", ZONE),
            ("invoice_rule", "bookings"),
            ("invoice_due_days", "30"),
            # the past months are issued whole (their invoices keep the numbers the guide shows); the
            # 15 € minimum for public recovery applies from the build on (`build_demo`)
            (MINIMUM_SETTING, "0"),
            ("demo_built_for", today.isoformat()),
            ("payment_backend", SANDBOXES[bank][0]),
            ("payment_options", json.dumps(SANDBOXES[bank][1])),
            ("payment_sandbox", "1"),
            ("mail_transport", "sink"),  # e-mail goes to the server's own mailbox (« Boîte de démonstration »)
            ("mail_from", f"Ville de Belcastel-sur-Save <{CONTACT}>"),
            *INVOICE_LEGAL.items(),
        ],
        columns=["key", "value"],
    )
    frames["school_years"] = pd.DataFrame(
        [(y.start_year, y.label, y.start, y.end) for y in years],
        columns=["id", "label", "start_date", "end_date"],
    )
    frames["sites"] = pd.DataFrame(SITES, columns=["id", "name", "kind", "address", "capacity"])
    frames["services"] = pd.DataFrame(
        SERVICES, columns=["id", "code", "name", "short_name", "weekdays", "unit_price_cents", "is_meal", "sort_order"]
    )
    frames["site_services"] = pd.DataFrame(SITE_SERVICES, columns=["site_id", "service_id", "capacity"])
    frames["tariffs"] = pd.DataFrame(TARIFFS, columns=["service_id", "qf_max", "price_cents"]).astype(
        {"qf_max": "Int64"}
    )
    frames["diets"] = pd.DataFrame([d[:3] for d in DIETS], columns=["code", "label", "sort_order"])

    families, children = _families_and_children(rng, now_utc)
    users = _users(families, now_utc)  # takes the parents' names off the family rows
    frames["families"] = pd.DataFrame(families)
    frames["users"] = users
    frames["children"] = pd.DataFrame(
        [
            {
                "id": c.id,
                "family_id": c.family_id,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "birth_date": _birth_date(rng, current.start_year - 3 - c.level),
                "school_class": LEVELS[c.level],
                "diet_code": c.diet,
            }
            for c in children
        ]
    )
    family_user = {f["id"]: f["id"] + len(STAFF) for f in families}

    registrations: list[tuple[int, int, int, int, datetime, datetime]] = []
    reg_services: list[tuple[int, int]] = []
    bookings: list[_Booking] = []
    attendance: list[_Attendance] = []
    for year in years:
        shift = current.start_year - year.start_year  # how many classes lower that year
        for child in children:
            level = child.level - shift
            if level < 0:
                continue  # not at school yet
            school_site = 1 if LEVELS[level] in MATERNELLE else 2
            wanted = []
            if child.canteen:
                wanted.append((school_site, [1]))
            if child.wednesday:
                wanted.append((3, [2, 3]))
            for site_id, service_ids in wanted:
                reg_id = len(registrations) + 1
                registered_at = to_utc_naive(datetime.combine(year.start - timedelta(days=40), time(20, 0), PARIS))
                registrations.append((reg_id, child.id, year.start_year, site_id, registered_at, registered_at))
                reg_services.extend((reg_id, s) for s in service_ids)
                # One family in eight still books on paper: the town hall keys its bookings in.
                booker = 1 if child.family_id % 8 == 0 else family_user[child.family_id]
                _book_year(
                    rng, calendar, year, today, child, site_id, service_ids, booker, registered_at, bookings, attendance
                )

    frames["registrations"] = pd.DataFrame(
        registrations, columns=["id", "child_id", "school_year_id", "site_id", "created_at", "updated_at"]
    )
    frames["registration_services"] = pd.DataFrame(reg_services, columns=["registration_id", "service_id"])
    frames["bookings"] = pd.DataFrame(
        bookings,
        columns=[
            "child_id",
            "service_id",
            "day",
            "site_id",
            "state",
            "origin",
            "created_by",
            "created_at",
            "updated_by",
            "updated_at",
        ],
    )
    frames["attendance"] = pd.DataFrame(
        attendance, columns=["child_id", "service_id", "day", "site_id", "status", "recorded_by", "recorded_at"]
    )

    counts = {}
    for table, frame in frames.items():
        counts[table] = insert_frame(cur, table, frame)
    this_year = {child_id for _, child_id, year_id, *_ in registrations if year_id == current.start_year}
    with_pai = [c.id for c in children if c.diet == "pai_panier" and c.id in this_year]
    counts["pai"] = health.load(cur, pai_records(with_pai, now_utc))
    continue_sequences(cur)  # sequences continue after the ids the demo chose itself
    counts["guardians"] = families_store.guardians_from_accounts(cur)
    audit.record(
        cur,
        at_utc=now_utc,
        user_id=None,
        action="demo.build",
        entity="database",
        entity_id=None,
        after={"today": today.isoformat()},
    )
    return counts


def pai_records(child_ids: list[int], now_utc: datetime) -> pd.DataFrame:
    """The demo's PAI for these children: those on the « PAI panier-repas » diet registered this
    year (the health data of the others would be purged at the server's start)."""
    return pd.DataFrame(
        [
            {
                "child_id": child_id,
                "has_pai": True,
                "allergies": "Allergie alimentaire : arachide et fruits à coque",
                "protocol": "Éviction stricte. En cas de réaction : trousse d'urgence dans le sac, appeler le 15.",
                "meal_basket": True,
                "doctor_name": "Dr Martine Roques",
                "doctor_phone": "05 61 00 00 00",
                "updated_at": now_utc,
            }
            for child_id in child_ids
        ]
    )


def training_days(years: list[SchoolYear]) -> list[Closure]:
    """A training day at the Wednesday site in December of each year. (The Ascension bridge is
    the school calendar's own: lib/domain/calendar.py.)"""
    found: list[Closure] = []
    for year in years:
        training = date(year.start_year, 12, 1)
        while training.weekday() != 2:
            training += timedelta(days=1)
        found.append(Closure(training, training, "formation des animateurs", site_id=3))
    return found


def canteen_strike(year: SchoolYear) -> Closure:
    """A strike of the canteen staff of the école maternelle on the third Thursday of January of
    `year` (the élémentaire's canteen stays open)."""
    day = date(year.start_year + 1, 1, 15)
    while day.weekday() != 3:
        day += timedelta(days=1)
    return Closure(day, day, "grève du personnel de restauration", site_id=1, service_id=1, kind=ClosureKind.STRIKE)


def _declare_closures(db: Database, today: date) -> int:
    """The town's closures, declared by its administrator through the service as a town does: the
    training days of both years, then the coming strike of the canteen (which cancels its day's
    bookings)."""
    admin = Actor(user_id=4, email="admin@demo.fr", role=Role.ADMIN, display_name="Service éducation")
    current, previous = current_and_previous(today, ZONE)
    now = datetime.combine(today, time(6, 0), PARIS)
    planned = [*training_days([previous, current]), canteen_strike(current)]
    for closure in planned:
        closure_service.declare(
            db,
            admin,
            [] if closure.site_id is None else [closure.site_id],
            [] if closure.service_id is None else [closure.service_id],
            closure.start,
            closure.end,
            closure.kind,
            closure.reason,
            now,
        )
    return len(planned)


# Families whose payer signed a SEPA mandate (not the guide's Martin family, who pays online).
MANDATE_FAMILIES = range(20, 32)


def _direct_debit(db: Database, today: date) -> int:
    """The town collects by SEPA direct debit too: its creditor settings (the Trésor public's
    account at the Banque de France, a test ICS) and a dozen families' signed mandates, recorded
    by the administrator through the service, as from their paper forms."""
    admin = Actor(user_id=4, email="admin@demo.fr", role=Role.ADMIN, display_name="Service éducation")
    now = datetime.combine(today, time(6, 0), PARIS)
    sepa.save_settings(
        db,
        admin,
        name="Ville de Belcastel-sur-Save",
        creditor_id="FR72ZZZ123456",
        iban="FR7630001007941234567890185",
        bic="BDFEFRPP",
        collection_day=5,
        notice_days=14,
        now=now,
    )
    for family_id in MANDATE_FAMILIES:
        guardian_id, name = sepa.payer_guardians(db, admin, family_id)[0]
        iban = IBAN.generate("FR", bank_code="30004", branch_code="00031", account_code=f"{family_id:011d}")
        sepa.record_mandate(
            db,
            admin,
            family_id=family_id,
            guardian_id=guardian_id,
            signed_on=today - timedelta(days=60 + family_id),
            debtor_name=name,
            iban=str(iban),
            bic=str(iban.bic),
            now=now,
        )
    return len(MANDATE_FAMILIES)


def _birth_date(rng: random.Random, year: int) -> date:
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _families_and_children(rng: random.Random, now_utc: datetime) -> tuple[list[dict], list[_Child]]:
    families: list[dict] = []
    children: list[_Child] = []
    diets = [d[0] for d in DIETS]
    weights = [d[3] for d in DIETS]
    for fid in range(1, FAMILY_COUNT + 1):
        if fid == 1:
            last = "Martin"
            kids = [("Léa", 1, "standard", False, True), ("Hugo", 5, "sans_porc", True, True)]
            payment_right = PaymentRight.GRANTED
            qf = 980
        else:
            last = rng.choice(LAST)
            n = rng.choices([1, 2, 3], weights=[55, 35, 10])[0]
            levels = rng.sample(range(len(LEVELS)), n)
            kids = []
            for level in levels:
                first = rng.choice(FIRST_F if rng.random() < 0.5 else FIRST_M)
                kids.append((first, level, rng.choices(diets, weights)[0], rng.random() < 0.32, rng.random() < 0.92))
            payment_right = PaymentRight.REQUESTED if fid in (7, 42, 133) else PaymentRight.NONE
            qf = rng.choice([450, 620, 780, 900, 1100, 1350, 1600, 2100])
        parent = rng.choice(PARENT_F + PARENT_M) if fid != 1 else "Camille"
        families.append(
            {
                "id": fid,
                "name": f"Famille {last}",
                "email": "parent@demo.fr" if fid == 1 else f"famille{fid:03d}@demo.fr",
                "phone": f"06 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                "address": f"{rng.randrange(1, 60)} {rng.choice(STREETS)}, 31530 Belcastel-sur-Save",
                "quotient_familial": qf,
                "payment_right": payment_right,
                "payment_right_at": now_utc - timedelta(days=20) if payment_right != PaymentRight.NONE else None,
                "created_at": now_utc - timedelta(days=500),
                "parent": f"{parent} {last}",
            }
        )
        for first, level, diet, wednesday, canteen in kids:
            children.append(_Child(len(children) + 1, fid, first, last, level, diet, wednesday, canteen))
    return families, children


def staff_rows(password_hash: str, now_utc: datetime) -> list[dict]:
    """The staff accounts (ids 1…4), as the demo and the bench's city have them; the agent holds
    the régisseur right (she takes the cheques and cash at the town hall's « Régie »)."""
    return [
        {
            "id": i + 1,
            "email": email,
            "password_hash": password_hash,
            "role": role,
            "family_id": None,
            "display_name": name,
            "created_at": now_utc,
            "regisseur": role == "agent",
        }
        for i, (email, role, name) in enumerate(STAFF)
    ]


def _users(families: list[dict], now_utc: datetime) -> pd.DataFrame:
    # One hash for every demo account: they all share the password "demo", and hashing 270
    # times with argon2 would cost seconds for nothing.
    password_hash = hash_password(DEMO_PASSWORD)
    rows = staff_rows(password_hash, now_utc)
    for fam in families:
        rows.append(
            {
                "id": fam["id"] + len(STAFF),
                "email": fam["email"],
                "password_hash": password_hash,
                "role": "famille",
                "family_id": fam["id"],
                "display_name": fam.pop("parent"),
                "created_at": now_utc,
                "regisseur": False,
            }
        )
    frame = pd.DataFrame(rows).astype({"family_id": "Int64"})
    return frame.assign(activated_at=frame["created_at"])  # every demo account has its password


def _book_year(
    rng: random.Random,
    calendar: SchoolCalendar,
    year: SchoolYear,
    today: date,
    child: _Child,
    site_id: int,
    service_ids: list[int],
    user_id: int,
    registered_at: datetime,
    bookings: list[_Booking],
    attendance: list[_Attendance],
) -> None:
    """A year of bookings for one registration: mostly weekly templates, some occasional days,
    a few cancellations; attendance for the days already past."""
    for service_id in service_ids:
        weekdays = (1, 2, 4, 5) if service_id == 1 else (3,)
        days = _service_days(calendar, weekdays, year, site_id)
        pattern = rng.random()
        if child.id in (1, 2) or pattern < 0.8:
            kept = set(weekdays)
            if service_id == 1 and child.id not in (1, 2) and pattern > 0.55:
                kept -= set(rng.sample(sorted(kept), rng.choice([1, 1, 2])))
            if child.id == 1:
                kept = {1, 2, 5}  # the seed's example: Monday, Tuesday and Friday
            chosen = [d for d in days if d.isoweekday() in kept]
            origin = "template"
        else:
            chosen = sorted(rng.sample(days, k=max(1, len(days) // 5)))
            origin = "occasional"
        for day in chosen:
            created = (
                registered_at
                if origin == "template"
                else to_utc_naive(datetime.combine(day - timedelta(days=rng.randrange(8, 30)), time(21, 0), PARIS))
            )
            state = BookingState.BOOKED
            updated = created
            if rng.random() < 0.03:
                state = BookingState.CANCELLED
                updated = to_utc_naive(datetime.combine(day - timedelta(days=rng.randrange(3, 10)), time(19, 0), PARIS))
            how = "staff" if user_id == 1 else origin
            bookings.append((child.id, service_id, day, site_id, state, how, user_id, created, user_id, updated))
            if day < today and state is BookingState.BOOKED:
                roll = rng.random()
                status = "present" if roll < 0.93 else ("absent" if roll < 0.975 else "justified")
                recorded = to_utc_naive(datetime.combine(day, time(14, 0), PARIS))
                attendance.append((child.id, service_id, day, site_id, status, 1, recorded))


_days_cache: dict[tuple, list[date]] = {}


def _service_days(calendar: SchoolCalendar, weekdays: tuple[int, ...], year: SchoolYear, site_id: int) -> list[date]:
    key = (calendar, weekdays, year, site_id)
    if key not in _days_cache:
        _days_cache[key] = calendar.service_days(weekdays, year.start, year.end, site_id)
    return _days_cache[key]


def _invoices(db: Database, rng: random.Random, today: date) -> int:
    """Invoices for the last two completed months, issued by the invoicing service itself; the
    older month mostly paid, the newer mostly not. The demo family has one of each."""
    admin = Actor(user_id=4, email="admin@demo.fr", role=Role.ADMIN, display_name="Service éducation")
    months: list[date] = []
    month = periods.month_start(today)
    for _ in range(4):  # the last two completed months with something to bill (summer has nothing)
        month = periods.previous_month(month)
        end_of_day = datetime.combine(today, time(23, 0), PARIS)
        if invoicing.draft_month(db, admin, month, end_of_day).documents:
            months.insert(0, month)
    count = 0
    for index, month in enumerate(months[-2:]):
        after = periods.next_month(month)
        issue = min(after + timedelta(days=4), today)
        published = invoicing.publish_month(db, admin, month, datetime.combine(issue, time(9, 0), PARIS))
        count += len(published.numbers)
        rows = invoice_store.month_invoices(db, month)
        paid_share = 0.9 if index == 0 else 0.3

        def pay(cur: Cursor, rows=rows, issue=issue, paid_share=paid_share, index=index):
            for invoice_id, family_id, total, number in rows:
                paid = index == 0 if family_id == 1 else rng.random() < paid_share
                paid_at = to_utc_naive(
                    datetime.combine(issue + timedelta(days=rng.randrange(1, 12)), time(12, 30), PARIS)
                )
                if not paid or paid_at.date() >= today:
                    continue
                tx_id = None
                if family_id == 1:  # the demo family pays online, like the seed's guide shows
                    tx_id = invoice_id
                    invoice_store.insert_transaction(
                        cur,
                        {
                            "id": tx_id,
                            "invoice_id": invoice_id,
                            "family_id": 1,
                            "provider": "payfip_ws",
                            "transaction_ref": f"DEMO_{invoice_id:08d}",
                            "order_ref": number,
                            "payment_ref": payment_reference(number),
                            "exer": int(number.split("-")[1]),
                            "amount_cents": total,
                            "state": "paid",
                            "created_at": paid_at,
                            "updated_at": paid_at,
                        },
                    )
                method = "online" if tx_id else rng.choice(["cheque", "virement", "especes", "prelevement"])
                invoice_store.insert_payment(cur, invoice_id, total, paid_at, method, tx_id, None)

        db.write(pay)
    db.write(lambda cur: continue_sequences(cur, ["payment_transactions"]))  # its ids were chosen above
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Construit la base de démonstration du Portail Famille.")
    parser.add_argument(
        "--path",
        default=None,
        help="fichier DuckDB ou adresse postgresql://… (défaut : PORTAIL_DB ou data/portail.duckdb)",
    )
    parser.add_argument("--if-missing", action="store_true", help="ne rien faire si la base existe déjà")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="date du jour (AAAA-MM-JJ)")
    parser.add_argument(
        "--banque",
        choices=sorted(SANDBOXES),
        default="payfip",
        help="banque de test du paiement en ligne (défaut : payfip, le service de la DGFiP ; systempay)",
    )
    args = parser.parse_args(argv)
    path = args.path or db_path()

    def work() -> None:
        if production() and not (args.if_missing and demo_exists(path)):
            raise NotAllowed(
                f"{MODE}={PRODUCTION} : la ville de démonstration (comptes au mot de passe « {DEMO_PASSWORD} », "
                f"banque de test) n'est pas construite. Créez la base de la ville avec son premier administrateur : "
                f"python -m lib.services.setup admin --email ADRESSE"
            )
        if args.if_missing and demo_exists(path):
            if not is_url(path):
                connect_file(path).close()  # `make run` stops here, in French, if a server holds it
            print(f"Base existante conservée : {path}")
            return
        today = args.today or datetime.now(PARIS).date()  # a command-line tool: an edge that reads the clock
        started = datetime.now()
        counts = build_demo(path, today, args.banque)
        elapsed = (datetime.now() - started).total_seconds()
        print(
            f"Base de démonstration créée : {path} ({counts['families']} familles, {counts['children']} enfants, "
            f"{counts['bookings']} réservations, {counts['invoices']} factures) en {elapsed:.1f} s."
        )

    return run_in_french(work)


if __name__ == "__main__":
    sys.exit(main())
