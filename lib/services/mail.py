"""Queuing e-mail inside the change it reports.

A service never sends. Inside the `work(cur)` that makes a change, it calls `queue(cur, letter,
recipients, now, …)`: the message is rendered and written to the outbox in the same transaction, so
it is committed with the change or rolled back with it, and a kill -9 after the commit keeps both.
The mail worker (lib/services/mail_worker.py) sends it afterwards, outside any transaction; `WAKE`
tells it there is something new."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput
from lib.domain.letters import NAME_LIMIT, Letter, MailKind, Signature, one_line, to_html, to_text
from lib.services import payments
from lib.store import outbox
from lib.store.db import Cursor

# Set after queuing: the worker wakes at once instead of at its next poll.
WAKE = threading.Event()
DEFAULT_DOMAIN = "portail-famille.invalid"


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    user_id: int | None = None
    family_id: int | None = None


def family_recipients(cur: Cursor, family_id: int) -> list[Recipient]:
    """Who hears about a family's changes: each of its active accounts (each guardian has their own)."""
    return [
        Recipient(email, name, user_id, family_id) for user_id, email, name in outbox.family_accounts(cur, family_id)
    ]


def signature(cur: Cursor) -> Signature:
    return Signature(
        town=outbox.setting(cur, "town_name") or "Ville", contact_email=outbox.setting(cur, "contact_email") or ""
    )


def portal_link(cur: Cursor, path: str) -> str:
    """An absolute address of the portal for a letter: only from the configured public address (never from
    a request's Host). Refused in French when the town has not configured it."""
    base = payments.public_address({"public_url": outbox.setting(cur, "public_url") or ""})
    if base is None:
        raise InvalidInput(
            "L'adresse publique du portail n'est pas configurée (réglage public_url) : impossible d'envoyer un lien."
        )
    return base + path


def _json(value: object) -> str:
    return json.dumps(
        value, ensure_ascii=False, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v)
    )


def _message_id(cur: Cursor) -> str:
    sender = outbox.setting(cur, "mail_from") or ""
    domain = sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else DEFAULT_DOMAIN
    return f"<portail.{secrets.token_hex(12)}@{domain}>"


def queue(
    cur: Cursor,
    letter: Letter,
    recipients: Iterable[Recipient],
    now: datetime,
    *,
    dedupe_key: str | None = None,
    delay: timedelta = timedelta(0),
    created_by: int | None = None,
    audit_id: int | None = None,
    always: bool = False,
) -> list[int]:
    """Write `letter` to the outbox for each recipient, in the caller's transaction; the new rows' ids.
    An optional kind is left out for an account that turned it off, unless `always` (a change made by
    the town's staff is always reported). With `dedupe_key`, a recipient gets the message once ever
    (the key is suffixed with the recipient's address). `delay` holds the first try back."""
    chosen = [r for r in recipients if r.address]
    if letter.kind.optional and not always:
        off = outbox.unwanted_kinds(cur, [r.user_id for r in chosen if r.user_id is not None])
        chosen = [r for r in chosen if (r.user_id, letter.kind.value) not in off]
    if not chosen:
        return []
    sign = signature(cur)
    text, html = to_text(letter, sign), to_html(letter, sign)
    at = to_utc_naive(now)
    ids: list[int] = []
    for recipient in chosen:
        new_id = outbox.insert(
            cur,
            outbox.NewMessage(
                kind=letter.kind,
                message_id=_message_id(cur),
                to_address=recipient.address,
                to_name=one_line(recipient.name, NAME_LIMIT),
                subject=letter.subject,
                body_text=text,
                body_html=html,
                payload=_json(letter.payload),
                created_at=at,
                not_before=at + delay,
                family_id=recipient.family_id,
                user_id=recipient.user_id,
                dedupe_key=f"{dedupe_key}:{recipient.address}" if dedupe_key else None,
                secret_link=letter.secret_link,
                created_by=created_by,
                audit_id=audit_id,
            ),
        )
        if new_id is not None:
            ids.append(new_id)
    if ids:
        WAKE.set()
    return ids


__all__ = ["WAKE", "MailKind", "Recipient", "family_recipients", "portal_link", "queue", "signature"]
