from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.domain.calendar import Closure, ClosureKind, SchoolCalendar
from lib.domain.clock import PARIS
from lib.domain.deadlines import (
    MAX_DELAY_DAYS,
    DeadlinePassed,
    DeadlineRule,
    check_booking,
    check_cancellation,
    deadline_rule,
    limit_text,
)
from lib.domain.errors import InvalidInput
from lib.domain.planning import (
    Plan,
    ServiceInfo,
    State,
    check_period,
    current_pattern,
    day_cells,
    plan_days,
    plan_template,
)

CAL = SchoolCalendar(zone="C")
# The seed's rules, the schema's defaults (tests/store/test_settings_store.py checks them there).
SEED_BOOK = DeadlineRule(7, False, time(23, 59))
SEED_CANCEL = DeadlineRule(2, True, time(23, 59))
CANTEEN = ServiceInfo(1, "cantine", "Restauration scolaire", "Cantine", (1, 2, 4, 5), 1, SEED_BOOK, SEED_CANCEL)
WEDNESDAY = ServiceInfo(2, "mercredi_repas", "Mercredi repas", "Repas", (3,), 3, SEED_BOOK, SEED_CANCEL)


def paris(y, m, d, h=9, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=PARIS)


@pytest.mark.parametrize(
    "day, last_moment",
    [
        (date(2026, 12, 1), paris(2026, 11, 27, 23, 59)),  # Tuesday: the Friday before (weekend skipped)
        (date(2026, 11, 30), paris(2026, 11, 26, 23, 59)),  # Monday: the Thursday before
        (date(2026, 11, 13), paris(2026, 11, 10, 23, 59)),  # Friday: 11 November (Wednesday) is skipped
        (date(2026, 11, 12), paris(2026, 11, 9, 23, 59)),  # Thursday: Wed 11 skipped, Tue 10 and Mon 9 count
        (date(2027, 1, 4), paris(2026, 12, 30, 23, 59)),  # back from Christmas: 1 January is skipped
        (date(2027, 3, 30), paris(2027, 3, 25, 23, 59)),  # Easter Monday skipped
        (date(2027, 5, 10), paris(2027, 5, 5, 23, 59)),  # Monday after Ascension: the bridge Friday is a working day
    ],
)
def test_cancellation_limit_is_two_working_days_before(day, last_moment):
    assert SEED_CANCEL.limit(day, CAL) == last_moment
    check_cancellation(day, SEED_CANCEL, CAL, last_moment)
    with pytest.raises(DeadlinePassed):
        check_cancellation(day, SEED_CANCEL, CAL, last_moment + timedelta(minutes=1))


def test_refusals_name_the_exact_limit_in_french():
    with pytest.raises(DeadlinePassed) as err:
        check_cancellation(date(2026, 12, 1), SEED_CANCEL, CAL, paris(2026, 11, 28))
    assert err.value.message == (
        "Annulation impossible pour le mardi 1 décembre 2026 : la limite était le vendredi 27 novembre 2026 à 23 h 59."
    )
    with pytest.raises(DeadlinePassed) as err:
        check_booking(date(2026, 12, 7), SEED_BOOK, CAL, paris(2026, 12, 1))
    assert err.value.message == (
        "Réservation impossible pour le lundi 7 décembre 2026 : la limite était le lundi 30 novembre 2026 à 23 h 59."
    )


@pytest.mark.parametrize(
    "rule, day, limit",
    [
        (
            DeadlineRule(7, False, time(23, 59)),
            date(2026, 12, 25),
            paris(2026, 12, 18, 23, 59),
        ),  # calendar days ignore holidays
        (DeadlineRule(2, True, time(10, 0)), date(2026, 12, 1), paris(2026, 11, 27, 10, 0)),  # a cut-off hour
        (DeadlineRule(0, True, time(8, 0)), date(2026, 12, 1), paris(2026, 12, 1, 8, 0)),  # same morning
        (DeadlineRule(1, True, time(23, 59)), date(2027, 5, 7), paris(2027, 5, 5, 23, 59)),  # Ascension skipped
    ],
)
def test_rules_are_settings(rule, day, limit):
    assert rule.limit(day, CAL) == limit


@pytest.mark.parametrize("days", [-1, 61, 2.5, "2"])
def test_absurd_delays_are_refused(days):
    with pytest.raises(InvalidInput):
        DeadlineRule(days, True, time(23, 59))


@pytest.mark.parametrize(
    "working, cutoff, words",
    [
        ("oui", time(23, 59), "Jours ouvrés ou jours calendaires"),
        (1, time(23, 59), "Jours ouvrés ou jours calendaires"),
        (True, None, "Heure limite illisible"),
        (True, "18:00", "Heure limite illisible"),
    ],
)
def test_a_rule_is_whole_or_refused(working, cutoff, words):
    with pytest.raises(InvalidInput, match=words):
        DeadlineRule(2, working, cutoff)


@pytest.mark.parametrize(
    "rule, caption",
    [
        (SEED_BOOK, "jusqu'à 7 jour(s) avant, 23 h 59"),
        (SEED_CANCEL, "jusqu'à 2 jour(s) ouvré(s) avant, 23 h 59"),
        (DeadlineRule(0, True, time(8, 5)), "jusqu'à 0 jour(s) ouvré(s) avant, 8 h 05"),
    ],
)
def test_a_rule_describes_itself_in_french(rule, caption):
    assert rule.describe() == caption


def test_a_limit_reads_with_or_without_its_article():
    moment = paris(2026, 11, 27, 23, 59)
    assert limit_text(moment) == "le vendredi 27 novembre 2026 à 23 h 59"
    assert limit_text(moment, article=False) == "vendredi 27 novembre 2026 à 23 h 59"


def test_the_form_gives_a_rule_to_the_minute():
    rule = deadline_rule(3, True, time(18, 30, 45, 10), of="d'annulation")
    assert rule == DeadlineRule(3, True, time(18, 30))


@pytest.mark.parametrize(
    "days, cutoff, message",
    [
        (MAX_DELAY_DAYS + 1, time(23, 59), "Délai de réservation : saisissez un nombre entier entre 0 et 60."),
        (-1, time(23, 59), "Délai de réservation : saisissez un nombre entier entre 0 et 60."),
        ("7", time(23, 59), "Délai de réservation : saisissez un nombre entier entre 0 et 60."),
        (True, time(23, 59), "Délai de réservation : saisissez un nombre entier entre 0 et 60."),
        (7, "23:59", "Heure limite de réservation illisible."),
        (7, None, "Heure limite de réservation illisible."),
    ],
)
def test_the_form_refuses_a_rule_in_french_naming_the_field(days, cutoff, message):
    with pytest.raises(InvalidInput) as err:
        deadline_rule(days, False, cutoff, of="de réservation")
    assert err.value.message == message


def test_period_checks():
    year = {
        "year_start": date(2026, 9, 1),
        "year_end": date(2027, 7, 2),
        "year_label": "2026/2027",
        "today": date(2026, 11, 27),
    }
    check_period(date(2026, 12, 1), date(2027, 7, 2), **year)
    cases = [
        ((None, date(2027, 1, 1)), "Indiquez"),
        ((date(2027, 1, 10), date(2027, 1, 1)), "précède"),
        ((date(2026, 8, 20), date(2027, 1, 1)), "année scolaire 2026/2027"),
        ((date(2026, 12, 1), date(2027, 7, 30)), "année scolaire 2026/2027"),
        ((date(2026, 9, 1), date(2026, 10, 1)), "entièrement passée"),
    ]
    for (start, end), words in cases:
        with pytest.raises(InvalidInput, match=words):
            check_period(start, end, **year)


NOW = paris(2026, 11, 27, 9, 30)


def test_template_books_ticked_days_skips_closed_and_late_ones_and_cancels_the_rest():
    now = paris(2026, 12, 2, 10)
    current = {
        (1, date(2026, 12, 10)): "booked",
        (1, date(2026, 12, 3)): "booked",
        (1, date(2026, 12, 7)): "booked",
        (1, date(2026, 11, 26)): "booked",
    }
    plan = plan_template({1: [1, 2, 5]}, [CANTEEN], date(2026, 11, 23), date(2027, 1, 8), current, CAL, now)
    assert (1, date(2026, 12, 10)) in plan.to_cancel  # a Thursday, still cancellable
    assert (1, date(2026, 12, 3)) not in plan.to_cancel  # too late to cancel: kept, and said
    assert any(s.day == date(2026, 12, 3) and "conservée" in s.reason for s in plan.skipped)
    assert (1, date(2026, 11, 26)) not in plan.to_cancel  # the past is never touched
    assert (1, date(2026, 12, 7)) not in plan.to_book  # already booked: unchanged
    assert (1, date(2026, 12, 8)) not in plan.to_book  # booking limit (1 December) passed
    assert any(s.day == date(2026, 12, 8) and s.reason == "Délai de réservation dépassé" for s in plan.skipped)
    assert (1, date(2026, 12, 11)) in plan.to_book
    skipped = dict(plan.skipped_by_reason())
    assert skipped["Vacances de Noël"] == 4  # 21, 22, 28, 29 December
    assert skipped["Jour férié (Noël)"] == skipped["Jour férié (Jour de l'an)"] == 1
    assert not [k for k in plan.to_book if k[1].isoweekday() == 4]


def test_template_refuses_bad_grids():
    with pytest.raises(InvalidInput, match="La semaine type n'a pas changé"):
        plan_template({}, [CANTEEN], date(2026, 12, 1), date(2027, 1, 8), {}, CAL, NOW)
    with pytest.raises(InvalidInput, match="pas assurée le mercredi"):
        plan_template({1: [3]}, [CANTEEN], date(2026, 12, 1), date(2027, 1, 8), {}, CAL, NOW)
    with pytest.raises(InvalidInput, match="Prestation inconnue"):
        plan_template({99: [1]}, [CANTEEN], date(2026, 12, 1), date(2027, 1, 8), {}, CAL, NOW)


def test_occasional_days_are_all_or_nothing():
    plan = plan_days(CANTEEN, [date(2026, 12, 7), date(2026, 12, 8)], [], {}, CAL, NOW)
    assert plan.to_book == [(1, date(2026, 12, 7)), (1, date(2026, 12, 8))]
    with pytest.raises(DeadlinePassed, match="vendredi 4 décembre 2026 : la limite était le vendredi 27 novembre"):
        plan_days(CANTEEN, [date(2026, 12, 7), date(2026, 12, 4)], [], {}, CAL, paris(2026, 12, 1))
    with pytest.raises(InvalidInput, match="n'est pas assurée"):
        plan_days(CANTEEN, [date(2026, 12, 21)], [], {}, CAL, NOW)
    with pytest.raises(InvalidInput, match="à la fois réservé et annulé"):
        plan_days(CANTEEN, [date(2026, 12, 7)], [date(2026, 12, 7)], {}, CAL, NOW)
    with pytest.raises(DeadlinePassed, match="déjà passé"):
        plan_days(CANTEEN, [], [date(2026, 11, 20)], {(1, date(2026, 11, 20)): "booked"}, CAL, NOW)
    # staff override: past the deadline, even a past day
    late = plan_days(CANTEEN, [], [date(2026, 11, 20)], {(1, date(2026, 11, 20)): "booked"}, CAL, NOW, override=True)
    assert late.to_cancel == [(1, date(2026, 11, 20))]


def test_occasional_days_touch_only_the_days_they_name():
    # A past day, marked or not, that the save does not name is never read as a cancellation:
    # the month table once sent its unticked box and the whole save was refused.
    current = {(1, date(2026, 12, 1)): "booked", (1, date(2026, 12, 8)): "booked", (1, date(2026, 12, 10)): "booked"}
    plan = plan_days(CANTEEN, [date(2026, 12, 11)], [date(2026, 12, 10)], current, CAL, paris(2026, 12, 2, 10))
    assert plan.to_book == [(1, date(2026, 12, 11))] and plan.to_cancel == [(1, date(2026, 12, 10))]
    # Naming a day already in the state asked for changes nothing, whatever its deadline.
    same = plan_days(CANTEEN, [date(2026, 12, 1)], [date(2026, 12, 3)], current, CAL, paris(2026, 12, 2, 10))
    assert same.is_empty and same.unchanged == 2


def test_template_leaves_the_services_it_does_not_name_as_they_are():
    current = {(2, date(2026, 12, 9)): "booked", (2, date(2026, 12, 16)): "booked", (1, date(2026, 12, 10)): "booked"}
    plan = plan_template({1: [1, 2, 5]}, [CANTEEN, WEDNESDAY], date(2026, 12, 7), date(2027, 1, 8), current, CAL, NOW)
    assert not [k for k in plan.to_cancel + plan.to_book if k[0] == 2]  # Wednesdays untouched
    assert (1, date(2026, 12, 10)) in plan.to_cancel  # Thursday unticked: cancelled
    # A service named with every box unticked: the parent cancels its days.
    stop = plan_template({2: []}, [CANTEEN, WEDNESDAY], date(2026, 12, 7), date(2027, 1, 8), current, CAL, NOW)
    assert stop.to_cancel == [(2, date(2026, 12, 9)), (2, date(2026, 12, 16))] and not stop.to_book


def test_the_current_pattern_is_what_most_weeks_hold():
    first, last = date(2026, 11, 30), date(2027, 1, 29)
    days = CAL.service_days(CANTEEN.weekdays, first, last)
    current = {(1, d): "booked" for d in days if d.isoweekday() in (1, 2, 5)}
    current[(1, date(2026, 12, 3))] = "booked"  # one odd Thursday is not a habit
    current.pop((1, date(2026, 12, 7)))  # one Monday missed is still a habit
    current[(1, date(2026, 12, 11))] = "cancelled"
    wed = list(CAL.service_days((3,), first, last))
    current.update({(2, d): "waiting" for d in wed[: (len(wed) + 1) // 2]})  # half the Wednesdays or more, waiting
    pattern = current_pattern([CANTEEN, WEDNESDAY], current, CAL, first, last)
    assert pattern == {1: (1, 2, 5), 2: (3,)}
    assert current_pattern([CANTEEN], {}, CAL, first, last) == {1: ()}


def test_a_plan_lists_its_days_month_by_month():
    plan = Plan(
        to_book=[(1, date(2027, 1, 4)), (1, date(2026, 12, 7)), (2, date(2026, 12, 7))],
        to_cancel=[(1, date(2026, 12, 10))],
    )
    assert plan.by_month() == [
        (date(2026, 12, 1), [(1, date(2026, 12, 7)), (2, date(2026, 12, 7))], [(1, date(2026, 12, 10))]),
        (date(2027, 1, 1), [(1, date(2027, 1, 4))], []),
    ]


def test_calendar_cells_say_what_each_day_is():
    bookings = {
        (1, date(2026, 12, 1)): "booked",
        (1, date(2026, 12, 14)): "cancelled",
        (1, date(2026, 12, 15)): "waiting",
    }
    attendance = {(1, date(2026, 11, 26)): "present", (1, date(2026, 11, 24)): "justified"}
    cells = {
        (c.service_id, c.day): c
        for c in day_cells([CANTEEN, WEDNESDAY], date(2026, 11, 23), date(2026, 12, 31), bookings, attendance, CAL, NOW)
    }
    assert cells[(1, date(2026, 11, 26))].state is State.PRESENT
    assert cells[(1, date(2026, 11, 24))].state is State.JUSTIFIED
    assert cells[(1, date(2026, 12, 1))].state is State.BOOKED and not cells[(1, date(2026, 12, 1))].locked
    assert "27 novembre 2026 à 23 h 59" in cells[(1, date(2026, 12, 1))].note
    assert cells[(1, date(2026, 12, 3))].state is State.LOCKED
    assert cells[(1, date(2026, 12, 7))].state is State.BOOKABLE
    assert cells[(1, date(2026, 12, 14))].state is State.CANCELLED
    assert cells[(1, date(2026, 12, 15))].state is State.WAITING
    assert (
        cells[(1, date(2026, 12, 21))].state is State.CLOSED
        and cells[(1, date(2026, 12, 21))].note == "Vacances de Noël"
    )
    assert cells[(2, date(2026, 12, 2))].state is State.LOCKED  # booking closed on 25 November
    assert cells[(2, date(2026, 12, 9))].state is State.BOOKABLE
    assert (1, date(2026, 12, 2)) not in cells  # no canteen on Wednesdays
    preview = Plan(to_book=[(1, date(2026, 12, 7))], to_cancel=[(1, date(2026, 12, 1))])
    cells = {
        (c.service_id, c.day): c
        for c in day_cells([CANTEEN], date(2026, 12, 1), date(2026, 12, 8), bookings, {}, CAL, NOW, preview)
    }
    assert cells[(1, date(2026, 12, 7))].state is State.TO_BOOK
    assert cells[(1, date(2026, 12, 1))].state is State.TO_CANCEL


# --- properties ---------------------------------------------------------------------------------

closures = st.lists(
    st.builds(
        lambda d, n, site, service: Closure(d, d + timedelta(days=n), "fermeture", site, service),
        st.dates(date(2026, 9, 1), date(2027, 7, 2)),
        st.integers(0, 6),
        st.sampled_from([None, 1, 3]),
        st.sampled_from([None, 1, 2]),  # every service, the canteen only, the Wednesday meal only
    ),
    max_size=3,
)
weekday_sets = st.sets(st.sampled_from([1, 2, 4, 5]), min_size=1)
nows = st.builds(
    lambda d, h: datetime.combine(d, time(h), PARIS), st.dates(date(2026, 9, 1), date(2027, 6, 1)), st.integers(0, 23)
)


@settings(max_examples=80, deadline=None)
@given(
    ticked=weekday_sets,
    wed=st.booleans(),
    closed=closures,
    now=nows,
    start_offset=st.integers(0, 200),
    length=st.integers(0, 200),
    override=st.booleans(),
)
def test_template_never_books_a_closed_day_or_a_day_the_service_is_not_given(
    ticked, wed, closed, now, start_offset, length, override
):
    cal = SchoolCalendar(zone="C", closures=tuple(closed))
    start = date(2026, 9, 1) + timedelta(days=start_offset)
    end = min(start + timedelta(days=length), date(2027, 7, 2))
    template = {1: ticked, 2: [3] if wed else []}
    plan = plan_template(template, [CANTEEN, WEDNESDAY], start, end, {}, cal, now, override=override)
    services = {1: CANTEEN, 2: WEDNESDAY}
    for service_id, day in plan.to_book:
        service = services[service_id]
        assert day.isoweekday() in template[service_id]
        assert cal.day_off_reason(day, service.site_id, service.id) is None
        assert max(start, now.date()) <= day <= end
        assert override or service.book.allows(day, cal, now)
    assert plan.to_cancel == []  # nothing was booked before


def test_a_strike_of_the_canteen_closes_its_cells_and_leaves_the_wednesday_centre_open():
    strike = Closure(date(2026, 12, 1), date(2026, 12, 4), "grève du personnel", service_id=1, kind=ClosureKind.STRIKE)
    cal = SchoolCalendar(zone="C", closures=(strike,))
    cells = {
        (c.service_id, c.day): c
        for c in day_cells([CANTEEN, WEDNESDAY], date(2026, 12, 1), date(2026, 12, 4), {}, {}, cal, NOW)
    }
    closed = cells[(1, date(2026, 12, 1))]
    assert closed.state is State.CLOSED and closed.note == "Grève : grève du personnel"
    assert cells[(2, date(2026, 12, 2))].state is not State.CLOSED
    plan = plan_days(CANTEEN, [date(2026, 12, 7)], [], {}, cal, NOW)
    assert plan.to_book == [(1, date(2026, 12, 7))]
    with pytest.raises(InvalidInput, match="Grève : grève du personnel"):
        plan_days(CANTEEN, [date(2026, 12, 3)], [], {}, cal, NOW, override=True)
    plan_days(WEDNESDAY, [date(2026, 12, 2)], [], {}, cal, NOW, override=True)  # the centre stays bookable


def applied(booked: set[tuple[int, date]], plan: Plan) -> set[tuple[int, date]]:
    """The booked set once the store has written the plan (its days to cancel, then to book)."""
    return (booked - set(plan.to_cancel)) | set(plan.to_book)


@settings(max_examples=60, deadline=None)
@given(ticked=weekday_sets, existing=st.sets(st.dates(date(2026, 11, 30), date(2027, 3, 31)), max_size=30), now=nows)
def test_apply_then_cancel_restores_the_previous_state(ticked, existing, now):
    current = {(1, d): "booked" for d in existing if d.isoweekday() in CANTEEN.weekdays and CAL.is_school_day(d)}
    before = set(current)
    start, end = date(2026, 11, 30), date(2027, 3, 31)
    plan = plan_template({1: ticked}, [CANTEEN], start, end, current, CAL, now, override=True)
    after = applied(before, plan)
    # Undo: what was booked is cancelled again, what was cancelled is booked again.
    undo = Plan(to_book=plan.to_cancel, to_cancel=plan.to_book)
    assert applied(after, undo) == before
    # And a day-by-day undo through plan_days (staff override) gives the same.
    for month_start in (date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)):
        month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        days = list(CAL.service_days(CANTEEN.weekdays, month_start, month_end))
        wanted = {d for (_, d) in before if month_start <= d <= month_end}
        state = {k: "booked" for k in after if month_start <= k[1] <= month_end}
        active = {d for (_, d) in state}
        step = plan_days(CANTEEN, wanted - active, set(days) - wanted, state, CAL, now, override=True)
        after = applied(after, step)
    assert after == before
