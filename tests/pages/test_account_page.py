"""« Mon compte » through AppTest: every role has it; the password change and its French refusals."""

import pytest
from streamlit.testing.v1 import AppTest

from lib.domain.errors import LoginRefused
from lib.services import auth
from lib.ui.session import TEST_TOKEN_KEY
from tests.conftest import DEMO_NOW
from tests.helpers import ROOT, TIMEOUT, app_test

NEW = "cheval agrafe batterie correcte"


def change(at: AppTest, current: str, new: str, again: str) -> AppTest:
    at.text_input(key="account_current").input(current)
    at.text_input(key="account_new").input(new)
    at.text_input(key="account_again").input(again)
    return at.button(key="account_change").click().run()


@pytest.mark.parametrize(
    "email", ["parent@demo.fr", "agent@demo.fr", "cuisine@demo.fr", "maire@demo.fr", "admin@demo.fr"]
)
def test_every_role_has_mon_compte_in_its_menu(demo_db, email):
    at = app_test("app.py", demo_db, email).run()
    assert not at.exception
    at.switch_page("pages/mon_compte.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Mon compte"]
    token = at.session_state[TEST_TOKEN_KEY]
    links = [m.value for m in at.markdown if "Se déconnecter de tous les appareils" in m.value]
    assert len(links) == 1 and f"/auth/logout?code={auth.logout_everywhere_code(token)}" in links[0]


@pytest.mark.parametrize(
    "current, new, again, message",
    [
        ("mauvais", NEW, NEW, "Le mot de passe actuel est incorrect."),
        ("demo", "court", "court", "Le nouveau mot de passe est trop court : au moins 12 caractères"),
        ("demo", NEW, "autre chose encore", "Les deux saisies du nouveau mot de passe sont différentes."),
        ("demo", "password1234", "password1234", "Ce mot de passe figure dans les listes de mots de passe dérobés"),
    ],
)
def test_a_refused_change_says_why_in_french(demo_db, current, new, again, message):
    at = change(app_test("pages/mon_compte.py", demo_db, "parent@demo.fr").run(), current, new, again)
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith(message)
    auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW)  # the password is unchanged


def test_a_password_change_keeps_this_session_and_ends_the_others(demo_db):
    other, _ = auth.login(demo_db, "agent@demo.fr", "demo", DEMO_NOW, "192.0.2.1")
    at = change(app_test("pages/mon_compte.py", demo_db, "agent@demo.fr").run(), "demo", NEW, NEW)
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["Votre mot de passe a été changé. 1 autre(s) session(s) fermée(s)."]
    assert auth.actor_for_token(demo_db, at.session_state[TEST_TOKEN_KEY], DEMO_NOW).email == "agent@demo.fr"
    with pytest.raises(LoginRefused):
        auth.actor_for_token(demo_db, other, DEMO_NOW)
    auth.login(demo_db, "agent@demo.fr", NEW, DEMO_NOW)


def test_without_a_session_the_page_asks_to_log_in(demo_db):
    at = AppTest.from_file(str(ROOT / "pages/mon_compte.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.text_input


def test_a_family_turns_the_booking_receipts_off_and_sees_what_always_comes(demo_db):
    at = app_test("pages/mon_compte.py", demo_db, "parent@demo.fr").run()
    assert not at.exception
    assert "Courriels" in [h.value for h in at.header]
    receipts = at.toggle(key="account_mail_booking_receipt")
    assert receipts.label == "Accusé de réception des réservations" and receipts.value is True
    receipts.set_value(False)
    at = at.button(key="account_mail_save").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["Vos choix de courriels sont enregistrés."]
    assert at.toggle(key="account_mail_booking_receipt").value is False
    assert at.toggle(key="account_mail_payment_receipt").value is True
    assert demo_db.rows("SELECT kind, wanted FROM mail_preferences ORDER BY kind") == [
        ("booking_receipt", False),
        ("payment_receipt", True),
    ]
    always = next(m.value for m in at.markdown if m.value.startswith("**Toujours envoyés"))
    assert "Nouvelle facture : une facture est à payer avant une date." in always


def test_staff_accounts_have_no_mail_choices(demo_db):
    at = app_test("pages/mon_compte.py", demo_db, "agent@demo.fr").run()
    assert not at.exception
    assert "Courriels" not in [h.value for h in at.header] and not at.toggle
