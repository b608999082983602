"""Online payments seen from the town's side: invoices that received more than they asked (the
refunds to make), and the audit rows that count anonymous rejected answers."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from lib.store.db import Database
from lib.store.invoices import CREDITED_CENTS, PAID_CENTS
from lib.store.sql import FAMILY_EMAIL


def overpaid_invoices(db: Database) -> list[dict]:
    """Invoices whose payments and credit notes exceed their total, with their family and every
    payment received (amount, date, method, provider reference), oldest payment first."""
    return db.dicts(
        f"""
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
               list(struct_pack(amount_cents := p.amount_cents, paid_at := p.paid_at, method := p.method,
                                reference := t.transaction_ref) ORDER BY p.paid_at, p.id) AS payments
        FROM over o
        JOIN families f ON f.id = o.family_id
        JOIN payments p ON p.invoice_id = o.id
        LEFT JOIN payment_transactions t ON t.id = p.transaction_id
        GROUP BY ALL
        ORDER BY o.number
        """
    )


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
    cur = db_or_cur.cursor() if isinstance(db_or_cur, Database) else db_or_cur
    return tuple(
        cur.execute(
            f"SELECT i.total_cents, {PAID_CENTS}, {CREDITED_CENTS} FROM invoices i WHERE i.id = ?", [invoice_id]
        ).fetchall()[0]
    )
