"""« Mes inscriptions » and « Réservations – agents » through AppTest. The calendar component
cannot be clicked here: a click is injected as the day it selects (session state "resa_day");
the real clicks are in tests/browser/test_reservations.py."""

from datetime import date, time

import pytest

from lib.services import reservations
from tests.conftest import login
from tests.helpers import app_test, forget_invoices, texts

LEA, HUGO = 1, 2


def family_page(demo_db, child="Léa Martin"):
    at = app_test("pages/mes_inscriptions.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    if child != at.selectbox(key="resa_child").value.first_name + " Martin":
        at.selectbox(key="resa_child").select(
            next(o for o in at.selectbox(key="resa_child").options if child in o)
        ).run()
    return at


def booked_days(db, child, first, last):
    return {
        d
        for (d,) in db.rows(
            "SELECT day FROM bookings WHERE child_id = ? AND service_id = 1 AND state = 'booked' "
            "AND day BETWEEN ? AND ?",
            [child, first, last],
        )
    }


def test_the_page_shows_the_calendar_the_legend_and_modification(demo_db):
    at = family_page(demo_db)
    assert at.title[0].value == "Mes inscriptions"
    assert "Réservations de Hugo" in texts(at) or "Réservations de Léa" in texts(at)
    assert at.button(key="resa_modify").label == "Modification"
    legend = " ".join(h.proto.body for h in at.html)
    for word in ("Réservé", "Réservable", "Annulé", "Liste d'attente", "Délai dépassé", "Fermé", "Présent", "Absent"):
        assert word in legend
    assert at.selectbox(key="resa_month").value == date(2026, 11, 1)


def wednesdays(db, child):
    return db.rows(
        "SELECT service_id, day, state FROM bookings WHERE child_id = ? AND service_id IN (2, 3) ORDER BY ALL", [child]
    )


def test_weekly_template_opens_on_the_current_pattern_and_changes_only_what_was_changed(demo_db):
    at = family_page(demo_db, "Hugo Martin")
    before = booked_days(demo_db, HUGO, date(2026, 12, 7), date(2027, 7, 2))
    wednesdays_before = wednesdays(demo_db, HUGO)
    at.button(key="resa_modify").click().run()
    # The editor opens on Hugo's habits: meals Monday, Tuesday, Thursday, Friday; Wednesdays both.
    ticked = {
        k for k in ("lundi", "mardi", "jeudi", "vendredi") if at.checkbox(key=f"booking_template_{k}_cantine").value
    }
    assert ticked == {"lundi", "mardi", "jeudi", "vendredi"}
    assert at.checkbox(key="booking_template_mercredi_mercredi_repas").value is True
    assert at.checkbox(key="booking_template_mercredi_mercredi_am").value is True
    # The seed's guide: meals on Monday, Tuesday and Friday — so Thursday is unticked.
    at.checkbox(key="booking_template_jeudi_cantine").uncheck()
    at.run()
    at.button(key="resa_apply").click().run()
    assert not at.exception
    content = texts(at)
    assert "Aperçu de la semaine type" in content and "rien n'est encore enregistré" in content
    assert "Vacances de Noël" in content
    assert "« Mercredi repas » : inchangé" in content and "« Mercredi après-midi » : inchangé" in content
    # Every day that changes is named, month by month, on the page (no paging through months).
    assert "Décembre 2026" in content and "Juin 2027" in content
    assert "jeu. 10/12" in content and "À annuler" in content
    assert booked_days(demo_db, HUGO, date(2026, 12, 7), date(2027, 7, 2)) == before  # nothing saved yet
    at.button(key="resa_confirm").click().run()
    assert "Réservations enregistrées" in " ".join(s.value for s in at.success)
    after = booked_days(demo_db, HUGO, date(2026, 12, 7), date(2027, 7, 2))
    assert after and {d.isoweekday() for d in after} == {1, 2, 5}
    assert wednesdays(demo_db, HUGO) == wednesdays_before  # never touched


def test_appliquer_with_nothing_changed_says_so(demo_db):
    at = family_page(demo_db)
    at.button(key="resa_modify").click().run()
    at.button(key="resa_apply").click().run()
    assert [e.value for e in at.error] == [
        "La semaine type n'a pas changé : cochez ou décochez au moins un jour, puis « Appliquer »."
    ]


def test_an_end_before_the_start_is_refused(demo_db):
    at = family_page(demo_db)
    at.button(key="resa_modify").click().run()
    at.checkbox(key="booking_template_jeudi_cantine").check()
    at.selectbox(key="resa_from").set_value(date(2027, 3, 1))
    at.selectbox(key="resa_to").set_value(date(2027, 2, 1))
    at.run()
    at.button(key="resa_apply").click().run()
    assert "précède" in at.error[0].value


def test_a_click_on_a_locked_day_then_annuler_reads_the_refusal(demo_db):
    at = family_page(demo_db)
    at.session_state["resa_day"] = date(2026, 11, 30)  # what a click on the calendar selects
    at.run()
    assert "délai d'annulation dépassé" in texts(at)
    at.button(key="resa_day_cantine_2026-11-30").click().run()
    assert at.error[0].value == (
        "Annulation impossible pour le lundi 30 novembre 2026 : la limite était le jeudi 26 novembre 2026 à 23 h 59."
    )
    assert date(2026, 11, 30) in booked_days(demo_db, LEA, date(2026, 11, 30), date(2026, 11, 30))


def test_occasional_days_in_the_month_table(demo_db):
    at = family_page(demo_db)
    at.selectbox(key="resa_month").set_value(date(2026, 12, 1)).run()
    at.button(key="resa_modify").click().run()
    at.radio(key="resa_mode").set_value("Jours occasionnels").run()
    assert at.checkbox(key="booking_day_cantine_2026-12-08").value is True  # booked days come ticked
    keys = [c.key for c in at.checkbox if c.key.startswith("booking_day_")]
    assert "booking_day_cantine_2026-12-22" not in keys  # Christmas holidays: no box
    assert "booking_day_cantine_2026-12-03" not in keys  # past its booking limit: no box
    assert keys == sorted(keys)  # in day order
    at.checkbox(key="booking_day_cantine_2026-12-08").uncheck()
    at.checkbox(key="booking_day_cantine_2026-12-10").check()
    at.run()
    pending = texts(at)
    assert "À réserver : jeudi 10 décembre 2026" in pending and "À annuler : mardi 8 décembre 2026" in pending
    at.button(key="resa_confirm_days").click().run()
    assert not at.error, [e.value for e in at.error]
    december = booked_days(demo_db, LEA, date(2026, 12, 1), date(2026, 12, 31))
    assert date(2026, 12, 10) in december and date(2026, 12, 8) not in december
    assert "(jeu. 10/12)" in at.success[0].value and "(mar. 08/12)" in at.success[0].value


def test_occasional_days_save_in_a_month_with_days_already_marked(demo_db):
    # November: past days marked present/absent by the staff. They used to come unticked and the
    # save read them as cancellations (« Annulation impossible pour le … »).
    marked = demo_db.rows(
        "SELECT day, status FROM attendance WHERE child_id = ? AND service_id = 1 AND "
        "day BETWEEN DATE '2026-11-01' AND DATE '2026-11-30' ORDER BY day",
        [LEA],
    )
    assert marked, "the demo marks Léa's past November days"
    others = "SELECT * FROM bookings WHERE child_id = ? AND day <> DATE '2026-12-10' ORDER BY ALL"
    untouched = demo_db.rows(others, [LEA])
    at = family_page(demo_db)
    at.button(key="resa_modify").click().run()
    at.radio(key="resa_mode").set_value("Jours occasionnels").run()
    keys = {c.key for c in at.checkbox if c.key.startswith("booking_day_")}
    assert not {f"booking_day_cantine_{d.isoformat()}" for d, _ in marked} & keys  # shown, not editable
    grid = texts(at)
    assert "Présent" in grid  # with their state
    # Nothing is editable in November any more (past, or inside the limits): nothing to confirm.
    assert at.button(key="resa_confirm_days").disabled
    at.selectbox(key="resa_month").set_value(date(2026, 12, 1)).run()
    at.checkbox(key="booking_day_cantine_2026-12-10").check()
    at.run()
    at.button(key="resa_confirm_days").click().run()
    assert not at.error, [e.value for e in at.error]
    assert demo_db.rows(others, [LEA]) == untouched
    assert date(2026, 12, 10) in booked_days(demo_db, LEA, date(2026, 12, 10), date(2026, 12, 10))


def test_a_day_cancelled_from_the_day_panel_is_not_booked_again_by_the_month_table(demo_db):
    at = family_page(demo_db)
    at.selectbox(key="resa_month").set_value(date(2026, 12, 1)).run()
    at.session_state["resa_day"] = date(2026, 12, 8)  # what a click on the calendar selects
    at.run()
    at.button(key="resa_day_cantine_2026-12-08").click().run()
    panel = texts(at)
    assert "1 jour(s) annulé(s) (mar. 08/12)" in panel
    assert date(2026, 12, 8) not in booked_days(demo_db, LEA, date(2026, 12, 8), date(2026, 12, 8))
    at.button(key="resa_modify").click().run()
    at.radio(key="resa_mode").set_value("Jours occasionnels").run()
    assert at.checkbox(key="booking_day_cantine_2026-12-08").value is False  # opens on what is stored
    at.checkbox(key="booking_day_cantine_2026-12-10").check()
    at.run()
    assert "mardi 8 décembre" not in texts(at).split("Ce qui sera enregistré")[1]
    at.button(key="resa_confirm_days").click().run()
    december = booked_days(demo_db, LEA, date(2026, 12, 1), date(2026, 12, 31))
    assert date(2026, 12, 10) in december and date(2026, 12, 8) not in december


def test_registering_from_the_page(demo_db):
    at = family_page(demo_db)
    at.selectbox(key="reg_site_1").select_index(2).run()
    at.checkbox(key="reg_1_3_2").check()
    at.run()
    at.button(key="reg_save").click().run()
    assert "Inscription de Léa à « ALAE anim'action » enregistrée pour 2026/2027." in [s.value for s in at.success]


def test_staff_search_and_late_change_needs_a_reason(demo_db):
    at = app_test("pages/agent_reservations.py", demo_db, "agent@demo.fr").run()
    assert "au moins deux lettres" in texts(at)
    at.text_input(key="staff_search").input("x").run()
    assert "au moins 2 lettres" in at.error[0].value
    at.text_input(key="staff_search").input("Léa Martin").run()
    assert at.selectbox(key="staff_child").value.id == LEA
    at.toggle(key="staff_late").set_value(True).run()
    at.session_state["resa_day"] = date(2026, 11, 26)
    at.run()
    at.button(key="resa_day_cantine_2026-11-26").click().run()
    assert at.error[0].value == "Indiquez le motif de la modification hors délai."
    at.text_input(key="staff_reason").input("oubli de l'enseignante").run()
    at.button(key="resa_day_cantine_2026-11-26").click().run()
    assert not at.error
    assert date(2026, 11, 26) in booked_days(demo_db, LEA, date(2026, 11, 26), date(2026, 11, 26))


def test_opening_a_childs_file_is_recorded_once_per_child_chosen(demo_db):
    found = reservations.find_children(demo_db, login(demo_db, "agent@demo.fr"), "Martin")
    at = app_test("pages/agent_reservations.py", demo_db, "agent@demo.fr").run()
    at.text_input(key="staff_search").input("Martin").run()
    at.toggle(key="staff_late").set_value(True).run()  # a rerun on the same child: no new entry
    at.selectbox(key="staff_child").select_index(1).run()
    reads = demo_db.rows("SELECT entity_id FROM audit_log WHERE action = 'child.read' ORDER BY id")
    assert [int(r[0]) for r in reads] == [found[0].id, found[1].id]


@pytest.mark.parametrize("email", ["cuisine@demo.fr", "maire@demo.fr", "parent@demo.fr"])
def test_the_staff_page_is_closed_to_others(demo_db, email):
    at = app_test("pages/agent_reservations.py", demo_db, email).run()
    assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]


def test_admin_settings_page_saves_and_refuses(demo_db):
    at = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    assert not at.exception
    assert [s.value for s in at.header] == ["Restauration scolaire", "Mercredi repas", "Mercredi après-midi"]
    assert at.text_input(key="svc_price_1").value == "3,50"
    at.number_input(key="svc_cancel_1").set_value(3)
    at.number_input(key="svc_cap_1_1").set_value(140)
    at.button(key="FormSubmitter:service_1-Enregistrer").click().run()
    assert "Paramètres de « Restauration scolaire » enregistrés." in at.success[0].value
    assert demo_db.row("SELECT cancel_delay_days FROM services WHERE id = 1") == (3,)
    assert demo_db.value("SELECT capacity FROM site_services WHERE site_id = 1 AND service_id = 1") == 140


def test_admin_sets_each_rule_its_own_cutoff_and_reads_them_back(demo_db):
    at = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    assert at.caption[1].value == (
        "Actuellement : 3,50\u00a0€ ; réservation jusqu'à 7 jour(s) avant, 23 h 59 ; "
        "annulation jusqu'à 2 jour(s) ouvré(s) avant, 23 h 59."
    )
    at.time_input(key="svc_cancel_cutoff_1").set_value(time(18, 0))
    at.button(key="FormSubmitter:service_1-Enregistrer").click().run()
    assert not at.error
    assert demo_db.row("SELECT book_cutoff_time, cancel_cutoff_time FROM services WHERE id = 1") == (
        time(23, 59),
        time(18, 0),
    )
    at.run()  # the next visit reads the rules saved
    assert at.caption[1].value.endswith("annulation jusqu'à 2 jour(s) ouvré(s) avant, 18 h 00.")


@pytest.mark.parametrize("typed", ["3.5O", "-2", "trois euros", "1234567", ""])
def test_admin_price_typed_wrong_is_refused_in_french_and_nothing_changes(demo_db, typed):
    before = demo_db.rows("SELECT * FROM services ORDER BY id")
    at = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    at.text_input(key="svc_price_1").set_value(typed)
    at.button(key="FormSubmitter:service_1-Enregistrer").click().run()
    assert not at.exception and not at.success
    assert at.error[0].value.startswith("Prix illisible")
    assert demo_db.rows("SELECT * FROM services ORDER BY id") == before


def test_admin_price_typed_the_french_way_is_saved_in_cents(demo_db):
    forget_invoices(demo_db)  # once a month is invoiced the base price no longer changes (test_billing_rules)
    at = app_test("pages/admin_prestations.py", demo_db, "admin@demo.fr").run()
    at.text_input(key="svc_price_1").set_value("3,85 €")
    at.button(key="FormSubmitter:service_1-Enregistrer").click().run()
    assert not at.error
    assert demo_db.value("SELECT unit_price_cents FROM services WHERE id = 1") == 385


def test_admin_reads_the_audit_log(demo_db):
    at = app_test("pages/admin_journal.py", demo_db, "admin@demo.fr").run()
    assert not at.exception
    assert any("A créé la ville de démonstration" in m.value for m in at.markdown)
    assert not any("demo.build" in m.value for m in at.markdown)  # no internal code shown
