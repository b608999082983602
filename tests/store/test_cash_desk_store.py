"""The cash desk's store (lib/store/cash_desk.py) and migration 016 on a fresh database."""

from datetime import datetime

import pytest

from lib.store import cash_desk as store
from lib.store.db import INTEGRITY_ERRORS

AT = datetime(2026, 11, 27, 8, 30)


def _user(cur, email, role, active=True, family=None):
    return cur.execute(
        "INSERT INTO users (email, password_hash, role, family_id, display_name, active, created_at)"
        " VALUES (?, '!', ?, ?, ?, ?, ?) RETURNING id",
        [email, role, family, email.split("@")[0], active, AT],
    ).fetchall()[0][0]


def _receipt(cur, number, seq, payment_id, key, user, year=2026):
    return store.insert_receipt(
        cur,
        number=number,
        year=year,
        seq=seq,
        payment_id=payment_id,
        payer_name="Anne Aubert",
        key=key,
        at_utc=AT,
        user_id=user,
    )


def test_accounts_are_not_regisseurs_until_granted_and_only_active_staff_count(fresh_db):
    def work(cur):
        agent = _user(cur, "agent@x.fr", "agent")
        closed = _user(cur, "ancien@x.fr", "agent", active=False)
        cook = _user(cur, "cuisine@x.fr", "cuisine")
        assert not any(store.is_regisseur(cur, u) for u in (agent, closed, cook))
        for user in (agent, closed, cook):
            store.set_regisseur(cur, user, True)
        return agent, closed, cook

    agent, closed, cook = fresh_db.write(work)
    cur = fresh_db.cursor()
    assert [store.is_regisseur(cur, u) for u in (agent, closed, cook, 999)] == [True, False, False, False]
    assert [a["email"] for a in store.staff_accounts(fresh_db)] == ["agent@x.fr", "ancien@x.fr"]


def test_the_portal_sequence_leaves_the_paper_books_numbers_out(fresh_db):
    def work(cur):
        user = _user(cur, "agent@x.fr", "agent")
        _receipt(cur, "R-2026-000001", 1, 1, "cle-000001", user)
        _receipt(cur, "Carnet 3 n° 42", None, 2, "cle-000002", user)
        _receipt(cur, "R-2026-000002", 2, 3, "cle-000003", user)
        _receipt(cur, "R-2025-000001", 1, 4, "cle-000004", user, year=2025)
        return user

    fresh_db.write(work)
    cur = fresh_db.cursor()
    assert store.sequence_state(cur, 2026) == (2, 2, 2)
    assert store.sequence_state(cur, 2027) == (0, 0, 0)
    assert store.number_used(cur, "Carnet 3 n° 42") and not store.number_used(cur, "Carnet 3 n° 43")
    assert store.receipt_for_key(cur, "cle-000003") == 3 and store.receipt_for_key(cur, "autre-cle") is None


@pytest.mark.parametrize(
    "number, seq, payment, key",
    [
        ("R-2026-000001", 9, 9, "cle-000009"),  # the same number
        ("R-2026-000009", 1, 9, "cle-000009"),  # the same place in the year's sequence
        ("R-2026-000009", 9, 1, "cle-000009"),  # a second receipt for one ledger row
        ("R-2026-000009", 9, 9, "cle-000001"),  # the same form
    ],
)
def test_the_schema_refuses_a_second_receipt_of_anything(fresh_db, number, seq, payment, key):
    user = fresh_db.write(lambda cur: _user(cur, "agent@x.fr", "agent"))
    fresh_db.write(lambda cur: _receipt(cur, "R-2026-000001", 1, 1, "cle-000001", user))
    with pytest.raises(INTEGRITY_ERRORS):
        fresh_db.write(lambda cur: _receipt(cur, number, seq, payment, key, user))
    assert fresh_db.value("SELECT count(*) FROM cash_receipts") == 1
