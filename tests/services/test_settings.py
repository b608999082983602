from datetime import date, time

import pytest

from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.services import reservations as r
from lib.services import settings
from tests.conftest import DEMO_NOW, login


def values(**change):
    base = {
        "unit_price_cents": 350,
        "book_delay_days": 7,
        "book_delay_working": False,
        "cancel_delay_days": 2,
        "cancel_delay_working": True,
        "cutoff_time": time(23, 59),
        "now": DEMO_NOW,
    }
    base.update(change)
    return base


def test_admin_changes_a_deadline_and_the_calendar_follows(demo_db):
    admin, parent = login(demo_db, "admin@demo.fr"), login(demo_db, "parent@demo.fr")
    ctx = r.booking_context(demo_db, parent, 1, 2026)
    cell = next(
        c for c in r.month_cells(demo_db, parent, ctx, date(2026, 12, 1), DEMO_NOW) if c.day == date(2026, 12, 1)
    )
    assert not cell.locked
    settings.update_service(demo_db, admin, 1, **values(cancel_delay_days=5, cutoff_time=time(10, 0)))
    ctx = r.booking_context(demo_db, parent, 1, 2026)
    cell = next(
        c for c in r.month_cells(demo_db, parent, ctx, date(2026, 12, 1), DEMO_NOW) if c.day == date(2026, 12, 1)
    )
    assert cell.locked
    entry = demo_db.dicts("SELECT * FROM audit_log WHERE action = 'service.update'")[0]
    assert entry["user_id"] == admin.user_id and '"cancel_delay_days": 2' in entry["before"]
    assert '"cancel_delay_days": 5' in entry["after"]


@pytest.mark.parametrize(
    "change, words",
    [
        ({"unit_price_cents": -1}, "Prix unitaire"),
        ({"unit_price_cents": 1_000_000}, "Prix unitaire"),
        ({"unit_price_cents": 3.5}, "Prix unitaire"),
        ({"book_delay_days": 61}, "Délai de réservation"),
        ({"cancel_delay_days": -2}, "Délai d'annulation"),
        ({"cancel_delay_days": "2"}, "Délai d'annulation"),
        ({"cutoff_time": "23:59"}, "Heure limite"),
    ],
)
def test_bad_settings_change_nothing(demo_db, change, words):
    admin = login(demo_db, "admin@demo.fr")
    before = demo_db.rows("SELECT * FROM services ORDER BY id"), demo_db.value("SELECT count(*) FROM audit_log")
    with pytest.raises(InvalidInput, match=words):
        settings.update_service(demo_db, admin, 1, **values(**change))
    assert (
        demo_db.rows("SELECT * FROM services ORDER BY id"),
        demo_db.value("SELECT count(*) FROM audit_log"),
    ) == before


def test_capacity_and_unknown_targets(demo_db):
    admin = login(demo_db, "admin@demo.fr")
    settings.set_capacity(demo_db, admin, 1, 1, 90, DEMO_NOW)
    assert demo_db.value("SELECT capacity FROM site_services WHERE site_id = 1 AND service_id = 1") == 90
    with pytest.raises(NotFound):
        settings.set_capacity(demo_db, admin, 1, 3, 10, DEMO_NOW)  # the maternelle gives no Wednesday afternoon
    with pytest.raises(InvalidInput):
        settings.set_capacity(demo_db, admin, 1, 1, -5, DEMO_NOW)
    with pytest.raises(NotFound):
        settings.update_service(demo_db, admin, 99, **values())


@pytest.mark.parametrize("email", ["parent@demo.fr", "agent@demo.fr", "cuisine@demo.fr", "maire@demo.fr"])
def test_only_the_administrator_edits_settings(demo_db, email):
    who = login(demo_db, email)
    for call in (
        lambda: settings.services(demo_db, who),
        lambda: settings.update_service(demo_db, who, 1, **values()),
        lambda: settings.set_capacity(demo_db, who, 1, 1, 10, DEMO_NOW),
    ):
        with pytest.raises(NotAllowed):
            call()
