"""« Familles », « Mon dossier » and « À valider » through AppTest: after each save the page shows
what is stored (read again from the database), refusals are French and write nothing, a file opened
is written in the journal once across reruns."""

import pytest

from lib.domain.families import GuardianInput, QfSource, QuotientInput
from lib.services import accounts, families
from tests.conftest import DEMO_NOW, DEMO_TODAY, login
from tests.helpers import app_test, texts

MARTIN = 1  # the demo's first family: Camille Martin (parent@demo.fr), Hugo's


def button(at, label):
    return next(b for b in at.button if b.label == label)


def text_input(at, label, nth=0):
    return [t for t in at.text_input if t.label == label][nth]


def opened(db, email):
    """« Familles » as `email`, with the Martin family chosen."""
    at = app_test("pages/admin_familles.py", db, email).run()
    assert not at.exception, at.exception
    at.text_input(key="fam_search").set_value("martin camille").run()
    assert not at.exception, at.exception
    return at


def reads(db):
    return db.value("SELECT count(*) FROM audit_log WHERE action = 'family.read'")


def test_the_admin_finds_a_family_and_its_file_is_read_once(demo_db):
    at = opened(demo_db, "admin@demo.fr")
    shown = texts(at)
    assert "Famille Martin" in shown and "Camille Martin" in shown
    assert [t.label for t in at.tabs] == ["Responsables", "Enfants", "Quotient familial", "Contacts", "Autorisations"]
    assert reads(demo_db) == 1
    at.run()
    at.run()
    assert reads(demo_db) == 1  # reruns do not read the file again in the journal


def test_a_guardian_s_phone_is_shown_as_stored(demo_db):
    at = opened(demo_db, "admin@demo.fr")
    text_input(at, "Téléphone").set_value("0611223344")
    button(at, "Enregistrer le responsable").click().run()
    assert not at.exception, at.exception
    stored = demo_db.value("SELECT phone FROM guardians WHERE family_id = ? AND rank = 1", [MARTIN])
    assert stored == "06 11 22 33 44"
    assert "Responsable 1 enregistré." in texts(at)
    assert "Téléphone : 06 11 22 33 44" in texts(at)
    assert text_input(at, "Téléphone").value == stored  # the form starts again from what is stored


def test_a_bad_phone_is_refused_in_french_and_nothing_is_written(demo_db):
    at = opened(demo_db, "admin@demo.fr")
    before = demo_db.rows("SELECT * FROM guardians ORDER BY ALL")
    text_input(at, "Téléphone").set_value("12 34")
    button(at, "Enregistrer le responsable").click().run()
    assert [e.value for e in at.error] == [
        "Responsable 1, téléphone : numéro de téléphone invalide « 12 34 » (10 chiffres, par exemple 06 12 34 56 78)."
    ]
    assert demo_db.rows("SELECT * FROM guardians ORDER BY ALL") == before


def test_the_admin_records_a_qf_and_the_history_shows_it(demo_db):
    at = opened(demo_db, "admin@demo.fr")
    text_input(at, "Quotient familial").set_value("845")
    text_input(at, "Valable depuis le (JJ/MM/AAAA)").set_value("01/11/2026")
    button(at, "Enregistrer le quotient").click().run()
    assert not at.exception, at.exception
    assert demo_db.value("SELECT quotient_familial FROM families WHERE id = ?", [MARTIN]) == 845
    assert "Quotient familial en vigueur : **845**" in "\n".join(m.value for m in at.markdown)


def test_an_agent_reads_but_has_no_form(demo_db):
    at = opened(demo_db, "agent@demo.fr")
    assert "Camille Martin" in texts(at)
    labels = {b.label for b in at.button}
    assert "Enregistrer le responsable" not in labels and "Archiver" not in labels
    assert "Nouvelle famille" not in [e.label for e in at.expander]


def test_the_admin_creates_a_family(demo_db):
    at = app_test("pages/admin_familles.py", demo_db, "admin@demo.fr").run()
    text_input(at, "Nom du dossier (« Famille Martin »)").set_value("Famille Nouvelle")
    text_input(at, "Responsable 1 : prénom").set_value("Inès")
    text_input(at, "Responsable 1 : nom").set_value("Nouvelle")
    text_input(at, "Responsable 1 : adresse e-mail").set_value("ines@exemple.fr")
    button(at, "Créer la famille").click().run()
    assert not at.exception, at.exception
    fid = demo_db.value("SELECT id FROM families WHERE name = 'Famille Nouvelle'")
    assert demo_db.rows("SELECT first_name, last_name, email FROM guardians WHERE family_id = ?", [fid]) == [
        ("Inès", "Nouvelle", "ines@exemple.fr")
    ]
    assert "Famille Nouvelle créée." in texts(at) and "Inès Nouvelle" in texts(at)


def test_a_family_proposes_a_qf_that_waits(demo_db):
    at = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    before = demo_db.value("SELECT quotient_familial FROM families WHERE id = ?", [MARTIN])
    text_input(at, "Quotient familial").set_value("5 12")
    text_input(at, "Valable depuis le (JJ/MM/AAAA)").set_value("01/11/2026")
    button(at, "Envoyer à la mairie").click().run()
    assert not at.exception, at.exception
    assert "Nouveau quotient 512 (CAF) : en attente de validation depuis le vendredi 27 novembre 2026." in texts(at)
    assert demo_db.value("SELECT quotient_familial FROM families WHERE id = ?", [MARTIN]) == before


def test_a_family_changes_its_phone_and_adds_a_contact(demo_db):
    at = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    text_input(at, "Téléphone").set_value("+33 6 55 44 33 22")
    button(at, "Enregistrer").click().run()
    assert demo_db.value("SELECT phone FROM guardians WHERE family_id = ? AND rank = 1", [MARTIN]) == "06 55 44 33 22"
    assert text_input(at, "Téléphone").value == "06 55 44 33 22"
    text_input(at, "Nom et prénom").set_value("Mamie Martin")
    text_input(at, "Lien avec l'enfant (grand-mère, voisin…)").set_value("grand-mère")
    text_input(at, "Téléphone", nth=1).set_value("0611223344")
    next(c for c in at.checkbox if c.label == "Autorisé(e) à venir chercher l'enfant").check()
    button(at, "Ajouter le contact").click().run()
    assert not at.exception, at.exception
    assert demo_db.rows("SELECT name, phone, emergency, pickup FROM contacts") == [
        ("Mamie Martin", "06 11 22 33 44", False, True)
    ]
    assert "Mamie Martin" in texts(at)


def test_each_parent_edits_only_his_own_details(demo_db):
    """The other guardian's phone and address are read, not edited (his own account changes them)."""
    admin = login(demo_db, "admin@demo.fr")
    families.save_guardian(
        demo_db, admin, MARTIN, 2, GuardianInput("Paul", "Martin", None, "0677889900", "8 rue Haute"), DEMO_NOW
    )
    at = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    assert len([t for t in at.text_input if t.label == "Téléphone"]) == 1 + 1  # her own, and the new contact's
    assert "Téléphone : 06 77 88 99 00 · Adresse : 8 rue Haute" in texts(at)


def test_a_family_downloads_its_data(demo_db):
    at = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    button(at, "Préparer mes données").click().run()
    assert not at.exception, at.exception
    assert at.get("download_button")[0].proto.label == "Télécharger mes données (ZIP)"
    at.run()
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'family.export'") == 1


def test_the_admin_accepts_a_qf_on_the_validation_page(demo_db):
    parent = login(demo_db, "parent@demo.fr")
    families.propose_quotient(demo_db, parent, QuotientInput(512, DEMO_TODAY, QfSource.CAF, "7654321"), DEMO_NOW)
    old = demo_db.value("SELECT quotient_familial FROM families WHERE id = ?", [MARTIN])
    agent = app_test("pages/admin_validations.py", demo_db, "agent@demo.fr").run()
    assert f"{old} → **512**" in "\n".join(m.value for m in agent.markdown)
    assert "Accepter" not in [b.label for b in agent.button]
    assert "La décision revient à l'administrateur" in texts(agent)
    at = app_test("pages/admin_validations.py", demo_db, "admin@demo.fr").run()
    button(at, "Accepter").click().run()
    assert not at.exception, at.exception
    assert demo_db.value("SELECT quotient_familial FROM families WHERE id = ?", [MARTIN]) == 512
    assert "Demande de Famille Martin acceptée." in texts(at) and "Aucune demande en attente." in texts(at)


def test_a_refusal_needs_a_note_that_the_family_then_reads(demo_db):
    parent = login(demo_db, "parent@demo.fr")
    families.propose_quotient(demo_db, parent, QuotientInput(512, DEMO_TODAY, QfSource.CAF, None), DEMO_NOW)
    at = app_test("pages/admin_validations.py", demo_db, "admin@demo.fr").run()
    button(at, "Refuser").click().run()
    assert [e.value for e in at.error] == ["Note : indiquez à la famille pourquoi la demande est refusée."]
    at.text_input(key=next(t.key for t in at.text_input if t.label.startswith("Note"))).set_value("Pièce illisible")
    button(at, "Refuser").click().run()
    mine = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    assert "refusé — Pièce illisible." in texts(mine)


@pytest.mark.parametrize(
    "page, email",
    [
        ("pages/admin_familles.py", "parent@demo.fr"),
        ("pages/admin_familles.py", "cuisine@demo.fr"),
        ("pages/admin_validations.py", "maire@demo.fr"),
        ("pages/mon_dossier.py", "admin@demo.fr"),
    ],
)
def test_the_family_pages_refuse_other_roles(demo_db, page, email):
    at = app_test(page, demo_db, email).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]


def test_the_admin_adds_a_child_and_sees_it_as_stored(demo_db):
    at = opened(demo_db, "admin@demo.fr")
    prenom = [t for t in at.text_input if t.label == "Prénom" and t.value == ""][-1]
    prenom.set_value("Lila")
    [t for t in at.text_input if t.label == "Nom" and t.value == ""][-1].set_value("Martin")
    [t for t in at.text_input if t.label == "Date de naissance (JJ/MM/AAAA)" and t.value == ""][-1].set_value(
        "14/03/2020"
    )
    button(at, "Ajouter l'enfant").click().run()
    assert not at.exception, at.exception
    assert demo_db.rows(
        "SELECT first_name, last_name, birth_date::VARCHAR, school_class FROM children"
        " WHERE family_id = ? AND first_name = 'Lila'",
        [MARTIN],
    ) == [("Lila", "Martin", "2020-03-14", "PS")]
    assert "Lila enregistré(e)." in texts(at)
    assert "Lila Martin" in [e.label for e in at.expander]


def test_archiving_asks_for_a_confirmation_and_a_reason(demo_db):
    at = opened(demo_db, "admin@demo.fr")
    reason = next(t for t in at.text_input if t.label == "Motif" and "fam_archive" in t.key)
    reason.set_value("Déménagement")
    next(b for b in at.button if b.label == "Archiver" and "fam_archive" in b.key).click().run()
    assert "Cochez « Je confirme l'archivage » pour archiver." in [e.value for e in at.error]
    assert demo_db.value("SELECT archived_at FROM families WHERE id = ?", [MARTIN]) is None
    next(c for c in at.checkbox if c.label == "Je confirme l'archivage" and "fam_archive" in c.key).check()
    next(b for b in at.button if b.label == "Archiver" and "fam_archive" in b.key).click().run()
    assert not at.exception, at.exception
    assert demo_db.value("SELECT archived_at FROM families WHERE id = ?", [MARTIN]) is not None
    assert "Famille Martin archivé(e)." in texts(at) and "Dossier archivé le" in texts(at)
    assert account_lines(at) == ["Compte : fermé avec le dossier"]
    assert "fam_accounts" not in [b.key for b in at.button]


def test_names_typed_by_people_are_shown_as_text(demo_db):
    from lib.domain.families import GuardianInput
    from lib.domain.markup import md

    admin = login(demo_db, "admin@demo.fr")
    name = "Famille **Gras** [lien](http://x.fr)"
    families.create_family(demo_db, admin, name, None, GuardianInput("Zoé", "Gras", None, None, None), DEMO_NOW)
    at = app_test("pages/admin_familles.py", demo_db, "admin@demo.fr").run()
    at.text_input(key="fam_search").set_value("gras").run()
    assert not at.exception, at.exception
    assert at.radio[0].options == [md(f"{name} — Zoé Gras")]
    assert md(name) != name and at.header[0].value == md(name)


def test_the_admin_registers_a_child_and_sees_the_registration_as_stored(demo_db):
    lea = demo_db.value("SELECT id FROM children WHERE family_id = ? AND first_name = 'Léa'", [MARTIN])
    at = opened(demo_db, "admin@demo.fr")
    at.selectbox(key=f"fam_reg_{lea}_0_site").select_index(2)  # the Wednesday centre
    at.multiselect(key=f"fam_reg_{lea}_0_services").set_value([2])
    children = [c.first_name for c in families.family_file(demo_db, login(demo_db, "admin@demo.fr"), MARTIN).children]
    saves = [b for b in at.button if b.label == "Enregistrer l'inscription"]
    saves[children.index("Léa")].click().run()
    assert not at.exception, at.exception
    assert demo_db.rows(
        "SELECT rs.service_id FROM registrations r JOIN registration_services rs ON rs.registration_id = r.id"
        " WHERE r.child_id = ? AND r.site_id = 3 AND r.school_year_id = 2026",
        [lea],
    ) == [(2,)]
    assert "Inscription de Léa à « ALAE anim'action » enregistrée pour 2026/2027." in texts(at)
    shown = "\n".join(m.value for m in at.markdown)
    assert (
        "Inscriptions 2026/2027 : ALAE Jean Moulin (école maternelle) (Restauration scolaire); ALAE anim'action"
        in shown
    )


def test_a_bad_qf_is_refused_in_french_and_nothing_is_written(demo_db):
    at = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    text_input(at, "Quotient familial").set_value("beaucoup")
    text_input(at, "Valable depuis le (JJ/MM/AAAA)").set_value("01/11/2026")
    button(at, "Envoyer à la mairie").click().run()
    assert [e.value for e in at.error] == ["Quotient familial : saisissez un nombre entier entre 0 et 99999."]
    text_input(at, "Quotient familial").set_value("700")
    text_input(at, "Valable depuis le (JJ/MM/AAAA)").set_value("31/11/2026")
    button(at, "Envoyer à la mairie").click().run()
    assert [e.value for e in at.error] == ["Valable depuis le : date illisible « 31/11/2026 » (attendu JJ/MM/AAAA)."]
    assert demo_db.value("SELECT count(*) FROM pending_changes") == 0


# --- the guardians' accounts (administrator) ----------------------------------------------------------


def account_lines(at):
    return [line for m in at.markdown for line in m.value.split("  \n") if line.startswith("Compte : ")]


def test_the_admin_reads_each_guardian_s_account_state_in_the_file(demo_db):
    admin = login(demo_db, "admin@demo.fr")
    second = families.save_guardian(
        demo_db, admin, MARTIN, 2, GuardianInput("Paul", "Martin", "paul.martin@exemple.fr", None, None), DEMO_NOW
    )
    at = opened(demo_db, "admin@demo.fr")
    first, without = account_lines(at)
    assert first.startswith("Compte : activé le ") and without == "Compte : aucun compte"
    demo_db.write(
        lambda cur: cur.execute("INSERT OR REPLACE INTO settings VALUES ('public_url', 'https://portail.demo.test')")
    )
    accounts.invite_guardian(demo_db, admin, second, DEMO_NOW)
    at.run()
    assert account_lines(at)[1] == ("Compte : invité le 27/11/2026 à 9 h 30, lien valable jusqu'au 04/12/2026 à 9 h 30")
    assert "fam_accounts" in [b.key for b in at.button]


def test_an_agent_reads_the_file_but_not_the_accounts(demo_db):
    at = opened(demo_db, "agent@demo.fr")
    assert not at.error
    assert account_lines(at) == ["Compte : oui"]
    assert "fam_accounts" not in [b.key for b in at.button]


def test_the_admin_goes_from_the_file_to_the_family_s_accounts(demo_db):
    at = app_test("app.py", demo_db, "admin@demo.fr").run()
    at.switch_page("pages/admin_familles.py").run()
    at.text_input(key="fam_search").set_value("martin camille").run()
    at.button(key="fam_accounts").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Comptes des familles"]
    assert at.selectbox(key="accounts_family").value == MARTIN
