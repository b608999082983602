from datetime import date, time

import pytest

from lib.domain.deadlines import DeadlinePassed, DeadlineRule, deadline_rule
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.services import reservations as r
from lib.services import settings
from tests.conftest import DEMO_NOW
from tests.helpers import forget_invoices, set_base_tariffs, sorted_rows

# The small town has no tariff brackets: tests that replace some first save these (the demo's own).
OLD_GRID = [("700", "2,50"), ("1200", "3,50"), ("", "4,20")]


def save(db, who, service_id, **change):
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


def test_admin_changes_a_deadline_and_the_calendar_follows(town):
    db = town.db
    admin, parent = town.login(town.admin), town.login(town.parent_a)
    ctx = r.booking_context(db, parent, town.child_a, town.school_year)  # Alice eats on Tuesday 1 December
    cell = next(c for c in r.month_cells(db, parent, ctx, date(2026, 12, 1), DEMO_NOW) if c.day == date(2026, 12, 1))
    assert not cell.locked
    save(db, admin, town.canteen, cancel_delay_days=5, cancel_cutoff_time=time(10, 0))
    ctx = r.booking_context(db, parent, town.child_a, town.school_year)
    cell = next(c for c in r.month_cells(db, parent, ctx, date(2026, 12, 1), DEMO_NOW) if c.day == date(2026, 12, 1))
    assert cell.locked
    entry = db.dicts("SELECT * FROM audit_log WHERE action = 'service.update'")[0]
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
def test_bad_settings_change_nothing(town, change, words):
    db = town.db
    admin = town.login(town.admin)
    before = db.rows("SELECT * FROM services ORDER BY id"), db.value("SELECT count(*) FROM audit_log")
    with pytest.raises(InvalidInput, match=words):
        save(db, admin, town.canteen, **change)
    assert (
        db.rows("SELECT * FROM services ORDER BY id"),
        db.value("SELECT count(*) FROM audit_log"),
    ) == before


@pytest.mark.parametrize(
    "rules",
    [
        {"book": {"days": 7, "working": False}, "cancel": DeadlineRule(2, True, time(23, 59))},
        {"book": DeadlineRule(7, False, time(23, 59)), "cancel": None},
        {"book": (7, False, time(23, 59)), "cancel": DeadlineRule(2, True, time(23, 59))},
    ],
)
def test_the_service_itself_refuses_rules_it_cannot_read_and_changes_nothing(town, rules):
    # The page builds the rules with deadline_rule; any other caller of the service is checked too.
    db = town.db
    admin = town.login(town.admin)
    before = db.rows("SELECT * FROM services ORDER BY id"), db.value("SELECT count(*) FROM audit_log")
    with pytest.raises(InvalidInput, match="Délais illisibles"):
        settings.update_service(db, admin, town.canteen, unit_price_cents=350, now=DEMO_NOW, **rules)
    assert (db.rows("SELECT * FROM services ORDER BY id"), db.value("SELECT count(*) FROM audit_log")) == before


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
def test_each_rule_keeps_its_own_cutoff_in_the_calendar(town, book_cutoff, cancel_cutoff, refused):
    """At 20:00 on Friday 27 November, the last day for both rules, the rule whose cut-off was 18:00
    refuses and the other one (23:59) still lets the family act."""
    db, alice, canteen = town.db, town.child_a, town.canteen
    admin, parent = town.login(town.admin), town.login(town.parent_a)
    ctx = r.booking_context(db, parent, alice, town.school_year)
    r.set_day(db, parent, ctx, canteen, date(2026, 12, 4), False, DEMO_NOW)  # free Friday 4 to book it again
    save(db, admin, canteen, book_cutoff_time=book_cutoff, cancel_cutoff_time=cancel_cutoff)
    ctx = r.booking_context(db, parent, alice, town.school_year)
    evening = DEMO_NOW.replace(hour=20, minute=0)
    refusals = []
    for day, booked in ((date(2026, 12, 4), True), (date(2026, 12, 1), False)):  # book Friday 4, cancel Tuesday 1
        try:
            r.set_day(db, parent, ctx, canteen, day, booked, evening)
        except DeadlinePassed as refusal:
            refusals.append(refusal.message)
    assert refusals == [refused]
    states = db.rows(
        "SELECT day, state FROM bookings WHERE child_id = ? AND service_id = ? AND day IN ('2026-12-01', '2026-12-04')"
        " ORDER BY day",
        [alice, canteen],
    )
    assert states == [
        (date(2026, 12, 1), "booked" if cancel_cutoff < evening.time() else "cancelled"),
        (date(2026, 12, 4), "booked" if book_cutoff > evening.time() else "cancelled"),
    ]


def test_capacity_and_unknown_targets(town):
    db, school, canteen = town.db, town.school, town.canteen
    admin = town.login(town.admin)
    settings.set_capacity(db, admin, school, canteen, 90, DEMO_NOW)
    capacity = "SELECT capacity FROM site_services WHERE site_id = ? AND service_id = ?"
    assert db.value(capacity, [school, canteen]) == 90
    with pytest.raises(NotFound):  # the school gives no Wednesday afternoon
        settings.set_capacity(db, admin, school, town.wednesday_afternoon, 10, DEMO_NOW)
    with pytest.raises(InvalidInput):
        settings.set_capacity(db, admin, school, canteen, -5, DEMO_NOW)
    with pytest.raises(NotFound):
        save(db, admin, 1 + db.value("SELECT max(id) FROM services"))


@pytest.mark.parametrize("account", ["parent_a", "agent", "cook", "mayor"])
def test_only_the_administrator_edits_settings(town, account):
    db = town.db
    who = town.login(getattr(town, account))
    for call in (
        lambda: settings.services(db, who),
        lambda: save(db, who, town.canteen),
        lambda: settings.set_capacity(db, who, town.school, town.canteen, 10, DEMO_NOW),
    ):
        with pytest.raises(NotAllowed):
            call()


def test_the_tariff_grid_is_read_then_saved(town):
    db, admin = town.db, town.login(town.admin)
    forget_invoices(db)  # once a month is invoiced the base grid no longer changes (test_billing_rules)
    settings.save_tariff_grid(db, admin, town.canteen, OLD_GRID, DEMO_NOW)
    grid = [("800", "2,60"), (None, None), ("", "4,30")]
    assert (
        settings.save_tariff_grid(db, admin, town.canteen, grid, DEMO_NOW)
        == "Tarifs de « Restauration scolaire » enregistrés."
    )
    query = "SELECT qf_max, price_cents FROM tariffs WHERE service_id = ? ORDER BY qf_max"
    assert db.rows(query, [town.canteen]) == [
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
def test_a_tariff_grid_typed_wrong_is_refused_in_french_and_nothing_changes(town, grid, refusal):
    db, admin = town.db, town.login(town.admin)
    set_base_tariffs(db, town.canteen, [(700, 250), (1200, 350), (None, 420)])  # brackets a refusal must keep

    def written():
        """The tariffs and the audit log, but for the trace a refused set of brackets leaves."""
        return (
            sorted_rows(db, "SELECT * FROM tariffs"),
            db.value("SELECT count(*) FROM audit_log WHERE action <> 'tariff.refused'"),
        )

    before = written()
    with pytest.raises(InvalidInput) as err:
        settings.save_tariff_grid(db, admin, town.canteen, grid, DEMO_NOW)
    assert err.value.message.startswith(refusal)
    assert written() == before
    # a grid that cannot be read never reaches the tariffs; brackets read but inconsistent are audited as before
    traces = db.value("SELECT count(*) FROM audit_log WHERE action = 'tariff.refused'")
    assert traces == (1 if refusal.startswith("Deux") else 0)


def test_only_the_administrator_saves_a_tariff_grid(town):
    with pytest.raises(NotAllowed):
        settings.save_tariff_grid(town.db, town.login(town.agent), town.canteen, [("nul", "x")], DEMO_NOW)
