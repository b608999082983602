"""The process's HTTP surface (lib/web/security.py): security headers on every answer and no
server banner, Streamlit's websocket only from the portal's own pages, its media files only with
a session, its metrics only for the administrator.

First through Starlette's test client (our routes and stand-ins for Streamlit's, behind the same
middleware as server.py), then against the real server (`streamlit run server.py`): only there
do Streamlit's own answers and uvicorn's banner exist."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import urllib.parse

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from lib.services import auth, payments
from lib.services.web_policy import ANY_HTTPS, LOOPBACK_HOSTS, WebPolicy, web_policy
from lib.web import accessibility_page, backup_routes, document, payment_routes, streamlit_files
from lib.web.routes import ROUTES, RequireLogin
from lib.web.security import SecurityHeaders, StreamlitDoors, content_security_policy, inline_scripts, server_error
from tests import engines
from tests.conftest import DEMO_NOW
from tests.serve import start_server, stop

PDF = b"%PDF-1.4 facture F-2026-000267"
SECURITY_HEADERS = {
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def _shell(_request):
    return HTMLResponse('<!doctype html><html lang="en"><head><title>Streamlit</title></head></html>')


def _file(_request):
    return Response(PDF, media_type="application/pdf")


def _boom(_request):
    raise RuntimeError("a bug")


async def _stream(websocket):
    await websocket.accept()
    await websocket.send_text("bonjour")
    await websocket.close()


@pytest.fixture
def client(demo_path, monkeypatch):
    monkeypatch.delenv(payments.PUBLIC_URL_ENV, raising=False)  # the demo: no public address
    stand_ins = [
        Route("/", _shell),
        Route("/{page}", _shell),
        Route("/static/js/index.js", lambda _r: PlainTextResponse("x", media_type="text/javascript")),
        Route("/_stcore/health", lambda _r: PlainTextResponse("ok")),
        Route("/_stcore/metrics", lambda _r: PlainTextResponse("session_events_total 3")),
        Route("/media/{name}", _file),
        Route("/paiement/bug", _boom),
        WebSocketRoute("/_stcore/stream", _stream),
    ]
    ours = [*ROUTES, *payment_routes.ROUTES, *accessibility_page.ROUTES, *backup_routes.ROUTES]
    app = Starlette(
        routes=[*ours, *stand_ins],
        middleware=[Middleware(SecurityHeaders), Middleware(StreamlitDoors), Middleware(RequireLogin)],
        exception_handlers={Exception: server_error},
    )
    with TestClient(app, base_url="http://127.0.0.1:8501", raise_server_exceptions=False) as c:
        yield c


def login(client, email: str) -> str:
    page = client.get("/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    answer = client.post(
        "/auth/login", data={"email": email, "password": "demo", "csrf": token}, follow_redirects=False
    )
    assert answer.status_code == 303
    return client.cookies[auth.SESSION_COOKIE]


def assert_secured(headers, what: str) -> None:
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy, what
    assert "'unsafe-eval'" not in policy and "script-src 'self' 'wasm-unsafe-eval' 'sha256-" in policy, what
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (what, name)
    assert "server" not in headers, what


def test_every_kind_of_answer_carries_the_headers(client):
    answers = {
        "login form": client.get("/connexion"),
        "redirect to the login form": client.get("/mes-factures", follow_redirects=False),
        "accessibility statement": client.get("/accessibilite"),
        "forged payment notification": client.post("/paiement/notification", content=b"vads_amount=1"),
        "sandbox bank": client.post("/paiement/sandbox", content=b"x=1"),
        "payment departure without a session": client.get("/paiement/depart?facture=1", follow_redirects=False),
        "not found": client.get("/component/inconnu/index.html"),
        "refused media": client.get("/media/facture.pdf"),
        "hidden metrics": client.get("/_stcore/metrics"),
        "Streamlit's health": client.get("/_stcore/health"),
        "our health check": client.get("/sante"),
        "script": client.get("/static/js/index.js"),
        "a bug": client.get("/paiement/bug"),
    }
    assert answers["not found"].status_code == 404
    assert answers["a bug"].status_code == 500 and "réessayez" in answers["a bug"].text
    for what, answer in answers.items():
        assert_secured(answer.headers, what)


def test_documents_may_post_forms_to_the_payment_provider_only(client, demo_db):
    # The demo's test bank is one of our routes, at the portal's own address (no public_url: the port served).
    assert "form-action 'self' http://127.0.0.1:8501;" in client.get("/connexion").headers["content-security-policy"]
    # A real Systempay account: eopayment's address for it, on documents.
    demo_db.write(
        lambda cur: cur.execute(
            "UPDATE settings SET value = CASE key WHEN 'payment_backend' THEN 'systempayv2' ELSE ? END "
            "WHERE key IN ('payment_backend', 'payment_options')",
            [json.dumps({"site_id": "12345678", "secret_test": "x", "signature_algo": "hmac_sha256"})],
        )
    )
    policy = client.get("/connexion").headers["content-security-policy"]
    assert "form-action 'self' https://paiement.systempay.fr;" in policy


@pytest.mark.parametrize(
    "backend, options, expected",
    [
        ("systempayv2", {"service_url": "/paiement/sandbox"}, ()),
        ("systempayv2", {}, ("https://paiement.systempay.fr",)),
        (
            "systempayv2",
            {"service_url": "https://paiement.ma-banque.fr:8443/vads-payment/"},
            ("https://paiement.ma-banque.fr:8443",),
        ),
        ("payzen", {}, ("https://secure.payzen.eu",)),
        ("paybox", {}, (ANY_HTTPS,)),  # eopayment does not publish Paybox's address
        ("no-such-backend", {}, ()),
    ],
)
def test_the_form_targets_follow_the_payment_settings(demo_db, monkeypatch, backend, options, expected):
    monkeypatch.delenv(payments.PUBLIC_URL_ENV, raising=False)
    demo_db.write(
        lambda cur: cur.execute(
            "UPDATE settings SET value = CASE key WHEN 'payment_backend' THEN ? ELSE ? END "
            "WHERE key IN ('payment_backend', 'payment_options')",
            [backend, json.dumps(options)],
        )
    )
    assert web_policy(demo_db).form_origins == expected


def test_the_test_bank_is_where_the_payments_send_the_form(demo_db, monkeypatch):
    """payments.portal_address: public_url, else PORTAIL_PUBLIC_URL, else the port this process serves on."""
    monkeypatch.delenv(payments.PUBLIC_URL_ENV, raising=False)
    assert web_policy(demo_db, 8501) == WebPolicy(LOOPBACK_HOSTS, ("http://127.0.0.1:8501",))
    assert web_policy(demo_db, None) == WebPolicy(LOOPBACK_HOSTS, ())  # a Unix socket: nothing can be paid
    monkeypatch.setenv(payments.PUBLIC_URL_ENV, "https://portail.ma-ville.fr/")
    assert web_policy(demo_db, 8501) == WebPolicy(
        LOOPBACK_HOSTS | {"portail.ma-ville.fr"}, ("https://portail.ma-ville.fr",)
    )
    demo_db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', 'https://Famille.Ma-Ville.fr/')"))
    assert web_policy(demo_db, 8501) == WebPolicy(
        LOOPBACK_HOSTS | {"famille.ma-ville.fr"}, ("https://famille.ma-ville.fr",)
    )


def test_only_our_own_inline_scripts_may_run():
    policy = content_security_policy()
    script = document.app_script()
    assert policy.count("'sha256-") >= 3
    for body in inline_scripts(script):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    shell = streamlit_files.index_html().read_text(encoding="utf-8")
    assert inline_scripts(shell), "Streamlit's shell has an inline script: its hash must be in the policy"
    for body in inline_scripts(shell):
        assert base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_media_files_need_a_session_and_die_with_it(client):
    assert client.get("/media/facture.pdf").status_code == 403  # nobody logged in
    token = login(client, "parent@demo.fr")
    answer = client.get("/media/facture.pdf")
    assert answer.status_code == 200 and answer.content == PDF
    assert answer.headers["cache-control"] == "private, no-store"
    client.get(f"/auth/logout?code={auth.logout_code(token)}", follow_redirects=False)
    assert auth.SESSION_COOKIE not in client.cookies
    client.cookies.set(auth.SESSION_COOKIE, token)  # the old cookie, kept by someone
    refused = client.get("/media/facture.pdf")
    assert refused.status_code == 403 and "reconnectez-vous" in refused.text and PDF not in refused.content
    client.cookies.set(auth.SESSION_COOKIE, "forged")
    assert client.get("/media/facture.pdf").status_code == 403


@pytest.mark.parametrize(
    "email, status", [(None, 404), ("parent@demo.fr", 404), ("agent@demo.fr", 404), ("admin@demo.fr", 200)]
)
def test_metrics_are_for_the_administrator(client, email, status):
    if email:
        login(client, email)
    assert client.get("/_stcore/metrics").status_code == status


def _connect(client, **headers):
    with client.websocket_connect("/_stcore/stream", headers=headers) as socket:
        return socket.receive_text()


@pytest.mark.parametrize(
    "host, origin",
    [
        ("127.0.0.1:8501", "http://localhost:3000"),  # another local application's page
        ("127.0.0.1:8501", "http://127.0.0.1:9999"),  # another port of the same machine
        ("127.0.0.1:8501", "https://evil.example"),
        ("127.0.0.1:8501", "null"),  # a sandboxed frame
        ("evil.example:8501", "http://evil.example:8501"),  # DNS rebinding: the attacker's name for our address
        ("evil.example:8501", None),
    ],
)
def test_the_websocket_refuses_foreign_origins_and_hosts(client, host, origin):
    headers = {"host": host} | ({"origin": origin} if origin else {})
    with pytest.raises(WebSocketDisconnect) as refused:
        _connect(client, **headers)
    assert refused.value.code == 1008


def test_the_websocket_admits_the_portals_own_pages(client, demo_db):
    assert _connect(client, host="127.0.0.1:8501", origin="http://127.0.0.1:8501") == "bonjour"
    assert _connect(client, host="localhost:8501", origin="http://localhost:8501") == "bonjour"
    assert _connect(client, host="127.0.0.1:8501") == "bonjour"  # no Origin: not a browser page
    with pytest.raises(WebSocketDisconnect):
        _connect(client, host="famille.ma-ville.fr", origin="https://famille.ma-ville.fr")
    demo_db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', 'https://Famille.Ma-Ville.fr/')"))
    assert _connect(client, host="famille.ma-ville.fr", origin="https://famille.ma-ville.fr") == "bonjour"
    with pytest.raises(WebSocketDisconnect):  # the public host, from a page of another site
        _connect(client, host="famille.ma-ville.fr", origin="https://evil.example")


# --- the real server ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_server(demo_template, tmp_path_factory):
    directory = tmp_path_factory.mktemp("security")
    path = engines.copy(demo_template, directory / "portail.duckdb")  # a file, or a database on the server
    proc, base = start_server(path, directory / "portail.log", frozen_now=DEMO_NOW.isoformat(), timeout_s=90)
    yield urllib.parse.urlsplit(base).netloc
    stop(proc)
    engines.drop(path)


def _request(netloc: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection(netloc, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        answer.read()
        return answer.status, {name.lower(): value for name, value in answer.getheaders()}, answer.getheaders()
    finally:
        connection.close()


@pytest.mark.slow
def test_the_real_server_secures_every_answer_and_hides_its_name(real_server):
    shell = streamlit_files.index_html().read_text(encoding="utf-8")
    bundle = re.search(r'src="\./(static/js/index\.[^"]+\.js)"', shell)[1]
    answers = {
        "Streamlit's shell": ("GET", "/", None),  # redirected to the login form
        "Streamlit's bundle": ("GET", "/" + bundle, None),
        "Streamlit's health": ("GET", "/_stcore/health", None),
        "our health check": ("GET", "/sante", None),
        "Streamlit's host config": ("GET", "/_stcore/host-config", None),
        "the favicon": ("GET", "/favicon.png", None),
        "the login form": ("GET", "/connexion", None),
        "a 404": ("GET", "/component/inconnu/index.html", None),
        "a forged payment notification": ("POST", "/paiement/notification", b"vads_amount=1"),
        "the test bank": ("POST", "/paiement/sandbox", b"vads_amount=1"),
        "a media file without a session": ("GET", "/media/0123456789abcdef.pdf", None),
        "the metrics": ("GET", "/_stcore/metrics", None),
    }
    for what, (method, path, body) in answers.items():
        status, headers, raw = _request(real_server, method, path, body)
        assert status < 500, what
        assert_secured(headers, what)
        assert not [name for name, _ in raw if name.lower() == "server"], what
    assert _request(real_server, "GET", "/component/inconnu/index.html")[0] == 404
    assert _request(real_server, "GET", "/media/0123456789abcdef.pdf")[0] == 403
    assert _request(real_server, "GET", "/_stcore/metrics")[0] == 404


def _handshake(netloc: str, origin: str | None, host: str | None = None) -> int:
    """The status of a websocket handshake (101: accepted; uvicorn's own answer either way)."""
    headers = {
        "Host": host or netloc,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(b"portail-famille!").decode(),
        "Sec-WebSocket-Version": "13",
    }
    if origin:
        headers["Origin"] = origin
    status, answer_headers, _raw = _request(netloc, "GET", "/_stcore/stream", headers=headers)
    assert "server" not in answer_headers
    return status


@pytest.mark.slow
def test_the_real_websocket_takes_only_the_portals_own_pages(real_server):
    port = real_server.rsplit(":", 1)[1]
    assert _handshake(real_server, f"http://{real_server}") == 101
    # Streamlit alone admits these two: any port of localhost, any Host.
    assert _handshake(real_server, "http://localhost:3000") == 403
    assert _handshake(real_server, f"http://rebound.example:{port}", host=f"rebound.example:{port}") == 403
