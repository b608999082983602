"""The payments ledger (migration 014): a payment is cancelled by a counter-entry, at most once,
and the schema refuses a counter-entry without a reason or of the wrong sign."""

from datetime import datetime

import pytest

from lib.store import payments
from lib.store.db import INTEGRITY_ERRORS

AT = datetime(2026, 11, 20, 9, 0)


def _invoice_and_payment(db) -> int:
    def work(cur):
        cur.execute(
            """INSERT INTO families (id, name, created_at) VALUES (900, 'Famille Essai', TIMESTAMP '2026-09-01 08:00');
               INSERT INTO invoices (id, number, year, seq, family_id, period_month, issue_date, due_date,
                                     total_cents, created_at)
               VALUES (900, 'F-2026-000900', 2026, 900, 900, DATE '2026-10-01', DATE '2026-11-02',
                       DATE '2026-12-02', 4000, TIMESTAMP '2026-11-02 08:00')"""
        )
        return cur.execute(
            """INSERT INTO payments (invoice_id, amount_cents, paid_at, method) VALUES (900, 2500, ?, 'cheque')
               RETURNING id""",
            [AT],
        ).fetchall()[0][0]

    return db.write(work)


def test_a_counter_entry_cancels_a_payment_once_and_the_invoice_owes_again(fresh_db):
    paid = _invoice_and_payment(fresh_db)
    counter = fresh_db.write(lambda cur: payments.insert_counter_entry(cur, paid, AT, "chèque sans provision", 7))
    assert counter is not None
    assert payments.invoice_money(fresh_db, 900) == (4000, 0, 0)
    assert fresh_db.rows(
        "SELECT amount_cents, method, cancels_payment_id, reason FROM payments WHERE id = ?", [counter]
    ) == [(-2500, "cheque", paid, "chèque sans provision")]
    assert fresh_db.write(lambda cur: payments.insert_counter_entry(cur, paid, AT, "encore", 7)) is None
    assert fresh_db.write(lambda cur: payments.insert_counter_entry(cur, counter, AT, "contre", 7)) is None
    assert fresh_db.write(lambda cur: payments.insert_counter_entry(cur, 12345, AT, "inconnu", 7)) is None
    assert fresh_db.rows("SELECT count(*) FROM payments") == [(2,)]


@pytest.mark.parametrize(
    "amount, cancels, reason",
    [(-100, None, None), (100, 1, "raison"), (-100, 1, None), (0, None, None), (100, None, "raison")],
)
def test_the_schema_refuses_a_malformed_ledger_row(fresh_db, amount, cancels, reason):
    paid = _invoice_and_payment(fresh_db)
    with pytest.raises(INTEGRITY_ERRORS):
        fresh_db.write(
            lambda cur: cur.execute(
                """INSERT INTO payments (invoice_id, amount_cents, paid_at, method, cancels_payment_id, reason)
                   VALUES (900, ?, ?, 'cheque', ?, ?)""",
                [amount, AT, paid if cancels else None, reason],
            )
        )
    assert fresh_db.rows("SELECT count(*) FROM payments") == [(1,)]
