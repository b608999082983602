"""The cash desk's rows: who holds the régisseur right, the invoices a régisseur looks up, the
receipts (one per ledger row taken or cancelled at the counter) and the day's journal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from lib.domain.invoicing import Kind
from lib.domain.roles import Role
from lib.store.db import Database, dicts
from lib.store.invoices import CREDITED_CENTS, PAID_CENTS
from lib.store.sql import dialects, quoted

_STAFF_HOLDERS = f"({quoted(Role.AGENT, Role.ADMIN)})"  # the roles that may hold the régisseur right
_INVOICE = quoted(Kind.INVOICE)

# --- the régisseur right -------------------------------------------------------------------------


def is_regisseur(cur: duckdb.DuckDBPyConnection, user_id: int) -> bool:
    """Whether the account holds the right now (read in the transaction that uses it: a right
    withdrawn a second ago no longer records anything)."""
    found = cur.execute(
        f"SELECT regisseur FROM users WHERE id = ? AND active AND role IN {_STAFF_HOLDERS}", [user_id]
    ).fetchall()
    return bool(found and found[0][0])


def staff_accounts(db: Database) -> list[dict]:
    """The accounts that may hold the right (agents and administrators), active ones first by name."""
    return db.dicts(
        f"""SELECT id, display_name, email, role, regisseur, active FROM users
            WHERE role IN {_STAFF_HOLDERS} ORDER BY NOT active, display_name, id"""
    )


def staff_account(cur: duckdb.DuckDBPyConnection, user_id: int) -> dict | None:
    """Any account by id, with its role (the service says which roles may hold the right)."""
    found = dicts(cur, "SELECT id, display_name, role, regisseur, active FROM users WHERE id = ?", [user_id])
    return found[0] if found else None


def set_regisseur(cur: duckdb.DuckDBPyConnection, user_id: int, holds: bool) -> None:
    cur.execute("UPDATE users SET regisseur = ? WHERE id = ?", [holds, user_id])


# --- invoices at the counter ---------------------------------------------------------------------

_INVOICE_COLUMNS = f"""
    i.id, i.number, i.kind, i.family_id, f.name AS family, i.period_month, i.due_date, i.total_cents,
    {PAID_CENTS} AS paid_cents, {CREDITED_CENTS} AS credited_cents,
    coalesce(trim(g.first_name || ' ' || g.last_name), '') AS payer_name
"""
_INVOICE_FROM = """
    FROM invoices i JOIN families f ON f.id = i.family_id LEFT JOIN guardians g ON g.id = i.payer_guardian_id
"""


_FIND_INVOICES = f"""
        WITH text AS (
            SELECT f.id, strip_accents(lower(concat_ws(' ', f.name,
                       (SELECT string_agg(concat_ws(' ', h.first_name, h.last_name), ' ')
                        FROM guardians h WHERE h.family_id = f.id)))) AS words
            FROM families f
        )
        SELECT {_INVOICE_COLUMNS} {_INVOICE_FROM} JOIN text t ON t.id = f.id
        WHERE i.kind = {_INVOICE} AND (
            {{matches}})
        ORDER BY {PAID_CENTS} + {CREDITED_CENTS} >= i.total_cents, i.period_month DESC, i.number DESC LIMIT $limit
        """
FIND_INVOICES = dialects(
    duckdb=_FIND_INVOICES.format(
        matches="""list_contains($numbers, i.number)
            OR (len($words) > 0 AND list_bool_and([t.words LIKE '%' || w || '%' FOR w IN $words]))"""
    ),
    postgresql=_FIND_INVOICES.format(
        matches="""i.number = ANY($numbers::TEXT[])
            OR (cardinality($words::TEXT[]) > 0
                AND (SELECT bool_and(t.words LIKE '%' || w || '%') FROM unnest($words::TEXT[]) AS w))"""
    ),
)


def find_invoices(db: Database, words: list[str], numbers: list[str], limit: int) -> list[dict]:
    """Invoices (not credit notes) whose number is one of `numbers`, or where every word of `words`
    (folded: lower case, no accents) is in the family's name or one of its guardians' names; those
    still owing first, then the latest first."""
    return db.dicts(FIND_INVOICES, {"words": words, "numbers": numbers, "limit": limit})


def invoice_at_counter(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> dict | None:
    """One invoice or credit note with what it received, its family and payer; None if unknown."""
    found = dicts(cur, f"SELECT {_INVOICE_COLUMNS} {_INVOICE_FROM} WHERE i.id = ?", [invoice_id])
    return found[0] if found else None


# --- receipts --------------------------------------------------------------------------------------


def receipt_for_key(cur: duckdb.DuckDBPyConnection, key: str) -> int | None:
    """The receipt a form already produced (its idempotency key), if it was submitted before."""
    found = cur.execute("SELECT id FROM cash_receipts WHERE idempotency_key = ?", [key]).fetchall()
    return found[0][0] if found else None


def number_used(cur: duckdb.DuckDBPyConnection, number: str) -> bool:
    return bool(cur.execute("SELECT 1 FROM cash_receipts WHERE number = ?", [number]).fetchall())


def sequence_state(cur: duckdb.DuckDBPyConnection, year: int) -> tuple[int, int, int]:
    """(receipts, distinct numbers, highest number) of a year's portal numbering (a paper book's
    receipts are outside it), as lib.domain.invoicing.sequence_after reads it."""
    return tuple(
        cur.execute(
            "SELECT count(seq), count(DISTINCT seq), coalesce(max(seq), 0) FROM cash_receipts WHERE year = ?", [year]
        ).fetchall()[0]
    )


def insert_receipt(
    cur: duckdb.DuckDBPyConnection,
    *,
    number: str,
    year: int,
    seq: int | None,
    payment_id: int,
    payer_name: str,
    key: str,
    at_utc: datetime,
    user_id: int,
    bank: str | None = None,
    cheque_number: str | None = None,
    drawer: str | None = None,
    cesu_count: int | None = None,
    transfer_ref: str | None = None,
) -> int:
    return cur.execute(
        """INSERT INTO cash_receipts (number, year, seq, payment_id, payer_name, bank, cheque_number, drawer,
                                      cesu_count, transfer_ref, idempotency_key, issued_at, issued_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [
            number,
            year,
            seq,
            payment_id,
            payer_name,
            bank,
            cheque_number,
            drawer,
            cesu_count,
            transfer_ref,
            key,
            at_utc,
            user_id,
        ],
    ).fetchall()[0][0]


_RECEIPTS = """
    SELECT r.id, r.number, r.issued_at, r.payer_name, r.bank, r.cheque_number, r.drawer, r.cesu_count,
           r.transfer_ref, r.issued_by, u.display_name AS regisseur, p.id AS payment_id, p.amount_cents, p.method,
           p.reason, i.id AS invoice_id, i.number AS invoice_number, f.name AS family,
           (SELECT o.number FROM cash_receipts o WHERE o.payment_id = p.cancels_payment_id) AS cancels_number,
           (SELECT o.number FROM cash_receipts o JOIN payments c ON c.id = o.payment_id
            WHERE c.cancels_payment_id = p.id) AS cancelled_by
    FROM cash_receipts r
    JOIN payments p ON p.id = r.payment_id
    JOIN invoices i ON i.id = p.invoice_id
    JOIN families f ON f.id = i.family_id
    JOIN users u ON u.id = r.issued_by
"""


_RECEIPTS_BY_ID = dialects(
    duckdb=_RECEIPTS + " WHERE list_contains($ids, r.id) ORDER BY r.issued_at, r.id",
    postgresql=_RECEIPTS + " WHERE r.id = ANY($ids::BIGINT[]) ORDER BY r.issued_at, r.id",
)
_DAY_RECEIPTS = dialects(
    duckdb=_RECEIPTS + " WHERE r.issued_at >= $start AND r.issued_at < $end"
    " AND ($who IS NULL OR r.issued_by = $who) ORDER BY r.issued_at, r.id",
    postgresql=_RECEIPTS + " WHERE r.issued_at >= $start AND r.issued_at < $end"
    " AND ($who::BIGINT IS NULL OR r.issued_by = $who) ORDER BY r.issued_at, r.id",
)


def receipts(db_or_cur: Database | duckdb.DuckDBPyConnection, ids: Sequence[int]) -> list[dict]:
    """Receipts by id, in issue order."""
    return dicts(db_or_cur, _RECEIPTS_BY_ID, {"ids": list(ids)})


def day_receipts(db: Database, start_utc: datetime, end_utc: datetime, regisseur_id: int | None) -> list[dict]:
    """The receipts issued in [start, end) (a Paris day), by one régisseur or all, in issue order."""
    return db.dicts(
        _DAY_RECEIPTS,
        {"start": start_utc, "end": end_utc, "who": regisseur_id},
    )


def invoice_receipts(db: Database, invoice_id: int) -> list[dict]:
    """An invoice's receipts (payments at the counter and their cancellations), in issue order."""
    return db.dicts(_RECEIPTS + " WHERE i.id = $invoice ORDER BY r.issued_at, r.id", {"invoice": invoice_id})


def issuers(db: Database) -> list[tuple[int, str]]:
    """Everyone who issued a receipt or holds the right: the journal's choice of régisseur."""
    return db.rows(
        """SELECT id, display_name FROM users
           WHERE regisseur OR id IN (SELECT issued_by FROM cash_receipts) ORDER BY display_name, id"""
    )
