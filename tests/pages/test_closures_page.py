"""« Fermetures et grèves » through AppTest on the demo town: the administrator declares a strike
through the form after reading what it will cancel, the page lists what the database holds, and a
withdrawal asks for a confirmation; an agent reads the list only."""

from datetime import date, time

from lib.domain.calendar import Closure, ClosureKind, SchoolCalendar
from lib.domain.deadlines import DeadlineRule
from lib.domain.planning import ServiceInfo, day_cells
from lib.ui.calendar import events
from tests.conftest import DEMO_NOW
from tests.helpers import app_test, texts

DAY = date(2027, 2, 4)  # a Thursday of the demo's future, no holiday in zone C


def listed(db) -> list[tuple]:
    return db.rows(
        "SELECT site_id, service_id, start_date, end_date, kind, reason, withdrawn_at IS NULL FROM closures ORDER BY id"
    )


def test_the_administrator_declares_a_strike_through_the_form(demo_db):
    at = app_test("pages/admin_fermetures.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    before = listed(demo_db)
    booked = demo_db.value(
        "SELECT count(*) FROM bookings WHERE day = ? AND service_id = 1 AND site_id = 2 AND state = 'booked'", [DAY]
    )
    assert booked > 0
    at.multiselect(key="closure_sites").set_value([2])
    at.multiselect(key="closure_services").set_value([1])
    at.selectbox(key="closure_from").set_value(DAY)
    at.selectbox(key="closure_to").set_value(DAY)
    at.selectbox(key="closure_kind").set_value(ClosureKind.STRIKE)
    at.text_input(key="closure_reason").set_value("grève des agents de restauration").run()
    assert not at.exception, at.exception
    [preview] = [i.value for i in at.info if "seront annulées" in i.value or "sera annulée" in i.value]
    assert preview.startswith(f"{booked} réservations")
    assert "Restauration scolaire — ALAE Claude Nougaro (école élémentaire)" in preview
    assert listed(demo_db) == before  # a preview writes nothing

    at.button(key="closure_declare").click().run()
    assert not at.exception, at.exception
    assert next(s.value for s in at.success).startswith("Grève déclarée le jeudi 4 février 2027")
    assert listed(demo_db) == [*before, (2, 1, DAY, DAY, "greve", "grève des agents de restauration", True)]
    assert (
        demo_db.value(
            "SELECT count(*) FROM bookings WHERE day = ? AND service_id = 1 AND site_id = 2 AND state = 'booked'", [DAY]
        )
        == 0
    )
    # A fresh page shows what the database holds: the strike among the coming closures.
    again = app_test("pages/admin_fermetures.py", demo_db, "admin@demo.fr").run()
    shown = texts(again)
    assert "**Grève : grève des agents de restauration**" in shown
    assert "Restauration scolaire — ALAE Claude Nougaro (école élémentaire) — le jeudi 4 février 2027" in shown


def test_a_bad_motif_is_refused_in_french_and_nothing_is_written(demo_db):
    at = app_test("pages/admin_fermetures.py", demo_db, "admin@demo.fr").run()
    before = listed(demo_db), demo_db.value("SELECT count(*) FROM bookings WHERE state = 'cancelled'")
    at.text_input(key="closure_reason").set_value("x").run()
    at.button(key="closure_declare").click().run()
    assert [e.value for e in at.error] == [
        "Motif trop court : 3 caractères au moins (par exemple « grève du personnel »)."
    ]
    at.selectbox(key="closure_from").set_value(DAY)
    at.selectbox(key="closure_to").set_value(date(2027, 2, 1)).run()
    assert [e.value for e in at.error] == ["Le dernier jour de la fermeture précède le premier : vérifiez les dates."]
    assert at.button(key="closure_declare").disabled
    assert (listed(demo_db), demo_db.value("SELECT count(*) FROM bookings WHERE state = 'cancelled'")) == before


def test_withdrawing_asks_first_and_says_the_bookings_stay_cancelled(demo_db):
    strike = demo_db.value("SELECT id FROM closures WHERE kind = 'greve'")
    at = app_test("pages/admin_fermetures.py", demo_db, "admin@demo.fr").run()
    at.button(key=f"closure_withdraw_{strike}").click().run()
    assert any("restent annulées" in w.value for w in at.warning)
    at.button(key=f"closure_keep_{strike}").click().run()
    assert demo_db.value("SELECT withdrawn_at FROM closures WHERE id = ?", [strike]) is None
    at.button(key=f"closure_withdraw_{strike}").click().run()
    at.button(key=f"closure_confirm_{strike}").click().run()
    assert not at.exception, at.exception
    assert demo_db.value("SELECT withdrawn_at FROM closures WHERE id = ?", [strike]) is not None
    [done] = [s.value for s in at.success]
    assert "retirée" in done and "restent annulées" in done
    assert f"closure_withdraw_{strike}" not in [b.key for b in at.button]


def test_an_agent_reads_the_list_without_any_button(demo_db):
    at = app_test("pages/admin_fermetures.py", demo_db, "agent@demo.fr").run()
    assert not at.exception, at.exception
    assert "Grève : grève du personnel de restauration" in texts(at)
    assert "Seul l'administrateur déclare ou retire une fermeture" in texts(at)
    assert [b.key for b in at.button if b.key and b.key.startswith("closure_")] == []
    assert not list(at.multiselect)


def test_a_strike_of_one_service_shows_in_the_calendar_with_its_words():
    """A day closed for every service of the child is one band with the reason; a service closed on
    a day another one stays open (a strike of the Wednesday meal, the afternoon given) is that
    service's own event, saying « Fermé » and why, not only a grey colour."""
    rule = DeadlineRule(2, True, time(23, 59))
    meal = ServiceInfo(2, "repas", "Mercredi repas", "Repas", (3,), 3, rule, rule)
    afternoon = ServiceInfo(3, "am", "Mercredi après-midi", "Après-midi", (3,), 3, rule, rule)
    wednesday, next_wednesday = date(2027, 1, 20), date(2027, 1, 27)
    calendar = SchoolCalendar(
        zone="C",
        closures=(
            Closure(wednesday, wednesday, "grève du personnel", service_id=2, kind=ClosureKind.STRIKE),
            Closure(next_wednesday, next_wednesday, "formation des animateurs", site_id=3),
        ),
    )
    cells = day_cells([meal, afternoon], wednesday, next_wednesday, {}, {}, calendar, DEMO_NOW)
    found = events(cells, {2: "Repas", 3: "Après-midi"}, True)
    on_strike = [e for e in found if e["start"] == wednesday.isoformat()]
    assert [e["title"] for e in on_strike] == ["⛔ Repas — Fermé (Grève : grève du personnel)", "+ Après-midi"]
    assert all(e.get("display") != "background" for e in on_strike)
    [band] = [e for e in found if e["start"] == next_wednesday.isoformat()]
    assert band["display"] == "background" and band["title"] == "⛔ Fermeture : formation des animateurs"
