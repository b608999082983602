"""Our HTTP routes, through Starlette's test client (the same objects server.py mounts)."""

import re

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from lib.services import auth
from lib.web.routes import ROUTES, RequireLogin
from tests.helpers import csrf, post_login


def shell(_request):
    return PlainTextResponse("streamlit shell")


@pytest.fixture
def client(demo_path):
    app = Starlette(
        routes=[
            *ROUTES,
            Route("/", shell),
            Route("/{page}", shell),
            Route("/static/app.js", shell),
            Route("/{page}/_stcore/health", shell),
        ],
        middleware=[Middleware(RequireLogin)],
    )
    with TestClient(app, base_url="http://127.0.0.1:8501") as c:
        yield c


def test_pages_redirect_to_the_login_form_until_logged_in(client):
    for path in ("/", "/accueil", "/mes-factures"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 302 and response.headers["location"] == "/connexion"
    assert client.get("/static/app.js", follow_redirects=False).status_code == 200  # assets are not guarded


def test_login_page_is_french_and_lists_demo_accounts(client):
    page = client.get("/connexion")
    assert '<html lang="fr">' in page.text
    assert "Adresse e-mail" in page.text and "Se connecter" in page.text
    assert "parent@demo.fr" in page.text and "inscriptions@belcastel-demo.fr" in page.text


def test_successful_login_sets_a_safe_cookie_and_opens_the_app(client, demo_db):
    response = post_login(client, "parent@demo.fr", "demo")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("pf_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert client.get("/", follow_redirects=False).text == "streamlit shell"
    assert demo_db.value("SELECT count(*) FROM sessions") == 1


@pytest.mark.parametrize(
    "email, password, status, words",
    [
        ("parent@demo.fr", "wrong", 400, "E-mail ou mot de passe incorrect."),
        ("inconnu@demo.fr", "demo", 400, "E-mail ou mot de passe incorrect."),
        ("", "", 400, "Saisissez votre adresse e-mail."),
        ("parent@demo.fr", "", 400, "Saisissez votre mot de passe."),
        ("a" * 400 + "@demo.fr", "demo", 400, "Adresse e-mail trop longue"),
        ("<script>alert(1)</script>", "demo", 400, "Adresse e-mail invalide"),
    ],
)
def test_bad_logins_answer_in_french_without_a_session(client, demo_db, email, password, status, words):
    response = post_login(client, email, password)
    assert response.status_code == status
    assert words in response.text
    assert "Traceback" not in response.text and "<script>alert" not in response.text
    assert "pf_session=" not in response.headers.get("set-cookie", "")
    assert demo_db.value("SELECT count(*) FROM sessions") == 0


def test_the_form_needs_its_csrf_token_and_our_origin(client, demo_db):
    csrf(client)
    assert post_login(client, "parent@demo.fr", "demo", token="forged").status_code == 403
    response = post_login(client, "parent@demo.fr", "demo", origin="https://evil.example")
    assert response.status_code == 403 and "Rechargez la page" in response.text
    assert demo_db.value("SELECT count(*) FROM sessions") == 0


def test_throttled_logins_answer_429_with_the_wait_and_never_hold_a_thread(client):
    for _ in range(4):
        assert post_login(client, "parent@demo.fr", "nope").status_code == 400
    response = post_login(client, "parent@demo.fr", "demo")  # the frozen clock: the 5 seconds never pass
    assert response.status_code == 429 and "réessayez dans 5 secondes" in response.text
    assert "pf_session=" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "public_url, base, secure",
    [
        ("https://famille.ma-ville.fr", "http://127.0.0.1:8501", True),  # a proxy that did not say it was HTTPS
        ("", "https://127.0.0.1:8501", True),
        ("", "http://127.0.0.1:8501", False),
    ],
)
def test_cookies_are_secure_over_https_or_when_the_public_address_is_https(
    demo_path, demo_db, public_url, base, secure
):
    demo_db.write(
        lambda cur: cur.execute(
            "INSERT INTO settings VALUES ('public_url', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [public_url],
        )
    )
    app = Starlette(routes=ROUTES, middleware=[Middleware(RequireLogin)])
    with TestClient(app, base_url=base) as c:
        form = c.get("/connexion")
        assert ("secure" in form.headers["set-cookie"].lower()) is secure  # the CSRF cookie
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
        c.cookies.clear()  # sent by hand below: httpx keeps a Secure cookie from a plain-HTTP test address
        response = post_login(c, "parent@demo.fr", "demo", token=token, cookie=f"pf_csrf={token}")
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("pf_session="))
        assert ("; secure" in cookie.lower()) is secure


def test_logout_from_every_device_ends_all_the_accounts_sessions(demo_path, demo_db, client):
    other = TestClient(client.app, base_url="http://127.0.0.1:8501")
    assert post_login(other, "parent@demo.fr", "demo").status_code == 303
    assert post_login(client, "parent@demo.fr", "demo").status_code == 303
    token = client.cookies["pf_session"]
    # The code of the other link, or one session's code, does not end the others.
    for forged in (auth.logout_everywhere_code("forged"), "é" * 32):
        assert client.get(f"/auth/logout?code={forged}", follow_redirects=False).headers["location"] == "/"
    response = client.get(f"/auth/logout?code={auth.logout_everywhere_code(token)}", follow_redirects=False)
    assert response.headers["location"] == "/connexion?fin=tous"
    assert demo_db.value("SELECT count(*) FROM sessions") == 0
    assert other.get("/", follow_redirects=False).headers["location"] == "/connexion?expiree=1"
    assert "Vous êtes déconnecté(e) de tous les appareils." in client.get("/connexion?fin=tous").text


def test_a_forged_or_ended_cookie_is_dropped(client, demo_db):
    client.cookies.set("pf_session", "forged-value")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/connexion?expiree=1"
    assert 'pf_session=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    page = client.get(response.headers["location"])
    assert "Votre session a expiré ou n&#x27;est plus valable : reconnectez-vous." in page.text
    client.cookies.clear()
    post_login(client, "parent@demo.fr", "demo")
    assert client.get("/", follow_redirects=False).status_code == 200
    token = client.cookies["pf_session"]
    # A logout link forged by another site (wrong code) does nothing.
    forged = client.get("/auth/logout?code=0123456789abcdef", follow_redirects=False)
    assert forged.headers["location"] == "/" and demo_db.value("SELECT count(*) FROM sessions") == 1
    response = client.get(f"/auth/logout?code={auth.logout_code(token)}", follow_redirects=False)
    assert response.headers["location"] == "/connexion?fin=1" and "Max-Age=0" in response.headers["set-cookie"]
    assert demo_db.value("SELECT count(*) FROM sessions") == 0
    assert "Vous êtes déconnecté(e)." in client.get("/connexion?fin=1").text


def test_oversized_forms_are_refused(client):
    response = client.post(
        "/auth/login",
        content=b"email=" + b"a" * 10000,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("email", "path", "served"),
    [
        ("parent@demo.fr", "/mes-factures", True),
        ("parent@demo.fr", "/", True),
        ("parent@demo.fr", "/pointage", False),
        ("parent@demo.fr", "/facturation", False),
        ("parent@demo.fr", "/accueil", False),
        ("parent@demo.fr", "/nimporte-quoi", False),
        ("cuisine@demo.fr", "/mes-factures", False),
        ("agent@demo.fr", "/pointage", True),
        ("admin@demo.fr", "/facturation", True),
        ("maire@demo.fr", "/tendances", True),
        ("parent@demo.fr", "/mes-factures/_stcore/health", True),  # the frontend probing its base path
    ],
)
def test_a_page_the_role_does_not_have_leads_home_not_to_an_english_error(client, email, path, served):
    assert post_login(client, email, "demo").status_code == 303
    response = client.get(path, follow_redirects=False)
    if served:
        assert response.status_code == 200 and response.text == "streamlit shell"
    else:
        assert response.status_code == 302 and response.headers["location"] == "/"


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "²".encode("latin-1")])
def test_a_form_with_a_non_numeric_length_gets_the_french_stale_form_page(client, length):
    token = csrf(client)
    response = client.post(
        "/auth/login",
        content=f"email=a%40b.fr&password=x&csrf={token}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded", "content-length": length},
        follow_redirects=False,
    )
    assert response.status_code == 400 and "Rechargez la page et réessayez." in response.text
    assert "pf_session" not in response.headers.get("set-cookie", "")


def test_a_csrf_field_that_is_not_ascii_is_refused_not_crashed(client):
    csrf(client)
    response = post_login(client, "a@b.fr", "x", token="jéton")
    assert response.status_code == 403 and "Rechargez la page" in response.text
