"""The family file's store: guardians made from accounts, search, the QF history and its cache,
proposals replaced while pending."""

from datetime import date, datetime

from lib.domain.changes import ChangeKind, ChangeState
from lib.domain.families import BillingMode, ChildInput, QfSource, QuotientInput
from lib.store import families as store

AT = datetime(2026, 11, 27, 8, 30)


def test_the_town_families_have_their_accounts_as_guardians(town):
    first = store.guardians(town.db, town.family_a)
    assert [(g.rank, g.first_name, g.last_name, g.email) for g in first] == [
        (1, "Anne", "Aubert", town.parent_a),
    ]
    assert first[0].user_id == town.db.value("SELECT id FROM users WHERE email = ?", [town.parent_a])
    assert [(q.qf, q.source) for q in store.quotients(town.db, town.family_a)] == [(600, QfSource.AUTRE)]
    assert store.quotients(town.db, 3) == []  # no QF, no history


def test_guardians_from_accounts_leaves_families_that_have_some(town):
    assert town.db.write(store.guardians_from_accounts) == 0
    assert town.db.value("SELECT count(*) FROM guardians") == 15


def words(text):
    return text.split()


def test_search_ignores_accents_and_case_and_looks_everywhere(town):
    def work(cur):
        fid = store.insert_family(cur, "Famille Léger", "F-0042", AT)
        from lib.domain.families import GuardianInput

        store.save_guardian(cur, fid, 1, GuardianInput("Élodie", "Léger", "elodie@exemple.fr", None, None))
        store.insert_child(cur, fid, ChildInput("Zoé", "Léger", date(2019, 5, 1), "GS", "standard", "E-77"))
        return fid

    fid = town.db.write(work)
    for typed in (["leger"], ["elodie"], ["elodie@exemple"], ["f-0042"], ["zoe"], ["e-77"], ["leger", "zoe"]):
        assert [f.id for f in store.search(town.db, typed, False, 10)] == [fid], typed
    found = store.search(town.db, ["leger"], False, 10)[0]
    assert (found.guardians, found.children, found.archived) == ("Élodie Léger", "Zoé", False)
    assert store.search(town.db, ["leger", "alice"], False, 10) == []
    town.db.write(lambda cur: store.set_family_archived(cur, fid, AT))
    assert store.search(town.db, ["leger"], False, 10) == []
    assert [f.archived for f in store.search(town.db, ["leger"], True, 10)] == [True]


def test_the_qf_in_force_is_the_latest_date_and_is_cached_on_the_family(town):
    def record(qf, day):
        return town.db.write(
            lambda cur: store.set_quotient(cur, town.family_a, QuotientInput(qf, day, QfSource.CAF, "1234567"), 4, AT)
        )

    assert record(720, date(2026, 10, 1)) == 720
    assert record(500, date(2026, 1, 1)) == 720  # an older certificate: kept in the history only
    assert store.family(town.db, town.family_a).quotient_familial == 720
    assert [q.qf for q in store.quotients(town.db, town.family_a)] == [720, 600, 500]
    assert store.quotients(town.db, town.family_a)[0].recorded_by == "Service enfance"


def test_a_new_proposal_replaces_the_pending_one(town):
    def propose(payload):
        return town.db.write(lambda cur: store.propose(cur, town.family_a, None, ChangeKind.QF, payload, 5, AT))

    first = propose('{"qf": 1}')
    assert propose('{"qf": 2}') == first
    assert [c.payload for c in store.changes(town.db, town.family_a, ChangeState.PENDING)] == ['{"qf": 2}']
    assert town.db.write(lambda cur: store.decide(cur, first, ChangeState.REFUSED, 4, AT, "illisible"))
    assert not town.db.write(lambda cur: store.decide(cur, first, ChangeState.ACCEPTED, 4, AT, None))
    assert propose('{"qf": 3}') != first
    assert [c.state for c in store.changes(town.db, town.family_a, None)] == [ChangeState.REFUSED, ChangeState.PENDING]


def test_billing_and_refs_are_stored(town):
    town.db.write(lambda cur: store.update_family(cur, town.family_b, "Famille Besson", "F-9", BillingMode.GUARDIAN1))
    assert store.family(town.db, town.family_b).town_ref == "F-9"
    assert store.ref_taken(town.db, "families", "F-9", None)
    assert not store.ref_taken(town.db, "families", "F-9", town.family_b)
