"""French formatting of dates and money (babel), shared by messages and pages."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from lib.domain.clock import PARIS

LOCALE = "fr_FR"
PRODUCT = "Portail Famille"  # the name in every tab title and document


@lru_cache(maxsize=8192)  # a month's 30,000 invoice totals are a few thousand distinct amounts
def euros(cents: int) -> str:
    """12340 -> '123,40 €' (non-breaking spaces as French typography wants)."""
    return format_currency(Decimal(int(cents)) / 100, "EUR", locale=LOCALE)


@lru_cache(maxsize=4096)  # babel takes ~30 µs a date; a month's calendar asks for the same few again and again
def long_date(day: date | datetime) -> str:
    """'vendredi 27 novembre 2026'."""
    return format_date(day, "EEEE d MMMM y", locale=LOCALE)


@lru_cache(maxsize=4096)
def short_date(day: date | datetime) -> str:
    """'ven. 27/11'."""
    return format_date(day, "EEE dd/MM", locale=LOCALE)


@lru_cache(maxsize=4096)
def numeric_date(day: date | datetime) -> str:
    """'27/11/2026'."""
    return format_date(day, "dd/MM/y", locale=LOCALE)


@lru_cache(maxsize=4096)
def month_year(day: date) -> str:
    """'novembre 2026'."""
    return format_date(day, "MMMM y", locale=LOCALE)


def time_of_day(moment: time) -> str:
    """'9 h 30', '14 h 05': a time as the French write it (a cut-off hour, a clock's reading)."""
    return f"{moment.hour} h {moment.minute:02d}"


def hour(moment: datetime) -> str:
    """'14 h 05' in Paris time (an aware datetime)."""
    return time_of_day(moment.astimezone(PARIS).time())


def numeric_date_time(moment: datetime) -> str:
    """'27/11/2026 à 14 h 05' in Paris time (an aware datetime)."""
    return f"{numeric_date(moment.astimezone(PARIS))} à {hour(moment)}"


def decimal(value: float | None, digits: int = 1) -> str:
    """93.46 -> '93,5' (French comma, thin-space thousands); None -> '—'."""
    if value is None or value != value:  # None or NaN
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, pattern, locale=LOCALE)


def percent(part: float, whole: float, digits: int = 1) -> str:
    """part / whole as '93,5 %' (narrow space before %); '—' when whole is 0."""
    return f"{decimal(100 * part / whole, digits)}\u202f%" if whole else "—"
