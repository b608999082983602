"""The mail worker against a real SMTP server (lib.mail.sink through the `smtp_sink` fixture):
delivery with the stored Message-ID, a server that is down (the batch waits, tries not counted,
the audit log told once), refusals (550 fails at once, 4xx waits longer each time), giving up
after 3 days, one-time links removed once sent, orphaned claims released, the daily jobs."""

from datetime import timedelta

import pytest

from lib.domain.letters import Letter, Link, MailKind
from lib.domain.mail_policy import REDACTED_LINK
from lib.services import daily, mail, mail_worker, setup
from lib.store import outbox
from tests.conftest import DEMO_NOW
from tests.helpers import point_at

HALF = 0.5  # the jitter's draw for exact back-offs: ±0 %


def queue_receipt(town, *, secret: bool = False) -> list[int]:
    link = Link("Choisir mon mot de passe", "http://127.0.0.1:8501/compte/jeton-secret") if secret else None
    letter = Letter(
        MailKind.INVITATION if secret else MailKind.BOOKING_RECEIPT,
        "Réservations d'Alice",
        ("Bonjour,", "Réservé : jeudi 3 décembre."),
        link=link,
        secret_link=secret,
    )
    return town.db.write(lambda cur: mail.queue(cur, letter, mail.family_recipients(cur, town.family_a), DEMO_NOW))


def row(db, outbox_id: int) -> dict:
    return db.dicts("SELECT * FROM outbox WHERE id = ?", [outbox_id])[0]


def worker(db, **kwargs) -> mail_worker.MailWorker:
    return mail_worker.MailWorker(db, draw=lambda: HALF, **kwargs)


def transport_events(db) -> list[str]:
    return [a for (a,) in db.rows("SELECT action FROM audit_log WHERE action LIKE 'mail.transport%' ORDER BY id")]


def test_a_queued_message_is_delivered_with_its_message_id_and_recorded_as_sent(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    [queued] = queue_receipt(town)
    stored = row(town.db, queued)
    assert worker(town.db).run_once(DEMO_NOW) == 1
    received = smtp_sink.wait_for(town.parent_a)
    assert received["Message-ID"] == stored["message_id"]
    assert received["Subject"] == "Réservations d'Alice"
    assert received["From"].addresses[0].addr_spec == "enfance@petite-ville.test"
    assert received["Reply-To"] == "enfance@petite-ville.test"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Date"].datetime == DEMO_NOW
    assert "Réservé : jeudi 3 décembre." in received.get_body(("plain",)).get_content()
    assert "<p>Réservé : jeudi 3 décembre.</p>" in received.get_body(("html",)).get_content()
    sent = row(town.db, queued)
    assert sent["state"] == "sent" and sent["attempts"] == 1 and sent["sent_at"] is not None
    assert sent["smtp_reply"].startswith("250 2.0.0 Ok: queued as")
    assert worker(town.db).run_once(DEMO_NOW) == 0  # nothing sent twice
    assert len(smtp_sink.messages()) == 1


def test_a_one_time_link_is_removed_from_the_stored_bodies_once_sent(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    [queued] = queue_receipt(town, secret=True)
    worker(town.db).run_once(DEMO_NOW)
    assert smtp_sink.link_in(smtp_sink.wait_for(town.parent_a)) == "http://127.0.0.1:8501/compte/jeton-secret"
    sent = row(town.db, queued)
    assert "jeton-secret" not in sent["body_text"] + sent["body_html"]
    assert REDACTED_LINK in sent["body_text"] and REDACTED_LINK in sent["body_html"]


def _links_left(db, outbox_id: int) -> str:
    found = row(db, outbox_id)
    return found["body_text"] + found["body_html"]


def test_a_one_time_link_is_removed_when_its_message_fails(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    smtp_sink.refuse(town.parent_a)
    [queued] = queue_receipt(town, secret=True)
    worker(town.db).run_once(DEMO_NOW)
    assert row(town.db, queued)["state"] == "failed"
    assert "jeton-secret" not in _links_left(town.db, queued) and REDACTED_LINK in _links_left(town.db, queued)


def test_a_one_time_link_is_removed_when_its_message_is_given_up_after_three_days(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    smtp_sink.stop()
    [queued] = queue_receipt(town, secret=True)
    worker(town.db).run_once(DEMO_NOW + timedelta(days=3))
    assert row(town.db, queued)["state"] == "failed" and "jeton-secret" not in _links_left(town.db, queued)


def test_a_one_time_link_is_removed_when_its_message_is_cancelled_and_html_links_too(town):
    [queued] = queue_receipt(town, secret=True)
    [plain] = queue_receipt(town)
    admin = town.login(town.admin)
    for outbox_id in (queued, plain):
        mail.cancel(town.db, admin, outbox_id, DEMO_NOW)
    body = row(town.db, queued)["body_html"]
    assert "jeton-secret" not in body and 'href="(lien à usage unique retiré)"' in body
    assert REDACTED_LINK in row(town.db, queued)["body_text"]
    assert "Réservé : jeudi 3 décembre." in row(town.db, plain)["body_text"]  # no link: the body stays


def test_a_one_time_link_still_waiting_after_seven_days_is_given_up_and_removed_by_the_daily_job(town):
    [old] = queue_receipt(town, secret=True)
    [fresh] = town.db.write(
        lambda cur: mail.queue(
            cur,
            Letter(
                MailKind.INVITATION,
                "Invitation",
                ("Bonjour,",),
                link=Link("Lien", "https://x.test/jeton-neuf"),
                secret_link=True,
            ),
            mail.family_recipients(cur, town.family_a),
            DEMO_NOW + timedelta(days=6),
        )
    )
    mail.purge_old_bodies(town.db, DEMO_NOW + timedelta(days=7, seconds=1))
    expired = row(town.db, old)
    assert expired["state"] == "failed" and expired["last_error"] == mail.LINK_EXPIRED_UNSENT
    assert "jeton-secret" not in _links_left(town.db, old)
    assert row(town.db, fresh)["state"] == "waiting" and "jeton-neuf" in _links_left(town.db, fresh)
    assert mail.purge_old_bodies in daily.JOBS


def test_a_server_down_leaves_the_batch_waiting_with_a_french_error_and_a_growing_pause(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    [queued] = queue_receipt(town)
    smtp_sink.stop()
    sender = worker(town.db)
    assert sender.run_once(DEMO_NOW) == 0
    first = row(town.db, queued)
    assert first["state"] == "waiting" and first["attempts"] == 0  # the message is not to blame
    assert "injoignable : connexion refusée" in first["last_error"]
    assert first["not_before"] - first["created_at"] == timedelta(minutes=1)
    later = DEMO_NOW + timedelta(minutes=1)
    sender.run_once(later)
    second = row(town.db, queued)
    assert second["not_before"] - first["not_before"] == timedelta(minutes=2)  # 1, then 2 minutes
    assert transport_events(town.db) == ["mail.transport_down"]  # said once, not at every try
    smtp_sink.start_again()
    assert sender.run_once(later + timedelta(minutes=2)) == 1
    assert row(town.db, queued)["state"] == "sent"
    assert transport_events(town.db) == ["mail.transport_down", "mail.transport_up"]


def test_a_permanent_refusal_fails_at_once_with_the_servers_reply(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    smtp_sink.refuse(town.parent_a)
    [queued] = queue_receipt(town)
    worker(town.db).run_once(DEMO_NOW)
    failed = row(town.db, queued)
    assert failed["state"] == "failed"
    assert failed["last_error"] == (
        f"Refusé par le serveur d'envoi pour le destinataire {town.parent_a} : 550 5.1.1 Mailbox unavailable"
    )
    assert smtp_sink.messages() == []


def test_a_temporary_refusal_waits_longer_after_each_try(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    smtp_sink.refuse(town.parent_a, "451 4.3.0 Try again later")
    [queued] = queue_receipt(town)
    sender = worker(town.db)
    sender.run_once(DEMO_NOW)
    first = row(town.db, queued)
    assert first["state"] == "waiting" and first["attempts"] == 1
    assert first["last_error"].startswith("Refus temporaire du serveur d'envoi") and "451" in first["last_error"]
    sender.run_once(DEMO_NOW + timedelta(minutes=1))
    second = row(town.db, queued)
    assert second["attempts"] == 2 and second["not_before"] - first["not_before"] == timedelta(minutes=2)


def test_a_message_still_undelivered_after_three_days_fails(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    [queued] = queue_receipt(town)
    smtp_sink.stop()
    worker(town.db).run_once(DEMO_NOW + timedelta(days=3))
    failed = row(town.db, queued)
    assert failed["state"] == "failed"
    assert failed["last_error"].startswith("Non remis après 3 jours d'essais : Serveur d'envoi 127.0.0.1:")
    [queued] = queue_receipt(town)
    worker(town.db).run_once(DEMO_NOW + timedelta(days=3) - timedelta(minutes=1))
    assert row(town.db, queued)["state"] == "waiting"  # younger: tried again later


def test_settings_that_cannot_send_keep_messages_waiting_and_say_why(town):
    [queued] = queue_receipt(town)  # the small town has no mail settings (the sender: contact_email)
    worker(town.db).run_once(DEMO_NOW)
    waiting = row(town.db, queued)
    assert waiting["state"] == "waiting"
    assert waiting["last_error"] == (
        "Le serveur d'envoi n'est pas réglé : python -m lib.services.setup set smtp_host …"
    )


def test_the_start_releases_claims_a_killed_server_left(town):
    [queued] = queue_receipt(town)
    town.db.write(lambda cur: outbox.claim(cur, DEMO_NOW.replace(tzinfo=None), DEMO_NOW.replace(tzinfo=None), 10))
    assert row(town.db, queued)["state"] == "sending"
    started = mail_worker.start_for_server(town.db)
    started.stop()
    assert row(town.db, queued)["state"] == "waiting"  # (a round may have run: still waiting, no server)
    assert row(town.db, queued)["attempts"] == 0


def test_the_daily_jobs_run_once_a_paris_day_after_eight_and_purge_old_bodies(town, smtp_sink, monkeypatch):
    point_at(town.db, smtp_sink.port)
    [old] = queue_receipt(town)
    worker(town.db).run_once(DEMO_NOW)
    ran = []
    monkeypatch.setattr(daily, "JOBS", [*daily.JOBS, lambda db, now: ran.append(now)])
    early = (DEMO_NOW + timedelta(days=91)).replace(hour=7, minute=59)
    assert not daily.run_due(town.db, early)
    assert row(town.db, old)["body_text"] is not None
    assert daily.run_due(town.db, early.replace(hour=8, minute=1))
    assert not daily.run_due(town.db, early.replace(hour=18))  # once a day
    purged = row(town.db, old)
    assert purged["body_text"] is None and purged["body_html"] is None and purged["state"] == "sent"
    assert len(ran) == 1
    assert daily.run_due(town.db, early + timedelta(days=1, hours=2))
    assert len(ran) == 2


def test_a_recent_sent_message_keeps_its_bodies(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    [recent] = queue_receipt(town)
    worker(town.db).run_once(DEMO_NOW)
    mail.purge_old_bodies(town.db, DEMO_NOW + timedelta(days=89))
    assert row(town.db, recent)["body_text"] is not None


@pytest.mark.parametrize("per_minute, claimed", [(0, 3), (2, 2)])
def test_the_rate_limit_caps_a_batch(town, smtp_sink, per_minute, claimed):
    point_at(town.db, smtp_sink.port)
    setup.set_setting(town.db, "mail_per_minute", str(per_minute), DEMO_NOW)
    for _ in range(3):
        queue_receipt(town)
    assert worker(town.db).run_once(DEMO_NOW) == claimed


def test_an_smtp_server_that_hangs_never_holds_a_page_s_write(town, smtp_sink):
    """The worker waits for a greeting that never comes, with no transaction open: a family's
    change (here, queuing a message) is written meanwhile, and the worker is still waiting."""
    import socket
    import threading
    import time

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections wait in the backlog: never accepted, never greeted
        point_at(town.db, silent.getsockname()[1])
        [first] = queue_receipt(town)
        sender = threading.Thread(target=worker(town.db).run_once, args=(DEMO_NOW,))
        sender.start()
        deadline = time.monotonic() + 10
        while row(town.db, first)["state"] != "sending":
            assert time.monotonic() < deadline, "the worker claimed nothing"
            time.sleep(0.02)
        [second] = queue_receipt(town)
        assert row(town.db, second)["state"] == "waiting" and sender.is_alive()
    sender.join(30)  # the listener closed: the worker's connection ends
    assert not sender.is_alive()
    assert row(town.db, first)["state"] == "waiting" and row(town.db, first)["last_error"]


def test_a_password_file_others_may_read_keeps_messages_waiting_and_says_why(town, smtp_sink, monkeypatch, tmp_path):
    point_at(town.db, smtp_sink.port)
    setup.set_setting(town.db, "smtp_user", "portail", DEMO_NOW)
    monkeypatch.delenv(mail.SMTP_PASSWORD_ENV, raising=False)
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    monkeypatch.setenv(mail.SMTP_PASSWORD_FILE_ENV, str(secret))
    [queued] = queue_receipt(town)
    worker(town.db).run_once(DEMO_NOW)
    waiting = row(town.db, queued)
    assert waiting["state"] == "waiting" and "chmod 600" in waiting["last_error"]
    assert "s3cret" not in waiting["last_error"] and smtp_sink.messages() == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # the sink listens on 127.0.0.1 only
@pytest.mark.parametrize("password, delivered", [("bon mot de passe", True), ("mauvais", False)])
def test_the_smtp_account_logs_in_with_the_password_from_the_environment(
    town, tmp_path, monkeypatch, password, delivered
):
    from lib.mail.sink import start_sink

    relay = start_sink(tmp_path / "relais", login=("portail", "bon mot de passe"))
    try:
        point_at(town.db, relay.port)
        setup.set_setting(town.db, "smtp_user", "portail", DEMO_NOW)
        monkeypatch.setenv(mail.SMTP_PASSWORD_ENV, password)
        [queued] = queue_receipt(town)
        worker(town.db).run_once(DEMO_NOW)
    finally:
        relay.stop()
    stored = row(town.db, queued)
    if delivered:
        assert stored["state"] == "sent"
    else:
        assert stored["state"] == "waiting" and stored["attempts"] == 0
        assert stored["last_error"].startswith(
            f"Serveur d'envoi 127.0.0.1:{relay.port} a refusé l'identifiant portail : 535"
        )
