"""The cash desk end to end in Chromium on a phone (390 px), against the real server: the régisseur
finds the demo family's unpaid invoice by its payment reference, records a cheque and then cash for
the rest, downloads the receipt; the parent sees the invoice paid; then the database (read once the
server has stopped) holds exactly those rows."""

import io
import re

import pytest
from pypdf import PdfReader

from lib.domain.invoicing import payment_reference
from lib.services import auth, cash_desk
from lib.store.db import close_database, open_database
from tests.browser.conftest import login, open_my_invoices, private_server, settle
from tests.browser.helpers import check, table_cells
from tests.conftest import DEMO_NOW

pytestmark = pytest.mark.browser

NUMBER = "F-2026-000267"  # 83,50 €, unpaid
STORED: list[str] = []  # the private server's database file


def _grant(db) -> None:
    """Before the server starts: the administrator makes the demo agent a régisseur (and the test
    notes which copy of the demo the server will hold)."""
    STORED.append(db.path)
    admin = auth.login(db, "admin@demo.fr", "demo", DEMO_NOW)[1]
    agent = db.value("SELECT id FROM users WHERE email = 'agent@demo.fr'")
    cash_desk.set_regisseur(db, admin, agent, True, DEMO_NOW)


def _pay(page, amount: str) -> None:
    field = page.get_by_role("textbox", name="Montant reçu (€)")
    field.fill(amount)
    page.get_by_role("button", name="Enregistrer le paiement").click()
    settle(page)


def test_a_cheque_then_cash_pay_an_invoice_at_the_town_hall(demo_template, tmp_path_factory, page):
    with private_server(demo_template, tmp_path_factory, "regie", prepare=_grant) as base:
        login(page, base, "agent@demo.fr")
        page.get_by_role("heading", name="Accueil agent").wait_for()
        page.goto(base + "/regie")
        page.get_by_role("heading", name="Régie", exact=True).wait_for()
        settle(page)
        search = page.get_by_label("Rechercher une facture")
        search.fill(payment_reference(NUMBER))
        search.press("Enter")
        settle(page)
        page.get_by_text("Reste dû : 83,50").first.wait_for()

        # A cheque for more than what is owed is refused in French, nothing recorded.
        page.get_by_role("textbox", name="Numéro du chèque").fill("0012345")
        page.get_by_role("textbox", name="Banque").fill("Crédit Agricole")
        _pay(page, "100,00")
        page.get_by_text("Le montant dépasse ce qui reste dû").wait_for()

        _pay(page, "50,00")
        page.get_by_text("reçu R-2026-000001").first.wait_for()
        with page.expect_download() as download:
            page.get_by_role("button", name="Télécharger le reçu R-2026-000001 (PDF)").click()
        receipt = download.value.path().read_bytes()
        text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt)).pages).split())
        assert "REÇU N° R-2026-000001" in text and NUMBER in text and "50,00" in text and "0012345" in text
        assert "DUPLICATA" not in text

        page.get_by_text("Reste dû : 33,50").first.wait_for()
        # The rest in cash, from the keyboard alone: the means by the arrow keys, the form by Enter.
        page.get_by_role("radio", name="Chèque").focus()
        page.keyboard.press("ArrowRight")
        settle(page)
        assert page.get_by_role("radio", name="Espèces").is_checked()
        amount = page.get_by_role("textbox", name="Montant reçu (€)")
        amount.focus()
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type("33,50")
        page.get_by_role("button", name="Enregistrer le paiement").focus()
        page.keyboard.press("Enter")
        settle(page)
        page.get_by_text("reçu R-2026-000002").first.wait_for()
        page.get_by_text("Payée", exact=False).first.wait_for()
        page.get_by_text("Total de la journée : 83,50").wait_for()
        check(page, "régie")

        # The régisseur reloads: what the page shows now comes from the database.
        page.reload()
        page.get_by_role("heading", name="Journal de caisse").wait_for()
        settle(page)
        page.get_by_text("Total de la journée : 83,50").wait_for()
        page.locator("[data-testid=stDataFrame] td").first.wait_for(state="attached")
        cells = table_cells(page)
        assert {"R-2026-000001", "R-2026-000002", "50,00\u00a0€", "33,50\u00a0€"} <= set(cells), cells

        page.context.clear_cookies()
        open_my_invoices(page, base)
        cards = page.locator(".st-key-invoices_cards")
        cards.get_by_role("button", name=re.compile(f"🟢 Soldée · Octobre 2026 · reste 0,00.€ · {NUMBER}")).wait_for()

    db = open_database(STORED[-1])
    try:
        rows = db.rows(
            """SELECT p.amount_cents, p.method, u.email, r.number, r.cheque_number, r.bank
               FROM payments p JOIN invoices i ON i.id = p.invoice_id
               LEFT JOIN cash_receipts r ON r.payment_id = p.id LEFT JOIN users u ON u.id = p.recorded_by
               WHERE i.number = ? ORDER BY p.id""",
            [NUMBER],
        )
        assert rows == [
            (5000, "cheque", "agent@demo.fr", "R-2026-000001", "0012345", "Crédit Agricole"),
            (3350, "especes", "agent@demo.fr", "R-2026-000002", None, None),
        ]
        assert db.value("SELECT count(*) FROM cash_receipts") == 2
        assert db.value("SELECT count(*) FROM audit_log WHERE action = 'cashdesk.refused'") == 1
    finally:
        close_database(STORED[-1])
