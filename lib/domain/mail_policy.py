"""When the mail worker tries, tries again and gives up; what it keeps and for how long. Pure
numbers and rules: lib/services/mail_worker.py applies them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

BATCH = 50  # messages claimed at once, sent over one SMTP connection
LEASE = timedelta(minutes=5)  # a claim's lease (released at the server's start anyway)
POLL_SECONDS = 5.0  # the worker's sleep when nothing wakes it
FIRST_RETRY = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
JITTER = 0.2  # ±20 %: messages failed together do not all come back together
GIVE_UP_AFTER = timedelta(days=3)  # since the message was queued: age, not the number of tries
BODIES_KEPT = timedelta(days=90)  # after that, a sent message keeps its row (the proof), not its bodies
DAILY_AFTER = time(8, 0)  # Paris: the daily jobs run once a day, after this hour
STALE_AFTER = timedelta(minutes=15)  # a message still waiting after that: the administrator is told
ERROR_LIMIT = 500
# A one-time link must not outlive its message: once sent, failed or cancelled, or when it waited longer
# than any link lives (account_links.LONGEST_LINK_LIFETIME), the bodies of a `secret_link` message keep
# every address matching LINK_PATTERN replaced by REDACTED_LINK (lib/store/outbox.py).
REDACTED_LINK = "(lien à usage unique retiré)"
LINK_PATTERN = r"""https?://[^\s<>"']+"""


def retry_after(attempts: int, draw: Callable[[], float]) -> timedelta:
    """How long a message waits after its `attempts`-th try failed: 1, 2, 4… minutes, at most an
    hour, ±JITTER; `draw` gives a number in [0, 1) (the tests pass their own)."""
    doubled = FIRST_RETRY * (1 << min(max(attempts - 1, 0), 12))
    base = min(doubled, RETRY_CAP)
    return base * (1 + JITTER * (2 * draw() - 1))


def given_up(created_at: datetime, now: datetime) -> bool:
    """A message queued GIVE_UP_AFTER ago or more is not tried again (both UTC-naive)."""
    return now - created_at >= GIVE_UP_AFTER


def give_up_text(last_error: str) -> str:
    return shortened(f"Non remis après 3 jours d'essais : {last_error}")


def shortened(text: str) -> str:
    """An error as stored: one line, at most ERROR_LIMIT characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= ERROR_LIMIT else flat[: ERROR_LIMIT - 1] + "…"


def daily_due(now_paris: datetime, last_done: date | None) -> bool:
    """The daily jobs run once per Paris day, from DAILY_AFTER on."""
    return now_paris.time() >= DAILY_AFTER and last_done != now_paris.date()
