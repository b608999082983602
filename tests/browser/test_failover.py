"""Failover, in Chromium: two replicas behind HAProxy on one PostgreSQL database (lib/tools/cluster.py,
what `make cluster` starts), with a PostgreSQL server and a demo town of the module's own.

A family logs in through the proxy and books a day; the replica serving it (HAProxy's SERVERID
cookie names it) is killed with SIGKILL; the page reconnects by itself to the other replica, still
logged in (no login form: the session lives in the database), and books another day there. Every
day the pages acknowledged is in the database."""

from __future__ import annotations

import re
from datetime import date

import pytest

from lib.store.db import close_database, open_database
from lib.tools import cluster, haproxy
from tests.browser.conftest import login, settle
from tests.browser.test_reservations import calendar_frame, click, open_reservations
from tests.conftest import DEMO_NOW, DEMO_TODAY

pytestmark = pytest.mark.browser
FAMILY = "famille004@demo.fr"


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory):
    if not haproxy.available():
        pytest.fail("HAProxy is needed (apt-get install haproxy; `make test` does it)")
    with cluster.running_cluster(
        2,
        directory=tmp_path_factory.mktemp("failover"),
        env={"PORTAIL_FROZEN_NOW": DEMO_NOW.isoformat()},
        today=DEMO_TODAY,
    ) as running:
        yield running


def serving_replica(page) -> str:
    found = [c["value"] for c in page.context.cookies() if c["name"] == "SERVERID"]
    assert len(found) == 1, page.context.cookies()
    return found[0]


def child_shown(page) -> str:
    heading = page.get_by_role("heading", name=re.compile("^Réservations de")).inner_text()
    return heading.removeprefix("Réservations de").strip()


def toggle_canteen(page, day: date) -> str:
    """Book or cancel the canteen on `day` from the December calendar's day panel; the state the
    page acknowledged (its « Réservations enregistrées » message)."""
    frame = calendar_frame(page, "Décembre 2026")
    frame.locator(f'.fc-daygrid-day[data-date="{day.isoformat()}"] .fc-event').first.click()
    settle(page)
    button = page.locator(f".st-key-resa_day_cantine_{day.isoformat()} button")
    label = button.inner_text().strip()
    button.click()
    settle(page)
    said = page.locator(".st-key-resa_day_panel").get_by_text(re.compile(r"annulé\(s\)|réservé\(s\)|attente"))
    said.wait_for()
    text = said.inner_text()
    if label == "Annuler ce jour":
        assert "annulé(s)" in text, text
        return "cancelled"
    return "waiting" if "attente" in text else "booked"


def stored_canteen(db_url: str, family_email: str, child: str, day: date) -> str | None:
    db = open_database(db_url)
    try:
        return db.value(
            "SELECT b.state FROM bookings b JOIN children c ON c.id = b.child_id"
            " JOIN users u ON u.family_id = c.family_id JOIN services s ON s.id = b.service_id"
            " WHERE u.email = ? AND c.first_name = ? AND s.code = 'cantine' AND b.day = ?",
            [family_email, child, day],
        )
    finally:
        close_database(db_url)


def test_the_page_moves_to_the_other_replica_still_logged_in_and_nothing_acknowledged_is_lost(two_replicas, page):
    base = two_replicas.url
    login(page, base, FAMILY)
    page.wait_for_url(base + "/")
    settle(page)  # the home page's run over before another page is asked for
    open_reservations(page, base)
    child = child_shown(page)
    click(page, "▶")  # December 2026
    first_day, second_day = date(2026, 12, 10), date(2026, 12, 11)
    acknowledged = {first_day: toggle_canteen(page, first_day)}
    serving = serving_replica(page)

    two_replicas.kill_replica(serving)
    # The websocket drops; Streamlit's page reconnects through the proxy, which sends it to the
    # other replica (the dead one refuses the connection, then is marked down: redispatch). The
    # new session opens the same page, for the same family: no login form.
    page.get_by_role("heading", name=re.compile("^Réservations de")).wait_for(timeout=90_000)
    settle(page)
    moved_to = serving_replica(page)
    assert moved_to != serving
    assert not page.get_by_label("Mot de passe").count()
    assert child_shown(page) == child
    click(page, "▶")
    acknowledged[second_day] = toggle_canteen(page, second_day)
    assert serving_replica(page) == moved_to

    for day, state in acknowledged.items():
        assert stored_canteen(two_replicas.db_url, FAMILY, child, day) == state, day
