"""What a production start checks, and the writes that prepare a town's own database: its first
administrator and its deployment settings."""

from __future__ import annotations

from datetime import datetime

import duckdb

from lib.store.db import Database


def demo_accounts(db: Database, domain: str) -> int:
    """Accounts whose e-mail is at `domain` (the demo town's)."""
    return db.value("SELECT count(*) FROM users WHERE email LIKE ?", ["%@" + domain])


def active_admins(db: Database) -> int:
    return db.value("SELECT count(*) FROM users WHERE role = 'admin' AND active")


def email_taken(cur: duckdb.DuckDBPyConnection, email: str) -> bool:
    return bool(cur.execute("SELECT count(*) FROM users WHERE email = ?", [email]).fetchall()[0][0])


def insert_admin(
    cur: duckdb.DuckDBPyConnection, email: str, password_hash: str, display_name: str, now_utc: datetime
) -> int:
    return cur.execute(
        "INSERT INTO users (email, password_hash, role, family_id, display_name, created_at, activated_at) "
        "VALUES (?, ?, 'admin', NULL, ?, ?, ?) RETURNING id",
        [email, password_hash, display_name, now_utc, now_utc],
    ).fetchall()[0][0]


def put_setting(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> str | None:
    """Set `key`; its value before (None if it had none)."""
    before = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    cur.execute(
        "INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value]
    )
    return before[0][0] if before else None


def drop_setting(cur: duckdb.DuckDBPyConnection, key: str) -> None:
    cur.execute("DELETE FROM settings WHERE key = ?", [key])
