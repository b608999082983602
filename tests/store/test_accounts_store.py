"""The e-mail change on DuckDB: the UNIQUE e-mail of `users` and the (e-mail, address) key of
`login_known_addresses` take an address freed earlier, or freed in the same transaction."""

from datetime import datetime

import pytest

from lib.store import accounts
from lib.store.db import INTEGRITY_ERRORS

AT = datetime(2026, 11, 27, 8, 30)


@pytest.fixture
def db(fresh_db):
    def load(cur):
        cur.execute(
            """INSERT INTO users (id, email, password_hash, role, family_id, display_name, created_at) VALUES
               (1, 'a@exemple.fr', 'x', 'famille', 1, 'A', ?), (2, 'b@exemple.fr', 'x', 'famille', 2, 'B', ?)""",
            [AT, AT],
        )
        cur.execute(
            "INSERT INTO login_known_addresses VALUES ('a@exemple.fr', '192.0.2.1', ?), ('c@exemple.fr', '192.0.2.1', ?)",
            [AT, AT],
        )

    fresh_db.write(load)
    return fresh_db


def test_an_address_freed_by_one_account_is_taken_by_another(db):
    db.write(lambda cur: accounts.set_email(cur, 1, "a@exemple.fr", "c@exemple.fr"))
    db.write(lambda cur: accounts.set_email(cur, 2, "b@exemple.fr", "a@exemple.fr"))
    assert db.rows("SELECT id, email FROM users ORDER BY id") == [(1, "c@exemple.fr"), (2, "a@exemple.fr")]
    # the stale row of c@ gave way to a@'s, which followed the account
    assert db.rows("SELECT email, address, last_login_at FROM login_known_addresses") == [
        ("c@exemple.fr", "192.0.2.1", AT)
    ]


def test_two_accounts_swap_addresses_in_one_transaction(db):
    def swap(cur):
        accounts.set_email(cur, 1, "a@exemple.fr", "z@exemple.fr")
        accounts.set_email(cur, 2, "b@exemple.fr", "a@exemple.fr")
        accounts.set_email(cur, 1, "z@exemple.fr", "b@exemple.fr")

    db.write(swap)
    assert db.rows("SELECT id, email FROM users ORDER BY id") == [(1, "b@exemple.fr"), (2, "a@exemple.fr")]


def test_a_taken_address_is_refused_by_the_schema_itself(db):
    with pytest.raises(INTEGRITY_ERRORS):
        db.write(lambda cur: accounts.set_email(cur, 2, "b@exemple.fr", "a@exemple.fr"), attempts=1)
    assert db.rows("SELECT id, email FROM users ORDER BY id") == [(1, "a@exemple.fr"), (2, "b@exemple.fr")]
