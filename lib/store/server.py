"""A PostgreSQL server's databases as wholes: is a town in it, empty it, copy it from a template.

For the demo builder, the test session (one database per test, copied from a template) and
`make cluster`. The rows themselves are the other store modules' business.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from lib.domain.errors import DatabaseUnavailable
from lib.store.postgres import CONNECT_TIMEOUT_S, shown, unreachable_message


def _connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(unreachable_message(url, exc)) from exc


def database_name(url: str) -> str:
    return urlsplit(url).path.strip("/")


def with_database(url: str, name: str) -> str:
    """The same server's URL for another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def server_database_in_use(url: str) -> bool:
    """True when the database holds a town (an account exists); False when it is empty or has only
    the schema. Raises DatabaseUnavailable (in French) when the server does not answer, and when
    the database does not exist."""
    with _connect(url) as conn:
        found = conn.execute("SELECT to_regclass('public.users') IS NOT NULL").fetchone()
        if not (found and found[0]):
            return False
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()
        return bool(row and row[0])


def has_setting(url: str, key: str) -> bool:
    """True when the database's `settings` holds `key` (False when it has no schema yet)."""
    with _connect(url) as conn:
        found = conn.execute("SELECT to_regclass('public.settings') IS NOT NULL").fetchone()
        if not (found and found[0]):
            return False
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM settings WHERE key = %s)", [key]).fetchone()
        return bool(row and row[0])


def empty_server_database(url: str) -> None:
    """Drop everything in the database's public schema (the demo builder starts from nothing)."""
    with _connect(url) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def create_database(url: str, *, template: str | None = None) -> None:
    """Create the database `url` names (from `template`, a database of the same server, when
    given: PostgreSQL copies it file by file, far faster than building it again)."""
    name = database_name(url)
    with _connect(with_database(url, "postgres")) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        conn.execute(statement)


def drop_database(url: str) -> None:
    """Drop the database `url` names, ending the sessions still connected to it."""
    name = database_name(url)
    with _connect(with_database(url, "postgres")) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_exists(url: str) -> bool:
    with _connect(with_database(url, "postgres")) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)", [database_name(url)]
        ).fetchone()
        return bool(row and row[0])


__all__ = [
    "create_database",
    "database_exists",
    "database_name",
    "drop_database",
    "empty_server_database",
    "server_database_in_use",
    "shown",
    "with_database",
]
