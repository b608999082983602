import threading
from datetime import date, timedelta

import pytest

from lib.domain.deadlines import DeadlinePassed
from lib.domain.errors import InvalidInput, NotAllowed, PortailError
from lib.services import attendance
from lib.services import reservations as r
from tests.conftest import DEMO_NOW, DEMO_TODAY
from tests.helpers import fill, newcomers

# The small town (tests/helpers.py): Alice (family A) eats at the canteen every school day, her
# brother Adrien on Mondays, Tuesdays and Fridays and goes to the Wednesday centre; Basile is family B's.


def snapshot(db):
    return (
        db.rows("SELECT * FROM bookings ORDER BY child_id, service_id, day"),
        db.rows("SELECT * FROM registrations ORDER BY id"),
        db.rows("SELECT * FROM registration_services ORDER BY registration_id, service_id"),
        db.value("SELECT count(*) FROM audit_log"),
    )


def booked(db, child, service, first=date(2026, 9, 1), last=date(2027, 7, 31), state="booked"):
    return {
        d
        for (d,) in db.rows(
            "SELECT day FROM bookings WHERE child_id = ? AND service_id = ? AND state = ? AND day BETWEEN ? AND ?",
            [child, service, state, first, last],
        )
    }


@pytest.fixture
def parent(town):
    return town.login(town.parent_a)


# --- access control --------------------------------------------------------------------------


@pytest.mark.parametrize("forged", ["other", 999_999, -1, 0, True, "own as text", "own as float", None])
def test_a_family_cannot_touch_a_child_of_another_family_by_any_id(town, parent, forged):
    db = town.db
    # an id of another family's child, or of no child, or of the family's own child in the wrong type
    child_id = {"other": town.child_b, "own as text": str(town.child_a2), "own as float": float(town.child_a2)}.get(
        forged, forged
    )
    before = snapshot(db)
    calls = [
        lambda: r.registration_form(db, parent, child_id, town.school_year),
        lambda: r.save_registration(db, parent, child_id, town.school_year, town.school, [town.canteen], DEMO_NOW),
        lambda: r.booking_context(db, parent, child_id, town.school_year),
    ]
    for call in calls:
        with pytest.raises(NotAllowed) as err:
            call()
        assert err.value.message == "Enfant introuvable ou non rattaché à votre compte."
    assert snapshot(db) == before


def test_a_family_cannot_use_a_context_built_for_another_child(town, parent):
    db = town.db
    # A context built (by staff) for another family's child, used with a family's identity: every
    # booking entry checks the actor against the child again, the writes first of all.
    agent = town.login(town.agent)
    ctx = r.booking_context(db, agent, town.child_b, town.school_year)  # Basile: Wednesdays, meal and afternoon
    meal, day, booked_day = town.wednesday_meal, date(2026, 12, 9), date(2026, 12, 2)
    db.write(
        lambda cur: cur.execute(
            "UPDATE bookings SET state = 'cancelled' WHERE child_id = ? AND service_id = ? AND day = ?",
            [town.child_b, meal, day],
        )
    )  # a free day to book
    before = snapshot(db)
    calls = [
        lambda: r.set_day(db, parent, ctx, meal, day, True, DEMO_NOW),
        lambda: r.set_day(db, parent, ctx, meal, booked_day, False, DEMO_NOW),
        lambda: r.change_days(db, parent, ctx, meal, [day], [booked_day], DEMO_NOW),
        lambda: r.apply_template(db, parent, ctx, {meal: [3]}, day, date(2027, 1, 29), DEMO_NOW),
        lambda: r.preview_template(db, parent, ctx, {meal: [3]}, day, date(2027, 1, 29), DEMO_NOW),
        lambda: r.month_cells(db, parent, ctx, date(2026, 12, 1), DEMO_NOW),
        lambda: r.template_pattern(db, parent, ctx, DEMO_NOW),
        lambda: r.booking_context(db, parent, ctx.child.id, town.school_year),
    ]
    for call in calls:
        with pytest.raises(NotAllowed) as err:
            call()
        assert err.value.message == "Enfant introuvable ou non rattaché à votre compte."
    assert snapshot(db) == before


def test_a_context_is_checked_against_the_child_as_stored_when_writing(town, parent):
    db = town.db
    # The child moved to another family after the context was built: the write is refused.
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    db.write(lambda cur: cur.execute("UPDATE children SET family_id = ? WHERE id = ?", [town.family_b, town.child_a2]))
    before = snapshot(db)
    with pytest.raises(NotAllowed):
        r.set_day(db, parent, ctx, town.canteen, date(2026, 12, 10), True, DEMO_NOW)
    assert snapshot(db) == before


def test_registration_is_required_before_booking(town, parent):
    db = town.db
    db.write(
        lambda cur: cur.execute(
            "DELETE FROM registration_services WHERE registration_id IN "
            "(SELECT id FROM registrations WHERE child_id = ? AND school_year_id = ?)",
            [town.child_a, town.school_year],
        )
    )
    with pytest.raises(InvalidInput, match="n'est inscrit\\(e\\) à aucune prestation pour 2026/2027"):
        r.booking_context(db, parent, town.child_a, town.school_year)


def test_full_year_template_replaces_future_days_and_keeps_the_past(town, parent):
    db = town.db
    # Adrien eats on Mondays, Tuesdays and Fridays: a Tuesday-Thursday week cancels and books.
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    past_before = booked(db, town.child_a2, town.canteen, last=DEMO_TODAY - timedelta(days=1))
    wednesdays_before = (
        booked(db, town.child_a2, town.wednesday_meal),
        booked(db, town.child_a2, town.wednesday_afternoon),
    )
    assert wednesdays_before[0] and wednesdays_before[1]
    plan = r.preview_template(
        db, parent, ctx, {town.canteen: [2, 4]}, ctx.first_service_day, ctx.last_service_day, DEMO_NOW
    )
    assert db.value("SELECT count(*) FROM audit_log WHERE action LIKE 'booking%'") == 0  # preview writes nothing
    result = r.apply_template(
        db, parent, ctx, {town.canteen: [2, 4]}, ctx.first_service_day, ctx.last_service_day, DEMO_NOW
    )
    assert len(result.cancelled) == len(plan.to_cancel) > 20 and len(result.booked) == len(plan.to_book)
    future = booked(db, town.child_a2, town.canteen, first=DEMO_TODAY + timedelta(days=7))
    assert future and {d.isoweekday() for d in future} == {2, 4}
    assert booked(db, town.child_a2, town.canteen, last=DEMO_TODAY - timedelta(days=1)) == past_before
    # The Wednesday services are not in the template: they are left exactly as they were.
    assert (
        booked(db, town.child_a2, town.wednesday_meal) == wednesdays_before[0]
        and booked(db, town.child_a2, town.wednesday_afternoon) == wednesdays_before[1]
    )
    assert not [k for k in result.cancelled + result.booked if k[0] != town.canteen]
    entry = db.dicts("SELECT * FROM audit_log WHERE action = 'booking.template'")[0]
    assert entry["user_id"] == parent.user_id and entry["entity_id"] == str(town.child_a2)
    assert '"template"' in entry["after"] and '"booked"' in entry["after"]


def test_reapplying_over_part_of_the_year_only_changes_that_part(town, parent):
    db = town.db
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    r.apply_template(
        db, parent, ctx, {town.canteen: [1, 2, 4, 5]}, ctx.first_service_day, ctx.last_service_day, DEMO_NOW
    )
    r.apply_template(db, parent, ctx, {town.canteen: [4]}, date(2027, 1, 4), date(2027, 1, 31), DEMO_NOW)
    january = booked(db, town.child_a2, town.canteen, first=date(2027, 1, 1), last=date(2027, 1, 31))
    february = booked(db, town.child_a2, town.canteen, first=date(2027, 2, 1), last=date(2027, 2, 28))
    assert {d.isoweekday() for d in january} == {4}
    assert {d.isoweekday() for d in february} == {1, 2, 4, 5}


@pytest.mark.parametrize(
    "template, start, end, words",
    [
        ({}, date(2026, 12, 1), date(2027, 7, 2), "La semaine type n'a pas changé"),
        ({"canteen": [3]}, date(2026, 12, 1), date(2027, 7, 2), "pas assurée le mercredi"),
        ({999: [1]}, date(2026, 12, 1), date(2027, 7, 2), "Prestation inconnue"),
        ({"wednesday_meal": [3]}, date(2026, 12, 1), date(2027, 7, 2), "Prestation inconnue"),  # Alice: not registered
        ({"canteen": [1]}, date(2027, 1, 10), date(2027, 1, 1), "précède"),
        ({"canteen": [1]}, date(2026, 8, 1), date(2027, 1, 1), "année scolaire 2026/2027"),
        ({"canteen": [1]}, date(2026, 12, 1), date(2027, 9, 1), "année scolaire 2026/2027"),
        ({"canteen": [1]}, date(2026, 9, 1), date(2026, 10, 30), "entièrement passée"),
        ({"canteen": [1]}, None, date(2027, 1, 1), "Indiquez"),
    ],
)
def test_bad_templates_write_nothing(town, parent, template, start, end, words):
    db = town.db
    template = {getattr(town, k) if isinstance(k, str) else k: days for k, days in template.items()}
    ctx = r.booking_context(db, parent, town.child_a, town.school_year)
    before = snapshot(db)
    for call in (r.preview_template, r.apply_template):
        with pytest.raises(InvalidInput) as err:
            call(db, parent, ctx, template, start, end, DEMO_NOW)
        assert words in err.value.message
    assert snapshot(db) == before


# --- occasional days, single days ----------------------------------------------------------------


def test_occasional_days_book_and_untick_cancels(town, parent):
    db = town.db
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    december = booked(db, town.child_a2, town.canteen, first=date(2026, 12, 1), last=date(2026, 12, 31))
    result = r.change_days(db, parent, ctx, town.canteen, [date(2026, 12, 10)], [date(2026, 12, 8)], DEMO_NOW)
    assert result.booked == [(town.canteen, date(2026, 12, 10))] and result.cancelled == [
        (town.canteen, date(2026, 12, 8))
    ]
    assert booked(db, town.child_a2, town.canteen, first=date(2026, 12, 1), last=date(2026, 12, 31)) == (
        december - {date(2026, 12, 8)}
    ) | {date(2026, 12, 10)}
    assert result.summary() == (
        "Réservations enregistrées : 1 jour(s) réservé(s) (jeu. 10/12), 1 jour(s) annulé(s) (mar. 08/12)."
    )
    origin = db.value("SELECT origin FROM bookings WHERE child_id = ? AND day = DATE '2026-12-10'", [town.child_a2])
    assert origin == "occasional"


def test_occasional_days_never_touch_a_day_they_do_not_name(town, parent):
    db = town.db
    # Adrien's November has past days (one marked by the staff) and days past their limits: a save
    # that names only a December day leaves every other day as it is.
    agent = town.login(town.agent)
    attendance.save(db, agent, DEMO_TODAY, town.school, town.canteen, {town.child_a2: "present"}, DEMO_NOW)
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    others = "SELECT * FROM bookings WHERE child_id = ? AND day <> DATE '2026-12-10' ORDER BY service_id, day"
    before = db.rows(others, [town.child_a2])
    assert r.change_days(db, parent, ctx, town.canteen, [date(2026, 12, 10)], [], DEMO_NOW).booked
    assert db.rows(others, [town.child_a2]) == before


@pytest.mark.parametrize(
    "service, book, cancel, error, words",
    [
        (
            "canteen",
            {date(2026, 12, 3)},
            set(),
            DeadlinePassed,
            "Réservation impossible pour le jeudi 3 décembre 2026 : la limite était le jeudi 26 novembre 2026 à 23 h 59.",
        ),
        ("canteen", {date(2026, 12, 2)}, set(), InvalidInput, "n'est pas assurée le mercredi 2 décembre"),
        ("canteen", {date(2026, 12, 22)}, set(), InvalidInput, "(Vacances de Noël)"),
        ("canteen", {date(2027, 8, 2)}, set(), InvalidInput, "en dehors de l'année scolaire"),
        ("canteen", {"2026-12-10"}, set(), InvalidInput, "Date illisible"),
        ("canteen", "2026-12-10", set(), InvalidInput, "Date illisible"),
        ("canteen", set(), {None}, InvalidInput, "Date illisible"),
        ("canteen", set(), set(), InvalidInput, "rien à enregistrer"),
        ("canteen", {date(2026, 12, 10)}, {date(2026, 12, 10)}, InvalidInput, "à la fois réservé et annulé"),
        (
            "canteen",
            set(),
            {date(2026, 11, 30)},
            DeadlinePassed,
            "Annulation impossible pour le lundi 30 novembre 2026",
        ),
        ("wednesday_meal", {date(2026, 12, 9)}, set(), InvalidInput, "n'est pas inscrit(e) à cette prestation"),
        ("canteen as text", {date(2026, 12, 10)}, set(), InvalidInput, "n'est pas inscrit(e) à cette prestation"),
    ],
)
def test_bad_occasional_days_write_nothing(town, parent, service, book, cancel, error, words):
    db = town.db
    # Adrien (Mondays, Tuesdays, Fridays); Alice for the Wednesday meal, which she is not registered for
    child = town.child_a if service == "wednesday_meal" else town.child_a2
    service = str(town.canteen) if service == "canteen as text" else getattr(town, service)
    ctx = r.booking_context(db, parent, child, town.school_year)
    before = snapshot(db)
    with pytest.raises(error) as err:
        r.change_days(db, parent, ctx, service, book, cancel, DEMO_NOW)
    assert words in err.value.message
    assert snapshot(db) == before


def test_the_pattern_the_editor_opens_with(town, parent):
    db = town.db
    adrien = r.booking_context(db, parent, town.child_a2, town.school_year)
    pattern = r.template_pattern(db, parent, adrien, DEMO_NOW)
    future = booked(db, town.child_a2, town.canteen, first=DEMO_TODAY, last=date(2027, 7, 3))
    assert set(pattern[town.canteen]) == {d.isoweekday() for d in future}
    assert pattern[town.wednesday_meal] == pattern[town.wednesday_afternoon] == (3,)


def test_cancelling_inside_the_deadline_is_refused_with_the_limit(town, parent):
    db = town.db
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    before = snapshot(db)
    with pytest.raises(DeadlinePassed) as err:
        r.set_day(db, parent, ctx, town.canteen, date(2026, 11, 30), False, DEMO_NOW)
    assert err.value.message == (
        "Annulation impossible pour le lundi 30 novembre 2026 : la limite était le jeudi 26 novembre 2026 à 23 h 59."
    )
    with pytest.raises(DeadlinePassed, match="déjà passé"):
        r.set_day(db, parent, ctx, town.canteen, date(2026, 11, 23), False, DEMO_NOW)
    assert snapshot(db) == before
    # Still in time for Tuesday 1 December (limit: Friday 27 November, 23:59).
    assert r.set_day(db, parent, ctx, town.canteen, date(2026, 12, 1), False, DEMO_NOW).cancelled


def test_staff_book_past_the_deadline_with_a_reason_families_cannot(town, parent):
    db = town.db
    agent = town.login(town.agent)
    ctx = r.booking_context(db, agent, town.child_a2, town.school_year)
    day = date(2026, 11, 26)  # yesterday, a Thursday Adrien does not eat at school
    with pytest.raises(InvalidInput, match="motif"):
        r.set_day(db, agent, ctx, town.canteen, day, True, DEMO_NOW, late=True, reason="  ")
    with pytest.raises(DeadlinePassed):
        r.set_day(db, agent, ctx, town.canteen, day, True, DEMO_NOW)
    family_ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    with pytest.raises(NotAllowed):
        r.set_day(db, parent, family_ctx, town.canteen, day, True, DEMO_NOW, late=True, reason="je veux")
    result = r.set_day(
        db, agent, ctx, town.canteen, day, True, DEMO_NOW, late=True, reason="oubli signalé par l'enseignante"
    )
    assert result.booked == [(town.canteen, day)]
    row = db.row("SELECT origin, created_by FROM bookings WHERE child_id = ? AND day = ?", [town.child_a2, day])
    assert row == ("staff_late", agent.user_id)
    entry = db.dicts("SELECT * FROM audit_log WHERE action = 'booking.days.late'")[0]
    assert entry["reason"] == "oubli signalé par l'enseignante" and entry["user_id"] == agent.user_id


def test_staff_cannot_book_a_closed_day_even_late(town):
    db = town.db
    agent = town.login(town.agent)
    ctx = r.booking_context(db, agent, town.child_a2, town.school_year)
    with pytest.raises(InvalidInput, match="Vacances de Noël"):
        r.set_day(db, agent, ctx, town.canteen, date(2026, 12, 22), True, DEMO_NOW, late=True, reason="test")


# --- capacity and waiting list -------------------------------------------------------------------


def test_a_full_day_goes_to_the_waiting_list_and_is_promoted_in_order(town, parent):
    db = town.db
    day = date(2026, 12, 10)  # a Thursday: Adrien (Mon/Tue/Fri) is not booked, Alice is
    (other,) = newcomers(town, 1)
    fill(db, town.school, town.canteen, day, 0)
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    result = r.set_day(db, parent, ctx, town.canteen, day, True, DEMO_NOW)
    assert result.waiting == [(town.canteen, day)] and result.booked == []
    assert "liste d'attente" in result.summary()
    # Another child of the same site (another family's) books after Adrien: second in line.
    agent = town.login(town.agent)
    later = DEMO_NOW + timedelta(minutes=5)
    r.set_day(db, agent, r.booking_context(db, agent, other, town.school_year), town.canteen, day, True, later)
    # A booked child cancels: the first in line (Adrien) gets the place, the other still waits.
    leaving = db.value(
        "SELECT min(child_id) FROM bookings WHERE site_id = ? AND service_id = ? AND day = ? AND state = 'booked'",
        [town.school, town.canteen, day],
    )
    r.set_day(
        db,
        agent,
        r.booking_context(db, agent, leaving, town.school_year),
        town.canteen,
        day,
        False,
        later + timedelta(minutes=5),
    )
    states = dict(
        db.rows(
            "SELECT child_id, state FROM bookings WHERE day = ? AND service_id = ? AND child_id IN (?, ?)",
            [day, town.canteen, town.child_a2, other],
        )
    )
    assert states == {town.child_a2: "booked", other: "waiting"}
    promoted = "SELECT count(*) FROM audit_log WHERE action = 'booking.promoted' AND entity_id = ?"
    assert db.value(promoted, [str(town.child_a2)]) == 1


def test_two_parents_racing_for_the_last_place_never_both_get_it(town):
    db = town.db
    day = date(2026, 12, 10)  # a Thursday: Adrien and five newcomers, none booked, race for one place
    children = sorted([town.child_a2, *newcomers(town, 5)])
    fill(db, town.school, town.canteen, day, 1)
    agent = town.login(town.agent)
    contexts = [r.booking_context(db, agent, c, town.school_year) for c in children]
    barrier = threading.Barrier(len(contexts))
    errors: list[BaseException] = []

    def book(ctx):
        barrier.wait()
        try:
            r.set_day(db, agent, ctx, town.canteen, day, True, DEMO_NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(c,)) for c in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    states = [
        s
        for (s,) in db.rows(
            "SELECT state FROM bookings WHERE day = ? AND service_id = ? AND list_contains(?, child_id)",
            [day, town.canteen, children],
        )
    ]
    assert sorted(states) == ["booked"] + ["waiting"] * (len(children) - 1)
    capacity = db.value(
        "SELECT capacity FROM site_services WHERE site_id = ? AND service_id = ?", [town.school, town.canteen]
    )
    taken = "SELECT count(*) FROM bookings WHERE site_id = ? AND service_id = ? AND day = ? AND state = 'booked'"
    assert db.value(taken, [town.school, town.canteen, day]) == capacity


# --- the calendar's month ------------------------------------------------------------------------


def test_month_cells_show_attendance_locks_and_closures(town, parent):
    db = town.db
    agent = town.login(town.agent)
    attendance.save(db, agent, DEMO_TODAY, town.school, town.canteen, {town.child_a2: "present"}, DEMO_NOW)
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    cells = r.month_cells(db, parent, ctx, date(2026, 11, 1), DEMO_NOW)
    states = {(c.service_id, c.day): c.state.value for c in cells}
    assert states[(town.canteen, DEMO_TODAY)] == "present"  # Friday: Adrien ate, the agent marked it
    assert states[(town.wednesday_meal, date(2026, 11, 11))] == "closed"
    assert states[(town.canteen, date(2026, 11, 30))] == "booked"
    assert next(c for c in cells if c.day == date(2026, 11, 30)).locked
    december = r.month_cells(db, parent, ctx, town.closure_day.replace(day=1), DEMO_NOW)
    closure = next(c for c in december if c.day == town.closure_day and c.service_id == town.wednesday_meal)
    assert closure.state.value == "closed" and closure.note == f"Fermeture : {town.closure_reason}"


def test_errors_are_all_portail_errors_with_french_messages(town, parent):
    db = town.db
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    for call in (
        lambda: r.set_day(db, parent, ctx, town.canteen, "2026-12-01", True, DEMO_NOW),
        lambda: r.change_days(db, parent, ctx, town.canteen, "décembre", [], DEMO_NOW),
    ):
        with pytest.raises(PortailError) as err:
            call()
        assert err.value.message and err.value.message[0].isupper()


def test_nobody_jumps_the_waiting_list_and_more_places_promote_it(town, parent):
    from lib.services import settings

    db = town.db
    day = date(2026, 12, 10)  # a Thursday: Adrien is not booked
    other, third = newcomers(town, 2)
    fill(db, town.school, town.canteen, day, 0)
    ctx = r.booking_context(db, parent, town.child_a2, town.school_year)
    assert r.set_day(db, parent, ctx, town.canteen, day, True, DEMO_NOW).waiting
    admin, agent = town.login(town.admin), town.login(town.agent)
    capacity = db.value(
        "SELECT capacity FROM site_services WHERE site_id = ? AND service_id = ?", [town.school, town.canteen]
    )
    message = settings.set_capacity(db, admin, town.school, town.canteen, capacity + 1, DEMO_NOW)
    assert "1 enfant(s) de la liste d'attente" in message
    assert db.value("SELECT state FROM bookings WHERE child_id = ? AND day = ?", [town.child_a2, day]) == "booked"
    # Full again, with someone waiting: a newcomer waits behind them even if a place frees later.
    assert r.set_day(
        db, agent, r.booking_context(db, agent, other, town.school_year), town.canteen, day, True, DEMO_NOW
    ).waiting
    settings.set_capacity(db, admin, town.school, town.canteen, capacity + 1, DEMO_NOW)  # no change: nobody moves
    db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = capacity + 1 WHERE site_id = ? AND service_id = ?",
            [town.school, town.canteen],
        )
    )  # a place appears without promotion having run
    late = r.set_day(
        db, agent, r.booking_context(db, agent, third, town.school_year), town.canteen, day, True, DEMO_NOW
    )
    assert late.waiting and not late.booked
