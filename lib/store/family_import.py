"""What the families' CSV import compares a file with, and what the export writes: every family's
file as the import's columns see it (guardians by rank, the QF in force, each child with its
registrations of one school year and its consents), read in a few statements for the whole town."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.domain.families import BillingMode, ChildInput, ConsentKind, GuardianInput, QfSource, QuotientInput
from lib.store.db import Database
from lib.store.families import EMAIL_HOLDERS
from lib.store.sql import dialects

# Each family's QF in force: its latest line.
LATEST_QUOTIENTS = dialects(
    duckdb="""SELECT family_id, qf, valid_from, source, allocataire_no FROM family_quotients
           QUALIFY row_number() OVER (PARTITION BY family_id ORDER BY valid_from DESC, id DESC) = 1""",
    postgresql="""SELECT DISTINCT ON (family_id) family_id, qf, valid_from, source, allocataire_no
           FROM family_quotients ORDER BY family_id, valid_from DESC, id DESC""",
)
# Each child's registrations of a school year: (child, site, its services in id order).
REGISTRATIONS = dialects(
    duckdb="""SELECT r.child_id, r.site_id,
                      list(rs.service_id ORDER BY rs.service_id) FILTER (WHERE rs.service_id IS NOT NULL)
               FROM registrations r LEFT JOIN registration_services rs ON rs.registration_id = r.id
               WHERE r.school_year_id = ? GROUP BY ALL""",
    postgresql="""SELECT r.child_id, r.site_id,
                      list(rs.service_id ORDER BY rs.service_id) FILTER (WHERE rs.service_id IS NOT NULL)
               FROM registrations r LEFT JOIN registration_services rs ON rs.registration_id = r.id
               WHERE r.school_year_id = ? GROUP BY r.child_id, r.site_id""",
)


@dataclass
class StoredFamily:
    id: int
    town_ref: str | None
    name: str
    billing: BillingMode
    archived: bool
    guardians: dict[int, GuardianInput] = field(default_factory=dict)  # rank → guardian
    logins: dict[int, str] = field(default_factory=dict)  # rank → the login of the guardian's activated account
    quotient: QuotientInput | None = None  # the latest line of the history


@dataclass
class StoredChild:
    id: int
    family_id: int
    child: ChildInput
    archived: bool
    registrations: dict[int, tuple[int, ...]] = field(default_factory=dict)  # site → service ids (one year)
    consents: dict[ConsentKind, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    families: dict[int, StoredFamily]
    children: dict[int, StoredChild]

    def family_by_ref(self) -> dict[str, StoredFamily]:
        return {f.town_ref: f for f in self.families.values() if f.town_ref}

    def child_by_ref(self) -> dict[str, StoredChild]:
        return {c.child.town_ref: c for c in self.children.values() if c.child.town_ref}


def snapshot(db: Database, school_year_id: int | None) -> Snapshot:
    """Every family and child, with what the import's columns hold."""
    families = {
        r[0]: StoredFamily(r[0], r[1], r[2], BillingMode(r[3]), r[4])
        for r in db.rows("SELECT id, town_ref, name, billing, archived_at IS NOT NULL FROM families ORDER BY id")
    }
    for family_id, rank, first, last, email, phone, address, ref, login in db.rows(
        """SELECT g.family_id, g.rank, g.first_name, g.last_name, g.email, g.phone, g.address, g.town_ref, u.email
           FROM guardians g LEFT JOIN users u ON u.id = g.user_id AND u.activated_at IS NOT NULL
           WHERE g.archived_at IS NULL"""
    ):
        if family_id in families:
            families[family_id].guardians[rank] = GuardianInput(first, last, email, phone, address, ref)
            if login is not None:
                families[family_id].logins[rank] = login
    for family_id, qf, valid_from, source, allocataire in db.rows(LATEST_QUOTIENTS):
        if family_id in families:
            families[family_id].quotient = QuotientInput(qf, valid_from, QfSource(source), allocataire)
    children = {
        r[0]: StoredChild(r[0], r[1], ChildInput(r[2], r[3], r[4], r[5], r[6], r[7]), r[8])
        for r in db.rows(
            """SELECT id, family_id, first_name, last_name, birth_date, school_class, diet_code, town_ref,
                      archived_at IS NOT NULL FROM children ORDER BY id"""
        )
    }
    if school_year_id is not None:
        for child_id, site_id, services in db.rows(REGISTRATIONS, [school_year_id]):
            if child_id in children:
                children[child_id].registrations[site_id] = tuple(services or ())
    for child_id, kind, granted in db.rows("SELECT child_id, kind, granted FROM consents"):
        if child_id in children:
            children[child_id].consents[ConsentKind(kind)] = granted
    return Snapshot(families, children)


def taken_emails(db: Database) -> dict[str, tuple[str | None, ...]]:
    """Every e-mail an account or a guardian holds (lib.store.families.EMAIL_HOLDERS, the family
    file's rule too) → the town_ref of each holder's family (None: staff, or a family without one).
    An imported guardian may keep his own family's address, no other."""
    found: dict[str, tuple[str | None, ...]] = {}
    for email, ref in db.rows(
        f"SELECT h.email, f.town_ref FROM ({EMAIL_HOLDERS}) h LEFT JOIN families f ON f.id = h.family_id"
    ):
        found[email] = (*found.get(email, ()), ref)
    return found


def reference_rows(db: Database) -> tuple[dict[str, str], dict[str, int], dict[str, int], frozenset[tuple[int, int]]]:
    """(diets code → label, sites name → id, services code → id, the (site, service) pairs offered)."""
    diets = dict(db.rows("SELECT code, label FROM diets ORDER BY sort_order, code"))
    sites = dict(db.rows("SELECT name, id FROM sites ORDER BY id"))
    services = dict(db.rows("SELECT code, id FROM services ORDER BY sort_order, id"))
    offered = frozenset((r[0], r[1]) for r in db.rows("SELECT site_id, service_id FROM site_services"))
    return diets, sites, services, offered


def names(db: Database) -> tuple[dict[int, str], dict[int, str]]:
    """(site id → name, service id → code): how the export writes registrations."""
    return dict(db.rows("SELECT id, name FROM sites")), dict(db.rows("SELECT id, code FROM services"))
