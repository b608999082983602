"""Logging in and out: argon2 passwords, server-side sessions, a throttle on failures."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lib.domain.actor import Actor
from lib.domain import fr
from lib.domain.clock import from_utc_naive, to_utc_naive
from lib.domain.errors import LoginRefused, TooManyAttempts
from lib.domain.roles import Role
from lib.domain.validation import check_password_input, normalize_email
from lib.store import users
from lib.store.db import Database

SESSION_COOKIE = "pf_session"
SESSION_LIFETIME = timedelta(days=7)
THROTTLE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
MAX_FAILURES = {"email": 5, "ip": 30}
TOKEN_MAX_LENGTH = 128

_hasher = PasswordHasher()
# Checked when the e-mail is unknown, so that a wrong address costs as much time as a wrong
# password and response times do not reveal which addresses have an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

BAD_CREDENTIALS = "E-mail ou mot de passe incorrect."
SESSION_EXPIRED = "Votre session a expiré ou n'est plus valable : reconnectez-vous."


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _actor(row: dict) -> Actor:
    return Actor(
        user_id=row["id"],
        email=row["email"],
        role=Role(row["role"]),
        display_name=row["display_name"],
        family_id=row["family_id"],
    )


def _throttle_keys(email: str, client_ip: str | None) -> list[str]:
    keys = [f"email:{email}"]
    if client_ip:
        keys.append(f"ip:{client_ip[:64]}")
    return keys


def _check_not_locked(db: Database, keys: list[str], now: datetime) -> None:
    now_utc = to_utc_naive(now)
    locks = [r["locked_until"] for r in users.throttle_state(db, keys) if r["locked_until"] and r["locked_until"] > now_utc]
    if locks:
        until = from_utc_naive(max(locks))
        raise TooManyAttempts(
            "Trop de tentatives de connexion échouées : par sécurité, la connexion est suspendue "
            f"jusqu'à {fr.hour(until)}. Vous pourrez réessayer ensuite."
        )


def login(db: Database, email: str, password: str, now: datetime, client_ip: str | None = None) -> tuple[str, Actor]:
    """Check the credentials; on success return (session token for the cookie, actor).

    Raises InvalidInput for an empty or malformed field (nothing written), LoginRefused for a
    wrong e-mail or password (only the throttle counter is written), TooManyAttempts while
    the e-mail or the address is paused.
    """
    email = normalize_email(email)
    password = check_password_input(password)
    keys = _throttle_keys(email, client_ip)
    _check_not_locked(db, keys, now)

    row = users.user_by_email(db, email)
    ok = _verify(row["password_hash"] if row else _DUMMY_HASH, password)
    if not ok or row is None or not row["active"]:
        users.record_failure(
            db, keys, to_utc_naive(now), to_utc_naive(now - THROTTLE_WINDOW), MAX_FAILURES,
            to_utc_naive(now + LOCK_DURATION),
        )
        _check_not_locked(db, keys, now)
        raise LoginRefused(BAD_CREDENTIALS)

    users.clear_failures(db, keys[:1])
    token = secrets.token_urlsafe(32)
    users.create_session(db, _token_hash(token), row["id"], to_utc_naive(now), to_utc_naive(now + SESSION_LIFETIME))
    return token, _actor(row)


def actor_for_token(db: Database, token: str | None, now: datetime) -> Actor:
    """The actor behind a session token; LoginRefused if the token is absent, forged or expired."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise LoginRefused(SESSION_EXPIRED)
    row = users.user_for_session(db, _token_hash(token), to_utc_naive(now))
    if row is None:
        raise LoginRefused(SESSION_EXPIRED)
    return _actor(row)


def action_code(token: str, purpose: str) -> str:
    """The code a link for one action carries (logout, paying an invoice): derived from the
    session token, so another site cannot forge the link (the token never appears in a page)."""
    return hashlib.sha256(f"{purpose}|{token}".encode("utf-8")).hexdigest()[:32]


def logout_code(token: str) -> str:
    return action_code(token, "logout")


def logout(db: Database, token: str | None) -> bool:
    """End the session server-side: the cookie the browser keeps is worthless afterwards."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return False
    return users.delete_session(db, _token_hash(token))


def is_demo(db: Database) -> bool:
    """True for the demo database, whose login page lists the demo accounts."""
    from lib.store import reference

    return "demo_built_for" in reference.settings(db)
