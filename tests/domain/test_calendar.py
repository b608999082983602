from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.domain.calendar import Closure, ClosureKind, SchoolCalendar, parse_weekdays
from lib.domain.errors import InvalidInput

CAL = SchoolCalendar(zone="C")
CANTEEN = (1, 2, 4, 5)
WEDNESDAY = (3,)


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2026, 11, 10), True),  # Tuesday
        (date(2026, 11, 11), False),  # Armistice, a Wednesday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 12, 24), True),  # school holidays are still working days
        (date(2026, 12, 25), False),  # Christmas
        (date(2027, 1, 1), False),
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 5, 6), False),  # Ascension
        (date(2027, 5, 7), True),  # the bridge: school is closed, offices are not
        (date(2027, 5, 17), False),  # Whit Monday
    ],
)
def test_working_days(day, working):
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize(
    "day, reason",
    [
        (date(2026, 11, 12), None),
        (date(2026, 11, 11), "Jour férié (Armistice)"),
        (date(2026, 11, 29), "Week-end"),
        (date(2026, 12, 21), "Vacances de Noël"),
        (date(2027, 1, 4), None),  # back to school
        (date(2027, 3, 29), "Jour férié (Lundi de Pâques)"),
        (date(2027, 5, 6), "Jour férié (Ascension)"),
        (date(2027, 5, 7), "Pont de l'Ascension"),  # closed in zone C by the national calendar
        (date(2027, 5, 17), "Jour férié (Lundi de Pentecôte)"),
        (date(2027, 7, 5), "Vacances d'été"),
    ],
)
def test_day_off_reasons(day, reason):
    assert CAL.day_off_reason(day) == reason


def test_zone_matters():
    # Winter holidays 2027: zone C from 6 February, zone A from 13 February, zone B from 20.
    monday = date(2027, 2, 8)
    assert SchoolCalendar(zone="C").day_off_reason(monday) == "Vacances d'hiver"
    assert SchoolCalendar(zone="A").day_off_reason(monday) is None
    assert SchoolCalendar(zone="a").day_off_reason(date(2027, 2, 15)) == "Vacances d'hiver"
    assert SchoolCalendar(zone="B").day_off_reason(date(2027, 2, 15)) is None
    with pytest.raises(InvalidInput):
        SchoolCalendar(zone="Z")


@pytest.mark.parametrize(
    "start, count, expected",
    [
        (date(2026, 12, 1), -2, date(2026, 11, 27)),  # Tuesday minus 2 working days: the Friday before
        (date(2026, 11, 13), -2, date(2026, 11, 10)),  # 11 November is skipped
        (date(2026, 11, 12), -1, date(2026, 11, 10)),
        (date(2027, 3, 30), -2, date(2027, 3, 25)),  # Easter Monday skipped
        (date(2027, 5, 5), 1, date(2027, 5, 7)),  # Ascension skipped, the bridge Friday counts
        (date(2027, 5, 14), 1, date(2027, 5, 18)),  # Whit Monday skipped
        (date(2026, 12, 23), 2, date(2026, 12, 28)),  # Christmas and the weekend skipped
        (date(2026, 11, 27), 0, date(2026, 11, 27)),
    ],
)
def test_add_working_days(start, count, expected):
    assert CAL.add_working_days(start, count) == expected


def test_service_days_across_armistice_week():
    assert CAL.service_days(WEDNESDAY, date(2026, 11, 4), date(2026, 11, 18)) == [date(2026, 11, 4), date(2026, 11, 18)]
    assert CAL.service_days(CANTEEN, date(2026, 11, 9), date(2026, 11, 13)) == [
        date(2026, 11, 9),
        date(2026, 11, 10),
        date(2026, 11, 12),
        date(2026, 11, 13),
    ]


def test_service_days_skip_christmas_holidays():
    days = CAL.service_days(CANTEEN, date(2026, 12, 14), date(2027, 1, 8))
    assert days == [
        date(2026, 12, 14),
        date(2026, 12, 15),
        date(2026, 12, 17),
        date(2026, 12, 18),
        date(2027, 1, 4),
        date(2027, 1, 5),
        date(2027, 1, 7),
        date(2027, 1, 8),
    ]


def test_service_days_skip_ascension_and_its_bridge():
    assert CAL.service_days(CANTEEN, date(2027, 5, 3), date(2027, 5, 7)) == [date(2027, 5, 3), date(2027, 5, 4)]


def test_town_closure_applies_to_its_site_only():
    training = Closure(date(2026, 12, 2), date(2026, 12, 2), "formation des animateurs", site_id=3)
    strike = Closure(date(2027, 3, 9), date(2027, 3, 9), "grève du personnel")
    cal = SchoolCalendar(zone="C", closures=(training, strike))
    assert cal.service_days(WEDNESDAY, date(2026, 11, 30), date(2026, 12, 4), site_id=3) == []
    assert cal.service_days(WEDNESDAY, date(2026, 11, 30), date(2026, 12, 4), site_id=1) == [date(2026, 12, 2)]
    assert cal.day_off_reason(date(2026, 12, 2), site_id=3) == "Fermeture : formation des animateurs"
    # A town-wide closure, on a day both national sources leave open.
    assert CAL.day_off_reason(date(2027, 3, 9)) is None
    assert cal.day_off_reason(date(2027, 3, 9), site_id=2) == "Fermeture : grève du personnel"


@pytest.mark.parametrize(
    "day, reason",
    [
        # 2025/2026: the open data (vacances-scolaires-france) has no bridge; `holidays` has it.
        (date(2026, 5, 14), "Jour férié (Ascension)"),
        (date(2026, 5, 15), "Pont de l'Ascension"),  # no school in zone C that Friday
        (date(2026, 5, 22), None),  # the next Friday is a normal school day
        (date(2026, 5, 13), None),  # and so is the Wednesday before
        (date(2025, 5, 30), "Pont de l'Ascension"),  # last year's too
        # 2026/2027: both sources have it.
        (date(2027, 5, 6), "Jour férié (Ascension)"),
        (date(2027, 5, 7), "Pont de l'Ascension"),
        (date(2027, 5, 14), None),
    ],
)
def test_the_ascension_bridge_comes_from_the_libraries(day, reason):
    assert CAL.day_off_reason(day) == reason


def test_the_bridge_is_a_working_day_and_no_service_day():
    # Offices are open on the bridge (deadlines count it); schools, canteens and the centre are not.
    assert CAL.is_working_day(date(2026, 5, 15))
    assert not CAL.is_school_day(date(2026, 5, 15))
    assert CAL.service_days(CANTEEN, date(2026, 5, 11), date(2026, 5, 15)) == [date(2026, 5, 11), date(2026, 5, 12)]


def test_where_the_sources_disagree_the_open_data_wins():
    # `holidays` starts the 2027/2028 year on Thursday 2 September by its rule; the ministry's
    # open data says Wednesday 1 September 2027: the open data is the authority.
    assert CAL.day_off_reason(date(2027, 9, 1)) is None


def test_next_service_day_after_friday_is_monday():
    assert CAL.next_service_day(CANTEEN, date(2026, 11, 27)) == date(2026, 11, 30)
    assert CAL.next_service_day(CANTEEN, date(2026, 11, 27), inclusive=True) == date(2026, 11, 27)
    assert CAL.next_service_day(CANTEEN, date(2026, 12, 18)) == date(2027, 1, 4)
    assert CAL.next_service_day(CANTEEN, date(2027, 7, 2), horizon_days=30) is None


def test_weekday_text():
    assert parse_weekdays("1,2,4,5") == (1, 2, 4, 5)
    for bad in ("", "0", "8", "lundi", "1,,x"):
        with pytest.raises(InvalidInput):
            parse_weekdays(bad)


closures = st.lists(
    st.builds(
        lambda start, length, site, service, kind: Closure(
            start, start + timedelta(days=length), "test", site, service, kind
        ),
        st.dates(date(2026, 9, 1), date(2027, 7, 2)),
        st.integers(0, 10),
        st.sampled_from([None, 1, 2]),
        st.sampled_from([None, 1, 2]),
        st.sampled_from(list(ClosureKind)),
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(date(2025, 9, 1), date(2027, 6, 1)),
    length=st.integers(0, 120),
    weekdays=st.sets(st.integers(1, 7), min_size=1),
    site=st.sampled_from([None, 1, 2]),
    service=st.sampled_from([None, 1, 2]),
    closed=closures,
)
def test_service_days_never_fall_on_a_closed_day(start, length, weekdays, site, service, closed):
    cal = SchoolCalendar(zone="C", closures=tuple(closed))
    end = start + timedelta(days=length)
    days = cal.service_days(weekdays, start, end, site_id=site, service_id=service)
    assert days == sorted(set(days))
    for day in days:
        assert start <= day <= end
        assert day.isoweekday() in weekdays
        assert day.weekday() < 5
        assert cal.day_off_reason(day, site, service) is None
        assert cal.closure_on(day, site, service) is None
    # and every open day of the right weekday is there
    expected = [start + timedelta(days=i) for i in range(length + 1)]
    expected = [d for d in expected if d.isoweekday() in weekdays and cal.day_off_reason(d, site, service) is None]
    assert days == expected


@settings(max_examples=200, deadline=None)
@given(
    closure=closures.filter(len).map(lambda found: found[0]),
    day=st.dates(date(2026, 9, 1), date(2027, 7, 15)),
    site=st.sampled_from([None, 1, 2]),
    service=st.sampled_from([None, 1, 2]),
)
def test_a_closure_covers_its_own_site_and_service_and_no_other(closure, day, site, service):
    covered = closure.covers(day, site, service)
    if not closure.start <= day <= closure.end:
        assert not covered
    elif closure.site_id is None and closure.service_id is None:
        assert covered  # a closure of everything covers every site and service, and « none in particular »
    elif closure.service_id is not None and service != closure.service_id:
        assert not covered  # a strike of the canteen never closes the Wednesday centre
    elif closure.site_id is not None and site != closure.site_id:
        assert not covered
    else:
        assert covered


def test_each_kind_says_its_word_on_a_closed_day():
    days = [date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11)]
    cal = SchoolCalendar(
        zone="C",
        closures=(
            Closure(days[0], days[0], "inventaire"),
            Closure(days[1], days[1], "grève du personnel", service_id=1, kind=ClosureKind.STRIKE),
            Closure(days[2], days[2], "pont de printemps", site_id=2, kind=ClosureKind.BRIDGE),
        ),
    )
    assert [cal.day_off_reason(d, 2, 1) for d in days] == [
        "Fermeture : inventaire",
        "Grève : grève du personnel",
        "Pont : pont de printemps",
    ]
    assert cal.day_off_reason(days[1], 2, 3) is None and cal.day_off_reason(days[1], 2) is None
    assert cal.is_school_day(days[2], 1, 1) and not cal.is_school_day(days[2], 2, 3)
