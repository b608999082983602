"""The outbox: every e-mail as a row, written in the transaction of the change it reports, then
claimed, sent and recorded by the mail worker (lib/services/mail_worker.py); the preferences of
family accounts for optional kinds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from lib.domain.letters import MailKind, MailState

WAITING = MailState.WAITING.value


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


def insert(cur: duckdb.DuckDBPyConnection, message: NewMessage) -> int | None:
    """Queue one message; its id, or None when a message with the same `dedupe_key` exists already."""
    found = cur.execute(
        f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING RETURNING id",
        [
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
        ],
    ).fetchall()
    return found[0][0] if found else None


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
