"""Users, login sessions, the failed-login throttle and the addresses each account logs in from."""

from __future__ import annotations

from datetime import datetime

import duckdb

from lib.store.db import Database

_USER_COLUMNS = "u.id, u.email, u.password_hash, u.role, u.family_id, u.display_name, u.active"


def user_by_email(db: Database, email: str) -> dict | None:
    found = db.dicts(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.email = ?", [email])
    return found[0] if found else None


def user_for_session(db: Database, token_hash: str, now_utc: datetime) -> dict | None:
    """The session's user with the session's `last_seen_at`, while the session has not expired."""
    found = db.dicts(
        f"""SELECT {_USER_COLUMNS}, s.last_seen_at
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = ? AND s.expires_at > ? AND u.active""",
        [token_hash, now_utc],
    )
    return found[0] if found else None


def create_session(
    cur: duckdb.DuckDBPyConnection, token_hash: str, user_id: int, now_utc: datetime, expires_utc: datetime
) -> None:
    # Expired sessions are swept on each login: the table stays the size of live sessions.
    cur.execute("DELETE FROM sessions WHERE expires_at <= ?", [now_utc])
    cur.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
        [token_hash, user_id, now_utc, expires_utc, now_utc],
    )


def touch_session(db: Database, token_hash: str, now_utc: datetime) -> None:
    db.write(
        lambda cur: cur.execute("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", [now_utc, token_hash])
    )


def delete_session(cur: duckdb.DuckDBPyConnection, token_hash: str) -> int | None:
    """Delete one session; the user it belonged to, None if there was none."""
    found = cur.execute("DELETE FROM sessions WHERE token_hash = ? RETURNING user_id", [token_hash]).fetchall()
    return found[0][0] if found else None


def delete_sessions_of(cur: duckdb.DuckDBPyConnection, user_id: int, keep_token_hash: str | None = None) -> int:
    """Delete every session of the user but `keep_token_hash`; how many were deleted."""
    return len(
        cur.execute(
            "DELETE FROM sessions WHERE user_id = ? AND token_hash IS DISTINCT FROM ? RETURNING 1",
            [user_id, keep_token_hash],
        ).fetchall()
    )


def set_password_hash(cur: duckdb.DuckDBPyConnection, user_id: int, password_hash: str) -> None:
    cur.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])


def throttle_rows(cur: duckdb.DuckDBPyConnection, keys: list[str]) -> dict[str, dict]:
    """The throttle rows of `keys`, by key (a key without failures has none)."""
    found = cur.execute(
        "SELECT key, failures, last_failure_at, retry_at FROM login_throttle WHERE list_contains(?, key)", [keys]
    ).fetchall()
    return {
        key: {"failures": failures, "last_failure_at": last, "retry_at": retry} for key, failures, last, retry in found
    }


def save_throttle(
    cur: duckdb.DuckDBPyConnection, key: str, failures: int, last_failure_utc: datetime, retry_utc: datetime
) -> None:
    cur.execute(
        """INSERT INTO login_throttle VALUES (?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
             last_failure_at = excluded.last_failure_at, retry_at = excluded.retry_at""",
        [key, failures, last_failure_utc, retry_utc],
    )


def clear_throttle(cur: duckdb.DuckDBPyConnection, key: str) -> None:
    cur.execute("DELETE FROM login_throttle WHERE key = ?", [key])


def is_known_address(cur: duckdb.DuckDBPyConnection, email: str, address: str, since_utc: datetime) -> bool:
    """Whether the e-mail has logged in from the address since `since_utc`."""
    return bool(
        cur.execute(
            "SELECT 1 FROM login_known_addresses WHERE email = ? AND address = ? AND last_login_at >= ?",
            [email, address, since_utc],
        ).fetchall()
    )


def remember_address(
    cur: duckdb.DuckDBPyConnection, email: str, address: str, now_utc: datetime, forget_before_utc: datetime
) -> None:
    """Record a login from the address; the e-mail's addresses unused since `forget_before_utc` go."""
    cur.execute("DELETE FROM login_known_addresses WHERE email = ? AND last_login_at < ?", [email, forget_before_utc])
    cur.execute(
        """INSERT INTO login_known_addresses VALUES (?, ?, ?)
           ON CONFLICT (email, address) DO UPDATE SET last_login_at = excluded.last_login_at""",
        [email, address, now_utc],
    )
