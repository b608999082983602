"""SEPA direct debit: mandates, monthly runs (their pain.008 file), debits and rejects; the town's
creditor settings (keys `sepa_*` of `settings`)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from lib.domain.invoicing import Kind, TxState
from lib.store.db import Database, dicts
from lib.store.invoices import CREDITED_CENTS, PAID_CENTS
from lib.store.sql import SPLIT, dialects

Source = Database | duckdb.DuckDBPyConnection
SETTING_KEYS = (
    "sepa_creditor_name",
    "sepa_creditor_id",
    "sepa_iban",
    "sepa_bic",
    "sepa_collection_day",
    "sepa_notice_days",
)
_INVOICE = f"'{Kind.INVOICE.value}'"
_PENDING = f"'{TxState.PENDING.value}'"

# An invoice `i` the family's bank pays by direct debit: in a run, its debit not rejected (awaiting
# its collection date, or collected).
DEBITED = """EXISTS (SELECT 1 FROM sepa_debits sd WHERE sd.invoice_id = i.id
                     AND NOT EXISTS (SELECT 1 FROM sepa_rejects sr WHERE sr.debit_id = sd.id))"""


def creditor_settings(source: Source) -> dict[str, str]:
    """The `sepa_*` settings stored (a key never set is absent)."""
    rows = dicts(
        source,
        dialects(
            duckdb="SELECT key, value FROM settings WHERE key IN (SELECT unnest($keys))",
            postgresql="SELECT key, value FROM settings WHERE key = ANY($keys::TEXT[])",
        ),
        {"keys": list(SETTING_KEYS)},
    )
    return {r["key"]: r["value"] for r in rows}


# --- mandates ------------------------------------------------------------------------------------

_MANDATE = f"""
    SELECT m.id, m.family_id, f.name AS family, m.guardian_id,
           coalesce(trim(g.first_name || ' ' || g.last_name), '') AS guardian, m.rum, m.signed_on, m.debtor_name,
           m.iban, m.bic, m.notice_days, m.ends_on, m.created_at, g.user_id AS guardian_user_id,
           f.billing = {SPLIT} AS split_family
    FROM sepa_mandates m JOIN families f ON f.id = m.family_id LEFT JOIN guardians g ON g.id = m.guardian_id
"""


def payer_guardians(source: Source, family_id: int) -> list[dict]:
    """The family's guardians who may sign a mandate (those not archived), rank order."""
    return dicts(
        source,
        """SELECT id, rank, trim(first_name || ' ' || last_name) AS name FROM guardians
           WHERE family_id = ? AND archived_at IS NULL ORDER BY rank""",
        [family_id],
    )


def next_mandate_id(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT nextval('seq_sepa_mandates')").fetchall()[0][0]


def insert_mandate(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    columns = ", ".join(row)
    cur.execute(f"INSERT INTO sepa_mandates ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def mandate(source: Source, mandate_id: int) -> dict | None:
    found = dicts(source, _MANDATE + " WHERE m.id = ?", [mandate_id])
    return found[0] if found else None


def active_mandate(source: Source, guardian_id: int, day: date) -> dict | None:
    """The guardian's mandate in force on `day` (signed by then, not ended)."""
    found = dicts(
        source,
        _MANDATE + " WHERE m.guardian_id = ? AND m.signed_on <= ? AND (m.ends_on IS NULL OR m.ends_on > ?)"
        " ORDER BY m.id DESC LIMIT 1",
        [guardian_id, day, day],
    )
    return found[0] if found else None


def open_mandate(source: Source, guardian_id: int) -> dict | None:
    """The guardian's mandate not ended (whatever its signature date): one at a time."""
    found = dicts(source, _MANDATE + " WHERE m.guardian_id = ? AND m.ends_on IS NULL", [guardian_id])
    return found[0] if found else None


def end_mandate(cur: duckdb.DuckDBPyConnection, mandate_id: int, ends_on: date, at: datetime, by: int | None) -> None:
    cur.execute(
        "UPDATE sepa_mandates SET ends_on = ?, ended_at = ?, ended_by = ? WHERE id = ? AND ends_on IS NULL",
        [ends_on, at, by, mandate_id],
    )


def mandates(source: Source, family_id: int | None) -> list[dict]:
    """Every mandate (of one family), in force first, newest first: the history is kept."""
    return dicts(
        source,
        dialects(
            duckdb=_MANDATE
            + " WHERE $family IS NULL OR m.family_id = $family ORDER BY m.ends_on IS NOT NULL, f.name, m.id DESC",
            postgresql=_MANDATE
            + " WHERE $family::BIGINT IS NULL OR m.family_id = $family ORDER BY m.ends_on IS NOT NULL, f.name, m.id DESC",
        ),
        {"family": family_id},
    )


# --- runs ----------------------------------------------------------------------------------------


def due(source: Source, month: date, collection: date, since: datetime) -> list[dict]:
    """The month's invoices to collect on `collection`: issued invoices with something left to pay,
    never in a run before, whose payer guardian has a mandate in force that day; with what is left
    (the amount), the mandate, whether it was collected before (a debit not rejected), and
    `paying_online`: an online payment attempt started after `since` is still pending (the
    invoice may be paid by it: it is left out of the run)."""
    return dicts(
        source,
        f"""
        WITH owed AS (
            SELECT i.id, i.number, i.family_id, i.payer_guardian_id,
                   i.total_cents - {PAID_CENTS} - {CREDITED_CENTS} AS left_cents
            FROM invoices i
            WHERE i.kind = {_INVOICE} AND i.period_month = $month
              AND NOT EXISTS (SELECT 1 FROM sepa_debits d WHERE d.invoice_id = i.id)
        )
        SELECT o.id AS invoice_id, o.number, o.family_id, o.left_cents::INTEGER AS amount_cents,
               m.id AS mandate_id, m.rum, m.signed_on, m.debtor_name, m.iban, m.bic, m.notice_days,
               EXISTS (SELECT 1 FROM sepa_debits d WHERE d.mandate_id = m.id
                       AND NOT EXISTS (SELECT 1 FROM sepa_rejects r WHERE r.debit_id = d.id)) AS collected_before,
               EXISTS (SELECT 1 FROM payment_transactions t WHERE t.invoice_id = o.id
                       AND t.state = {_PENDING} AND t.created_at > $since) AS paying_online
        FROM owed o
        JOIN sepa_mandates m ON m.guardian_id = o.payer_guardian_id AND m.signed_on <= $collection
             AND (m.ends_on IS NULL OR m.ends_on > $collection)
        WHERE o.left_cents > 0
        ORDER BY o.number
        """,
        {"month": month, "collection": collection, "since": since},
    )


def next_run_id(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT nextval('seq_sepa_runs')").fetchall()[0][0]


def insert_run(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    columns = ", ".join(row)
    cur.execute(f"INSERT INTO sepa_runs ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def insert_debit(cur: duckdb.DuckDBPyConnection, row: dict) -> int:
    columns = ", ".join(row)
    return cur.execute(
        f"INSERT INTO sepa_debits ({columns}) VALUES ({', '.join('?' * len(row))}) RETURNING id", list(row.values())
    ).fetchall()[0][0]


_RUNS = """SELECT r.id, r.period_month, r.collection_date, r.message_id, r.sha256, r.total_cents, r.created_at,
                  count(d.id) AS debits, count(j.debit_id) AS rejects
           FROM sepa_runs r LEFT JOIN sepa_debits d ON d.run_id = r.id LEFT JOIN sepa_rejects j ON j.debit_id = d.id
           {group} ORDER BY r.id DESC"""
RUNS = dialects(duckdb=_RUNS.format(group="GROUP BY ALL"), postgresql=_RUNS.format(group="GROUP BY r.id"))


def runs(source: Source) -> list[dict]:
    """Every run, newest first, with its number of debits and of rejects."""
    return dicts(source, RUNS)


def run_file(source: Source, run_id: int) -> tuple[str, bytes] | None:
    found = dicts(source, "SELECT message_id, file FROM sepa_runs WHERE id = ?", [run_id])
    return (found[0]["message_id"], bytes(found[0]["file"])) if found else None


_DEBIT = """
    SELECT d.id, d.run_id, d.invoice_id, i.number, i.family_id, f.name AS family, d.amount_cents, d.sequence_type,
           d.end_to_end_id, c.payment_id, r.collection_date, m.rum, j.code AS reject_code, j.reason AS reject_reason,
           j.rejected_at
    FROM sepa_debits d JOIN sepa_runs r ON r.id = d.run_id JOIN invoices i ON i.id = d.invoice_id
    JOIN families f ON f.id = i.family_id JOIN sepa_mandates m ON m.id = d.mandate_id
    LEFT JOIN sepa_collections c ON c.debit_id = d.id LEFT JOIN sepa_rejects j ON j.debit_id = d.id
"""


def debits(source: Source, run_id: int | None) -> list[dict]:
    return dicts(
        source,
        dialects(
            duckdb=_DEBIT + " WHERE $run IS NULL OR d.run_id = $run ORDER BY d.run_id DESC, i.number",
            postgresql=_DEBIT + " WHERE $run::BIGINT IS NULL OR d.run_id = $run ORDER BY d.run_id DESC, i.number",
        ),
        {"run": run_id},
    )


def debit(source: Source, debit_id: int) -> dict | None:
    found = dicts(source, _DEBIT + " WHERE d.id = ?", [debit_id])
    return found[0] if found else None


def debit_by_end_to_end(source: Source, end_to_end_id: str) -> dict | None:
    found = dicts(source, _DEBIT + " WHERE d.end_to_end_id = ?", [end_to_end_id])
    return found[0] if found else None


def invoice_debit(source: Source, invoice_id: int) -> dict | None:
    """The invoice's debit (at most one), with its collection date and its reject if any."""
    found = dicts(source, _DEBIT + " WHERE d.invoice_id = ?", [invoice_id])
    return found[0] if found else None


def uncollected(cur: duckdb.DuckDBPyConnection, day: date) -> list[dict]:
    """The debits due by `day` (their collection date reached), neither collected nor rejected."""
    return dicts(
        cur,
        _DEBIT + " WHERE r.collection_date <= ? AND c.debit_id IS NULL AND j.debit_id IS NULL ORDER BY d.id",
        [day],
    )


def insert_collection(cur: duckdb.DuckDBPyConnection, debit_id: int, payment_id: int) -> None:
    cur.execute("INSERT INTO sepa_collections (debit_id, payment_id) VALUES (?, ?)", [debit_id, payment_id])


def insert_reject(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    columns = ", ".join(row)
    cur.execute(f"INSERT INTO sepa_rejects ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def families(source: Source) -> list[tuple[int, str]]:
    """(id, name) of the families not archived, by name: whose file a mandate is recorded on."""
    return [
        (r["id"], r["name"])
        for r in dicts(source, "SELECT id, name FROM families WHERE archived_at IS NULL ORDER BY name, id")
    ]
