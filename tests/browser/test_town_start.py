"""Issue 15's « Done when », in Chromium against a real aiosmtpd server: a town starts from an
EMPTY database (its first administrator made by the documented command, no demo), imports a CSV of
a few hundred families, invites them; a parent follows the link in the invitation e-mail, chooses a
password, forgets it and resets it through « Mot de passe oublié ? » (the used link then refused),
books a day, and receives the booking receipt with its cancellation limit. Then the database is
compared with what the screens said."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date

import pytest

from lib.domain.deadlines import DeadlineRule
from lib.services import auth, setup, town_setup
from lib.store.db import close_database, open_database
from tests.browser.conftest import login, settle
from tests.conftest import DEMO_NOW
from tests.serve import ROOT, free_port, start_server, stop

pytestmark = pytest.mark.browser

ADMIN = "education@ville-essai.test"
ADMIN_PASSWORD = "Mairie de Saint-Essai : une phrase de passe bien longue"
PARENT = "claire.lenoir@exemple.test"
FIRST_PASSWORD = "cerf-volant pamplemousse boussole 2026"
SECOND_PASSWORD = "girafe lavande trombone ocre 1789"
FAMILIES = 300
SCHOOL = "École des Platanes"
THURSDAY = date(2026, 12, 10)


def setup_command(db_path, *args: str, stdin: str | None = None) -> None:
    """`python -m lib.services.setup …`, as the README's production start says."""
    subprocess.run(
        [sys.executable, "-m", "lib.services.setup", *args],
        cwd=ROOT,
        env=dict(os.environ, PORTAIL_DB=str(db_path)),
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


def families_csv() -> bytes:
    """The town's file: one line per child, Claire Lenoir's family first."""
    header = (
        "famille_id;famille_nom;resp1_prenom;resp1_nom;resp1_email;resp1_telephone;resp1_adresse;"
        "resp2_prenom;resp2_nom;resp2_email;resp2_telephone;resp2_adresse;facturation;qf;qf_date;qf_source;"
        "qf_allocataire;enfant_id;enfant_prenom;enfant_nom;enfant_naissance;enfant_classe;enfant_regime;"
        "enfant_structure;enfant_prestations;autorisation_photo;autorisation_sorties"
    )
    lines = [header]
    for n in range(1, FAMILIES + 1):
        first, last, email = ("Claire", "Lenoir", PARENT) if n == 1 else (f"Parent{n}", f"Famille{n}", None)
        email = email or f"parent{n:03d}@exemple.test"
        child = "Léo" if n == 1 else f"Enfant{n}"
        lines.append(
            f"F-{n:04d};Famille {last};{first};{last};{email};06 12 34 {n // 100:02d} {n % 100:02d};{n} rue des Écoles;"
            f";;;;;resp1;{400 + n};01/09/2026;CAF;{1000000 + n};E-{n:04d};{child};{last};14/03/2019;CP;standard;"
            f"{SCHOOL};cantine;oui;non"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def wait_for_mail(sink, to: str, subject: str, timeout: float = 120):
    """The first message to `to` whose subject contains `subject` (polled, never a fixed wait)."""
    deadline = time.monotonic() + timeout
    while True:
        for message in sink.messages():
            if to in str(message["To"]) and subject in str(message["Subject"]):
                return message
        assert time.monotonic() < deadline, f"no « {subject} » for {to} within {timeout} s"
        time.sleep(0.2)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def set_new_password(page, link: str, password: str, button: str) -> None:
    page.goto(link)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(password)
    page.get_by_label("Nouveau mot de passe, une seconde fois").fill(password)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"/connexion"))


@pytest.fixture
def empty_town(tmp_path, smtp_sink):
    """The documented production start on an empty database: the first administrator by the command,
    the settings by the command (the first one; the others through the function each `set` calls, as
    tests/services/test_setup.py runs the command for each kind of setting: a process costs seconds);
    then the structures the administrator sets up in « Structures et année scolaire » (its own page
    tests click through it), here through the same services."""
    path = tmp_path / "ville.duckdb"
    setup_command(
        path, "admin", "--email", ADMIN, "--name", "Service éducation", "--password-stdin", stdin=ADMIN_PASSWORD + "\n"
    )
    setup_command(path, "set", "town_name", "Ville de Saint-Essai")
    db = open_database(path)
    try:
        for key, value in {
            "contact_email": "enfance@ville-essai.test",
            "mail_transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": str(smtp_sink.port),
            "smtp_security": "none",
            "mail_from": "Ville de Saint-Essai <enfance@ville-essai.test>",
            "receipt_delay_minutes": "0",
        }.items():
            setup.set_setting(db, key, value, DEMO_NOW)
        assert db.value("SELECT count(*) FROM families") == 0 and db.value("SELECT count(*) FROM users") == 1
        admin = auth.login(db, ADMIN, ADMIN_PASSWORD, DEMO_NOW)[1]
        town_setup.save_town(db, admin, {"town_name": "Ville de Saint-Essai", "holiday_zone": "C"}, DEMO_NOW)
        town_setup.open_school_year(db, admin, 2026, DEMO_NOW)
        school = town_setup.create_site(
            db, admin, name=SCHOOL, kind="elementaire", address="2 place de la Mairie", capacity=400, now=DEMO_NOW
        )
        town_setup.create_service(
            db,
            admin,
            code="cantine",
            name="Restauration scolaire",
            short_name="Cantine",
            weekdays=[1, 2, 4, 5],
            unit_price_cents=350,
            is_meal=True,
            book=DeadlineRule(7, False, DEMO_NOW.time().replace(hour=23, minute=59)),
            cancel=DeadlineRule(2, True, DEMO_NOW.time().replace(hour=23, minute=59)),
            capacities={school: 400},
            now=DEMO_NOW,
        )
        town_setup.add_preset_diets(db, admin, DEMO_NOW)
    finally:
        close_database(path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, base = start_server(
        path, tmp_path / "server.log", frozen_now=DEMO_NOW.isoformat(), port=port, env={"PORTAIL_PUBLIC_URL": base}
    )
    yield path, base, proc
    stop(proc)  # (the test stops it first to read the database; stopping twice does nothing)


def test_a_town_starts_empty_imports_invites_and_a_parent_resets_books_and_gets_the_receipt(
    empty_town, smtp_sink, browser, page, tmp_path
):
    path, base, server = empty_town
    csv_file = tmp_path / "familles.csv"
    csv_file.write_bytes(families_csv())

    # The administrator imports the families: checked whole, then imported.
    login(page, base, ADMIN, ADMIN_PASSWORD)
    page.get_by_role("heading", name="Administration").wait_for()
    page.goto(base + "/import-familles")
    page.get_by_role("heading", name="Import et export des familles").wait_for()
    settle(page)
    page.locator("input[type=file]").set_input_files(str(csv_file))
    settle(page)
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.get_by_text(f"Familles : {FAMILIES} créée(s)").wait_for(timeout=60_000)
    settle(page)
    page.get_by_role("button", name="Importer", exact=True).click()
    page.get_by_text("Import terminé").wait_for(timeout=60_000)

    # … and invites every guardian.
    page.goto(base + "/comptes")
    page.get_by_role("heading", name="Comptes des familles").wait_for()
    settle(page)
    page.get_by_role("button", name="Inviter les responsables pas encore invités").click()
    page.get_by_text(f"{FAMILIES} invitation(s) envoyée(s).").wait_for(timeout=60_000)

    # The parent opens the invitation that reached the SMTP server and chooses her password.
    invitation = wait_for_mail(smtp_sink, PARENT, "Votre compte sur le Portail Famille")
    assert "Ville de Saint-Essai" in text_of(invitation)
    parent_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    parent = parent_context.new_page()
    set_new_password(parent, smtp_sink.link_in(invitation), FIRST_PASSWORD, "Activer mon compte")
    login(parent, base, PARENT, FIRST_PASSWORD)
    parent.get_by_role("heading", name=re.compile("Bonjour Claire Lenoir")).wait_for()

    # She forgets it: « Mot de passe oublié ? », the link, a new password; the link does not work twice.
    parent_context.clear_cookies()
    parent.goto(base + "/connexion")
    parent.get_by_role("link", name="Mot de passe oublié ?").click()
    parent.get_by_label("Adresse e-mail").fill(PARENT)
    parent.get_by_role("button", name="Recevoir un lien").click()
    parent.get_by_text("Si un compte existe pour cette adresse").wait_for()
    reset = wait_for_mail(smtp_sink, PARENT, "Choisir un nouveau mot de passe")
    link = smtp_sink.link_in(reset)
    set_new_password(parent, link, SECOND_PASSWORD, "Enregistrer le mot de passe")
    parent.goto(link)
    parent.get_by_text("Ce lien n'est plus valable").wait_for()
    login(parent, base, PARENT, FIRST_PASSWORD)
    parent.get_by_text("E-mail ou mot de passe incorrect.").wait_for()
    login(parent, base, PARENT, SECOND_PASSWORD)
    parent.get_by_role("heading", name=re.compile("Bonjour Claire Lenoir")).wait_for()

    # She books Thursday 10 December for Léo from the calendar.
    parent.goto(base + "/mes-inscriptions")
    parent.get_by_role("heading", name=re.compile("Réservations de Léo")).wait_for()
    settle(parent)
    parent.get_by_role("button", name="▶", exact=True).click()
    settle(parent)
    frame = parent.locator("iframe[title='streamlit_calendar.calendar'] >> visible=true").content_frame
    frame.locator(".fc-toolbar-title", has_text="Décembre 2026").wait_for()
    frame.locator(f'.fc-daygrid-day[data-date="{THURSDAY.isoformat()}"] .fc-event').first.click()
    settle(parent)
    parent.get_by_role("button", name="Réserver ce jour").click()
    settle(parent)
    parent.locator(".st-key-resa_day_panel").get_by_text(re.compile("réservé", re.I)).first.wait_for()

    # The receipt reaches her, with the day and until when it can be cancelled.
    receipt = wait_for_mail(smtp_sink, PARENT, "Réservations de Léo")
    body = text_of(receipt)
    assert "jeudi 10 décembre 2026 : réservé, annulable jusqu'au" in body
    assert re.search(r"Référence : J-\d{6}", body)
    parent.screenshot(path=str(tmp_path / "reservation-390.png"), full_page=True)
    parent_context.close()

    # What was stored is what the screens said (the server lets the file go first).
    stop(server)
    db = open_database(path)
    try:
        assert db.value("SELECT count(*) FROM families WHERE town_ref LIKE 'F-%'") == FAMILIES
        assert db.value("SELECT count(*) FROM children WHERE town_ref LIKE 'E-%'") == FAMILIES
        assert db.value("SELECT count(*) FROM users WHERE role = 'famille'") == FAMILIES
        claire = db.row("SELECT id, activated_at IS NOT NULL FROM users WHERE email = ?", [PARENT])
        assert claire[1]
        assert db.rows(
            """SELECT b.day, b.state FROM bookings b JOIN children c ON c.id = b.child_id
               WHERE c.town_ref = 'E-0001'"""
        ) == [(THURSDAY, "booked")]
        # Her two links were used once each; her invitation, reset and receipt were sent, nothing failed.
        assert db.rows(
            "SELECT purpose, used_at IS NOT NULL FROM link_tokens WHERE user_id = ? ORDER BY created_at", [claire[0]]
        ) == [("invitation", True), ("password_reset", True)]
        assert db.value("SELECT count(*) FROM outbox WHERE state = 'failed'") == 0
        assert set(db.rows("SELECT kind FROM outbox WHERE to_address = ? AND state = 'sent'", [PARENT])) >= {
            ("invitation",),
            ("password_reset",),
            ("booking_receipt",),
        }
        actions = {a for (a,) in db.rows("SELECT DISTINCT action FROM audit_log")}
        assert {"import.applied", "auth.invited", "auth.activated", "auth.password_reset"} <= actions, actions
    finally:
        close_database(path)
