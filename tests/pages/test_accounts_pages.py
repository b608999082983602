"""« Comptes des familles » (administrator) and « Mon compte »'s change of address, through AppTest."""

import pytest

from lib.domain.markup import md
from tests.helpers import app_test, texts

PUBLIC = "https://famille.belcastel.test"


@pytest.fixture
def db(demo_db):
    demo_db.write(lambda cur: cur.execute("INSERT OR REPLACE INTO settings VALUES ('public_url', ?)", [PUBLIC]))
    return demo_db


def _outbox(db):
    return db.rows("SELECT kind, to_address FROM outbox ORDER BY id")


def test_the_administrator_creates_an_account_sees_it_waiting_and_resends_its_invitation(db):
    at = app_test("pages/admin_comptes.py", db, "admin@demo.fr").run()
    assert not at.exception and "Tous les comptes des familles sont activés." in texts(at)
    at.text_input(key="accounts_name").input("Nora Nouvelle")
    at.text_input(key="accounts_email").input("nora@exemple.fr")
    at.button(key="accounts_create_send").click().run()
    assert not at.exception and not at.error
    assert f"l'invitation part à {md('nora@exemple.fr')}" in texts(at)
    table = at.dataframe[0].value
    assert list(table["Adresse e-mail"]) == ["nora@exemple.fr"] and table.iloc[0]["Lien"].startswith("valable jusqu'au")
    at.button(key="accounts_resend").click().run()
    assert not at.exception and "le lien envoyé avant ne marche plus" in texts(at)
    assert _outbox(db) == [("invitation", "nora@exemple.fr")] * 2


def test_a_taken_address_is_refused_in_french_and_nothing_is_created(db):
    at = app_test("pages/admin_comptes.py", db, "admin@demo.fr").run()
    at.text_input(key="accounts_name").input("Nora Nouvelle")
    at.text_input(key="accounts_email").input("parent@demo.fr")
    at.button(key="accounts_create_send").click().run()
    assert [e.value for e in at.error] == [
        "Cette adresse e-mail est déjà celle d'un autre compte : choisissez-en une autre."
    ]
    assert _outbox(db) == []


def test_guardians_and_accounts_never_invited_are_invited_at_once(db):
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO users (email, password_hash, role, family_id, display_name, created_at)"
            " VALUES ('a@exemple.fr', '!', 'famille', 1, 'A', now()::TIMESTAMP);"
            "INSERT INTO guardians (family_id, rank, first_name, last_name, email)"
            " VALUES (2, 2, 'Bea', 'Deux', 'b@exemple.fr'), (3, 2, 'Cid', 'Pris', 'parent@demo.fr')"
        )
    )
    at = app_test("pages/admin_comptes.py", db, "admin@demo.fr").run()
    assert list(at.dataframe[0].value["Lien"]) == ["jamais invité"]
    at.button(key="accounts_invite_all").click().run()
    assert not at.exception and "2 invitation(s) envoyée(s). Non invités :" in texts(at)
    assert f"Cid Pris ({md('parent@demo.fr')}) : L'adresse e-mail de ce responsable est déjà celle" in texts(at)
    assert sorted(_outbox(db)) == [("invitation", "a@exemple.fr"), ("invitation", "b@exemple.fr")]


def test_a_familys_guardian_is_invited_from_its_card(db):
    guardian = db.write(
        lambda cur: cur.execute(
            "INSERT INTO guardians (family_id, rank, first_name, last_name, email)"
            " VALUES (1, 2, 'Bea', 'Deux', 'bea@exemple.fr') RETURNING id"
        ).fetchall()[0][0]
    )
    at = app_test("pages/admin_comptes.py", db, "admin@demo.fr").run()
    families = at.selectbox(key="accounts_family").options
    (label,) = [f for f in families if f.endswith("(n° 1)")]
    assert "Camille" in label and "Bea Deux" in label  # two families may share a name: the guardians tell them apart
    at.selectbox(key="accounts_family").select_index(families.index(label)).run()
    assert "Pas encore de compte." in texts(at) and "Compte activé le" in texts(at)
    at.button(key=f"accounts_guardian_{guardian}").click().run()
    assert not at.exception and f"Invitation envoyée à {md('bea@exemple.fr')}." in texts(at)
    assert _outbox(db) == [("invitation", "bea@exemple.fr")]
    assert "Renvoyer l'invitation" in [b.label for b in at.button]


@pytest.mark.parametrize("email", ["parent@demo.fr", "agent@demo.fr", "maire@demo.fr"])
def test_only_the_administrator_opens_the_accounts_page(db, email):
    at = app_test("pages/admin_comptes.py", db, email).run()
    assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]
    assert not at.dataframe and not at.text_input


def test_mon_compte_sends_the_confirmation_to_the_new_address(db):
    at = app_test("pages/mon_compte.py", db, "parent@demo.fr").run()
    at.text_input(key="account_email_new").input("nouvelle@exemple.fr")
    at.text_input(key="account_email_password").input("demo")
    at.button(key="account_email_send").click().run()
    assert not at.exception and not at.error
    assert "Un courriel de confirmation a été envoyé à la nouvelle adresse" in texts(at)
    assert _outbox(db) == [("email_change", "nouvelle@exemple.fr"), ("email_changed_notice", "parent@demo.fr")]


def test_mon_compte_refuses_a_wrong_password_in_french(db):
    at = app_test("pages/mon_compte.py", db, "parent@demo.fr").run()
    at.text_input(key="account_email_new").input("nouvelle@exemple.fr")
    at.text_input(key="account_email_password").input("pas le bon")
    at.button(key="account_email_send").click().run()
    assert [e.value for e in at.error] == ["Le mot de passe actuel est incorrect."]
    assert _outbox(db) == []
