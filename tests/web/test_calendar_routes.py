"""GET /calendrier/<jeton>.ics, through the same guard and security headers as server.py, on the
small town (tests/helpers.py): what a phone's calendar application receives."""

import logging
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from lib.services import calendar_feeds, reservations
from lib.store.db import close_database, open_database
from lib.web import calendar_routes
from lib.web.routes import ROUTES, RequireLogin
from lib.web.security import SecurityHeaders
from tests import engines
from tests.conftest import DEMO_NOW
from tests.serve import start_server, stop


@pytest.fixture
def town(town, monkeypatch):
    monkeypatch.delenv("PORTAIL_PUBLIC_URL", raising=False)
    town.db.write(
        lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', 'https://famille.petite-ville.test')")
    )
    return town


@pytest.fixture
def client(town):
    app = Starlette(
        routes=[*ROUTES, *calendar_routes.ROUTES],
        middleware=[Middleware(SecurityHeaders), Middleware(RequireLogin)],
    )
    with TestClient(app, base_url="http://127.0.0.1:8501") as c:
        yield c


@pytest.fixture
def parent(town):
    return town.login(town.parent_a)


@pytest.fixture
def token(town, parent):
    return calendar_feeds.create(town.db, parent, town.child_a, DEMO_NOW)


def path(token: str) -> str:
    return f"/calendrier/{token}.ics"


def days(response) -> set[date]:
    return {e["dtstart"].dt for e in Calendar.from_ical(response.content).walk("VEVENT")}


def test_a_phone_reads_the_feed_without_a_session(client, token):
    response = client.get(path(token), follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, max-age=900"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in response.headers
    assert response.content.startswith(b"BEGIN:VCALENDAR")
    assert date(2026, 12, 1) in days(response)


def test_unknown_and_revoked_links_get_the_same_404(client, town, parent, token):
    unknown = client.get(path("n-importe-quoi"), follow_redirects=False)
    calendar_feeds.revoke(town.db, parent, town.child_a, DEMO_NOW)
    revoked = client.get(path(token), follow_redirects=False)
    for response in (unknown, revoked):
        assert response.status_code == 404
        assert "set-cookie" not in response.headers
        assert response.headers["referrer-policy"] == "no-referrer"
    assert revoked.content == unknown.content and "introuvable" in revoked.text
    assert {k: v for k, v in revoked.headers.items() if k != "content-length"} == {
        k: v for k, v in unknown.headers.items() if k != "content-length"
    }


def test_a_replaced_link_answers_404_and_the_new_one_200(client, town, parent, token):
    new = calendar_feeds.replace(town.db, parent, town.child_a, DEMO_NOW)
    assert client.get(path(token)).status_code == 404
    assert client.get(path(new)).status_code == 200


def test_a_cancelled_day_leaves_the_feed(client, town, parent, token):
    tuesday = date(2026, 12, 8)
    assert tuesday in days(client.get(path(token)))
    ctx = reservations.booking_context(town.db, parent, town.child_a, town.school_year)
    reservations.set_day(town.db, parent, ctx, town.canteen, tuesday, False, DEMO_NOW)
    after = client.get(path(token))
    assert tuesday not in days(after)
    assert {tuesday - timedelta(days=1), tuesday + timedelta(days=2)} <= days(after)  # Monday and Thursday stay


def test_only_get_reads_a_feed(client, token):
    assert client.post(path(token)).status_code == 405


def test_the_token_is_in_no_log_line_of_ours(client, town, parent, token, caplog):
    with caplog.at_level(logging.DEBUG):
        client.get(path(token))
        calendar_feeds.revoke(town.db, parent, town.child_a, DEMO_NOW)
        client.get(path(token))
    # The test client (httpx) logs the URLs it asks for: that line is the test's, not the server's.
    assert any(token in r.getMessage() for r in caplog.records if r.name.startswith("httpx"))
    assert [r.getMessage() for r in caplog.records if not r.name.startswith("httpx") and token in r.getMessage()] == []


def test_the_real_server_serves_the_feed_and_logs_no_token(town_template, tmp_path):
    """`streamlit run server.py`: the route is registered, public, and its path is in no line the
    server prints (Streamlit's uvicorn runs without an access log)."""
    path_ = engines.copy(town_template[0], tmp_path / "portail.duckdb")  # a file, or a database on the server
    built = replace(town_template[1], db=open_database(path_))
    built.db.write(
        lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', 'https://famille.petite-ville.test')")
    )
    secret = calendar_feeds.create(built.db, built.login(built.parent_a), built.child_a, DEMO_NOW)
    close_database(path_)
    log = tmp_path / "server.log"
    proc, base = start_server(path_, log, frozen_now=DEMO_NOW.isoformat(), timeout_s=90)
    try:
        with urllib.request.urlopen(f"{base}{path(secret)}", timeout=30) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
            assert answer.headers["Referrer-Policy"] == "no-referrer"
            assert answer.headers.get("Set-Cookie") is None
            assert b"Alice : cantine" in answer.read()
        with pytest.raises(urllib.error.HTTPError) as unknown:
            urllib.request.urlopen(f"{base}{path(secret[::-1])}", timeout=30)
        assert unknown.value.code == 404
    finally:
        stop(proc)
        engines.drop(path_)
    assert "calendrier" not in log.read_text() and secret not in log.read_text()
