"""A town started from an empty database, through AppTest: every administrator page opens without
a crash and says what is missing in French; « Structures et année scolaire » sets the town up, each
save shown as stored; the administrator's home ticks the first steps as they are done."""

import pytest

from lib.domain import fr
from lib.services import auth, reservations, setup
from lib.store.db import close_database, open_database
from lib.ui.session import TEST_TOKEN_KEY
from tests.conftest import DEMO_NOW
from tests.helpers import add_family_with_child, app_test, texts

PASSWORD = "une phrase de passe assez longue"
ADMIN = "admin@ma-ville.fr"


@pytest.fixture
def empty_town(tmp_path, monkeypatch):
    """A fresh database (schema only) with its first administrator, as the setup command leaves it;
    PORTAIL_DB points at it."""
    path = tmp_path / "ville.duckdb"
    monkeypatch.setenv("PORTAIL_DB", str(path))
    monkeypatch.setenv("PORTAIL_FROZEN_NOW", DEMO_NOW.isoformat())
    db = open_database(path)
    setup.create_admin(db, ADMIN, "Service enfance", PASSWORD, DEMO_NOW)
    yield db
    close_database(path)


def page(db, script: str):
    at = app_test(script, db, None)
    at.session_state[TEST_TOKEN_KEY] = auth.login(db, ADMIN, PASSWORD, DEMO_NOW)[0]
    return at.run()


def snapshot(db):
    return [
        db.rows(f"SELECT * FROM {table} ORDER BY ALL")
        for table in ("settings", "school_years", "sites", "services", "site_services", "diets", "audit_log")
    ]


@pytest.mark.parametrize(
    "script, says",
    [
        ("app.py", "Pour démarrer"),
        ("pages/admin_accueil.py", "1. l'année scolaire — ⬜ à faire"),
        ("pages/admin_facturation.py", "Aucune réservation à facturer"),
        ("pages/admin_prestations.py", "Aucune prestation n'est encore proposée par une structure"),
        ("pages/admin_journal.py", "A créé le compte administrateur admin"),
        ("pages/pointage.py", "Aucune structure ni prestation n'est configurée."),
        ("pages/cuisine.py", "Aucune année scolaire n'est configurée."),
        ("pages/tendances.py", "Pas encore de données pour cette année scolaire."),
        ("pages/agent_reservations.py", "Saisissez au moins deux lettres du prénom ou du nom."),
        ("pages/admin_structures.py", "Aucune année scolaire n'est ouverte"),
    ],
)
def test_every_admin_page_opens_on_an_empty_database_and_says_what_is_missing(empty_town, script, says):
    at = page(empty_town, script)
    assert not at.exception, at.exception
    shown = texts(at)
    assert says in shown, shown
    assert not at.error, [e.value for e in at.error]


def click(at, label: str):
    return next(b for b in at.button if b.label == label).click().run()


def test_a_town_is_set_up_from_the_browser_and_the_home_ticks_each_step(empty_town):
    db = empty_town
    home = texts(page(db, "pages/admin_accueil.py"))
    assert "Pour démarrer" in home and "1. l'année scolaire — ⬜ à faire" in home
    at = page(db, "pages/admin_structures.py")
    assert "Aucune année scolaire n'est ouverte" in texts(at) and "Aucune structure" in texts(at)

    at.text_input(key="town_name").set_value("Ville de Saint-Essai")
    at.text_input(key="town_contact").set_value("enfance@saint-essai.fr")
    at.selectbox(key="town_zone").set_value("A")
    click(at, "Enregistrer la ville")
    assert not at.exception, at.exception
    assert "Réglages de la ville enregistrés" in texts(at)
    assert "Enregistré : Ville de Saint-Essai — contact enfance\u2060@saint-essai.fr — zone A" in texts(at)

    assert at.selectbox(key="year_choice").value.label == "2026/2027"
    click(at, "Ouvrir cette année scolaire")
    assert "Année scolaire 2026/2027 ouverte." in texts(at)
    assert "**2026/2027** : du" in texts(at)
    assert db.rows("SELECT id, label FROM school_years") == [(2026, "2026/2027")]

    at.text_input(key="new_site_name").set_value("École des Platanes")
    at.text_input(key="new_site_address").set_value("2 place de la Mairie")
    at.number_input(key="new_site_capacity").set_value(80)
    click(at, "Créer la structure")
    assert "Structure « École des Platanes » créée." in texts(at)
    assert at.text_input(key="new_site_name").value == ""  # the creation form starts empty again
    site_id = db.value("SELECT id FROM sites")

    at.text_input(key="new_svc_code").set_value("cantine")
    at.text_input(key="new_svc_name").set_value("Restauration scolaire")
    at.text_input(key="new_svc_short").set_value("Cantine")
    for day in (1, 2, 4, 5):
        at.checkbox(key=f"new_svc_day_{day}").check()
    at.text_input(key="new_svc_price").set_value("3,50")
    at.checkbox(key="new_svc_meal").check()
    at.checkbox(key=f"new_svc_site_{site_id}").check()
    at.number_input(key=f"new_svc_site_capacity_{site_id}").set_value(60)
    click(at, "Créer la prestation")
    assert not at.exception, at.exception
    assert "Prestation « Restauration scolaire » créée." in texts(at)
    listed = next(m.value for m in at.markdown if "**Restauration scolaire**" in m.value)
    assert "(cantine, « Cantine ») : lundi, mardi, jeudi, vendredi ;" in listed
    assert fr.euros(350) in listed and "repas ; proposée par École des Platanes" in listed
    assert db.rows("SELECT site_id, capacity FROM site_services") == [(site_id, 60)]

    click(at, "Ajouter les régimes usuels (Standard, Sans porc, Végétarien, Sans allergène)")
    assert "Régimes ajoutés : Standard, Sans porc, Végétarien, Sans allergène." in texts(at)
    assert "- Sans allergène (sans\\_allergene)" in texts(at)

    home = texts(page(db, "pages/admin_accueil.py"))
    for step in ("1. l'année scolaire — ✅ fait", "2. les structures — ✅ fait", "3. les prestations — ✅ fait"):
        assert step in home, home
    assert "4. importer les familles — ⬜ à faire" in home
    prestations = page(db, "pages/admin_prestations.py")
    assert not prestations.exception and "Restauration scolaire" in texts(prestations)

    # A family (the import's work, written here), registered at the new school: its parent books.
    _, child = add_family_with_child(db, "parent@saint-essai.fr", "le mot de passe du parent")
    canteen = db.value("SELECT id FROM services")
    reservations.save_registration(
        db, auth.login(db, ADMIN, PASSWORD, DEMO_NOW)[1], child, 2026, site_id, [canteen], DEMO_NOW
    )
    family = app_test("pages/mes_inscriptions.py", db, None)
    family.session_state[TEST_TOKEN_KEY] = auth.login(
        db, "parent@saint-essai.fr", "le mot de passe du parent", DEMO_NOW
    )[0]
    family.run()
    assert not family.exception, family.exception
    assert "Réservations de Zoé" in texts(family) and not family.error
    assert "inscrit(e) à aucune prestation" not in texts(family)  # the booking context was built
    assert family.button(key="resa_modify").label == "Modification"


def test_bad_input_in_the_browser_is_refused_in_french_and_nothing_written(empty_town):
    db = empty_town
    at = page(db, "pages/admin_structures.py")
    at.text_input(key="new_site_name").set_value("Centre")
    click(at, "Créer la structure")
    site_id = db.value("SELECT id FROM sites")
    before = snapshot(db)

    at.text_input(key="new_svc_code").set_value("cantine")
    at.text_input(key="new_svc_name").set_value("Restauration scolaire")
    at.text_input(key="new_svc_short").set_value("Cantine")
    at.checkbox(key="new_svc_day_1").check()
    at.text_input(key="new_svc_price").set_value("abc")
    at.checkbox(key=f"new_svc_site_{site_id}").check()
    click(at, "Créer la prestation")
    assert [e.value for e in at.error] == ["Prix illisible : « abc ». Saisissez un montant en euros, par exemple 3,50."]
    assert at.text_input(key="new_svc_code").value == "cantine"  # what was typed stays, to be corrected

    at.text_input(key="new_svc_price").set_value("3,50")
    at.checkbox(key="new_svc_day_1").uncheck()
    click(at, "Créer la prestation")
    assert [e.value for e in at.error] == ["Jours de la semaine : cochez au moins un jour."]

    at.text_input(key="town_contact").set_value("pas-une-adresse")
    click(at, "Enregistrer la ville")
    assert "Adresse e-mail de contact : Adresse e-mail invalide" in at.error[0].value

    at.text_input(key="new_site_name").set_value("centre")
    click(at, "Créer la structure")
    assert [e.value for e in at.error] == ["Une structure s'appelle déjà « centre »."]
    assert snapshot(db) == before


def test_a_site_is_edited_and_an_unused_one_deleted_only_once_confirmed(empty_town):
    db = empty_town
    at = page(db, "pages/admin_structures.py")
    for name in ("École des Pins", "Annexe"):
        at.text_input(key="new_site_name").set_value(name)
        click(at, "Créer la structure")
    pins, annexe = (db.value("SELECT id FROM sites WHERE name = ?", [n]) for n in ("École des Pins", "Annexe"))

    at.text_input(key=f"site_name_{pins}").set_value("École des Grands Pins")
    at.number_input(key=f"site_capacity_{pins}").set_value(120)
    next(b for b in at.button if b.label == "Enregistrer la structure" and f"site_{pins}" in b.form_id).click().run()
    assert "Structure « École des Grands Pins » enregistrée." in texts(at)
    assert db.row("SELECT name, capacity FROM sites WHERE id = ?", [pins]) == ("École des Grands Pins", 120)
    assert any(e.label.startswith("École des Grands Pins — École maternelle, 120 place(s)") for e in at.expander)

    delete = next(b for b in at.button if b.label == "Supprimer la structure" and f"site_{annexe}" in b.form_id)
    delete.click().run()
    assert "Cochez « Je confirme la suppression »" in texts(at)
    assert db.value("SELECT count(*) FROM sites") == 2
    at.checkbox(key=f"site_confirm_{annexe}").check()
    next(b for b in at.button if b.label == "Supprimer la structure" and f"site_{annexe}" in b.form_id).click().run()
    assert "Structure « Annexe » supprimée." in texts(at)
    assert db.rows("SELECT name FROM sites") == [("École des Grands Pins",)]


def test_the_page_is_closed_to_a_family_and_an_agent(demo_db):
    for email in ("parent@demo.fr", "agent@demo.fr"):
        at = app_test("pages/admin_structures.py", demo_db, email).run()
        assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]
        assert not at.text_input and not at.button
