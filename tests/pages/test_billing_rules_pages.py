"""« Prestations » (a tariff from a date, its history) and « Facturation » (the minimum for public
recovery, what is carried over) through AppTest on the demo town: what is typed well is saved, what is
typed wrong is refused in French and nothing is written."""

from datetime import date

import pytest

from lib.services import reservations
from tests.conftest import DEMO_NOW, login
from tests.helpers import app_test, sorted_rows, texts


def table(at, column):
    """The page's table that has this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def decisions(db):
    return sorted_rows(db, "SELECT * FROM tariff_decisions"), sorted_rows(db, "SELECT * FROM tariff_decision_brackets")


def test_the_administrator_adds_a_tariff_from_a_date_and_reads_its_history(demo_db):
    at = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    history = table(at, "Délibération")
    assert history["À partir du"].tolist() == ["Tarif de base"]
    assert "Les mois jusqu'à octobre 2026 sont déjà facturés" in texts(at)
    at.date_input(key="tariff_from_1").set_value(date(2027, 1, 1))
    at.text_input(key="tariff_ref_1").set_value("Délibération n° 2026-45 du 12 novembre 2026")
    at.text_input(key="tariff_unit_1").set_value("3,80")
    at.text_input(key="tariff_basket_1").set_value("1,50")
    at.text_input(key="tariff_outside_1").set_value("5,20")
    at.button(key="FormSubmitter:tariff_new_1-Enregistrer le nouveau tarif").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value == "Nouveau tarif enregistré : il s'applique aux repas à partir du 01/01/2027."
    stored = demo_db.row(
        "SELECT valid_from, reference, unit_price_cents, basket_price_cents, non_resident_price_cents "
        "FROM tariff_decisions WHERE service_id = 1"
    )
    assert stored == (date(2027, 1, 1), "Délibération n° 2026-45 du 12 novembre 2026", 380, 150, 520)
    again = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    history = table(again, "Délibération")
    assert history["À partir du"].tolist() == ["Tarif de base", "01/01/2027"]
    assert history["Panier repas (PAI)"].tolist()[-1] == "1,50\u00a0€"


@pytest.mark.parametrize(
    "field, typed, message",
    [
        ("tariff_unit_1", "-2", "Prix illisible"),
        ("tariff_unit_1", "trois euros", "Prix illisible"),
        ("tariff_unbooked_1", "4,2,0", "Prix d'un repas non réservé : Prix illisible"),
        ("tariff_from_1", date(2026, 10, 15), "Un nouveau tarif ne peut s'appliquer qu'à partir du"),
    ],
)
def test_a_tariff_typed_wrong_is_refused_in_french_and_nothing_is_written(demo_db, field, typed, message):
    before = decisions(demo_db)
    at = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    if isinstance(typed, date):
        at.date_input(key=field).set_value(typed)
    else:
        at.date_input(key="tariff_from_1").set_value(date(2027, 1, 1))
        at.text_input(key=field).set_value(typed)
    at.button(key="FormSubmitter:tariff_new_1-Enregistrer le nouveau tarif").click().run()
    assert not at.exception and not at.success
    assert at.error[0].value.startswith(message), at.error[0].value
    assert decisions(demo_db) == before


def test_the_administrator_sets_the_minimum_for_public_recovery(demo_db):
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    assert at.text_input(key="billing_minimum").value == "15,00"
    assert "art. D1611-1" in texts(at)
    at.text_input(key="billing_minimum").set_value("20,00")
    at.button(key="FormSubmitter:billing_minimum_form-Enregistrer le seuil").click().run()
    assert not at.error
    assert any("Seuil de mise en recouvrement enregistré : 20,00" in s.value for s in at.success)
    assert demo_db.value("SELECT value FROM settings WHERE key = 'recovery_minimum_cents'") == "2000"


@pytest.mark.parametrize("typed", ["quinze", "-15", "500,00"])
def test_a_minimum_typed_wrong_is_refused_in_french_and_nothing_is_written(demo_db, typed):
    before = demo_db.rows("SELECT * FROM settings ORDER BY key")
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    at.text_input(key="billing_minimum").set_value(typed)
    at.button(key="FormSubmitter:billing_minimum_form-Enregistrer le seuil").click().run()
    assert not at.exception and not any("Seuil" in s.value for s in at.success)
    assert at.error[0].value.startswith(("Prix illisible", "Seuil de mise en recouvrement impossible"))
    assert demo_db.rows("SELECT * FROM settings ORDER BY key") == before


def test_the_draft_shows_what_is_carried_over_and_why(demo_db):
    """A day added late to October, already invoiced: its 3-4 € complement waits below the minimum."""
    agent = login(demo_db, "agent@demo.fr")
    child, day = demo_db.row(
        "SELECT c.id, o.day FROM children c, (SELECT DISTINCT day FROM bookings WHERE service_id = 1 "
        "AND state = 'booked' AND day BETWEEN '2026-10-01' AND '2026-10-16') o "
        "WHERE c.family_id = 1 AND EXISTS (SELECT 1 FROM bookings b WHERE b.child_id = c.id AND b.service_id = 1) "
        "AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.child_id = c.id AND b.service_id = 1 AND b.day = o.day "
        "AND b.state = 'booked') ORDER BY 1, 2 LIMIT 1"
    )
    year = demo_db.value("SELECT max(id) FROM school_years")
    context = reservations.booking_context(demo_db, agent, child, year)
    reservations.set_day(demo_db, agent, context, 1, day, True, DEMO_NOW, late=True, reason="oubli")
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    carried = table(at, "Pourquoi")
    assert len(carried) > 0
    assert carried["Famille"].tolist() == [demo_db.value("SELECT name FROM families WHERE id = 1")]
    assert (
        carried["Pourquoi"]
        .tolist()[0]
        .endswith(
            "sous le seuil de mise en recouvrement de 15,00\u00a0€ : reporté sur la prochaine facture (octobre 2026)."
        )
    )
    assert any("ne seront pas émis" in w.value for w in at.warning)


def test_the_administrator_marks_a_family_hors_commune_on_its_file(demo_db):
    at = app_test("pages/admin_familles.py", demo_db, "admin@demo.fr").run()
    at.text_input(key="fam_search").set_value("martin camille").run()
    assert not at.exception, at.exception
    [outside] = [c for c in at.checkbox if c.label == "Hors commune (tarif non-résident)"]
    assert outside.value is False
    outside.check()
    next(b for b in at.button if b.label == "Enregistrer le dossier").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert demo_db.value("SELECT non_resident FROM families WHERE id = 1") is True
    assert "Hors commune : **tarif non-résident**" in texts(at) or "Hors commune : tarif non-résident" in texts(at)
    entry = demo_db.dicts("SELECT after FROM audit_log WHERE action = 'family.update' ORDER BY id DESC LIMIT 1")[0]
    assert '"non_resident": true' in entry["after"]


def base_tariff(db):
    return db.rows("SELECT * FROM services ORDER BY id"), sorted_rows(db, "SELECT * FROM tariffs")


def test_once_a_month_is_invoiced_the_base_price_is_refused_and_the_page_points_to_a_dated_tariff(demo_db):
    before = base_tariff(demo_db)
    at = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    assert "Pour un nouveau prix, utilisez « Nouveau tarif à partir d'une date » ci-dessous." in texts(at)
    at.text_input(key="svc_price_1").set_value("3,85")
    at.button(key="FormSubmitter:service_1-Enregistrer").click().run()
    assert not at.exception and not at.success
    assert at.error[0].value.startswith("Le tarif de base ne peut plus être modifié : les mois jusqu'à octobre 2026")
    assert "« Nouveau tarif à partir d'une date »" in at.error[0].value
    at.session_state["svc_tariffs_1"] = {"edited_rows": {0: {"Prix (€)": "9,90"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="FormSubmitter:service_1-Enregistrer les tarifs").click().run()
    assert at.error[0].value.startswith("Le tarif de base ne peut plus être modifié")
    assert base_tariff(demo_db) == before
    # The deadlines stay editable, the price left as it is.
    again = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    again.number_input(key="svc_cancel_1").set_value(4)
    again.button(key="FormSubmitter:service_1-Enregistrer").click().run()
    assert not again.error and "enregistrés" in again.success[0].value
    assert demo_db.value("SELECT cancel_delay_days FROM services WHERE id = 1") == 4
