"""How long a failed login makes the next one wait, and how long an idle session lives.

Throttling follows OWASP's advice and django-axes' "username + address" lockout: a failure slows
the next attempt for the same account *from the same address* only, so that nobody can lock the
real owner out by guessing from elsewhere; and an address that guesses at many accounts is slowed
for the accounts it has never logged in to. Delays grow with each failure up to a ceiling and are
never a hard lockout: the owner's right password always works once the (short) wait is over.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from lib.domain.roles import Role


@dataclass(frozen=True)
class Schedule:
    """`free` failures cost nothing; the next waits `first`, then twice as long each time, up to `ceiling`."""

    free: int
    first: timedelta
    ceiling: timedelta

    def wait_after(self, failures: int) -> timedelta:
        if failures <= self.free:
            return timedelta(0)
        doublings = min(failures - self.free - 1, 32)  # 2**32 × 5 s is far past any ceiling
        wait: timedelta = min(self.first * 2**doublings, self.ceiling)
        return wait


# One account from one address: a mistyped password or three cost nothing; then 5 s, 10 s, … 15 min.
PAIR = Schedule(free=3, first=timedelta(seconds=5), ceiling=timedelta(minutes=15))
# One address, counting only accounts it has never logged in to: a family sharing a school's or a
# mobile operator's address gets room for everyone's typos before anyone waits.
ADDRESS = Schedule(free=10, first=timedelta(seconds=5), ceiling=timedelta(minutes=15))
# Failures older than this are forgotten (django-axes' cool-off).
FORGET_AFTER = timedelta(hours=24)
# An address an account has not logged in from for this long is a stranger to it again.
KNOWN_FOR = timedelta(days=90)

# Staff sessions open the files of every family: they end after 2 hours without use; a family's after 12.
IDLE_TIMEOUT = {role: timedelta(hours=2) for role in Role} | {Role.FAMILY: timedelta(hours=12)}
SESSION_LIFETIME = timedelta(days=7)
# A session's « last seen » is written at most this often: not a database write on every click.
TOUCH_EVERY = timedelta(minutes=1)

NO_ADDRESS = "inconnue"


def address_key(client_host: str | None) -> str:
    """The address as the throttle counts it. An IPv6 client owns a whole /64 (one home or phone
    gets 2^64 addresses), so its /64 is the unit; anything unreadable is one shared bucket."""
    try:
        address = ipaddress.ip_address((client_host or "").strip())
    except ValueError:
        return NO_ADDRESS
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def counted_failures(failures: int, last_failure: datetime | None, now: datetime) -> int:
    """The failures still held against a key at `now` (all of them forgotten after a quiet day)."""
    if last_failure is None or now - last_failure >= FORGET_AFTER:
        return 0
    return failures


def seconds_to_wait(retry_at: datetime | None, now: datetime) -> int:
    """Whole seconds until `retry_at` (rounded up), 0 if it has passed."""
    if retry_at is None or retry_at <= now:
        return 0
    return max(1, math.ceil((retry_at - now).total_seconds()))


@dataclass(frozen=True)
class Quota:
    """At most `limit` requests in a window of `window` that opens with the first of them (the
    « mot de passe oublié » requests). Kept in a `login_throttle` row: `failures` counts the window's
    requests, `last_failure_at` is when it opened, `retry_at` when it closes."""

    limit: int
    window: timedelta

    def used(self, count: int, opened_at: datetime | None, now: datetime) -> int:
        """The requests still counted at `now` (0 once the window has closed)."""
        if opened_at is None or now - opened_at >= self.window:
            return 0
        return count


# Reset messages per account: a fourth request in the hour is answered the same way but sends nothing.
RESET_PER_EMAIL = Quota(limit=3, window=timedelta(hours=1))
# Reset requests per address, whatever the e-mail typed: a household or a school behind one address
# has room; a script trying addresses is told to wait.
RESET_PER_ADDRESS = Quota(limit=20, window=timedelta(hours=1))
