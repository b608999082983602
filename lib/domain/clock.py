"""Time zone rules. The real clock is read only at the edges (pages, routes); everything else
receives `today` or `now` as an argument."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def to_utc_naive(moment: datetime) -> datetime:
    """What the database stores: UTC without tzinfo."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_utc_naive(stored: datetime) -> datetime:
    return stored.replace(tzinfo=UTC).astimezone(PARIS)
