"""« Régie » and the régisseur right on « Comptes des familles », through AppTest on the demo town."""

import pytest

from lib.services import auth, cash_desk
from tests.conftest import DEMO_NOW
from tests.helpers import app_test, texts

NUMBER = "F-2026-000267"  # the demo family's unpaid October invoice (83,50 €)


def _user(db, email):
    return db.value("SELECT id FROM users WHERE email = ?", [email])


@pytest.fixture
def db(demo_db):
    return demo_db


def _set_agent_right(db, holds: bool) -> None:
    admin = auth.login(db, "admin@demo.fr", "demo", DEMO_NOW)[1]
    cash_desk.set_regisseur(db, admin, _user(db, "agent@demo.fr"), holds, DEMO_NOW)


@pytest.fixture
def regisseur(db):
    """agent@demo.fr, who holds the right in the demo (given again: the tests do not lean on it)."""
    _set_agent_right(db, True)
    return "agent@demo.fr"


@pytest.fixture
def plain_agent(db):
    """agent@demo.fr, her right withdrawn by the administrator."""
    _set_agent_right(db, False)
    return "agent@demo.fr"


def _counter(db):
    return db.rows(
        """SELECT p.amount_cents, p.method, r.number, r.cheque_number, r.bank FROM payments p
           JOIN cash_receipts r ON r.payment_id = p.id JOIN invoices i ON i.id = p.invoice_id
           WHERE i.number = ? ORDER BY p.id""",
        [NUMBER],
    )


def _found(db, at, query=NUMBER):
    at.text_input(key="regie_search").input(query).run()
    assert not at.exception, at.exception
    return db.value("SELECT id FROM invoices WHERE number = ?", [NUMBER])


def test_an_agent_without_the_right_sees_no_cash_desk(db, plain_agent):
    at = app_test("pages/regie.py", db, plain_agent).run()
    assert not at.exception
    assert "réservée aux régisseurs et à l'administrateur" in texts(at)
    assert not [t for t in at.text_input if t.key == "regie_search"]


def test_the_administrator_reads_the_journal_but_does_not_take_money(db):
    at = app_test("pages/regie.py", db, "admin@demo.fr").run()
    assert not at.exception
    assert "seul un régisseur encaisse" in texts(at) and "Journal de caisse" in texts(at)
    assert not [t for t in at.text_input if t.key == "regie_search"]


def test_the_regisseur_records_a_cheque_then_cash_and_the_invoice_is_paid(db, regisseur):
    at = app_test("pages/regie.py", db, regisseur).run()
    invoice = _found(db, at, "F2026000267")  # its payment reference finds it
    assert "Reste dû : 83,50" in texts(at)
    at.text_input(key=f"regie_amount_{invoice}").input("50,00")
    at.text_input(key="regie_cheque_number").input("0012345")
    at.text_input(key="regie_bank").input("Crédit Agricole")
    at.button(key="regie_pay_send").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Paiement de 50,00" in texts(at) and "reçu R-2026-000001" in texts(at)
    assert "Reste dû : 33,50" in texts(at)
    assert at.get("download_button")  # the receipt, ready to print
    at.radio(key="regie_method").set_value("especes").run()
    at.text_input(key=f"regie_amount_{invoice}").input("33,50")
    at.button(key="regie_pay_send").click().run()
    assert not at.exception and not at.error
    assert "Payée" in texts(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Télécharger le reçu R-2026-000002 (PDF)" in labels  # the original, right after recording
    assert "Télécharger le reçu R-2026-000001 (PDF)" not in labels  # earlier ones: duplicates only
    assert "Télécharger le duplicata du reçu R-2026-000001" in labels
    assert _counter(db) == [
        (5000, "cheque", "R-2026-000001", "0012345", "Crédit Agricole"),
        (3350, "especes", "R-2026-000002", None, None),
    ]
    journal = at.dataframe[-1].value
    assert list(journal["Reçu"]) == ["R-2026-000001", "R-2026-000002"]
    assert "Total de la journée : 83,50" in texts(at)
    # The family sees its invoice paid.
    family = app_test("pages/mes_factures.py", db, "parent@demo.fr").run()
    table = family.dataframe[0].value
    assert table.loc[table["N°"] == NUMBER, "État"].item() == "🟢 Soldée"


@pytest.mark.parametrize(
    "amount, number, message",
    [
        ("90,00", "1234567", "Le montant dépasse ce qui reste dû (83,50"),
        ("10", "", "Saisissez le numéro du chèque"),
        ("0", "1234567", "supérieur à 0,00"),
        ("dix", "1234567", "Montant illisible"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_recorded(db, regisseur, amount, number, message):
    at = app_test("pages/regie.py", db, regisseur).run()
    invoice = _found(db, at)
    at.text_input(key=f"regie_amount_{invoice}").input(amount)
    at.text_input(key="regie_cheque_number").input(number)
    at.text_input(key="regie_bank").input("Banque Postale")
    at.button(key="regie_pay_send").click().run()
    assert not at.exception
    assert message in at.error[0].value
    assert _counter(db) == []


def test_a_payment_is_cancelled_with_its_reason(db, regisseur):
    at = app_test("pages/regie.py", db, regisseur).run()
    invoice = _found(db, at)
    at.radio(key="regie_method").set_value("especes").run()
    at.text_input(key=f"regie_amount_{invoice}").input("20")
    at.button(key="regie_pay_send").click().run()
    assert _counter(db) == [(2000, "especes", "R-2026-000001", None, None)]
    at.button(key="regie_cancel_send").click().run()
    assert "motif de l'annulation" in at.error[0].value
    at.text_area(key="regie_cancel_reason").input("erreur de facture")
    at.button(key="regie_cancel_send").click().run()
    assert not at.exception and not at.error
    assert "Reçu R-2026-000001 annulé : reçu d'annulation R-2026-000002." in texts(at)
    assert [r[0] for r in _counter(db)] == [2000, -2000]
    assert not [s for s in at.selectbox if s.key == "regie_cancel_which"]  # nothing left to cancel


def test_the_administrator_grants_the_right_on_the_accounts_page(db, plain_agent):
    at = app_test("pages/admin_comptes.py", db, "admin@demo.fr").run()
    staff = at.selectbox(key="accounts_regisseur_who")
    agent = _user(db, "agent@demo.fr")
    staff.set_value(agent).run()
    at.button(key="accounts_regisseur_toggle").click().run()
    assert not at.exception and "Droit de régisseur donné à" in texts(at)
    assert db.value("SELECT regisseur FROM users WHERE id = ?", [agent]) is True
    assert at.button(key="accounts_regisseur_toggle").label == "Retirer le droit de régisseur"


def test_the_same_form_sent_twice_records_once(db, regisseur):
    at = app_test("pages/regie.py", db, regisseur).run()
    invoice = _found(db, at)
    sent_with = at.session_state["regie_pay_key"]
    at.radio(key="regie_method").set_value("especes").run()
    at.text_input(key=f"regie_amount_{invoice}").input("10")
    at.button(key="regie_pay_send").click().run()
    at.session_state["regie_pay_key"] = sent_with  # the browser sends the first form again
    at.text_input(key=f"regie_amount_{invoice}").input("10")
    at.button(key="regie_pay_send").click().run()
    assert not at.exception and "Ce paiement était déjà enregistré : reçu R-2026-000001." in texts(at)
    assert _counter(db) == [(1000, "especes", "R-2026-000001", None, None)]


def test_a_paper_book_number_used_twice_is_refused(db, regisseur):
    at = app_test("pages/regie.py", db, regisseur).run()
    invoice = _found(db, at)
    at.radio(key="regie_method").set_value("especes").run()
    for _ in range(2):
        at.text_input(key=f"regie_amount_{invoice}").input("10")
        at.text_input(key="regie_book_number").input("Carnet 1 n° 7")
        at.button(key="regie_pay_send").click().run()
    assert not at.exception
    assert "Le numéro de reçu « Carnet 1 n° 7 » est déjà utilisé" in at.error[0].value
    assert _counter(db) == [(1000, "especes", "Carnet 1 n° 7", None, None)]
