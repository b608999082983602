"""Invoices, their lines, payments and online payment attempts."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

from lib.store.bulk import insert_frame
from lib.store.db import Database, dicts
from lib.store.sql import OPEN_DAY


# --- computing a month -------------------------------------------------------------------------

def billable_counts(cur: duckdb.DuckDBPyConnection, first: date, after: date, credit_justified: bool) -> list[tuple]:
    """Days to bill per family × child × service for [first, after): booked days, not on a
    closure, less justified absences when the town credits them. One aggregation in SQL."""
    return cur.execute(
        f"""
        SELECT c.family_id, b.child_id, b.service_id, count(*)::INTEGER AS quantity,
               f.quotient_familial, c.first_name, s.name AS service_name, s.unit_price_cents AS default_price
        FROM bookings b
        JOIN children c ON c.id = b.child_id
        JOIN families f ON f.id = c.family_id
        JOIN services s ON s.id = b.service_id
        WHERE b.state = 'booked' AND b.day >= $first AND b.day < $after AND {OPEN_DAY}
          AND NOT ($credit AND EXISTS (SELECT 1 FROM attendance a WHERE a.child_id = b.child_id
                   AND a.service_id = b.service_id AND a.day = b.day AND a.status = 'justified'))
        GROUP BY ALL
        """,
        {"first": first, "after": after, "credit": credit_justified},
    ).fetchall()


def billed_quantities(cur: duckdb.DuckDBPyConnection, period: date) -> list[tuple]:
    """What the documents already issued for a month bill, per family × child × service (credit
    notes count negative), with the unit price billed last."""
    return cur.execute(
        """
        SELECT i.family_id, l.child_id, l.service_id, sum(l.quantity)::INTEGER AS billed,
               arg_max(l.unit_price_cents, l.invoice_id * 1000 + l.line_no) AS billed_price
        FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
        WHERE i.period_month = ?
        GROUP BY ALL
        """,
        [period],
    ).fetchall()


def line_names(cur: duckdb.DuckDBPyConnection, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """"Léa — Restauration scolaire" for each (child, service) of `pairs`."""
    if not pairs:
        return {}
    rows = cur.execute("SELECT c.id, s.id, c.first_name || ' — ' || s.name FROM children c, services s "
                       "WHERE c.id IN (SELECT unnest(?)) AND s.id IN (SELECT unnest(?))",
                       [sorted({p[0] for p in pairs}), sorted({p[1] for p in pairs})]).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def family_names(cur: duckdb.DuckDBPyConnection, ids: set[int]) -> dict[int, str]:
    # IN (SELECT unnest(?)) is a hash join; list_contains(?, id) compared every family with every
    # id of the list (31,000 × 31,000 at city scale: a second and a half).
    return dict(cur.execute("SELECT id, name FROM families WHERE id IN (SELECT unnest(?))", [sorted(ids)]).fetchall())


def first_invoice_of_month(cur: duckdb.DuckDBPyConnection, period: date) -> dict[int, int]:
    """Family → its first invoice for the month (what a credit note corrects)."""
    return dict(cur.execute("SELECT family_id, min(id) FROM invoices WHERE period_month = ? AND kind = 'invoice' "
                            "GROUP BY family_id", [period]).fetchall())


def tariffs(cur: duckdb.DuckDBPyConnection) -> list[tuple[int, int | None, int]]:
    return cur.execute("SELECT service_id, qf_max, price_cents FROM tariffs").fetchall()


def used_sequences(cur: duckdb.DuckDBPyConnection, year: int) -> list[int]:
    return [r[0] for r in cur.execute("SELECT seq FROM invoices WHERE year = ? ORDER BY seq", [year]).fetchall()]


def next_invoice_id(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT coalesce(max(id), 0) + 1 FROM invoices").fetchall()[0][0]


def insert_documents(cur: duckdb.DuckDBPyConnection, documents: pd.DataFrame, lines: pd.DataFrame) -> None:
    insert_frame(cur, "invoices", documents)
    insert_frame(cur, "invoice_lines", lines)


# --- reading -------------------------------------------------------------------------------------

_SUMMARY = """
    SELECT i.id, i.number, i.kind, i.family_id, i.period_month, i.issue_date, i.due_date, i.total_cents,
           coalesce((SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id), 0)::INTEGER AS paid_cents,
           coalesce((SELECT -sum(k.total_cents) FROM invoices k WHERE k.corrects_invoice_id = i.id), 0)::INTEGER
             AS credited_cents,
           EXISTS (SELECT 1 FROM payment_transactions t WHERE t.invoice_id = i.id AND t.state = 'pending'
                   AND t.created_at > $pending_since) AS payment_pending
    FROM invoices i
"""


def family_invoices(db: Database, family_id: int, pending_since: datetime) -> list[dict]:
    return db.dicts(_SUMMARY + " WHERE i.family_id = $family ORDER BY i.issue_date DESC, i.id DESC",
                    {"family": family_id, "pending_since": pending_since})


def invoice_summary(db_or_cur, invoice_id: int, pending_since: datetime) -> dict | None:
    params = {"id": invoice_id, "pending_since": pending_since}
    sql = _SUMMARY + " WHERE i.id = $id"
    found = dicts(db_or_cur, sql, params)
    return found[0] if found else None


def month_documents(db: Database, period: date) -> list[dict]:
    return db.dicts(
        """SELECT i.number, i.kind, f.name AS family, i.total_cents, i.issue_date FROM invoices i
           JOIN families f ON f.id = i.family_id WHERE i.period_month = ? ORDER BY i.seq""",
        [period],
    )


def invoice_lines(db: Database, invoice_id: int) -> list[dict]:
    return db.dicts(
        """SELECT l.line_no, l.child_id, c.first_name, c.last_name, s.name AS service, l.label, l.quantity,
                  l.unit_price_cents, l.amount_cents
           FROM invoice_lines l JOIN children c ON c.id = l.child_id JOIN services s ON s.id = l.service_id
           WHERE l.invoice_id = ? ORDER BY l.line_no""",
        [invoice_id],
    )


def invoice_payments(db: Database, invoice_id: int) -> list[dict]:
    return db.dicts("SELECT amount_cents, paid_at, method FROM payments WHERE invoice_id = ? ORDER BY paid_at",
                    [invoice_id])


def family(db_or_cur, family_id: int) -> dict | None:
    sql = "SELECT id, name, email, phone, address, quotient_familial, payment_right, payment_right_at FROM families WHERE id = ?"
    found = dicts(db_or_cur, sql, [family_id])
    return found[0] if found else None


# --- payment right ---------------------------------------------------------------------------------

def set_payment_right(cur: duckdb.DuckDBPyConnection, family_id: int, value: str, at_utc: datetime) -> None:
    cur.execute("UPDATE families SET payment_right = ?, payment_right_at = ? WHERE id = ?", [value, at_utc, family_id])


def payment_right_requests(db: Database) -> list[dict]:
    return db.dicts(
        """SELECT f.id, f.name, f.email, f.payment_right, f.payment_right_at FROM families f
           WHERE f.payment_right IN ('requested', 'granted', 'refused')
           ORDER BY f.payment_right <> 'requested', f.payment_right_at DESC"""
    )


# --- payment attempts ---------------------------------------------------------------------------

def transaction_by_ref(cur: duckdb.DuckDBPyConnection, ref: str) -> dict | None:
    found = dicts(cur, "SELECT * FROM payment_transactions WHERE transaction_ref = ?", [ref])
    return found[0] if found else None


def transaction_by_key(cur: duckdb.DuckDBPyConnection, key: str) -> dict | None:
    found = dicts(cur, "SELECT * FROM payment_transactions WHERE idempotency_key = ?", [key])
    return found[0] if found else None


def lock_invoice(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> None:
    cur.execute("""INSERT INTO payment_locks VALUES (?, 1)
                   ON CONFLICT (invoice_id) DO UPDATE SET version = payment_locks.version + 1""", [invoice_id])


def pending_for_invoice(cur: duckdb.DuckDBPyConnection, invoice_id: int, since: datetime) -> dict | None:
    found = dicts(cur, """SELECT * FROM payment_transactions WHERE invoice_id = ? AND state = 'pending'
                           AND created_at > ? ORDER BY created_at DESC LIMIT 1""", [invoice_id, since])
    return found[0] if found else None


def insert_transaction(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    columns = ", ".join(row)
    cur.execute(f"INSERT INTO payment_transactions ({columns}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()))


def update_transaction(cur: duckdb.DuckDBPyConnection, tx_id: int, state: str, at_utc: datetime,
                       provider_data: str | None, message: str | None) -> None:
    cur.execute(
        """UPDATE payment_transactions SET state = ?, updated_at = ?, provider_data = coalesce(?, provider_data),
                  provider_message = coalesce(?, provider_message) WHERE id = ?""",
        [state, at_utc, provider_data, message, tx_id],
    )


def insert_payment(cur: duckdb.DuckDBPyConnection, invoice_id: int, amount_cents: int, paid_at_utc: datetime,
                   method: str, transaction_id: int | None, user_id: int | None) -> None:
    cur.execute(
        "INSERT INTO payments (invoice_id, amount_cents, paid_at, method, transaction_id, recorded_by) VALUES (?, ?, ?, ?, ?, ?)",
        [invoice_id, amount_cents, paid_at_utc, method, transaction_id, user_id],
    )


def paid_cents(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> int:
    return cur.execute("SELECT coalesce(sum(amount_cents), 0) FROM payments WHERE invoice_id = ?",
                       [invoice_id]).fetchall()[0][0]


def stale_pending(db: Database, before: datetime, family_id: int | None) -> list[dict]:
    return db.dicts(
        """SELECT t.*, i.number FROM payment_transactions t JOIN invoices i ON i.id = t.invoice_id
           WHERE t.state = 'pending' AND t.created_at < $before AND ($family IS NULL OR t.family_id = $family)
           ORDER BY t.created_at""",
        {"before": before, "family": family_id},
    )


def transaction_for_family(db: Database, ref: str, family_id: int) -> dict | None:
    found = db.dicts(
        """SELECT t.state, t.provider_message, i.number FROM payment_transactions t JOIN invoices i ON i.id = t.invoice_id
           WHERE t.transaction_ref = ? AND t.family_id = ?""",
        [ref, family_id],
    )
    return found[0] if found else None
