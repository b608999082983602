"""Online payments seen from the town's side: invoices that received more than they asked (the
refunds to make), and the audit rows that count anonymous rejected answers."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from lib.store.db import Database
from lib.store.invoices import CREDITED_CENTS, PAID_CENTS
from lib.store.sql import FAMILY_EMAIL, dialects

_OVERPAID = """
        WITH paid AS (
            SELECT invoice_id, sum(amount_cents)::BIGINT AS paid_cents FROM payments GROUP BY invoice_id
        ), credited AS (
            SELECT corrects_invoice_id AS invoice_id, -sum(total_cents)::BIGINT AS credited_cents FROM invoices
            WHERE corrects_invoice_id IS NOT NULL GROUP BY corrects_invoice_id
        ), over AS (
            SELECT i.id, i.number, i.family_id, i.total_cents, p.paid_cents,
                   coalesce(c.credited_cents, 0) AS credited_cents
            FROM invoices i JOIN paid p ON p.invoice_id = i.id LEFT JOIN credited c ON c.invoice_id = i.id
            WHERE i.kind = 'invoice' AND p.paid_cents + coalesce(c.credited_cents, 0) > i.total_cents
        )
        SELECT o.id, o.number, o.total_cents, o.paid_cents, o.credited_cents, f.id AS family_id,
               f.name AS family, {FAMILY_EMAIL} AS email,
               {payments}
        FROM over o
        JOIN families f ON f.id = o.family_id
        JOIN payments p ON p.invoice_id = o.id
        LEFT JOIN payment_transactions t ON t.id = p.transaction_id
        {group}
        ORDER BY o.number
        """
OVERPAID = dialects(
    duckdb=_OVERPAID.format(
        FAMILY_EMAIL=FAMILY_EMAIL,
        payments="""list(struct_pack(amount_cents := p.amount_cents, paid_at := p.paid_at, method := p.method,
                                reference := t.transaction_ref) ORDER BY p.paid_at, p.id) AS payments""",
        group="GROUP BY ALL",
    ),
    # the payments as JSON objects (psycopg reads them as dicts; a moment as its ISO text)
    postgresql=_OVERPAID.format(
        FAMILY_EMAIL=FAMILY_EMAIL,
        payments="""json_agg(json_build_object('amount_cents', p.amount_cents, 'paid_at', p.paid_at, 'method', p.method,
                                'reference', t.transaction_ref) ORDER BY p.paid_at, p.id) AS payments""",
        group="GROUP BY o.id, o.number, o.total_cents, o.paid_cents, o.credited_cents, f.id",
    ),
)


def overpaid_invoices(db: Database) -> list[dict]:
    """Invoices whose payments and credit notes exceed their total, with their family and every
    payment received (amount, date, method, provider reference), oldest payment first."""
    found = db.dicts(OVERPAID)
    for row in found:
        for payment in row["payments"]:
            if isinstance(payment["paid_at"], str):
                payment["paid_at"] = datetime.fromisoformat(payment["paid_at"])
    return found


def open_rejection_tally(
    cur: duckdb.DuckDBPyConnection, at_utc: datetime, address: str, after: dict, reason: str
) -> int:
    """The audit row that counts the anonymous rejections from one address in one window; its id."""
    return cur.execute(
        """INSERT INTO audit_log (logged_at, user_id, action, entity, entity_id, after, reason)
           VALUES (?, NULL, 'payment.rejected', 'address', ?, ?, ?) RETURNING id""",
        [at_utc, address, json.dumps(after, ensure_ascii=False), reason],
    ).fetchall()[0][0]


def update_rejection_tally(cur: duckdb.DuckDBPyConnection, audit_id: int, after: dict, reason: str) -> None:
    cur.execute(
        "UPDATE audit_log SET after = ?, reason = ? WHERE id = ? AND action = 'payment.rejected'",
        [json.dumps(after, ensure_ascii=False), reason, audit_id],
    )


def invoice_money(db_or_cur: Database | duckdb.DuckDBPyConnection, invoice_id: int) -> tuple[int, int, int]:
    """(total, paid, credited) of one invoice, in cents: whether its payments exceed what it asks."""
    cur = db_or_cur.cursor() if hasattr(db_or_cur, "write") else db_or_cur
    return tuple(
        cur.execute(
            f"SELECT i.total_cents, {PAID_CENTS}, {CREDITED_CENTS} FROM invoices i WHERE i.id = ?", [invoice_id]
        ).fetchall()[0]
    )


def insert_counter_entry(
    cur: duckdb.DuckDBPyConnection, payment_id: int, at_utc: datetime, reason: str, user_id: int | None
) -> int | None:
    """Cancel a payment by a counter-entry of the opposite amount, the same invoice and means (a
    payment is never edited nor deleted); the new row's id, or None when the payment does not
    exist, is itself a counter-entry, or was cancelled already (each is cancelled at most once)."""
    found = cur.execute(
        """SELECT p.invoice_id, p.amount_cents, p.method FROM payments p
           WHERE p.id = ? AND p.cancels_payment_id IS NULL
             AND NOT EXISTS (SELECT 1 FROM payments c WHERE c.cancels_payment_id = p.id)""",
        [payment_id],
    ).fetchall()
    if not found:
        return None
    invoice_id, amount, method = found[0]
    return cur.execute(
        """INSERT INTO payments (invoice_id, amount_cents, paid_at, method, recorded_by, cancels_payment_id, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [invoice_id, -amount, at_utc, method, user_id, payment_id, reason],
    ).fetchall()[0][0]
