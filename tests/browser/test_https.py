"""The portal as a town deploys it: behind HAProxy, over HTTPS with HTTP/2 (lib/tools/haproxy.py).
A parent on a phone logs in, books from « Mes inscriptions » and pays an invoice at the test bank,
all through the proxy: the pages come over HTTP/2, the websocket passes, the session cookie is
`Secure`, and the bank sends the parent back to the HTTPS address.

This module pays the Martin family's unpaid invoice, so it runs on a server of its own."""

from __future__ import annotations

import re
import urllib.parse

import pytest

from lib.tools import haproxy
from lib.web import proxies
from tests.browser.conftest import login, no_csp_violations, pay_at_the_test_bank, private_server, settle, watch_csp
from tests.serve import free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def deployed(demo_template, tmp_path_factory):
    if not haproxy.available():
        pytest.fail("HAProxy and openssl are needed (apt-get install haproxy openssl; `make test` and .ci/run do it)")
    # As a town does: the portal's public address is a setting (payment addresses never follow
    # the request's Host header), and HAProxy runs on this machine: the server believes its
    # X-Forwarded-Proto (and only its).
    listen = f"127.0.0.1:{free_port()}"

    def public_address(db):
        db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', ?)", [f"https://{listen}"]))

    with private_server(
        demo_template, tmp_path_factory, "https", prepare=public_address, env={proxies.TRUSTED_PROXIES: "127.0.0.1"}
    ) as base:
        with haproxy.running([urllib.parse.urlsplit(base).netloc], listen=listen) as https:
            yield https


@pytest.fixture
def phone(browser, csp_violations):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR", ignore_https_errors=True)
    watch_csp(context, csp_violations)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()
    no_csp_violations(csp_violations)


def test_a_parent_logs_in_books_and_pays_over_https_and_http2(deployed, phone):
    page = phone
    page.goto(deployed + "/connexion")
    login(page, deployed, "parent@demo.fr")
    page.get_by_role("heading", name="Bonjour Camille Martin", level=1).wait_for()
    settle(page)
    assert page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol") == "h2"
    session = next(c for c in page.context.cookies() if c["name"] == "pf_session")
    assert session["secure"] and session["httpOnly"]

    shortcuts = page.locator(".st-key-home_shortcuts")
    shortcuts.get_by_role("button", name=re.compile("Mes inscriptions$")).click()
    page.get_by_role("heading", name="Mes inscriptions", level=1).wait_for()
    settle(page)
    page.get_by_role("heading", name=re.compile("^Réservations de ")).wait_for()
    modules = page.evaluate(
        "performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/static/js/')).map(e => e.nextHopProtocol)"
    )
    assert modules and set(modules) == {"h2"}

    page.goto(deployed + "/mes-factures")
    page.get_by_role("heading", name="Mes factures", level=1).wait_for()
    settle(page)
    page.locator(".st-key-invoices_cards").get_by_role("button", name=re.compile("🔴 Non soldée")).first.click()
    settle(page)
    pay_at_the_test_bank(page, "83,50")
    assert page.url.startswith(deployed + "/mes-factures?transaction=")
    page.get_by_text(re.compile("Paiement enregistré : la facture .* est soldée")).wait_for()
