"""« Fermetures et grèves » on the small town (tests/helpers.py): Alice (family A) eats at the
canteen every school day, her brother Adrien on Mondays, Tuesdays and Fridays and goes to the
Wednesday centre; Basile (family B) goes to the Wednesday centre."""

from datetime import date, datetime, time

import pytest

from lib.domain.calendar import ClosureKind
from lib.domain.clock import PARIS
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.services import closures, invoicing, reservations, trail
from lib.store import reference
from tests.conftest import DEMO_NOW, DEMO_TODAY

MONDAY, WEDNESDAY = date(2026, 12, 7), date(2026, 12, 9)
STRIKE = "grève du personnel de restauration"


def snapshot(db):
    return (
        db.rows("SELECT * FROM closures ORDER BY id"),
        db.rows("SELECT * FROM bookings ORDER BY child_id, service_id, day"),
        db.rows("SELECT * FROM audit_log ORDER BY id"),
    )


def state(db, child, service, day):
    return db.value(
        "SELECT state FROM bookings WHERE child_id = ? AND service_id = ? AND day = ?", [child, service, day]
    )


@pytest.fixture
def admin(town):
    return town.login(town.admin)


def strike(town, admin, day=MONDAY, *, sites=(), services=None, now=DEMO_NOW):
    return closures.declare(
        town.db,
        admin,
        list(sites),
        [town.canteen] if services is None else list(services),
        day,
        day,
        "greve",
        STRIKE,
        now,
    )


# --- who may do what ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["parent_a", "parent_b", "cook", "mayor", "agent"])
def test_only_the_administrator_declares_previews_and_withdraws(town, who):
    db, actor = town.db, town.login(getattr(town, who))
    [existing] = [c.id for c in closures.listed(db, town.login(town.admin), DEMO_TODAY).coming]
    before = snapshot(db)
    calls = [
        lambda: closures.choices(db, actor),
        lambda: closures.preview(db, actor, [], [town.canteen], MONDAY, MONDAY),
        lambda: strike(town, actor),
        lambda: closures.withdraw(db, actor, existing, DEMO_NOW),
        lambda: closures.withdraw(db, actor, 999_999, DEMO_NOW),
    ]
    for call in calls:
        with pytest.raises(NotAllowed, match="n'est pas ouverte à votre profil"):
            call()
    assert snapshot(db) == before


@pytest.mark.parametrize("who", ["parent_a", "cook", "mayor"])
def test_families_the_kitchen_and_the_elected_do_not_read_the_list(town, who):
    with pytest.raises(NotAllowed):
        closures.listed(town.db, town.login(getattr(town, who)), DEMO_TODAY)


def test_agents_and_the_administrator_read_the_list(town, admin):
    for actor in (admin, town.login(town.agent)):
        found = closures.listed(town.db, actor, DEMO_TODAY)
        [training] = found.coming
        assert (training.closure.start, training.site, training.service) == (
            town.closure_day,
            "Centre du mercredi",
            None,
        )
        assert training.scope == "Toutes les prestations — Centre du mercredi"
        assert training.created_by == "Service enfance" and found.past == found.withdrawn == []


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sites, services, start, end, kind, reason, message",
    [
        ([], [], MONDAY, MONDAY, "greve", "ab", "Motif trop court"),
        ([], [], MONDAY, MONDAY, "greve", "x" * 201, "Motif trop long"),
        ([], [], MONDAY, date(2026, 12, 4), "greve", STRIKE, "précède le premier"),
        ([], [], MONDAY, date(2027, 12, 7), "greve", STRIKE, "au plus un an"),
        ([], [], None, MONDAY, "greve", STRIKE, "Indiquez le premier et le dernier jour"),
        ([], [], "2026-12-07", MONDAY, "greve", STRIKE, "Dates illisibles"),
        ([], [], MONDAY, MONDAY, "manif", STRIKE, "Type inconnu"),
        ([99], [], MONDAY, MONDAY, "greve", STRIKE, "Structure inconnue"),
        ([], [99], MONDAY, MONDAY, "greve", STRIKE, "Prestation inconnue"),
        ([1], [2], MONDAY, MONDAY, "greve", STRIKE, "ne propose les prestations choisies"),
        ("1", [], MONDAY, MONDAY, "greve", STRIKE, "Structures illisibles"),
    ],
)
def test_a_bad_declaration_is_refused_in_french_and_writes_nothing(
    town, admin, sites, services, start, end, kind, reason, message
):
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match=message):
        closures.declare(town.db, admin, sites, services, start, end, kind, reason, DEMO_NOW)
    assert snapshot(town.db) == before


def test_the_same_declaration_twice_is_refused(town, admin):
    strike(town, admin)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="déjà déclarée"):
        strike(town, admin)
    assert snapshot(town.db) == before


def test_the_preview_refuses_what_the_declaration_refuses(town, admin):
    with pytest.raises(InvalidInput, match="précède le premier"):
        closures.preview(town.db, admin, [], [], MONDAY, date(2026, 12, 1))
    with pytest.raises(InvalidInput, match="Structure inconnue"):
        closures.preview(town.db, admin, [99], [], MONDAY, MONDAY)


# --- declaring ----------------------------------------------------------------------------------


def test_a_strike_of_the_canteen_cancels_alice_and_adrien_and_leaves_basile(town, admin):
    db = town.db
    # Adrien waits for a place on that Monday: the strike clears his waiting place too.
    db.write(
        lambda cur: cur.execute(
            "UPDATE bookings SET state = 'waiting' WHERE child_id = ? AND service_id = ? AND day = ?",
            [town.child_a2, town.canteen, MONDAY],
        )
    )
    preview = closures.preview(db, admin, [], [town.canteen], MONDAY, MONDAY)
    assert preview.sentence == "1 réservation et 1 place en liste d'attente seront annulées pour 1 famille."
    basile = db.rows("SELECT * FROM bookings WHERE child_id = ? ORDER BY service_id, day", [town.child_b])

    result = strike(town, admin)

    assert (result.booked, result.waiting) == (preview.booked, preview.waiting)
    assert result.sentence == (
        "Grève déclarée le lundi 7 décembre 2026 (Restauration scolaire — toutes les structures) : "
        "1 réservation et 1 place en liste d'attente annulées pour 1 famille."
    )
    [family] = result.families
    assert (family.family_id, family.name) == (town.family_a, "Famille Aubert")
    assert [(c.first_name, [(d.service, d.day, d.was_waiting) for d in c.days]) for c in family.children] == [
        ("Adrien", [("Restauration scolaire", MONDAY, True)]),
        ("Alice", [("Restauration scolaire", MONDAY, False)]),
    ]
    assert state(db, town.child_a, town.canteen, MONDAY) == state(db, town.child_a2, town.canteen, MONDAY)
    assert state(db, town.child_a, town.canteen, MONDAY) == "cancelled"
    assert state(db, town.child_a, town.canteen, date(2026, 12, 8)) == "booked"  # the next day stays
    assert db.rows("SELECT * FROM bookings WHERE child_id = ? ORDER BY service_id, day", [town.child_b]) == basile
    # The calendar shows it, with a word.
    calendar = reference.school_calendar(db)
    assert calendar.day_off_reason(MONDAY, town.school, town.canteen) == f"Grève : {STRIKE}"
    assert calendar.day_off_reason(WEDNESDAY, town.wednesday_centre, town.wednesday_meal) is None


def test_the_journal_tells_the_declaration_and_finds_each_child_by_name(town, admin):
    [closure_id] = strike(town, admin).closure_ids
    rows = town.db.rows(
        "SELECT action, entity, entity_id, user_id, reason FROM audit_log WHERE action LIKE 'closure%' AND reason = ?",
        [STRIKE],
    )
    assert sorted(rows) == [
        ("closure.cancelled", "child", str(town.child_a), 4, STRIKE),
        ("closure.cancelled", "child", str(town.child_a2), 4, STRIKE),
        ("closure.declare", "closure", str(closure_id), 4, STRIKE),
    ]
    alice = trail.journal(town.db, admin, name="alice aubert", kind="Fermetures et grèves")
    assert [(line.what, line.reason) for line in alice.lines] == [
        (
            "Grève : 1 réservation(s) annulée(s) de Restauration scolaire pour Alice Aubert le lundi 7 décembre 2026",
            STRIKE,
        )
    ]
    assert [line.what for line in trail.journal(town.db, admin, kind="Fermetures et grèves").lines][:1] == [
        "A déclaré : Grève le lundi 7 décembre 2026 (Restauration scolaire — toutes les structures) — "
        "2 réservation(s) annulée(s), 0 place(s) en liste d'attente retirée(s) pour 1 famille(s)"
    ]


def test_sites_and_services_are_written_as_the_pairs_the_town_offers(town, admin):
    result = closures.declare(
        town.db,
        admin,
        [town.school, town.wednesday_centre],
        [town.canteen, town.wednesday_meal],
        WEDNESDAY,
        WEDNESDAY,
        ClosureKind.BRIDGE,
        "pont du 9 décembre",
        DEMO_NOW,
    )
    assert result.scopes == (
        "Restauration scolaire — École des Tilleuls",
        "Mercredi repas — Centre du mercredi",
    )
    assert town.db.rows(
        "SELECT site_id, service_id, kind FROM closures WHERE id IN (SELECT unnest(?::INTEGER[])) ORDER BY id",
        [list(result.closure_ids)],
    ) == [(town.school, town.canteen, "pont"), (town.wednesday_centre, town.wednesday_meal, "pont")]
    # The Wednesday meal is cancelled for Adrien and Basile; their afternoon stays.
    assert sorted(c.first_name for f in result.families for c in f.children) == ["Adrien", "Basile"]
    assert state(town.db, town.child_b, town.wednesday_afternoon, WEDNESDAY) == "booked"


def test_a_strike_noticed_afterwards_is_credited_by_the_next_invoicing_run(town, admin):
    october = date(2026, 10, 1)
    monday = date(2026, 10, 5)
    assert closures.preview(town.db, admin, [], [town.canteen], monday, monday).booked == 2
    assert [d.family_id for d in invoicing.draft_month(town.db, admin, october, DEMO_NOW).documents] == []
    result = strike(town, admin, monday)
    assert result.booked == 2
    [credit] = invoicing.draft_month(town.db, admin, october, DEMO_NOW).documents
    assert (credit.family_id, credit.total_cents) == (town.family_a, -2 * 350)


def test_a_closed_day_is_never_billed_even_if_a_booking_slipped_in(town, admin):
    """The day is out of the month's lines twice over: its bookings are cancelled, and OPEN_DAY
    leaves out a booking written there afterwards (a form sent before the closure)."""
    november = date(2026, 11, 1)
    day = date(2026, 11, 16)
    after_the_month = datetime.combine(date(2026, 12, 5), time(9, 0), PARIS)

    def family_a_total():
        found = invoicing.draft_month(town.db, admin, november, after_the_month).documents
        return next(d.total_cents for d in found if d.family_id == town.family_a)

    before = family_a_total()
    strike(town, admin, day)
    assert family_a_total() == before - 2 * 350
    town.db.write(
        lambda cur: cur.execute(
            "UPDATE bookings SET state = 'booked' WHERE child_id = ? AND service_id = ? AND day = ?",
            [town.child_a, town.canteen, day],
        )
    )
    assert family_a_total() == before - 2 * 350


def test_a_closed_day_can_no_longer_be_booked(town, admin):
    strike(town, admin)
    parent = town.login(town.parent_a)
    ctx = reservations.booking_context(town.db, parent, town.child_a, town.school_year)
    with pytest.raises(InvalidInput, match=f"Grève : {STRIKE}"):
        reservations.set_day(town.db, parent, ctx, town.canteen, MONDAY, True, DEMO_NOW)
    cells = reservations.month_cells(town.db, parent, ctx, date(2026, 12, 1), DEMO_NOW)
    [cell] = [c for c in cells if c.day == MONDAY]
    assert (cell.state.value, cell.note) == ("closed", f"Grève : {STRIKE}")


# --- what the families are told: inside the same transaction ----------------------------------


def test_the_families_concerned_are_told_by_email_in_the_same_transaction(town, admin):
    db = town.db
    strike(town, admin)
    rows = db.rows("SELECT kind, family_id, to_address, body_text FROM outbox ORDER BY id")
    assert [(kind, family, to) for kind, family, to, _ in rows] == [("closure", town.family_a, town.parent_a)]
    body = rows[0][3]
    assert f"grève : {STRIKE}" in body
    assert "Alice — Restauration scolaire : lundi 7 décembre 2026" in body
    assert "Adrien — Restauration scolaire : lundi 7 décembre 2026" in body
    assert "ne seront pas facturées" in body


def test_a_failure_queuing_the_emails_rolls_everything_back(town, admin, monkeypatch):
    before = snapshot(town.db)

    def fails(cur, result, **_):
        raise InvalidInput("Le courriel n'a pas pu être mis en file d'attente.")

    monkeypatch.setattr(closures.family_mail, "closure_declared", fails)
    with pytest.raises(InvalidInput, match="file d'attente"):
        strike(town, admin)
    assert snapshot(town.db) == before
    assert town.db.value("SELECT count(*) FROM outbox") == 0


# --- withdrawing ----------------------------------------------------------------------------------


def test_withdrawing_reopens_the_day_and_keeps_the_cancelled_bookings_cancelled(town, admin):
    result = strike(town, admin)
    [closure_id] = result.closure_ids
    message = closures.withdraw(town.db, admin, closure_id, DEMO_NOW)
    assert "restent annulées" in message and "réserver à nouveau" in message
    assert state(town.db, town.child_a, town.canteen, MONDAY) == "cancelled"
    assert reference.school_calendar(town.db).day_off_reason(MONDAY, town.school, town.canteen) is None
    listed = closures.listed(town.db, admin, DEMO_TODAY)
    assert [c.id for c in listed.withdrawn] == [closure_id] and closure_id not in [c.id for c in listed.coming]
    assert town.db.value("SELECT count(*) FROM audit_log WHERE action = 'closure.withdraw'") == 1
    assert "A retiré : Grève le lundi 7 décembre 2026" in trail.journal(town.db, admin).lines[0].what
    before = snapshot(town.db)
    for again in (closure_id, 999_999, "1", None, True):
        with pytest.raises(NotFound, match="Fermeture introuvable ou déjà retirée"):
            closures.withdraw(town.db, admin, again, DEMO_NOW)
    assert snapshot(town.db) == before


def test_past_closures_are_listed_apart(town, admin):
    strike(town, admin, date(2026, 10, 5))
    listed = closures.listed(town.db, admin, DEMO_TODAY)
    assert [c.closure.start for c in listed.past] == [date(2026, 10, 5)]
    assert [c.closure.start for c in listed.coming] == [town.closure_day]


def test_a_calendar_drawn_before_the_strike_cannot_book_the_struck_day(town, admin):
    """The family's page was drawn before the declaration: its context still shows the day open."""
    db = town.db
    parent = town.login(town.parent_a)
    ctx = reservations.booking_context(db, parent, town.child_a, town.school_year)
    reservations.set_day(db, parent, ctx, town.canteen, MONDAY, False, DEMO_NOW)  # Alice cancels the Monday
    strike(town, admin)
    with pytest.raises(InvalidInput, match=f"Réservation impossible le lundi 7 décembre 2026 : Grève : {STRIKE}"):
        reservations.set_day(db, parent, ctx, town.canteen, MONDAY, True, DEMO_NOW)
    assert state(db, town.child_a, town.canteen, MONDAY) == "cancelled"
