"""Invoices, their lines, payments and online payment attempts."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np

from lib.domain.invoicing import PaymentRight
from lib.domain.records import FamilyRight
from lib.store.db import Database, dicts
from lib.store.sql import BOOKED, FAMILY_EMAIL, OPEN_DAY, RIGHT_NONE, RIGHT_REQUESTED

# --- computing a month -------------------------------------------------------------------------


def price_keys(cur: duckdb.DuckDBPyConnection) -> list[tuple[int, int | None, int]]:
    """Every (service, quotient familial) a family may bill at, with the service's unit price:
    the tariff rule (lib.domain.invoicing.tariff_for) prices these few dozen pairs, not each line."""
    return cur.execute(
        "SELECT s.id, q.qf, s.unit_price_cents FROM services s, "
        "(SELECT DISTINCT quotient_familial AS qf FROM families) q"
    ).fetchall()


def _month_lines(
    first: date, after: date, credit_justified: bool, prices: list[tuple[int, int | None, int]], month_label: str
) -> tuple[str, dict]:
    """What a month still needs billed, one row per line of the documents to issue, ordered:
    (family_id, family name, child_id, service_id, label, quantity to add (negative: to credit),
    unit price, line number in its document, document number in the run (1, 2, … by family),
    the document's total, the family's first invoice of the month).

    Days to bill for [first, after) are the booked days, not on a closure, less justified
    absences when the town credits them; already billed is what the month's documents say
    (credit notes count negative). Added days take today's price from `prices` ((service, QF,
    price)); removed days are credited at the price they were billed (a later tariff change never
    re-prices a published month). A line first billed reads "Léa — Restauration scolaire
    (novembre 2026)", a difference "Régularisation : …". All of it in one statement, set-based: at
    city scale (73,000 lines) the same merge and numbering done in Python took a second."""
    sql = f"""
        WITH counts AS (
            SELECT c.family_id, b.child_id, b.service_id, count(*)::INTEGER AS quantity, f.quotient_familial
            FROM bookings b
            JOIN children c ON c.id = b.child_id
            JOIN families f ON f.id = c.family_id
            WHERE b.state = {BOOKED} AND b.day >= $first AND b.day < $after AND {OPEN_DAY}
              AND NOT ($credit AND EXISTS (SELECT 1 FROM attendance a WHERE a.child_id = b.child_id
                       AND a.service_id = b.service_id AND a.day = b.day AND a.status = 'justified'))
            GROUP BY ALL
        ), billed AS (
            SELECT i.family_id, l.child_id, l.service_id, sum(l.quantity)::INTEGER AS billed,
                   arg_max(l.unit_price_cents, l.invoice_id * 1000 + l.line_no) AS billed_price
            FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
            WHERE i.period_month = $first
            GROUP BY ALL
        ), first_invoice AS (
            SELECT family_id, min(id) AS id FROM invoices WHERE period_month = $first AND kind = 'invoice'
            GROUP BY family_id
        ), prices AS (
            SELECT unnest($price_services) AS service_id, unnest($price_qf) AS qf, unnest($price_cents) AS price
        ), merged AS (
            SELECT coalesce(c.family_id, b.family_id) AS family_id, coalesce(c.child_id, b.child_id) AS child_id,
                   coalesce(c.service_id, b.service_id) AS service_id,
                   coalesce(c.quantity, 0) - coalesce(b.billed, 0) AS delta, c.quotient_familial,
                   b.billed IS NULL AS first_time, coalesce(b.billed_price, 0) AS billed_price
            FROM counts c FULL JOIN billed b
              ON b.family_id = c.family_id AND b.child_id = c.child_id AND b.service_id = c.service_id
        ), lines AS (
            SELECT m.family_id, coalesce(f.name, '') AS family, m.child_id, m.service_id,
                   CASE WHEN m.delta > 0 AND m.first_time THEN '' ELSE 'Régularisation : ' END
                     || ch.first_name || ' — ' || s.name || ' (' || $month_label || ')' AS label,
                   m.delta AS quantity, CASE WHEN m.delta > 0 THEN p.price ELSE m.billed_price END AS unit_price_cents
            FROM merged m
            JOIN children ch ON ch.id = m.child_id
            JOIN services s ON s.id = m.service_id
            LEFT JOIN families f ON f.id = m.family_id
            LEFT JOIN prices p ON p.service_id = m.service_id AND p.qf IS NOT DISTINCT FROM m.quotient_familial
            WHERE m.delta <> 0
        )
        SELECT l.*, row_number() OVER (PARTITION BY l.family_id ORDER BY l.child_id, l.service_id)::INTEGER AS line_no,
               dense_rank() OVER (ORDER BY l.family_id)::INTEGER AS document_no,
               sum(l.quantity * l.unit_price_cents) OVER (PARTITION BY l.family_id)::BIGINT AS document_total,
               fi.id AS first_invoice_id
        FROM lines l LEFT JOIN first_invoice fi USING (family_id)
        ORDER BY l.family_id, l.child_id, l.service_id
        """
    params = {
        "first": first,
        "after": after,
        "credit": credit_justified,
        "month_label": month_label,
        "price_services": [p[0] for p in prices],
        "price_qf": [p[1] for p in prices],
        "price_cents": [p[2] for p in prices],
    }
    return sql, params


class MonthLines:
    """The lines of `_month_lines` for the draft, kept as the arrays DuckDB returns, in line
    order, with their documents (one per family) found by array operations. Python objects are
    made only for what is read: 73,000 lines and 30,000 documents at city scale made as objects
    cost a third of a second, most of it the garbage collector going over them, and the draft's
    page only counts them."""

    def __init__(self, columns: Mapping[str, Sequence[Any] | np.ndarray]):
        self._columns = {name: np.asarray(values) for name, values in columns.items()}
        self._starts = np.flatnonzero(self._columns["line_no"] == 1)
        self._ends = np.append(self._starts[1:], len(self._columns["line_no"]))

    def __len__(self) -> int:
        """How many documents."""
        return len(self._starts)

    @property
    def total_cents(self) -> int:
        return int(self._columns["document_total"][self._starts].sum())

    def documents_by_column(self) -> dict[str, list]:
        """Every document's family name, number of lines and total, by column (for a table)."""
        return {
            "family": self._columns["family"][self._starts].tolist(),
            "lines": (self._ends - self._starts).tolist(),
            "total_cents": self._columns["document_total"][self._starts].tolist(),
        }

    def document(self, n: int) -> tuple[int, str, int, int, int]:
        """Document n: (family_id, family name, its first line, the end of its lines, total)."""
        start = int(self._starts[n])
        c = self._columns
        return (
            int(c["family_id"][start]),
            str(c["family"][start]),
            start,
            int(self._ends[n]),
            int(c["document_total"][start]),
        )

    def line(self, i: int) -> tuple[int, int, str, int, int]:
        """Line i of the month: (child_id, service_id, label, quantity, unit_price_cents)."""
        c = self._columns
        return (
            int(c["child_id"][i]),
            int(c["service_id"][i]),
            str(c["label"][i]),
            int(c["quantity"][i]),
            int(c["unit_price_cents"][i]),
        )


def month_lines(
    cur: duckdb.DuckDBPyConnection,
    first: date,
    after: date,
    credit_justified: bool,
    prices: list[tuple[int, int | None, int]],
    month_label: str,
) -> MonthLines:
    sql, params = _month_lines(first, after, credit_justified, prices, month_label)
    return MonthLines(cur.execute(sql, params).fetchnumpy())


_staged = itertools.count()


def publish_lines(
    cur: duckdb.DuckDBPyConnection,
    first: date,
    after: date,
    credit_justified: bool,
    prices: list[tuple[int, int | None, int]],
    month_label: str,
    *,
    first_id: int,
    first_seq: int,
    year: int,
    prefixes: dict[str, str],
    issue: date,
    due: date,
    at_utc: datetime,
) -> list[tuple]:
    """Insert every document the month still needs and its lines, set-based (inside the caller's
    transaction): document n of the run (by family) gets id `first_id + n - 1` and the number
    `<prefix>-<year>-<seq:06d>` with seq `first_seq + n - 1`, the prefix of its kind (`prefixes`:
    kind → prefix, from lib.domain.invoicing); a credit note corrects the family's first invoice
    of the month. Returns (seq, number, total_cents) of the documents issued, by seq."""
    sql, params = _month_lines(first, after, credit_justified, prices, month_label)
    staged = f"_month_lines_{next(_staged)}"
    cur.execute(f"CREATE TEMP TABLE {staged} AS {sql}", params)
    try:
        issued = cur.execute(
            f"""
            INSERT INTO invoices (id, number, year, seq, kind, family_id, period_month, issue_date, due_date,
                                  total_cents, corrects_invoice_id, created_at)
            SELECT $first_id + document_no - 1,
                   CASE WHEN document_total < 0 THEN $credit_prefix ELSE $invoice_prefix END || '-' || $year || '-'
                     || lpad(($first_seq + document_no - 1)::VARCHAR, 6, '0'),
                   $year, $first_seq + document_no - 1,
                   CASE WHEN document_total < 0 THEN 'credit_note' ELSE 'invoice' END, family_id, $first, $issue, $due,
                   document_total, CASE WHEN document_total < 0 THEN first_invoice_id END, $at
            FROM {staged} WHERE line_no = 1
            RETURNING seq, number, total_cents
            """,
            {
                "first_id": first_id,
                "first_seq": first_seq,
                "year": year,
                "first": first,
                "issue": issue,
                "due": due,
                "at": at_utc,
                "credit_prefix": prefixes["credit_note"],
                "invoice_prefix": prefixes["invoice"],
            },
        ).fetchall()
        cur.execute(
            f"""INSERT INTO invoice_lines (invoice_id, line_no, child_id, service_id, label, quantity,
                                           unit_price_cents, amount_cents)
                SELECT $first_id + document_no - 1, line_no, child_id, service_id, label, quantity, unit_price_cents,
                       quantity * unit_price_cents
                FROM {staged}""",
            {"first_id": first_id},
        )
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {staged}")
    return sorted(issued)


def tariffs(cur: duckdb.DuckDBPyConnection) -> list[tuple[int, int | None, int]]:
    return cur.execute("SELECT service_id, qf_max, price_cents FROM tariffs").fetchall()


def sequence_state(cur: duckdb.DuckDBPyConnection, year: int) -> tuple[int, int, int]:
    """(documents, distinct numbers, highest number) of a year's sequence: enough to tell it is
    gapless without reading every number (hundreds of thousands at city scale)."""
    return tuple(
        cur.execute(
            "SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0) FROM invoices WHERE year = ?", [year]
        ).fetchall()[0]
    )


def next_invoice_id(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT coalesce(max(id), 0) + 1 FROM invoices").fetchall()[0][0]


# --- reading -------------------------------------------------------------------------------------

# What an invoice `i` has received, in cents: its payments, and its credit notes (as a positive sum).
PAID_CENTS = "coalesce((SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id), 0)::BIGINT"
CREDITED_CENTS = "coalesce((SELECT -sum(k.total_cents) FROM invoices k WHERE k.corrects_invoice_id = i.id), 0)::BIGINT"

_SUMMARY = f"""
    SELECT i.id, i.number, i.kind, i.family_id, i.period_month, i.issue_date, i.due_date, i.total_cents,
           {PAID_CENTS} AS paid_cents, {CREDITED_CENTS} AS credited_cents,
           (SELECT max(t.created_at) FROM payment_transactions t WHERE t.invoice_id = i.id AND t.state = 'pending'
                   AND t.created_at > $pending_since) AS pending_started
    FROM invoices i
"""


def family_invoices(db: Database, family_id: int, pending_since: datetime) -> list[dict]:
    return db.dicts(
        _SUMMARY + " WHERE i.family_id = $family ORDER BY i.issue_date DESC, i.id DESC",
        {"family": family_id, "pending_since": pending_since},
    )


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


def month_invoices(db: Database, period: date) -> list[tuple[int, int, int, str]]:
    """(id, family, total in cents, number) of every document of a month, in id order."""
    return db.rows(
        "SELECT id, family_id, total_cents, number FROM invoices WHERE period_month = ? ORDER BY id", [period]
    )


def invoice_number(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> str | None:
    found = cur.execute("SELECT number FROM invoices WHERE id = ?", [invoice_id]).fetchall()
    return found[0][0] if found else None


def invoice_lines(db: Database, invoice_id: int) -> list[dict]:
    return db.dicts(
        """SELECT l.line_no, l.child_id, c.first_name, c.last_name, s.name AS service, l.label, l.quantity,
                  l.unit_price_cents, l.amount_cents
           FROM invoice_lines l JOIN children c ON c.id = l.child_id JOIN services s ON s.id = l.service_id
           WHERE l.invoice_id = ? ORDER BY l.line_no""",
        [invoice_id],
    )


def invoice_payments(db: Database, invoice_id: int) -> list[dict]:
    return db.dicts(
        "SELECT amount_cents, paid_at, method FROM payments WHERE invoice_id = ? ORDER BY paid_at", [invoice_id]
    )


def family(db_or_cur, family_id: int) -> dict | None:
    sql = f"""SELECT id, name, {FAMILY_EMAIL} AS email, phone, address, quotient_familial, payment_right,
                     payment_right_at FROM families f WHERE id = ?"""
    found = dicts(db_or_cur, sql, [family_id])
    return found[0] if found else None


# --- payment right ---------------------------------------------------------------------------------


def set_payment_right(cur: duckdb.DuckDBPyConnection, family_id: int, value: PaymentRight, at_utc: datetime) -> None:
    cur.execute("UPDATE families SET payment_right = ?, payment_right_at = ? WHERE id = ?", [value, at_utc, family_id])


_RIGHT = f"SELECT f.id, f.name, {FAMILY_EMAIL} AS email, f.payment_right, f.payment_right_at FROM families f"


def _family_right(row: tuple) -> FamilyRight:
    family_id, name, email, right, at = row
    return FamilyRight(family_id, name, email, PaymentRight(right), at)


def family_right(db: Database, family_id: int) -> FamilyRight | None:
    found = db.row(f"{_RIGHT} WHERE f.id = ?", [family_id])
    return _family_right(found) if found else None


def payment_right_requests(db: Database) -> list[FamilyRight]:
    """Every family that asked for the right, those waiting for an answer first."""
    rows = db.rows(
        f"""{_RIGHT} WHERE f.payment_right <> {RIGHT_NONE}
           ORDER BY f.payment_right <> {RIGHT_REQUESTED}, f.payment_right_at DESC"""
    )
    return [_family_right(row) for row in rows]


# --- payment attempts ---------------------------------------------------------------------------


def transaction_by_ref(cur: duckdb.DuckDBPyConnection, ref: str) -> dict | None:
    found = dicts(cur, "SELECT * FROM payment_transactions WHERE transaction_ref = ?", [ref])
    return found[0] if found else None


def transaction_for_answer(cur: duckdb.DuckDBPyConnection, ref: str) -> dict | None:
    """What a provider's answer is checked against: the attempt's state, amount and order
    reference (its invoice's number, kept on the attempt: no join with the invoices)."""
    found = dicts(
        cur,
        """SELECT id, invoice_id, transaction_ref, order_ref, amount_cents, state
                          FROM payment_transactions WHERE transaction_ref = ?""",
        [ref],
    )
    return found[0] if found else None


def transaction_by_key(cur: duckdb.DuckDBPyConnection, key: str) -> dict | None:
    found = dicts(cur, "SELECT * FROM payment_transactions WHERE idempotency_key = ?", [key])
    return found[0] if found else None


def lock_invoice(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> None:
    cur.execute(
        """INSERT INTO payment_locks VALUES (?, 1)
                   ON CONFLICT (invoice_id) DO UPDATE SET version = payment_locks.version + 1""",
        [invoice_id],
    )


def pending_for_invoice(cur: duckdb.DuckDBPyConnection, invoice_id: int, since: datetime) -> dict | None:
    found = dicts(
        cur,
        """SELECT * FROM payment_transactions WHERE invoice_id = ? AND state = 'pending'
                           AND created_at > ? ORDER BY created_at DESC LIMIT 1""",
        [invoice_id, since],
    )
    return found[0] if found else None


def insert_transaction(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    if not row.get("order_ref"):
        raise ValueError("an attempt carries the order reference sent to the provider")
    columns = ", ".join(row)
    cur.execute(
        f"INSERT INTO payment_transactions ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
    )


def update_transaction(
    cur: duckdb.DuckDBPyConnection,
    tx_id: int,
    state: str,
    at_utc: datetime,
    provider_data: str | None,
    message: str | None,
) -> None:
    cur.execute(
        """UPDATE payment_transactions SET state = ?, updated_at = ?, provider_data = coalesce(?, provider_data),
                  provider_message = coalesce(?, provider_message) WHERE id = ?""",
        [state, at_utc, provider_data, message, tx_id],
    )


def insert_payment(
    cur: duckdb.DuckDBPyConnection,
    invoice_id: int,
    amount_cents: int,
    paid_at_utc: datetime,
    method: str,
    transaction_id: int | None,
    user_id: int | None,
) -> None:
    cur.execute(
        "INSERT INTO payments (invoice_id, amount_cents, paid_at, method, transaction_id, recorded_by) VALUES (?, ?, ?, ?, ?, ?)",
        [invoice_id, amount_cents, paid_at_utc, method, transaction_id, user_id],
    )


def stale_pending(db: Database, before: datetime, family_id: int | None) -> list[dict]:
    return db.dicts(
        """SELECT t.*, i.number FROM payment_transactions t JOIN invoices i ON i.id = t.invoice_id
           WHERE t.state = 'pending' AND t.created_at < $before AND ($family IS NULL OR t.family_id = $family)
           ORDER BY t.created_at""",
        {"before": before, "family": family_id},
    )


def transaction_for_family(db: Database, ref: str, family_id: int) -> dict | None:
    found = db.dicts(
        """SELECT t.state, t.provider_message, t.invoice_id, i.number FROM payment_transactions t
           JOIN invoices i ON i.id = t.invoice_id
           WHERE t.transaction_ref = ? AND t.family_id = ?""",
        [ref, family_id],
    )
    return found[0] if found else None
