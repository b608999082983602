"""A child's calendar feed (« Calendrier du téléphone »): a secret address a family subscribes its
phone to, with the booked days and their cancellation limits (lib/domain/calendar_feed.py).

The address is the only credential, so it is handled like a session token: made by `secrets`,
shown once, stored as its sha256, never written to the audit log. A family makes, replaces and
deletes the links of its own children only; the staff do not (it is the family's phone). A link
stops working when it is replaced or deleted, and also when the account that made it is
deactivated or no longer belongs to the child's family: `ics` then answers None, like for a
token it never knew.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from lib.domain import calendar_feed as rules
from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.records import Child
from lib.domain.validation import is_id
from lib.services import payments, reservations, trail
from lib.services.auth import token_hash
from lib.store import audit, reference
from lib.store import bookings as children
from lib.store import calendar_feeds as store
from lib.store.db import Database

PATH = "/calendrier/"
SUFFIX = ".ics"
TOKEN_MAX_LENGTH = 128
READ_NOTED_EVERY = timedelta(hours=1)  # last_read_at is written at most this often
NO_HOST = "portail-famille.invalid"  # the events' UID host while the town has no public address
FAMILIES_ONLY = "Le calendrier du téléphone se règle depuis le compte de la famille."
ALREADY = "Un lien existe déjà pour cet enfant : remplacez-le ou supprimez-le."
NONE_YET = "Aucun lien de calendrier pour cet enfant : créez-en un."
NO_ADDRESS = (
    "Le calendrier du téléphone n'est pas encore disponible : l'adresse publique du portail n'est pas configurée. "
    "Contactez la mairie."
)


@dataclass(frozen=True)
class FeedLinks:
    """The two ways to give the feed to a phone: the https address, and the same as webcal://,
    which a phone hands straight to its calendar application."""

    https: str
    webcal: str


def _own_child(db: Database, actor: Actor, child_id: object) -> Child:
    """The child, if it is one of the actor's family's; the staff are refused (their phone is not
    the family's), then the booking's rule and refusal (`reservations._may_act_on`)."""
    if not actor.is_family:
        raise NotAllowed(FAMILIES_ONLY)
    found = children.child(db, child_id) if is_id(child_id) else None
    return reservations._may_act_on(actor, found)


def _base(db: Database) -> str | None:
    return payments.public_address(reference.settings(db))


def links(db: Database, token: str) -> FeedLinks:
    """The addresses of a feed, from the portal's configured public address only (never a request's
    Host): refused in French while the town has not configured it."""
    base = _base(db)
    if base is None:
        raise InvalidInput(NO_ADDRESS)
    https = f"{base}{PATH}{token}{SUFFIX}"
    return FeedLinks(https=https, webcal="webcal://" + https.split("://", 1)[1])


def feeds(db: Database, actor: Actor, child_id: object) -> list[rules.FeedRecord]:
    """The child's working feeds (created on, last read)."""
    child = _own_child(db, actor, child_id)
    return store.active(db, child.id)


def _make(db: Database, actor: Actor, child_id: object, now: datetime, *, replacing: bool, action: str) -> str:
    with trail.refusals_audited(db, actor, now, "calendar.feed_refused", "child", child_id):
        child = _own_child(db, actor, child_id)
        if _base(db) is None:
            raise InvalidInput(NO_ADDRESS)
    token = secrets.token_urlsafe(32)
    at = to_utc_naive(now)

    def work(cur) -> None:
        existing = store.active(cur, child.id)
        if existing and not replacing:
            raise InvalidInput(ALREADY)
        if replacing and not existing:
            raise InvalidInput(NONE_YET)
        revoked = store.revoke(cur, child.id, at) if replacing else []
        feed_id = store.create(cur, token_hash(token), child.id, actor.user_id, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action=action,
            entity="child",
            entity_id=child.id,
            before={"feeds": revoked} if revoked else None,
            after={"feed": feed_id},
        )

    db.write(work)
    return token


def create(db: Database, actor: Actor, child_id: object, now: datetime) -> str:
    """Make the child's feed; its token, which nobody can read again (only its hash is kept)."""
    return _make(db, actor, child_id, now, replacing=False, action="calendar.feed_created")


def replace(db: Database, actor: Actor, child_id: object, now: datetime) -> str:
    """Revoke the child's feed and make a new one (a phone lost, an address shared too widely)."""
    return _make(db, actor, child_id, now, replacing=True, action="calendar.feed_replaced")


def revoke(db: Database, actor: Actor, child_id: object, now: datetime) -> None:
    """Delete the child's feed: its address answers « introuvable » from now on."""
    with trail.refusals_audited(db, actor, now, "calendar.feed_refused", "child", child_id):
        child = _own_child(db, actor, child_id)
    at = to_utc_naive(now)

    def work(cur) -> None:
        revoked = store.revoke(cur, child.id, at)
        if not revoked:
            raise InvalidInput(NONE_YET)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="calendar.feed_revoked",
            entity="child",
            entity_id=child.id,
            before={"feeds": revoked},
        )

    db.write(work)


def ics(db: Database, token: str, now: datetime) -> bytes | None:
    """The feed's file, or None for a token that is unknown, revoked, or whose account is gone."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    found = store.readable(db, token_hash(token))
    if found is None:
        return None
    at = to_utc_naive(now)
    if found["last_read_at"] is None or at - found["last_read_at"] >= READ_NOTED_EVERY:
        store.touch(db, found["id"], at)
    return rules.ics(_feed(db, found["child_id"], found["first_name"], now))


def _feed(db: Database, child_id: int, first_name: str, now: datetime) -> rules.Feed:
    today = now.date()
    year = reference.current_school_year(db, today)
    first, last = rules.window(today, year.end_date if year else today)
    calendar = reference.school_calendar(db)
    rows = store.feed_days(db, child_id, first, last)
    days = tuple(
        rules.feed_day(r["id"], r["short_name"], r["day"], r["waiting"], r["deadlines"].cancel, calendar) for r in rows
    )
    sites = {r["site_id"] for r in rows} | set(store.registered_sites(db, child_id, year.id) if year else [])
    values = reference.settings(db)
    base = payments.public_address(values)
    return rules.Feed(
        child_id=child_id,
        first_name=first_name,
        town=values["town_name"],
        host=(urlsplit(base).hostname if base else None) or NO_HOST,
        days=days,
        closures=rules.site_closures(calendar.closures, sites, first, last),
        stamp=now,
    )
