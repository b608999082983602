"""The seed's part 2 in Chromium at a desk: « Mes factures », a click on a row of the table, a red
invoice, its detail, « Payer », confirm, pay on the sandbox bank, back on the portal with a green
dot. (On a phone the table is a list of cards: tests/browser/test_seed_guides.py walks it there.)"""

import re

import pytest

from tests.browser.conftest import open_my_invoices, pay_at_the_test_bank, settle
from tests.browser.helpers import check

pytestmark = pytest.mark.browser


def test_pay_an_invoice_online_round_trip(server, desk, tmp_path):
    page = desk
    open_my_invoices(page, server)
    page.screenshot(path=str(tmp_path / "mes-factures-1280.png"), full_page=True)
    detail = page.locator(".st-key-invoice_detail")
    assert "🔴 Non soldée" in detail.inner_text() and "F-2026-000267" in detail.inner_text()
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

    # our sandbox bank's page passes the accessibility audit too
    pay_at_the_test_bank(page, "83,50", on_bank=lambda bank: check(bank, "banque de test"))
    page.get_by_text("Paiement enregistré : la facture F-2026-000267 est soldée. Merci !").wait_for()
    settle(page)
    detail = page.locator(".st-key-invoice_detail")
    assert "🟢 Soldée" in detail.inner_text()
    assert not page.get_by_role("button", name=re.compile("^Payer")).count()
    check(page, "retour de paiement")
