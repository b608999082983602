"""Queuing e-mail inside the change it reports: committed with it, rolled back with it, the family's
preferences followed, a deduplicated message queued once."""

from datetime import timedelta

import pytest

from lib.domain.letters import Letter, MailKind
from lib.services import mail
from tests.conftest import DEMO_NOW


def _outbox(db):
    return db.rows("SELECT kind, to_address, state, subject, family_id, user_id FROM outbox ORDER BY id")


def _receipt() -> Letter:
    return Letter(MailKind.BOOKING_RECEIPT, "Réservations d'Alice", ("Bonjour,", "Réservé : jeudi 3 décembre."))


def test_a_message_is_queued_for_each_account_of_the_family_and_committed_with_the_change(town):
    db = town.db
    ids = db.write(lambda cur: mail.queue(cur, _receipt(), mail.family_recipients(cur, town.family_a), DEMO_NOW))
    rows = _outbox(db)
    assert len(ids) == len(rows) >= 1
    assert {r[1] for r in rows} == {town.parent_a}
    assert all(r[0] == "booking_receipt" and r[2] == "waiting" and r[4] == town.family_a for r in rows)
    assert db.value("SELECT count(DISTINCT message_id) FROM outbox") == len(rows)


def test_a_change_that_rolls_back_takes_its_message_with_it(town):
    db = town.db

    def work(cur):
        mail.queue(cur, _receipt(), mail.family_recipients(cur, town.family_a), DEMO_NOW)
        raise RuntimeError("the change fails after queuing")

    with pytest.raises(RuntimeError):
        db.write(work, attempts=1)
    assert _outbox(db) == []


def test_an_optional_kind_turned_off_is_not_queued_unless_the_staff_made_the_change(town):
    db = town.db
    user = db.value("SELECT id FROM users WHERE email = ?", [town.parent_a])
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO mail_preferences VALUES (?, 'booking_receipt', FALSE, ?)",
            [user, DEMO_NOW.replace(tzinfo=None)],
        )
    )
    assert db.write(lambda cur: mail.queue(cur, _receipt(), mail.family_recipients(cur, town.family_a), DEMO_NOW)) == []
    assert db.write(
        lambda cur: mail.queue(cur, _receipt(), mail.family_recipients(cur, town.family_a), DEMO_NOW, always=True)
    )


def test_a_deduplicated_message_is_queued_once(town):
    db = town.db
    letter = Letter(MailKind.PAYMENT_RECEIPT, "Paiement reçu", ("Bonjour,",))
    for _ in range(2):
        db.write(
            lambda cur: mail.queue(
                cur, letter, mail.family_recipients(cur, town.family_a), DEMO_NOW, dedupe_key="payment:1"
            )
        )
    assert len(_outbox(db)) == 1


def test_a_delay_holds_the_first_try_back(town):
    db = town.db
    db.write(
        lambda cur: mail.queue(
            cur, _receipt(), mail.family_recipients(cur, town.family_a), DEMO_NOW, delay=timedelta(minutes=5)
        )
    )
    created, not_before = db.row("SELECT created_at, not_before FROM outbox")
    assert not_before - created == timedelta(minutes=5)
