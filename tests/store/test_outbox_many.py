"""A month's invoices queue one message per document: at city scale, more messages than one
statement may carry parameters on PostgreSQL (65,535). They all go in, once each."""

from __future__ import annotations

from datetime import datetime

from lib.domain.letters import MailKind
from lib.store import outbox

NOW = datetime(2026, 11, 27, 8, 30)


def message(n: int, dedupe: bool, attempt: int = 1) -> outbox.NewMessage:
    return outbox.NewMessage(
        kind=MailKind.INVITATION,
        message_id=f"<{n}.{attempt}@portail.test>",
        to_address=f"famille{n}@example.test",
        to_name=f"Famille {n}",
        subject="Votre facture",
        body_text="Bonjour",
        body_html="<p>Bonjour</p>",
        payload="{}",
        created_at=NOW,
        not_before=NOW,
        dedupe_key=f"invoice:{n}" if dedupe else None,
    )


def test_more_messages_than_a_statement_takes_parameters_all_go_in_once(fresh_db):
    messages = [message(n, dedupe=n % 2 == 0) for n in range(8000)]
    assert 8000 * len(outbox._values(messages[0])) > outbox.MAX_PARAMETERS

    ids = fresh_db.write(lambda cur: outbox.insert_many(cur, messages))

    assert len(ids) == len(set(ids)) == 8000
    assert fresh_db.value("SELECT count(DISTINCT message_id) FROM outbox") == 8000
    # queued again: the messages with a dedupe key already there are left out, the others go in again
    again = fresh_db.write(lambda cur: outbox.insert_many(cur, [message(n, n % 2 == 0, 2) for n in range(8000)]))
    assert len(again) == 4000
    assert fresh_db.value("SELECT count(*) FROM outbox") == 12000
