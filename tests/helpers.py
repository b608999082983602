"""Helpers shared by test modules (fixtures live in the conftest.py files): a test module imports
from here, from tests.serve or from a conftest, never from another test module."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import unescape

import pandas as pd
from fontTools.ttLib import TTFont
from streamlit.testing.v1 import AppTest

from lib.domain.actor import Actor
from lib.domain.calendar import Closure, SchoolCalendar
from lib.domain.clock import PARIS, to_utc_naive
from lib.domain.roles import Role
from lib.domain.school_year import current_and_previous
from lib.services import auth, closures, invoicing, reservations, setup
from lib.services.demo_marks import SANDBOX_OPTIONS
from lib.store import families as families_store
from lib.store import invoices as invoice_store
from lib.store import outbox
from lib.store import settings as settings_store
from lib.store.bulk import continue_sequences, insert_frame
from lib.store.db import Cursor, Database
from lib.ui.session import TEST_TOKEN_KEY
from lib.web import fonts
from tests.conftest import DEMO_NOW, DEMO_TODAY
from tests.serve import ROOT

# --- pages through AppTest ------------------------------------------------------------------------

TIMEOUT = 30


def app_test(script: str, db, email: str | None) -> AppTest:
    """The page `script` under AppTest, logged in as the demo account `email` (None: logged out).
    AppTest cannot send cookies: the session token goes where lib.ui.session looks for it in tests."""
    at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
    if email:
        at.session_state[TEST_TOKEN_KEY] = auth.login(db, email, "demo", DEMO_NOW)[0]
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.header] + [e.value for e in at.subheader]
    parts += [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [e.value for e in at.info] + [e.value for e in at.warning] + [e.value for e in at.success]
    parts += [e.value for e in at.error] + [str(m.value) for m in at.metric] + [m.label for m in at.metric]
    return "\n".join(str(p) for p in parts)


def plotly_values(encoded):
    """Plotly sends numeric arrays as base64 typed arrays ({'dtype', 'bdata'})."""
    import base64

    import numpy as np

    if isinstance(encoded, dict):
        return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"]).tolist()
    return list(encoded)


# --- our HTTP routes through Starlette's test client ----------------------------------------------


def csrf(client):
    page = client.get("/connexion")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]


def post_login(client, email, password, token=None, **headers):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf": token or csrf(client)},
        headers=headers,
        follow_redirects=False,
    )


# --- online payment ---------------------------------------------------------------------------------

PORT = 8501  # the port the process serves on: the portal's address without `public_url`
PROVIDER = "192.0.2.10"  # where the provider's answers come from
KEY = "route-test-key-123456"  # the idempotency key a payment form carries


def hidden_fields(html):
    return {
        unescape(n): unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    }


def unpaid_id(db):
    """The demo family's unpaid October invoice."""
    return db.value("SELECT id FROM invoices WHERE number = 'F-2026-000267'")


# --- fonts ------------------------------------------------------------------------------------------

MEDIA = fonts.streamlit_media_dir()
ICON_FILE = next(MEDIA.glob("MaterialSymbols-Rounded.*.woff2"))
TEXT_FILE = next(MEDIA.glob("SourceSansVF-Upright.ttf.*.woff2"))
ITALIC_FILE = next(MEDIA.glob("SourceSansVF-Italic.ttf.*.woff2"))


def our_icons() -> set[str]:
    """Every `:material/…:` in app.py, pages/ and lib/, found by the tests on their own."""
    found = set()
    for path in [ROOT / "app.py", *ROOT.glob("pages/**/*.py"), *ROOT.glob("lib/**/*.py")]:
        found.update(re.findall(r":material/([a-z0-9_]+):", path.read_text(encoding="utf-8")))
    return found


def font(body: bytes) -> TTFont:
    return TTFont(io.BytesIO(body))


# --- a small town ------------------------------------------------------------------------------------

TOWN_PASSWORD = "mot de passe de la petite ville"  # every account of the small town's


@dataclass(frozen=True)
class Town:
    """The small town a service test starts from (`town` fixture, tests/conftest.py): a current
    school year around DEMO_TODAY and the one before, a school offering the canteen and a
    Wednesday centre offering a meal and an afternoon, two families, the staff, and a few more
    family accounts with no child (for the login throttle). Alice (family A) eats at the canteen
    every school day of the year; her brother Adrien (family A, `child_a2`) eats at the canteen on
    Mondays, Tuesdays and Fridays and goes to the Wednesday centre, meal and afternoon; Basile
    (family B) goes to the Wednesday centre, meal and afternoon. The Wednesday centre is closed on
    the third Wednesday of December (`closure_day`, "formation des animateurs"), declared by the
    administrator through `services.closures.declare` before the families booked: nobody is booked
    that day. No attendance is recorded. September and October are invoiced; family A paid
    September, family B paid nothing. Family A may pay online, family B asked to. Each family's account is
    its guardian 1 (« Anne Aubert » for family A), its QF the first line of its history, as migration 009
    makes them of a town's existing families. Its minimum for public recovery is 0 (every amount is
    issued). The outbox is empty (the messages of the town's own setup
    are dropped). Ids and e-mails are the builder's: tests
    name them through this object, never by value. Every account's password is TOWN_PASSWORD."""

    db: Database
    school_year: int
    previous_year: int
    school: int
    wednesday_centre: int
    canteen: int
    wednesday_meal: int
    wednesday_afternoon: int
    family_a: int
    family_b: int
    child_a: int
    child_b: int
    child_a2: int  # Adrien, Alice's brother
    closure_day: date  # the Wednesday centre's closure
    closure_reason: str
    agent: str
    cook: str
    mayor: str
    admin: str
    parent_a: str
    parent_b: str
    strangers: tuple[str, ...]  # e-mails of family accounts with no child

    def login(self, email: str) -> Actor:
        """The actor of the account `email`, logged in at DEMO_NOW."""
        return auth.login(self.db, email, TOWN_PASSWORD, DEMO_NOW)[1]


def _rows(cur: Cursor, table: str, rows: list[dict]) -> None:
    insert_frame(cur, table, pd.DataFrame(rows))


def build_town(db: Database, today: date = DEMO_TODAY) -> Town:
    """Fill `db` (schema applied, empty) with the small town of `today`; returns it."""
    current, previous = current_and_previous(today, "C")
    created = to_utc_naive(datetime.combine(current.start - timedelta(days=40), time(20, 0), PARIS))
    school, centre, canteen, meal, afternoon = 1, 2, 1, 2, 3
    staff = [
        ("agent@petite-ville.test", "agent", "Agnès Durand"),
        ("cuisine@petite-ville.test", "cuisine", "Claude Fabre"),
        ("maire@petite-ville.test", "elu", "Marie Garrigou"),
        ("admin@petite-ville.test", "admin", "Service enfance"),
    ]
    families = [  # id, name, parent's name, QF, payment right, child (first name, class, diet)
        (1, "Famille Aubert", "Anne Aubert", 600, "granted", ("Alice", "MS", "standard")),
        (2, "Famille Besson", "Bruno Besson", 1500, "requested", ("Basile", "CE1", "sans_porc")),
        *((n, f"Famille Sansenfant {n}", f"Parent {n}", None, "none", None) for n in range(3, 16)),
    ]
    adrien = 3  # family A's second child: (id, family, first name, class, diet)
    siblings = [(adrien, 1, "Adrien", "GS", "standard")]
    december = date(current.start_year, 12, 1)
    closure_day = december + timedelta(days=(2 - december.weekday()) % 7 + 14)  # the third Wednesday
    closure = Closure(closure_day, closure_day, "formation des animateurs", site_id=centre)
    password_hash = auth.hash_password(TOWN_PASSWORD)  # one hash: every account shares the password

    def load(cur: Cursor) -> None:
        settings = {
            "town_name": "Ville de Petite-Ville (essais)",
            "contact_email": "enfance@petite-ville.test",
            "holiday_zone": "C",
            "invoice_rule": "bookings",
            "invoice_due_days": "30",
            "payment_backend": "systempayv2",
            "payment_options": json.dumps(SANDBOX_OPTIONS),
            "payment_sandbox": "1",
            # what the invoices say of the town (a régie; the SIRET passes its check digit)
            "town_address": "Hôtel de ville, 10 place de la République, 31000 Petite-Ville",
            "town_siret": "21310999400011",
            "collection_mode": "regie",
            "official_name": "Marie Garrigou",
            "official_title": "Maire",
            "regie_name": "Régie enfance de Petite-Ville",
            "regie_address": "Hôtel de ville, 10 place de la République, 31000 Petite-Ville",
            "regie_hours": "du lundi au vendredi de 8 h 30 à 12 h",
            "accountant_name": "Service de gestion comptable de Petite-Ville",
            "accountant_address": "2 rue du Trésor, 31000 Petite-Ville",
            # Every amount issued, corrections of a few cents too: the 15 € minimum for public recovery
            # (carried over below it) is tested on its own, in tests/services/test_billing_rules.py.
            "recovery_minimum_cents": "0",
        }
        _rows(cur, "settings", [{"key": k, "value": v} for k, v in settings.items()])
        _rows(
            cur,
            "school_years",
            [
                {"id": y.start_year, "label": y.label, "start_date": y.start, "end_date": y.end}
                for y in (previous, current)
            ],
        )
        _rows(
            cur,
            "sites",
            [
                {"id": school, "name": "École des Tilleuls", "kind": "maternelle", "capacity": 40},
                {"id": centre, "name": "Centre du mercredi", "kind": "mercredi", "capacity": 30},
            ],
        )
        service = ("id", "code", "name", "short_name", "weekdays", "unit_price_cents", "is_meal", "sort_order")
        _rows(
            cur,
            "services",
            [
                dict(zip(service, (canteen, "cantine", "Restauration scolaire", "Cantine", "1,2,4,5", 350, True, 1))),
                dict(zip(service, (meal, "mercredi_repas", "Mercredi repas", "Repas", "3", 400, True, 2))),
                dict(zip(service, (afternoon, "mercredi_am", "Mercredi après-midi", "Après-midi", "3", 800, False, 3))),
            ],
        )
        _rows(
            cur,
            "site_services",
            [
                {"site_id": school, "service_id": canteen, "capacity": 40},
                {"site_id": centre, "service_id": meal, "capacity": 30},
                {"site_id": centre, "service_id": afternoon, "capacity": 30},
            ],
        )
        _rows(
            cur,
            "diets",
            [
                {"code": "standard", "label": "Standard", "sort_order": 1},
                {"code": "sans_porc", "label": "Sans porc", "sort_order": 2},
            ],
        )
        _rows(
            cur,
            "families",
            [
                {
                    "id": fid,
                    "name": name,
                    "email": f"famille{fid:02d}@petite-ville.test",
                    "quotient_familial": qf,
                    "payment_right": right,
                    "payment_right_at": created if right != "none" else None,
                    "created_at": created,
                }
                for fid, name, _, qf, right, _ in families
            ],
        )
        users = [
            {"id": n, "email": email, "role": role, "family_id": None, "display_name": name}
            for n, (email, role, name) in enumerate(staff, start=1)
        ]
        users += [
            {
                "id": len(staff) + fid,
                "email": f"famille{fid:02d}@petite-ville.test",
                "role": "famille",
                "family_id": fid,
                "display_name": parent,
            }
            for fid, _, parent, _, _, _ in families
        ]
        frame = pd.DataFrame(users).astype({"family_id": "Int64"})
        frame["password_hash"], frame["created_at"], frame["activated_at"] = password_hash, created, created
        insert_frame(cur, "users", frame)
        kids = [(fid, fid, name.split()[-1], child) for fid, name, _, _, _, child in families if child]
        kids += [(cid, fid, families[fid - 1][1].split()[-1], rest) for cid, fid, *rest in siblings]
        _rows(
            cur,
            "children",
            [
                {
                    "id": cid,
                    "family_id": fid,
                    "first_name": first,
                    "last_name": last,
                    "birth_date": date(current.start_year - {"MS": 4, "GS": 5}.get(level, 7), 3, 14),
                    "school_class": level,
                    "diet_code": diet,
                }
                for cid, fid, last, (first, level, diet) in kids
            ],
        )
        plans = [  # registration, child, family, site, services, their weekdays
            (1, 1, 1, school, [canteen], (1, 2, 4, 5)),
            (2, 2, 2, centre, [meal, afternoon], (3,)),
            (3, adrien, 1, school, [canteen], (1, 2, 5)),
            (4, adrien, 1, centre, [meal, afternoon], (3,)),
        ]
        _rows(
            cur,
            "registrations",
            [
                {
                    "id": reg,
                    "child_id": child,
                    "school_year_id": current.start_year,
                    "site_id": site,
                    "created_at": created,
                    "updated_at": created,
                }
                for reg, child, _, site, _, _ in plans
            ],
        )
        _rows(
            cur,
            "registration_services",
            [{"registration_id": reg, "service_id": s} for reg, _, _, _, services, _ in plans for s in services],
        )
        # Booked around the closure, declared (below) before the families booked.
        calendar = SchoolCalendar(zone="C", closures=(closure,))
        _rows(
            cur,
            "bookings",
            [
                {
                    "child_id": child,
                    "service_id": s,
                    "day": day,
                    "site_id": site,
                    "state": "booked",
                    "origin": "template",
                    "created_by": len(staff) + family,
                    "created_at": created,
                    "updated_by": len(staff) + family,
                    "updated_at": created,
                }
                for _, child, family, site, services, weekdays in plans
                for s in services
                for day in calendar.service_days(weekdays, current.start, current.end, site)
            ],
        )
        continue_sequences(cur)
        families_store.guardians_from_accounts(cur)

    db.write(load)
    admin = Actor(user_id=4, email=staff[3][0], role=Role.ADMIN, display_name=staff[3][2])
    declared_at = datetime.combine(current.start - timedelta(days=30), time(9, 0), PARIS)
    closures.declare(db, admin, [centre], [], closure.start, closure.end, closure.kind, closure.reason, declared_at)
    for month in (9, 10):  # each published on the 5th of the next month
        issued = datetime.combine(date(current.start_year, month + 1, 5), time(9, 0), PARIS)
        invoicing.publish_month(db, admin, date(current.start_year, month, 1), issued)
    parent_a = Actor(user_id=len(staff) + 1, email="", role=Role.FAMILY, display_name="", family_id=1)
    september = next(row for row in invoicing.family_invoices(db, parent_a, DEMO_NOW) if row.month.month == 9)
    paid_at = to_utc_naive(datetime.combine(date(current.start_year, 10, 12), time(12, 30), PARIS))
    db.write(
        lambda cur: invoice_store.insert_payment(cur, september.id, september.left_cents, paid_at, "cheque", None, None)
    )
    db.write(outbox.forget_history)  # the town starts with nothing to send
    return Town(
        db=db,
        school_year=current.start_year,
        previous_year=previous.start_year,
        school=school,
        wednesday_centre=centre,
        canteen=canteen,
        wednesday_meal=meal,
        wednesday_afternoon=afternoon,
        family_a=1,
        family_b=2,
        child_a=1,
        child_b=2,
        child_a2=adrien,
        closure_day=closure_day,
        closure_reason=closure.reason,
        agent=staff[0][0],
        cook=staff[1][0],
        mayor=staff[2][0],
        admin=staff[3][0],
        parent_a="famille01@petite-ville.test",
        parent_b="famille02@petite-ville.test",
        strangers=tuple(f"famille{fid:02d}@petite-ville.test" for fid, *_ in families[2:]),
    )


# --- the small town's invoices -------------------------------------------------------------------------


@dataclass(frozen=True)
class TownInvoice:
    """One of the small town's invoices, with its family's name and e-mail."""

    id: int
    number: str
    total_cents: int
    family: str
    email: str


def town_invoice(town: Town, family_id: int, month: int) -> TownInvoice:
    """The invoice of `family_id` for `month` of the town's current school year (September and
    October are published: family A's October is the one left to pay)."""
    year = town.school_year if month >= 9 else town.school_year + 1
    row = town.db.row(
        "SELECT i.id, i.number, i.total_cents, f.name, f.email FROM invoices i JOIN families f ON f.id = i.family_id "
        "WHERE i.family_id = ? AND i.period_month = ? AND i.kind = 'invoice'",
        [family_id, date(year, month, 1)],
    )
    assert row is not None, (family_id, month)
    return TownInvoice(*row)


# --- a family in a town set up from an empty database ----------------------------------------------


def add_family_with_child(db: Database, email: str, password: str) -> tuple[int, int]:
    """One family, its parent's account (`email`, `password`) and one child (Zoé Essai, CE1, diet
    « standard »), written directly: what the families' import gives a new town. (family id, child id)."""
    at = to_utc_naive(DEMO_NOW)

    def load(cur: Cursor) -> tuple[int, int]:
        family = cur.execute(
            "INSERT INTO families (name, email, created_at) VALUES ('Famille Essai', ?, ?) RETURNING id", [email, at]
        ).fetchall()[0][0]
        cur.execute(
            "INSERT INTO users (email, password_hash, role, family_id, display_name, created_at) "
            "VALUES (?, ?, 'famille', ?, 'Paule Essai', ?)",
            [email, auth.hash_password(password), family, at],
        )
        child = cur.execute(
            "INSERT INTO children (family_id, first_name, last_name, birth_date, school_class, diet_code) "
            "VALUES (?, 'Zoé', 'Essai', DATE '2018-05-02', 'CE1', 'standard') RETURNING id",
            [family],
        ).fetchall()[0][0]
        return family, child

    return db.write(load)


def set_base_tariffs(db: Database, service_id: int, brackets: list[tuple[int | None, int]]) -> None:
    """A service's base QF grid as the town set it before its first invoice: the small town has invoiced
    September and October, after which `settings.set_tariffs` refuses to change it (a new price applies
    from a date)."""
    db.write(lambda cur: settings_store.replace_tariffs(cur, service_id, brackets))


def forget_invoices(db: Database) -> None:
    """The town as it was before its first invoice (its base tariff may still change)."""

    def work(cur: Cursor) -> None:
        for table in ("payments", "payment_transactions", "invoice_lines", "carried_lines", "invoices"):
            cur.execute(f"DELETE FROM {table}")

    db.write(work)


def sorted_rows(db: Database, sql: str, params: list | tuple = ()) -> list[tuple]:
    """The rows of `sql` in a fixed order, every column ascending, NULL last: DuckDB's `ORDER BY ALL`,
    which PostgreSQL lacks, for the tests that compare a table before and after."""

    def key(row: tuple) -> tuple:
        return tuple((value is None, value if value is not None else 0) for value in row)

    return sorted(db.rows(sql, params), key=key)


def point_at(db, port: int) -> None:
    """The town sends its e-mail through the SMTP server on 127.0.0.1:`port` (the `smtp_sink` fixture's)."""
    for key, value in [
        ("mail_transport", "smtp"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", str(port)),
        ("smtp_security", "none"),
        ("mail_from", "Ville de Petite-Ville <enfance@petite-ville.test>"),
    ]:
        setup.set_setting(db, key, value, DEMO_NOW)


def newcomers(town, count: int) -> list[int]:
    """`count` children of families with no child yet (not family A), each registered at the school
    for the canteen and booked on no day; their ids in order."""
    agent = town.login(town.agent)
    ids = []
    for email in town.strangers[:count]:
        family = town.db.value("SELECT family_id FROM users WHERE email = ?", [email])
        child = town.db.write(
            lambda cur, family=family: cur.execute(
                "INSERT INTO children (family_id, first_name, last_name, birth_date, school_class, diet_code) "
                "VALUES (?, 'Nouveau', 'Venu', DATE '2021-05-01', 'MS', 'standard') RETURNING id",
                [family],
            ).fetchone()[0]
        )
        reservations.save_registration(town.db, agent, child, town.school_year, town.school, [town.canteen], DEMO_NOW)
        ids.append(child)
    return ids


def fill(db, site: int, service: int, day, free: int) -> int:
    """Set the capacity so that exactly `free` places remain that day; the capacity."""
    taken = db.value(
        "SELECT count(*) FROM bookings WHERE site_id = ? AND service_id = ? AND day = ? AND state = 'booked'",
        [site, service, day],
    )
    db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = ? WHERE site_id = ? AND service_id = ?", [taken + free, site, service]
        )
    )
    return taken + free
