"""Staff screens through AppTest: the audit log's filters (a name, a period, bad input refused in
French) and « Accorder » confirmed beside the family, from the stored state, after reruns."""

from datetime import date

from lib.services import payments, reservations
from tests.conftest import DEMO_NOW, DEMO_TODAY, booked_days, login
from tests.helpers import app_test, texts


def rights(at) -> list[str]:
    return [s.value for s in at.success if "Droit de payer" in s.value]


def journal_text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def cancel_hugos_december(db):
    parent = login(db, "parent@demo.fr")
    hugo = next(k for k in reservations.my_children(db, parent) if k.first_name == "Hugo")
    _, year = reservations.school_years(db, DEMO_TODAY)
    ctx = reservations.booking_context(db, parent, hugo.id, year.id)
    service = ctx.services[0].id
    december = booked_days(db, hugo.id, service, date(2026, 12, 1), date(2026, 12, 31))
    reservations.change_days(db, parent, ctx, service, [], december, DEMO_NOW)
    payments.decide_payment_right(db, login(db, "admin@demo.fr"), 7, True, DEMO_NOW)


def test_the_journal_reads_in_french_and_filters_by_name_and_days(demo_db):
    cancel_hugos_december(demo_db)
    at = app_test("pages/admin_journal.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    shown = journal_text(at)
    assert "A annulé 11 jour(s) de Restauration scolaire pour Hugo Martin" in shown
    assert "Camille Martin (famille)" in shown and "Vendredi 27 novembre 2026" in shown
    assert "booking.days" not in shown and "demo.build" not in shown and '{"' not in shown
    at.text_input(key="audit_name").set_value("bonnet").run()
    shown = journal_text(at)
    assert "A accordé le droit de payer en ligne à Famille Bonnet" in shown and "Hugo" not in shown
    at.text_input(key="audit_name").set_value("").run()
    at.selectbox(key="audit_from").set_value(date(2026, 10, 1))
    at.selectbox(key="audit_to").set_value(date(2026, 10, 31)).run()
    shown = journal_text(at)
    assert "pour septembre 2026" in shown and "Hugo" not in shown and "Bonnet" not in shown
    assert at.get("download_button")[0].proto.label == "Télécharger ces entrées (CSV)"


def test_the_journal_refuses_bad_filters_in_french_and_writes_nothing(demo_db):
    at = app_test("pages/admin_journal.py", demo_db, "admin@demo.fr").run()  # logging in is audited
    before = demo_db.rows("SELECT count(*), max(id) FROM audit_log")
    at.text_input(key="audit_name").set_value("h").run()
    assert [e.value for e in at.error] == ["Saisissez au moins 2 lettres du nom de la famille ou de l'enfant."]
    at.text_input(key="audit_name").set_value("Hugo\x07").run()
    assert [e.value for e in at.error] == [
        "Nom illisible : saisissez seulement des lettres, des espaces ou des tirets."
    ]
    at.text_input(key="audit_name").set_value("").run()
    at.selectbox(key="audit_from").set_value(date(2026, 11, 27))
    at.selectbox(key="audit_to").set_value(date(2026, 11, 1)).run()
    assert [e.value for e in at.error] == ["La fin de la période précède son début : vérifiez les dates."]
    assert demo_db.rows("SELECT count(*), max(id) FROM audit_log") == before


def test_the_journal_shows_typed_text_as_text(demo_db):
    agent = login(demo_db, "agent@demo.fr")
    hugo = demo_db.value("SELECT id FROM children WHERE first_name = 'Hugo' AND last_name = 'Martin'")
    _, year = reservations.school_years(demo_db, DEMO_TODAY)
    ctx = reservations.booking_context(demo_db, agent, hugo, year.id)
    reservations.set_day(
        demo_db,
        agent,
        ctx,
        ctx.services[0].id,
        date(2026, 11, 30),
        False,
        DEMO_NOW,
        late=True,
        reason="**urgent** $x$ [lien](http://x)",
    )
    at = app_test("pages/admin_journal.py", demo_db, "admin@demo.fr").run()
    # Escaped for markdown; the address cut by an invisible word joiner so that it is not linked.
    assert "Motif : « \\*\\*urgent\\*\\* \\$x\\$ \\[lien\\](http\u2060://x) »" in journal_text(at)


def test_granting_the_right_is_confirmed_beside_the_family_from_the_stored_state(demo_db):
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    assert rights(at) == []
    at.button(key="right_grant_7").click().run()
    assert not at.exception, at.exception
    assert demo_db.value("SELECT payment_right FROM families WHERE id = 7") == "granted"
    # The confirmation sits in Famille Bonnet's own box, where the button was, and says what is stored.
    [confirmed] = rights(at)
    assert confirmed.startswith("Droit de payer en ligne accordé le 27/11/2026 à 9 h 30")
    assert "right_grant_7" not in [b.key for b in at.button]
    markdown = [m.value for m in at.markdown]
    name = next(i for i, v in enumerate(markdown) if v.startswith("**Famille Bonnet**"))
    # In the element order, the confirmation comes right after the family's name: inside its box.
    order = [(type(e).__name__, getattr(e, "value", None)) for e in at.main]
    assert order.index(("Success", confirmed)) > 0 and name >= 0
    # Another run (any click elsewhere): the box and its stored state stay; other requests still wait.
    at.run()
    assert rights(at) == [confirmed]
    assert any(b.key.startswith("right_grant_") for b in at.button)


def test_refusing_is_confirmed_the_same_way(demo_db):
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    at.button(key="right_refuse_7").click().run()
    assert demo_db.value("SELECT payment_right FROM families WHERE id = 7") == "refused"
    assert [w.value for w in at.warning][-1].startswith("Droit de payer en ligne refusé le 27/11/2026")
    assert rights(at) == []


def test_the_kitchen_shows_each_diet_per_site_in_small_tables(demo_db):
    at = app_test("pages/cuisine.py", demo_db, "cuisine@demo.fr").run()
    assert not at.exception, at.exception
    sheets = [d.value for d in at.dataframe if list(d.value.columns) == ["Régime", "Repas"]]
    assert len(sheets) == 2 and all(len(s) >= 3 for s in sheets)
    total = int(next(m.value for m in at.metric if m.label == "Repas au total").replace("\u202f", ""))
    assert sum(int(v) for s in sheets for v in s["Repas"]) == total
    assert "Repas au total" in texts(at)


def test_the_administrators_home_shows_the_latest_entries_in_french(demo_db):
    cancel_hugos_december(demo_db)
    at = app_test("pages/admin_accueil.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    latest = at.dataframe[-1].value
    assert list(latest.columns) == ["Quand", "Qui", "Quoi", "Concerne", "Motif"]
    assert any("Hugo Martin" in c for c in latest["Concerne"])
    assert not any("." in w and " " not in w for w in latest["Quoi"])  # no internal code like booking.days
