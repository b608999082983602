"""The links' table: a link is used once, never at or after its expiry, and a newer one voids the older."""

from datetime import datetime, timedelta

from lib.domain.account_links import LinkPurpose
from lib.store import links

MADE = datetime(2026, 11, 27, 8, 30)
RESET = LinkPurpose.PASSWORD_RESET


def _issue(db, token_hash, user_id=1, at=MADE):
    return db.write(lambda cur: links.issue(cur, token_hash, RESET, user_id, at, at + timedelta(hours=1)))


def _consume(db, token_hash, at, purpose=RESET):
    return db.write(lambda cur: links.consume(cur, token_hash, purpose, at))


def test_a_link_is_consumed_once(fresh_db):
    _issue(fresh_db, "h1")
    first = _consume(fresh_db, "h1", MADE + timedelta(minutes=5))
    assert first is not None and first.user_id == 1 and first.purpose is RESET
    assert _consume(fresh_db, "h1", MADE + timedelta(minutes=6)) is None
    assert links.peek(fresh_db, "h1").used_at == MADE + timedelta(minutes=5)


def test_a_link_is_not_consumed_at_its_expiry_nor_for_another_purpose(fresh_db):
    _issue(fresh_db, "h1")
    assert _consume(fresh_db, "h1", MADE, LinkPurpose.INVITATION) is None
    assert _consume(fresh_db, "h1", MADE + timedelta(hours=1)) is None
    assert _consume(fresh_db, "h1", MADE + timedelta(hours=1) - timedelta(microseconds=1)) is not None


def test_a_newer_link_voids_the_older_ones_of_the_same_user_and_purpose_only(fresh_db):
    _issue(fresh_db, "old")
    _issue(fresh_db, "other user", user_id=2)
    assert _issue(fresh_db, "new", at=MADE + timedelta(minutes=1)) == 1
    assert _consume(fresh_db, "old", MADE + timedelta(minutes=2)) is None
    assert _consume(fresh_db, "other user", MADE + timedelta(minutes=2)) is not None
    assert _consume(fresh_db, "new", MADE + timedelta(minutes=2)) is not None
