import threading
from datetime import date, timedelta

import pytest

from lib.domain.deadlines import DeadlinePassed
from lib.domain.errors import InvalidInput, NotAllowed, PortailError
from lib.services import reservations as r
from tests.conftest import DEMO_NOW, DEMO_TODAY, login

LEA, HUGO = 1, 2
YEAR = 2026
CANTEEN, WED_MEAL, WED_PM = 1, 2, 3


def snapshot(db):
    return (
        db.rows("SELECT * FROM bookings ORDER BY ALL"),
        db.rows("SELECT * FROM registrations ORDER BY ALL"),
        db.rows("SELECT * FROM registration_services ORDER BY ALL"),
        db.value("SELECT count(*) FROM audit_log"),
    )


def booked(db, child, service=CANTEEN, first=date(2026, 9, 1), last=date(2027, 7, 31), state="booked"):
    return {
        d
        for (d,) in db.rows(
            "SELECT day FROM bookings WHERE child_id = ? AND service_id = ? AND state = ? AND day BETWEEN ? AND ?",
            [child, service, state, first, last],
        )
    }


@pytest.fixture
def other_child(demo_db):
    return demo_db.value("SELECT min(id) FROM children WHERE family_id = 2")


# --- access control --------------------------------------------------------------------------


@pytest.mark.parametrize("forged", ["other", 999_999, -1, 0, True, "2", 2.0, None])
def test_a_family_cannot_touch_a_child_of_another_family_by_any_id(demo_db, parent, other_child, forged):
    child_id = other_child if forged == "other" else forged
    before = snapshot(demo_db)
    calls = [
        lambda: r.registration_form(demo_db, parent, child_id, YEAR),
        lambda: r.save_registration(demo_db, parent, child_id, YEAR, 1, [CANTEEN], DEMO_NOW),
        lambda: r.booking_context(demo_db, parent, child_id, YEAR),
    ]
    for call in calls:
        with pytest.raises(NotAllowed) as err:
            call()
        assert err.value.message == "Enfant introuvable ou non rattaché à votre compte."
    assert snapshot(demo_db) == before


def test_a_family_cannot_use_a_context_built_for_another_child(demo_db, parent, other_child):
    # A context built (by staff) for another family's child, used with a family's identity: every
    # booking entry checks the actor against the child again, the writes first of all.
    agent = login(demo_db, "agent@demo.fr")
    ctx = r.booking_context(demo_db, agent, other_child, YEAR)
    day = date(2026, 12, 10)
    before = snapshot(demo_db)
    calls = [
        lambda: r.set_day(demo_db, parent, ctx, CANTEEN, day, True, DEMO_NOW),
        lambda: r.set_day(demo_db, parent, ctx, CANTEEN, date(2026, 12, 8), False, DEMO_NOW),
        lambda: r.change_days(demo_db, parent, ctx, CANTEEN, [day], [date(2026, 12, 8)], DEMO_NOW),
        lambda: r.apply_template(demo_db, parent, ctx, {CANTEEN: [4]}, day, date(2027, 1, 29), DEMO_NOW),
        lambda: r.preview_template(demo_db, parent, ctx, {CANTEEN: [4]}, day, date(2027, 1, 29), DEMO_NOW),
        lambda: r.month_cells(demo_db, parent, ctx, date(2026, 12, 1), DEMO_NOW),
        lambda: r.template_pattern(demo_db, parent, ctx, DEMO_NOW),
        lambda: r.booking_context(demo_db, parent, ctx.child.id, YEAR),
    ]
    for call in calls:
        with pytest.raises(NotAllowed) as err:
            call()
        assert err.value.message == "Enfant introuvable ou non rattaché à votre compte."
    assert snapshot(demo_db) == before


def test_a_context_is_checked_against_the_child_as_stored_when_writing(demo_db, parent):
    # The child moved to another family after the context was built: the write is refused.
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    demo_db.write(lambda cur: cur.execute("UPDATE children SET family_id = 2 WHERE id = ?", [LEA]))
    before = snapshot(demo_db)
    with pytest.raises(NotAllowed):
        r.set_day(demo_db, parent, ctx, CANTEEN, date(2026, 12, 10), True, DEMO_NOW)
    assert snapshot(demo_db) == before


def test_registration_is_required_before_booking(demo_db, parent):
    demo_db.write(
        lambda cur: cur.execute(
            "DELETE FROM registration_services WHERE registration_id IN "
            "(SELECT id FROM registrations WHERE child_id = 1 AND school_year_id = 2026)"
        )
    )
    with pytest.raises(InvalidInput, match="n'est inscrit\\(e\\) à aucune prestation pour 2026/2027"):
        r.booking_context(demo_db, parent, LEA, YEAR)


def test_full_year_template_replaces_future_days_and_keeps_the_past(demo_db, parent):
    ctx = r.booking_context(demo_db, parent, HUGO, YEAR)
    past_before = booked(demo_db, HUGO, last=DEMO_TODAY - timedelta(days=1))
    wednesdays_before = booked(demo_db, HUGO, WED_MEAL), booked(demo_db, HUGO, WED_PM)
    assert wednesdays_before[0] and wednesdays_before[1]
    plan = r.preview_template(
        demo_db, parent, ctx, {CANTEEN: [1, 2, 5]}, ctx.first_service_day, ctx.last_service_day, DEMO_NOW
    )
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action LIKE 'booking%'") == 0  # preview writes nothing
    result = r.apply_template(
        demo_db, parent, ctx, {CANTEEN: [1, 2, 5]}, ctx.first_service_day, ctx.last_service_day, DEMO_NOW
    )
    assert len(result.cancelled) == len(plan.to_cancel) > 20 and len(result.booked) == len(plan.to_book)
    future = booked(demo_db, HUGO, first=DEMO_TODAY + timedelta(days=7))
    assert future and {d.isoweekday() for d in future} == {1, 2, 5}
    assert booked(demo_db, HUGO, last=DEMO_TODAY - timedelta(days=1)) == past_before
    # The Wednesday services are not in the template: they are left exactly as they were.
    assert (
        booked(demo_db, HUGO, WED_MEAL) == wednesdays_before[0]
        and booked(demo_db, HUGO, WED_PM) == wednesdays_before[1]
    )
    assert not [k for k in result.cancelled + result.booked if k[0] != CANTEEN]
    entry = demo_db.dicts("SELECT * FROM audit_log WHERE action = 'booking.template'")[0]
    assert entry["user_id"] == parent.user_id and entry["entity_id"] == str(HUGO)
    assert '"template"' in entry["after"] and '"booked"' in entry["after"]


def test_reapplying_over_part_of_the_year_only_changes_that_part(demo_db, parent):
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    r.apply_template(
        demo_db, parent, ctx, {CANTEEN: [1, 2, 4, 5]}, ctx.first_service_day, ctx.last_service_day, DEMO_NOW
    )
    r.apply_template(demo_db, parent, ctx, {CANTEEN: [4]}, date(2027, 1, 4), date(2027, 1, 31), DEMO_NOW)
    january = booked(demo_db, LEA, first=date(2027, 1, 1), last=date(2027, 1, 31))
    february = booked(demo_db, LEA, first=date(2027, 2, 1), last=date(2027, 2, 28))
    assert {d.isoweekday() for d in january} == {4}
    assert {d.isoweekday() for d in february} == {1, 2, 4, 5}


@pytest.mark.parametrize(
    "template, start, end, words",
    [
        ({}, date(2026, 12, 1), date(2027, 7, 2), "La semaine type n'a pas changé"),
        ({CANTEEN: [3]}, date(2026, 12, 1), date(2027, 7, 2), "pas assurée le mercredi"),
        ({999: [1]}, date(2026, 12, 1), date(2027, 7, 2), "Prestation inconnue"),
        ({WED_MEAL: [3]}, date(2026, 12, 1), date(2027, 7, 2), "Prestation inconnue"),  # Léa is not registered for it
        ({CANTEEN: [1]}, date(2027, 1, 10), date(2027, 1, 1), "précède"),
        ({CANTEEN: [1]}, date(2026, 8, 1), date(2027, 1, 1), "année scolaire 2026/2027"),
        ({CANTEEN: [1]}, date(2026, 12, 1), date(2027, 9, 1), "année scolaire 2026/2027"),
        ({CANTEEN: [1]}, date(2026, 9, 1), date(2026, 10, 30), "entièrement passée"),
        ({CANTEEN: [1]}, None, date(2027, 1, 1), "Indiquez"),
    ],
)
def test_bad_templates_write_nothing(demo_db, parent, template, start, end, words):
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    before = snapshot(demo_db)
    for call in (r.preview_template, r.apply_template):
        with pytest.raises(InvalidInput) as err:
            call(demo_db, parent, ctx, template, start, end, DEMO_NOW)
        assert words in err.value.message
    assert snapshot(demo_db) == before


# --- occasional days, single days ----------------------------------------------------------------


def test_occasional_days_book_and_untick_cancels(demo_db, parent):
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    december = booked(demo_db, LEA, first=date(2026, 12, 1), last=date(2026, 12, 31))
    result = r.change_days(demo_db, parent, ctx, CANTEEN, [date(2026, 12, 10)], [date(2026, 12, 8)], DEMO_NOW)
    assert result.booked == [(CANTEEN, date(2026, 12, 10))] and result.cancelled == [(CANTEEN, date(2026, 12, 8))]
    assert booked(demo_db, LEA, first=date(2026, 12, 1), last=date(2026, 12, 31)) == (
        december - {date(2026, 12, 8)}
    ) | {date(2026, 12, 10)}
    assert result.summary() == (
        "Réservations enregistrées : 1 jour(s) réservé(s) (jeu. 10/12), 1 jour(s) annulé(s) (mar. 08/12)."
    )
    origin = demo_db.value("SELECT origin FROM bookings WHERE child_id = 1 AND day = DATE '2026-12-10'")
    assert origin == "occasional"


def test_occasional_days_never_touch_a_day_they_do_not_name(demo_db, parent):
    # Léa's November has past days (some marked by the staff) and days past their limits: a save
    # that names only a December day leaves every other day as it is.
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    before = demo_db.rows("SELECT * FROM bookings WHERE child_id = 1 AND day <> DATE '2026-12-10' ORDER BY ALL")
    assert r.change_days(demo_db, parent, ctx, CANTEEN, [date(2026, 12, 10)], [], DEMO_NOW).booked
    assert demo_db.rows("SELECT * FROM bookings WHERE child_id = 1 AND day <> DATE '2026-12-10' ORDER BY ALL") == before


@pytest.mark.parametrize(
    "service, book, cancel, error, words",
    [
        (
            CANTEEN,
            {date(2026, 12, 3)},
            set(),
            DeadlinePassed,
            "Réservation impossible pour le jeudi 3 décembre 2026 : la limite était le jeudi 26 novembre 2026 à 23 h 59.",
        ),
        (CANTEEN, {date(2026, 12, 2)}, set(), InvalidInput, "n'est pas assurée le mercredi 2 décembre"),
        (CANTEEN, {date(2026, 12, 22)}, set(), InvalidInput, "(Vacances de Noël)"),
        (CANTEEN, {date(2027, 8, 2)}, set(), InvalidInput, "en dehors de l'année scolaire"),
        (CANTEEN, {"2026-12-10"}, set(), InvalidInput, "Date illisible"),
        (CANTEEN, "2026-12-10", set(), InvalidInput, "Date illisible"),
        (CANTEEN, set(), {None}, InvalidInput, "Date illisible"),
        (CANTEEN, set(), set(), InvalidInput, "rien à enregistrer"),
        (CANTEEN, {date(2026, 12, 10)}, {date(2026, 12, 10)}, InvalidInput, "à la fois réservé et annulé"),
        (CANTEEN, set(), {date(2026, 11, 30)}, DeadlinePassed, "Annulation impossible pour le lundi 30 novembre 2026"),
        (WED_MEAL, {date(2026, 12, 9)}, set(), InvalidInput, "n'est pas inscrit(e) à cette prestation"),
        ("1", {date(2026, 12, 10)}, set(), InvalidInput, "n'est pas inscrit(e) à cette prestation"),
    ],
)
def test_bad_occasional_days_write_nothing(demo_db, parent, service, book, cancel, error, words):
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    before = snapshot(demo_db)
    with pytest.raises(error) as err:
        r.change_days(demo_db, parent, ctx, service, book, cancel, DEMO_NOW)
    assert words in err.value.message
    assert snapshot(demo_db) == before


def test_the_pattern_the_editor_opens_with(demo_db, parent):
    hugo = r.booking_context(demo_db, parent, HUGO, YEAR)
    pattern = r.template_pattern(demo_db, parent, hugo, DEMO_NOW)
    future = booked(demo_db, HUGO, first=DEMO_TODAY, last=date(2027, 7, 3))
    assert set(pattern[CANTEEN]) == {d.isoweekday() for d in future}
    assert pattern[WED_MEAL] == pattern[WED_PM] == (3,)


def test_cancelling_inside_the_deadline_is_refused_with_the_limit(demo_db, parent):
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    before = snapshot(demo_db)
    with pytest.raises(DeadlinePassed) as err:
        r.set_day(demo_db, parent, ctx, CANTEEN, date(2026, 11, 30), False, DEMO_NOW)
    assert err.value.message == (
        "Annulation impossible pour le lundi 30 novembre 2026 : la limite était le jeudi 26 novembre 2026 à 23 h 59."
    )
    with pytest.raises(DeadlinePassed, match="déjà passé"):
        r.set_day(demo_db, parent, ctx, CANTEEN, date(2026, 11, 23), False, DEMO_NOW)
    assert snapshot(demo_db) == before
    # Still in time for Tuesday 1 December (limit: Friday 27 November, 23:59).
    assert r.set_day(demo_db, parent, ctx, CANTEEN, date(2026, 12, 1), False, DEMO_NOW).cancelled


def test_staff_book_past_the_deadline_with_a_reason_families_cannot(demo_db, parent):
    agent = login(demo_db, "agent@demo.fr")
    ctx = r.booking_context(demo_db, agent, LEA, YEAR)
    day = date(2026, 11, 26)  # yesterday, a Thursday Léa does not eat at school
    with pytest.raises(InvalidInput, match="motif"):
        r.set_day(demo_db, agent, ctx, CANTEEN, day, True, DEMO_NOW, late=True, reason="  ")
    with pytest.raises(DeadlinePassed):
        r.set_day(demo_db, agent, ctx, CANTEEN, day, True, DEMO_NOW)
    family_ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    with pytest.raises(NotAllowed):
        r.set_day(demo_db, parent, family_ctx, CANTEEN, day, True, DEMO_NOW, late=True, reason="je veux")
    result = r.set_day(
        demo_db, agent, ctx, CANTEEN, day, True, DEMO_NOW, late=True, reason="oubli signalé par l'enseignante"
    )
    assert result.booked == [(CANTEEN, day)]
    row = demo_db.row("SELECT origin, created_by FROM bookings WHERE child_id = 1 AND day = ?", [day])
    assert row == ("staff_late", agent.user_id)
    entry = demo_db.dicts("SELECT * FROM audit_log WHERE action = 'booking.days.late'")[0]
    assert entry["reason"] == "oubli signalé par l'enseignante" and entry["user_id"] == agent.user_id


def test_staff_cannot_book_a_closed_day_even_late(demo_db):
    agent = login(demo_db, "agent@demo.fr")
    ctx = r.booking_context(demo_db, agent, LEA, YEAR)
    with pytest.raises(InvalidInput, match="Vacances de Noël"):
        r.set_day(demo_db, agent, ctx, CANTEEN, date(2026, 12, 22), True, DEMO_NOW, late=True, reason="test")


# --- capacity and waiting list -------------------------------------------------------------------


def fill(db, site, service, day, free):
    """Set the capacity so that exactly `free` places remain that day."""
    taken = db.value(
        "SELECT count(*) FROM bookings WHERE site_id = ? AND service_id = ? AND day = ? AND state = 'booked'",
        [site, service, day],
    )
    db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = ? WHERE site_id = ? AND service_id = ?", [taken + free, site, service]
        )
    )


def test_a_full_day_goes_to_the_waiting_list_and_is_promoted_in_order(demo_db, parent):
    day = date(2026, 12, 10)  # a Thursday: Léa (Mon/Tue/Fri) is not booked
    fill(demo_db, 1, CANTEEN, day, 0)
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    result = r.set_day(demo_db, parent, ctx, CANTEEN, day, True, DEMO_NOW)
    assert result.waiting == [(CANTEEN, day)] and result.booked == []
    assert "liste d'attente" in result.summary()
    # Another child of the same site books after Léa: second in line.
    other = demo_db.value(
        "SELECT min(c.id) FROM children c JOIN registrations r ON r.child_id = c.id "
        "WHERE r.site_id = 1 AND r.school_year_id = 2026 AND c.family_id <> 1 AND c.id NOT IN "
        "(SELECT child_id FROM bookings WHERE day = ? AND state = 'booked')",
        [day],
    )
    agent = login(demo_db, "agent@demo.fr")
    later = DEMO_NOW + timedelta(minutes=5)
    r.set_day(demo_db, agent, r.booking_context(demo_db, agent, other, YEAR), CANTEEN, day, True, later)
    # A booked child cancels: the first in line (Léa) gets the place, the other still waits.
    leaving = demo_db.value(
        "SELECT min(child_id) FROM bookings WHERE site_id = 1 AND service_id = 1 AND day = ? AND state = 'booked'",
        [day],
    )
    r.set_day(
        demo_db,
        agent,
        r.booking_context(demo_db, agent, leaving, YEAR),
        CANTEEN,
        day,
        False,
        later + timedelta(minutes=5),
    )
    states = dict(
        demo_db.rows(
            "SELECT child_id, state FROM bookings WHERE day = ? AND service_id = 1 AND child_id IN (?, ?)",
            [day, LEA, other],
        )
    )
    assert states == {LEA: "booked", other: "waiting"}
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'booking.promoted' AND entity_id = '1'") == 1


def test_two_parents_racing_for_the_last_place_never_both_get_it(demo_db):
    day = date(2026, 12, 10)
    fill(demo_db, 1, CANTEEN, day, 1)
    children = [
        r[0]
        for r in demo_db.rows(
            "SELECT c.id FROM children c JOIN registrations r ON r.child_id = c.id AND r.site_id = 1 AND "
            "r.school_year_id = 2026 WHERE c.id NOT IN (SELECT child_id FROM bookings WHERE day = ? AND state <> "
            "'cancelled') ORDER BY c.id LIMIT 6",
            [day],
        )
    ]
    agent = login(demo_db, "agent@demo.fr")
    contexts = [r.booking_context(demo_db, agent, c, YEAR) for c in children]
    barrier = threading.Barrier(len(contexts))
    errors: list[BaseException] = []

    def book(ctx):
        barrier.wait()
        try:
            r.set_day(demo_db, agent, ctx, CANTEEN, day, True, DEMO_NOW)
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
        for (s,) in demo_db.rows(
            "SELECT state FROM bookings WHERE day = ? AND service_id = 1 AND list_contains(?, child_id)",
            [day, children],
        )
    ]
    assert sorted(states) == ["booked"] + ["waiting"] * (len(children) - 1)
    capacity = demo_db.value("SELECT capacity FROM site_services WHERE site_id = 1 AND service_id = 1")
    assert (
        demo_db.value(
            "SELECT count(*) FROM bookings WHERE site_id = 1 AND service_id = 1 AND day = ? AND state = 'booked'", [day]
        )
        == capacity
    )


# --- the calendar's month ------------------------------------------------------------------------


def test_month_cells_show_attendance_locks_and_closures(demo_db, parent):
    ctx = r.booking_context(demo_db, parent, HUGO, YEAR)
    cells = r.month_cells(demo_db, parent, ctx, date(2026, 11, 1), DEMO_NOW)
    states = {(c.service_id, c.day): c.state.value for c in cells}
    assert states[(CANTEEN, date(2026, 11, 26))] in ("present", "absent", "justified")
    assert states[(WED_MEAL, date(2026, 11, 11))] == "closed"
    assert states[(CANTEEN, date(2026, 11, 30))] == "booked"
    assert next(c for c in cells if c.day == date(2026, 11, 30)).locked
    december = r.month_cells(demo_db, parent, ctx, date(2026, 12, 1), DEMO_NOW)
    closure = next(c for c in december if c.day == date(2026, 12, 2) and c.service_id == WED_MEAL)
    assert closure.state.value == "closed" and closure.note == "Fermeture : formation des animateurs"


def test_errors_are_all_portail_errors_with_french_messages(demo_db, parent):
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    for call in (
        lambda: r.set_day(demo_db, parent, ctx, CANTEEN, "2026-12-01", True, DEMO_NOW),
        lambda: r.change_days(demo_db, parent, ctx, CANTEEN, "décembre", [], DEMO_NOW),
    ):
        with pytest.raises(PortailError) as err:
            call()
        assert err.value.message and err.value.message[0].isupper()


def test_nobody_jumps_the_waiting_list_and_more_places_promote_it(demo_db, parent):
    from lib.services import settings

    day = date(2026, 12, 10)
    fill(demo_db, 1, CANTEEN, day, 0)
    ctx = r.booking_context(demo_db, parent, LEA, YEAR)
    assert r.set_day(demo_db, parent, ctx, CANTEEN, day, True, DEMO_NOW).waiting
    admin, agent = login(demo_db, "admin@demo.fr"), login(demo_db, "agent@demo.fr")
    capacity = demo_db.value("SELECT capacity FROM site_services WHERE site_id = 1 AND service_id = 1")
    message = settings.set_capacity(demo_db, admin, 1, CANTEEN, capacity + 1, DEMO_NOW)
    assert "1 enfant(s) de la liste d'attente" in message
    assert demo_db.value("SELECT state FROM bookings WHERE child_id = 1 AND day = ?", [day]) == "booked"
    # Full again, with someone waiting: a newcomer waits behind them even if a place frees later.
    other = demo_db.value(
        "SELECT min(c.id) FROM children c JOIN registrations r ON r.child_id = c.id "
        "WHERE r.site_id = 1 AND r.school_year_id = 2026 AND c.family_id <> 1 AND c.id NOT IN "
        "(SELECT child_id FROM bookings WHERE day = ?)",
        [day],
    )
    assert r.set_day(
        demo_db, agent, r.booking_context(demo_db, agent, other, YEAR), CANTEEN, day, True, DEMO_NOW
    ).waiting
    settings.set_capacity(demo_db, admin, 1, CANTEEN, capacity + 1, DEMO_NOW)  # no change: nobody moves
    third = demo_db.value(
        "SELECT min(c.id) FROM children c JOIN registrations r ON r.child_id = c.id "
        "WHERE r.site_id = 1 AND r.school_year_id = 2026 AND c.family_id <> 1 AND c.id NOT IN "
        "(SELECT child_id FROM bookings WHERE day = ?)",
        [day],
    )
    demo_db.write(
        lambda cur: cur.execute("UPDATE site_services SET capacity = capacity + 1 WHERE site_id = 1 AND service_id = 1")
    )  # a place appears without promotion having run
    late = r.set_day(demo_db, agent, r.booking_context(demo_db, agent, third, YEAR), CANTEEN, day, True, DEMO_NOW)
    assert late.waiting and not late.booked
