"""The seed's part 2 in Chromium at a desk: « Mes factures », a click on a row of the table, a red
invoice, its detail, « Payer », confirm, pay on the test bank, back on the portal with a green
dot — on the demo's PayFiP (its default) and on the Systempay sandbox (its second backend). (On a
phone the table is a list of cards: tests/browser/test_seed_guides.py walks it there.)"""

import re

import pytest

from lib.services.demo_marks import SANDBOXES
from tests.browser.conftest import open_my_invoices, pay_at_the_test_bank, private_server, settle
from tests.browser.helpers import check
from tests.payment_providers import use_provider

pytestmark = pytest.mark.browser


@pytest.fixture(params=["payfip", "systempay"])
def bank(request, demo_template, tmp_path_factory):
    """The portal's address, its town paying through one of the two test banks."""
    if request.param == "payfip":  # the demo's own
        yield request.getfixturevalue("server")
        return
    with private_server(
        demo_template, tmp_path_factory, "systempay", prepare=lambda db: use_provider(db, *SANDBOXES["systempay"])
    ) as base:
        yield base


def test_pay_an_invoice_online_round_trip(bank, desk, tmp_path):
    page = desk
    open_my_invoices(page, bank)
    page.screenshot(path=str(tmp_path / "mes-factures-1280.png"), full_page=True)
    detail = page.locator(".st-key-invoice_detail")
    detail.get_by_text("🔴 Non soldée").wait_for()  # the pane is drawn element by element
    assert "F-2026-000267" in detail.inner_text()
    # At a desk the table is shown (not the phone's cards), beside the detail, without horizontal scrolling.
    assert (
        page.locator(".st-key-invoices_grid").is_visible() and not page.locator(".st-key-invoices_cards").is_visible()
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    # Clicking a row shows that invoice's detail (rows are 35 px high under a 35 px header).
    box = page.get_by_test_id("stDataFrame").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 35 + 35 + 17)  # September, paid
    settle(page)
    page.locator(".st-key-invoice_detail").get_by_text("Facture F-2026-000001").wait_for()
    # Streamlit redraws the pane element by element: wait for its body, not just its heading.
    page.locator(".st-key-invoice_detail").get_by_text("🟢 Soldée").wait_for()
    settle(page)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 35 + 17)  # October, not paid
    settle(page)
    page.locator(".st-key-invoice_detail").get_by_text("Facture F-2026-000267").wait_for()

    # our test bank's page passes the accessibility audit too
    pay_at_the_test_bank(page, "83,50", on_bank=lambda tab: check(tab, "banque de test"))
    page.get_by_text("Paiement enregistré : la facture F-2026-000267 est soldée. Merci !").wait_for()
    settle(page)
    # Streamlit redraws the pane element by element: wait for the green dot, not just the pane.
    page.locator(".st-key-invoice_detail").get_by_text("🟢 Soldée").wait_for()
    page.get_by_text("Référence de paiement : F2026000267 (exercice 2026).").wait_for()
    assert not page.get_by_role("button", name=re.compile("^Payer")).count()
    check(page, "retour de paiement")
