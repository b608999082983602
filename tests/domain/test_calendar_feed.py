"""The calendar feed's file: read back with icalendar, as a phone's calendar would."""

from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar

from lib.domain import calendar_feed as feed
from lib.domain.calendar import Closure, SchoolCalendar
from lib.domain.clock import PARIS
from lib.domain.deadlines import DeadlineRule

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=PARIS)  # a Friday
CANCEL = DeadlineRule(2, True, time(23, 59))  # the seed's cancellation rule: 2 working days, 23:59
CALENDAR = SchoolCalendar("C")
CENTRE = 2


def day(service_id, name, when, waiting=False, rule=CANCEL):
    return feed.feed_day(service_id, name, when, waiting, rule, CALENDAR)


DAYS = (
    day(1, "Cantine", date(2026, 11, 30)),  # limit Thursday 26 at 23:59: passed
    day(1, "Cantine", date(2026, 12, 1)),  # limit today, Friday 27 at 23:59
    day(1, "Cantine", date(2026, 12, 3), waiting=True),
    day(3, "Après-midi", date(2026, 12, 2)),
)
CLOSURE = Closure(date(2026, 12, 16), date(2026, 12, 16), "formation des animateurs", site_id=CENTRE)


def build(days=DAYS, closures=(CLOSURE,), first_name="Alice", town="Ville de Petite-Ville") -> Calendar:
    body = feed.ics(
        feed.Feed(
            child_id=7,
            first_name=first_name,
            town=town,
            host="famille.petite-ville.test",
            days=tuple(days),
            closures=tuple(closures),
            stamp=NOW,
        )
    )
    assert isinstance(body, bytes) and body.startswith(b"BEGIN:VCALENDAR\r\n")
    return Calendar.from_ical(body)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_the_calendar_names_the_child_and_the_town_and_asks_to_be_read_every_six_hours():
    calendar = build()
    assert str(calendar["prodid"]) == "-//Portail Famille//FR"
    assert str(calendar["version"]) == "2.0"
    assert str(calendar["x-wr-calname"]) == "Alice – Ville de Petite-Ville"
    refresh = calendar["refresh-interval"]
    assert refresh.dt == timedelta(hours=6) and refresh.params["VALUE"] == "DURATION"


def test_one_all_day_event_per_booked_day_with_a_stable_uid():
    found = events(build())
    booked = {k: v for k, v in found.items() if "-fermeture-" not in k}
    assert set(booked) == {
        "7-1-20261130@famille.petite-ville.test",
        "7-1-20261201@famille.petite-ville.test",
        "7-1-20261203@famille.petite-ville.test",
        "7-3-20261202@famille.petite-ville.test",
    }
    tuesday = booked["7-1-20261201@famille.petite-ville.test"]
    assert tuesday["dtstart"].dt == date(2026, 12, 1) and tuesday["dtend"].dt == date(2026, 12, 2)
    assert tuesday["dtstart"].params["VALUE"] == "DATE"
    assert str(tuesday["summary"]) == "Alice : cantine"
    assert str(tuesday["status"]) == "CONFIRMED" and str(tuesday["transp"]) == "TRANSPARENT"
    assert str(tuesday["description"]) == "Annulable jusqu'au vendredi 27 novembre 2026 à 23 h 59."
    assert str(booked["7-3-20261202@famille.petite-ville.test"]["summary"]) == "Alice : après-midi"


def test_the_alarm_rings_24_hours_before_the_cancellation_limit_in_utc():
    for event in build().walk("VEVENT"):
        alarms = event.walk("VALARM")
        if str(event["uid"]) != "7-1-20261201@famille.petite-ville.test":
            continue
        (alarm,) = alarms
        assert str(alarm["action"]) == "DISPLAY"
        trigger = alarm["trigger"]
        assert trigger.params["VALUE"] == "DATE-TIME"
        # The limit is Friday 27 November 23:59 in Paris (22:59 UTC): the phone rings on Thursday.
        assert trigger.dt == datetime(2026, 11, 26, 22, 59, tzinfo=UTC)
        assert "cantine le mardi 1 décembre 2026" in str(alarm["description"])
    alarms = {
        str(e["uid"]): [a["trigger"].dt for a in e.walk("VALARM")] for e in build().walk("VEVENT") if "-1-" in e["uid"]
    }
    expected = {
        f"7-1-{d.day:%Y%m%d}@famille.petite-ville.test": [d.cancel_limit.astimezone(UTC) - timedelta(hours=24)]
        for d in DAYS
        if d.service_id == 1 and d.cancel_limit >= NOW
    }
    assert {k: v for k, v in alarms.items() if v} == expected


def test_a_day_past_its_limit_says_so_and_rings_no_alarm():
    monday = events(build())["7-1-20261130@famille.petite-ville.test"]
    assert monday.walk("VALARM") == []
    assert str(monday["description"]) == "Annulation en ligne close depuis le jeudi 26 novembre 2026 à 23 h 59."


def test_a_waiting_day_is_tentative_and_says_it_waits():
    waiting = events(build())["7-1-20261203@famille.petite-ville.test"]
    assert str(waiting["status"]) == "TENTATIVE"
    assert str(waiting["summary"]) == "Alice : cantine (liste d'attente)"
    assert str(waiting["description"]).startswith("Liste d'attente : la place n'est pas encore confirmée.")


def test_closures_are_shown_as_days_the_centre_is_closed():
    closure = events(build())["7-fermeture-2-20261216-20261216@famille.petite-ville.test"]
    assert str(closure["summary"]) == "Accueil fermé : formation des animateurs"
    assert closure["dtstart"].dt == date(2026, 12, 16) and closure["dtend"].dt == date(2026, 12, 17)
    assert closure.walk("VALARM") == []


def test_the_reminder_is_24_real_hours_before_the_limit_across_a_time_change():
    # Summer time starts on Sunday 28 March 2027: 24 hours before Monday 29 at 23:59 (CEST) is
    # Sunday 28 at 23:59 CEST, but 24 hours before Sunday 28 at 23:59 is Saturday 27 at 22:59 CET.
    limit = datetime(2027, 3, 28, 23, 59, tzinfo=PARIS)
    reminder = feed.reminder_at(limit)
    assert reminder.tzinfo == UTC
    assert limit - reminder == timedelta(hours=24)
    assert reminder.astimezone(PARIS).replace(tzinfo=None) == datetime(2027, 3, 27, 22, 59)


def test_the_window_starts_a_month_ago_and_ends_with_the_school_year():
    assert feed.window(date(2026, 11, 27), date(2027, 7, 3)) == (date(2026, 10, 28), date(2027, 7, 3))


def test_only_closures_of_the_childs_sites_inside_the_window_are_kept():
    everywhere = Closure(date(2026, 12, 21), date(2026, 12, 22), "grève", site_id=None)
    elsewhere = Closure(date(2026, 12, 16), date(2026, 12, 16), "travaux", site_id=9)
    before = Closure(date(2026, 9, 1), date(2026, 9, 2), "pont", site_id=CENTRE)
    overlapping = Closure(date(2026, 10, 20), date(2026, 10, 30), "vacances prolongées", site_id=CENTRE)
    kept = feed.site_closures(
        [CLOSURE, everywhere, elsewhere, before, overlapping], [CENTRE], date(2026, 10, 28), date(2027, 7, 3)
    )
    assert kept == (CLOSURE, everywhere, overlapping)


def test_text_typed_by_people_cannot_add_lines_or_events():
    hostile = "grève\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:piège; x,y"
    calendar = build(
        closures=[Closure(date(2026, 12, 16), date(2026, 12, 16), hostile, CENTRE)],
        first_name="Al\nice",
        town="Ville\r\nX-INJECTED:1",
    )
    assert len(calendar.walk("VEVENT")) == len(DAYS) + 1
    assert "X-INJECTED" not in calendar
    assert str(calendar["x-wr-calname"]) == "Al ice – Ville X-INJECTED:1"
    closure = next(e for e in calendar.walk("VEVENT") if "-fermeture-" in e["uid"])
    assert str(closure["summary"]) == "Accueil fermé : grève END:VEVENT BEGIN:VEVENT SUMMARY:piège; x,y"
    assert {str(e["summary"]) for e in calendar.walk("VEVENT")} >= {"Al ice : cantine"}


def test_a_long_reason_is_cut_to_one_reasonable_line():
    closure = Closure(date(2026, 12, 16), date(2026, 12, 16), "x" * 5000, CENTRE)
    (found,) = [e for e in build(closures=[closure]).walk("VEVENT") if "-fermeture-" in e["uid"]]
    assert len(str(found["summary"])) == len("Accueil fermé : ") + feed.TEXT_MAX


def test_an_empty_feed_is_a_valid_calendar():
    calendar = build(days=(), closures=())
    assert calendar.walk("VEVENT") == [] and str(calendar["x-wr-calname"]) == "Alice – Ville de Petite-Ville"
