"""Attacks on the payment routes (issue 13): a forged Host header must not choose the payment
addresses; a huge body is refused before it is read; a flood of forged notifications does not
bury the real payments in the journal."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from lib.services import payments, trail
from lib.services.demo_marks import SANDBOXES
from lib.web import payment_routes
from lib.web.routes import ROUTES, RequireLogin
from tests.conftest import login, run_coroutine
from tests.helpers import KEY, hidden_fields, post_login, unpaid_id
from tests.payment_providers import use_provider


@pytest.fixture(autouse=True)
def systempay_sandbox(demo_db):
    """These tests walk the Systempay test bank, the demo's second backend (PayFiP's: test_payment_payfip.py)."""
    use_provider(demo_db, *SANDBOXES["systempay"])


EVIL = "evil.example"


def app() -> Starlette:
    return Starlette(
        routes=[*ROUTES, *payment_routes.ROUTES, Route("/{page}", lambda r: PlainTextResponse("app"))],
        middleware=[Middleware(RequireLogin)],
    )


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
        back = client.post(
            "/paiement/sandbox/decision", data={"request": request_id, "decision": "pay"}, follow_redirects=False
        ).headers["location"]
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
    assert bank_posts == ["http://127.0.0.1:8501/paiement/notification"]  # the bank's POST target
    assert urlsplit(back).netloc == "127.0.0.1:8501"  # the browser's way back


def test_the_configured_origin_is_used_without_public_url(demo_db, bank_posts, monkeypatch):
    monkeypatch.setenv("PORTAIL_PUBLIC_URL", "https://portail.ma-ville.fr/")
    page, fields, back = pay_with_host(demo_db, EVIL)
    assert EVIL not in page and 'action="https://portail.ma-ville.fr/paiement/sandbox"' in page
    assert fields["vads_url_check"] == "https://portail.ma-ville.fr/paiement/notification"
    assert bank_posts == ["https://portail.ma-ville.fr/paiement/notification"]
    assert back.startswith("https://portail.ma-ville.fr/paiement/retour?")


# --- bodies too large ----------------------------------------------------------------------------

CHUNK = 64 * 1024


def post_raw(path: str, chunks: int, declared: int | None) -> tuple[int, str, int]:
    """POST `chunks` chunks of 64 KiB straight to the ASGI app (declaring `declared` bytes, or
    none: a chunked body); returns (status, text, how many chunks the app read)."""
    read = []

    async def receive():
        if len(read) < chunks:
            read.append(1)
            return {"type": "http.request", "body": b"a" * CHUNK, "more_body": len(read) < chunks}
        return {"type": "http.disconnect"}

    sent = []

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"127.0.0.1:8501"), (b"content-type", b"application/x-www-form-urlencoded")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": headers,
        "client": ("203.0.113.9", 4000),
        "server": ("127.0.0.1", 8501),
    }
    run_coroutine(app()(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body.decode(), len(read)


PATHS = ["/paiement/notification", "/paiement/sandbox", "/paiement/sandbox/decision"]


@pytest.mark.parametrize("path", PATHS)
def test_a_body_declared_too_large_is_refused_unread(demo_path, path):
    status, text, read = post_raw(path, chunks=40, declared=300 * 1024 * 1024)
    assert (status, read) == (413, 0)
    assert "Requête trop volumineuse" in unescape(text)


@pytest.mark.parametrize("path", PATHS)
def test_a_chunked_body_is_read_no_further_than_the_limit(demo_path, path):
    status, text, read = post_raw(path, chunks=40, declared=None)
    assert status == 413 and "Requête trop volumineuse" in unescape(text)
    assert read * CHUNK <= payment_routes.MAX_BODY + CHUNK  # stopped as soon as it went past


# --- a flood of forged notifications ---------------------------------------------------------------


def test_a_flood_of_forged_notifications_leaves_one_line_and_the_payments_findable(demo_db, bank_posts):
    forged = "vads_amount=8350&signature=x&vads_ctx_mode=TEST&vads_auth_result=00&vads_trans_date=1&vads_trans_id=a"
    with TestClient(app(), base_url="http://127.0.0.1:8501", client=("198.51.100.66", 5000)) as client:
        for _ in range(400):
            answer = client.post(
                "/paiement/notification", content=forged, headers={"content-type": "application/x-www-form-urlencoded"}
            )
            assert answer.status_code == 400
    assert demo_db.rows("SELECT entity, entity_id FROM audit_log WHERE action = 'payment.rejected'") == [
        ("address", "198.51.100.66")
    ]
    pay_with_host(demo_db, "127.0.0.1:8501")
    # « Paiements en ligne » in the journal: the payment, its start, then the flood on one line.
    lines = [
        line.what for line in trail.journal(demo_db, login(demo_db, "admin@demo.fr"), kind="Paiements en ligne").lines
    ]
    assert lines[0].startswith("Paiement en ligne reçu de 83,50") and lines[1].startswith("A commencé un paiement")
    assert len(lines) == 3 and "venant de 198.51.100.66 (avis de la banque)" in lines[2]
