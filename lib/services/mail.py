"""Queuing e-mail inside the change it reports.

A service never sends. Inside the `work(cur)` that makes a change, it calls `queue(cur, letter,
recipients, now, …)`: the message is rendered and written to the outbox in the same transaction, so
it is committed with the change or rolled back with it, and a kill -9 after the commit keeps both.
The mail worker (lib/services/mail_worker.py) sends it afterwards, outside any transaction; `WAKE`
tells it there is something new.

The rest is the administrator's « Courriels envoyés »: the outbox (`outbox`), « Renvoyer »
(`resend`), « Annuler » (`cancel`), « Envoyer un courriel d'essai » (`send_trial`) and, in the demo,
what the local sink received (`demo_mailbox`); and how the worker sends (`sending_settings`, the
SMTP password kept out of the database)."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from lib.domain import fr
from lib.domain.account_links import LONGEST_LINK_LIFETIME
from lib.domain.actor import Actor
from lib.domain.clock import PARIS, from_utc_naive, to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed, NotFound, PortailError
from lib.domain.invoicing import invoice_visible
from lib.domain.letters import (
    NAME_LIMIT,
    OPTIONAL,
    Letter,
    MailKind,
    MailState,
    Signature,
    one_line,
    to_html,
    to_text,
    trial_letter,
)
from lib.domain.mail_policy import BODIES_KEPT, STALE_AFTER
from lib.domain.roles import Role
from lib.domain.validation import is_id
from lib.mail import sink
from lib.mail.message import address as header_address
from lib.mail.transport import SECURITIES, SmtpSettings
from lib.services.config import data_dir, mail_sink_dir, public_address
from lib.services.private_files import read_private_file
from lib.store import audit, outbox, reference
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


def invoice_reader(row: Mapping[str, Any]) -> Recipient | None:
    """An invoice's family account (a row of the outbox store's invoice queries) as a recipient, if it
    sees the invoice: every account of the family, or in shared custody the payer's only."""
    if not invoice_visible(row["split_family"], row["payer_user_id"], row["user_id"]):
        return None
    return Recipient(row["email"], row["display_name"], row["user_id"], row["family_id"])


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
    """A dedupe or merge key made personal: each recipient gets (or joins) their own message. An
    account is known by its id, not its address: a new e-mail does not make a reminder new again."""
    if not key:
        return None
    return f"{key}:user:{recipient.user_id}" if recipient.user_id is not None else f"{key}:{recipient.address}"


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
    (the key is suffixed with the recipient's account, or address when it has none); `merge_key` (suffixed the same way) lets later
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


# --- how the worker sends -------------------------------------------------------------------------
SMTP_PASSWORD_ENV = "PORTAIL_SMTP_PASSWORD"
SMTP_PASSWORD_FILE_ENV = "PORTAIL_SMTP_PASSWORD_FILE"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SINK = "sink"
SMTP = "smtp"


def smtp_password_file() -> Path:
    """`PORTAIL_SMTP_PASSWORD_FILE`, else `smtp-password` beside the database."""
    raw = os.environ.get(SMTP_PASSWORD_FILE_ENV)
    return Path(raw) if raw else data_dir() / "smtp-password"


def smtp_password() -> str:
    """The SMTP password: never in the database (backups travel). `PORTAIL_SMTP_PASSWORD`, else the
    owner-only file; "" when neither is there."""
    from_env = os.environ.get(SMTP_PASSWORD_ENV)
    if from_env:
        return from_env
    path = smtp_password_file()
    if not path.exists():
        return ""
    return read_private_file(
        path,
        f"Le fichier du mot de passe SMTP ({SMTP_PASSWORD_FILE_ENV}, par défaut smtp-password à côté de la base)",
        "envoi des courriels refusé",
    )


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip()).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Sending:
    """How the worker sends now, from the settings: `smtp` is None when it cannot (`problem` says why)."""

    smtp: SmtpSettings | None
    sender: str  # the From header: « Ville de X <enfance@ville.fr> »
    reply_to: str
    per_minute: int
    problem: str | None = None
    envelope: str = ""  # the sender's address alone (MAIL FROM)


def sending_settings(values: dict[str, str], sink_port: int | None) -> Sending:
    """The settings as the worker uses them; in the demo (`mail_transport=sink`), the sink the
    server started on `sink_port`."""
    sender = values.get("mail_from") or values.get("contact_email", "")
    reply_to = values.get("contact_email", "")
    per_minute = int(values.get("mail_per_minute") or 0)
    try:
        smtp, envelope = _smtp(values, sender, sink_port)
    except PortailError as exc:
        return Sending(None, sender, reply_to, per_minute, exc.message)
    return Sending(smtp, sender, reply_to, per_minute, envelope=envelope)


def _smtp(values: dict[str, str], sender: str, sink_port: int | None) -> tuple[SmtpSettings, str]:
    """Where to send and the envelope's sender; a French refusal naming the setting to fix."""
    fix = "python -m lib.services.setup set"
    if not sender:
        raise InvalidInput(f"L'expéditeur des courriels n'est pas réglé : {fix} mail_from …")
    envelope = header_address(sender).addr_spec
    if values.get("mail_transport") == SINK:
        if sink_port is None:
            raise InvalidInput("La boîte de démonstration n'est pas démarrée.")
        return SmtpSettings("127.0.0.1", sink_port, "none"), envelope
    host = values.get("smtp_host", "")
    if not host:
        raise InvalidInput(f"Le serveur d'envoi n'est pas réglé : {fix} smtp_host …")
    security = values.get("smtp_security") or "starttls"
    if security not in SECURITIES or (security == "none" and not is_loopback(host)):
        raise InvalidInput(f"Envoi sans chiffrement refusé vers {host} : {fix} smtp_security starttls")
    port = int(values.get("smtp_port") or DEFAULT_PORTS[security])
    user = values.get("smtp_user", "")
    return SmtpSettings(host, port, security, user, smtp_password() if user else ""), envelope


LINK_EXPIRED_UNSENT = "Non envoyé : le lien à usage unique qu'il contenait a expiré entre-temps."


def purge_old_bodies(db: Database, now: datetime) -> None:
    """A daily job (lib/services/daily.py): sent messages older than 90 days keep their row, not their
    bodies; a message with a one-time link still waiting after the longest a link lives is given up
    (`failed`) and its link redacted."""
    at = to_utc_naive(now)

    def work(cur: Cursor) -> None:
        outbox.purge_bodies(cur, at - BODIES_KEPT)
        outbox.expire_secret_links(cur, at - LONGEST_LINK_LIFETIME, LINK_EXPIRED_UNSENT)

    db.write(work)


# --- the administrator's outbox ---------------------------------------------------------------------
SHOWN = 300


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    at: datetime  # Paris: when it was queued
    kind: str  # in French
    family: str  # « Famille Martin », or ""
    recipient: str  # « Camille Martin <camille@…> »
    subject: str
    state: MailState
    attempts: int
    last_error: str
    sent_at: datetime | None  # Paris
    may_resend: bool
    may_cancel: bool


@dataclass(frozen=True)
class OutboxView:
    entries: list[OutboxEntry]
    more: bool  # only the newest SHOWN are listed
    families: list[tuple[int, str]]  # families with messages, for the filter
    banner: str | None  # the server is down, or messages wait for too long
    demo: bool  # the demo's sink is on: « Boîte de démonstration » has something to show


def _admin(actor: Actor) -> None:
    actor.require(Role.ADMIN)


def _entry(line: outbox.OutboxLine) -> OutboxEntry:
    state = MailState(line.state)
    return OutboxEntry(
        id=line.id,
        at=from_utc_naive(line.created_at),
        kind=MailKind(line.kind).label,
        family=line.family or "",
        recipient=f"{line.to_name} <{line.to_address}>" if line.to_name else line.to_address,
        subject=line.subject,
        state=state,
        attempts=line.attempts,
        last_error=line.last_error or "",
        sent_at=from_utc_naive(line.sent_at) if line.sent_at else None,
        may_resend=state in (MailState.SENT, MailState.FAILED) and not line.secret_link,
        may_cancel=state is MailState.WAITING,
    )


def banner(backlog: outbox.Backlog, now: datetime) -> str | None:
    """What the administrator must know about the queue, or None when it flows."""
    error = f" Dernière erreur : {backlog.last_error}" if backlog.last_error else ""
    waiting = f"{backlog.waiting} courriel(s) en attente."
    if backlog.transport_down_since is not None:
        since = fr.numeric_date(from_utc_naive(backlog.transport_down_since).date())
        when = fr.hour(from_utc_naive(backlog.transport_down_since))
        return f"Le serveur d'envoi des courriels ne répond pas depuis le {since} à {when} : {waiting}{error}"
    if backlog.oldest_waiting is not None and to_utc_naive(now) - backlog.oldest_waiting >= STALE_AFTER:
        oldest = from_utc_naive(backlog.oldest_waiting)
        return (
            f"Le plus ancien courriel en attente date du {fr.numeric_date(oldest.date())} à {fr.hour(oldest)} : "
            f"{waiting}{error}"
        )
    return None


def outbox_view(
    db: Database, actor: Actor, now: datetime, state: MailState | None = None, family_id: int | None = None
) -> OutboxView:
    """The newest messages (of one state, of one family), and the banner."""
    _admin(actor)
    found = outbox.lines(db, state.value if state else None, family_id, SHOWN + 1)
    return OutboxView(
        entries=[_entry(line) for line in found[:SHOWN]],
        more=len(found) > SHOWN,
        families=outbox.families_with_mail(db),
        banner=banner(outbox.backlog(db), now),
        demo=reference.settings(db).get("mail_transport") == SINK,
    )


def _stored(cur: Cursor, outbox_id: int) -> outbox.Stored:
    found = outbox.stored(cur, outbox_id) if is_id(outbox_id) else None
    if found is None:
        raise NotFound("Ce courriel n'existe pas.")
    return found


def _audit(cur: Cursor, actor: Actor, now: datetime, action: str, message: outbox.Stored, **after: object) -> int:
    return audit.record(
        cur,
        at_utc=to_utc_naive(now),
        user_id=actor.user_id,
        action=action,
        entity="mail",
        entity_id=message.id,
        after={"kind": message.kind, "to": message.to_address, **after},
    )


def _current_recipient(cur: Cursor, message: outbox.Stored) -> tuple[str, str]:
    """(address, name) a message is resent to: its account's as they are now (the account may have
    changed its e-mail since), else the stored ones."""
    current = outbox.account_address(cur, message.user_id) if message.user_id is not None else None
    if current is None:
        return message.to_address, message.to_name
    return current[0], one_line(current[1], NAME_LIMIT)


def resend(db: Database, actor: Actor, outbox_id: int, now: datetime) -> int:
    """« Renvoyer »: a failed message waits again with its Message-ID; a sent one is queued again as a
    new message (`resent_from`); either goes to its account's current address. Never a one-time link:
    the family is sent a new one instead. The id of the message that will go."""
    _admin(actor)
    at = to_utc_naive(now)

    def work(cur: Cursor) -> int:
        message = _stored(cur, outbox_id)
        state = MailState(message.state)
        if message.secret_link:
            raise InvalidInput(
                "Ce courriel contenait un lien à usage unique : il ne peut pas être renvoyé. "
                "Envoyez une nouvelle invitation (ou un nouveau lien) à la place."
            )
        to_address, to_name = _current_recipient(cur, message)
        if state is MailState.FAILED:
            outbox.requeue_failed(cur, message.id, at, to_address, to_name)
            _audit(cur, actor, now, "mail.resend", message, resent_to=to_address)
            return message.id
        if state is not MailState.SENT:
            raise InvalidInput(
                f"Seul un courriel envoyé ou en échec peut être renvoyé (celui-ci est « {state.label} »)."
            )
        if message.body_text is None or message.body_html is None:
            raise InvalidInput(
                "Le contenu de ce courriel a été effacé (envoyé il y a plus de 90 jours) : renvoi impossible."
            )
        new_id = outbox.insert(
            cur,
            outbox.NewMessage(
                kind=MailKind(message.kind),
                message_id=f"<portail.{secrets.token_hex(12)}@{_domain(cur)}>",
                to_address=to_address,
                to_name=to_name,
                subject=message.subject,
                body_text=message.body_text,
                body_html=message.body_html,
                payload=message.payload,
                created_at=at,
                not_before=at,
                family_id=message.family_id,
                user_id=message.user_id,
                created_by=actor.user_id,
                audit_id=message.audit_id,
                resent_from=message.id,
            ),
        )
        assert new_id is not None  # no dedupe key: always inserted
        _audit(cur, actor, now, "mail.resend", message, copy=new_id, resent_to=to_address)
        return new_id

    new = db.write(work)
    WAKE.set()
    return new


def cancel(db: Database, actor: Actor, outbox_id: int, now: datetime) -> None:
    """« Annuler »: a waiting message will not be sent."""
    _admin(actor)

    def work(cur: Cursor) -> None:
        message = _stored(cur, outbox_id)
        if not outbox.cancel_waiting(cur, message.id):
            label = MailState(message.state).label
            raise InvalidInput(f"Seul un courriel en attente peut être annulé (celui-ci est « {label} »).")
        _audit(cur, actor, now, "mail.cancel", message)

    db.write(work)


def send_trial(db: Database, actor: Actor, now: datetime) -> int:
    """« Envoyer un courriel d'essai » to the administrator's own address; its outbox id."""
    _admin(actor)
    at = to_utc_naive(now)

    def work(cur: Cursor) -> int:
        reference_id = audit.record(
            cur, at_utc=at, user_id=actor.user_id, action="mail.test", entity="user", entity_id=actor.user_id
        )
        ids = queue(
            cur,
            trial_letter(actor.display_name),
            [Recipient(actor.email, actor.display_name, actor.user_id)],
            now,
            created_by=actor.user_id,
            audit_id=reference_id,
        )
        return ids[0]

    return db.write(work)


# --- the demo's mailbox ------------------------------------------------------------------------------
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class DemoLetter:
    message_id: str
    at: datetime | None  # Paris
    subject: str
    text: str
    links: list[tuple[str, str]]  # (the words before it, the address): the portal's links only


@dataclass(frozen=True)
class DemoRecipient:
    address: str
    name: str
    letters: list[DemoLetter]  # newest first


def _links(text: str, base: str | None) -> list[tuple[str, str]]:
    found = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        for url in _URL.findall(line):
            if base and (url == base or url.startswith(base + "/")):
                label = lines[index - 1].rstrip(" :") if index and lines[index - 1].strip() else "Ouvrir le lien"
                found.append((label, url))
    return found


def demo_mailbox(db: Database, actor: Actor) -> list[DemoRecipient]:
    """What the demo's sink received, each message once, by recipient: what each family would have
    read. Read from the Maildir, not from the outbox."""
    _admin(actor)
    values = reference.settings(db)
    if values.get("mail_transport") != SINK:
        raise InvalidInput("La boîte de démonstration n'existe qu'en démonstration (réglage mail_transport=sink).")
    base = public_address(values)
    grouped: dict[str, DemoRecipient] = {}
    for message in reversed(sink.received(mail_sink_dir())):
        letter = DemoLetter(
            message_id=message.message_id,
            at=message.date.astimezone(PARIS) if message.date else None,
            subject=message.subject,
            text=message.text,
            links=_links(message.text, base),
        )
        holder = grouped.setdefault(message.to_address, DemoRecipient(message.to_address, message.to_name, []))
        holder.letters.append(letter)
    return sorted(grouped.values(), key=lambda r: (r.name.lower(), r.address))


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
    "cancel",
    "demo_mailbox",
    "family_recipients",
    "outbox_view",
    "portal_link",
    "preferences",
    "queue",
    "queue_many",
    "queue_merged",
    "resend",
    "send_trial",
    "sending_settings",
    "set_preferences",
    "signature",
]
