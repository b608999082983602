"""The mail worker's numbers: the back-off doubles from a minute to an hour with ±20 % jitter, a
message is given up 3 days after it was queued, one-time links leave the stored bodies, the daily
jobs run once per Paris day after 8 o'clock."""

from datetime import date, datetime, time, timedelta

import pytest

from lib.domain.clock import PARIS
from lib.domain.mail_policy import (
    daily_due,
    give_up_text,
    given_up,
    retry_after,
    shortened,
)


@pytest.mark.parametrize(
    "attempts, minutes", [(1, 1), (2, 2), (3, 4), (4, 8), (6, 32), (7, 60), (20, 60), (10_000, 60)]
)
def test_the_back_off_doubles_up_to_an_hour(attempts, minutes):
    assert retry_after(attempts, lambda: 0.5) == timedelta(minutes=minutes)
    assert retry_after(attempts, lambda: 0.0) == timedelta(minutes=minutes) * 0.8
    assert retry_after(attempts, lambda: 0.999999) < timedelta(minutes=minutes) * 1.2


def test_a_message_is_given_up_three_days_after_it_was_queued():
    queued = datetime(2026, 11, 27, 8, 30)
    assert not given_up(queued, queued + timedelta(days=3) - timedelta(seconds=1))
    assert given_up(queued, queued + timedelta(days=3))
    assert give_up_text("Serveur injoignable.") == "Non remis après 3 jours d'essais : Serveur injoignable."


def test_errors_are_kept_short_and_on_one_line():
    assert shortened("a\nb\r\nc") == "a b c"
    assert len(shortened("x" * 2000)) == 500


def test_the_daily_jobs_run_once_a_paris_day_after_eight():
    day = date(2026, 11, 27)
    at = lambda h, m: datetime.combine(day, time(h, m), PARIS)  # noqa: E731
    assert not daily_due(at(7, 59), None)
    assert daily_due(at(8, 0), None) and daily_due(at(8, 0), day - timedelta(days=1))
    assert not daily_due(at(23, 0), day)
