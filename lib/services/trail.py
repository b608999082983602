"""Refusals that matter to the town's accounts (payments, invoicing, tariffs) leave a trace:
the work wrote nothing, the audit log says who tried what and why it was refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import PortailError
from lib.store import audit
from lib.store.db import Database


@contextmanager
def refusals_audited(db: Database, actor: Actor | None, now: datetime, action: str, entity: str,
                     entity_id: Any) -> Iterator[None]:
    try:
        yield
    except PortailError as exc:
        audit.record_refusal(db, at_utc=to_utc_naive(now), user_id=actor.user_id if actor else None,
                             action=action, entity=entity,
                             entity_id=entity_id if isinstance(entity_id, (int, str)) else repr(entity_id)[:40],
                             reason=exc.message)
        raise
