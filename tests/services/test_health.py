"""Children's health (PAI) on the small town: who reads and writes it, what the audit log keeps
(ids and field names, never a value), the families' proposals and their validation, retention."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.health import PURGE_GRACE_DAYS, HealthRecord, RequestState
from lib.services import health, trail
from tests.conftest import DEMO_NOW, DEMO_TODAY
from tests.helpers import sorted_rows

ALICE_PAI = {
    "has_pai": True,
    "allergies": "Arachide, kiwi",
    "protocol": "Trousse d'urgence dans le cartable.\nAppeler le 15 puis la famille.",
    "meal_basket": True,
    "doctor_name": "Dr Pivoine",
    "doctor_phone": "0561234567",
    "valid_until": date(2027, 7, 3),
}
SECRETS = ("Arachide", "kiwi", "Trousse", "Pivoine", "05 61 23 45 67", "2027-07-03")


def snapshot(db) -> list:
    """Everything but the refusals the journal records (`health.access_refused`, checked where it matters)."""
    return [sorted_rows(db, "SELECT * FROM audit_log WHERE action <> 'health.access_refused'")] + [
        sorted_rows(db, f"SELECT * FROM {table}") for table in ("child_health", "child_health_requests", "children")
    ]


def audit_rows(db, action: str) -> list[tuple]:
    return db.rows(
        "SELECT user_id, entity, entity_id, before, after, reason FROM audit_log WHERE action = ? ORDER BY id", [action]
    )


def no_health_value_in_the_log(db) -> None:
    log = " ".join(str(r) for r in db.rows("SELECT before, after, reason FROM audit_log"))
    assert [s for s in SECRETS if s in log] == []


@pytest.fixture
def alice_pai(town):
    admin = town.login(town.admin)
    health.save_health(town.db, admin, town.child_a, ALICE_PAI, DEMO_NOW)
    return admin


def test_the_staff_save_and_read_a_pai_and_the_log_names_fields_not_values(town):
    agent = town.login(town.agent)
    said = health.save_health(town.db, agent, town.child_a, ALICE_PAI, DEMO_NOW)
    assert said == "PAI de Alice Aubert enregistré."
    found = health.child_health(town.db, town.login(town.admin), town.child_a, DEMO_NOW)
    assert found.record == HealthRecord(
        True, "Arachide, kiwi", ALICE_PAI["protocol"], True, "Dr Pivoine", "05 61 23 45 67", date(2027, 7, 3)
    )
    assert audit_rows(town.db, "health.update") == [
        (
            agent.user_id,
            "child",
            str(town.child_a),
            None,
            '{"fields": ["has_pai", "allergies", "protocol", "meal_basket", "doctor_name", "doctor_phone", '
            '"valid_until"]}',
            None,
        )
    ]
    health.save_health(town.db, agent, town.child_a, {**ALICE_PAI, "allergies": "Arachide"}, DEMO_NOW)
    assert audit_rows(town.db, "health.update")[-1][4] == '{"fields": ["allergies"]}'
    assert len(audit_rows(town.db, "health.read")) == 1
    no_health_value_in_the_log(town.db)
    lines = trail.journal(town.db, town.login(town.admin), kind="Santé (PAI)", name="alice").lines
    assert [(line.what, line.concerns) for line in lines] == [
        ("A modifié la fiche de santé (PAI) de Alice Aubert (allergies)", "Alice Aubert (Famille Aubert)"),
        ("A consulté la fiche de santé (PAI) de Alice Aubert", "Alice Aubert (Famille Aubert)"),
        (
            "A modifié la fiche de santé (PAI) de Alice Aubert (PAI signé, allergies, protocole, panier repas, "
            "médecin, téléphone du médecin, date de validité)",
            "Alice Aubert (Famille Aubert)",
        ),
    ]
    assert not [s for s in SECRETS if s in trail.journal_csv(town.db, town.login(town.admin)).decode("utf-8-sig")]


def test_saving_the_same_record_again_writes_nothing(town, alice_pai):
    before = snapshot(town.db)
    said = health.save_health(town.db, alice_pai, town.child_a, ALICE_PAI, DEMO_NOW)
    assert said == "Aucun changement : le PAI était déjà celui-ci."
    assert snapshot(town.db) == before


@pytest.mark.parametrize(
    "change, message",
    [
        ({"doctor_phone": "12 34"}, "Téléphone du médecin : numéro illisible « 12 34 »."),
        ({"allergies": "x" * 501}, "Allergies : 500 caractères au plus (501 saisis)."),
        ({"protocol": "y" * 2001}, "Protocole : 2000 caractères au plus (2001 saisis)."),
        ({"doctor_name": "Dr\u200bX"}, "Médecin : caractères invisibles refusés ; saisissez du texte simple."),
        ({"has_pai": "oui"}, "PAI signé : répondez par oui ou non."),
        ({"has_pai": False}, "Un panier repas se prévoit dans un PAI : cochez aussi « PAI signé »."),
        ({"valid_until": DEMO_TODAY - timedelta(days=1)}, "Valable jusqu'au : cette date est passée"),
        ({"valid_until": "31/02/2027"}, "Valable jusqu'au : date illisible."),
        ({"colour": "bleu"}, "Formulaire de santé illisible : rechargez la page."),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_written(town, change, message):
    agent = town.login(town.agent)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput) as refused:
        health.save_health(town.db, agent, town.child_a, {**ALICE_PAI, **change}, DEMO_NOW)
    assert refused.value.message.startswith(message)
    assert snapshot(town.db) == before


def test_a_phone_is_written_back_the_french_way():
    from lib.domain.validation import check_phone

    assert check_phone("+33 5.61.23.45.67", "Tél.") == "05 61 23 45 67"
    assert check_phone("06-12-34-56-78", "Tél.") == "06 12 34 56 78"
    for bad in ("0012345678", "061234567", "+44 20 7946 0958", "06 12 34 56 7a"):
        with pytest.raises(InvalidInput):
            check_phone(bad, "Tél.")


def test_another_family_gets_the_same_refusal_as_for_an_unknown_child_and_nothing_is_written(town, alice_pai):
    family_b = town.login(town.parent_b)
    before = snapshot(town.db)
    messages = set()
    for child_id in (town.child_a, 99_999, "1", True, None):
        with pytest.raises(NotAllowed) as read:
            health.child_health(town.db, family_b, child_id, DEMO_NOW)
        with pytest.raises(NotAllowed) as proposed:
            health.propose_health(town.db, family_b, child_id, {**ALICE_PAI, "allergies": "rien"}, DEMO_NOW)
        messages |= {read.value.message, proposed.value.message}
    assert messages == {"Enfant introuvable ou non rattaché à votre compte."}
    assert snapshot(town.db) == before
    # Each attempt is in the journal, by whom, on which id, with the refusal only (no health value).
    refused = town.db.rows(
        "SELECT user_id, entity_id, after, reason FROM audit_log WHERE action = 'health.access_refused'"
    )
    assert len(refused) == 10 and {r[0] for r in refused} == {family_b.user_id}
    assert {r[1] for r in refused} >= {str(town.child_a), "99999"}
    assert {r[2] for r in refused} == {None} and {r[3] for r in refused} == {
        "Enfant introuvable ou non rattaché à votre compte."
    }


@pytest.mark.parametrize("who", ["cook", "mayor"])
def test_the_kitchen_and_the_elected_are_refused_everywhere(town, alice_pai, who):
    actor = town.login(getattr(town, who))
    before = snapshot(town.db)
    calls = [
        lambda: health.sheet_health(town.db, actor, DEMO_TODAY, town.school, town.canteen, DEMO_NOW),
        lambda: health.child_health(town.db, actor, town.child_a, DEMO_NOW),
        lambda: health.save_health(town.db, actor, town.child_a, ALICE_PAI, DEMO_NOW),
        lambda: health.propose_health(town.db, actor, town.child_a, ALICE_PAI, DEMO_NOW),
        lambda: health.pending_health(town.db, actor, DEMO_NOW),
        lambda: health.decide_health(town.db, actor, 1, True, "", DEMO_NOW),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    assert snapshot(town.db) == before


def test_a_family_may_not_use_the_staff_doors(town, alice_pai):
    parent, agent = town.login(town.parent_a), town.login(town.agent)
    before = snapshot(town.db)
    for call in (
        lambda: health.sheet_health(town.db, parent, DEMO_TODAY, town.school, town.canteen, DEMO_NOW),
        lambda: health.save_health(town.db, parent, town.child_a, {**ALICE_PAI, "allergies": "x"}, DEMO_NOW),
        lambda: health.pending_health(town.db, parent, DEMO_NOW),
        lambda: health.decide_health(town.db, parent, 1, True, "", DEMO_NOW),
    ):
        with pytest.raises(NotAllowed):
            call()
    with pytest.raises(NotAllowed):  # and the staff propose nothing: they write
        health.propose_health(town.db, agent, town.child_a, ALICE_PAI, DEMO_NOW)
    assert snapshot(town.db) == before


def test_the_family_reads_its_own_childs_pai_and_the_read_is_audited(town, alice_pai):
    parent = town.login(town.parent_a)
    found = health.child_health(town.db, parent, town.child_a, DEMO_NOW)
    assert found.record.allergies == "Arachide, kiwi" and found.pending is None
    assert audit_rows(town.db, "health.read") == [(parent.user_id, "child", str(town.child_a), None, None, None)]


def test_a_sheet_read_covers_only_its_children_with_one_entry_found_by_name(town, alice_pai):
    agent = town.login(town.agent)
    basile = {**ALICE_PAI, "allergies": "Lait"}
    health.save_health(town.db, agent, town.child_b, basile, DEMO_NOW)  # Wednesday centre only
    before = town.db.value("SELECT count(*) FROM audit_log")
    found = health.sheet_health(town.db, agent, DEMO_TODAY, town.school, town.canteen, DEMO_NOW)
    assert set(found.children) == {town.child_a, town.child_a2}  # Friday: Alice and Adrien eat at the canteen
    assert [r.child_id for r in found.records] == [town.child_a]
    assert town.db.value("SELECT count(*) FROM audit_log") == before + 1
    entry = audit_rows(town.db, "health.read")[-1]
    assert entry == (
        agent.user_id,
        "site_service_day",
        f"{town.school}:{town.canteen}:{DEMO_TODAY.isoformat()}",
        None,
        f'{{"{town.child_a}": "PAI"}}',
        "2 enfant(s) sur la liste",
    )
    journal = trail.journal(town.db, town.login(town.admin), kind="Santé (PAI)", name="alice")
    assert journal.lines[0].what.startswith(
        "A affiché les PAI de la liste de pointage École des Tilleuls — Restauration scolaire le vendredi 27 novembre"
    )
    assert not trail.journal(town.db, town.login(town.admin), kind="Santé (PAI)", name="basile aub").lines
    no_health_value_in_the_log(town.db)


def test_a_child_added_on_screen_is_covered_only_if_registered_there(town, alice_pai):
    agent = town.login(town.agent)
    wednesday = DEMO_TODAY - timedelta(days=2)
    found = health.sheet_health(
        town.db, agent, wednesday, town.wednesday_centre, town.wednesday_meal, DEMO_NOW, added=(town.child_a,)
    )
    assert town.child_a not in found.children  # Alice is not registered at the Wednesday centre
    assert found.records == []


def test_a_sheet_read_refuses_a_bad_day_or_place_and_writes_nothing(town):
    agent = town.login(town.agent)
    before = snapshot(town.db)
    for day, site, service in ((DEMO_TODAY + timedelta(days=1), town.school, town.canteen), (DEMO_TODAY, 99, 1)):
        with pytest.raises(InvalidInput):
            health.sheet_health(town.db, agent, day, site, service, DEMO_NOW)
    assert snapshot(town.db) == before


def test_a_familys_correction_waits_then_is_accepted_through_the_staff_write(town, alice_pai):
    parent = town.login(town.parent_a)
    said = health.propose_health(town.db, parent, town.child_a, {**ALICE_PAI, "allergies": "Arachide"}, DEMO_NOW)
    assert "attend la validation" in said
    later = DEMO_NOW + timedelta(hours=1)
    health.propose_health(town.db, parent, town.child_a, {**ALICE_PAI, "allergies": "Arachide, noix"}, later)
    mine = health.child_health(town.db, parent, town.child_a, later)
    assert mine.record.allergies == "Arachide, kiwi"  # unchanged until the staff accept
    assert mine.pending.proposed.allergies == "Arachide, noix"  # the second replaced the first
    agent = town.login(town.agent)
    waiting = health.pending_health(town.db, agent, later)
    assert [(r.child_id, old.allergies, r.proposed.allergies) for r, old in waiting] == [
        (town.child_a, "Arachide, kiwi", "Arachide, noix")
    ]
    said = health.decide_health(town.db, agent, waiting[0][0].id, True, "", later)
    assert said == "Correction du PAI de Alice Aubert acceptée et enregistrée."
    assert health.child_health(town.db, agent, town.child_a, later).record.allergies == "Arachide, noix"
    assert town.db.rows("SELECT state, payload, decided_by FROM child_health_requests") == [
        ("accepted", None, agent.user_id)
    ]
    assert audit_rows(town.db, "health.update")[-1][4:] == (
        '{"fields": ["allergies"]}',
        "correction de la famille acceptée",
    )
    assert audit_rows(town.db, "health.propose")[-1][4] == '{"fields": ["allergies"], "request": 1}'
    assert health.pending_health(town.db, agent, later) == []
    with pytest.raises(InvalidInput) as again:
        health.decide_health(town.db, agent, waiting[0][0].id, False, "non", later)
    assert again.value.message == "Cette correction n'attend plus de validation : rechargez la liste."
    no_health_value_in_the_log(town.db)


def test_a_refusal_needs_a_note_that_the_family_reads(town, alice_pai):
    parent, agent = town.login(town.parent_a), town.login(town.agent)
    health.propose_health(
        town.db, parent, town.child_a, {**ALICE_PAI, "has_pai": False, "meal_basket": False}, DEMO_NOW
    )
    request = health.pending_health(town.db, agent, DEMO_NOW)[0][0]
    before = snapshot(town.db)
    with pytest.raises(InvalidInput) as refused:
        health.decide_health(town.db, agent, request.id, False, "  ", DEMO_NOW)
    assert refused.value.message == "Indiquez à la famille pourquoi la correction est refusée."
    with pytest.raises(InvalidInput):
        health.decide_health(town.db, agent, request.id, "oui", "", DEMO_NOW)
    assert snapshot(town.db) == before
    health.decide_health(town.db, agent, request.id, False, "Le PAI signé par le médecin reste valable.", DEMO_NOW)
    mine = health.child_health(town.db, parent, town.child_a, DEMO_NOW)
    assert mine.record.has_pai and mine.pending is None
    assert (mine.decided.state, mine.decided.note, mine.decided.proposed) == (
        RequestState.REFUSED,
        "Le PAI signé par le médecin reste valable.",
        None,
    )
    assert "Le PAI signé" not in " ".join(str(r) for r in town.db.rows("SELECT after, reason FROM audit_log"))


def test_accepting_a_proposal_whose_validity_has_passed_is_refused_with_the_reason(town, alice_pai):
    parent, agent = town.login(town.parent_a), town.login(town.agent)
    valid_until = DEMO_TODAY + timedelta(days=10)
    health.propose_health(town.db, parent, town.child_a, {**ALICE_PAI, "valid_until": valid_until}, DEMO_NOW)
    request = health.pending_health(town.db, agent, DEMO_NOW)[0][0]
    later = DEMO_NOW + timedelta(days=11)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput) as refused:
        health.decide_health(town.db, agent, request.id, True, "", later)
    assert refused.value.message == "La date de validité proposée est passée : refusez la demande avec une note."
    assert snapshot(town.db) == before
    health.decide_health(town.db, agent, request.id, False, "Le PAI est échu : faites-le renouveler.", later)


@pytest.mark.parametrize("values", [None, ["allergies"], "allergies", 3])
def test_a_health_form_that_is_not_a_mapping_is_refused_in_french(town, alice_pai, values):
    parent = town.login(town.parent_a)
    before = snapshot(town.db)
    for call in (
        lambda: health.save_health(town.db, alice_pai, town.child_a, values, DEMO_NOW),
        lambda: health.propose_health(town.db, parent, town.child_a, values, DEMO_NOW),
    ):
        with pytest.raises(InvalidInput) as refused:
            call()
        assert refused.value.message == "Formulaire de santé illisible : rechargez la page."
    assert snapshot(town.db) == before


def test_proposing_the_record_as_it_is_is_refused(town, alice_pai):
    parent = town.login(town.parent_a)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput) as refused:
        health.propose_health(town.db, parent, town.child_a, ALICE_PAI, DEMO_NOW)
    assert refused.value.message == "Vous n'avez rien changé : la fiche de santé est déjà celle-ci."
    assert snapshot(town.db) == before


def _unregister(town, child_id: int) -> None:
    def work(cur):
        cur.execute(
            "DELETE FROM registration_services WHERE registration_id IN (SELECT id FROM registrations WHERE child_id = ?)",
            [child_id],
        )
        cur.execute("DELETE FROM registrations WHERE child_id = ?", [child_id])

    town.db.write(work)


def test_a_child_no_longer_registered_loses_its_health_data_and_proposals(town, alice_pai):
    parent_b = town.login(town.parent_b)
    health.save_health(town.db, alice_pai, town.child_b, {"allergies": "Lait"}, DEMO_NOW)
    health.propose_health(town.db, parent_b, town.child_b, {"allergies": "Lait, œuf"}, DEMO_NOW)
    assert health.purge_unregistered(town.db, DEMO_NOW) == 0
    _unregister(town, town.child_b)
    assert health.purge_unregistered(town.db, DEMO_NOW) == 1
    assert town.db.rows("SELECT child_id FROM child_health") == [(town.child_a,)]
    assert town.db.rows("SELECT count(*) FROM child_health_requests") == [(0,)]
    assert audit_rows(town.db, "health.purged") == [
        (None, "child", str(town.child_b), None, None, "plus d'inscription en cours ou à venir")
    ]
    assert health.purge_unregistered(town.db, DEMO_NOW) == 0  # nothing left to purge


def test_over_the_summer_a_child_registered_last_year_keeps_its_pai_for_a_grace_period(town, alice_pai):
    """Families re-register over the summer and in September: Alice, registered only in the year
    that just ended, keeps her PAI for PURGE_GRACE_DAYS after its end, then loses it."""
    end = town.db.value("SELECT end_date FROM school_years WHERE id = ?", [town.school_year])

    def on(day: date) -> datetime:
        return datetime.combine(day, DEMO_NOW.timetz())

    assert PURGE_GRACE_DAYS == 120
    assert health.purge_unregistered(town.db, on(end + timedelta(days=1))) == 0
    assert health.purge_unregistered(town.db, on(end + timedelta(days=PURGE_GRACE_DAYS))) == 0
    assert town.db.rows("SELECT child_id FROM child_health") == [(town.child_a,)]
    assert health.purge_unregistered(town.db, on(end + timedelta(days=PURGE_GRACE_DAYS + 1))) == 1
    assert town.db.rows("SELECT count(*) FROM child_health") == [(0,)]


def test_an_archived_child_loses_its_health_data_though_registered(town, alice_pai):
    health.propose_health(town.db, town.login(town.parent_a), town.child_a, {"allergies": "Lait"}, DEMO_NOW)
    town.db.write(
        lambda cur: cur.execute(
            "UPDATE children SET archived_at = ? WHERE id = ?", [DEMO_NOW.replace(tzinfo=None), town.child_a]
        )
    )
    assert health.purge_unregistered(town.db, DEMO_NOW) == 1
    assert town.db.rows("SELECT count(*) FROM child_health UNION ALL SELECT count(*) FROM child_health_requests") == [
        (0,),
        (0,),
    ]


def test_health_data_is_not_written_for_an_unregistered_child(town):
    _unregister(town, town.child_b)
    agent, parent = town.login(town.agent), town.login(town.parent_b)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput) as refused:
        health.save_health(town.db, agent, town.child_b, {"allergies": "Lait"}, DEMO_NOW)
    assert refused.value.message.startswith("Basile Besson n'est inscrit(e) à aucune année scolaire en cours")
    with pytest.raises(InvalidInput):
        health.propose_health(town.db, parent, town.child_b, {"allergies": "Lait"}, DEMO_NOW)
    assert snapshot(town.db) == before


def test_the_server_purges_when_it_starts(town, alice_pai):
    """server.py, imported as `streamlit run` does, runs the purge on the town it serves."""
    import importlib
    import sys

    health.save_health(town.db, alice_pai, town.child_b, {"allergies": "Lait"}, DEMO_NOW)
    _unregister(town, town.child_b)
    sys.modules.pop("server", None)
    try:
        importlib.import_module("server")
    finally:
        sys.modules.pop("server", None)
    assert town.db.rows("SELECT child_id FROM child_health") == [(town.child_a,)]
    assert [r[2] for r in audit_rows(town.db, "health.purged")] == [str(town.child_b)]


def test_a_registration_for_next_year_only_keeps_the_health_data(town, alice_pai):
    health.save_health(town.db, alice_pai, town.child_b, {"allergies": "Lait"}, DEMO_NOW)
    _unregister(town, town.child_b)
    next_year = town.school_year + 1

    def register_next_year(cur):
        cur.execute(
            "INSERT INTO school_years VALUES (?, ?, ?, ?)",
            [next_year, f"{next_year}/{next_year + 1}", date(next_year, 9, 1), date(next_year + 1, 7, 3)],
        )
        cur.execute(
            "INSERT INTO registrations (child_id, school_year_id, site_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            [
                town.child_b,
                next_year,
                town.wednesday_centre,
                DEMO_NOW.replace(tzinfo=None),
                DEMO_NOW.replace(tzinfo=None),
            ],
        )

    town.db.write(register_next_year)
    assert health.purge_unregistered(town.db, DEMO_NOW) == 0
    assert town.db.rows("SELECT child_id FROM child_health ORDER BY child_id") == [(town.child_a,), (town.child_b,)]
