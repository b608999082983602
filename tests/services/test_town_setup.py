"""Setting a town up (lib/services/town_setup.py): a production start from an empty database up to a
parent's booking, each write audited with its administrator, and every bad input, family or agent
refused in French with nothing written."""

from datetime import date, time

import pytest

from lib.domain.actor import Actor
from lib.domain.deadlines import DeadlineRule, deadline_rule
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.roles import Role
from lib.domain.school_year import school_year
from lib.services import auth, reservations, setup, town_setup
from tests.conftest import DEMO_NOW
from tests.helpers import add_family_with_child, sorted_rows

BOOK = DeadlineRule(7, False, time(23, 59))
CANCEL = DeadlineRule(2, True, time(23, 59))
TABLES = ("settings", "school_years", "sites", "services", "site_services", "diets", "closures", "audit_log")


def snapshot(db):
    return [sorted_rows(db, f"SELECT * FROM {table}") for table in TABLES]


def new_service(db, actor, **change):
    """`create_service` as the page calls it, with a valid form unless `change` says otherwise."""
    typed = {
        "code": "garderie-soir",
        "name": "Garderie du soir",
        "short_name": "Garderie",
        "weekdays": [1, 2, 4, 5],
        "unit_price_cents": 150,
        "is_meal": False,
        "book": BOOK,
        "cancel": CANCEL,
        "capacities": {1: 25},
    }
    typed.update(change)
    return town_setup.create_service(db, actor, now=DEMO_NOW, **typed)


# --- a production start ---------------------------------------------------------------------------


def test_a_town_starts_from_an_empty_database_up_to_a_parents_booking(fresh_db):
    db = fresh_db
    admin_id = setup.create_admin(db, "admin@ma-ville.fr", "Service enfance", "une phrase de passe longue", DEMO_NOW)
    admin = auth.login(db, "admin@ma-ville.fr", "une phrase de passe longue", DEMO_NOW)[1]
    assert admin.user_id == admin_id
    assert not any(vars(town_setup.first_steps(db, admin)).values())

    town_setup.save_town(
        db,
        admin,
        {"town_name": "Ville de Saint-Essai", "contact_email": "Enfance@Saint-Essai.fr", "holiday_zone": "A"},
        DEMO_NOW,
    )
    assert town_setup.town_settings(db, admin) == {
        "town_name": "Ville de Saint-Essai",
        "contact_email": "enfance@saint-essai.fr",
        "holiday_zone": "A",
        "public_url": "",
    }
    assert [y.label for y in town_setup.openable_years(db, admin, DEMO_NOW.date())] == ["2026/2027", "2027/2028"]
    assert town_setup.open_school_year(db, admin, 2026, DEMO_NOW) == "Année scolaire 2026/2027 ouverte."
    year = town_setup.school_years(db, admin)[0]
    official = school_year(2026, "A")  # the zone the administrator chose
    assert (year.id, year.label, year.start_date, year.end_date) == (2026, "2026/2027", official.start, official.end)
    school = town_setup.create_site(
        db,
        admin,
        name="École des Platanes",
        kind="elementaire",
        address="2 place de la Mairie",
        capacity=80,
        now=DEMO_NOW,
    )
    canteen = new_service(
        db,
        admin,
        code="cantine",
        name="Restauration scolaire",
        short_name="Cantine",
        unit_price_cents=350,
        is_meal=True,
        capacities={school: 60},
    )
    town_setup.add_preset_diets(db, admin, DEMO_NOW)
    steps = town_setup.first_steps(db, admin)
    assert (steps.school_year, steps.sites, steps.services, steps.families) == (True, True, True, False)

    # The families come from another slice (the CSV import): here, one family written directly.
    _, child = add_family_with_child(db, "parent@saint-essai.fr", "le mot de passe du parent")
    reservations.save_registration(db, admin, child, 2026, school, [canteen], DEMO_NOW)
    parent = auth.login(db, "parent@saint-essai.fr", "le mot de passe du parent", DEMO_NOW)[1]
    ctx = reservations.booking_context(db, parent, child, 2026)
    assert [(s.code, s.weekdays, s.site_id) for s in ctx.services] == [("cantine", (1, 2, 4, 5), school)]
    reservations.set_day(db, parent, ctx, canteen, date(2026, 12, 10), True, DEMO_NOW)
    assert db.rows("SELECT child_id, service_id, day, state FROM bookings") == [
        (child, canteen, date(2026, 12, 10), "booked")
    ]
    assert town_setup.first_steps(db, admin).all_done


def test_a_new_towns_name_is_saved_with_its_contact_and_address_left_empty(fresh_db):
    db = fresh_db
    setup.create_admin(db, "admin@ma-ville.fr", "Service enfance", "une phrase de passe longue", DEMO_NOW)
    admin = auth.login(db, "admin@ma-ville.fr", "une phrase de passe longue", DEMO_NOW)[1]
    typed = {"town_name": "Ville de Saint-Essai", "contact_email": "", "holiday_zone": "C", "public_url": " "}
    assert town_setup.save_town(db, admin, typed, DEMO_NOW) == "Réglages de la ville enregistrés : nom de la ville."
    assert town_setup.save_town(db, admin, typed, DEMO_NOW) == "Aucun changement."
    assert db.rows("SELECT key, value FROM settings") == [("town_name", "Ville de Saint-Essai")]
    with pytest.raises(InvalidInput, match="Nom de la ville : Valeur vide"):
        town_setup.save_town(db, admin, {**typed, "town_name": ""}, DEMO_NOW)


def test_each_write_is_audited_with_its_administrator(fresh_db):
    db = fresh_db
    setup.create_admin(db, "admin@ma-ville.fr", "Service enfance", "une phrase de passe longue", DEMO_NOW)
    admin = auth.login(db, "admin@ma-ville.fr", "une phrase de passe longue", DEMO_NOW)[1]
    town_setup.save_town(db, admin, {"holiday_zone": "B"}, DEMO_NOW)
    town_setup.open_school_year(db, admin, 2027, DEMO_NOW)
    site = town_setup.create_site(db, admin, name="Centre", kind="mercredi", address="", capacity=30, now=DEMO_NOW)
    town_setup.update_site(db, admin, site, name="Centre aéré", kind="mercredi", address="", capacity=35, now=DEMO_NOW)
    service = new_service(db, admin, capacities={site: 20})
    other = town_setup.create_site(db, admin, name="Annexe", kind="mercredi", address=None, capacity=10, now=DEMO_NOW)
    town_setup.offer_service(db, admin, other, service, 8, DEMO_NOW)
    town_setup.delete_site(db, admin, other, DEMO_NOW)
    town_setup.add_diet(db, admin, "pai_panier", "PAI panier-repas", DEMO_NOW)
    logged = db.rows(
        "SELECT action, entity_id, user_id FROM audit_log WHERE action NOT IN ('user.create', 'auth.login') ORDER BY id"
    )
    assert [(a, e) for a, e, _ in logged] == [
        ("setting.update", "holiday_zone"),
        ("school_year.open", "2027"),
        ("site.create", str(site)),
        ("site.update", str(site)),
        ("service.create", str(service)),
        ("site.create", str(other)),
        ("site_service.create", f"{other}:{service}"),
        ("site.delete", str(other)),
        ("diet.create", "pai_panier"),
    ]
    assert {u for _, _, u in logged} == {admin.user_id}
    assert db.rows("SELECT site_id, service_id, capacity FROM site_services") == [(site, service, 20)]
    assert db.value("SELECT name FROM sites") == "Centre aéré"
    assert db.value("SELECT weekdays FROM services") == "1,2,4,5"


def test_a_new_service_starts_with_the_schemas_deadlines(town):
    admin = town.login(town.admin)
    assert town_setup.default_deadlines(town.db, admin) == town_setup.ServiceDeadlines(
        DeadlineRule(7, False, time(23, 59)), DeadlineRule(2, True, time(23, 59))
    )


def test_a_site_with_registrations_is_renamed_but_never_deleted(town):
    db, admin = town.db, town.login(town.admin)
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="a des inscriptions ou des réservations : elle ne peut pas être supprimée"):
        town_setup.delete_site(db, admin, town.school, DEMO_NOW)
    assert snapshot(db) == before
    town_setup.update_site(
        db,
        admin,
        town.school,
        name="École des Tilleuls (maternelle)",
        kind="maternelle",
        address="",
        capacity=45,
        now=DEMO_NOW,
    )
    assert db.row("SELECT name, capacity FROM sites WHERE id = ?", [town.school]) == (
        "École des Tilleuls (maternelle)",
        45,
    )
    assert [s.registrations for s in town_setup.sites(db, admin) if s.id == town.school] == [2]


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"code": "cantine"}, InvalidInput, "Le code « cantine » est déjà celui d'une autre prestation"),
        ({"code": "Garderie Soir"}, InvalidInput, "lettres minuscules, chiffres et tirets"),
        ({"code": "garderie_soir"}, InvalidInput, "lettres minuscules, chiffres et tirets"),
        ({"code": ""}, InvalidInput, "Code de la prestation"),
        ({"name": "restauration scolaire"}, InvalidInput, "Une prestation s'appelle déjà"),
        ({"name": "  "}, InvalidInput, "Nom de la prestation : ce champ est obligatoire"),
        ({"short_name": "Garderie du soir"}, InvalidInput, "Nom court : 12 caractères au plus"),
        ({"weekdays": []}, InvalidInput, "cochez au moins un jour"),
        ({"weekdays": [0, 1]}, InvalidInput, "choisissez parmi lundi"),
        ({"weekdays": [6]}, InvalidInput, "choisissez parmi lundi"),
        ({"weekdays": ["1"]}, InvalidInput, "choisissez parmi lundi"),
        ({"weekdays": [True]}, InvalidInput, "choisissez parmi lundi"),
        ({"unit_price_cents": "abc"}, InvalidInput, "Prix unitaire"),
        ({"unit_price_cents": -1}, InvalidInput, "Prix unitaire"),
        ({"unit_price_cents": 1_000_000}, InvalidInput, "Prix unitaire"),
        ({"is_meal": "oui"}, InvalidInput, "Repas : oui ou non"),
        ({"book": "7 jours"}, InvalidInput, "Délais illisibles"),
        ({"capacities": {1: -1}}, InvalidInput, "Capacité : saisissez un nombre entier entre 0 et"),
        ({"capacities": {1: 2.5}}, InvalidInput, "Capacité"),
        ({"capacities": {}}, InvalidInput, "cochez au moins une structure"),
        ({"capacities": {999: 10}}, NotFound, "Structure introuvable"),
        ({"capacities": {"1": 10}}, NotFound, "Structure introuvable"),
    ],
)
def test_a_bad_service_is_refused_and_nothing_written(town, change, error, words):
    db, admin = town.db, town.login(town.admin)
    before = snapshot(db)
    with pytest.raises(error, match=words):
        new_service(db, admin, **change)
    assert snapshot(db) == before


def test_the_price_typed_abc_is_refused_by_the_forms_reading(town):
    from lib.domain.validation import parse_euros

    with pytest.raises(InvalidInput, match="Prix illisible : « abc »"):
        parse_euros("abc")
    with pytest.raises(InvalidInput, match="Délai de réservation"):
        deadline_rule(-1, False, time(23, 59), of="de réservation")


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"name": ""}, InvalidInput, "Nom de la structure : ce champ est obligatoire"),
        ({"name": "x" * 81}, InvalidInput, "80 caractères au plus"),
        ({"name": "centre du MERCREDI"}, InvalidInput, "Une structure s'appelle déjà « centre du MERCREDI »"),
        ({"kind": "lycee"}, InvalidInput, "Type de structure inconnu"),
        ({"kind": None}, InvalidInput, "Type de structure inconnu"),
        ({"address": "a" * 201}, InvalidInput, "Adresse : 200 caractères au plus"),
        ({"address": 12}, InvalidInput, "Adresse : saisissez un texte"),
        ({"capacity": -1}, InvalidInput, "Capacité : saisissez un nombre entier"),
        ({"capacity": "30"}, InvalidInput, "Capacité"),
    ],
)
def test_a_bad_site_is_refused_and_nothing_written(town, change, error, words):
    db, admin = town.db, town.login(town.admin)
    typed = {"name": "École des Cèdres", "kind": "elementaire", "address": "", "capacity": 30}
    typed.update(change)
    before = snapshot(db)
    with pytest.raises(error, match=words):
        town_setup.create_site(db, admin, now=DEMO_NOW, **typed)
    with pytest.raises(error, match=words):  # the school renamed or edited the same way
        town_setup.update_site(db, admin, town.school, now=DEMO_NOW, **typed)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "call, error, words",
    [
        (
            lambda db, a, t: town_setup.update_site(
                db, a, 999, name="X", kind="mercredi", address="", capacity=1, now=DEMO_NOW
            ),
            NotFound,
            "Structure introuvable",
        ),
        (
            lambda db, a, t: town_setup.update_site(
                db, a, "1", name="X", kind="mercredi", address="", capacity=1, now=DEMO_NOW
            ),
            NotFound,
            "Structure introuvable",
        ),
        (lambda db, a, t: town_setup.delete_site(db, a, 999, DEMO_NOW), NotFound, "Structure introuvable"),
        (lambda db, a, t: town_setup.open_school_year(db, a, t.school_year, DEMO_NOW), InvalidInput, "déjà ouverte"),
        (lambda db, a, t: town_setup.open_school_year(db, a, 2028, DEMO_NOW), InvalidInput, "plus d'un an"),
        (lambda db, a, t: town_setup.open_school_year(db, a, 2024, DEMO_NOW), InvalidInput, "est passée"),
        (lambda db, a, t: town_setup.open_school_year(db, a, "2027", DEMO_NOW), InvalidInput, "illisible"),
        (
            lambda db, a, t: town_setup.offer_service(db, a, t.school, t.canteen, 10, DEMO_NOW),
            InvalidInput,
            "propose déjà cette prestation",
        ),
        (
            lambda db, a, t: town_setup.offer_service(db, a, t.school, 999, 10, DEMO_NOW),
            NotFound,
            "Prestation introuvable",
        ),
        (
            lambda db, a, t: town_setup.offer_service(db, a, 999, t.canteen, 10, DEMO_NOW),
            NotFound,
            "Structure introuvable",
        ),
        (
            lambda db, a, t: town_setup.offer_service(db, a, t.school, t.wednesday_meal, -1, DEMO_NOW),
            InvalidInput,
            "Capacité",
        ),
        (lambda db, a, t: town_setup.add_diet(db, a, "standard", "Normal", DEMO_NOW), InvalidInput, "existe déjà"),
        (lambda db, a, t: town_setup.add_diet(db, a, "normal", "sans PORC", DEMO_NOW), InvalidInput, "existe déjà"),
        (
            lambda db, a, t: town_setup.add_diet(db, a, "Sans Porc", "Sans porc 2", DEMO_NOW),
            InvalidInput,
            "Code du régime",
        ),
        (
            lambda db, a, t: town_setup.add_diet(db, a, "halal", "", DEMO_NOW),
            InvalidInput,
            "Libellé du régime : ce champ est obligatoire",
        ),
        (
            lambda db, a, t: town_setup.save_town(db, a, {"holiday_zone": "D"}, DEMO_NOW),
            InvalidInput,
            "Zone de vacances scolaires : Valeur attendue : A ou B ou C",
        ),
        (
            lambda db, a, t: town_setup.save_town(db, a, {"town_name": "Ville", "contact_email": "x"}, DEMO_NOW),
            InvalidInput,
            "Adresse e-mail de contact : Adresse e-mail invalide",
        ),
        (
            lambda db, a, t: town_setup.save_town(db, a, {"public_url": "http://ville.fr"}, DEMO_NOW),
            InvalidInput,
            "Adresse publique du portail : public_url : l'adresse https",
        ),
        (
            lambda db, a, t: town_setup.save_town(db, a, {"payment_sandbox": "0"}, DEMO_NOW),
            InvalidInput,
            "Réglage inconnu",
        ),
        (
            lambda db, a, t: town_setup.save_town(db, a, {"town_name": None}, DEMO_NOW),
            InvalidInput,
            "saisissez un texte",
        ),
    ],
)
def test_bad_input_on_each_entry_point_is_refused_and_nothing_written(town, call, error, words):
    db, admin = town.db, town.login(town.admin)
    before = snapshot(db)
    with pytest.raises(error, match=words):
        call(db, admin, town)
    assert snapshot(db) == before


def test_presets_add_only_the_missing_diets(town):
    db, admin = town.db, town.login(town.admin)
    assert town_setup.add_preset_diets(db, admin, DEMO_NOW) == "Régimes ajoutés : Végétarien, Sans allergène."
    assert town_setup.add_preset_diets(db, admin, DEMO_NOW) == "Ces régimes existent déjà."
    assert [c for c, _ in town_setup.diets(db, admin)] == ["standard", "sans_porc", "vegetarien", "sans_allergene"]


# --- who may write --------------------------------------------------------------------------------

WRITES = [
    lambda db, a, t: town_setup.save_town(db, a, {"town_name": "Ville pirate"}, DEMO_NOW),
    lambda db, a, t: town_setup.open_school_year(db, a, 2027, DEMO_NOW),
    lambda db, a, t: town_setup.create_site(db, a, name="S", kind="mercredi", address="", capacity=1, now=DEMO_NOW),
    lambda db, a, t: town_setup.update_site(
        db, a, t.school, name="S", kind="mercredi", address="", capacity=1, now=DEMO_NOW
    ),
    lambda db, a, t: town_setup.update_site(
        db, a, 999, name="S", kind="mercredi", address="", capacity=1, now=DEMO_NOW
    ),
    lambda db, a, t: town_setup.delete_site(db, a, t.wednesday_centre, DEMO_NOW),
    lambda db, a, t: town_setup.delete_site(db, a, 999, DEMO_NOW),
    lambda db, a, t: new_service(db, a),
    lambda db, a, t: town_setup.offer_service(db, a, t.school, t.wednesday_meal, 10, DEMO_NOW),
    lambda db, a, t: town_setup.offer_service(db, a, 999, 999, 10, DEMO_NOW),
    lambda db, a, t: town_setup.add_diet(db, a, "halal", "Halal", DEMO_NOW),
    lambda db, a, t: town_setup.add_preset_diets(db, a, DEMO_NOW),
]


@pytest.mark.parametrize("who", ["parent_a", "agent", "cook", "mayor"])
@pytest.mark.parametrize("write", range(len(WRITES)))
def test_only_an_administrator_writes(town, who, write):
    db = town.db
    actor = town.login(getattr(town, who))
    before = snapshot(db)
    with pytest.raises(NotAllowed, match="n'est pas ouverte à votre profil"):
        WRITES[write](db, actor, town)
    assert snapshot(db) == before


def test_an_agent_reads_the_structure_a_family_does_not(town):
    db = town.db
    agent, parent = town.login(town.agent), town.login(town.parent_a)
    assert [s.name for s in town_setup.sites(db, agent)] == ["Centre du mercredi", "École des Tilleuls"]
    assert [s.code for s in town_setup.service_list(db, agent)] == ["cantine", "mercredi_repas", "mercredi_am"]
    assert [y.id for y in town_setup.school_years(db, agent)] == [town.previous_year, town.school_year]
    assert town_setup.town_settings(db, agent)["town_name"] == "Ville de Petite-Ville (essais)"
    for read in (
        town_setup.sites,
        town_setup.service_list,
        town_setup.school_years,
        town_setup.town_settings,
        town_setup.diets,
        town_setup.first_steps,
        town_setup.default_deadlines,
    ):
        with pytest.raises(NotAllowed):
            read(db, parent)
    forged = Actor(user_id=0, email="", role=Role.FAMILY, display_name="", family_id=999)
    with pytest.raises(NotAllowed):
        town_setup.sites(db, forged)
