"""Users, login sessions and the failed-login throttle."""

from __future__ import annotations

from datetime import datetime

from lib.store.db import Database

_USER_COLUMNS = "u.id, u.email, u.password_hash, u.role, u.family_id, u.display_name, u.active"


def user_by_email(db: Database, email: str) -> dict | None:
    found = db.dicts(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.email = ?", [email])
    return found[0] if found else None


def user_for_session(db: Database, token_hash: str, now_utc: datetime) -> dict | None:
    found = db.dicts(
        f"""SELECT {_USER_COLUMNS}, s.expires_at
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = ? AND s.expires_at > ? AND u.active""",
        [token_hash, now_utc],
    )
    return found[0] if found else None


def create_session(db: Database, token_hash: str, user_id: int, now_utc: datetime, expires_utc: datetime) -> None:
    def work(cur):
        # Expired sessions are swept on each login: the table stays the size of live sessions.
        cur.execute("DELETE FROM sessions WHERE expires_at <= ?", [now_utc])
        cur.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", [token_hash, user_id, now_utc, expires_utc])

    db.write(work)


def delete_session(db: Database, token_hash: str) -> bool:
    return db.write(
        lambda cur: bool(cur.execute("DELETE FROM sessions WHERE token_hash = ? RETURNING 1", [token_hash]).fetchall())
    )


def throttle_state(db: Database, keys: list[str]) -> list[dict]:
    return db.dicts("SELECT * FROM login_throttle WHERE list_contains(?, key)", [keys])


def record_failure(db: Database, keys: list[str], now_utc: datetime, window_start: datetime,
                   max_failures: dict[str, int], lock_until: datetime) -> None:
    """Count one failure against each key; lock a key that reaches its maximum."""

    def work(cur):
        for key in keys:
            cur.execute(
                """INSERT INTO login_throttle VALUES ($key, 1, $now, NULL)
                   ON CONFLICT (key) DO UPDATE SET
                     failures = CASE WHEN login_throttle.first_failure_at < $window THEN 1
                                     ELSE login_throttle.failures + 1 END,
                     first_failure_at = CASE WHEN login_throttle.first_failure_at < $window THEN $now
                                             ELSE login_throttle.first_failure_at END""",
                {"key": key, "now": now_utc, "window": window_start},
            )
            cur.execute(
                "UPDATE login_throttle SET locked_until = ? WHERE key = ? AND failures >= ?",
                [lock_until, key, max_failures[key.split(":", 1)[0]]],
            )

    db.write(work)


def clear_failures(db: Database, keys: list[str]) -> None:
    db.write(lambda cur: cur.execute("DELETE FROM login_throttle WHERE list_contains(?, key)", [keys]))
