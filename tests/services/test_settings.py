from datetime import date, time

import pytest

from lib.domain.deadlines import DeadlinePassed, deadline_rule
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.services import reservations as r
from lib.services import settings
from tests.conftest import DEMO_NOW, login


def save(db, who, service_id=1, **change):
    """`update_service` as the page calls it: the form's values, each rule read by `deadline_rule`."""
    typed = {
        "unit_price_cents": 350,
        "book_delay_days": 7,
        "book_delay_working": False,
        "book_cutoff_time": time(23, 59),
        "cancel_delay_days": 2,
        "cancel_delay_working": True,
        "cancel_cutoff_time": time(23, 59),
    }
    typed.update(change)
    return settings.update_service(
        db,
        who,
        service_id,
        unit_price_cents=typed["unit_price_cents"],
        book=deadline_rule(
            typed["book_delay_days"], typed["book_delay_working"], typed["book_cutoff_time"], of="de réservation"
        ),
        cancel=deadline_rule(
            typed["cancel_delay_days"], typed["cancel_delay_working"], typed["cancel_cutoff_time"], of="d'annulation"
        ),
        now=DEMO_NOW,
    )


def test_admin_changes_a_deadline_and_the_calendar_follows(demo_db):
    admin, parent = login(demo_db, "admin@demo.fr"), login(demo_db, "parent@demo.fr")
    ctx = r.booking_context(demo_db, parent, 1, 2026)
    cell = next(
        c for c in r.month_cells(demo_db, parent, ctx, date(2026, 12, 1), DEMO_NOW) if c.day == date(2026, 12, 1)
    )
    assert not cell.locked
    save(demo_db, admin, cancel_delay_days=5, cancel_cutoff_time=time(10, 0))
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
        ({"book_cutoff_time": "23:59"}, "Heure limite de réservation"),
        ({"cancel_cutoff_time": None}, "Heure limite d'annulation"),
    ],
)
def test_bad_settings_change_nothing(demo_db, change, words):
    admin = login(demo_db, "admin@demo.fr")
    before = demo_db.rows("SELECT * FROM services ORDER BY id"), demo_db.value("SELECT count(*) FROM audit_log")
    with pytest.raises(InvalidInput, match=words):
        save(demo_db, admin, **change)
    assert (
        demo_db.rows("SELECT * FROM services ORDER BY id"),
        demo_db.value("SELECT count(*) FROM audit_log"),
    ) == before


@pytest.mark.parametrize(
    "book_cutoff, cancel_cutoff, refused",
    [
        (
            time(23, 59),
            time(18, 0),
            "Annulation impossible pour le mardi 1 décembre 2026 : "
            "la limite était le vendredi 27 novembre 2026 à 18 h 00.",
        ),
        (
            time(18, 0),
            time(23, 59),
            "Réservation impossible pour le vendredi 4 décembre 2026 : "
            "la limite était le vendredi 27 novembre 2026 à 18 h 00.",
        ),
    ],
)
def test_each_rule_keeps_its_own_cutoff_in_the_calendar(demo_db, book_cutoff, cancel_cutoff, refused):
    """At 20:00 on Friday 27 November, the last day for both rules, the rule whose cut-off was 18:00
    refuses and the other one (23:59) still lets the family act."""
    admin, parent = login(demo_db, "admin@demo.fr"), login(demo_db, "parent@demo.fr")
    ctx = r.booking_context(demo_db, parent, 1, 2026)
    r.set_day(demo_db, parent, ctx, 1, date(2026, 12, 4), False, DEMO_NOW)  # free Friday 4 to book it again
    save(demo_db, admin, book_cutoff_time=book_cutoff, cancel_cutoff_time=cancel_cutoff)
    ctx = r.booking_context(demo_db, parent, 1, 2026)
    evening = DEMO_NOW.replace(hour=20, minute=0)
    refusals = []
    for day, booked in ((date(2026, 12, 4), True), (date(2026, 12, 1), False)):  # book Friday 4, cancel Tuesday 1
        try:
            r.set_day(demo_db, parent, ctx, 1, day, booked, evening)
        except DeadlinePassed as refusal:
            refusals.append(refusal.message)
    assert refusals == [refused]
    states = demo_db.rows(
        "SELECT day, state FROM bookings WHERE child_id = 1 AND service_id = 1 AND day IN ('2026-12-01', '2026-12-04')"
        " ORDER BY day"
    )
    assert states == [
        (date(2026, 12, 1), "booked" if cancel_cutoff < evening.time() else "cancelled"),
        (date(2026, 12, 4), "booked" if book_cutoff > evening.time() else "cancelled"),
    ]


def test_capacity_and_unknown_targets(demo_db):
    admin = login(demo_db, "admin@demo.fr")
    settings.set_capacity(demo_db, admin, 1, 1, 90, DEMO_NOW)
    assert demo_db.value("SELECT capacity FROM site_services WHERE site_id = 1 AND service_id = 1") == 90
    with pytest.raises(NotFound):
        settings.set_capacity(demo_db, admin, 1, 3, 10, DEMO_NOW)  # the maternelle gives no Wednesday afternoon
    with pytest.raises(InvalidInput):
        settings.set_capacity(demo_db, admin, 1, 1, -5, DEMO_NOW)
    with pytest.raises(NotFound):
        save(demo_db, admin, 99)


@pytest.mark.parametrize("email", ["parent@demo.fr", "agent@demo.fr", "cuisine@demo.fr", "maire@demo.fr"])
def test_only_the_administrator_edits_settings_and_reads_the_log(demo_db, email):
    who = login(demo_db, email)
    for call in (
        lambda: settings.services(demo_db, who),
        lambda: save(demo_db, who),
        lambda: settings.set_capacity(demo_db, who, 1, 1, 10, DEMO_NOW),
        lambda: settings.audit_entries(demo_db, who),
    ):
        with pytest.raises(NotAllowed):
            call()


def test_the_audit_log_filters(demo_db):
    admin, parent = login(demo_db, "admin@demo.fr"), login(demo_db, "parent@demo.fr")
    ctx = r.booking_context(demo_db, parent, 1, 2026)
    r.set_day(demo_db, parent, ctx, 1, date(2026, 12, 10), True, DEMO_NOW)
    entries = settings.audit_entries(demo_db, admin, action_prefix="booking", entity="child", entity_id="1")
    assert [(e["action"], e["who"]) for e in entries] == [("booking.days", "Camille Martin")]
    assert settings.audit_entries(demo_db, admin, action_prefix="booking", entity="child", entity_id="2") == []


def test_the_tariff_grid_is_read_then_saved(demo_db):
    admin = login(demo_db, "admin@demo.fr")
    grid = [("800", "2,60"), (None, None), ("", "4,30")]
    assert (
        settings.save_tariff_grid(demo_db, admin, 1, grid, DEMO_NOW)
        == "Tarifs de « Restauration scolaire » enregistrés."
    )
    assert demo_db.rows("SELECT qf_max, price_cents FROM tariffs WHERE service_id = 1 ORDER BY qf_max") == [
        (800, 260),
        (None, 430),
    ]


@pytest.mark.parametrize(
    "grid, refusal",
    [
        ([("700", "2,50"), ("mille", "3,50")], "Tarif illisible : saisissez un plafond entier et un prix en euros."),
        ([("700", "deux euros")], "Prix illisible : « deux euros »"),
        ([("700", "2,50"), ("700", "3,50")], "Deux tranches ont le même plafond de quotient familial."),
    ],
)
def test_a_tariff_grid_typed_wrong_is_refused_in_french_and_nothing_changes(demo_db, grid, refusal):
    admin = login(demo_db, "admin@demo.fr")

    def written():
        """The tariffs and the audit log, but for the trace a refused set of brackets leaves."""
        return (
            demo_db.rows("SELECT * FROM tariffs ORDER BY ALL"),
            demo_db.value("SELECT count(*) FROM audit_log WHERE action <> 'tariff.refused'"),
        )

    before = written()
    with pytest.raises(InvalidInput) as err:
        settings.save_tariff_grid(demo_db, admin, 1, grid, DEMO_NOW)
    assert err.value.message.startswith(refusal)
    assert written() == before
    # a grid that cannot be read never reaches the tariffs; brackets read but inconsistent are audited as before
    traces = demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'tariff.refused'")
    assert traces == (1 if refusal.startswith("Deux") else 0)


def test_only_the_administrator_saves_a_tariff_grid(demo_db):
    with pytest.raises(NotAllowed):
        settings.save_tariff_grid(demo_db, login(demo_db, "agent@demo.fr"), 1, [("nul", "x")], DEMO_NOW)
