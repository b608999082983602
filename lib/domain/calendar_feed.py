"""A child's calendar feed (« Calendrier du téléphone »): the booked days as an iCalendar file a
phone subscribes to, each with its cancellation limit and a reminder the day before it.

Pure: the feed's records in, the `.ics` bytes out (RFC 5545 through the `icalendar` package). The
file holds the child's first name, the services' short names, the days, the limits and the
town's closures of the child's sites: never a last name, a diet, health notes or a price, since
anyone holding the address can read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from lib.domain.calendar import Closure, SchoolCalendar
from lib.domain.deadlines import DeadlineRule, limit_text
from lib.domain.fr import long_date

PRODID = "-//Portail Famille//FR"
REFRESH = timedelta(hours=6)  # how often a phone should read the feed again
PAST_DAYS = 30  # the feed starts this many days before today: last month stays visible
REMIND_BEFORE = timedelta(hours=24)  # the phone's reminder, before the cancellation limit
TEXT_MAX = 200  # a name or a reason typed by people, in one line of the file
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class FeedDay:
    """One booked (or waiting) day of one service, with the last moment it can be cancelled."""

    service_id: int
    service: str  # the service's short name: « Cantine »
    day: date
    waiting: bool
    cancel_limit: datetime  # aware (Paris)


@dataclass(frozen=True)
class Feed:
    """Everything the file says, read by the service in one go."""

    child_id: int
    first_name: str
    town: str
    host: str  # the portal's host name: the events' UIDs end with it
    days: tuple[FeedDay, ...]
    closures: tuple[Closure, ...]
    stamp: datetime  # aware: when the file is made (DTSTAMP)


@dataclass(frozen=True)
class FeedRecord:
    """A feed as the family's page lists it (the token is never kept, only its hash)."""

    id: int
    child_id: int
    created_at: datetime  # UTC (naive)
    last_read_at: datetime | None  # UTC (naive); None until a calendar reads it


def window(today: date, year_end: date) -> tuple[date, date]:
    """The days the feed covers: from a month ago to the end of the school year."""
    return today - timedelta(days=PAST_DAYS), year_end


def feed_day(
    service_id: int, service: str, day: date, waiting: bool, cancel: DeadlineRule, calendar: SchoolCalendar
) -> FeedDay:
    return FeedDay(service_id, service, day, waiting, cancel.limit(day, calendar))


def site_closures(closures: Iterable[Closure], site_ids: Iterable[int], first: date, last: date) -> tuple[Closure, ...]:
    """The town's closures that touch the child's sites (or every site) between `first` and `last`."""
    sites = set(site_ids)
    return tuple(
        c for c in closures if c.start <= last and c.end >= first and (c.site_id is None or c.site_id in sites)
    )


def reminder_at(limit: datetime) -> datetime:
    """When the phone reminds the parent: 24 real hours before the limit, in UTC (a DST change
    between the two does not move it by an hour)."""
    return limit.astimezone(UTC) - REMIND_BEFORE


def one_line(text: str) -> str:
    """Text typed by people (a first name, the town's name, a closure's reason) on one line, without
    control characters: a line break must not end a property and start another."""
    return _CONTROL.sub(" ", text).strip()[:TEXT_MAX]


def _service_word(name: str) -> str:
    """« Cantine » → « cantine », as it reads after « Alice : »."""
    return name[:1].lower() + name[1:]


def _summary(first_name: str, day: FeedDay) -> str:
    summary = f"{one_line(first_name)} : {_service_word(one_line(day.service))}"
    return f"{summary} (liste d'attente)" if day.waiting else summary


def _description(day: FeedDay, stamp: datetime) -> str:
    if stamp > day.cancel_limit:
        text = f"Annulation en ligne close depuis {limit_text(day.cancel_limit)}."
    else:
        text = f"Annulable jusqu'au {limit_text(day.cancel_limit, article=False)}."
    if day.waiting:
        text = "Liste d'attente : la place n'est pas encore confirmée. " + text
    return text


def _day_event(feed: Feed, day: FeedDay) -> Event:
    event = Event()
    event.add("uid", f"{feed.child_id}-{day.service_id}-{day.day:%Y%m%d}@{feed.host}")
    event.add("dtstamp", feed.stamp.astimezone(UTC))
    event.add("dtstart", day.day)
    event.add("dtend", day.day + timedelta(days=1))
    event.add("summary", _summary(feed.first_name, day))
    event.add("description", _description(day, feed.stamp))
    event.add("status", "TENTATIVE" if day.waiting else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    if feed.stamp <= day.cancel_limit:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add(
            "description",
            f"{_summary(feed.first_name, day)} le {long_date(day.day)} : "
            f"annulable jusqu'au {limit_text(day.cancel_limit, article=False)}.",
        )
        # VALUE=DATE-TIME: an absolute trigger; icalendar leaves the parameter out unless asked.
        alarm.add("trigger", reminder_at(day.cancel_limit), parameters={"VALUE": "DATE-TIME"})
        event.add_component(alarm)
    return event


def _closure_event(feed: Feed, closure: Closure) -> Event:
    event = Event()
    where = "tous" if closure.site_id is None else str(closure.site_id)
    event.add("uid", f"{feed.child_id}-fermeture-{where}-{closure.start:%Y%m%d}-{closure.end:%Y%m%d}@{feed.host}")
    event.add("dtstamp", feed.stamp.astimezone(UTC))
    event.add("dtstart", closure.start)
    event.add("dtend", closure.end + timedelta(days=1))
    event.add("summary", f"Accueil fermé : {one_line(closure.reason)}")
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    return event


def ics(feed: Feed) -> bytes:
    """The feed as an iCalendar file (UTF-8, CRLF line ends)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{one_line(feed.first_name)} – {one_line(feed.town)}")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)  # Outlook's and Google's name for the same wish
    for day in sorted(feed.days, key=lambda d: (d.day, d.service_id)):
        calendar.add_component(_day_event(feed, day))
    for closure in sorted(feed.closures, key=lambda c: (c.start, c.end, c.site_id or 0)):
        calendar.add_component(_closure_event(feed, closure))
    body: bytes = calendar.to_ical()
    return body
