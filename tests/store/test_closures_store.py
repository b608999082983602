"""Closures in the store, on the small town (tests/helpers.py): `cancel_where` touches only its
scope and keeps the day counts exact; `OPEN_DAY` and the calendar read a closure's site and
service, and forget a withdrawn closure."""

from datetime import date, datetime

from lib.domain.calendar import ClosureKind
from lib.domain.closures import Declaration
from lib.domain.planning import BookingState
from lib.store import bookings, closures, kitchen, reference

MONDAY, WEDNESDAY = date(2026, 12, 7), date(2026, 12, 9)
NOW = datetime(2026, 11, 27, 8, 30)
ADMIN = 4


def states(db, day):
    """{(child, service): state} of one day."""
    return {(c, s): st for c, s, st in db.rows("SELECT child_id, service_id, state FROM bookings WHERE day = ?", [day])}


def counted(db, day):
    """Booked meals and afternoons of `day` as `day_counts` gives them (counted first if needed)."""
    rows = kitchen.read_counted(
        db,
        "SELECT service_id, sum(booked)::INTEGER AS n FROM day_counts WHERE day BETWEEN $first AND $last GROUP BY service_id",
        {"first": day, "last": day},
    )
    return {r["service_id"]: r["n"] for r in rows}


def test_cancel_where_touches_only_its_scope(town):
    db = town.db
    # Basile waits for the Wednesday meal: the closure clears waiting places too.
    db.write(
        lambda cur: cur.execute(
            "UPDATE bookings SET state = 'waiting' WHERE child_id = ? AND service_id = ? AND day = ?",
            [town.child_b, town.wednesday_meal, WEDNESDAY],
        )
    )
    before_monday, before_wednesday = states(db, MONDAY), states(db, WEDNESDAY)
    assert counted(db, WEDNESDAY) == {town.wednesday_meal: 1, town.wednesday_afternoon: 2}

    # The Wednesday meal at every site: Adrien's booking and Basile's waiting place.
    done = db.write(
        lambda cur: bookings.cancel_where(cur, [(None, town.wednesday_meal)], WEDNESDAY, WEDNESDAY, ADMIN, NOW)
    )
    assert sorted(done) == [
        bookings.Cancelled(town.child_b, town.wednesday_meal, WEDNESDAY, town.wednesday_centre, BookingState.WAITING),
        bookings.Cancelled(town.child_a2, town.wednesday_meal, WEDNESDAY, town.wednesday_centre, BookingState.BOOKED),
    ]
    after = states(db, WEDNESDAY)
    assert after[(town.child_a2, town.wednesday_meal)] == after[(town.child_b, town.wednesday_meal)] == "cancelled"
    assert {k: v for k, v in after.items() if k[1] != town.wednesday_meal} == {
        k: v for k, v in before_wednesday.items() if k[1] != town.wednesday_meal
    }  # the afternoon stays booked
    assert states(db, MONDAY) == before_monday  # another day
    assert counted(db, WEDNESDAY) == {town.wednesday_afternoon: 2}  # the counts forgot the day

    # The school (every service) on a Wednesday: the school gives nothing that day.
    assert db.write(lambda cur: bookings.cancel_where(cur, [(town.school, None)], WEDNESDAY, WEDNESDAY, 1, NOW)) == []
    # The canteen at the school on Monday: Alice and Adrien; nothing at the centre, nothing else.
    done = db.write(lambda cur: bookings.cancel_where(cur, [(town.school, town.canteen)], MONDAY, MONDAY, 1, NOW))
    assert sorted(c.child_id for c in done) == [town.child_a, town.child_a2]
    assert set(states(db, MONDAY).values()) == {"cancelled"}
    assert (
        db.value("SELECT count(*) FROM bookings WHERE updated_by = ? AND updated_at = ?", [ADMIN, NOW]) == 2
    )  # who and when: the first call's two rows (the second call wrote as user 1)
    assert db.write(lambda cur: bookings.cancel_where(cur, [(None, None)], MONDAY, MONDAY, 1, NOW)) == []


def test_the_preview_counts_what_cancel_where_cancels(town):
    db = town.db
    first, last = date(2026, 12, 1), date(2026, 12, 31)
    scope = [(None, town.canteen)]
    booked, waiting, families = bookings.in_scope_counts(db, scope, first, last)
    done = db.write(lambda cur: bookings.cancel_where(cur, scope, first, last, ADMIN, NOW))
    assert (booked, waiting, families) == (len(done), 0, 1)  # Alice and Adrien: family A only
    assert bookings.in_scope_counts(db, scope, first, last) == (0, 0, 0)


def declare(db, scope, day, kind=ClosureKind.STRIKE):
    return db.write(lambda cur: closures.insert(cur, scope, Declaration(day, day, kind, "grève"), ADMIN, NOW))


def test_open_day_reads_the_site_and_the_service_and_forgets_a_withdrawn_closure(town):
    db = town.db

    def wednesday_meals():
        return sum(r["meals"] for r in kitchen.meal_counts(db, WEDNESDAY))

    assert wednesday_meals() == 2  # Adrien and Basile's Wednesday meals
    declare(db, [(town.school, None)], WEDNESDAY)  # another site
    declare(db, [(None, town.wednesday_afternoon)], WEDNESDAY)  # another service
    assert wednesday_meals() == 2
    [meal] = declare(db, [(town.wednesday_centre, town.wednesday_meal)], WEDNESDAY)
    assert wednesday_meals() == 0
    calendar = reference.school_calendar(db)
    assert calendar.day_off_reason(WEDNESDAY, town.wednesday_centre, town.wednesday_meal) == "Grève : grève"
    assert calendar.day_off_reason(WEDNESDAY, town.wednesday_centre) is None  # no particular service
    assert db.write(lambda cur: closures.withdraw(cur, meal, NOW)).withdrawn_at == NOW
    assert db.write(lambda cur: closures.withdraw(cur, meal, NOW)) is None  # once
    assert wednesday_meals() == 2
    calendar = reference.school_calendar(db)
    assert calendar.day_off_reason(WEDNESDAY, town.wednesday_centre, town.wednesday_meal) is None
    assert [c.withdrawn_at for c in closures.listed(db) if c.id == meal] == [NOW]
