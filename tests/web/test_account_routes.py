"""The pages a link sent by e-mail opens, and « Mot de passe oublié ? », through the ASGI test client on
the small town: GET never uses a link, the form's POST uses it once, a form without its CSRF token or
from another site is refused."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from lib.domain.account_links import ACTIVATED, EMAIL_CHANGED, LINK_REFUSED, RESET_ANSWER, RESET_DONE
from lib.services import accounts, auth
from lib.web import account_routes
from lib.web.routes import ROUTES, RequireLogin
from tests.conftest import DEMO_NOW
from tests.helpers import TOWN_PASSWORD

PUBLIC = "https://famille.petite-ville.test"
NEW_PASSWORD = "girafe cerf-volant parapluie orange"


@pytest.fixture
def db(town):
    town.db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', ?)", [PUBLIC]))
    return town.db


@pytest.fixture
def client(db):
    app = Starlette(routes=[*ROUTES, *account_routes.ROUTES], middleware=[Middleware(RequireLogin)])
    with TestClient(app, base_url="https://127.0.0.1:8501") as c:  # the public address is https: Secure cookies
        yield c


def _csrf(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]


def _token(db, kind) -> str:
    body = db.value("SELECT body_text FROM outbox WHERE kind = ? ORDER BY id DESC LIMIT 1", [kind])
    return parse_qs(urlsplit(re.search(rf"{re.escape(PUBLIC)}/auth/\S+", body)[0]).query)["jeton"][0]


def _used(db) -> list:
    return [used for (used,) in db.rows("SELECT used_at FROM link_tokens ORDER BY created_at")]


def _post(client, path, data, page=None, **headers):
    token = _csrf(page or client.get(path))
    return client.post(path, data={**data, "csrf": token}, headers=headers, follow_redirects=False)


def test_the_login_page_offers_the_forgotten_password(client):
    assert '<a href="/auth/oubli">Mot de passe oublié ?</a>' in client.get("/connexion").text


def test_the_forgotten_password_page_is_french_private_and_needs_no_session(client):
    page = client.get("/auth/oubli", follow_redirects=False)
    assert page.status_code == 200 and '<html lang="fr">' in page.text and '<label for="email">' in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "same-origin"
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("pf_csrf_compte=") and "Path=/auth/" in cookie and "HttpOnly" in cookie


def test_the_same_answer_for_an_account_and_for_no_account(client, db, town):
    known = _post(client, "/auth/oubli", {"email": town.parent_a})
    unknown = _post(client, "/auth/oubli", {"email": "personne@exemple.fr"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text and unescape(RESET_ANSWER) in unescape(known.text)
    assert db.rows("SELECT to_address FROM outbox") == [(town.parent_a,)]


@pytest.mark.parametrize("path", ["/auth/oubli", "/auth/reinitialiser", "/auth/activer", "/auth/courriel"])
def test_a_form_without_its_token_or_from_another_site_is_refused(client, db, town, path):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, "198.51.100.1")
    link = _token(db, "password_reset")
    data = {"email": town.parent_a, "jeton": link, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    forged = client.post(path, data={**data, "csrf": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "Rechargez la page" in forged.text
    page = client.get(f"/auth/reinitialiser?jeton={link}")
    foreign = _post(client, path, data, page, origin="https://evil.example")
    assert foreign.status_code == 403
    assert db.value("SELECT count(*) FROM outbox") == 1 and _used(db) == [None]


@pytest.mark.parametrize("path", ["/auth/oubli", "/auth/reinitialiser", "/auth/activer", "/auth/courriel"])
@pytest.mark.parametrize("length", ["abc", "²".encode("latin-1"), "99999"])
def test_a_form_with_a_bad_or_huge_length_gets_a_french_page_and_uses_nothing(client, db, town, path, length):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, "198.51.100.1")
    link = _token(db, "password_reset")
    token = _csrf(client.get(f"/auth/reinitialiser?jeton={link}"))
    body = f"email=x%40y.fr&jeton={link}&password=a&confirmation=a&csrf={token}".encode()
    answer = client.post(
        path,
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded", "content-length": length},
        follow_redirects=False,
    )
    expected = (413, "Formulaire trop volumineux.") if length == "99999" else (400, "Rechargez la page et réessayez.")
    assert (answer.status_code, expected[1] in unescape(answer.text)) == (expected[0], True)
    assert '<html lang="fr">' in answer.text and _used(db) == [None]
    assert db.value("SELECT count(*) FROM outbox") == 1


def test_a_reset_link_opened_twice_stays_usable_and_its_form_uses_it_once(client, db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, "198.51.100.1")
    link = _token(db, "password_reset")
    for _ in range(2):  # a mail scanner, then the parent
        page = client.get(f"/auth/reinitialiser?jeton={link}")
        assert page.status_code == 200 and town.parent_a in page.text and 'autocomplete="new-password"' in page.text
    assert _used(db) == [None]
    done = _post(
        client, "/auth/reinitialiser", {"jeton": link, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}, page
    )
    assert done.status_code == 303 and done.headers["location"] == "/connexion?fait=reinit"
    assert town.parent_a not in done.headers["location"]
    login = client.get(done.headers["location"])
    assert unescape(RESET_DONE) in unescape(login.text) and f'value="{town.parent_a}"' in login.text
    assert auth.login(db, town.parent_a, NEW_PASSWORD, DEMO_NOW)
    again = _post(
        client, "/auth/reinitialiser", {"jeton": link, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}, page
    )
    assert again.status_code == 410 and unescape(LINK_REFUSED) in unescape(again.text)
    assert client.get(f"/auth/reinitialiser?jeton={link}").status_code == 410


def test_a_weak_password_shows_the_form_again_with_the_reason(client, db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, "198.51.100.1")
    link = _token(db, "password_reset")
    page = client.get(f"/auth/reinitialiser?jeton={link}")
    weak = _post(client, "/auth/reinitialiser", {"jeton": link, "password": "court", "confirmation": "court"}, page)
    assert weak.status_code == 400 and "trop court" in weak.text and 'role="alert"' in weak.text
    assert _used(db) == [None]


@pytest.mark.parametrize("path", ["/auth/reinitialiser", "/auth/activer", "/auth/courriel"])
def test_an_unknown_link_gets_the_one_french_answer(client, db, path):
    for url in (path, f"{path}?jeton=inconnu-inconnu-inconnu-inconnu", f"{path}?jeton=%3Cscript%3E"):
        page = client.get(url)
        assert page.status_code == 410 and unescape(LINK_REFUSED) in unescape(page.text)
        assert "<script>" not in page.text
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'auth.link_refused'") == 0  # a GET writes nothing
    form = _csrf(client.get("/auth/oubli"))
    data = {"jeton": "inconnu-inconnu-inconnu-inconnu", "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    used = client.post(path, data={**data, "csrf": form}, follow_redirects=False)
    assert used.status_code == 410 and unescape(LINK_REFUSED) in unescape(used.text)
    # a made-up link writes nothing either: posting invented tokens in a loop cannot fill the audit log
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'auth.link_refused'") == 0


def test_an_invitation_is_followed_to_a_first_login(client, db, town):
    admin = town.login(town.admin)
    accounts.create_family_account(db, admin, town.family_b, "nora@exemple.fr", "Nora Besson", DEMO_NOW)
    link = _token(db, "invitation")
    page = client.get(f"/auth/activer?jeton={link}")
    assert page.status_code == 200 and "Activer mon compte" in page.text and _used(db) == [None]
    done = _post(client, "/auth/activer", {"jeton": link, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}, page)
    assert done.status_code == 303 and done.headers["location"] == "/connexion?fait=active"
    assert unescape(ACTIVATED) in unescape(client.get(done.headers["location"]).text)
    response = client.post(
        "/auth/login",
        data={"email": "nora@exemple.fr", "password": NEW_PASSWORD, "csrf": _csrf(client.get("/connexion"))},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_a_new_address_is_confirmed_by_the_button_not_by_opening_the_link(client, db, town):
    accounts.request_email_change(db, town.login(town.parent_a), TOWN_PASSWORD, "anne@exemple.fr", DEMO_NOW)
    link = _token(db, "email_change")
    page = client.get(f"/auth/courriel?jeton={link}")
    assert page.status_code == 200 and "anne@exemple.fr" in page.text and "Confirmer ma nouvelle adresse" in page.text
    assert db.value("SELECT count(*) FROM users WHERE email = 'anne@exemple.fr'") == 0
    done = _post(client, "/auth/courriel", {"jeton": link}, page)
    assert done.status_code == 303 and done.headers["location"] == "/connexion?fait=courriel"
    assert unescape(EMAIL_CHANGED) in unescape(client.get(done.headers["location"]).text)
    assert db.value("SELECT count(*) FROM users WHERE email = 'anne@exemple.fr'") == 1


def test_an_address_asking_too_often_is_told_to_wait(client, db):
    for n in range(20):
        assert _post(client, "/auth/oubli", {"email": f"x{n}@exemple.fr"}).status_code == 200
    refused = _post(client, "/auth/oubli", {"email": "x@exemple.fr"})
    assert refused.status_code == 429 and "réessayez dans 60 minutes" in refused.text
