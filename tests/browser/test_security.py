"""The HTTP surface in Chromium (lib/web/security.py): another page cannot frame the portal, an
injected inline script does not run (and the browser tests' CSP watch sees it), and an invoice's
PDF link dies with the session."""

import http.server
import re
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest

from tests.browser.conftest import CSP_MARK, login, open_my_invoices

pytestmark = pytest.mark.browser


def _status(url: str) -> int:
    """The status of a GET without any cookie: anyone who got hold of the address."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


@contextmanager
def decoy_site(html: str):
    """Another web server on this machine (another port: the same *site* as the portal) serving one page."""
    body = html.encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    decoy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=decoy.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{decoy.server_address[1]}"
    finally:
        decoy.shutdown()
        decoy.server_close()
        thread.join()


def test_a_page_of_the_same_site_cannot_frame_the_invoices_or_the_login_form(server, page):
    # The session cookie (SameSite=Lax) goes with a same-site frame's request: without
    # frame-ancestors, a decoy could lay « Mes factures » and its « Payer » under its own button.
    login(page, server, "parent@demo.fr")
    page.get_by_text("Bonjour Camille Martin").wait_for()
    with decoy_site(
        "<!doctype html><title>Gagnez !</title>"
        f'<iframe id="invoices" src="{server}/mes-factures"></iframe>'
        f'<iframe id="login" src="{server}/connexion"></iframe>'
    ) as decoy:
        page.goto(decoy + "/")  # waits for the frames' load too
        assert [frame.url for frame in page.frames[1:]] == ["chrome-error://chromewebdata/"] * 2  # refused
        for frame in ("#invoices", "#login"):
            inside = page.frame_locator(frame)
            assert inside.get_by_text("Mes factures").count() == 0
            assert inside.get_by_role("button", name="Se connecter").count() == 0


def test_an_injected_inline_script_does_not_run(server, page, csp_violations):
    page.goto(server + "/connexion")
    with page.expect_console_message(lambda message: message.text.startswith(CSP_MARK)):
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
            " document.body.appendChild(s); }"
        )
    assert page.evaluate("window.pwned") is None
    assert len(csp_violations) == 1 and "script-src" in csp_violations[0]
    csp_violations.clear()  # the one violation this test caused on purpose


def test_an_invoice_pdf_link_dies_with_the_session(server, desk):
    page = desk
    open_my_invoices(page, server)
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("^Télécharger la facture")).click()
    url = info.value.url
    assert "/media/" in url
    assert page.request.get(url).status == 200  # the family, logged in
    assert _status(url) == 403  # the same address without the family's session

    page.get_by_role("link", name="Se déconnecter").click()
    page.wait_for_url("**/connexion?fin=1")
    answer = page.request.get(url)
    assert answer.status == 403 and "reconnectez-vous" in answer.text()
