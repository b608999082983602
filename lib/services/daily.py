"""Jobs run once a day by the server's mail worker (lib/services/mail_worker.py): once per Paris
day, after 08:00; the last day done is kept in the setting `mail_daily_done`, so a restart does
not run them twice. Each job is `job(db, now) -> None`, does its own short writes, and may run
again safely (a failure is logged and the other jobs still run)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from lib.domain.clock import PARIS
from lib.domain.mail_policy import daily_due
from lib.services import health, mail, reminders, sepa
from lib.store import deployment, reference
from lib.store.db import Database

DONE_KEY = "mail_daily_done"
LOG = logging.getLogger("portail.quotidien")

JOBS: list[Callable[[Database, datetime], object]] = [
    mail.purge_old_bodies,  # sent messages' bodies after 90 days; one-time links waiting longer than they live
    sepa.collect_due,  # direct debits whose collection date has come pay their invoices
    reminders.queue_due,  # unpaid invoices' reminders
    health.purge_unregistered,  # the health data of children no longer registered
]


def _last_done(db: Database) -> date | None:
    raw = reference.settings(db).get(DONE_KEY)
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def run_due(db: Database, now: datetime) -> bool:
    """Run the day's jobs if they are due; whether they ran."""
    today = now.astimezone(PARIS)
    if not daily_due(today, _last_done(db)):
        return False
    for job in JOBS:
        try:
            job(db, now)
        except Exception:
            LOG.exception("Tâche quotidienne %s en échec", getattr(job, "__name__", job))
    db.write(lambda cur: deployment.put_setting(cur, DONE_KEY, today.date().isoformat()))
    return True
