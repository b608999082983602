"""The outbox sent once when every replica runs a mail worker: two workers (two PostgresDatabase
pools, as two processes have) on one PostgreSQL database and one real SMTP server (`smtp_sink`).

These run on PostgreSQL whatever the session's engine: the module starts its own server when the
session is on DuckDB (tests/engines.py's local_server)."""

from __future__ import annotations

import threading

import pytest

from lib.domain.clock import to_utc_naive
from lib.domain.letters import MailKind
from lib.domain.mail_policy import LEASE
from lib.services import mail_worker
from lib.store import outbox
from lib.store.db import close_database, open_database
from lib.store.postgres import PostgresDatabase
from tests import engines
from tests.conftest import DEMO_NOW
from tests.helpers import point_at

MESSAGES = 120  # more than two batches of lib.domain.mail_policy.BATCH


@pytest.fixture(scope="module")
def pg_server_url():
    """A PostgreSQL server of this module's own: the URL of its `postgres` database."""
    with engines.local_server() as server:
        yield server


@pytest.fixture
def pg_db(pg_server_url):
    """A new database with the schema, on that server."""
    url = engines.new_database(pg_server_url)
    db = open_database(url)
    yield db
    close_database(url)
    engines.drop(url)


def queue(db, count: int) -> list[int]:
    at = to_utc_naive(DEMO_NOW)

    def work(cur):
        return [
            outbox.insert(
                cur,
                outbox.NewMessage(
                    kind=MailKind.BOOKING_RECEIPT,
                    message_id=f"<{n}.replicas@petite-ville.test>",
                    to_address=f"parent{n}@petite-ville.test",
                    to_name=f"Parent {n}",
                    subject=f"Réservations n° {n}",
                    body_text=f"Bonjour,\n\nMessage {n}.",
                    body_html=f"<p>Bonjour,</p><p>Message {n}.</p>",
                    payload="{}",
                    created_at=at,
                    not_before=at,
                ),
            )
            for n in range(count)
        ]

    return db.write(work)


def message_ids(db) -> dict[int, str]:
    return dict(db.rows("SELECT id, message_id FROM outbox"))


def test_two_workers_on_one_database_send_each_message_once(pg_db, smtp_sink):
    """Two replicas' workers running rounds at the same time: every message reaches the SMTP server
    exactly once, and the outbox records each as sent once."""
    point_at(pg_db, smtp_sink.port)
    queued = queue(pg_db, MESSAGES)
    assert len(queued) == MESSAGES
    replicas = [PostgresDatabase(pg_db.url) for _ in range(2)]
    workers = [mail_worker.MailWorker(db, draw=lambda: 0.5) for db in replicas]
    start = threading.Barrier(len(workers))
    failures: list[BaseException] = []

    def run(worker: mail_worker.MailWorker) -> None:
        try:
            start.wait()
            for _ in range(50):  # a round takes up to a batch; stop when nothing is left
                if worker.run_once(DEMO_NOW) == 0 and not worker.db.value(
                    "SELECT count(*) FROM outbox WHERE state <> 'sent'"
                ):
                    return
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for db in replicas:
        db.close()
    assert not failures, failures
    states = pg_db.rows("SELECT state, count(*), max(attempts) FROM outbox GROUP BY state")
    assert states == [("sent", MESSAGES, 1)]
    received = [m["Message-ID"] for m in smtp_sink.messages()]
    assert sorted(received) == sorted(message_ids(pg_db).values())  # each once, none twice


def test_a_replica_that_starts_leaves_the_claims_of_another_that_is_sending(pg_db, smtp_sink):
    """Replica A has claimed a batch and is sending it; replica B starts (start_for_server releases
    orphaned claims) and runs a round: B neither releases nor sends A's messages. A's claim only
    becomes B's when its lease has run out (A died)."""
    point_at(pg_db, smtp_sink.port)
    queue(pg_db, 3)
    at = to_utc_naive(DEMO_NOW)
    lease = pg_db.value("SELECT localtimestamp") + LEASE  # a live claim, by the database's clock
    claimed_by_a = pg_db.write(lambda cur: outbox.claim(cur, at, lease, 10))
    assert len(claimed_by_a) == 3
    b = PostgresDatabase(pg_db.url)
    try:
        assert b.write(outbox.release_claims) == 0
        assert mail_worker.MailWorker(b, draw=lambda: 0.5).run_once(DEMO_NOW) == 0
        assert smtp_sink.messages() == []
        # A was killed: once its lease has run out, its claims are orphans, released and sent once.
        b.write(lambda cur: cur.execute("UPDATE outbox SET claimed_until = localtimestamp - INTERVAL '1 second'"))
        assert b.write(outbox.release_claims) == 3
        assert mail_worker.MailWorker(b, draw=lambda: 0.5).run_once(DEMO_NOW) == 3
    finally:
        b.close()
    assert len(smtp_sink.messages()) == 3
    assert pg_db.rows("SELECT state, attempts FROM outbox") == [("sent", 1)] * 3  # the dead try uncounted
