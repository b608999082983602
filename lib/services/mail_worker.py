"""The mail worker: a thread of the server's process that sends what the outbox holds.

A thread, not asyncio: smtplib and DuckDB block, and uvicorn's event loop must never wait for an
SMTP server, so a page is never slowed by one that is down (pages only insert rows). Each round:
1. claim the due messages in one short write (`sending`, one more try, a lease);
2. send them with no transaction open, over one SMTP connection;
3. record each result in a short write: `sent` (its time and the server's reply; a one-time link is
   removed from the bodies), back to waiting with a growing pause, or `failed` (a 5xx answer, or
   still undelivered 3 days after it was queued).
When the server cannot be reached, the batch waits with its tries uncounted, and the audit log
says so once (`mail.transport_down`), and once again when it answers (`mail.transport_up`).
A message is sent at least once: a kill -9 between the server's 250 and step 3 sends it again at
the next start, with the same Message-ID (mail clients show it once).

On PostgreSQL every replica runs this worker on the one database: a claim is one worker's (the
store's claim skips rows another worker is claiming, in a SERIALIZABLE transaction), and a
replica that starts releases only the claims whose lease ran out (another replica may be sending
the others), so each message is sent once, not once per replica (tests/services/test_mail_replicas.py).

`start_for_server(db)` (server.py's lifespan) releases the claims a killed process left, starts
the demo's sink when `mail_transport=sink`, and starts the thread; `stop()` ends both. Tests call
`run_once(now)` directly."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime

from lib.domain.clock import to_utc_naive
from lib.domain.mail_policy import (
    BATCH,
    LEASE,
    POLL_SECONDS,
    give_up_text,
    given_up,
    retry_after,
    shortened,
)
from lib.mail import message as letters_out
from lib.mail import transport
from lib.mail.sink import start_sink
from lib.services import config, daily, mail
from lib.store import audit, outbox, reference
from lib.store.db import Cursor, Database

LOG = logging.getLogger("portail.courriels")
STOP_WAIT_S = 10.0
MINUTE_S = 60.0


class MailWorker:
    """Sends the outbox; `draw` is the back-off's random source (the tests pass their own)."""

    def __init__(
        self,
        db: Database,
        *,
        sink_port: int | None = None,
        draw: Callable[[], float] = random.random,
        clock: Callable[[], datetime] = config.clock_now,
        on_stop: tuple[Callable[[], None], ...] = (),
    ):
        self.db = db
        self.sink_port = sink_port
        self._draw = draw
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_stop = on_stop
        last = outbox.last_transport_event(db)
        self._down = last is not None and last[0] == outbox.TRANSPORT_DOWN
        self._down_streak = 0
        self._retry_transport_at: datetime | None = None
        self._last_sending: mail.Sending | None = None

    # --- one round ------------------------------------------------------------------------------
    def run_once(self, now: datetime) -> int:
        """Claim, send and record one batch of due messages; how many the server took."""
        at = to_utc_naive(now)
        sending = mail.sending_settings(reference.settings(self.db), self.sink_port)
        if sending != self._last_sending:  # new settings: try them at once
            self._retry_transport_at, self._last_sending = None, sending
        if self._retry_transport_at is not None and at < self._retry_transport_at:
            return 0
        limit = min(BATCH, sending.per_minute) if sending.per_minute else BATCH
        claimed = self.db.write(lambda cur: outbox.claim(cur, at, at + LEASE, limit))
        if not claimed:
            return 0
        tried = sent = 0
        try:
            if sending.smtp is None:
                raise transport.TransportDown(sending.problem or "Envoi des courriels non configuré.")
            with transport.connect(sending.smtp) as smtp:
                for item in claimed:
                    sent += self._send_one(smtp, item, sending, at)
                    tried += 1
        except transport.TransportDown as exc:
            self._transport_down(claimed[tried:], exc.message, at)
            return sent
        self._transport_up(at)
        return sent

    def _send_one(self, smtp: transport.Connection, item: outbox.Claimed, sending: mail.Sending, at: datetime) -> bool:
        """Hand one message over and record the outcome; whether the server took it."""
        try:
            if item.body_text is None or item.body_html is None:
                raise transport.Permanent("Le contenu de ce courriel a été effacé : il ne peut plus être envoyé.")
            built = letters_out.build(
                letters_out.Outgoing(
                    item.message_id,
                    item.to_address,
                    item.to_name,
                    item.subject,
                    item.body_text,
                    item.body_html,
                    item.created_at,
                ),
                sending.sender,
                sending.reply_to,
            )
            reply = smtp.send(built, sending.envelope, item.to_address)
        except transport.TransportDown:
            raise
        except transport.Temporary as exc:
            self._retry(item, exc.message, at)
            return False
        except (transport.Permanent, ValueError) as exc:
            reason = exc.message if isinstance(exc, transport.Permanent) else f"Courriel impossible à écrire : {exc}"
            self.db.write(lambda cur: outbox.record_failed(cur, item.id, shortened(reason)))
            return False
        self.db.write(lambda cur: outbox.record_sent(cur, item.id, at, shortened(reply)))
        return True

    def _retry(self, item: outbox.Claimed, error: str, at: datetime) -> None:
        if given_up(item.created_at, at):
            self.db.write(lambda cur: outbox.record_failed(cur, item.id, give_up_text(error)))
        else:
            wait = retry_after(item.attempts, self._draw)
            self.db.write(lambda cur: outbox.record_retry(cur, [item.id], at + wait, shortened(error), blamed=True))

    def _transport_down(self, items: list[outbox.Claimed], error: str, at: datetime) -> None:
        self._down_streak += 1
        self._retry_transport_at = at + retry_after(self._down_streak, self._draw)
        expired = [i for i in items if given_up(i.created_at, at)]
        waiting = [i.id for i in items if i not in expired]
        announce = not self._down

        def work(cur: Cursor) -> None:
            for item in expired:
                outbox.record_failed(cur, item.id, give_up_text(error))
            outbox.record_retry(cur, waiting, self._retry_transport_at or at, shortened(error), blamed=False)
            if announce:
                _record(cur, at, outbox.TRANSPORT_DOWN, error)

        self.db.write(work)
        self._down = True

    def _transport_up(self, at: datetime) -> None:
        self._down_streak, self._retry_transport_at = 0, None
        if self._down:
            self.db.write(lambda cur: _record(cur, at, outbox.TRANSPORT_UP, None))
            self._down = False

    # --- the thread -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="portail-courriels", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread (within STOP_WAIT_S) and what it started."""
        self._stopping.set()
        mail.WAKE.set()
        if self._thread is not None:
            self._thread.join(STOP_WAIT_S)
        for stop in self._on_stop:
            stop()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            mail.WAKE.wait(POLL_SECONDS)
            mail.WAKE.clear()
            if self._stopping.is_set():
                break
            throttled = False
            try:
                now = self._clock()
                sent = self.run_once(now)
                per_minute = self._last_sending.per_minute if self._last_sending else 0
                throttled = bool(per_minute) and sent >= per_minute
                daily.run_due(self.db, now)
            except Exception:  # the thread must outlive any one round's surprise
                LOG.exception("Envoi des courriels : tour en échec")
            if throttled:
                self._stopping.wait(MINUTE_S)


def _record(cur: Cursor, at: datetime, action: str, reason: str | None) -> None:
    audit.record(cur, at_utc=at, user_id=None, action=action, entity="mail", entity_id=None, reason=reason)


def start_for_server(db: Database) -> MailWorker:
    """At the server's start: release orphaned claims, start the demo's sink if the town uses it,
    and the worker's thread."""
    db.write(outbox.release_claims)
    sink_port = None
    stops: list[Callable[[], None]] = []
    if reference.settings(db).get("mail_transport") == mail.SINK:
        try:
            sink = start_sink(config.mail_sink_dir())
        except OSError as exc:  # the pages still serve; the messages wait, the outbox says why
            print(f"Portail Famille : boîte de démonstration non démarrée ({exc}).", flush=True)
        else:
            sink_port = sink.port
            stops.append(sink.stop)
            print(f"Portail Famille : courriels de démonstration dans {config.mail_sink_dir()}", flush=True)
    worker = MailWorker(db, sink_port=sink_port, on_stop=tuple(stops))
    worker.start()
    mail.WAKE.set()  # what waited while the server was stopped
    return worker


__all__ = ["MailWorker", "start_for_server"]
