"""Shared fixtures: every test works on a temporary database, never data/portail.duckdb."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path

import pytest
from argon2 import profiles

from lib.domain.clock import PARIS
from lib.services import auth
from lib.store.db import close_database, open_database
from lib.tools.demo import build_demo

# The demo is built for a fixed date so that the figures the tests read never move.
DEMO_TODAY = date(2026, 11, 27)
DEMO_NOW = datetime.combine(DEMO_TODAY, time(9, 30), PARIS)


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


@pytest.fixture
def fresh_db(tmp_path: Path):
    """An empty database with the schema applied."""
    path = tmp_path / "fresh.duckdb"
    db = open_database(path)
    yield db
    close_database(path)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, DEMO_TODAY)
    return path


@pytest.fixture
def demo_path(demo_template: Path, tmp_path: Path, monkeypatch) -> Path:
    """A private copy of the demo town (tests may write to it); PORTAIL_DB points at it."""
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_template, path)
    monkeypatch.setenv("PORTAIL_DB", str(path))
    monkeypatch.setenv("PORTAIL_FROZEN_NOW", DEMO_NOW.isoformat())
    yield path
    close_database(path)


@pytest.fixture
def demo_db(demo_path: Path):
    return open_database(demo_path)


@pytest.fixture(scope="session")
def town_template(tmp_path_factory):
    """The small town (tests/helpers.py's build_town), built once: (its file, what it holds)."""
    from tests.helpers import build_town

    path = tmp_path_factory.mktemp("town") / "town.duckdb"
    built = build_town(open_database(path))
    close_database(path)
    return path, built


@pytest.fixture
def town(town_template, tmp_path: Path, monkeypatch):
    """A private copy of the small town, open (tests may write to it); PORTAIL_DB points at it."""
    from dataclasses import replace

    template, built = town_template
    path = tmp_path / "town.duckdb"
    shutil.copyfile(template, path)
    monkeypatch.setenv("PORTAIL_DB", str(path))
    monkeypatch.setenv("PORTAIL_FROZEN_NOW", DEMO_NOW.isoformat())
    yield replace(built, db=open_database(path))
    close_database(path)


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
