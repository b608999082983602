"""The links sent by e-mail (`link_tokens`): issued, consumed once, looked at. Only the sha256 of a
link's secret is stored."""

from __future__ import annotations

from datetime import datetime

import duckdb

from lib.domain.account_links import LinkPurpose, StoredLink
from lib.store.db import Database

_COLUMNS = "purpose, user_id, new_email, created_at, expires_at, used_at, created_by"


def _link(row: tuple) -> StoredLink:
    purpose, user_id, new_email, created_at, expires_at, used_at, created_by = row
    return StoredLink(LinkPurpose(purpose), user_id, new_email, created_at, expires_at, used_at, created_by)


def issue(
    cur: duckdb.DuckDBPyConnection,
    token_hash: str,
    purpose: LinkPurpose,
    user_id: int,
    now_utc: datetime,
    expires_utc: datetime,
    *,
    new_email: str | None = None,
    created_by: int | None = None,
) -> int:
    """Store a new link; the user's older links of the same purpose still unused stop working (marked
    used now). How many were voided."""
    voided = cur.execute(
        "UPDATE link_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL RETURNING 1",
        [now_utc, user_id, purpose.value],
    ).fetchall()
    cur.execute(
        f"INSERT INTO link_tokens (token_hash, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
        [token_hash, purpose.value, user_id, new_email, now_utc, expires_utc, created_by],
    )
    return len(voided)


def consume(
    cur: duckdb.DuckDBPyConnection, token_hash: str, purpose: LinkPurpose, now_utc: datetime
) -> StoredLink | None:
    """Use the link once: one conditional update, so that of two clicks only one finds it usable.
    The link as it was, or None when it is unknown, of another purpose, used or expired."""
    found = cur.execute(
        f"""UPDATE link_tokens SET used_at = ?
            WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
            RETURNING {_COLUMNS}""",
        [now_utc, token_hash, purpose.value, now_utc],
    ).fetchall()
    if not found:
        return None
    purpose_, user_id, new_email, created_at, expires_at, _used, created_by = found[0]
    return _link((purpose_, user_id, new_email, created_at, expires_at, None, created_by))


def peek(db: Database, token_hash: str) -> StoredLink | None:
    """The link, whatever its state (the page a link opens asks before showing its form)."""
    found = db.rows(f"SELECT {_COLUMNS} FROM link_tokens WHERE token_hash = ?", [token_hash])
    return _link(found[0]) if found else None


def void_all_for_user(cur: duckdb.DuckDBPyConnection, user_id: int, now_utc: datetime) -> int:
    """Every unused link of the user stops working, whatever its purpose (its password was just set:
    a link asked by whoever knew the old one must not outlive it). How many were voided."""
    return len(
        cur.execute(
            "UPDATE link_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL RETURNING 1", [now_utc, user_id]
        ).fetchall()
    )
