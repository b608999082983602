"""Logging in and out: argon2 passwords, server-side sessions with an idle timeout, a throttle
that slows guessing without ever locking the owner out (lib/domain/login_policy.py), the
password change, and the audit of each of them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from lib.domain import account_letters
from lib.domain import login_policy as policy
from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput, LoginRefused, TooManyAttempts
from lib.domain.roles import Role
from lib.domain.validation import check_new_password, check_password_input, normalize_email
from lib.services import mail
from lib.store import audit, links, users
from lib.store.db import Cursor, Database

SESSION_COOKIE = "pf_session"
SESSION_LIFETIME = policy.SESSION_LIFETIME
TOKEN_MAX_LENGTH = 128


class Passwords:
    """argon2 at one cost: the hasher of new passwords, and a hash of that cost checked when the
    e-mail is unknown, so that a wrong address costs as much time as a wrong password and response
    times do not reveal which addresses have an account. Checking reads the cost from the stored
    hash itself, so hashes made at another cost keep working."""

    def __init__(self, parameters: Parameters) -> None:
        self.hasher = PasswordHasher.from_parameters(parameters)
        self.dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))


# RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes), named rather than left to the
# library's default so that an upgrade cannot change it unnoticed. The one place the cost is chosen;
# only the tests put a cheap PASSWORDS in its place (tests/conftest.py), never a setting.
PRODUCTION_COST = profiles.RFC_9106_LOW_MEMORY
PASSWORDS = Passwords(PRODUCTION_COST)

BAD_CREDENTIALS = "E-mail ou mot de passe incorrect."
SESSION_EXPIRED = "Votre session a expiré ou n'est plus valable : reconnectez-vous."
WRONG_CURRENT_PASSWORD = "Le mot de passe actuel est incorrect."


def hash_password(password: str) -> str:
    return PASSWORDS.hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return PASSWORDS.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    """The stored form of a secret token (a session, a link sent by e-mail, a calendar feed's address): its sha256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _actor(row: dict) -> Actor:
    return Actor(
        user_id=row["id"],
        email=row["email"],
        role=Role(row["role"]),
        display_name=row["display_name"],
        family_id=row["family_id"],
    )


def _wait_message(seconds: int) -> str:
    return (
        f"Trop de tentatives de connexion échouées : par sécurité, réessayez dans {seconds} seconde"
        f"{'s' if seconds > 1 else ''}."
    )


def _throttle_keys(cur: Cursor, email: str, address: str, now_utc: datetime) -> list[tuple[str, policy.Schedule]]:
    """The counters this attempt answers to: its (account, address) pair, and its address as well
    when the account has not logged in from there lately."""
    keys = [(f"pair:{email} {address}", policy.PAIR)]
    if not users.is_known_address(cur, email, address, now_utc - policy.KNOWN_FOR):
        keys.append((f"address:{address}", policy.ADDRESS))
    return keys


def _take_a_try(db: Database, email: str, address: str, now: datetime) -> list[tuple[str, policy.Schedule]]:
    """Count this attempt as a failure before the password is checked, in one transaction with the
    check that it may be made now: parallel guesses cannot all slip through before the first one is
    counted. The success forgives it (`_forgive`). Raises TooManyAttempts, writing nothing, while a
    counter says to wait; returns the keys counted."""
    now_utc = to_utc_naive(now)

    def work(cur):
        keys = _throttle_keys(cur, email, address, now_utc)
        rows = users.throttle_rows(cur, [key for key, _ in keys])
        waits = [policy.seconds_to_wait(rows[key]["retry_at"], now_utc) for key, _ in keys if key in rows]
        if max(waits, default=0) > 0:
            raise TooManyAttempts(_wait_message(max(waits)))
        for key, schedule in keys:
            row = rows.get(key)
            failures = 1 + (policy.counted_failures(row["failures"], row["last_failure_at"], now_utc) if row else 0)
            users.save_throttle(cur, key, failures, now_utc, now_utc + schedule.wait_after(failures))
        return keys

    return db.write(work)


def _check_password(
    db: Database, email: str, password: str, address: str, now: datetime, refusal: str
) -> tuple[dict, list[tuple[str, policy.Schedule]]]:
    """The active account's row if `password` is its password, with the throttle keys this try was
    counted against; LoginRefused(`refusal`) otherwise (the failure stays counted)."""
    counted = _take_a_try(db, email, address, now)
    row = users.user_by_email(db, email)
    ok = _verify(row["password_hash"] if row else PASSWORDS.dummy_hash, password)
    if not ok or row is None or not row["active"]:
        raise LoginRefused(refusal)
    return row, counted


def _forgive(cur: Cursor, counted: list[tuple[str, policy.Schedule]], now_utc: datetime) -> None:
    """A right password: the pair's failures are forgiven; the address's are not (an attacker
    holding one account must not wipe the count of its guesses at the others), only this try's
    share of them."""
    (pair, _), *address_keys = counted
    users.clear_throttle(cur, pair)
    for key, schedule in address_keys:
        failures = users.throttle_rows(cur, [key]).get(key, {}).get("failures", 1) - 1
        if failures > 0:
            users.save_throttle(cur, key, failures, now_utc, now_utc + schedule.wait_after(failures))
        else:
            users.clear_throttle(cur, key)


def login(db: Database, email: str, password: str, now: datetime, client_ip: str | None = None) -> tuple[str, Actor]:
    """Check the credentials; on success return (session token for the cookie, actor).

    `client_ip`: the client's address as the server established it (lib/web/proxies.py).
    Raises InvalidInput for an empty or malformed field (nothing written), LoginRefused for a
    wrong e-mail or password (only the throttle counters are written), TooManyAttempts, with the
    seconds to wait, while this account from this address (or this address, for accounts it
    never opened) must wait.
    """
    email = normalize_email(email)
    password = check_password_input(password)
    address = policy.address_key(client_ip)
    row, counted = _check_password(db, email, password, address, now, BAD_CREDENTIALS)
    token = secrets.token_urlsafe(32)
    now_utc = to_utc_naive(now)

    def work(cur):
        _forgive(cur, counted, now_utc)
        users.remember_address(cur, email, address, now_utc, now_utc - policy.KNOWN_FOR)
        users.create_session(cur, token_hash(token), row["id"], now_utc, to_utc_naive(now + SESSION_LIFETIME))
        audit.record(
            cur,
            at_utc=now_utc,
            user_id=row["id"],
            action="auth.login",
            entity="user",
            entity_id=row["id"],
            after={"address": address},
        )

    db.write(work)
    return token, _actor(row)


def actor_for_token(db: Database, token: str | None, now: datetime) -> Actor:
    """The actor behind a session token; LoginRefused if the token is absent, forged, expired, or
    unused for longer than the role's idle timeout."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise LoginRefused(SESSION_EXPIRED)
    now_utc = to_utc_naive(now)
    session_hash = token_hash(token)
    row = users.user_for_session(db, session_hash, now_utc)
    if row is None or now_utc - row["last_seen_at"] >= policy.IDLE_TIMEOUT[Role(row["role"])]:
        raise LoginRefused(SESSION_EXPIRED)
    if now_utc - row["last_seen_at"] >= policy.TOUCH_EVERY:
        users.touch_session(db, session_hash, now_utc)
    return _actor(row)


def action_code(token: str, purpose: str) -> str:
    """The code a link for one action carries (logout, paying an invoice): derived from the
    session token, so another site cannot forge the link (the token never appears in a page)."""
    return hashlib.sha256(f"{purpose}|{token}".encode()).hexdigest()[:32]


def logout_code(token: str) -> str:
    return action_code(token, "logout")


def logout_everywhere_code(token: str) -> str:
    return action_code(token, "logout-everywhere")


def logout(db: Database, token: str | None, now: datetime, everywhere: bool = False) -> bool:
    """End the session server-side (the cookie the browser keeps is worthless afterwards) and, with
    `everywhere`, every other session of the account too. False if the session did not exist."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return False
    now_utc = to_utc_naive(now)

    def work(cur):
        user_id = users.delete_session(cur, token_hash(token))
        if user_id is None:
            return False
        others = users.delete_sessions_of(cur, user_id) if everywhere else 0
        audit.record(
            cur,
            at_utc=now_utc,
            user_id=user_id,
            action="auth.logout",
            entity="user",
            entity_id=user_id,
            after={"everywhere": everywhere, "other_sessions": others},
        )
        return True

    return db.write(work)


def change_password(
    db: Database,
    actor: Actor,
    token: str | None,
    current: str,
    new: str,
    confirmation: str,
    now: datetime,
    client_ip: str | None = None,
) -> int:
    """Replace the actor's password; every other session of the account ends (a thief who knew the
    old password is logged out), and every unused link of the account is voided (an e-mail change asked
    with the old password must not move the account away). Returns how many other sessions ended. InvalidInput in French for
    a new password the policy refuses (nothing written); LoginRefused for a wrong current password,
    counted by the login throttle like a failed login from `client_ip` (a stolen session must not
    become a way to guess the password), TooManyAttempts while that pair must wait. The account's
    address is told (« mot de passe modifié »), in the same transaction."""
    if not current:
        raise InvalidInput("Saisissez votre mot de passe actuel.")
    current = check_password_input(current)
    password = check_new_password(new, confirmation, [actor.email, actor.display_name])
    if password == current:
        raise InvalidInput("Le nouveau mot de passe doit être différent de l'actuel.")
    _row, counted = _check_password(
        db, actor.email, current, policy.address_key(client_ip), now, WRONG_CURRENT_PASSWORD
    )
    password_hash = hash_password(password)
    now_utc = to_utc_naive(now)

    def work(cur):
        _forgive(cur, counted, now_utc)
        users.set_password_hash(cur, actor.user_id, password_hash)
        links.void_all_for_user(cur, actor.user_id, now_utc)
        ended = users.delete_sessions_of(cur, actor.user_id, keep_token_hash=token_hash(token) if token else None)
        audit.record(
            cur,
            at_utc=now_utc,
            user_id=actor.user_id,
            action="auth.password",
            entity="user",
            entity_id=actor.user_id,
            after={"other_sessions": ended},
        )
        recipient = mail.Recipient(actor.email, actor.display_name, actor.user_id, actor.family_id)
        mail.queue(cur, account_letters.password_changed(actor.display_name, now), [recipient], now)
        return ended

    return db.write(work)


def cookies_need_https(db: Database) -> bool:
    """True when the town's `public_url` is https: the session cookie is then `Secure` even on a
    request that reached us over plain HTTP (a proxy that forgot to say it was HTTPS)."""
    from lib.store import reference

    return reference.settings(db).get("public_url", "").strip().lower().startswith("https://")


def is_demo(db: Database) -> bool:
    """True for the demo database, whose login page lists the demo accounts."""
    from lib.store import reference

    return "demo_built_for" in reference.settings(db)
