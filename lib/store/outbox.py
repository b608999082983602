"""The outbox: every e-mail as a row, written in the transaction of the change it reports, then
claimed, sent and recorded by the mail worker (lib/services/mail_worker.py); the preferences of
family accounts for optional kinds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from lib.domain.letters import MailKind, MailState
from lib.domain.mail_policy import LINK_PATTERN, REDACTED_LINK
from lib.store.db import Database, dicts
from lib.store.invoices import CREDITED_CENTS, PAID_CENTS
from lib.store.sepa import DEBITED
from lib.store.sql import SPLIT, dialects

WAITING = MailState.WAITING.value
SENDING = MailState.SENDING.value
SENT = MailState.SENT.value
FAILED = MailState.FAILED.value
CANCELLED = MailState.CANCELLED.value
TRANSPORT_DOWN = "mail.transport_down"
TRANSPORT_UP = "mail.transport_up"


@dataclass(frozen=True)
class NewMessage:
    """A message to queue, already rendered."""

    kind: MailKind
    message_id: str
    to_address: str
    to_name: str
    subject: str
    body_text: str
    body_html: str
    payload: str  # JSON
    created_at: datetime  # UTC
    not_before: datetime  # UTC
    family_id: int | None = None
    user_id: int | None = None
    dedupe_key: str | None = None
    merge_key: str | None = None
    secret_link: bool = False
    created_by: int | None = None
    audit_id: int | None = None
    resent_from: int | None = None


_COLUMNS = (
    "kind, message_id, to_address, to_name, subject, body_text, body_html, payload, created_at, not_before,"
    " family_id, user_id, dedupe_key, merge_key, secret_link, created_by, audit_id, resent_from, state"
)


def _values(message: NewMessage) -> list:
    return [
        message.kind.value,
        message.message_id,
        message.to_address,
        message.to_name,
        message.subject,
        message.body_text,
        message.body_html,
        message.payload,
        message.created_at,
        message.not_before,
        message.family_id,
        message.user_id,
        message.dedupe_key,
        message.merge_key,
        message.secret_link,
        message.created_by,
        message.audit_id,
        message.resent_from,
        WAITING,
    ]


_INSERT = (
    f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING RETURNING id"
)


def insert(cur: duckdb.DuckDBPyConnection, message: NewMessage) -> int | None:
    """Queue one message; its id, or None when a message with the same `dedupe_key` exists already."""
    found = cur.execute(_INSERT, _values(message)).fetchall()
    return found[0][0] if found else None


MAX_PARAMETERS = 65_535  # a statement's parameters, at most (PostgreSQL's protocol counts them in 16 bits)


def insert_many(cur: duckdb.DuckDBPyConnection, messages: list[NewMessage]) -> list[int]:
    """Queue many messages in a statement or two (a month's invoices); the new rows' ids (a message
    whose `dedupe_key` exists already is left out). Messages without a dedupe key go in without
    ON CONFLICT: DuckDB 2.0 takes two NULL keys of one multi-row INSERT … ON CONFLICT DO NOTHING for
    a conflict and drops all but one."""
    ids: list[int] = []
    for batch, on_conflict in (
        ([m for m in messages if m.dedupe_key is None], ""),
        ([m for m in messages if m.dedupe_key is not None], " ON CONFLICT DO NOTHING"),
    ):
        if not batch:
            continue
        width = len(_values(batch[0]))
        row = "(" + ", ".join("?" * width) + ")"
        # PostgreSQL's protocol takes at most 65,535 parameters a statement (a city's month of invoices
        # is 30,000 messages): a statement per slice that fits.
        per_statement = MAX_PARAMETERS // width
        for start in range(0, len(batch), per_statement):
            part = batch[start : start + per_statement]
            ids += [
                r[0]
                for r in cur.execute(
                    f"INSERT INTO outbox ({_COLUMNS}) VALUES {', '.join([row] * len(part))}{on_conflict} RETURNING id",
                    [value for message in part for value in _values(message)],
                ).fetchall()
            ]
    return sorted(ids)


@dataclass(frozen=True)
class Mergeable:
    id: int
    payload: str  # JSON


def mergeable(cur: duckdb.DuckDBPyConnection, merge_key: str, now_utc: datetime) -> Mergeable | None:
    """The waiting message with `merge_key` whose first try is still to come: a later change of the
    same kind joins it instead of sending a second message."""
    found = cur.execute(
        "SELECT id, payload FROM outbox WHERE merge_key = ? AND state = ? AND not_before > ? ORDER BY id DESC LIMIT 1",
        [merge_key, WAITING, now_utc],
    ).fetchall()
    return Mergeable(*found[0]) if found else None


def rewrite(
    cur: duckdb.DuckDBPyConnection, message_id: int, *, subject: str, body_text: str, body_html: str, payload: str
) -> None:
    """A waiting message rendered again after a merge (its Message-ID and first try stay)."""
    cur.execute(
        "UPDATE outbox SET subject = ?, body_text = ?, body_html = ?, payload = ? WHERE id = ? AND state = ?",
        [subject, body_text, body_html, payload, message_id, WAITING],
    )


def unwanted_kinds(cur: duckdb.DuckDBPyConnection, user_ids: list[int]) -> set[tuple[int, str]]:
    """(user, kind) pairs the users turned off."""
    if not user_ids:
        return set()
    rows = cur.execute(
        "SELECT user_id, kind FROM mail_preferences WHERE NOT wanted AND list_contains(?, user_id)", [user_ids]
    ).fetchall()
    return {(r[0], r[1]) for r in rows}


def family_accounts(cur: duckdb.DuckDBPyConnection, family_id: int) -> list[tuple[int, str, str]]:
    """(user id, e-mail, display name) of the family's active accounts: who hears about its changes."""
    return cur.execute(
        "SELECT id, email, display_name FROM users WHERE family_id = ? AND active ORDER BY id", [family_id]
    ).fetchall()


def setting(cur: duckdb.DuckDBPyConnection, key: str) -> str | None:
    found = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    return found[0][0] if found else None


# --- the worker: claim, record, release ---------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A message the worker took to send."""

    id: int
    kind: str
    message_id: str
    to_address: str
    to_name: str
    subject: str
    body_text: str | None  # None once purged (a sent message resent to the queue never is)
    body_html: str | None
    created_at: datetime  # UTC
    attempts: int  # this try included


_CLAIMED = "id, kind, message_id, to_address, to_name, subject, body_text, body_html, created_at, attempts"

# The bodies of a message carrying a one-time link, every address replaced: what every state the message
# leaves the queue for (sent, failed, cancelled) sets, with _REDACTING's parameters.
_REDACT = (
    "body_text = CASE WHEN secret_link THEN regexp_replace(body_text, ?, ?, 'g') ELSE body_text END,"
    " body_html = CASE WHEN secret_link THEN regexp_replace(body_html, ?, ?, 'g') ELSE body_html END"
)
_REDACTING = [LINK_PATTERN, REDACTED_LINK, LINK_PATTERN, REDACTED_LINK]


# At a server's start, the claims left `sending`. On DuckDB only one process opens the file: any
# claim is an orphan of a process that died. On PostgreSQL another replica may be sending right
# now: only a claim whose lease ran out (by the database's clock, one for every replica; the store
# keeps UTC and the sessions run in UTC) is an orphan.
_RELEASE = dialects(
    duckdb="UPDATE outbox SET state = ?, claimed_until = NULL, attempts = greatest(attempts - 1, 0)"
    " WHERE state = ? RETURNING id",
    postgresql="UPDATE outbox SET state = ?, claimed_until = NULL, attempts = greatest(attempts - 1, 0)"
    " WHERE state = ? AND claimed_until < localtimestamp RETURNING id",
)


def release_claims(cur: duckdb.DuckDBPyConnection) -> int:
    """The orphaned claims (see _RELEASE) go back to waiting; their interrupted try is not counted."""
    return len(cur.execute(_RELEASE, [WAITING, SENDING]).fetchall())


# The due messages, oldest first. On PostgreSQL every replica runs a worker: rows another worker's
# open claim has locked are skipped (it is taking them), and the SERIALIZABLE transaction settles
# any other race, so a message is claimed by one worker only.
_CLAIM = (
    "UPDATE outbox SET state = ?, attempts = attempts + 1, claimed_until = ? WHERE id IN ({due}) RETURNING {columns}"
)
_DUE = "SELECT id FROM outbox WHERE (state = ? AND not_before <= ?) OR (state = ? AND claimed_until < ?) ORDER BY id LIMIT ?"
_CLAIM_DUE = dialects(
    duckdb=_CLAIM.format(due=_DUE, columns=_CLAIMED),
    postgresql=_CLAIM.format(due=_DUE + " FOR UPDATE SKIP LOCKED", columns=_CLAIMED),
)


def claim(cur: duckdb.DuckDBPyConnection, now_utc: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
    """Take up to `limit` due messages (oldest first) for one batch: `sending`, one more try, leased.
    A claim whose lease ran out (a round that died half-way) is due again."""
    rows = cur.execute(_CLAIM_DUE, [SENDING, lease_until, WAITING, now_utc, SENDING, now_utc, limit]).fetchall()
    return sorted((Claimed(*r) for r in rows), key=lambda c: c.id)


def record_sent(cur: duckdb.DuckDBPyConnection, message_id: int, now_utc: datetime, reply: str) -> None:
    """The server took it: `sent`, when, its reply (a one-time link is redacted from the bodies)."""
    cur.execute(
        f"UPDATE outbox SET state = ?, sent_at = ?, smtp_reply = ?, claimed_until = NULL, last_error = NULL, {_REDACT}"
        " WHERE id = ? AND state = ?",
        [SENT, now_utc, reply, *_REDACTING, message_id, SENDING],
    )


def record_retry(
    cur: duckdb.DuckDBPyConnection, message_ids: list[int], not_before: datetime, error: str, *, blamed: bool
) -> None:
    """Back to waiting until `not_before`; `blamed=False` (the server was down) leaves the try uncounted."""
    cur.execute(
        "UPDATE outbox SET state = ?, not_before = ?, last_error = ?, claimed_until = NULL,"
        " attempts = CASE WHEN ? THEN attempts ELSE greatest(attempts - 1, 0) END"
        " WHERE list_contains(?, id) AND state = ?",
        [WAITING, not_before, error, blamed, message_ids, SENDING],
    )


def record_failed(cur: duckdb.DuckDBPyConnection, message_id: int, error: str) -> None:
    """Given up: `failed`, why (a one-time link is redacted: the message is never sent again as it is)."""
    cur.execute(
        f"UPDATE outbox SET state = ?, last_error = ?, claimed_until = NULL, {_REDACT} WHERE id = ? AND state = ?",
        [FAILED, error, *_REDACTING, message_id, SENDING],
    )


def expire_secret_links(cur: duckdb.DuckDBPyConnection, queued_before_utc: datetime, error: str) -> int:
    """Messages with a one-time link still waiting since before the date (their link has expired):
    `failed` with `error`, redacted. How many."""
    return len(
        cur.execute(
            f"UPDATE outbox SET state = ?, last_error = ?, {_REDACT}"
            " WHERE secret_link AND state = ? AND created_at < ? RETURNING id",
            [FAILED, error, *_REDACTING, WAITING, queued_before_utc],
        ).fetchall()
    )


def purge_bodies(cur: duckdb.DuckDBPyConnection, sent_before_utc: datetime) -> int:
    """Forget the bodies of messages sent before the date; the rows stay (who, what, when, the reply)."""
    return len(
        cur.execute(
            "UPDATE outbox SET body_text = NULL, body_html = NULL"
            " WHERE state = ? AND sent_at < ? AND (body_text IS NOT NULL OR body_html IS NOT NULL) RETURNING id",
            [SENT, sent_before_utc],
        ).fetchall()
    )


# --- the administrator's outbox -----------------------------------------------------------------


@dataclass(frozen=True)
class OutboxLine:
    id: int
    created_at: datetime  # UTC
    kind: str
    family_id: int | None
    family: str | None
    to_address: str
    to_name: str
    subject: str
    state: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None  # UTC
    secret_link: bool
    resent_from: int | None


def lines(db: Database, state: str | None, family_id: int | None, limit: int) -> list[OutboxLine]:
    """The newest messages first, optionally of one state and one family."""
    rows = db.rows(
        "SELECT o.id, o.created_at, o.kind, o.family_id, f.name, o.to_address, o.to_name, o.subject, o.state,"
        " o.attempts, o.last_error, o.sent_at, o.secret_link, o.resent_from"
        " FROM outbox o LEFT JOIN families f ON f.id = o.family_id"
        # typed: PostgreSQL cannot guess the type of a parameter that is only compared with NULL
        " WHERE (CAST(? AS VARCHAR) IS NULL OR o.state = ?) AND (CAST(? AS BIGINT) IS NULL OR o.family_id = ?)"
        " ORDER BY o.id DESC LIMIT ?",
        [state, state, family_id, family_id, limit],
    )
    return [OutboxLine(*r) for r in rows]


def families_with_mail(db: Database) -> list[tuple[int, str]]:
    return db.rows(
        "SELECT DISTINCT f.id, f.name FROM outbox o JOIN families f ON f.id = o.family_id ORDER BY f.name, f.id"
    )


@dataclass(frozen=True)
class Stored:
    """A message as kept, for a resend."""

    id: int
    kind: str
    state: str
    message_id: str
    to_address: str
    to_name: str
    subject: str
    body_text: str | None
    body_html: str | None
    payload: str
    secret_link: bool
    family_id: int | None
    user_id: int | None
    audit_id: int | None


def stored(cur: duckdb.DuckDBPyConnection, message_id: int) -> Stored | None:
    found = cur.execute(
        "SELECT id, kind, state, message_id, to_address, to_name, subject, body_text, body_html, payload,"
        " secret_link, family_id, user_id, audit_id FROM outbox WHERE id = ?",
        [message_id],
    ).fetchall()
    return Stored(*found[0]) if found else None


def requeue_failed(
    cur: duckdb.DuckDBPyConnection, message_id: int, now_utc: datetime, to_address: str, to_name: str
) -> bool:
    """A failed message waits again, due now, with its Message-ID, to the address given; False when
    it is not failed."""
    return bool(
        cur.execute(
            "UPDATE outbox SET state = ?, not_before = ?, to_address = ?, to_name = ? WHERE id = ? AND state = ?"
            " RETURNING id",
            [WAITING, now_utc, to_address, to_name, message_id, FAILED],
        ).fetchall()
    )


def account_address(cur: duckdb.DuckDBPyConnection, user_id: int) -> tuple[str, str] | None:
    """(e-mail, display name) of an account now: where a message to it is resent."""
    found = cur.execute("SELECT email, display_name FROM users WHERE id = ?", [user_id]).fetchall()
    return (found[0][0], found[0][1]) if found else None


def cancel_waiting(cur: duckdb.DuckDBPyConnection, message_id: int) -> bool:
    """A waiting message will not be sent (a one-time link is redacted); False when it is not waiting."""
    return bool(
        cur.execute(
            f"UPDATE outbox SET state = ?, {_REDACT} WHERE id = ? AND state = ? RETURNING id",
            [CANCELLED, *_REDACTING, message_id, WAITING],
        ).fetchall()
    )


@dataclass(frozen=True)
class Backlog:
    oldest_waiting: datetime | None  # UTC: created_at of the oldest message still waiting
    waiting: int
    last_error: str | None  # the latest error of a waiting message
    transport_down_since: datetime | None  # UTC: the worker's last word was « down », then


def backlog(db: Database) -> Backlog:
    """What the administrator's banner says, from the stored facts only."""
    oldest, waiting = db.rows("SELECT min(created_at), count(*) FROM outbox WHERE state IN (?, ?)", [WAITING, SENDING])[
        0
    ]
    error = db.rows(
        "SELECT last_error FROM outbox WHERE state = ? AND last_error IS NOT NULL ORDER BY not_before DESC LIMIT 1",
        [WAITING],
    )
    last = last_transport_event(db)
    down_since = last[1] if last is not None and last[0] == TRANSPORT_DOWN else None
    return Backlog(oldest, waiting, error[0][0] if error else None, down_since)


def last_transport_event(db: Database) -> tuple[str, datetime] | None:
    """The worker's last audit word on the SMTP server: (action, when, UTC)."""
    found = db.rows(
        "SELECT action, logged_at FROM audit_log WHERE action IN (?, ?) ORDER BY id DESC LIMIT 1",
        [TRANSPORT_DOWN, TRANSPORT_UP],
    )
    return (found[0][0], found[0][1]) if found else None


def preferences(db: Database, user_id: int) -> dict[str, bool]:
    """The kinds the account chose (wanted or not); a kind absent keeps its default."""
    return dict(db.rows("SELECT kind, wanted FROM mail_preferences WHERE user_id = ?", [user_id]))


def set_preferences(cur: duckdb.DuckDBPyConnection, user_id: int, wanted: dict[str, bool], at_utc: datetime) -> None:
    for kind, value in wanted.items():
        cur.execute(
            "INSERT INTO mail_preferences VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id, kind) DO UPDATE SET wanted = excluded.wanted, updated_at = excluded.updated_at",
            [user_id, kind, value, at_utc],
        )


# --- what the family letters are built from ---------------------------------------------------------


def children(cur: duckdb.DuckDBPyConnection, child_ids: list[int]) -> dict[int, tuple[str, int]]:
    """child id → (first name, family id): a letter names a child by its first name only."""
    if not child_ids:
        return {}
    rows = cur.execute(
        "SELECT id, first_name, family_id FROM children WHERE list_contains(?, id)", [child_ids]
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


# Each invoice's family accounts, with what decides which of them read about it (the domain's
# `invoicing.invoice_visible`): whether the family's bill is split, and the payer guardian's account.
_AUDIENCE = """JOIN users u ON u.family_id = i.family_id AND u.active
                JOIN families fa ON fa.id = i.family_id
                LEFT JOIN guardians pg ON pg.id = i.payer_guardian_id"""
_AUDIENCE_COLUMNS = (
    f"u.id AS user_id, u.email, u.display_name, fa.billing = {SPLIT} AS split_family, pg.user_id AS payer_user_id"
)


def issued_documents(cur: duckdb.DuckDBPyConnection, year: int, first_seq: int, last_seq: int) -> list[dict]:
    """The documents a publication just issued (by their numbers' sequence), each with every active
    account of its family: one row per (document, account)."""
    return dicts(
        cur,
        f"""SELECT i.id, i.number, i.kind, i.period_month, i.due_date, i.total_cents, i.family_id,
                   {_AUDIENCE_COLUMNS}
            FROM invoices i {_AUDIENCE}
            WHERE i.year = ? AND i.seq BETWEEN ? AND ? ORDER BY i.seq, u.id""",
        [year, first_seq, last_seq],
    )


def invoice_accounts(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> list[dict]:
    """The invoice's family accounts (one row each), as `issued_documents` gives them."""
    return dicts(
        cur,
        f"SELECT i.family_id, {_AUDIENCE_COLUMNS} FROM invoices i {_AUDIENCE} WHERE i.id = ? ORDER BY u.id",
        [invoice_id],
    )


def payment(cur: duckdb.DuckDBPyConnection, payment_id: int) -> dict | None:
    """A payment with its invoice and what the invoice has received so far."""
    found = dicts(
        cur,
        f"""SELECT p.amount_cents, p.paid_at, p.method, i.id AS invoice_id, i.number, i.period_month, i.family_id,
                   i.total_cents,
                   {PAID_CENTS} AS paid_cents, {CREDITED_CENTS} AS credited_cents
            FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE p.id = ?""",
        [payment_id],
    )
    return found[0] if found else None


def unpaid_invoices(cur: duckdb.DuckDBPyConnection, due_before: date, pending_since: datetime) -> list[dict]:
    """Invoices (not credit notes) due before `due_before` with something left to pay, no online
    payment in progress (an attempt started after `pending_since` and not answered) and no direct
    debit to come (lib.store.sepa.DEBITED: the family's bank pays it on its date), with every
    active account of the family: one row per (invoice, account)."""
    return dicts(
        cur,
        f"""WITH owed AS (
                SELECT i.id, i.number, i.period_month, i.due_date, i.family_id,
                       i.total_cents - {PAID_CENTS} - {CREDITED_CENTS} AS left_cents
                FROM invoices i
                WHERE i.kind = 'invoice' AND i.due_date < $due_before
                  AND NOT EXISTS (SELECT 1 FROM payment_transactions t WHERE t.invoice_id = i.id
                                  AND t.state = 'pending' AND t.created_at > $pending_since)
                  AND NOT {DEBITED}
            )
            SELECT o.*, {_AUDIENCE_COLUMNS}
            FROM owed o JOIN invoices i ON i.id = o.id {_AUDIENCE}
            WHERE o.left_cents > 0 ORDER BY o.id, u.id""",
        {"due_before": due_before, "pending_since": pending_since},
    )


def forget_history(cur: duckdb.DuckDBPyConnection) -> int:
    """Drop every queued message: a town built in bulk (the demo, the tests' small town) starts with
    nothing to send for the months it was given as history. How many were dropped."""
    return len(cur.execute("DELETE FROM outbox RETURNING 1").fetchall())
