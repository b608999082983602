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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.letters import NAME_LIMIT, OPTIONAL, Letter, MailKind, Signature, one_line, to_html, to_text
from lib.services.config import public_address
from lib.store import audit, outbox
from lib.store.db import Cursor, Database

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
    base = public_address({"public_url": outbox.setting(cur, "public_url") or ""})
    if base is None:
        raise InvalidInput(
            "L'adresse publique du portail n'est pas configurée (réglage public_url) : impossible d'envoyer un lien."
        )
    return base + path


def _json(value: object) -> str:
    return json.dumps(
        value, ensure_ascii=False, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v)
    )


def _domain(cur: Cursor) -> str:
    """The right-hand side of the Message-IDs: the sender's domain."""
    sender = outbox.setting(cur, "mail_from") or ""
    return sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else DEFAULT_DOMAIN


def _chosen(cur: Cursor, kind: MailKind, recipients: Iterable[Recipient], always: bool) -> list[Recipient]:
    """The recipients with an address who want `kind`: an optional kind is left out for an account
    that turned it off, unless `always` (a change made by the town's staff is always reported)."""
    chosen = [r for r in recipients if r.address]
    if kind.optional and not always:
        off = outbox.unwanted_kinds(cur, [r.user_id for r in chosen if r.user_id is not None])
        chosen = [r for r in chosen if (r.user_id, kind.value) not in off]
    return chosen


def _for(key: str | None, recipient: Recipient) -> str | None:
    """A dedupe or merge key made personal: each recipient gets (or joins) their own message."""
    return f"{key}:{recipient.address}" if key else None


def _messages(
    cur: Cursor,
    letter: Letter,
    recipients: list[Recipient],
    now: datetime,
    *,
    dedupe_key: str | None,
    merge_key: str | None = None,
    delay: timedelta,
    created_by: int | None,
    audit_id: int | None,
    sign: Signature,
    domain: str,
) -> list[outbox.NewMessage]:
    text, html = to_text(letter, sign), to_html(letter, sign)
    at = to_utc_naive(now)
    return [
        outbox.NewMessage(
            kind=letter.kind,
            message_id=f"<portail.{secrets.token_hex(12)}@{domain}>",
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
            dedupe_key=_for(dedupe_key, recipient),
            merge_key=_for(merge_key, recipient),
            secret_link=letter.secret_link,
            created_by=created_by,
            audit_id=audit_id,
        )
        for recipient in recipients
    ]


def queue(
    cur: Cursor,
    letter: Letter,
    recipients: Iterable[Recipient],
    now: datetime,
    *,
    dedupe_key: str | None = None,
    merge_key: str | None = None,
    delay: timedelta = timedelta(0),
    created_by: int | None = None,
    audit_id: int | None = None,
    always: bool = False,
) -> list[int]:
    """Write `letter` to the outbox for each recipient, in the caller's transaction; the new rows' ids.
    An optional kind is left out for an account that turned it off, unless `always` (a change made by
    the town's staff is always reported). With `dedupe_key`, a recipient gets the message once ever
    (the key is suffixed with the recipient's address); `merge_key` (suffixed the same way) lets later
    changes join the message while it waits (`queue_merged`). `delay` holds the first try back."""
    chosen = _chosen(cur, letter.kind, recipients, always)
    if not chosen:
        return []
    messages = _messages(
        cur,
        letter,
        chosen,
        now,
        dedupe_key=dedupe_key,
        merge_key=merge_key,
        delay=delay,
        created_by=created_by,
        audit_id=audit_id,
        sign=signature(cur),
        domain=_domain(cur),
    )
    ids = [new_id for new_id in (outbox.insert(cur, m) for m in messages) if new_id is not None]
    if ids:
        WAKE.set()
    return ids


@dataclass(frozen=True)
class Merging:
    """How a kind's messages merge: `render` builds the letter from a payload (JSON values only),
    `combine(waiting, new)` the payload of a waiting message joined by a later change."""

    render: Callable[[dict[str, Any]], Letter]
    combine: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def queue_merged(
    cur: Cursor,
    merging: Merging,
    payload: dict[str, Any],
    recipients: Iterable[Recipient],
    now: datetime,
    *,
    merge_key: str,
    delay: timedelta,
    created_by: int | None = None,
    audit_id: int | None = None,
    always: bool = False,
) -> list[int]:
    """Like `queue` for a letter built from `payload`, held back by `delay`: while a recipient's message
    with the same `merge_key` still waits for its first try, this change joins it (it is rendered again
    from the combined payload; its Message-ID and first try stay) instead of making a second message.
    The ids of the messages written or joined."""
    letter = replace(merging.render(payload), payload=payload)
    chosen = _chosen(cur, letter.kind, recipients, always)
    at = to_utc_naive(now)
    ids: list[int] = []
    sign = signature(cur)
    for recipient in chosen:
        key = _for(merge_key, recipient)
        waiting = outbox.mergeable(cur, key, at) if key else None
        if waiting is None:
            ids += queue(
                cur,
                letter,
                [recipient],
                now,
                merge_key=merge_key,
                delay=delay,
                created_by=created_by,
                audit_id=audit_id,
                always=True,  # the preference was followed above
            )
            continue
        combined = merging.combine(json.loads(waiting.payload), payload)
        joined = merging.render(combined)
        outbox.rewrite(
            cur,
            waiting.id,
            subject=joined.subject,
            body_text=to_text(joined, sign),
            body_html=to_html(joined, sign),
            payload=_json(combined),
        )
        ids.append(waiting.id)
    return ids


def queue_many(
    cur: Cursor,
    letters: Iterable[tuple[Letter, list[Recipient], str | None]],
    now: datetime,
    *,
    created_by: int | None = None,
    audit_id: int | None = None,
) -> list[int]:
    """Many letters of essential kinds, each (letter, recipients, dedupe key), written in one statement:
    a month's invoices or the day's reminders (hundreds of families) cost one insert, not one each."""
    sign, domain = signature(cur), _domain(cur)
    messages: list[outbox.NewMessage] = []
    for letter, recipients, dedupe_key in letters:
        messages += _messages(
            cur,
            letter,
            _chosen(cur, letter.kind, recipients, always=True),
            now,
            dedupe_key=dedupe_key,
            delay=timedelta(0),
            created_by=created_by,
            audit_id=audit_id,
            sign=sign,
            domain=domain,
        )
    ids = outbox.insert_many(cur, messages)
    if ids:
        WAKE.set()
    return ids


# --- a family account's choices ----------------------------------------------------------------------


def preferences(db: Database, actor: Actor) -> dict[MailKind, bool]:
    """Each optional kind and whether the account receives it (« Mon compte » → « Courriels »)."""
    user_id = _own_account(actor)
    chosen = outbox.preferences(db, user_id)
    return {kind: chosen.get(kind.value, True) for kind in sorted(OPTIONAL)}


def set_preferences(db: Database, actor: Actor, wanted: Mapping[Any, object], now: datetime) -> str:
    """A family account turns optional kinds on or off, for itself only; audited `mail.preferences`.
    Essential kinds cannot be turned off."""
    user_id = _own_account(actor)
    if not isinstance(wanted, Mapping) or not wanted:
        raise InvalidInput("Aucun choix de courriels à enregistrer.")
    choices: dict[str, bool] = {}
    for kind, value in wanted.items():
        known = next((k for k in MailKind if k == kind), None)
        if known is None:
            raise InvalidInput("Type de courriel inconnu.")
        if not known.optional:
            raise InvalidInput(f"« {known.label} » est un courriel indispensable : il ne peut pas être désactivé.")
        if not isinstance(value, bool):
            raise InvalidInput(f"« {known.label} » : choisissez oui ou non.")
        choices[known.value] = value
    before = outbox.preferences(db, user_id)
    at = to_utc_naive(now)

    def work(cur: Cursor) -> None:
        outbox.set_preferences(cur, user_id, choices, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=user_id,
            action="mail.preferences",
            entity="user",
            entity_id=user_id,
            before={k: before.get(k, True) for k in choices},
            after=choices,
        )

    db.write(work)
    return "Vos choix de courriels sont enregistrés."


def _own_account(actor: Actor) -> int:
    if not actor.is_family or actor.family_id is None or actor.user_id is None:
        raise NotAllowed("Seuls les comptes des familles choisissent les courriels qu'ils reçoivent.")
    return actor.user_id


__all__ = [
    "WAKE",
    "MailKind",
    "Merging",
    "Recipient",
    "family_recipients",
    "portal_link",
    "preferences",
    "queue",
    "queue_many",
    "queue_merged",
    "set_preferences",
    "signature",
]
