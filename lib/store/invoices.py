"""Invoices, their lines, payments and online payment attempts."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

from lib.store.bulk import insert_frame
from lib.store.db import Database, dicts
from lib.store.sql import OPEN_DAY


# --- computing a month -------------------------------------------------------------------------

def price_keys(cur: duckdb.DuckDBPyConnection) -> list[tuple[int, int | None, int]]:
    """Every (service, quotient familial) a family may bill at, with the service's unit price:
    the tariff rule (lib.domain.invoicing.tariff_for) prices these few dozen pairs, not each line."""
    return cur.execute("SELECT s.id, q.qf, s.unit_price_cents FROM services s, "
                       "(SELECT DISTINCT quotient_familial AS qf FROM families) q").fetchall()


def month_changes(cur: duckdb.DuckDBPyConnection, first: date, after: date, credit_justified: bool,
                  prices: list[tuple[int, int | None, int]]) -> list[tuple]:
    """What a month still needs billed, per family × child × service, ordered: (family_id, family
    name, child_id, service_id, "Léa — Restauration scolaire", quantity to add (negative: to
    credit), unit price, never billed before).

    Days to bill for [first, after) are the booked days, not on a closure, less justified
    absences when the town credits them; already billed is what the month's documents say
    (credit notes count negative). Added days take today's price from `prices` ((service, QF,
    price)); removed days are credited at the price they were billed (a later tariff change never
    re-prices a published month). All of it in one statement: at city scale (73,000 lines) the
    same merge done in Python took a second."""
    return cur.execute(
        f"""
        WITH counts AS (
            SELECT c.family_id, b.child_id, b.service_id, count(*)::INTEGER AS quantity, f.quotient_familial
            FROM bookings b
            JOIN children c ON c.id = b.child_id
            JOIN families f ON f.id = c.family_id
            WHERE b.state = 'booked' AND b.day >= $first AND b.day < $after AND {OPEN_DAY}
              AND NOT ($credit AND EXISTS (SELECT 1 FROM attendance a WHERE a.child_id = b.child_id
                       AND a.service_id = b.service_id AND a.day = b.day AND a.status = 'justified'))
            GROUP BY ALL
        ), billed AS (
            SELECT i.family_id, l.child_id, l.service_id, sum(l.quantity)::INTEGER AS billed,
                   arg_max(l.unit_price_cents, l.invoice_id * 1000 + l.line_no) AS billed_price
            FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
            WHERE i.period_month = $first
            GROUP BY ALL
        ), prices AS (
            SELECT unnest($price_services) AS service_id, unnest($price_qf) AS qf, unnest($price_cents) AS price
        ), merged AS (
            SELECT coalesce(c.family_id, b.family_id) AS family_id, coalesce(c.child_id, b.child_id) AS child_id,
                   coalesce(c.service_id, b.service_id) AS service_id,
                   coalesce(c.quantity, 0) - coalesce(b.billed, 0) AS delta, c.quotient_familial,
                   b.billed IS NULL AS first_time, coalesce(b.billed_price, 0) AS billed_price
            FROM counts c FULL JOIN billed b
              ON b.family_id = c.family_id AND b.child_id = c.child_id AND b.service_id = c.service_id
        )
        SELECT m.family_id, coalesce(f.name, ''), m.child_id, m.service_id, ch.first_name || ' — ' || s.name,
               m.delta, CASE WHEN m.delta > 0 THEN p.price ELSE m.billed_price END, m.first_time
        FROM merged m
        JOIN children ch ON ch.id = m.child_id
        JOIN services s ON s.id = m.service_id
        LEFT JOIN families f ON f.id = m.family_id
        LEFT JOIN prices p ON p.service_id = m.service_id AND p.qf IS NOT DISTINCT FROM m.quotient_familial
        WHERE m.delta <> 0
        ORDER BY m.family_id, m.child_id, m.service_id
        """,
        {"first": first, "after": after, "credit": credit_justified, "price_services": [p[0] for p in prices],
         "price_qf": [p[1] for p in prices], "price_cents": [p[2] for p in prices]},
    ).fetchall()


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
