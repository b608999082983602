"""Reminders of unpaid invoices, queued by the server's daily run (lib/services/daily.py).

An invoice is reminded at its due date + d days for each d of the setting `unpaid_reminder_days`
(« 10,30 » by default), while something is left to pay, unless an online payment is in progress
(credit notes are never reminded). Only the highest step reached is queued, once ever per invoice,
step and account (`unpaid:<invoice>:<step>`): a run after days of downtime sends one reminder, not
every step it missed, and running twice the same day sends nothing more."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lib.domain.clock import to_utc_naive
from lib.domain.family_letters import DEFAULT_REMINDER_DAYS, InvoiceFacts, reminder_steps, step_reached, unpaid_reminder
from lib.services import family_mail, mail, payments
from lib.store import outbox, reference
from lib.store.db import Cursor, Database

SETTING = "unpaid_reminder_days"


def queue_due(db: Database, now: datetime) -> int:
    """Queue the reminders due at `now` (Paris time); how many messages were queued."""
    steps = reminder_steps(reference.settings(db).get(SETTING, DEFAULT_REMINDER_DAYS))
    if not steps:
        return 0
    today = now.date()
    pending_since = to_utc_naive(now - payments.config(db).attempt_lifetime)

    def work(cur: Cursor) -> int:
        town, url = mail.signature(cur).town, family_mail.invoices_url(cur)
        letters: dict[tuple[int, int], tuple[Any, list[mail.Recipient], str]] = {}
        for row in outbox.unpaid_invoices(cur, today - timedelta(days=min(steps) - 1), pending_since):
            step = step_reached(row["due_date"], today, steps)
            if step is None:
                continue
            key = (row["id"], step)
            if key not in letters:
                facts = InvoiceFacts(row["number"], row["period_month"], row["left_cents"], row["due_date"])
                letters[key] = (unpaid_reminder(town, facts, row["left_cents"], url), [], f"unpaid:{row['id']}:{step}")
            reader = mail.invoice_reader(row)
            if reader is not None:
                letters[key][1].append(reader)
        return len(mail.queue_many(cur, letters.values(), now))

    return db.write(work)


__all__ = ["SETTING", "queue_due"]
