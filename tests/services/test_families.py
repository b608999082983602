"""Family files: who reads and writes them, what is refused (and writes nothing), QF proposals and
their validation, archives, the family's own data."""

import io
import json
import zipfile
from datetime import date, timedelta

import pytest

from lib.domain.changes import ChangeState
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.families import ChildInput, ConsentKind, ContactInput, GuardianInput, QfSource, QuotientInput
from lib.services import attendance, families, health, reservations, trail
from lib.store import invoices as invoice_store
from tests.conftest import DEMO_NOW, DEMO_TODAY
from tests.helpers import sorted_rows

TABLES = (
    "families",
    "guardians",
    "children",
    "family_quotients",
    "contacts",
    "consents",
    "billing_shares",
    "pending_changes",
    "bookings",
    "users",
    "sessions",
)
GOOD_QF = QuotientInput(820, date(2026, 10, 1), QfSource.CAF, "1234567")
CONTACT = ContactInput("Mamie Aubert", "grand-mère", "06 11 22 33 44", True, True)


def snapshot(db):
    """Every row a family file entry point may write, and the audit log's size."""
    return [sorted_rows(db, f"SELECT * FROM {t}") for t in TABLES], db.value("SELECT count(*) FROM audit_log")


def audits(db, action):
    return db.rows("SELECT entity, entity_id, user_id FROM audit_log WHERE action = ? ORDER BY id", [action])


@pytest.fixture
def admin(town):
    return town.login(town.admin)


@pytest.fixture
def agent(town):
    return town.login(town.agent)


@pytest.fixture
def parent_a(town):
    return town.login(town.parent_a)


@pytest.fixture
def parent_b(town):
    return town.login(town.parent_b)


# --- staff reads ---------------------------------------------------------------------------------------


def test_staff_find_a_family_by_guardian_child_or_email(town, agent):
    for typed in ("aubert", "ANNE", "adrien", "famille01@petite"):
        assert [f.id for f in families.search(town.db, agent, typed)] == [town.family_a], typed
    with pytest.raises(InvalidInput, match=r"au moins 2 caractères"):
        families.search(town.db, agent, " a ")


@pytest.mark.parametrize("who", ["cook", "mayor", "parent_a"])
def test_only_agents_and_admins_read_files(town, who):
    actor = town.login(getattr(town, who))
    before = snapshot(town.db)
    with pytest.raises(NotAllowed):
        families.search(town.db, actor, "aubert")
    with pytest.raises(NotAllowed):
        families.family_file(town.db, actor, town.family_a)
    with pytest.raises(NotAllowed):
        families.record_read(town.db, actor, town.family_a, DEMO_NOW)
    with pytest.raises(NotAllowed):
        families.pending(town.db, actor)
    with pytest.raises(NotAllowed):
        families.diets(town.db, actor)
    assert snapshot(town.db) == before


def test_reading_a_file_is_in_the_journal(town, agent):
    file = families.family_file(town.db, agent, town.family_a)
    assert {c.first_name for c in file.children} == {"Alice", "Adrien"}
    assert file.guardian(1).full_name == "Anne Aubert" and file.guardian(2) is None
    assert audits(town.db, "family.read") == []
    families.record_read(town.db, agent, town.family_a, DEMO_NOW)
    assert audits(town.db, "family.read") == [("family", str(town.family_a), agent.user_id)]
    with pytest.raises(NotFound, match=r"Famille introuvable."):
        families.family_file(town.db, agent, 999)


# --- administrator writes ---------------------------------------------------------------------------


def test_the_admin_creates_a_family_with_its_first_guardian_and_a_child(town, admin):
    fid = families.create_family(
        town.db,
        admin,
        "Famille Léger",
        "F-0042",
        GuardianInput("Élodie", "Léger", "Elodie@Exemple.fr", "0612345678", "2 rue Basse"),
        DEMO_NOW,
    )
    child = families.create_child(
        town.db, admin, fid, ChildInput("Zoé", "Léger", date(2021, 4, 2), "MS", "sans_porc", "E-1"), DEMO_NOW
    )
    file = families.family_file(town.db, admin, fid)
    assert (file.family.name, file.family.town_ref) == ("Famille Léger", "F-0042")
    assert file.guardian(1).email == "elodie@exemple.fr" and file.guardian(1).phone == "06 12 34 56 78"
    assert [(c.id, c.diet_code, c.town_ref) for c in file.children] == [(child, "sans_porc", "E-1")]
    assert [a[0] for a in audits(town.db, "family.create") + audits(town.db, "child.create")] == ["family", "child"]
    message = reservations.save_registration(
        town.db, admin, child, town.school_year, town.school, [town.canteen], DEMO_NOW
    )
    assert "enregistrée" in message


@pytest.mark.parametrize(
    "name, ref, guardian, message",
    [
        ("", None, GuardianInput("A", "B", None, None, None), "Nom de la famille : ce champ est obligatoire."),
        ("Famille X", "F 1", GuardianInput("A", "B", None, None, None), "Identifiant mairie : lettres"),
        ("Famille X", None, GuardianInput("A", "B", None, "12", None), "Responsable 1, téléphone : numéro"),
        ("Famille X", None, GuardianInput("A", "B", "a@", None, None), "Responsable 1, e-mail : Adresse e-mail"),
        ("Famille X", None, GuardianInput("", "B", None, None, None), "Responsable 1, prénom : ce champ"),
    ],
)
def test_a_bad_family_is_refused_and_nothing_is_written(town, admin, name, ref, guardian, message):
    before = snapshot(town.db)
    with pytest.raises(InvalidInput) as refused:
        families.create_family(town.db, admin, name, ref, guardian, DEMO_NOW)
    assert refused.value.message.startswith(message)
    assert snapshot(town.db) == before


def test_a_town_number_is_one_files_only(town, admin):
    families.update_family(town.db, admin, town.family_b, "Famille Besson", "F-7", "guardian1", DEMO_NOW)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match=r"déjà le numéro d'un autre dossier"):
        families.update_family(town.db, admin, town.family_a, "Famille Aubert", "F-7", "guardian1", DEMO_NOW)
    assert snapshot(town.db) == before


@pytest.mark.parametrize("who", ["agent", "cook", "mayor", "parent_a"])
def test_only_the_admin_writes_a_file(town, who):
    actor = town.login(getattr(town, who))
    before = snapshot(town.db)
    calls = [
        lambda: families.create_family(
            town.db, actor, "Famille X", None, GuardianInput("A", "B", None, None, None), DEMO_NOW
        ),
        lambda: families.update_family(town.db, actor, town.family_a, "Famille A", None, "guardian1", DEMO_NOW),
        lambda: families.save_guardian(
            town.db, actor, town.family_a, 2, GuardianInput("Marc", "Aubert", None, None, None), DEMO_NOW
        ),
        lambda: families.record_quotient(town.db, actor, town.family_a, GOOD_QF, DEMO_NOW),
        lambda: families.create_child(
            town.db, actor, town.family_a, ChildInput("Zoé", "Aubert", date(2021, 1, 1), "MS", "standard"), DEMO_NOW
        ),
        lambda: families.update_child(
            town.db, actor, town.child_a, ChildInput("Alice", "Aubert", date(2021, 1, 1), "MS", "standard"), DEMO_NOW
        ),
        lambda: families.save_shares(town.db, actor, town.child_a, [50, 50], DEMO_NOW),
        lambda: families.archive_family(town.db, actor, town.family_a, "départ", DEMO_NOW),
        lambda: families.unarchive_family(town.db, actor, town.family_a, DEMO_NOW),
        lambda: families.archive_child(town.db, actor, town.child_a, "départ", DEMO_NOW),
        lambda: families.unarchive_child(town.db, actor, town.child_a, DEMO_NOW),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    # The QF refusal is written in the journal; nothing else moved.
    tables, audit_count = snapshot(town.db)
    assert tables == before[0] and audit_count == before[1] + 1
    assert audits(town.db, "family.quotient.refused") == [("family", str(town.family_a), actor.user_id)]


def test_a_second_guardian_then_split_billing(town, admin):
    with pytest.raises(InvalidInput, match=r"Facturation partagée : la famille doit avoir deux responsables."):
        families.update_family(town.db, admin, town.family_a, "Famille Aubert", None, "split", DEMO_NOW)
    with pytest.raises(InvalidInput, match=r"au plus 2 responsables"):
        families.save_guardian(
            town.db, admin, town.family_a, 3, GuardianInput("Luc", "Aubert", None, None, None), DEMO_NOW
        )
    families.save_guardian(
        town.db, admin, town.family_a, 2, GuardianInput("Marc", "Aubert", "marc@exemple.fr", None, None), DEMO_NOW
    )
    families.update_family(town.db, admin, town.family_a, "Famille Aubert", None, "split", DEMO_NOW)
    with pytest.raises(InvalidInput, match=r"100 % au total \(ici 110 %\)"):
        families.save_shares(town.db, admin, town.child_a, [60, 50], DEMO_NOW)
    split = families.save_shares(town.db, admin, town.child_a, [70, 30], DEMO_NOW)
    file = families.family_file(town.db, admin, town.family_a)
    assert file.family.billing == "split"
    assert {(s.guardian_id, s.percent) for s in file.shares} == set(split.items())
    assert sorted(split.values()) == [30, 70]


def test_the_qf_history_and_the_cached_value(town, admin):
    families.record_quotient(town.db, admin, town.family_a, GOOD_QF, DEMO_NOW)
    file = families.family_file(town.db, admin, town.family_a)
    assert file.family.quotient_familial == 820
    assert [(q.qf, q.source, q.allocataire_no) for q in file.quotients] == [
        (820, QfSource.CAF, "1234567"),
        (600, QfSource.AUTRE, None),
    ]
    before = snapshot(town.db)
    future = QuotientInput(900, DEMO_TODAY + timedelta(days=1), QfSource.CAF, None)
    with pytest.raises(InvalidInput, match=r"ne peut pas être dans le futur"):
        families.record_quotient(town.db, admin, town.family_a, future, DEMO_NOW)
    assert snapshot(town.db)[0] == before[0]
    assert town.db.row("SELECT reason FROM audit_log WHERE action = 'family.quotient.refused'")[0].startswith(
        "Date du quotient familial"
    )


# --- family side ---------------------------------------------------------------------------------------


def test_a_family_reads_only_its_own_file(town, parent_a, parent_b):
    assert families.my_file(town.db, parent_a).family.id == town.family_a
    assert families.my_file(town.db, parent_b).family.id == town.family_b
    with pytest.raises(NotAllowed):
        families.my_file(town.db, town.login(town.agent))


def test_family_b_cannot_change_family_a_s_file(town, admin, parent_a, parent_b):
    contact = families.save_contact(town.db, parent_a, town.family_a, None, CONTACT, DEMO_NOW)
    before = snapshot(town.db)
    refusals = []
    for family_id in (town.family_a, 999):  # someone else's file, or none: the same refusal
        for call in (
            lambda fid=family_id: families.save_contact(town.db, parent_b, fid, None, CONTACT, DEMO_NOW),
            lambda fid=family_id: families.remove_contact(town.db, parent_b, fid, contact, DEMO_NOW),
            lambda fid=family_id: families.set_consent(
                town.db, parent_b, fid, town.child_a, ConsentKind.PHOTO, True, DEMO_NOW
            ),
        ):
            with pytest.raises(NotAllowed) as refused:
                call()
            refusals.append(refused.value.message)
    assert set(refusals) == {"Dossier introuvable ou non rattaché à votre compte."}
    # Through its own file, A's contact and child are not found either.
    with pytest.raises(NotAllowed, match=r"Contact introuvable"):
        families.remove_contact(town.db, parent_b, town.family_b, contact, DEMO_NOW)
    with pytest.raises(NotAllowed, match=r"Contact introuvable"):
        families.save_contact(town.db, parent_b, town.family_b, contact, CONTACT, DEMO_NOW)
    with pytest.raises(NotAllowed, match=r"Enfant introuvable"):
        families.set_consent(town.db, parent_b, town.family_b, town.child_a, ConsentKind.PHOTO, False, DEMO_NOW)
    with pytest.raises(NotAllowed, match=r"Enfant introuvable"):
        families.save_contact(
            town.db,
            parent_b,
            town.family_b,
            None,
            ContactInput("X Y", "oncle", "0611223344", True, False, town.child_a),
            DEMO_NOW,
        )
    assert snapshot(town.db) == before
    assert [c.name for c in families.my_file(town.db, parent_b).contacts] == []


def test_a_family_edits_its_phones_contacts_and_consents_at_once(town, parent_a):
    families.update_my_guardian(town.db, parent_a, 1, "+33 6 98 76 54 32", "5 chemin Vert", DEMO_NOW)
    contact = families.save_contact(town.db, parent_a, town.family_a, None, CONTACT, DEMO_NOW)
    families.set_consent(town.db, parent_a, town.family_a, town.child_a, "photo", False, DEMO_NOW)
    file = families.my_file(town.db, parent_a)
    assert (file.guardian(1).phone, file.guardian(1).address) == ("06 98 76 54 32", "5 chemin Vert")
    assert [(c.id, c.name, c.emergency, c.pickup) for c in file.contacts] == [(contact, "Mamie Aubert", True, True)]
    assert file.consent(town.child_a, ConsentKind.PHOTO) is False
    assert file.consent(town.child_a, ConsentKind.SORTIES) is None
    assert [a[0] for a in audits(town.db, "guardian.contact")] == ["family"]
    families.remove_contact(town.db, parent_a, town.family_a, contact, DEMO_NOW)
    assert families.my_file(town.db, parent_a).contacts == []
    assert town.db.value("SELECT count(*) FROM contacts") == 1  # archived, not deleted
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match=r"^Responsable 1, téléphone"):
        families.update_my_guardian(town.db, parent_a, 1, "12 34", None, DEMO_NOW)
    with pytest.raises(NotAllowed, match=r"Responsable introuvable"):
        families.update_my_guardian(town.db, parent_a, 2, "0611223344", None, DEMO_NOW)
    with pytest.raises(InvalidInput, match=r"Autorisation : répondez oui ou non."):
        families.set_consent(town.db, parent_a, town.family_a, town.child_a, "photo", "oui", DEMO_NOW)
    assert snapshot(town.db) == before


def _account_for_guardian_2(town, email: str):
    """Family A's guardian 2 with his own activated account (what the accounts slice makes; here by hand)."""
    admin = town.login(town.admin)
    families.save_guardian(town.db, admin, town.family_a, 2, GuardianInput("Marc", "Roux", email, None, None), DEMO_NOW)
    user_id = town.db.value("SELECT max(id) + 1 FROM users")
    anne = town.login(town.parent_a).user_id

    def work(cur):
        cur.execute(
            "INSERT INTO users (id, email, password_hash, role, family_id, display_name, created_at, activated_at) "
            "SELECT ?, ?, password_hash, role, family_id, 'Marc Roux', created_at, created_at FROM users WHERE id = ?",
            [user_id, email, anne],
        )
        cur.execute("UPDATE guardians SET user_id = ? WHERE family_id = ? AND rank = 2", [user_id, town.family_a])

    town.db.write(work)
    return town.login(email)


def test_a_guardian_changes_his_own_phone_and_address_not_the_other_s(town, parent_a):
    marc = _account_for_guardian_2(town, "marc.roux@exemple.fr")
    before = snapshot(town.db)
    for actor, rank in ((parent_a, 2), (marc, 1)):
        with pytest.raises(NotAllowed) as refused:
            families.update_my_guardian(town.db, actor, rank, "0611223344", "1 rue Neuve", DEMO_NOW)
        assert refused.value.message == "Responsable introuvable dans votre dossier."
    assert snapshot(town.db) == before
    families.update_my_guardian(town.db, marc, 2, "0611223344", "1 rue Neuve", DEMO_NOW)
    assert families.my_file(town.db, parent_a).guardian(2).address == "1 rue Neuve"


def test_a_guardian_s_email_is_no_other_family_s_nor_staff_s(town, admin):
    family_b_login = town.db.value("SELECT email FROM users WHERE family_id = ?", [town.family_b])
    before = snapshot(town.db)
    for taken in (family_b_login, "agent@petite-ville.test"):
        with pytest.raises(InvalidInput) as refused:
            families.save_guardian(
                town.db, admin, town.family_a, 2, GuardianInput("Marc", "Roux", taken, None, None), DEMO_NOW
            )
        assert refused.value.message == (
            f"Responsable 2, e-mail : l'adresse {taken} est déjà celle d'un autre compte du portail."
        )
    assert snapshot(town.db) == before
    # Its own family's address is no conflict (guardian 1's login, on guardian 2 too).
    families.save_guardian(
        town.db,
        admin,
        town.family_a,
        2,
        GuardianInput("Marc", "Roux", "famille01@petite-ville.test", None, None),
        DEMO_NOW,
    )


def test_an_activated_account_s_login_is_not_changed_from_the_family_file(town, admin):
    marc = _account_for_guardian_2(town, "marc.roux@exemple.fr")
    before = snapshot(town.db)
    for email in ("marc@autre.fr", None):
        with pytest.raises(InvalidInput) as refused:
            families.save_guardian(
                town.db, admin, town.family_a, 2, GuardianInput("Marc", "Roux", email, None, None), DEMO_NOW
            )
        assert refused.value.message.endswith("l'adresse de connexion se change depuis « Mon compte ».")
    assert snapshot(town.db) == before
    # The rest of his file still changes.
    families.save_guardian(
        town.db, admin, town.family_a, 2, GuardianInput("Marc", "Roux-Petit", marc.email, None, None), DEMO_NOW
    )
    assert families.family_file(town.db, admin, town.family_a).guardian(2).last_name == "Roux-Petit"


def test_a_search_that_is_not_text_is_refused_in_french(town, agent):
    for typed in (42, ["aubert"], b"aubert"):
        with pytest.raises(InvalidInput, match=r"^Recherche illisible"):
            families.search(town.db, agent, typed)


def test_a_qf_proposal_waits_then_the_admin_accepts_it(town, admin, agent, parent_a):
    families.propose_quotient(town.db, parent_a, QuotientInput(700, DEMO_TODAY, QfSource.CAF, None), DEMO_NOW)
    change = families.propose_quotient(town.db, parent_a, GOOD_QF, DEMO_NOW)  # replaces the first
    mine = families.my_file(town.db, parent_a)
    assert [(c.id, c.state) for c in mine.pending] == [(change, ChangeState.PENDING)]
    assert mine.family.quotient_familial == 600  # nothing applied yet
    assert [c.id for c in families.pending(town.db, agent)] == [change]
    before = snapshot(town.db)
    with pytest.raises(NotAllowed):
        families.decide(town.db, agent, change, True, None, DEMO_NOW)
    assert snapshot(town.db)[0] == before[0]
    assert "a accepté" not in families.decide(town.db, admin, change, True, "", DEMO_NOW)
    file = families.family_file(town.db, admin, town.family_a)
    assert file.family.quotient_familial == 820
    assert file.quotients[0].recorded_by == "Service enfance"
    assert [c.state for c in file.changes] == [ChangeState.ACCEPTED]
    assert audits(town.db, "change.accepted") == [("family", str(town.family_a), admin.user_id)]
    with pytest.raises(InvalidInput, match=r"déjà été traitée"):
        families.decide(town.db, admin, change, False, "non", DEMO_NOW)


def test_a_refused_qf_proposal_keeps_the_note_for_the_family(town, admin, parent_a, parent_b):
    change = families.propose_quotient(town.db, parent_a, GOOD_QF, DEMO_NOW)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match=r"^Note : indiquez"):
        families.decide(town.db, admin, change, False, " ", DEMO_NOW)
    with pytest.raises(NotFound, match=r"Demande introuvable."):
        families.decide(town.db, admin, 999, True, None, DEMO_NOW)
    with pytest.raises(NotAllowed):
        families.decide(town.db, parent_b, change, True, None, DEMO_NOW)
    assert snapshot(town.db)[0] == before[0]
    families.decide(town.db, admin, change, False, "Attestation illisible", DEMO_NOW)
    mine = families.my_file(town.db, parent_a)
    assert [(c.state, c.note) for c in mine.changes] == [(ChangeState.REFUSED, "Attestation illisible")]
    assert mine.family.quotient_familial == 600
    assert families.my_file(town.db, parent_b).changes == []


def test_a_bad_proposal_is_refused_and_nothing_is_written(town, admin, parent_a):
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match=r"^Quotient familial"):
        families.propose_quotient(town.db, parent_a, QuotientInput(-5, DEMO_TODAY, QfSource.CAF, None), DEMO_NOW)
    with pytest.raises(NotAllowed):
        families.propose_quotient(town.db, admin, GOOD_QF, DEMO_NOW)
    assert snapshot(town.db) == before


# --- archives --------------------------------------------------------------------------------------------


def active_days(db, child):
    return db.rows(
        "SELECT day, state FROM bookings WHERE child_id = ? AND state IN ('booked', 'waiting') ORDER BY day, service_id",
        [child],
    )


def test_archiving_a_family_cancels_from_tomorrow_closes_accounts_and_keeps_invoices(town, admin, agent):
    tomorrow = DEMO_TODAY + timedelta(days=1)
    next_wednesday = DEMO_TODAY + timedelta(days=(2 - DEMO_TODAY.weekday()) % 7 or 7)
    # The Wednesday meal is full next week, and a child of another family waits for a place.
    town.db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = 2 WHERE site_id = ? AND service_id = ?",
            [town.wednesday_centre, town.wednesday_meal],
        )
    )

    def waiting_child(cur):
        cur.execute(
            """INSERT INTO children (id, family_id, first_name, last_name, birth_date, school_class, diet_code)
               VALUES (50, 3, 'Chloé', 'Sansenfant', '2019-02-02', 'CP', 'standard')"""
        )
        cur.execute(
            "INSERT INTO bookings VALUES (50, ?, ?, ?, 'waiting', 'occasional', 8, '2026-11-20', 8, '2026-11-20')",
            [town.wednesday_meal, next_wednesday, town.wednesday_centre],
        )

    town.db.write(waiting_child)
    # Alice also waits for a place at the Wednesday centre next week.
    town.db.write(
        lambda cur: cur.execute(
            "INSERT INTO bookings VALUES (?, ?, ?, ?, 'waiting', 'occasional', 5, '2026-11-21', 5, '2026-11-21')",
            [town.child_a, town.wednesday_afternoon, next_wednesday, town.wednesday_centre],
        )
    )
    session = town.login(town.parent_a)
    invoices = town.db.rows("SELECT * FROM invoices WHERE family_id = ? ORDER BY id", [town.family_a])
    past = [r for r in active_days(town.db, town.child_a) if r[0] < tomorrow]
    future = [r for r in active_days(town.db, town.child_a) + active_days(town.db, town.child_a2) if r[0] >= tomorrow]
    assert past and future

    message = families.archive_family(town.db, admin, town.family_a, "Déménagement", DEMO_NOW)

    assert "archivé" in message and f"{len(future)} réservation(s)" in message
    assert active_days(town.db, town.child_a) == past  # today and before: untouched
    assert [r for r in active_days(town.db, town.child_a2) if r[0] >= tomorrow] == []
    assert town.db.rows(
        "SELECT state FROM bookings WHERE child_id = ? AND service_id = ? AND day = ?",
        [town.child_a, town.wednesday_afternoon, next_wednesday],
    ) == [("cancelled",)]  # the waiting place goes too
    assert town.db.rows("SELECT * FROM invoices WHERE family_id = ? ORDER BY id", [town.family_a]) == invoices
    assert town.db.rows("SELECT state FROM bookings WHERE child_id = 50") == [("booked",)]  # promoted
    assert town.db.value("SELECT count(*) FROM users WHERE family_id = ? AND active", [town.family_a]) == 0
    assert town.db.value("SELECT count(*) FROM sessions WHERE user_id = ?", [session.user_id]) == 0
    assert town.db.value("SELECT count(*) FROM families") == 15  # nothing deleted
    assert [r[0] for r in audits(town.db, "family.archive")] == ["family"]
    # Archived children: hidden from the staff search, refused for booking.
    assert reservations.find_children(town.db, agent, "alice") == []
    with pytest.raises(NotAllowed, match=r"Enfant introuvable"):
        reservations.booking_context(town.db, agent, town.child_a, town.school_year)
    assert families.search(town.db, agent, "aubert") == []
    assert [f.archived for f in families.search(town.db, agent, "aubert", include_archived=True)] == [True]
    with pytest.raises(InvalidInput, match=r"déjà archivée"):
        families.archive_family(town.db, admin, town.family_a, "encore", DEMO_NOW)

    families.unarchive_family(town.db, admin, town.family_a, DEMO_NOW)
    assert town.db.value("SELECT count(*) FROM users WHERE family_id = ? AND active", [town.family_a]) == 1
    assert [c.id for c in reservations.find_children(town.db, agent, "alice")] == [town.child_a]
    assert [r for r in active_days(town.db, town.child_a2) if r[0] >= tomorrow] == []  # stay cancelled


def test_archiving_needs_a_reason_and_one_child_can_go(town, admin, agent):
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match=r"^Motif"):
        families.archive_child(town.db, admin, town.child_a2, "  ", DEMO_NOW)
    assert snapshot(town.db) == before
    families.archive_child(town.db, admin, town.child_a2, "Parti au collège", DEMO_NOW)
    assert [r for r in active_days(town.db, town.child_a2) if r[0] > DEMO_TODAY] == []
    assert [r for r in active_days(town.db, town.child_a) if r[0] > DEMO_TODAY]  # his sister keeps hers
    assert [c.id for c in reservations.my_children(town.db, town.login(town.parent_a))] == [town.child_a]
    thursday = DEMO_TODAY - timedelta(days=1)  # Adrien eats at the canteen on Mondays, Tuesdays and Fridays
    addable = attendance.sheet(town.db, agent, thursday, town.school, town.canteen, DEMO_NOW).addable
    assert town.child_a2 not in {c.child_id for c in addable}  # Pointage's « ajouter un enfant »
    families.unarchive_child(town.db, admin, town.child_a2, DEMO_NOW)
    assert len(reservations.my_children(town.db, town.login(town.parent_a))) == 2


def health_of(db):
    """Who has a health record, who has a proposal (any state)."""
    return (
        db.rows("SELECT child_id FROM child_health ORDER BY child_id"),
        db.rows("SELECT child_id FROM child_health_requests ORDER BY child_id"),
    )


@pytest.fixture
def with_health(town, admin, parent_a):
    """A PAI for Alice, Adrien and Basile, and a correction of Alice's proposed by her family."""
    for child in (town.child_a, town.child_a2, town.child_b):
        health.save_health(town.db, admin, child, {"has_pai": True, "allergies": "Arachide"}, DEMO_NOW)
    health.propose_health(town.db, parent_a, town.child_a, {"has_pai": True, "allergies": "Kiwi"}, DEMO_NOW)


def test_archiving_a_child_erases_its_health_data_in_the_archive_s_transaction(town, admin, with_health):
    message = families.archive_child(town.db, admin, town.child_a2, "Parti au collège", DEMO_NOW)
    assert "Fiche(s) de santé effacée(s) : 1" in message
    assert health_of(town.db) == ([(town.child_a,), (town.child_b,)], [(town.child_a,)])
    archived = town.db.value("SELECT max(id) FROM audit_log WHERE action = 'child.archive'")
    assert town.db.rows(
        "SELECT entity_id, user_id, reason, id < ? FROM audit_log WHERE action = 'health.purged'", [archived]
    ) == [(str(town.child_a2), admin.user_id, "enfant archivé", True)]
    said = [line.what for line in trail.journal(town.db, admin, name="adrien").lines]
    assert "Fiche de santé de Adrien Aubert effacée : enfant archivé" in said
    # Brought back, the child has no health data: the staff write it again.
    families.unarchive_child(town.db, admin, town.child_a2, DEMO_NOW)
    assert health.child_health(town.db, admin, town.child_a2, DEMO_NOW).record is None


def test_archiving_a_family_erases_its_children_s_health_data_and_proposals(town, admin, with_health):
    message = families.archive_family(town.db, admin, town.family_a, "Déménagement", DEMO_NOW)
    assert "Fiche(s) de santé effacée(s) : 2" in message
    assert health_of(town.db) == ([(town.child_b,)], [])  # Basile's stays
    assert town.db.rows(
        "SELECT entity_id, user_id, reason FROM audit_log WHERE action = 'health.purged' ORDER BY entity_id"
    ) == sorted([(str(c), admin.user_id, "dossier de la famille archivé") for c in (town.child_a, town.child_a2)])


def test_an_archive_without_health_data_says_nothing_of_it(town, admin):
    message = families.archive_child(town.db, admin, town.child_a2, "Parti au collège", DEMO_NOW)
    assert "santé" not in message
    assert town.db.value("SELECT count(*) FROM audit_log WHERE action = 'health.purged'") == 0


def test_an_archive_that_fails_keeps_the_health_data(town, admin, with_health, monkeypatch):
    before = health_of(town.db), snapshot(town.db)

    def broken(*_args):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(families.store, "set_family_archived", broken)
    with pytest.raises(RuntimeError):
        families.archive_family(town.db, admin, town.family_a, "Déménagement", DEMO_NOW)
    assert (health_of(town.db), snapshot(town.db)) == before


def test_a_refused_archive_keeps_the_health_data(town, admin, agent, with_health):
    before = health_of(town.db), snapshot(town.db)
    with pytest.raises(InvalidInput, match=r"^Motif"):
        families.archive_child(town.db, admin, town.child_a2, "", DEMO_NOW)
    with pytest.raises(NotAllowed):
        families.archive_family(town.db, agent, town.family_a, "Déménagement", DEMO_NOW)
    assert (health_of(town.db), snapshot(town.db)) == before


def test_unarchiving_a_family_brings_back_only_the_children_archived_with_it(town, admin):
    earlier = DEMO_NOW - timedelta(days=20)
    families.archive_child(town.db, admin, town.child_a2, "Parti au collège", earlier)
    families.archive_family(town.db, admin, town.family_a, "Déménagement", DEMO_NOW)
    archived = "SELECT id, archived_at FROM children WHERE family_id = ? ORDER BY id"
    assert town.db.rows(archived, [town.family_a]) == [
        (town.child_a, to_utc_naive(DEMO_NOW)),
        (town.child_a2, to_utc_naive(earlier)),  # his own date is kept
    ]
    families.unarchive_family(town.db, admin, town.family_a, DEMO_NOW + timedelta(days=1))
    assert town.db.rows(archived, [town.family_a]) == [
        (town.child_a, None),
        (town.child_a2, to_utc_naive(earlier)),
    ]


# --- the family's own data ----------------------------------------------------------------------------


def test_my_data_is_a_zip_of_the_family_s_own_data(town, parent_a):
    data = families.my_data(town.db, parent_a, DEMO_NOW)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert {"README.txt", "famille.csv", "enfants.csv", "reservations.csv", "factures.csv", "paiements.csv"} <= names
    assert "Vos données au portail famille" in archive.read("README.txt").decode()
    everything = b"".join(archive.read(n) for n in names).decode("utf-8-sig")
    assert "Alice" in everything and "Famille Aubert" in everything
    assert "Basile" not in everything and "Besson" not in everything
    assert audits(town.db, "family.export") == [("family", str(town.family_a), parent_a.user_id)]
    with pytest.raises(NotAllowed):
        families.my_data(town.db, town.login(town.agent), DEMO_NOW)


def test_my_data_holds_the_family_s_health_data_and_removed_contacts(town, admin, parent_a):
    health.save_health(town.db, admin, town.child_a, {"has_pai": True, "allergies": "Arachide"}, DEMO_NOW)
    health.save_health(town.db, admin, town.child_b, {"allergies": "Lait de vache"}, DEMO_NOW)
    health.propose_health(town.db, parent_a, town.child_a, {"has_pai": True, "allergies": "Noisette"}, DEMO_NOW)
    gone = families.save_contact(town.db, parent_a, town.family_a, None, CONTACT, DEMO_NOW)
    families.remove_contact(town.db, parent_a, town.family_a, gone, DEMO_NOW)
    archive = zipfile.ZipFile(io.BytesIO(families.my_data(town.db, parent_a, DEMO_NOW)))
    readme = archive.read("README.txt").decode()
    assert "sante.csv" in readme and "demandes_sante.csv" in readme and "retirées" in readme
    records = archive.read("sante.csv").decode("utf-8-sig")
    assert "Alice" in records and "Arachide" in records and "Lait de vache" not in records  # Basile's is B's
    proposals = archive.read("demandes_sante.csv").decode("utf-8-sig")
    assert "Noisette" in proposals and "pending" in proposals
    contacts = archive.read("contacts.csv").decode("utf-8-sig").splitlines()
    assert contacts[0].endswith(";archive_le")
    assert [line.split(";")[0] for line in contacts[1:]] == ["Mamie Aubert"] and contacts[1].split(";")[-1] != ""


def test_the_billed_guardian_s_email_is_the_family_s(town, admin):
    assert invoice_store.family(town.db, town.family_a)["email"] == "famille01@petite-ville.test"
    families.save_guardian(
        town.db, admin, town.family_a, 2, GuardianInput("Marc", "Aubert", "marc@exemple.fr", None, None), DEMO_NOW
    )
    assert invoice_store.family(town.db, town.family_a)["email"] == "famille01@petite-ville.test"
    families.update_family(town.db, admin, town.family_a, "Famille Aubert", None, "guardian2", DEMO_NOW)
    assert invoice_store.family(town.db, town.family_a)["email"] == "marc@exemple.fr"
    assert invoice_store.family_right(town.db, town.family_a).email == "marc@exemple.fr"
    assert json.loads(town.db.value("SELECT after FROM audit_log WHERE action = 'family.update'"))["billing"] == (
        "guardian2"
    )


@pytest.mark.parametrize("who", ["agent", "cook", "mayor", "admin"])
def test_the_family_side_is_for_families_only(town, who):
    actor = town.login(getattr(town, who))
    before = snapshot(town.db)
    for call in (
        lambda: families.my_file(town.db, actor),
        lambda: families.update_my_guardian(town.db, actor, 1, "0611223344", None, DEMO_NOW),
        lambda: families.propose_quotient(town.db, actor, GOOD_QF, DEMO_NOW),
        lambda: families.my_data(town.db, actor, DEMO_NOW),
    ):
        with pytest.raises(NotAllowed, match=r"^Cette page est réservée aux familles\.$"):
            call()
    assert snapshot(town.db) == before


@pytest.mark.parametrize("who", ["agent", "cook", "mayor"])
def test_contacts_and_consents_are_changed_by_the_admin_or_the_family_only(town, who):
    actor = town.login(getattr(town, who))
    before = snapshot(town.db)
    with pytest.raises(NotAllowed):
        families.save_contact(town.db, actor, town.family_a, None, CONTACT, DEMO_NOW)
    with pytest.raises(NotAllowed):
        families.set_consent(town.db, actor, town.family_a, town.child_a, "photo", True, DEMO_NOW)
    assert snapshot(town.db) == before
