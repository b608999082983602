"""French formatting of dates and money (babel), shared by messages and pages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency

from lib.domain.clock import PARIS

LOCALE = "fr_FR"
PRODUCT = "Portail Famille"  # the name in every tab title and document


def euros(cents: int) -> str:
    """12340 -> '123,40 €' (non-breaking spaces as French typography wants)."""
    return format_currency(Decimal(int(cents)) / 100, "EUR", locale=LOCALE)


def long_date(day: date | datetime) -> str:
    """'vendredi 27 novembre 2026'."""
    return format_date(day, "EEEE d MMMM y", locale=LOCALE)


def short_date(day: date | datetime) -> str:
    """'ven. 27/11'."""
    return format_date(day, "EEE dd/MM", locale=LOCALE)


def numeric_date(day: date | datetime) -> str:
    """'27/11/2026'."""
    return format_date(day, "dd/MM/y", locale=LOCALE)


def month_year(day: date) -> str:
    """'novembre 2026'."""
    return format_date(day, "MMMM y", locale=LOCALE)


def hour(moment: datetime) -> str:
    """'14 h 05' in Paris time (an aware datetime)."""
    local = moment.astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}"


def numeric_date_time(moment: datetime) -> str:
    """'27/11/2026 à 14 h 05' in Paris time (an aware datetime)."""
    return f"{numeric_date(moment.astimezone(PARIS))} à {hour(moment)}"
