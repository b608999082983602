"""Attacks on the payment routes (issue 13): a forged Host header must not choose the payment
addresses."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from lib.services import payments
from lib.web import payment_routes
from lib.web.routes import ROUTES, RequireLogin
from tests.web.test_login_routes import post_login
from tests.web.test_payment_routes import KEY, hidden_fields, unpaid_id

EVIL = "evil.example"


def app() -> Starlette:
    return Starlette(routes=[*ROUTES, *payment_routes.ROUTES, Route("/{page}", lambda r: PlainTextResponse("app"))],
                     middleware=[Middleware(RequireLogin)])


@pytest.fixture
def bank_posts(monkeypatch):
    """The addresses the test bank's server-side notification is posted to."""
    posted = []
    monkeypatch.setattr(payment_routes, "_notify", lambda url, query: posted.append(url))
    return posted


def pay_with_host(demo_db, host: str) -> tuple[str, dict, str]:
    """The whole round trip, paid, with every request naming `host`: (the departure page, the
    signed fields, where the bank sends the browser back)."""
    with TestClient(app(), base_url="http://127.0.0.1:8501", headers={"host": host}) as client:
        post_login(client, "parent@demo.fr", "demo")
        depart = client.get(payments.departure_link(client.cookies["pf_session"], unpaid_id(demo_db), KEY))
        assert depart.status_code == 200
        fields = hidden_fields(depart.text)
        bank = client.post("/paiement/sandbox", data=fields)
        request_id = re.search(r'name="request" value="([^"]+)"', bank.text)[1]
        back = client.post("/paiement/sandbox/decision", data={"request": request_id, "decision": "pay"},
                           follow_redirects=False).headers["location"]
        returned = client.get(urlsplit(back)._replace(scheme="", netloc="").geturl(), follow_redirects=False)
        assert returned.headers["location"].startswith("/mes-factures?transaction=")
        return unescape(depart.text), fields, back


def test_a_forged_host_header_gets_no_payment_address(demo_db, bank_posts, monkeypatch):
    monkeypatch.delenv("PORTAIL_PUBLIC_URL", raising=False)
    page, fields, back = pay_with_host(demo_db, EVIL)
    assert EVIL not in page and not any(EVIL in v for v in fields.values())
    assert 'action="http://127.0.0.1:8501/paiement/sandbox"' in page
    assert fields["vads_url_return"] == "http://127.0.0.1:8501/paiement/retour"
    assert fields["vads_url_check"] == "http://127.0.0.1:8501/paiement/notification"
    assert bank_posts == ["http://127.0.0.1:8501/paiement/notification"]     # the bank's POST target
    assert urlsplit(back).netloc == "127.0.0.1:8501"                          # the browser's way back


def test_the_configured_origin_is_used_without_public_url(demo_db, bank_posts, monkeypatch):
    monkeypatch.setenv("PORTAIL_PUBLIC_URL", "https://portail.ma-ville.fr/")
    page, fields, back = pay_with_host(demo_db, EVIL)
    assert EVIL not in page and 'action="https://portail.ma-ville.fr/paiement/sandbox"' in page
    assert fields["vads_url_check"] == "https://portail.ma-ville.fr/paiement/notification"
    assert bank_posts == ["https://portail.ma-ville.fr/paiement/notification"]
    assert back.startswith("https://portail.ma-ville.fr/paiement/retour?")
