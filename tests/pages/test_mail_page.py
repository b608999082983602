"""« Courriels envoyés » through AppTest: the outbox in words, the trial message, « Annuler »,
the banner worked out from the database, the demo's mailbox with the portal's links as buttons,
and the page refused to anyone but the administrator."""

from datetime import timedelta

import pytest

from lib.domain.letters import Letter, Link, MailKind
from lib.mail.sink import start_sink
from lib.services import config, mail, mail_worker
from tests.conftest import DEMO_NOW
from tests.helpers import app_test, texts

PAGE = "pages/admin_courriels.py"


def test_the_trial_message_is_queued_listed_in_words_and_cancelled(demo_db):
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs] == ["File d'envoi", "Boîte de démonstration"]
    at.button(key="mail_trial").click().run()
    number = demo_db.value("SELECT max(id) FROM outbox WHERE kind = 'test'")
    assert f"Courriel d'essai n° {number} mis en file d'envoi" in texts(at)
    table = at.dataframe[0].value
    assert table.iloc[0]["Type"] == "Courriel d'essai" and table.iloc[0]["État"] == "en attente"
    assert table.iloc[0]["Destinataire"].endswith("<admin@demo.fr>")
    at.selectbox(key="mail_pick").set_value(number).run()
    assert at.button(key="mail_resend").disabled and not at.button(key="mail_cancel").disabled
    at.button(key="mail_cancel").click().run()
    assert f"Le courriel n° {number} ne sera pas envoyé." in texts(at)
    assert demo_db.value("SELECT state FROM outbox WHERE id = ?", [number]) == "cancelled"
    assert at.dataframe[0].value.iloc[0]["État"] == "annulé"
    at.selectbox(key="mail_state").set_value("envoyé").run()
    assert "Aucun courriel ne correspond à ces filtres." in texts(at)


def test_the_banner_says_messages_wait_too_long(demo_db, monkeypatch):
    demo_db.write(lambda cur: cur.execute("UPDATE outbox SET state = 'sent'"))  # the demo's own, out of the way
    demo_db.write(lambda cur: mail.queue(cur, _letter(), mail.family_recipients(cur, 1), DEMO_NOW))
    monkeypatch.setenv("PORTAIL_FROZEN_NOW", (DEMO_NOW + timedelta(hours=1)).isoformat())
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()
    assert [w.value for w in at.warning] == [
        "Le plus ancien courriel en attente date du 27/11/2026 à 9 h 30 : 1 courriel(s) en attente."
    ]


def _letter() -> Letter:
    return Letter(
        MailKind.INVOICE_PUBLISHED,
        "Nouvelle facture",
        ("Bonjour,", "Votre facture de novembre est prête."),
        link=Link("Voir la facture", "http://127.0.0.1:8501/mes-factures"),
    )


def test_the_demo_mailbox_shows_the_text_and_the_portals_links(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAIL_PUBLIC_URL", "http://127.0.0.1:8501")
    demo_db.write(lambda cur: mail.queue(cur, _letter(), mail.family_recipients(cur, 1), DEMO_NOW))
    sink = start_sink(config.mail_sink_dir())
    try:
        worker = mail_worker.MailWorker(demo_db, sink_port=sink.port)
        while worker.run_once(DEMO_NOW):  # the demo's own messages, then ours
            pass
    finally:
        sink.stop()
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    box = at.tabs[1]
    assert any("parent@demo.fr" in e.label for e in box.expander)
    assert any("Votre facture de novembre est prête." in t.value for t in box.text)
    buttons = list(at.get("link_button"))
    assert [(b.proto.label, b.proto.url) for b in buttons] == [
        ("Voir la facture", "http://127.0.0.1:8501/mes-factures")
    ]


@pytest.mark.parametrize("email", ["parent@demo.fr", "agent@demo.fr", "maire@demo.fr"])
def test_the_page_is_the_administrators_only(demo_db, email):
    at = app_test(PAGE, demo_db, email).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]
    assert not at.dataframe and not at.button


def test_a_failed_message_is_resent_from_the_page(demo_db):
    [queued] = demo_db.write(lambda cur: mail.queue(cur, _letter(), mail.family_recipients(cur, 1), DEMO_NOW))
    demo_db.write(
        lambda cur: cur.execute(
            "UPDATE outbox SET state = 'failed', last_error = 'Refusé : 550 5.1.1 Mailbox unavailable' WHERE id = ?",
            [queued],
        )
    )
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()
    row = at.dataframe[0].value.iloc[0]
    assert row["État"] == "échec" and row["Dernière erreur"] == "Refusé : 550 5.1.1 Mailbox unavailable"
    assert not at.button(key="mail_resend").disabled and at.button(key="mail_cancel").disabled
    at.button(key="mail_resend").click().run()
    assert f"Le courriel n° {queued} repartira dans quelques secondes." in texts(at)
    assert demo_db.value("SELECT state FROM outbox WHERE id = ?", [queued]) == "waiting"
