"""Shared fixtures: every test works on a temporary database, never data/portail.duckdb."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from argon2 import profiles
from hypothesis import settings

from lib.domain.clock import PARIS
from lib.services import auth
from lib.store.db import close_database, open_database
from lib.tools.demo import build_demo
from tests import engines

# The demo is built for a fixed date so that the figures the tests read never move.
DEMO_TODAY = date(2026, 11, 27)
DEMO_NOW = datetime.combine(DEMO_TODAY, time(9, 30), PARIS)

# No time limit on a property test's example: the tests run in parallel on a machine that may be busy,
# and a result never depends on how long it took (a slow example is not a wrong one).
settings.register_profile("portail", deadline=None)
settings.load_profile("portail")


@pytest.fixture(scope="session", autouse=True)
def cheap_passwords():
    """Every password the tests' process hashes costs argon2's least (a check takes microseconds,
    not a tenth of a second), the demo template's included: autouse session fixtures run before it
    is built, and its copies serve the browser tests' servers, whose logins then check cheap hashes
    too. Checking reads the cost from the stored hash: the code path is the production one, whose
    cost stays lib/services/auth.py's (tests/services/test_auth.py proves it in a process of its own)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "PASSWORDS", auth.Passwords(profiles.CHEAPEST))
        yield


# The engine the store runs on in this test session: DuckDB (the default), or PostgreSQL with
# PORTAIL_TEST_ENGINE=postgresql (`make test` runs the store, service and web suites on both). On
# PostgreSQL the session starts its own server (tests/engines.py) and every test that asks for a
# database gets a new one, copied from a template as a DuckDB test copies a file.
ENGINE = engines.ENGINE


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (PostgreSQL sessions only): the URL of its `postgres` database."""
    if ENGINE != engines.POSTGRESQL:
        pytest.skip("PostgreSQL only (PORTAIL_TEST_ENGINE=postgresql)")
    with engines.local_server() as url:
        yield url


@pytest.fixture
def db_target(request, tmp_path: Path):
    """Where a test's own database goes: a file in tmp_path (DuckDB), or a new database's URL on the
    session's server (PostgreSQL), dropped after the test."""
    if ENGINE != engines.POSTGRESQL:
        yield tmp_path / "fresh.duckdb"
        return
    server = request.getfixturevalue("pg_server")
    target = engines.new_database(server)
    yield target
    close_database(target)
    engines.drop(target)


@pytest.fixture(scope="session")
def schema_template(request):
    """PostgreSQL: a database with the schema applied, copied by `fresh_db` (migrating takes a second)."""
    url = engines.new_database(request.getfixturevalue("pg_server"), "schema_template")
    open_database(url)
    close_database(url)
    return url


@pytest.fixture
def fresh_db(request, tmp_path: Path):
    """An empty database with the schema applied."""
    if ENGINE != engines.POSTGRESQL:
        path = tmp_path / "fresh.duckdb"
        yield open_database(path)
        close_database(path)
        return
    target = engines.copy(request.getfixturevalue("schema_template"), tmp_path)
    yield open_database(target)
    close_database(target)
    engines.drop(target)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, request):
    if ENGINE == engines.POSTGRESQL:
        url = engines.new_database(request.getfixturevalue("pg_server"), "demo_template")
        build_demo(url, DEMO_TODAY)
        return url
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, DEMO_TODAY)
    return path


@pytest.fixture
def demo_path(demo_template, tmp_path: Path, monkeypatch):
    """A private copy of the demo town (tests may write to it); PORTAIL_DB points at it: a file's
    path (DuckDB), or a database's URL (PostgreSQL)."""
    path = engines.copy(demo_template, tmp_path / "demo.duckdb")
    monkeypatch.setenv("PORTAIL_DB", str(path))
    monkeypatch.setenv("PORTAIL_FROZEN_NOW", DEMO_NOW.isoformat())
    if engines.is_url(path):
        monkeypatch.setenv("PORTAIL_MAIL_SINK_DIR", str(tmp_path / "demo-courriels"))
    yield path
    close_database(path)
    engines.drop(path)


@pytest.fixture
def demo_db(demo_path: Path):
    return open_database(demo_path)


@pytest.fixture(scope="session")
def town_template(tmp_path_factory, request):
    """The small town (tests/helpers.py's build_town), built once: (its file or URL, what it holds)."""
    from tests.helpers import build_town

    if ENGINE == engines.POSTGRESQL:
        path = engines.new_database(request.getfixturevalue("pg_server"), "town_template")
    else:
        path = tmp_path_factory.mktemp("town") / "town.duckdb"
    built = build_town(open_database(path))
    close_database(path)
    return path, built


@pytest.fixture
def town(town_template, tmp_path: Path, monkeypatch):
    """A private copy of the small town, open (tests may write to it); PORTAIL_DB points at it."""
    from dataclasses import replace

    template, built = town_template
    path = engines.copy(template, tmp_path / "town.duckdb")
    monkeypatch.setenv("PORTAIL_DB", str(path))
    monkeypatch.setenv("PORTAIL_FROZEN_NOW", DEMO_NOW.isoformat())
    yield replace(built, db=open_database(path))
    close_database(path)
    engines.drop(path)


def login(db, email: str):
    """The actor of a demo account (password "demo"), logged in at DEMO_NOW."""
    from lib.services import auth

    return auth.login(db, email, "demo", DEMO_NOW)[1]


@pytest.fixture
def parent(demo_db):
    return login(demo_db, "parent@demo.fr")


def booked_days(db, child_id: int, service_id: int, first: date, last: date) -> list[date]:
    """The days booked for a child and a service in [first, last], in day order."""
    return [
        d
        for (d,) in db.rows(
            "SELECT day FROM bookings WHERE child_id = ? AND service_id = ? AND state = 'booked' "
            "AND day BETWEEN ? AND ? ORDER BY day",
            [child_id, service_id, first, last],
        )
    ]


def run_coroutine(coroutine):
    """Run an ASGI call to its end from a test, on an event loop of its own in a worker thread:
    the session's Playwright browser keeps an event loop running in the main thread, where
    `asyncio.run` would refuse ("cannot be called from a running event loop")."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


class Sink:
    """The `smtp_sink` fixture: lib.mail.sink's server on 127.0.0.1, its Maildir in tmp_path."""

    def __init__(self, directory: Path):
        from lib.mail.sink import start_sink

        self.directory = directory
        self._controller = start_sink(directory)
        self.port = self._controller.port

    def messages(self) -> list:
        """Every message received (a resend of the same Message-ID included), as EmailMessage."""
        import email
        import mailbox
        from email.policy import default

        box = mailbox.Maildir(self.directory, create=True)
        return [email.message_from_bytes(box.get_bytes(key), policy=default) for key in sorted(box.keys())]

    def wait_for(self, to: str, timeout: float = 10):
        """The first message to `to`, polled for until `timeout` seconds have passed."""
        import time as clock

        deadline = clock.monotonic() + timeout
        while True:
            found = [m for m in self.messages() if to.lower() in str(m["To"]).lower()]
            if found:
                return found[0]
            if clock.monotonic() > deadline:
                raise AssertionError(f"no message to {to} within {timeout} s")
            clock.sleep(0.05)

    @staticmethod
    def link_in(msg) -> str:
        """The first web address of the message's text part."""
        import re

        found = re.search(r"https?://\S+", msg.get_body(preferencelist=("plain",)).get_content())
        assert found, "no link in the message"
        return found.group(0)

    def refuse(self, address: str, reply: str | None = None) -> None:
        """The server answers 550 (or `reply`) to this recipient from now on."""
        self._controller.handler.refuse(address, *([reply] if reply else []))

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def start_again(self) -> None:
        """Back on the same port, the same Maildir."""
        from lib.mail.sink import start_sink

        self._controller = start_sink(self.directory, self.port)


@pytest.fixture
def smtp_sink(tmp_path: Path):
    sink = Sink(tmp_path / "courriels-recus")
    yield sink
    sink.stop()
