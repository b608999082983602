"""The one French formatting module: what every page, message and PDF shows."""

from datetime import date, datetime, time

import pytest

from lib.domain import fr
from lib.domain.clock import PARIS


@pytest.mark.parametrize(
    ("cents", "shown"),
    [(1240, "12,40\u00a0€"), (0, "0,00\u00a0€"), (123456, "1\u202f234,56\u00a0€"), (-550, "-5,50\u00a0€")],
)
def test_euros(cents, shown):
    assert fr.euros(cents) == shown


def test_dates_and_times():
    assert fr.long_date(date(2026, 11, 30)) == "lundi 30 novembre 2026"
    assert fr.short_date(date(2026, 11, 30)) == "lun. 30/11"
    assert fr.numeric_date(date(2026, 11, 30)) == "30/11/2026"
    assert fr.month_year(date(2026, 2, 1)) == "février 2026"
    moment = datetime(2026, 11, 26, 23, 59, tzinfo=PARIS)
    assert fr.hour(moment) == "23 h 59"
    assert fr.hour(datetime(2026, 7, 1, 7, 5, tzinfo=PARIS)) == "7 h 05"
    assert fr.numeric_date_time(moment) == "26/11/2026 à 23 h 59"


@pytest.mark.parametrize(
    "moment, shown",
    [(time(9, 30), "9 h 30"), (time(14, 5), "14 h 05"), (time(0, 0), "0 h 00"), (time(23, 59), "23 h 59")],
)
def test_a_time_of_day_as_the_french_write_it(moment, shown):
    assert fr.time_of_day(moment) == shown


def test_times_are_shown_in_paris_whatever_the_zone_given():
    from datetime import UTC

    assert fr.hour(datetime(2026, 11, 26, 22, 59, tzinfo=UTC)) == "23 h 59"  # winter: UTC+1
    assert fr.hour(datetime(2026, 7, 1, 5, 0, tzinfo=UTC)) == "7 h 00"  # summer: UTC+2


def test_percent():
    assert fr.percent(187, 200) == "93,5\u202f%"
    assert fr.percent(1, 3, digits=0) == "33\u202f%"
    assert fr.percent(5, 0) == "—"
    assert fr.decimal(93.46) == "93,5" and fr.decimal(None) == "—" and fr.decimal(float("nan")) == "—"
    assert fr.decimal(12345.0, 0) == "12\u202f345"
