"""The family file's queries: families, guardians, children's file fields, the quotient familial
and its history, contacts, consents, split-billing shares, the changes families propose, archives.

Nothing here deletes a family, a child or a guardian (tests/test_architecture.py checks the whole
store): a family or a child leaving the town is archived, its invoices and history stay.
Functions taking `cur` run inside the service's `Database.write`.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

from lib.domain.changes import ChangeKind, ChangeState, PendingChange
from lib.domain.families import (
    BillingMode,
    ChildInput,
    ChildRecord,
    Consent,
    ConsentKind,
    Contact,
    ContactInput,
    Family,
    FoundFamily,
    Guardian,
    GuardianInput,
    QfSource,
    QuotientInput,
    QuotientRecord,
)
from lib.domain.planning import BookingState
from lib.store.db import Database
from lib.store.sql import ACTIVE_STATES, SPLIT, dialects

_FAMILY = (
    "SELECT id, name, town_ref, billing, quotient_familial, created_at, archived_at, coalesce(non_resident, false)"
    " FROM families"
)
_GUARDIAN = (
    "SELECT id, family_id, rank, first_name, last_name, email, phone, address, user_id, town_ref FROM guardians"
    " WHERE archived_at IS NULL"
)
_CHILD = (
    "SELECT id, family_id, first_name, last_name, birth_date, school_class, diet_code, town_ref, archived_at"
    " FROM children"
)


def _family(row: tuple) -> Family:
    return Family(row[0], row[1], row[2], BillingMode(row[3]), row[4], row[5], row[6], bool(row[7]))


# --- reads ------------------------------------------------------------------------------------------


def family(db: Database, family_id: int) -> Family | None:
    found = db.row(f"{_FAMILY} WHERE id = ?", [family_id])
    return _family(found) if found else None


def guardians(db: Database, family_id: int) -> list[Guardian]:
    return [Guardian(*row) for row in db.rows(f"{_GUARDIAN} AND family_id = ? ORDER BY rank", [family_id])]


def children(db: Database, family_id: int) -> list[ChildRecord]:
    return [ChildRecord(*row) for row in db.rows(f"{_CHILD} WHERE family_id = ? ORDER BY birth_date", [family_id])]


def child(db: Database, child_id: int) -> ChildRecord | None:
    found = db.row(f"{_CHILD} WHERE id = ?", [child_id])
    return ChildRecord(*found) if found else None


def quotients(db: Database, family_id: int) -> list[QuotientRecord]:
    """The family's QF history, the one in force first."""
    rows = db.rows(
        """SELECT q.id, q.family_id, q.qf, q.valid_from, q.source, q.allocataire_no, u.display_name, q.recorded_at
           FROM family_quotients q LEFT JOIN users u ON u.id = q.recorded_by
           WHERE q.family_id = ? ORDER BY q.valid_from DESC, q.id DESC""",
        [family_id],
    )
    return [
        QuotientRecord(
            id=r[0],
            family_id=r[1],
            qf=r[2],
            valid_from=r[3],
            source=QfSource(r[4]),
            allocataire_no=r[5],
            recorded_by=r[6],
            recorded_at=r[7],
        )
        for r in rows
    ]


def contacts(db: Database, family_id: int) -> list[Contact]:
    rows = db.rows(
        """SELECT id, family_id, child_id, name, relation, phone, emergency, pickup FROM contacts
           WHERE family_id = ? AND archived_at IS NULL ORDER BY id""",
        [family_id],
    )
    return [Contact(*row) for row in rows]


def consents(db: Database, family_id: int) -> list[Consent]:
    rows = db.rows(
        "SELECT child_id, kind, granted, changed_at FROM consents WHERE family_id = ? ORDER BY child_id, kind",
        [family_id],
    )
    return [Consent(r[0], ConsentKind(r[1]), r[2], r[3]) for r in rows]


def shares(db: Database, family_id: int) -> dict[int, dict[int, int]]:
    """Each child's split: child id → {guardian id: percent}."""
    found: dict[int, dict[int, int]] = {}
    for child_id, guardian_id, percent in db.rows(
        """SELECT s.child_id, s.guardian_id, s.percent FROM billing_shares s JOIN children c ON c.id = s.child_id
           WHERE c.family_id = ? ORDER BY s.child_id, s.guardian_id""",
        [family_id],
    ):
        found.setdefault(child_id, {})[guardian_id] = percent
    return found


# Families where every word is found in their text (search below).
_SEARCH = """
        WITH text AS (
            SELECT f.id, strip_accents(lower(concat_ws(' ', f.name, f.town_ref,
                       (SELECT string_agg(concat_ws(' ', g.first_name, g.last_name, g.email, g.town_ref), ' ')
                        FROM guardians g WHERE g.family_id = f.id AND g.archived_at IS NULL),
                       (SELECT string_agg(concat_ws(' ', c.first_name, c.last_name, c.town_ref), ' ')
                        FROM children c WHERE c.family_id = f.id)))) AS words
            FROM families f WHERE $archived OR f.archived_at IS NULL
        )
        SELECT f.id, f.name, f.town_ref,
               coalesce((SELECT string_agg(trim(g.first_name || ' ' || g.last_name), ', ' ORDER BY g.rank)
                         FROM guardians g WHERE g.family_id = f.id AND g.archived_at IS NULL), ''),
               coalesce((SELECT string_agg(c.first_name, ', ' ORDER BY c.birth_date)
                         FROM children c WHERE c.family_id = f.id AND c.archived_at IS NULL), ''),
               f.archived_at IS NOT NULL
        FROM families f JOIN text t ON t.id = f.id
        WHERE {every_word}
        ORDER BY f.name, f.id LIMIT $limit
        """
SEARCH = dialects(
    duckdb=_SEARCH.format(every_word="list_bool_and([t.words LIKE '%' || w || '%' FOR w IN $words])"),
    postgresql=_SEARCH.format(
        every_word="(SELECT bool_and(t.words LIKE '%' || w || '%') FROM unnest($words::VARCHAR[]) w)"
    ),
)


def search(db: Database, words: list[str], include_archived: bool, limit: int) -> list[FoundFamily]:
    """Families where every word is found (accents and case ignored) in the family's name or number,
    a guardian's name or e-mail, a child's name or number."""
    rows = db.rows(SEARCH, {"words": words, "archived": include_archived, "limit": limit})
    return [FoundFamily(*row) for row in rows]


def family_of_user(db: Database, user_id: int) -> int | None:
    return db.value("SELECT family_id FROM users WHERE id = ?", [user_id])


# Who holds an e-mail: every account (family NULL: staff) and every active guardian, with its family.
EMAIL_HOLDERS = """SELECT email, family_id FROM users
                   UNION ALL
                   SELECT email, family_id FROM guardians WHERE email IS NOT NULL AND archived_at IS NULL"""


def email_families(db: Database, email: str) -> list[int | None]:
    """The family of each account or guardian holding this e-mail (None: a staff account)."""
    return [r[0] for r in db.rows(f"SELECT family_id FROM ({EMAIL_HOLDERS}) h WHERE email = ?", [email])]


def activated_login(db: Database, user_id: int) -> str | None:
    """The login e-mail of this account once its holder activated it (None: invited, not activated)."""
    return db.value("SELECT email FROM users WHERE id = ? AND activated_at IS NOT NULL", [user_id])


def ref_taken(db: Database, table: str, town_ref: str, other_id: int | None) -> bool:
    """Whether another family (`table` 'families') or child ('children') has this town number."""
    sql = {
        "families": "SELECT 1 FROM families WHERE town_ref = ? AND id IS DISTINCT FROM ?",
        "children": "SELECT 1 FROM children WHERE town_ref = ? AND id IS DISTINCT FROM ?",
    }[table]
    return db.row(sql, [town_ref, other_id]) is not None


def diet_codes(db: Database) -> list[tuple[str, str]]:
    return [tuple(r) for r in db.rows("SELECT code, label FROM diets ORDER BY sort_order, code")]


# --- writes -----------------------------------------------------------------------------------------


def insert_family(cur: duckdb.DuckDBPyConnection, name: str, town_ref: str | None, now_utc: datetime) -> int:
    return cur.execute(
        "INSERT INTO families (name, town_ref, created_at) VALUES (?, ?, ?) RETURNING id", [name, town_ref, now_utc]
    ).fetchall()[0][0]


def update_family(
    cur: duckdb.DuckDBPyConnection,
    family_id: int,
    name: str,
    town_ref: str | None,
    billing: BillingMode,
    non_resident: bool | None = None,
) -> None:
    """A family's file; `non_resident` (« hors commune ») None: unchanged (the import does not carry it)."""
    cur.execute(
        "UPDATE families SET name = ?, town_ref = ?, billing = ?, non_resident = coalesce(?, non_resident) WHERE id = ?",
        [name, town_ref, billing.value, non_resident, family_id],
    )


def save_guardian(cur: duckdb.DuckDBPyConnection, family_id: int, rank: int, typed: GuardianInput) -> int:
    """Guardian `rank` of the family, created or replaced by what was typed; its id."""
    values = [typed.first_name, typed.last_name, typed.email, typed.phone, typed.address, typed.town_ref]
    found = cur.execute(
        """UPDATE guardians SET first_name = ?, last_name = ?, email = ?, phone = ?, address = ?, town_ref = ?,
                  archived_at = NULL
           WHERE family_id = ? AND rank = ? RETURNING id""",
        [*values, family_id, rank],
    ).fetchall()
    if found:
        return found[0][0]
    return cur.execute(
        """INSERT INTO guardians (family_id, rank, first_name, last_name, email, phone, address, town_ref)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [family_id, rank, *values],
    ).fetchall()[0][0]


def set_guardian_contact(
    cur: duckdb.DuckDBPyConnection, guardian_id: int, phone: str | None, address: str | None
) -> None:
    """What a family changes itself: a guardian's phone and address."""
    cur.execute("UPDATE guardians SET phone = ?, address = ? WHERE id = ?", [phone, address, guardian_id])


def set_quotient(
    cur: duckdb.DuckDBPyConnection, family_id: int, typed: QuotientInput, user_id: int, now_utc: datetime
) -> int | None:
    """Add a line to the QF history and cache the QF in force (the latest date's) on the family, in
    the caller's transaction. Returns the QF now in force."""
    cur.execute(
        """INSERT INTO family_quotients (family_id, qf, valid_from, source, allocataire_no, recorded_by, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [family_id, typed.qf, typed.valid_from, typed.source.value, typed.allocataire_no, user_id, now_utc],
    )
    return cur.execute(
        """UPDATE families SET quotient_familial = (
               SELECT qf FROM family_quotients WHERE family_id = $family ORDER BY valid_from DESC, id DESC LIMIT 1)
           WHERE id = $family RETURNING quotient_familial""",
        {"family": family_id},
    ).fetchall()[0][0]


def insert_child(cur: duckdb.DuckDBPyConnection, family_id: int, typed: ChildInput) -> int:
    return cur.execute(
        """INSERT INTO children (family_id, first_name, last_name, birth_date, school_class, diet_code, town_ref)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [
            family_id,
            typed.first_name,
            typed.last_name,
            typed.birth_date,
            typed.school_class,
            typed.diet_code,
            typed.town_ref,
        ],
    ).fetchall()[0][0]


def update_child(cur: duckdb.DuckDBPyConnection, child_id: int, typed: ChildInput) -> None:
    cur.execute(
        """UPDATE children SET first_name = ?, last_name = ?, birth_date = ?, school_class = ?, diet_code = ?,
                  town_ref = ? WHERE id = ?""",
        [
            typed.first_name,
            typed.last_name,
            typed.birth_date,
            typed.school_class,
            typed.diet_code,
            typed.town_ref,
            child_id,
        ],
    )


def save_contact(cur: duckdb.DuckDBPyConnection, family_id: int, contact_id: int | None, typed: ContactInput) -> int:
    """A new contact (`contact_id` None) or the family's contact `contact_id` replaced; its id."""
    values = [typed.child_id, typed.name, typed.relation, typed.phone, typed.emergency, typed.pickup]
    if contact_id is None:
        return cur.execute(
            """INSERT INTO contacts (family_id, child_id, name, relation, phone, emergency, pickup)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [family_id, *values],
        ).fetchall()[0][0]
    cur.execute(
        """UPDATE contacts SET child_id = ?, name = ?, relation = ?, phone = ?, emergency = ?, pickup = ?
           WHERE id = ? AND family_id = ?""",
        [*values, contact_id, family_id],
    )
    return contact_id


def archive_contact(cur: duckdb.DuckDBPyConnection, family_id: int, contact_id: int, now_utc: datetime) -> None:
    cur.execute(
        "UPDATE contacts SET archived_at = ? WHERE id = ? AND family_id = ? AND archived_at IS NULL",
        [now_utc, contact_id, family_id],
    )


def save_consent(
    cur: duckdb.DuckDBPyConnection,
    family_id: int,
    child_id: int,
    kind: ConsentKind,
    granted: bool,
    user_id: int,
    now_utc: datetime,
) -> None:
    cur.execute(
        """INSERT INTO consents VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (child_id, kind) DO UPDATE SET granted = excluded.granted, changed_at = excluded.changed_at,
             changed_by = excluded.changed_by""",
        [family_id, child_id, kind.value, granted, now_utc, user_id],
    )


def save_shares(cur: duckdb.DuckDBPyConnection, child_id: int, split: dict[int, int]) -> None:
    """A child's split bill: guardian id → percent (the previous split is replaced)."""
    cur.execute("DELETE FROM billing_shares WHERE child_id = ?", [child_id])
    cur.execute(
        "INSERT INTO billing_shares SELECT ?, unnest(?::INTEGER[]), unnest(?::INTEGER[])",
        [child_id, list(split), list(split.values())],
    )


# --- archives ---------------------------------------------------------------------------------------


def set_family_archived(cur: duckdb.DuckDBPyConnection, family_id: int, at_utc: datetime | None) -> None:
    """Archive the family (`at_utc`) with its children still active, or bring it back (None) with the
    children archived with it (same moment): a child archived on its own before stays archived."""
    if at_utc is None:
        cur.execute(
            """UPDATE children SET archived_at = NULL
               WHERE family_id = ? AND archived_at = (SELECT archived_at FROM families WHERE id = ?)""",
            [family_id, family_id],
        )
    else:
        cur.execute(
            "UPDATE children SET archived_at = ? WHERE family_id = ? AND archived_at IS NULL", [at_utc, family_id]
        )
    cur.execute("UPDATE families SET archived_at = ? WHERE id = ?", [at_utc, family_id])


def set_child_archived(cur: duckdb.DuckDBPyConnection, child_id: int, at_utc: datetime | None) -> None:
    cur.execute("UPDATE children SET archived_at = ? WHERE id = ?", [at_utc, child_id])


def deactivate_users(cur: duckdb.DuckDBPyConnection, family_id: int) -> list[int]:
    """The family's accounts can no longer log in; their ids."""
    return [
        r[0]
        for r in cur.execute(
            "UPDATE users SET active = FALSE WHERE family_id = ? AND active RETURNING id", [family_id]
        ).fetchall()
    ]


def reactivate_users(cur: duckdb.DuckDBPyConnection, user_ids: list[int]) -> None:
    cur.execute("UPDATE users SET active = TRUE WHERE list_contains(?, id)", [user_ids])


def future_bookings(
    cur: duckdb.DuckDBPyConnection, child_ids: list[int], first: date
) -> list[tuple[int, int, int, date, BookingState]]:
    """(child, site, service, day, state) of the children's bookings and waiting places from `first` on."""
    rows = cur.execute(
        f"""SELECT child_id, site_id, service_id, day, state FROM bookings
            WHERE list_contains(?, child_id) AND day >= ? AND state IN {ACTIVE_STATES}
            ORDER BY child_id, day, service_id""",
        [child_ids, first],
    ).fetchall()
    return [(c, site, service, day, BookingState(state)) for c, site, service, day, state in rows]


def family_in(cur: duckdb.DuckDBPyConnection, family_id: int) -> Family:
    """The family as the transaction sees it."""
    return _family(cur.execute(f"{_FAMILY} WHERE id = ?", [family_id]).fetchall()[0])


# --- changes proposed by families -------------------------------------------------------------------

_CHANGE = """SELECT p.id, p.family_id, f.name, p.child_id, p.kind, p.payload, p.submitted_by, p.submitted_at,
                    p.state, p.decided_at, p.note
             FROM pending_changes p JOIN families f ON f.id = p.family_id"""


def _change(row: tuple) -> PendingChange:
    return PendingChange(
        id=row[0],
        family_id=row[1],
        family=row[2],
        child_id=row[3],
        kind=ChangeKind(row[4]),
        payload=row[5],
        submitted_by=row[6],
        submitted_at=row[7],
        state=ChangeState(row[8]),
        decided_at=row[9],
        note=row[10],
    )


def propose(
    cur: duckdb.DuckDBPyConnection,
    family_id: int,
    child_id: int | None,
    kind: ChangeKind,
    payload: str,
    user_id: int,
    now_utc: datetime,
) -> int:
    """Record a proposal; a pending one of the same family, child and kind is replaced by it."""
    found = cur.execute(
        """UPDATE pending_changes SET payload = $payload, submitted_by = $user, submitted_at = $now
           WHERE family_id = $family AND child_id IS NOT DISTINCT FROM $child AND kind = $kind AND state = $pending
           RETURNING id""",
        {
            "payload": payload,
            "user": user_id,
            "now": now_utc,
            "family": family_id,
            "child": child_id,
            "kind": kind.value,
            "pending": ChangeState.PENDING.value,
        },
    ).fetchall()
    if found:
        return found[0][0]
    return cur.execute(
        """INSERT INTO pending_changes (family_id, child_id, kind, payload, submitted_by, submitted_at, state)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [family_id, child_id, kind.value, payload, user_id, now_utc, ChangeState.PENDING.value],
    ).fetchall()[0][0]


CHANGES = dialects(
    duckdb=f"""{_CHANGE} WHERE ($family IS NULL OR p.family_id = $family) AND ($state IS NULL OR p.state = $state)
            ORDER BY p.submitted_at, p.id""",
    # PostgreSQL wants a parameter's type where it is only tested for NULL
    postgresql=f"""{_CHANGE} WHERE ($family::BIGINT IS NULL OR p.family_id = $family)
            AND ($state::VARCHAR IS NULL OR p.state = $state) ORDER BY p.submitted_at, p.id""",
)


def changes(db: Database, family_id: int | None, state: ChangeState | None) -> list[PendingChange]:
    """Proposals of one family (or all, `family_id` None) in one state (or all), oldest first."""
    rows = db.rows(
        CHANGES,
        {"family": family_id, "state": None if state is None else state.value},
    )
    return [_change(r) for r in rows]


def change(cur: duckdb.DuckDBPyConnection, change_id: int) -> PendingChange | None:
    found = cur.execute(f"{_CHANGE} WHERE p.id = ?", [change_id]).fetchall()
    return _change(found[0]) if found else None


def decide(
    cur: duckdb.DuckDBPyConnection,
    change_id: int,
    state: ChangeState,
    user_id: int,
    now_utc: datetime,
    note: str | None,
) -> bool:
    """Close a pending proposal; False if it was no longer pending (decided meanwhile)."""
    return bool(
        cur.execute(
            """UPDATE pending_changes SET state = ?, decided_by = ?, decided_at = ?, note = ?
               WHERE id = ? AND state = ? RETURNING id""",
            [state.value, user_id, now_utc, note, change_id, ChangeState.PENDING.value],
        ).fetchall()
    )


# --- the family's own data, for its right of access -------------------------------------------------


# The invoices' frame carries, for the service's `invoicing.invoice_visible` (a split bill's guardian
# gets only his own invoices), two columns it drops before writing the file.
SPLIT_FAMILY = "split_family"
PAYER_USER = "payer_user_id"


def export_frames(db: Database, family_id: int) -> dict[str, pd.DataFrame]:
    """Every table of the family's own data, one frame each, with French column names (its health
    data: lib.store.health.export_frames)."""
    params = {"family": family_id}
    queries = {
        "famille": """SELECT name AS nom, town_ref AS identifiant_mairie, billing AS facturation,
                             quotient_familial, created_at AS cree_le FROM families WHERE id = $family""",
        "responsables": """SELECT rank AS rang, first_name AS prenom, last_name AS nom, email, phone AS telephone,
                                  address AS adresse FROM guardians WHERE family_id = $family ORDER BY rank""",
        "enfants": """SELECT id, first_name AS prenom, last_name AS nom, birth_date AS naissance, school_class AS classe,
                             diet_code AS regime, town_ref AS identifiant_mairie, archived_at AS archive_le
                      FROM children WHERE family_id = $family ORDER BY birth_date""",
        "quotient_familial": """SELECT qf, valid_from AS depuis, source, allocataire_no AS numero_allocataire,
                                       recorded_at AS enregistre_le
                                FROM family_quotients WHERE family_id = $family ORDER BY valid_from, id""",
        "contacts": """SELECT name AS nom, relation AS lien, phone AS telephone, emergency AS urgence,
                              pickup AS autorise_a_venir_chercher, child_id AS enfant, archived_at AS archive_le
                       FROM contacts WHERE family_id = $family ORDER BY id""",
        "autorisations": """SELECT child_id AS enfant, kind AS autorisation, granted AS accordee, changed_at AS le
                            FROM consents WHERE family_id = $family ORDER BY child_id, kind""",
        "inscriptions": dialects(
            duckdb="""SELECT r.child_id AS enfant, y.label AS annee, s.name AS structure,
                                  string_agg(sv.name, ' | ' ORDER BY sv.sort_order) AS prestations
                           FROM registrations r JOIN children c ON c.id = r.child_id
                           JOIN school_years y ON y.id = r.school_year_id JOIN sites s ON s.id = r.site_id
                           LEFT JOIN registration_services rs ON rs.registration_id = r.id
                           LEFT JOIN services sv ON sv.id = rs.service_id
                           WHERE c.family_id = $family GROUP BY ALL ORDER BY r.child_id, y.label""",
            postgresql="""SELECT r.child_id AS enfant, y.label AS annee, s.name AS structure,
                                  string_agg(sv.name, ' | ' ORDER BY sv.sort_order) AS prestations
                           FROM registrations r JOIN children c ON c.id = r.child_id
                           JOIN school_years y ON y.id = r.school_year_id JOIN sites s ON s.id = r.site_id
                           LEFT JOIN registration_services rs ON rs.registration_id = r.id
                           LEFT JOIN services sv ON sv.id = rs.service_id
                           WHERE c.family_id = $family GROUP BY r.child_id, y.label, s.name
                           ORDER BY r.child_id, y.label""",
        ),
        "reservations": """SELECT b.child_id AS enfant, sv.name AS prestation, b.day AS jour, b.state AS etat
                           FROM bookings b JOIN children c ON c.id = b.child_id JOIN services sv ON sv.id = b.service_id
                           WHERE c.family_id = $family ORDER BY b.day, b.child_id, sv.sort_order""",
        "factures": f"""SELECT i.number AS numero, i.kind AS type, i.period_month AS mois, i.issue_date AS emise_le,
                               i.due_date AS echeance, i.total_cents AS total_centimes,
                               f.billing = {SPLIT} AS {SPLIT_FAMILY}, g.user_id AS {PAYER_USER}
                        FROM invoices i JOIN families f ON f.id = i.family_id
                        LEFT JOIN guardians g ON g.id = i.payer_guardian_id
                        WHERE i.family_id = $family ORDER BY i.year, i.seq""",
        "paiements": """SELECT i.number AS facture, p.paid_at AS paye_le, p.amount_cents AS montant_centimes,
                               p.method AS moyen
                        FROM payments p JOIN invoices i ON i.id = p.invoice_id
                        WHERE i.family_id = $family ORDER BY p.paid_at, p.id""",
        "demandes": """SELECT kind AS objet, submitted_at AS envoyee_le, state AS etat, decided_at AS decidee_le,
                              note FROM pending_changes WHERE family_id = $family ORDER BY submitted_at""",
    }
    return {name: db.frame(sql, params) for name, sql in queries.items()}


# --- bulk loads ------------------------------------------------------------------------------------


def guardians_from_accounts(cur: duckdb.DuckDBPyConnection) -> int:
    """A bulk load that writes families and their accounts directly (the demo town) gives each
    family without guardians the guardians and QF history that migration 009 gave the families of
    its time: its accounts (at most two) as guardians, the family's contact details on guardian 1,
    its QF as the history's first line. How many guardians were made."""
    made = cur.execute(
        """
        INSERT INTO guardians (family_id, rank, first_name, last_name, email, phone, address, user_id)
        WITH accounts AS (
            SELECT u.*, row_number() OVER (PARTITION BY u.family_id ORDER BY u.id) AS rank
            FROM users u WHERE u.family_id IS NOT NULL
        )
        SELECT f.id, coalesce(a.rank, 1),
               coalesce(regexp_extract(trim(a.display_name), '^(.*\\S)\\s+\\S+$', 1), ''),
               coalesce(regexp_extract(trim(a.display_name), '(\\S+)$', 1), regexp_replace(f.name, '^Famille\\s+', '')),
               CASE WHEN coalesce(a.rank, 1) = 1 THEN coalesce(f.email, a.email) ELSE a.email END,
               CASE WHEN coalesce(a.rank, 1) = 1 THEN f.phone END,
               CASE WHEN coalesce(a.rank, 1) = 1 THEN f.address END,
               a.id
        FROM families f LEFT JOIN accounts a ON a.family_id = f.id AND a.rank <= 2
        WHERE NOT EXISTS (SELECT 1 FROM guardians g WHERE g.family_id = f.id)
        RETURNING 1
        """
    ).fetchall()
    cur.execute(
        """INSERT INTO family_quotients (family_id, qf, valid_from, source, recorded_at)
           SELECT id, quotient_familial, created_at::DATE, ?, created_at FROM families f
           WHERE quotient_familial IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM family_quotients q WHERE q.family_id = f.id)""",
        [QfSource.AUTRE.value],
    )
    return len(made)
