"""In Chromium: a family and a parent named with a markdown image and link see their names as
typed — no <img>, no <a> to the other site, no request to it (a tracking pixel would fire one) —
and the invoice PDF, built on the click, says the name as typed."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from lib.domain.markup import WORD_JOINER
from tests.browser.conftest import login, private_server, settle

pytestmark = pytest.mark.browser

PAYLOAD = "![x](https://evil.example/p.png) [clic](https://evil.example)"


@pytest.fixture(scope="module")
def poisoned_server(demo_template, tmp_path_factory):
    def poison(db):
        db.write(
            lambda cur: (
                cur.execute("UPDATE families SET name = ? WHERE id = 1", [PAYLOAD]),
                cur.execute("UPDATE users SET display_name = ? WHERE email = 'parent@demo.fr'", [PAYLOAD]),
                # the invoice names its payer, guardian 1, as debtor: his name is the one printed
                cur.execute("UPDATE guardians SET last_name = ? WHERE family_id = 1 AND rank = 1", [PAYLOAD]),
                cur.execute("UPDATE invoice_lines SET label = ?", [PAYLOAD]),
            )
        )

    with private_server(demo_template, tmp_path_factory, "escaping", prepare=poison) as base:
        yield base


def test_a_name_written_as_an_image_and_a_link_shows_as_text(poisoned_server, page, tmp_path):
    asked = []
    page.route(re.compile(r"https?://evil\.example/.*"), lambda route: (asked.append(route.request.url), route.abort()))
    login(page, poisoned_server, "parent@demo.fr")
    page.get_by_role("heading", name=re.compile("^Bonjour")).wait_for()
    settle(page)
    for path in ("/", "/mes-factures"):
        if path != "/":
            page.goto(poisoned_server + path)
            page.get_by_text("Facture F-2026-000267").first.wait_for()
            settle(page)
        assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
        assert PAYLOAD in page.locator("body").inner_text().replace(WORD_JOINER, "")
    assert asked == []
    # The invoice PDF, built on the click, carries the name as typed too.
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger la facture (PDF)").click()
    info.value.save_as(tmp_path / "facture.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "facture.pdf").pages)
    assert info.value.suggested_filename == "F-2026-000267.pdf" and PAYLOAD in text
