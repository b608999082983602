"""The French document middleware (lang="fr", tab title) and the public accessibility statement."""

from html import escape

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from lib.domain import accessibility as a11y
from lib.web import accessibility_page
from lib.web.document import FrenchDocument, frenchify
from lib.web.routes import ROUTES, RequireLogin

SHELL = (
    '<!doctype html><html lang="en"><head><title>Streamlit</title></head><body>'
    '<noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div></body></html>'
)


def shell(_request):
    return HTMLResponse(SHELL)


def script(_request):
    return PlainTextResponse('console.log("<html lang=\\"en\\">")', media_type="application/javascript")


@pytest.fixture
def client(demo_path):
    app = Starlette(
        routes=[
            *ROUTES,
            *accessibility_page.ROUTES,
            Route("/", shell),
            Route("/{page}", shell),
            Route("/static/app.js", script),
            Route("/component/cal/index.html", shell),
        ],
        middleware=[Middleware(FrenchDocument), Middleware(RequireLogin)],
    )
    with TestClient(app, base_url="http://127.0.0.1:8501") as c:
        yield c


def test_frenchify_declares_french_and_names_the_tab():
    html = frenchify(SHELL.encode()).decode()
    assert '<html lang="fr">' in html and 'lang="en"' not in html
    assert "<title>Portail Famille</title>" in html and "min-height: 44px" in html
    assert "<noscript>Le Portail Famille a besoin de JavaScript" in html
    assert frenchify(b"<html><body>x</body></html>") == b'<html lang="fr"><body>x</body></html>'


def test_streamlit_shell_and_component_frames_are_served_in_french(client, demo_db):
    page = client.get("/connexion")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    client.post(
        "/auth/login", data={"email": "parent@demo.fr", "password": "demo", "csrf": token}, follow_redirects=False
    )
    for path in ("/", "/mes-factures", "/component/cal/index.html"):
        answer = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200
        assert '<html lang="fr">' in answer.text, path
        assert int(answer.headers["content-length"]) == len(answer.content)
    # Scripts and other files pass untouched.
    assert 'lang=\\"en\\"' in client.get("/static/app.js").text


def test_the_statement_is_public_and_linked_from_the_login_page(client):
    login = client.get("/connexion")
    assert f'href="{a11y.STATEMENT_PATH}"' in login.text and "Accessibilité : partiellement conforme" in login.text
    page = client.get(a11y.STATEMENT_PATH, follow_redirects=False)
    assert page.status_code == 200  # no login asked
    text = page.text
    assert '<html lang="fr">' in text and "<title>Déclaration d&#x27;accessibilité – Portail Famille</title>" in text
    assert f"<strong>{a11y.LEVEL}</strong>" in text and "RGAA" in text and "vendredi 27 novembre 2026" in text
    for barrier in a11y.KNOWN_BARRIERS:
        assert escape(barrier.what) in text and escape(barrier.workaround) in text
    assert "mailto:inscriptions@belcastel-demo.fr" in text and "Défenseur des droits" in text


def test_the_statement_without_a_contact_email_still_says_how_to_report(client, demo_db):
    demo_db.write(lambda con: con.execute("UPDATE settings SET value = '' WHERE key = 'contact_email'"))
    text = client.get(a11y.STATEMENT_PATH).text
    assert "mailto:" not in text and "contactez le service éducation" in text
