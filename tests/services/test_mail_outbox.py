"""The administrator's outbox: « Renvoyer », « Annuler », the trial message, the banner, the demo's
mailbox; each entry point refused to families and agents, with nothing written; the mail settings
checked when they are set, the SMTP password never in the database."""

import os
from datetime import timedelta

import pytest

from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.letters import Letter, Link, MailKind, MailState
from lib.mail.sink import start_sink
from lib.services import config, mail, mail_worker, setup
from lib.store import outbox
from tests.conftest import DEMO_NOW, login
from tests.helpers import point_at

HALF = 0.5


def queue(town, *, secret: bool = False) -> int:
    link = Link("Choisir mon mot de passe", "http://127.0.0.1:8501/compte/jeton") if secret else None
    letter = Letter(
        MailKind.INVITATION if secret else MailKind.CLOSURE,
        "Fermeture du centre",
        ("Bonjour,",),
        link=link,
        secret_link=secret,
    )
    [queued] = town.db.write(lambda cur: mail.queue(cur, letter, mail.family_recipients(cur, town.family_a), DEMO_NOW))
    return queued


def state(db, outbox_id: int) -> tuple:
    return db.row("SELECT state, message_id, resent_from FROM outbox WHERE id = ?", [outbox_id])


def everything(db) -> tuple:
    return db.rows("SELECT * FROM outbox ORDER BY id"), db.rows("SELECT * FROM audit_log ORDER BY id")


def send(db) -> None:
    mail_worker.MailWorker(db, draw=lambda: HALF).run_once(DEMO_NOW)


def test_a_failed_message_is_resent_with_its_message_id(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    smtp_sink.refuse(town.parent_a)
    queued = queue(town)
    send(town.db)
    failed, message_id, _ = state(town.db, queued)
    assert failed == "failed"
    assert mail.resend(town.db, admin, queued, DEMO_NOW) == queued
    assert state(town.db, queued) == ("waiting", message_id, None)
    smtp_sink.stop()
    smtp_sink.start_again()  # the address works again
    send(town.db)
    assert smtp_sink.wait_for(town.parent_a)["Message-ID"] == message_id
    assert town.db.value("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == "mail.resend"


def test_a_sent_message_is_resent_as_a_new_message(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    queued = queue(town)
    send(town.db)
    copy = mail.resend(town.db, admin, queued, DEMO_NOW)
    assert copy != queued
    waiting, new_id, resent_from = state(town.db, copy)
    assert waiting == "waiting" and resent_from == queued and new_id != state(town.db, queued)[1]
    send(town.db)
    assert len({m["Message-ID"] for m in smtp_sink.messages()}) == 2


def _moves(db, old: str, new: str) -> None:
    """The account changed its e-mail (confirmed through its link) after the message went."""
    db.write(lambda cur: cur.execute("UPDATE users SET email = ? WHERE email = ?", [new, old]))


def test_a_sent_message_is_resent_to_the_accounts_current_address(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    queued = queue(town)
    send(town.db)
    _moves(town.db, town.parent_a, "nouvelle@exemple.fr")
    copy = mail.resend(town.db, admin, queued, DEMO_NOW)
    assert town.db.value("SELECT to_address FROM outbox WHERE id = ?", [copy]) == "nouvelle@exemple.fr"
    send(town.db)
    assert smtp_sink.wait_for("nouvelle@exemple.fr")["Message-ID"] != state(town.db, queued)[1]


def test_a_failed_message_is_resent_to_the_accounts_current_address(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    smtp_sink.refuse(town.parent_a)
    queued = queue(town)
    send(town.db)
    _moves(town.db, town.parent_a, "nouvelle@exemple.fr")
    assert mail.resend(town.db, admin, queued, DEMO_NOW) == queued
    assert town.db.value("SELECT to_address FROM outbox WHERE id = ?", [queued]) == "nouvelle@exemple.fr"
    send(town.db)
    assert smtp_sink.wait_for("nouvelle@exemple.fr")["Message-ID"] == state(town.db, queued)[1]


def test_a_one_time_link_is_never_resent_and_the_refusal_says_what_to_do(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    queued = queue(town, secret=True)
    send(town.db)
    before = everything(town.db)
    with pytest.raises(InvalidInput, match=r"lien à usage unique .* Envoyez une nouvelle invitation"):
        mail.resend(town.db, admin, queued, DEMO_NOW)
    assert everything(town.db) == before


def test_only_waiting_messages_are_cancelled_and_only_sent_or_failed_ones_resent(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    queued = queue(town)
    before = everything(town.db)
    with pytest.raises(InvalidInput, match=r"Seul un courriel envoyé ou en échec peut être renvoyé .*« en attente »"):
        mail.resend(town.db, admin, queued, DEMO_NOW)
    assert everything(town.db) == before
    mail.cancel(town.db, admin, queued, DEMO_NOW)
    assert state(town.db, queued)[0] == "cancelled"
    assert town.db.value("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == "mail.cancel"
    send(town.db)
    assert smtp_sink.messages() == []  # a cancelled message does not go
    before = everything(town.db)
    with pytest.raises(InvalidInput, match=r"Seul un courriel en attente peut être annulé .*« annulé »"):
        mail.cancel(town.db, admin, queued, DEMO_NOW)
    assert everything(town.db) == before


@pytest.mark.parametrize("bad", [999_999, -1, True, "1"])
def test_an_unknown_message_is_refused_in_french(town, bad):
    admin = town.login(town.admin)
    before = everything(town.db)
    for action in (mail.resend, mail.cancel):
        with pytest.raises(NotFound, match=r"Ce courriel n'existe pas\."):
            action(town.db, admin, bad, DEMO_NOW)
    assert everything(town.db) == before


def test_the_trial_message_goes_to_the_administrators_own_address(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    queued = mail.send_trial(town.db, admin, DEMO_NOW)
    send(town.db)
    received = smtp_sink.wait_for(town.admin)
    assert received["Subject"] == "Courriel d'essai du Portail Famille"
    assert state(town.db, queued)[0] == "sent"


def test_the_outbox_lists_messages_in_french_and_filters_them(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    smtp_sink.refuse(town.parent_a)
    queue(town)
    send(town.db)
    queue(town, secret=True)
    view = mail.outbox_view(town.db, admin, DEMO_NOW)
    assert [(e.kind, e.state, e.may_resend, e.may_cancel) for e in view.entries] == [
        ("Invitation à créer son mot de passe", MailState.WAITING, False, True),
        ("Fermeture ou grève", MailState.FAILED, True, False),
    ]
    assert view.entries[1].family == "Famille Aubert" and "550" in view.entries[1].last_error
    assert view.families == [(town.family_a, "Famille Aubert")] and not view.demo
    assert [e.state for e in mail.outbox_view(town.db, admin, DEMO_NOW, MailState.FAILED).entries] == [MailState.FAILED]
    assert mail.outbox_view(town.db, admin, DEMO_NOW, family_id=town.family_b).entries == []


def test_the_banner_tells_of_a_server_down_and_of_messages_waiting_too_long(town, smtp_sink):
    point_at(town.db, smtp_sink.port)
    admin = town.login(town.admin)
    queue(town)
    assert mail.outbox_view(town.db, admin, DEMO_NOW).banner is None
    late = mail.outbox_view(town.db, admin, DEMO_NOW + timedelta(minutes=20)).banner
    assert late.startswith("Le plus ancien courriel en attente date du 27/11/2026 à 9 h 30 : 1 courriel(s) en attente.")
    smtp_sink.stop()
    send(town.db)
    down = mail.outbox_view(town.db, admin, DEMO_NOW).banner
    assert down.startswith("Le serveur d'envoi des courriels ne répond pas depuis le 27/11/2026 à 9 h 30")
    assert "connexion refusée" in down


@pytest.mark.parametrize("who", ["parent_a", "agent", "mayor", "cook"])
def test_only_the_administrator_reaches_the_outbox(town, who):
    actor = town.login(getattr(town, who))
    queued = queue(town)
    before = everything(town.db)
    for call in (
        lambda: mail.outbox_view(town.db, actor, DEMO_NOW),
        lambda: mail.resend(town.db, actor, queued, DEMO_NOW),
        lambda: mail.cancel(town.db, actor, queued, DEMO_NOW),
        lambda: mail.cancel(town.db, actor, 999_999, DEMO_NOW),  # the same answer for an unknown id
        lambda: mail.send_trial(town.db, actor, DEMO_NOW),
        lambda: mail.demo_mailbox(town.db, actor),
    ):
        with pytest.raises(NotAllowed, match="n'est pas ouverte à votre profil"):
            call()
    assert everything(town.db) == before


def test_the_demo_mailbox_shows_what_each_family_received_once_with_the_portals_links(demo_db, monkeypatch):
    from lib.mail.sink import received

    monkeypatch.setenv("PORTAIL_PUBLIC_URL", "http://127.0.0.1:8501")
    admin = login(demo_db, "admin@demo.fr")
    sink = start_sink(config.mail_sink_dir())
    try:
        letter = Letter(
            MailKind.INVOICE_PUBLISHED,
            "Essai de la boîte",
            ("Bonjour,",),
            link=Link("Voir la facture", "http://127.0.0.1:8501/mes-factures"),
            after=("Ailleurs : https://exemple.org/piege",),
        )
        demo_db.write(lambda cur: mail.queue(cur, letter, mail.family_recipients(cur, 1), DEMO_NOW))
        worker = mail_worker.MailWorker(demo_db, sink_port=sink.port, draw=lambda: HALF)
        while worker.run_once(DEMO_NOW):  # the demo's own messages too
            pass
        # a second copy of the same message (a resend after a crash) is shown once
        [ours] = [r for r in received(config.mail_sink_dir()) if r.subject == "Essai de la boîte"]
        sink.handler.box.add(ours.message.as_bytes())
    finally:
        sink.stop()
    [family] = [r for r in mail.demo_mailbox(demo_db, admin) if r.address == "parent@demo.fr"]
    [shown] = [m for m in family.letters if m.subject == "Essai de la boîte"]
    assert shown.links == [("Voir la facture", "http://127.0.0.1:8501/mes-factures")]
    assert "Ailleurs : https://exemple.org/piege" in shown.text


def test_the_demo_mailbox_exists_only_in_the_demo(town):
    with pytest.raises(InvalidInput, match="n'existe qu'en démonstration"):
        mail.demo_mailbox(town.db, town.login(town.admin))


# --- settings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, refusal",
    [
        ("mail_transport", "pigeon", "Valeur attendue : smtp ou sink."),
        ("smtp_port", "0", "smtp_port : saisissez un nombre entier entre 1 et 65535."),
        ("smtp_port", "vingt", "smtp_port : saisissez un nombre entier entre 1 et 65535."),
        ("smtp_security", "tls", "Valeur attendue : starttls ou ssl ou none."),
        ("smtp_host", "smtp ville.fr", "smtp_host : le nom ou l'adresse du serveur d'envoi"),
        ("mail_from", "Ville\r\nBcc: x@y.fr <a@b.fr>", "mail_from : une adresse"),
        ("mail_from", "pas une adresse", "mail_from : une adresse"),
        ("mail_from", "a@b.fr, c@d.fr", "mail_from : une adresse"),
        ("mail_per_minute", "-3", "mail_per_minute (0 : sans limite) : saisissez un nombre entier"),
    ],
)
def test_mail_settings_are_checked_in_french_and_nothing_is_written(town, key, value, refusal):
    before = town.db.rows("SELECT * FROM settings ORDER BY key"), everything(town.db)
    with pytest.raises(InvalidInput, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        setup.set_setting(town.db, key, value, DEMO_NOW)
    assert (town.db.rows("SELECT * FROM settings ORDER BY key"), everything(town.db)) == before


def test_sending_in_clear_is_only_allowed_to_this_machine(town):
    setup.set_setting(town.db, "smtp_host", "smtp.ma-ville.fr", DEMO_NOW)
    with pytest.raises(InvalidInput, match=r"Envoi sans chiffrement .* refusé vers smtp\.ma-ville\.fr"):
        setup.set_setting(town.db, "smtp_security", "none", DEMO_NOW)
    setup.set_setting(town.db, "smtp_host", "127.0.0.1", DEMO_NOW)
    setup.set_setting(town.db, "smtp_security", "none", DEMO_NOW)
    with pytest.raises(InvalidInput, match=r"refusé vers smtp\.ma-ville\.fr"):
        setup.set_setting(town.db, "smtp_host", "smtp.ma-ville.fr", DEMO_NOW)


def test_the_sender_keeps_its_name(town):
    setup.set_setting(
        town.db, "mail_from", "Ville de Petite-Ville – service enfance <Enfance@Petite-Ville.test>", DEMO_NOW
    )
    assert town.db.value("SELECT value FROM settings WHERE key = 'mail_from'") == (
        "Ville de Petite-Ville – service enfance <enfance@petite-ville.test>"
    )


def test_production_needs_an_smtp_server_a_sender_and_the_accounts_password(town, monkeypatch, tmp_path):
    monkeypatch.delenv(mail.SMTP_PASSWORD_ENV, raising=False)
    monkeypatch.setenv(mail.SMTP_PASSWORD_FILE_ENV, str(tmp_path / "smtp-password"))
    assert setup.mail_problems({"mail_transport": "sink"}) == [
        "les courriels ne partent pas vers un serveur d'envoi (mail_transport) : "
        "python -m lib.services.setup set mail_transport smtp"
    ]
    problems = setup.mail_problems({"mail_transport": "smtp", "smtp_user": "portail"})
    assert [p.split(" :")[0] for p in problems] == [
        "le serveur d'envoi des courriels n'est pas renseigné",
        "l'expéditeur des courriels n'est pas renseigné",
        "le compte SMTP portail n'a pas de mot de passe",
    ]
    ready = {"mail_transport": "smtp", "smtp_host": "smtp.ma-ville.fr", "mail_from": "a@b.fr", "smtp_user": "portail"}
    (tmp_path / "smtp-password").write_text("s3cret\n")
    os.chmod(tmp_path / "smtp-password", 0o644)
    [wide] = setup.mail_problems(ready)
    assert "chmod 600" in wide and "s3cret" not in wide
    os.chmod(tmp_path / "smtp-password", 0o600)
    assert setup.mail_problems(ready) == []
    assert mail.sending_settings(ready, None).smtp.password == "s3cret"
    monkeypatch.setenv(mail.SMTP_PASSWORD_ENV, "from-env")
    assert mail.sending_settings(ready, None).smtp.password == "from-env"
    assert setup.mail_problems({**ready, "smtp_security": "none"})[0].startswith(
        "envoi sans chiffrement vers smtp.ma-ville.fr"
    )


def test_the_password_is_not_a_setting(town):
    with pytest.raises(InvalidInput, match="Réglage inconnu « smtp_password »"):
        setup.set_setting(town.db, "smtp_password", "secret", DEMO_NOW)


def test_a_claim_is_leased_and_released(town):
    queued = queue(town)
    at = DEMO_NOW.replace(tzinfo=None) - timedelta(hours=1)
    [claimed] = town.db.write(lambda cur: outbox.claim(cur, at + timedelta(hours=1), at + timedelta(hours=2), 10))
    assert claimed.id == queued and claimed.attempts == 1
    assert town.db.write(lambda cur: outbox.claim(cur, at + timedelta(hours=2), at + timedelta(hours=3), 10)) == []
    [again] = town.db.write(lambda cur: outbox.claim(cur, at + timedelta(hours=3), at + timedelta(hours=4), 10))
    assert again.id == queued and again.attempts == 2  # the lease ran out: due again
    assert town.db.write(outbox.release_claims) == 1
    assert town.db.row("SELECT state, attempts FROM outbox WHERE id = ?", [queued]) == ("waiting", 1)


def test_the_demo_sends_to_its_own_mailbox_which_a_rebuild_empties(demo_db, tmp_path):
    from lib.tools import demo

    assert demo_db.value("SELECT value FROM settings WHERE key = 'mail_transport'") == "sink"
    box = tmp_path / "boite"
    sink = start_sink(box)
    sink.stop()
    (box / "new" / "old-message").write_bytes(b"Subject: old\n\nold\n")
    demo.empty_mailbox(box)
    assert list((box / "new").iterdir()) == [] and (box / "new").is_dir()
