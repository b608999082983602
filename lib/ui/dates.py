"""Choosing a day in French. Streamlit's date picker shows English months in its calendar and
reads them out in English to screen readers ("11 – November"); a list of French dates does
neither, works with the keyboard (type « 30 nov » to filter, Enter) and on a phone."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from lib.domain import fr


def day_picker(
    label: str, first: date, last: date, value: date, *, key: str, where=st, help: str | None = None
) -> date:
    """A day between `first` and `last` (inclusive), `value` chosen at first (kept within them)."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    value = min(max(value, first), last)
    if key in st.session_state and st.session_state[key] not in days:
        del st.session_state[key]  # a day from another year or child: start again from `value`
    return where.selectbox(label, days, index=days.index(value), format_func=fr.long_date, key=key, help=help)


def around(today: date, *, before: int = 366, after: int = 366) -> tuple[date, date]:
    """The span offered to staff: a year back and a year ahead."""
    return today - timedelta(days=before), today + timedelta(days=after)
