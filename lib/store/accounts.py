"""An account's life cycle: family accounts created before their holder chose a password (hash '!',
which no password matches), their activation, the change of an account's e-mail, and the list of
invitations not yet followed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from lib.domain.account_links import LinkPurpose
from lib.domain.roles import Role
from lib.store.db import Database
from lib.store.sql import Dialects, dialects

NO_PASSWORD = "!"  # not an argon2 hash: every check of it fails (auth._verify)


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    role: Role
    family_id: int | None
    display_name: str
    active: bool
    activated_at: datetime | None


@dataclass(frozen=True)
class Invitee:
    """A family account whose holder has not chosen a password yet."""

    user_id: int
    display_name: str
    email: str
    family_id: int
    family_name: str
    invited_at: datetime | None  # UTC: the last invitation; None if never invited
    expires_at: datetime | None  # UTC: when that invitation's link stops working


def _account(row: tuple) -> Account:
    user_id, email, role, family_id, name, active, activated_at = row
    return Account(user_id, email, Role(role), family_id, name, active, activated_at)


_ACCOUNT = "SELECT id, email, role, family_id, display_name, active, activated_at FROM users"


def account(cur: duckdb.DuckDBPyConnection, user_id: int) -> Account | None:
    found = cur.execute(f"{_ACCOUNT} WHERE id = ?", [user_id]).fetchall()
    return _account(found[0]) if found else None


def account_by_email(cur: duckdb.DuckDBPyConnection, email: str) -> Account | None:
    found = cur.execute(f"{_ACCOUNT} WHERE email = ?", [email]).fetchall()
    return _account(found[0]) if found else None


def email_taken(cur: duckdb.DuckDBPyConnection, email: str) -> bool:
    return bool(cur.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchall())


def family_exists(cur: duckdb.DuckDBPyConnection, family_id: int) -> bool:
    return bool(cur.execute("SELECT 1 FROM families WHERE id = ?", [family_id]).fetchall())


def families(db: Database) -> list[tuple[int, str]]:
    """(id, « Famille Martin – Camille Martin, Paul Martin (n° 12) ») of every family in use, by name:
    the administrator picks one to see its guardians' accounts (two families may share a name)."""
    return db.rows(
        """SELECT f.id, f.name || coalesce(' – ' || string_agg(trim(g.first_name || ' ' || g.last_name), ', '
                                                            ORDER BY g.rank), '') || ' (n° ' || f.id || ')'
           FROM families f LEFT JOIN guardians g ON g.family_id = f.id AND g.archived_at IS NULL
           WHERE f.archived_at IS NULL
           GROUP BY f.id, f.name ORDER BY f.name, f.id"""
    )


def create_family_account(
    cur: duckdb.DuckDBPyConnection, email: str, display_name: str, family_id: int, now_utc: datetime
) -> int:
    """A family account whose holder will choose the password (not activated); its id."""
    found = cur.execute(
        """INSERT INTO users (email, password_hash, role, family_id, display_name, active, created_at, activated_at)
           VALUES (?, ?, ?, ?, ?, TRUE, ?, NULL) RETURNING id""",
        [email, NO_PASSWORD, Role.FAMILY.value, family_id, display_name, now_utc],
    ).fetchall()
    return int(found[0][0])


def set_password(cur: duckdb.DuckDBPyConnection, user_id: int, password_hash: str, now_utc: datetime) -> None:
    """The holder chose a password through a link: it is set, and the account is activated if it was not."""
    cur.execute(
        "UPDATE users SET password_hash = ?, activated_at = coalesce(activated_at, ?) WHERE id = ?",
        [password_hash, now_utc, user_id],
    )


def set_email(cur: duckdb.DuckDBPyConnection, user_id: int, old: str, new: str) -> None:
    """The account's login e-mail becomes `new`; the addresses it logs in from follow it."""
    cur.execute("UPDATE users SET email = ? WHERE id = ?", [new, user_id])
    cur.execute("DELETE FROM login_known_addresses WHERE email = ?", [new])
    cur.execute("UPDATE login_known_addresses SET email = ? WHERE email = ?", [new, old])


def clear_pair_throttles(cur: duckdb.DuckDBPyConnection, email: str) -> None:
    """Forget the failed logins counted against the account from every address (its `pair:` keys)."""
    cur.execute("DELETE FROM login_throttle WHERE starts_with(key, ?)", [f"pair:{email} "])


# Each user's last link of a purpose (?): (user_id, created_at, expires_at).
LAST_LINKS = dialects(
    duckdb="""(SELECT user_id, max(created_at) AS created_at,
                             max_by(expires_at, created_at) AS expires_at
                      FROM link_tokens WHERE purpose = ? GROUP BY user_id)""",
    postgresql="""(SELECT DISTINCT ON (user_id) user_id, created_at, expires_at
                      FROM link_tokens WHERE purpose = ? ORDER BY user_id, created_at DESC)""",
)


def with_last_links(query: str) -> Dialects:
    """`query` with `{last_links}` replaced by LAST_LINKS in each engine's words."""
    return dialects(
        duckdb=query.format(last_links=LAST_LINKS), postgresql=query.format(last_links=LAST_LINKS.postgresql)
    )


NOT_ACTIVATED = with_last_links(
    """SELECT u.id, u.display_name, u.email, u.family_id, f.name, t.created_at, t.expires_at
           FROM users u
           JOIN families f ON f.id = u.family_id
           LEFT JOIN {last_links} t ON t.user_id = u.id
           WHERE u.role = ? AND u.active AND u.activated_at IS NULL
           ORDER BY t.created_at NULLS FIRST, f.name, u.id"""
)
FAMILY_GUARDIANS = with_last_links(
    """SELECT g.id, g.rank, trim(g.first_name || ' ' || g.last_name), g.email, g.user_id, u.activated_at,
                  t.created_at, t.expires_at
           FROM guardians g
           LEFT JOIN users u ON u.id = g.user_id
           LEFT JOIN {last_links} t ON t.user_id = g.user_id
           WHERE g.family_id = ? AND g.archived_at IS NULL ORDER BY g.rank"""
)


def not_activated(db: Database) -> list[Invitee]:
    """Active family accounts without a password yet, each with its last invitation, oldest first."""
    rows = db.rows(
        NOT_ACTIVATED,
        [LinkPurpose.INVITATION.value, Role.FAMILY.value],
    )
    return [Invitee(*row) for row in rows]


def never_invited(cur: duckdb.DuckDBPyConnection) -> list[Account]:
    """Active family accounts without a password and without any invitation yet."""
    found = cur.execute(
        f"""{_ACCOUNT} u WHERE role = ? AND active AND activated_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM link_tokens t WHERE t.user_id = u.id AND t.purpose = ?)
            ORDER BY id""",
        [Role.FAMILY.value, LinkPurpose.INVITATION.value],
    ).fetchall()
    return [_account(row) for row in found]


@dataclass(frozen=True)
class GuardianAccount:
    """A guardian of a family file as the invitations see it."""

    id: int
    family_id: int
    full_name: str
    email: str | None
    user_id: int | None
    archived: bool  # the guardian or its family


_GUARDIAN = """SELECT g.id, g.family_id, trim(g.first_name || ' ' || g.last_name), g.email, g.user_id,
                      g.archived_at IS NOT NULL OR f.archived_at IS NOT NULL
               FROM guardians g JOIN families f ON f.id = g.family_id"""


def guardian(cur: duckdb.DuckDBPyConnection, guardian_id: int) -> GuardianAccount | None:
    found = cur.execute(f"{_GUARDIAN} WHERE g.id = ?", [guardian_id]).fetchall()
    return GuardianAccount(*found[0]) if found else None


def guardians_without_account(cur: duckdb.DuckDBPyConnection) -> list[GuardianAccount]:
    """Guardians of files in use who have an e-mail and no account yet, by family and rank."""
    found = cur.execute(
        f"""{_GUARDIAN} WHERE g.user_id IS NULL AND g.email IS NOT NULL AND g.archived_at IS NULL
            AND f.archived_at IS NULL ORDER BY g.family_id, g.rank"""
    ).fetchall()
    return [GuardianAccount(*row) for row in found]


@dataclass(frozen=True)
class FamilyGuardian:
    """A guardian of one family with its account's state, for « Comptes des familles »."""

    id: int
    rank: int
    full_name: str
    email: str | None
    user_id: int | None
    activated_at: datetime | None
    invited_at: datetime | None  # UTC: the account's last invitation
    expires_at: datetime | None


def family_guardians(db: Database, family_id: int) -> list[FamilyGuardian]:
    rows = db.rows(
        FAMILY_GUARDIANS,
        [LinkPurpose.INVITATION.value, family_id],
    )
    return [FamilyGuardian(*row) for row in rows]


def link_guardian(cur: duckdb.DuckDBPyConnection, guardian_id: int, user_id: int) -> None:
    cur.execute("UPDATE guardians SET user_id = ? WHERE id = ?", [user_id, guardian_id])


def set_guardian_email(cur: duckdb.DuckDBPyConnection, user_id: int, email: str) -> None:
    """The guardian whose account this is takes the account's new e-mail."""
    cur.execute("UPDATE guardians SET email = ? WHERE user_id = ?", [email, user_id])
