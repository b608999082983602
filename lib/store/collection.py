"""What the town's invoices still owe, for the public accountant: the unpaid invoices with their
debtor (the guardian each is addressed to) and what their ledger says."""

from __future__ import annotations

from datetime import date

from lib.domain.invoicing import Kind
from lib.domain.unpaid import UnpaidInvoice
from lib.store.db import Database
from lib.store.invoices import CREDITED_CENTS, PAID_CENTS
from lib.store.sql import dialects, quoted

INVOICE = quoted(Kind.INVOICE)


_UNPAID = f"""
        WITH owed AS (
            SELECT i.*, {PAID_CENTS} AS paid_cents, {CREDITED_CENTS} AS credited_cents
            FROM invoices i
            WHERE i.kind = {INVOICE} AND {{of_family}}
              AND {{of_month}}
        )
        SELECT o.id, o.number, o.family_id, f.name, o.period_month, o.issue_date, o.due_date, o.total_cents,
               o.paid_cents, o.credited_cents, coalesce(g.first_name, ''), coalesce(g.last_name, ''),
               coalesce(g.address, CASE WHEN g.rank = 1 THEN f.address END, ''),
               coalesce((SELECT string_agg(DISTINCT s.name, ', ' ORDER BY s.name)
                         FROM invoice_lines l JOIN services s ON s.id = l.service_id WHERE l.invoice_id = o.id), '')
        FROM owed o JOIN families f ON f.id = o.family_id LEFT JOIN guardians g ON g.id = o.payer_guardian_id
        WHERE o.total_cents - o.paid_cents - o.credited_cents > 0
        ORDER BY f.name, o.family_id, o.period_month, o.number
        """
UNPAID = dialects(
    duckdb=_UNPAID.format(
        of_family="($family IS NULL OR i.family_id = $family)", of_month="($month IS NULL OR i.period_month = $month)"
    ),
    # a parameter only tested for NULL has no type PostgreSQL can guess: it is said
    postgresql=_UNPAID.format(
        of_family="($family::BIGINT IS NULL OR i.family_id = $family)",
        of_month="($month::DATE IS NULL OR i.period_month = $month)",
    ),
)


def unpaid_invoices(db: Database, family_id: int | None, month: date | None) -> list[UnpaidInvoice]:
    """Every invoice (not a credit note) with something left to pay — its total less the sum of its
    payments ledger (counter-entries included) less the credit notes correcting it —, of one family
    and one month when given, by family name, month and number. The debtor's address is his own,
    guardian 1's falling back on the family's (as `invoices.payers` reads it)."""
    rows = db.rows(UNPAID, {"family": family_id, "month": month})
    return [UnpaidInvoice(*row) for row in rows]


def unpaid_months(db: Database) -> list[date]:
    """The months billed, the latest first (the list's month filter)."""
    return [m for (m,) in db.rows(f"SELECT DISTINCT period_month FROM invoices WHERE kind = {INVOICE} ORDER BY 1 DESC")]
