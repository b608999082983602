"""Failover, in Chromium: two replicas behind HAProxy on one PostgreSQL database (lib/tools/cluster.py,
what `make cluster` starts), with a PostgreSQL server and a demo town of the module's own.

A family logs in through the proxy and books a day; the replica serving it (HAProxy's SERVERID
cookie names it) is killed with SIGKILL; the page reconnects by itself to the other replica, still
logged in (no login form: the session lives in the database), and books another day there. Every
day the pages acknowledged is in the database. And a payment notification is recorded once,
whichever replica it reaches."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lib.services import auth, payments
from lib.services.demo_marks import SANDBOXES
from lib.store.db import close_database, open_database
from lib.tools import cluster, haproxy
from tests.browser.conftest import login, settle
from tests.conftest import DEMO_NOW, DEMO_TODAY
from tests.helpers import KEY, hidden_fields, unpaid_id
from tests.payment_providers import use_provider

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


def open_reservations(page, base: str) -> None:
    page.goto(base + "/mes-inscriptions")
    page.get_by_role("heading", name=re.compile("Réservations de")).wait_for()


def click(page, name: str) -> None:
    settle(page)
    page.get_by_role("button", name=name, exact=True).click()
    settle(page)


def calendar_frame(page, month_title: str):
    # While Streamlit swaps months, the old calendar frame lingers with height 0: take the visible one.
    settle(page)
    frame = page.locator("iframe[title='streamlit_calendar.calendar'] >> visible=true").content_frame
    frame.locator(".fc-toolbar-title", has_text=month_title).wait_for()
    return frame


def serving_replica(page) -> str:
    found = [c["value"] for c in page.context.cookies() if c["name"] == "SERVERID"]
    assert len(found) == 1, page.context.cookies()
    return found[0]


def show_december(page) -> None:
    """« ▶ » from November to December 2026 (clicked again if a click landed while the page was
    still reconnecting and was lost)."""
    for _ in range(3):
        click(page, "▶")
        title = page.locator("iframe[title='streamlit_calendar.calendar'] >> visible=true").content_frame.locator(
            ".fc-toolbar-title", has_text="Décembre 2026"
        )
        try:
            title.wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the calendar did not move to December 2026")


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
    settle(page)
    if page.get_by_text("Page not found").count():  # Streamlit's box, seen once in a while right after login
        page.reload()
        open_reservations(page, base)
    child = child_shown(page)
    show_december(page)
    first_day, second_day = date(2026, 12, 10), date(2026, 12, 11)
    acknowledged = {first_day: toggle_canteen(page, first_day)}
    serving = serving_replica(page)

    two_replicas.kill_replica(serving)
    # The websocket drops; Streamlit's page reconnects through the proxy, which sends it to the
    # other replica (the dead one refuses the connection, then is marked down: redispatch). The
    # new session opens the same page, for the same family: no login form.
    for _ in range(180):  # the page keeps its last view while it reconnects: wait for the other replica
        if serving_replica(page) != serving:
            break
        page.wait_for_timeout(500)
    moved_to = serving_replica(page)
    assert moved_to != serving
    page.get_by_role("heading", name=re.compile("^Réservations de")).wait_for(timeout=90_000)
    settle(page)
    assert not page.get_by_label("Mot de passe").count()
    assert child_shown(page) == child
    show_december(page)
    acknowledged[second_day] = toggle_canteen(page, second_day)
    assert serving_replica(page) == moved_to

    for day, state in acknowledged.items():
        assert stored_canteen(two_replicas.db_url, FAMILY, child, day) == state, day


def test_a_payment_notification_is_recorded_whichever_replica_it_reaches(two_replicas):
    """The test bank (Systempay's sandbox) pays an invoice: its notification comes back through the
    proxy (no stickiness cookie: any replica) and is recorded once; the same notification posted to
    each replica directly is accepted by both and records nothing more (the database decides)."""
    for replica in two_replicas.replicas:  # both running (the failover test kills one)
        two_replicas.restart_replica(replica.name)
    db = open_database(two_replicas.db_url)
    try:
        use_provider(db, *SANDBOXES["systempay"])
        invoice = unpaid_id(db)
        payments_before = db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [invoice])
    finally:
        close_database(two_replicas.db_url)
    base = two_replicas.url
    with requests.Session() as client:
        form = client.get(base + "/connexion")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
        logged = client.post(
            base + "/auth/login",
            data={"email": "parent@demo.fr", "password": "demo", "csrf": token},
            allow_redirects=False,
        )
        assert logged.status_code == 303
        session = client.cookies[auth.SESSION_COOKIE]
        depart = client.get(base + payments.departure_link(session, invoice, KEY))
        assert depart.status_code == 200 and f'action="{base}/paiement/sandbox"' in depart.text
        bank = client.post(base + "/paiement/sandbox", data=hidden_fields(depart.text))
        request_id = re.search(r'name="request" value="([^"]+)"', bank.text)[1]
        back = client.post(
            base + "/paiement/sandbox/decision", data={"request": request_id, "decision": "pay"}, allow_redirects=False
        )
        assert back.status_code == 303
    query = urlsplit(back.headers["location"]).query  # what the notification said, signed by the bank

    def recorded() -> int:
        db = open_database(two_replicas.db_url)
        try:
            return db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [invoice]) - payments_before
        finally:
            close_database(two_replicas.db_url)

    assert recorded() == 1  # the notification, through the proxy, before the browser's return
    for replica in two_replicas.replica_urls:
        again = requests.post(
            replica + "/paiement/notification",
            data=query,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=60,
        )
        assert again.status_code == 200, (replica, again.text)
    assert recorded() == 1
