"""The PAI on screen through AppTest: Pointage's flag and its audited read on request (once across
reruns, dropped with the sheet), the staff's page « PAI », the family's section in « Mon dossier »,
the child's PAI on request in « Familles », the corrections on « À valider », and the kitchen that
never sees it."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from lib.services import attendance, families, health, kitchen, reservations
from tests.conftest import DEMO_NOW, login
from tests.helpers import app_test, texts

TODAY = date(2026, 11, 27)
SECRET = {"allergies": "Allergie au sésame noir", "protocol": "Stylo d'adrénaline dans la trousse rouge"}


def health_reads(db) -> int:
    return db.value("SELECT count(*) FROM audit_log WHERE action = 'health.read'")


@pytest.fixture
def on_the_sheet(demo_db):
    """The first child of the demo agent's default Pointage sheet (today, first site, first service),
    with a PAI written by the administrator."""
    agent = login(demo_db, "agent@demo.fr")
    child = attendance.sheet(demo_db, agent, TODAY, 1, 1, DEMO_NOW).rows[0]
    health.save_health(demo_db, login(demo_db, "admin@demo.fr"), child.child_id, {"has_pai": True, **SECRET}, DEMO_NOW)
    return child


def expanders_text(at) -> str:
    return " ".join(t.value for e in at.expander for t in [*e.markdown, *e.text])


def test_pointage_flags_the_pai_and_shows_it_only_on_request_audited_once(demo_db, on_the_sheet):
    at = app_test("pages/pointage.py", demo_db, "agent@demo.fr").run()
    assert not at.exception, at.exception
    frame = at.data_editor[0].value
    flags = dict(zip(frame["N°"].astype(int), frame["PAI"]))
    assert flags[on_the_sheet.child_id] == "oui"
    assert {f for c, f in flags.items() if c != on_the_sheet.child_id} <= {"", "oui"}
    assert SECRET["allergies"] not in texts(at) + expanders_text(at)
    before = health_reads(demo_db)
    at.button(key="check_pai_show").click().run()
    assert not at.exception, at.exception
    shown = expanders_text(at)
    assert SECRET["allergies"] in shown and SECRET["protocol"] in shown
    assert health_reads(demo_db) == before + 1
    for _ in range(2):  # reruns (any click) neither read again nor audit again
        at.run()
    assert SECRET["allergies"] in expanders_text(at)
    assert health_reads(demo_db) == before + 1
    assert "check_pai_show" not in [b.key for b in at.button]
    at.selectbox(key="check_day").select(TODAY - timedelta(days=1)).run()  # another sheet: dropped
    assert "check_pai" not in at.session_state
    assert SECRET["allergies"] not in expanders_text(at)
    assert health_reads(demo_db) == before + 1


def test_the_staff_page_reads_once_and_saves_a_pai(demo_db, on_the_sheet):
    at = app_test("pages/admin_pai.py", demo_db, "agent@demo.fr").run()
    assert not at.exception, at.exception
    at.text_input(key="pai_search").input(on_the_sheet.first_name + " " + on_the_sheet.last_name).run()
    assert not at.exception, at.exception
    area = next(t for t in at.text_area if t.label == "Allergies")
    assert area.value == SECRET["allergies"]
    before = health_reads(demo_db)
    at.run()
    assert health_reads(demo_db) == before
    next(t for t in at.text_area if t.label == "Allergies").input("Sésame")  # in a form: sent with its button
    next(b for b in at.button if b.label == "Enregistrer le PAI").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [f"PAI de {on_the_sheet.first_name} {on_the_sheet.last_name} enregistré."]
    admin = login(demo_db, "admin@demo.fr")
    assert health.child_health(demo_db, admin, on_the_sheet.child_id, DEMO_NOW).record.allergies == "Sésame"


def test_a_bad_phone_is_refused_on_the_staff_page_and_nothing_is_saved(demo_db, on_the_sheet):
    at = app_test("pages/admin_pai.py", demo_db, "admin@demo.fr").run()
    at.text_input(key="pai_search").input(on_the_sheet.first_name + " " + on_the_sheet.last_name).run()
    writes = demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'health.update'")
    next(t for t in at.text_input if t.label == "Téléphone du médecin").input("12")
    next(b for b in at.button if b.label == "Enregistrer le PAI").click().run()
    assert at.error[0].value.startswith("Téléphone du médecin : numéro illisible")
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'health.update'") == writes


def family_child(db):
    """The demo family's first child."""
    return reservations.my_children(db, login(db, "parent@demo.fr"))[0]


def test_the_family_sees_its_pai_on_request_proposes_and_the_staff_validate(demo_db):
    child = family_child(demo_db)
    at = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    before = health_reads(demo_db)
    assert "Voir la fiche de santé" in [b.label for b in at.button]
    at.button(key=f"pai_show_{child.id}").click().run()
    assert health_reads(demo_db) == before + 1
    at.toggle(key=f"pai_propose_{child.id}").set_value(True).run()
    next(t for t in at.text_area if t.label == "Allergies").input("Pollen de bouleau")
    next(b for b in at.button if b.label == "Envoyer la correction").click().run()
    assert not at.exception, at.exception
    assert any("attend la validation" in s.value for s in at.success)
    assert "En attente de validation depuis le vendredi 27 novembre 2026." in [i.value for i in at.info]

    staff = app_test("pages/admin_pai.py", demo_db, "agent@demo.fr").run()
    assert not staff.exception, staff.exception
    listed = " ".join(m.value for m in staff.markdown)
    assert "Pollen de bouleau" in listed and child.first_name in listed
    request = demo_db.value("SELECT max(id) FROM child_health_requests")
    staff.button(key=f"pai_refuse_{request}").click().run()
    assert [e.value for e in staff.error] == ["Indiquez à la famille pourquoi la correction est refusée."]
    staff.text_input(key=f"pai_note_{request}").input("Merci de joindre le PAI signé.").run()
    staff.button(key=f"pai_refuse_{request}").click().run()
    assert not staff.exception, staff.exception
    assert "Aucune correction de PAI n'attend de validation." in [i.value for i in staff.info]

    again = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    again.button(key=f"pai_show_{child.id}").click().run()
    assert any("Merci de joindre le PAI signé." in w.value for w in again.warning)


def test_the_kitchen_page_and_exports_never_show_pai_content(demo_db, on_the_sheet):
    at = app_test("pages/cuisine.py", demo_db, "cuisine@demo.fr").run()
    assert not at.exception, at.exception
    stored = [
        v
        for row in demo_db.rows("SELECT allergies, protocol FROM child_health")
        for v in row
        if v  # the demo's own PAI and the one written above
    ]
    assert SECRET["allergies"] in stored and len(stored) > 2
    shown = texts(at) + " ".join(d.value.to_string() for d in at.dataframe)
    assert "PAI panier-repas" in shown  # the diet, as the kitchen needs it
    cook = login(demo_db, "cuisine@demo.fr")
    csv = kitchen.sheet_file(demo_db, cook, TODAY, DEMO_NOW, "csv", count_as_printed=False).decode("utf-8-sig")
    pdf = kitchen.sheet_file(demo_db, cook, TODAY, DEMO_NOW, "pdf", count_as_printed=False)
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for where in (shown, csv, pdf_text):
        assert [v for v in stored if v in where] == []
        assert "Stylo" not in where and "sésame" not in where.lower()


@pytest.mark.parametrize("email", ["cuisine@demo.fr", "maire@demo.fr", "parent@demo.fr"])
def test_the_pai_page_is_closed_to_the_kitchen_the_elected_and_families(demo_db, email):
    at = app_test("pages/admin_pai.py", demo_db, email).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]
    assert health_reads(demo_db) == 0


def test_no_health_value_reaches_the_audit_log_through_the_pages(demo_db, on_the_sheet):
    at = app_test("pages/admin_pai.py", demo_db, "admin@demo.fr").run()
    at.text_input(key="pai_search").input(on_the_sheet.first_name + " " + on_the_sheet.last_name).run()
    next(t for t in at.text_area if t.label == "Protocole (conduite à tenir, trousse d'urgence)").input("Glucagon")
    next(b for b in at.button if b.label == "Enregistrer le PAI").click().run()
    assert not at.exception and not at.error
    log = " ".join(
        str(r) for r in demo_db.rows("SELECT before, after, reason FROM audit_log WHERE action LIKE 'health.%'")
    )
    assert '"protocol"' in log  # the field's name is there
    assert [v for v in ("Glucagon", "sésame", "Stylo") if v in log] == []


# --- the PAI in the family file pages -----------------------------------------------------------------


def martin_children(db):
    """The demo's Martin family (parent@demo.fr): its id and its children's ids."""
    parent = login(db, "parent@demo.fr")
    return parent.family_id, [c.id for c in reservations.my_children(db, parent)]


def family_file_page(db, email):
    """« Familles » as `email`, the Martin family chosen."""
    at = app_test("pages/admin_familles.py", db, email).run()
    at.text_input(key="fam_search").set_value("martin camille").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("email", ["agent@demo.fr", "admin@demo.fr"])
def test_the_family_file_reads_a_child_s_pai_only_on_request_and_once(demo_db, email):
    _, (child, other) = martin_children(demo_db)
    health.save_health(demo_db, login(demo_db, "admin@demo.fr"), child, {"has_pai": True, **SECRET}, DEMO_NOW)
    at = family_file_page(demo_db, email)
    assert health_reads(demo_db) == 0
    assert SECRET["allergies"] not in [t.value for t in at.text_area]
    assert {f"pai_staff_show_{child}", f"pai_staff_show_{other}"} <= {b.key for b in at.button}
    at.button(key=f"pai_staff_show_{child}").click().run()
    assert not at.exception, at.exception
    assert SECRET["allergies"] in [t.value for t in at.text_area]
    assert demo_db.rows("SELECT entity_id FROM audit_log WHERE action = 'health.read'") == [(str(child),)]
    for _ in range(2):  # reruns neither read again nor audit again
        at.run()
    assert SECRET["allergies"] in [t.value for t in at.text_area]
    assert health_reads(demo_db) == 1
    assert f"pai_staff_show_{other}" in [b.key for b in at.button]  # the other child's stays closed
    next(t for t in at.text_area if t.value == SECRET["allergies"]).input("Sésame")
    next(b for b in at.button if b.label == "Enregistrer le PAI").click().run()
    assert not at.exception, at.exception
    admin = login(demo_db, "admin@demo.fr")
    assert health.child_health(demo_db, admin, child, DEMO_NOW).record.allergies == "Sésame"


def test_an_archived_family_s_file_offers_no_pai(demo_db):
    family, _ = martin_children(demo_db)
    families.archive_family(demo_db, login(demo_db, "admin@demo.fr"), family, "Déménagement", DEMO_NOW)
    at = app_test("pages/admin_familles.py", demo_db, "admin@demo.fr").run()
    at.checkbox(key="fam_archived").check().run()
    at.text_input(key="fam_search").set_value("martin camille").run()
    assert not at.exception, at.exception
    assert "Dossier archivé le" in texts(at)
    assert [b.key for b in at.button if b.key.startswith("pai_staff_show_")] == []
    assert health_reads(demo_db) == 0


def test_mon_dossier_shows_each_child_s_health_only_on_request(demo_db):
    _, children = martin_children(demo_db)
    at = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    assert len([e for e in at.expander if e.label.startswith("Santé (PAI) de ")]) == len(children) == 2
    assert {f"pai_show_{c}" for c in children} <= {b.key for b in at.button}
    assert health_reads(demo_db) == 0
    at.button(key=f"pai_show_{children[1]}").click().run()
    assert not at.exception, at.exception
    assert demo_db.rows("SELECT entity_id FROM audit_log WHERE action = 'health.read'") == [(str(children[1]),)]


def test_mes_inscriptions_no_longer_shows_health_data(demo_db):
    at = app_test("pages/mes_inscriptions.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    assert [b.key for b in at.button if b.key and b.key.startswith("pai_")] == []
    assert "Santé (PAI)" not in [e.label for e in at.expander]


def test_a_pai_correction_is_decided_on_a_valider_after_the_qf_changes(demo_db):
    child = family_child(demo_db)
    health.propose_health(demo_db, login(demo_db, "parent@demo.fr"), child.id, {"allergies": "Pollen"}, DEMO_NOW)
    at = app_test("pages/admin_validations.py", demo_db, "agent@demo.fr").run()
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == ["Quotient familial", "Corrections de PAI proposées par les familles"]
    assert "Aucune demande en attente." in [i.value for i in at.info]  # no QF change waits
    assert "Pollen" in " ".join(m.value for m in at.markdown)
    assert demo_db.rows("SELECT entity_id FROM audit_log WHERE action = 'health.read'") == [(str(child.id),)]
    request = demo_db.value("SELECT max(id) FROM child_health_requests")
    at.button(key=f"pai_accept_{request}").click().run()
    assert not at.exception, at.exception
    assert "Aucune correction de PAI n'attend de validation." in [i.value for i in at.info]
    admin = login(demo_db, "admin@demo.fr")
    assert health.child_health(demo_db, admin, child.id, DEMO_NOW).record.allergies == "Pollen"
