"""E-mail is never lost: messages queued while the SMTP server is down survive a kill -9 of the
server (in whatever state the worker had them: waiting, or claimed), and the next start sends each
of them exactly once, with its Message-ID. And the demo's server starts its own sink, in-process,
where the queued messages land."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest

from lib.domain.letters import trial_letter
from lib.services import config, mail, setup
from lib.store.db import close_database, open_database
from tests.conftest import DEMO_NOW
from tests.serve import free_port, start_server, stop

pytestmark = pytest.mark.slow
MESSAGES = 20
TIMEOUT_S = 90


def _queue(db, count: int) -> None:
    def work(cur):
        for n in range(count):
            recipient = mail.Recipient(f"parent{n}@demo.fr", f"Parent {n}")
            mail.queue(cur, trial_letter(recipient.name), [recipient], DEMO_NOW)

    db.write(work)


def _poll(check, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_messages_queued_while_smtp_is_down_survive_a_kill_and_go_once(demo_path, tmp_path, smtp_sink):
    db = open_database(demo_path)
    for key, value in [
        ("mail_transport", "smtp"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", str(free_port())),  # nobody listens there
        ("smtp_security", "none"),
    ]:
        setup.set_setting(db, key, value, DEMO_NOW)
    db.write(lambda cur: cur.execute("UPDATE outbox SET state = 'cancelled'"))  # the demo's own, out of the way
    _queue(db, MESSAGES)
    queued = {m for (m,) in db.rows("SELECT message_id FROM outbox WHERE state = 'waiting'")}
    assert len(queued) == MESSAGES
    close_database(demo_path)

    log = tmp_path / "server.log"
    proc, _ = start_server(demo_path, log, frozen_now=DEMO_NOW.isoformat())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    db = open_database(demo_path)
    assert queued <= {m for (m,) in db.rows("SELECT message_id FROM outbox WHERE state <> 'cancelled'")}  # none lost
    assert db.value("SELECT count(*) FROM outbox WHERE state = 'sent'") == 0
    setup.set_setting(db, "smtp_port", str(smtp_sink.port), DEMO_NOW)  # the server is back
    close_database(demo_path)

    # Two hours later: past any back-off the first server may have set.
    proc, _ = start_server(demo_path, log, frozen_now=(DEMO_NOW + timedelta(hours=2)).isoformat())
    try:
        _poll(
            lambda: queued <= {m["Message-ID"] for m in smtp_sink.messages()}, "every message reaches the SMTP server"
        )
    finally:
        stop(proc)
    # (the daily run of a server's start may have queued and sent the demo's unpaid reminders too)
    received = [m["Message-ID"] for m in smtp_sink.messages()]
    assert len(received) == len(set(received))  # each Message-ID exactly once
    db = open_database(demo_path)
    assert {m for (m,) in db.rows("SELECT message_id FROM outbox WHERE state = 'sent'")} == set(received)
    close_database(demo_path)


def test_the_demo_server_runs_its_own_sink(demo_path, tmp_path):
    db = open_database(demo_path)
    _queue(db, 1)
    close_database(demo_path)
    box = config.mail_sink_dir(demo_path) / "new"
    proc, _ = start_server(demo_path, tmp_path / "server.log", frozen_now=DEMO_NOW.isoformat())
    try:
        _poll(
            lambda: box.is_dir() and any(b"parent0@demo.fr" in f.read_bytes() for f in box.iterdir()),
            "the demo's message lands in its mailbox",
        )
    finally:
        stop(proc)
