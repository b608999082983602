"""Children's health (PAI) and the changes families propose: the only module that names
`child_health` and `child_health_requests` (tests/store/test_health_store.py checks it), so that
no other query can carry health data by accident — the kitchen's, the exports', the journal's."""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import pandas as pd

from lib.domain.health import ChildHealth, HealthRecord, HealthRequest, RequestState
from lib.store.bulk import insert_frame
from lib.store.db import Database
from lib.store.sql import dialects, quoted

PENDING = quoted(RequestState.PENDING)
_RECORD = "h.has_pai, h.allergies, h.protocol, h.meal_basket, h.doctor_name, h.doctor_phone, h.valid_until"


def _record(row: tuple) -> HealthRecord:
    has_pai, allergies, protocol, meal_basket, doctor_name, doctor_phone, valid_until = row
    return HealthRecord(
        bool(has_pai),
        allergies or "",
        protocol or "",
        bool(meal_basket),
        doctor_name or "",
        doctor_phone or "",
        valid_until,
    )


def for_children(db: Database, child_ids: list[int]) -> list[ChildHealth]:
    """The stored records of these children, by class and name (children without one are absent)."""
    rows = db.rows(
        f"""SELECT c.id, c.first_name, c.last_name, {_RECORD}, h.updated_at
            FROM child_health h JOIN children c ON c.id = h.child_id
            WHERE list_contains($ids, h.child_id)
            ORDER BY c.school_class, c.last_name, c.first_name""",
        {"ids": child_ids},
    )
    return [ChildHealth(r[0], r[1], r[2], _record(r[3:10]), r[10]) for r in rows]


def record_of(cur: duckdb.DuckDBPyConnection, child_id: int) -> HealthRecord | None:
    found = cur.execute(f"SELECT {_RECORD} FROM child_health h WHERE h.child_id = ?", [child_id]).fetchall()
    return _record(found[0]) if found else None


def pai_children(db: Database, child_ids: list[int]) -> set[int]:
    """Which of these children have a signed PAI: a flag for a list, not the content."""
    rows = db.rows("SELECT child_id FROM child_health WHERE has_pai AND list_contains(?, child_id)", [child_ids])
    return {r[0] for r in rows}


def save(cur: duckdb.DuckDBPyConnection, child_id: int, record: HealthRecord, user_id: int, at: datetime) -> None:
    cur.execute(
        """INSERT INTO child_health (child_id, has_pai, allergies, protocol, meal_basket, doctor_name, doctor_phone,
                                     valid_until, updated_by, updated_at)
           VALUES ($child, $has_pai, $allergies, $protocol, $meal_basket, $doctor_name, $doctor_phone,
                   $valid_until, $user, $at)
           ON CONFLICT (child_id) DO UPDATE SET has_pai = excluded.has_pai, allergies = excluded.allergies,
             protocol = excluded.protocol, meal_basket = excluded.meal_basket, doctor_name = excluded.doctor_name,
             doctor_phone = excluded.doctor_phone, valid_until = excluded.valid_until,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
        {
            "child": child_id,
            "has_pai": record.has_pai,
            "allergies": record.allergies or None,
            "protocol": record.protocol or None,
            "meal_basket": record.meal_basket,
            "doctor_name": record.doctor_name or None,
            "doctor_phone": record.doctor_phone or None,
            "valid_until": record.valid_until,
            "user": user_id,
            "at": at,
        },
    )


def load(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """A bulk load's records (the demo town, the benchmark's city), columns named as the table's."""
    return insert_frame(cur, "child_health", frame)


# --- changes proposed by families --------------------------------------------------------------

_REQUEST = """
    SELECT r.id, r.child_id, c.first_name, c.last_name, f.name, r.payload, r.submitted_at, r.state,
           r.decided_at, r.note
    FROM child_health_requests r JOIN children c ON c.id = r.child_id JOIN families f ON f.id = c.family_id"""


def _request(row: tuple) -> HealthRequest:
    payload = json.loads(row[5]) if row[5] else None
    proposed = None
    if payload is not None:
        valid_until = payload.get("valid_until")
        proposed = HealthRecord(**{**payload, "valid_until": date.fromisoformat(valid_until) if valid_until else None})
    return HealthRequest(row[0], row[1], row[2], row[3], row[4], proposed, row[6], RequestState(row[7]), row[8], row[9])


def submit(cur: duckdb.DuckDBPyConnection, child_id: int, record: HealthRecord, user_id: int, at: datetime) -> int:
    """The family's proposal for the child; it replaces one still waiting. Its id."""
    payload = json.dumps(record.payload(), ensure_ascii=False)
    waiting = cur.execute(
        f"SELECT id FROM child_health_requests WHERE child_id = ? AND state = {PENDING}", [child_id]
    ).fetchall()
    if waiting:
        cur.execute(
            "UPDATE child_health_requests SET payload = ?, submitted_by = ?, submitted_at = ? WHERE id = ?",
            [payload, user_id, at, waiting[0][0]],
        )
        return int(waiting[0][0])
    found = cur.execute(
        f"""INSERT INTO child_health_requests (child_id, payload, submitted_by, submitted_at, state)
            VALUES (?, ?, ?, ?, {PENDING}) RETURNING id""",
        [child_id, payload, user_id, at],
    ).fetchall()
    return int(found[0][0])


def pending(db: Database) -> list[HealthRequest]:
    """Every proposal waiting for the staff, oldest first."""
    return [_request(r) for r in db.rows(f"{_REQUEST} WHERE r.state = {PENDING} ORDER BY r.submitted_at, r.id")]


def pending_by_id(cur: duckdb.DuckDBPyConnection, request_id: int) -> HealthRequest | None:
    found = cur.execute(f"{_REQUEST} WHERE r.id = ? AND r.state = {PENDING}", [request_id]).fetchall()
    return _request(found[0]) if found else None


LATEST_REQUESTS = dialects(
    duckdb=f"""{_REQUEST} WHERE r.child_id = ?
            QUALIFY row_number() OVER (PARTITION BY r.state = {PENDING} ORDER BY r.submitted_at DESC, r.id DESC) = 1
            ORDER BY r.state = {PENDING} DESC""",
    postgresql=f"""SELECT DISTINCT ON (q.state = {PENDING}) q.* FROM ({_REQUEST} WHERE r.child_id = ?) q
            ORDER BY q.state = {PENDING} DESC, q.submitted_at DESC, q.id DESC""",
)


def latest_requests(db: Database, child_id: int) -> list[HealthRequest]:
    """The child's proposal waiting, if any, then its last decided one."""
    rows = db.rows(LATEST_REQUESTS, [child_id])
    return [_request(r) for r in rows]


def decide(
    cur: duckdb.DuckDBPyConnection, request_id: int, state: RequestState, user_id: int, at: datetime, note: str | None
) -> None:
    """Close a waiting proposal; its payload goes (what was accepted now lives in child_health)."""
    cur.execute(
        f"""UPDATE child_health_requests SET state = ?, decided_by = ?, decided_at = ?, note = ?, payload = NULL
            WHERE id = ? AND state = {PENDING}""",
        [state.value, user_id, at, note, request_id],
    )


# --- retention ---------------------------------------------------------------------------------------


def registered_now(cur: duckdb.DuckDBPyConnection, child_id: int, today: date) -> bool:
    """The child has a registration in a school year not over on `today` (the current or a later one)."""
    found = cur.execute(
        """SELECT 1 FROM registrations r JOIN school_years y ON y.id = r.school_year_id
           WHERE r.child_id = ? AND y.end_date >= ? LIMIT 1""",
        [child_id, today],
    ).fetchall()
    return bool(found)


def unregistered(cur: duckdb.DuckDBPyConnection, ended_after: date) -> list[int]:
    """Children holding health data or proposals that are archived, or have no registration in a
    school year ending on `ended_after` or later."""
    rows = cur.execute(
        """SELECT k.child_id
           FROM (SELECT child_id FROM child_health UNION SELECT child_id FROM child_health_requests) k
           LEFT JOIN children c ON c.id = k.child_id
           WHERE c.archived_at IS NOT NULL
              OR NOT EXISTS (SELECT 1 FROM registrations r JOIN school_years y ON y.id = r.school_year_id
                             WHERE r.child_id = k.child_id AND y.end_date >= ?)
           ORDER BY k.child_id""",
        [ended_after],
    ).fetchall()
    return [r[0] for r in rows]


def purge(cur: duckdb.DuckDBPyConnection, child_ids: list[int]) -> list[int]:
    """Forget these children's health records and every proposal of theirs (a refusal's note too);
    which of them had any, in id order."""
    records = cur.execute(
        "DELETE FROM child_health WHERE list_contains(?, child_id) RETURNING child_id", [child_ids]
    ).fetchall()
    requests = cur.execute(
        "DELETE FROM child_health_requests WHERE list_contains(?, child_id) RETURNING child_id", [child_ids]
    ).fetchall()
    return sorted({r[0] for r in records + requests})


# --- the family's right of access --------------------------------------------------------------------


def export_frames(db: Database, family_id: int) -> dict[str, pd.DataFrame]:
    """The health data of the family's children, for its own export: their records and their
    proposals (a waiting one with what it proposes, a decided one with its note)."""
    params = {"family": family_id}
    return {
        "sante": db.frame(
            """SELECT h.child_id AS enfant, c.first_name AS prenom, h.has_pai AS pai_signe, h.allergies,
                      h.protocol AS protocole, h.meal_basket AS panier_repas, h.doctor_name AS medecin,
                      h.doctor_phone AS telephone_medecin, h.valid_until AS valable_jusqu_au,
                      h.updated_at AS modifie_le
               FROM child_health h JOIN children c ON c.id = h.child_id
               WHERE c.family_id = $family ORDER BY h.child_id""",
            params,
        ),
        "demandes_sante": db.frame(
            """SELECT r.child_id AS enfant, c.first_name AS prenom, r.submitted_at AS envoyee_le, r.state AS etat,
                      r.payload AS correction_proposee, r.decided_at AS decidee_le, r.note
               FROM child_health_requests r JOIN children c ON c.id = r.child_id
               WHERE c.family_id = $family ORDER BY r.submitted_at, r.id""",
            params,
        ),
    }


# The children who bring a PAI packed lunch (their family brings the meal), until their PAI's end date
# (NULL: none): a flag for the month's invoicing (lib/store/invoices.py), never a health value.
BASKET_CHILDREN = "(SELECT child_id, valid_until FROM child_health WHERE has_pai AND meal_basket)"
