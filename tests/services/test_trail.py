"""Reading the audit log in French: filters by kind, by a family's or child's name (any case, no
accents needed) and by Paris days; bad filters refused in French with nothing written; admins only."""

from datetime import date, timedelta

import pytest

from lib.domain.errors import InvalidInput, NotAllowed
from lib.services import attendance, payments, reservations, trail
from tests.conftest import DEMO_NOW, DEMO_TODAY, booked_days, login


# The journal's sentences are read on the demo town after a morning of several people's changes: its
# family with two children in different services, the class checked with a child of the family whose
# right is granted, and September's publication give every filter something to keep and to leave.
@pytest.fixture
def logged(demo_db):
    """A morning at the town hall: a parent cancels Hugo's December meals, an agent cancels Léa's
    Monday late, checks a class, the administrator grants a family the right to pay online."""
    parent, agent, admin = (login(demo_db, e) for e in ("parent@demo.fr", "agent@demo.fr", "admin@demo.fr"))
    kids = {k.first_name: k.id for k in reservations.my_children(demo_db, parent)}
    _, year = reservations.school_years(demo_db, DEMO_TODAY)
    hugo = reservations.booking_context(demo_db, parent, kids["Hugo"], year.id)
    meals = hugo.services[0].id
    december = booked_days(demo_db, kids["Hugo"], meals, date(2026, 12, 1), date(2026, 12, 31))
    reservations.change_days(demo_db, parent, hugo, meals, [], december, DEMO_NOW)
    lea = reservations.booking_context(demo_db, agent, kids["Léa"], year.id)
    reservations.set_day(
        demo_db, agent, lea, lea.services[0].id, date(2026, 11, 30), False, DEMO_NOW, late=True, reason="Malade"
    )
    sheet = attendance.sheet(demo_db, agent, DEMO_TODAY, 1, 1, DEMO_NOW)
    attendance.save(demo_db, agent, DEMO_TODAY, 1, 1, {r.child_id: "present" for r in sheet.rows}, DEMO_NOW)
    payments.decide_payment_right(demo_db, admin, 7, True, DEMO_NOW)
    return admin


def whats(journal) -> list[str]:
    return [line.what for line in journal.lines]


def test_the_log_reads_in_french_newest_first(demo_db, logged):
    lines = trail.journal(demo_db, logged).lines
    assert [line.at for line in lines] == sorted((line.at for line in lines), reverse=True)
    granted = lines[0]
    assert granted.what == "A accordé le droit de payer en ligne à Famille Bonnet"
    assert granted.who == "Service éducation (administrateur)" and granted.when == "27/11/2026 à 9 h 30"
    assert granted.concerns == "Famille Bonnet"
    late = next(line for line in lines if "hors délai" in line.what)
    assert (
        late.what == "A annulé 1 jour(s) de Restauration scolaire pour Léa Martin le lundi 30 novembre 2026, hors délai"
    )
    assert (late.who, late.concerns, late.reason) == (
        "Nadia Benali (agent d'animation)",
        "Léa Martin (Famille Martin)",
        "Malade",
    )
    assert not any("{" in line.what or "_" in line.what for line in lines)  # no JSON, no action codes


def test_a_child_is_found_by_name_in_any_case(demo_db, logged):
    for name in ("hugo", "HUGO MARTIN", "  Hugo   Martin "):
        assert whats(trail.journal(demo_db, logged, name=name, kind="Réservations")) == [
            "A annulé 11 jour(s) de Restauration scolaire pour Hugo Martin du 01/12/2026 au 18/12/2026"
        ], name


def test_a_name_without_its_accents_finds_the_child_and_the_checks_she_was_in(demo_db, logged):
    # « lea » finds Léa's booking and the class check she was part of, nobody else's booking.
    found = whats(trail.journal(demo_db, logged, name="lea martin"))
    assert any(w.startswith("A annulé 1 jour(s)") and "Léa Martin" in w for w in found)
    assert any(w.startswith("A pointé") for w in found)
    assert not any("Hugo" in w or "Bonnet" in w for w in found)


def test_a_family_name_finds_the_family_and_its_children(demo_db, logged):
    bonnet = whats(trail.journal(demo_db, logged, name="bonnet"))
    assert bonnet[0] == "A accordé le droit de payer en ligne à Famille Bonnet"
    # a Bonnet child was in the class checked, and the canteen strike cancelled Bonnet children's bookings
    assert {w.split(" ")[0] for w in bonnet[1:]} == {"A", "Grève"}
    assert all(w.startswith(("A pointé", "Grève : 1 réservation(s) annulée(s) de Restauration")) for w in bonnet[1:])
    martin = whats(trail.journal(demo_db, logged, name="famille martin", kind="Réservations"))
    assert len(martin) == 2 and all("Martin" in w for w in martin)


def test_the_kind_and_the_days_filter(demo_db, logged):
    checked = len(attendance.sheet(demo_db, logged, DEMO_TODAY, 1, 1, DEMO_NOW).rows)
    assert whats(trail.journal(demo_db, logged, kind="Pointage")) == [
        f"A pointé {checked} enfant(s) pour ALAE Jean Moulin (école maternelle) — Restauration scolaire le vendredi "
        f"27 novembre 2026 : {checked} présent(s)"
    ]
    october = trail.journal(demo_db, logged, first=date(2026, 10, 1), last=date(2026, 10, 31)).lines
    assert [line.what for line in october] == [
        "A publié 266 document(s) pour septembre 2026 (F-2026-000001 à F-2026-000266), total 22\u202f202,90\u00a0€"
    ]
    # Paris days: an entry at 9 h 30 on the 27th is in « the 27th » and not in « the 26th ».
    assert trail.journal(demo_db, logged, first=DEMO_TODAY, last=DEMO_TODAY).lines
    assert "Famille Bonnet" not in str(trail.journal(demo_db, logged, last=DEMO_TODAY - timedelta(days=1)).lines)
    assert trail.journal(demo_db, logged, name="personne de ce nom").lines == []


def test_the_limit_says_there_is_more(demo_db, logged):
    found = trail.journal(demo_db, logged, limit=2)
    assert len(found.lines) == 2 and found.more
    assert not trail.journal(demo_db, logged).more


def test_the_csv_is_french(demo_db, logged):
    text = trail.journal_csv(demo_db, logged, name="bonnet", kind="Paiements en ligne").decode("utf-8")
    assert text.startswith("\ufeff")
    rows = text.lstrip("\ufeff").splitlines()
    assert rows[0] == "Date et heure;Qui;Action;Famille ou enfant;Motif"
    assert rows[1:] == [
        "27/11/2026 à 9 h 30;Service éducation (administrateur);"
        "A accordé le droit de payer en ligne à Famille Bonnet;Famille Bonnet;"
    ]


def snapshot(db):
    return db.rows("SELECT count(*), max(id) FROM audit_log"), db.rows("SELECT count(*) FROM bookings")


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"name": "x" * 61}, "Nom trop long : 60 caractères au plus."),
        ({"name": "h"}, "Saisissez au moins 2 lettres du nom de la famille ou de l'enfant."),
        ({"name": "12"}, "Saisissez au moins 2 lettres du nom de la famille ou de l'enfant."),
        ({"name": "Hugo\x00"}, "Nom illisible : saisissez seulement des lettres, des espaces ou des tirets."),
        ({"name": 12}, "Nom illisible : saisissez le nom d'une famille ou d'un enfant."),
        ({"name": "%' OR 1=1 --"}, None),  # not an error: no name contains it, nothing is found
        (
            {"first": date(2026, 11, 27), "last": date(2026, 11, 1)},
            "La fin de la période précède son début : vérifiez les dates.",
        ),
        ({"first": "2026-11-01"}, "Choisissez une période : un jour de début et un jour de fin."),
        ({"last": DEMO_NOW}, "Choisissez une période : un jour de début et un jour de fin."),
        ({"kind": "booking"}, "Type de changement inconnu : choisissez-en un dans la liste."),
    ],
)
def test_bad_filters_are_refused_in_french_and_write_nothing(town, filters, message):
    logged = town.login(town.admin)
    before = snapshot(town.db)
    if message is None:
        assert trail.journal(town.db, logged, **filters).lines == []
    else:
        with pytest.raises(InvalidInput) as refused:
            trail.journal(town.db, logged, **filters)
        assert refused.value.message == message
        with pytest.raises(InvalidInput):
            trail.journal_csv(town.db, logged, **filters)
    assert snapshot(town.db) == before


@pytest.mark.parametrize("account", ["parent_a", "agent", "cook", "mayor"])
def test_only_the_administrator_reads_the_log(town, account):
    who = town.login(getattr(town, account))
    with pytest.raises(NotAllowed):
        trail.journal(town.db, who)
    with pytest.raises(NotAllowed):
        trail.journal_csv(town.db, who)


def test_a_staff_member_opening_a_childs_file_is_in_the_journal(town):
    agent, admin = town.login(town.agent), town.login(town.admin)
    basile = next(k for k in reservations.find_children(town.db, agent, "Basile Besson"))
    trail.record_child_file_read(town.db, agent, basile.id, DEMO_NOW)
    journal = trail.journal(town.db, admin, kind="Consultations de dossiers")
    assert [(line.who, line.what, line.concerns) for line in journal.lines] == [
        (
            "Agnès Durand (agent d'animation)",
            "A consulté le dossier de Basile Besson (inscription et réservations)",
            "Basile Besson (Famille Besson)",
        )
    ]


@pytest.mark.parametrize("account", ["parent_a", "cook", "mayor"])
def test_only_town_hall_staff_who_open_files_record_a_read(town, account):
    someone = town.login(getattr(town, account))  # logging in is audited
    before = town.db.rows("SELECT count(*) FROM audit_log")
    with pytest.raises(NotAllowed):
        trail.record_child_file_read(town.db, someone, town.child_a, DEMO_NOW)
    assert town.db.rows("SELECT count(*) FROM audit_log") == before
