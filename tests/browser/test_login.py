import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_parent_logs_in_refreshes_and_still_sees_the_children(server, page, tmp_path):
    page.goto(server + "/")
    assert page.url.endswith("/connexion")  # not logged in: the guard sends us to the form
    login(page, server, "parent@demo.fr")
    page.get_by_text("Bonjour Camille Martin").wait_for()
    page.get_by_text("Léa Martin").wait_for()
    page.get_by_text("Hugo Martin").wait_for()
    page.screenshot(path=str(tmp_path / "accueil-famille-390.png"))

    page.reload()
    page.get_by_text("Hugo Martin").wait_for()
    assert "/connexion" not in page.url
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["pf_session"]["httpOnly"] is True and cookies["pf_session"]["sameSite"] == "Lax"

    # No horizontal scrolling on a 390-px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_wrong_password_is_refused_in_french(server, page):
    login(page, server, "parent@demo.fr", "mauvais")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "E-mail ou mot de passe incorrect." in alert.inner_text()
    assert page.get_by_label("Adresse e-mail").input_value() == "parent@demo.fr"


def test_logout_then_the_app_needs_a_new_login(server, page):
    login(page, server, "agent@demo.fr")
    page.get_by_text("Accueil agent").first.wait_for()
    expand = page.get_by_test_id("stExpandSidebarButton")
    if expand.is_visible():
        expand.click()  # on a phone the sidebar starts folded
    page.get_by_role("link", name="Se déconnecter").click()
    page.wait_for_url("**/connexion?fin=1")
    page.get_by_role("button", name="Se connecter").wait_for()
    assert "Vous êtes déconnecté(e)." in page.get_by_role("status").inner_text()
    assert "pf_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(server + "/accueil")
    page.wait_for_url("**/connexion")  # the app is closed again


def test_forwarding_headers_from_an_untrusted_peer_are_ignored(server):
    """The real server (no PORTAIL_TRUSTED_PROXIES): a client on the same machine sends forged
    X-Forwarded-For and X-Forwarded-Proto. Its guesses all count against its own address, so a new
    forged address each time does not escape the wait; and it does not get a `Secure` cookie by
    claiming HTTPS. (uvicorn's default would have believed both from 127.0.0.1.)"""
    import http.client
    import re
    import urllib.parse

    def attempt(email, password, forged_address):
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(server).netloc, timeout=30)
        connection.request("GET", "/connexion")
        page = connection.getresponse()
        token = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())[1]
        form = urllib.parse.urlencode({"email": email, "password": password, "csrf": token})
        connection.request(
            "POST",
            "/auth/login",
            body=form,
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "origin": server,
                "cookie": f"pf_csrf={token}",
                "x-forwarded-for": forged_address,
                "x-forwarded-proto": "https",
            },
        )
        answer = connection.getresponse()
        answer.read()
        connection.close()
        return answer.status, answer.headers.get_all("set-cookie") or []

    statuses = [attempt("personne@demo.fr", "devine", f"198.51.100.{n}")[0] for n in range(5)]
    assert statuses == [400, 400, 400, 400, 429]  # one (account, address) pair: the 127.0.0.1 it came from
    status, cookies = attempt("cuisine@demo.fr", "demo", "198.51.100.99")
    assert status == 303
    session = next(c for c in cookies if c.startswith("pf_session="))
    assert "secure" not in session.lower()
