"""The seed's guides walked on a phone (390 px), as a parent would: from the home's shortcuts, never
the side menu. Part 2 (« Paiement en ligne »): « Mes factures », a red invoice, « Payer »,
« Confirmer et payer », the bank's « Payer », back with a green dot and the word « Soldée ».
And the side menu, when a parent does use it, closes once a page is chosen.

This module pays the Martin family's only unpaid invoice, so it runs on a server and database of
its own (tests/browser/test_payment.py pays the same invoice on the shared one)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, pay_at_the_test_bank, private_server, settle
from tests.browser.helpers import check, screenshot

pytestmark = pytest.mark.browser

UNPAID = "F-2026-000267"


@pytest.fixture(scope="module")
def own(demo_template, tmp_path_factory):
    """A server on a private copy of the demo, and another family's invoice number."""
    other = []

    def look(db):
        other.append(
            db.value("SELECT number FROM invoices WHERE family_id <> 1 AND kind = 'invoice' ORDER BY id LIMIT 1")
        )
        assert db.value("SELECT family_id FROM invoices WHERE number = ?", [UNPAID]) == 1

    with private_server(demo_template, tmp_path_factory, "guides", prepare=look) as base:
        yield base, other[0]


def sidebar_collapsed(page) -> bool:
    return page.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "true"


def home(page, base: str) -> None:
    page.goto(base + "/connexion")
    login(page, base, "parent@demo.fr")
    page.get_by_role("heading", name="Bonjour Camille Martin", level=1).wait_for()
    settle(page)


def test_the_homes_payer_opens_that_invoice_at_its_payer_step(own, page):
    """Runs before the guide below pays the invoice (pytest keeps the file's order)."""
    base, _ = own
    home(page, base)
    page.locator(".st-key-home_shortcuts").get_by_role("button", name=re.compile(f"Payer 83,50.€.*{UNPAID}")).click()
    page.get_by_role("heading", name="Mes factures", level=1).wait_for()
    settle(page)
    detail = page.locator(".st-key-invoice_detail")
    detail.get_by_role("heading", name=f"Facture {UNPAID}").wait_for()
    detail.get_by_text("il ne sera pas possible de revenir en arrière").wait_for()
    assert detail.get_by_role("link", name=re.compile("Confirmer et payer 83,50")).is_visible()
    assert "facture=" not in page.url  # read once: choosing another invoice now is not undone
    page.locator(".st-key-invoices_cards").get_by_role("button", name=re.compile("F-2026-000001")).click()
    settle(page)
    detail.get_by_role("heading", name="Facture F-2026-000001").wait_for()
    # Streamlit keeps the last run's elements (stale) until the new run ends: wait for the link to go.
    detail.get_by_role("link", name=re.compile("Confirmer et payer")).wait_for(state="detached")
    settle(page)
    assert not detail.get_by_role("link", name=re.compile("Confirmer et payer")).count()
    screenshot(page, "guide-payer-depuis-accueil")


def test_the_payment_guide_on_a_phone_from_the_home_shortcuts(own, page):
    base, _ = own
    home(page, base)
    assert sidebar_collapsed(page)  # a phone starts with the menu closed, and this walk never opens it
    shortcuts = page.locator(".st-key-home_shortcuts")
    for name in ("Mes inscriptions", "Mes factures", f"Payer 83,50.€ — octobre 2026 \\({UNPAID}\\)"):
        button = shortcuts.get_by_role("button", name=re.compile(name))
        assert button.bounding_box()["height"] >= 44, name
    shortcuts.get_by_role("button", name=re.compile("Mes factures$")).click()

    page.get_by_role("heading", name="Mes factures", level=1).wait_for()
    settle(page)
    assert sidebar_collapsed(page)
    # A phone gets the invoices as cards: state in words, month, amount left and number, no sideways scroll.
    cards = page.locator(".st-key-invoices_cards")
    assert cards.is_visible() and not page.locator(".st-key-invoices_grid").is_visible()
    unpaid = cards.get_by_role("button", name=re.compile(f"🔴 Non soldée · Octobre 2026 · reste 83,50.€ · {UNPAID}"))
    paid = cards.get_by_role("button", name=re.compile("🟢 Soldée · Septembre 2026 · reste 0,00.€ · F-2026-000001"))
    for card in (unpaid, paid):
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 44
    check(page, "guide-mes-factures")
    screenshot(page, "guide-mes-factures")

    # The guide: « placez-vous sur une facture à solder » (the paid one first, to see the choice move).
    paid.click()
    settle(page)
    page.locator(".st-key-invoice_detail").get_by_text("🟢 Soldée").wait_for()
    unpaid.click()
    settle(page)
    detail = page.locator(".st-key-invoice_detail")
    detail.get_by_role("heading", name=f"Facture {UNPAID}").wait_for()
    detail.get_by_text("🔴 Non soldée").first.wait_for()  # the pane is drawn element by element
    pay_at_the_test_bank(page, "83,50")
    page.get_by_text(f"Paiement enregistré : la facture {UNPAID} est soldée. Merci !").wait_for()
    settle(page)
    detail = page.locator(".st-key-invoice_detail")
    detail.get_by_text("🟢 Soldée").first.wait_for()
    assert UNPAID in detail.inner_text()
    cards.get_by_role("button", name=re.compile(f"🟢 Soldée · Octobre 2026 · reste 0,00.€ · {UNPAID}")).wait_for()
    assert not page.get_by_role("button", name=re.compile("^Payer")).count()
    check(page, "guide-paye")
    screenshot(page, "guide-paye")

    # Back home: nothing left to pay, so no « Payer » shortcut.
    page.goto(base + "/")
    page.get_by_text("Toutes vos factures sont soldées.").wait_for()
    assert not page.locator(".st-key-home_shortcuts").get_by_role("button", name=re.compile("Payer")).count()


def test_the_side_menu_closes_after_choosing_a_page_on_a_phone(own, page):
    base, _ = own
    home(page, base)
    for name, heading in (
        ("Mes inscriptions", "Mes inscriptions"),
        ("Mes factures", "Mes factures"),
        ("Accueil", "Bonjour Camille Martin"),
    ):
        page.get_by_test_id("stExpandSidebarButton").click()
        page.locator('[data-testid=stSidebar][data-collapsed="false"]').wait_for(state="attached")
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
        page.get_by_role("heading", name=heading, level=1).wait_for()
        settle(page)
        page.locator('[data-testid=stSidebar][data-collapsed="true"]').wait_for(state="attached", timeout=5_000)
        # Nothing of the menu covers the page: its first heading is where a thumb can reach it.
        assert page.get_by_role("heading", name=heading, level=1).bounding_box()["x"] >= 0


def test_the_side_menu_stays_open_at_a_desk(own, desk):
    base, _ = own
    home(desk, base)
    desk.get_by_test_id("stSidebarNav").get_by_role("link", name="Mes factures").click()
    desk.get_by_role("heading", name="Mes factures", level=1).wait_for()
    settle(desk)
    assert not sidebar_collapsed(desk)


def test_a_link_to_another_familys_invoice_shows_nothing_of_it(own, page):
    base, other = own
    home(page, base)
    page.goto(f"{base}/mes-factures?facture={other}")
    page.get_by_role("heading", name="Mes factures", level=1).wait_for()
    settle(page)
    page.get_by_text("Cette facture n'est pas dans votre compte.").wait_for()
    assert other not in page.locator("[data-testid=stMain]").inner_text()
    assert "facture=" not in page.url  # read once, then dropped from the address
