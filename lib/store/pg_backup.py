"""A PostgreSQL database saved and restored with PostgreSQL's own programs, `pg_dump` (custom
format, -Fc) and `pg_restore`: what a backup of a `postgresql://` PORTAIL_DB records, how its
rows are counted, and how a restored database takes the live one's name.

The use case (names, manifest, checksum, which checks refuse what) is lib/services/backup.py.

- `dumped(url)`: a REPEATABLE READ transaction exports its snapshot; the rows are counted in it
  and `pg_dump --snapshot` dumps exactly that state while the replicas go on writing (a dump is
  online by nature: no writer waits);
- `restore_into(url, file)`: `pg_restore --single-transaction --exit-on-error` into a new
  database: a dump that fails half way leaves nothing in it;
- `swap(target, restored, kept)`: the live database stops taking connections, is refused
  while any other session uses it (unless `force`: they are ended), and the two renames run in
  one transaction: the live database is kept under another name, the restored one takes its name.

The programs are those of Debian's packages (/usr/lib/postgresql/NN/bin, the newest: pg_dump
dumps any older server, never a newer one), else those on the PATH. The password of the URL goes
to the programs through PGPASSWORD, never on their command line.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from lib.domain.errors import DatabaseUnavailable
from lib.store.postgres import CONNECT_TIMEOUT_S, shown, unreachable_message
from lib.store.server import database_name, with_database

PROGRAMS = ("pg_dump", "pg_restore")
_CHUNK = 1 << 20
END_SESSIONS_TIMEOUT_S = 30


class DatabaseInUse(DatabaseUnavailable):
    """Other sessions (a replica, psql) use the database a restore would replace."""


class ProgramFailed(DatabaseUnavailable):
    """pg_dump or pg_restore ended with an error (its last line in the message)."""


def programs() -> Path:
    """The folder of the newest `pg_dump` and `pg_restore` (Debian's postgresql-client package),
    else the PATH's; DatabaseUnavailable in French when they are not installed."""
    found = sorted(
        (p for p in glob.glob("/usr/lib/postgresql/*/bin/pg_restore") if Path(p).parent.parent.name.isdigit()),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    candidates = [Path(p).parent for p in found]
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.insert(0, Path(on_path).parent)
    for folder in reversed(candidates):
        if all((folder / name).is_file() and os.access(folder / name, os.X_OK) for name in PROGRAMS):
            return folder
    raise DatabaseUnavailable(
        "Les programmes pg_dump et pg_restore de PostgreSQL sont introuvables : installez le paquet Debian "
        "« postgresql-client » (apt-get install postgresql-client), puis réessayez."
    )


def _without_password(url: str) -> tuple[str, dict[str, str]]:
    """The URL for a command line (no password) and the environment that carries the password."""
    parts = urlsplit(url)
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    if parts.password is None:
        return url, env
    env["PGPASSWORD"] = parts.password
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host)), env


def _connect(url: str, *, autocommit: bool = True) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(unreachable_message(url, exc)) from exc


def _maintenance(url: str) -> str:
    return with_database(url, "postgres")


def _server(url: str) -> psycopg.Connection:
    """A connection to the `postgres` database of the server of `url`; messages name `url`."""
    try:
        return psycopg.connect(_maintenance(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(unreachable_message(url, exc)) from exc


def _failure(program: str, url: str, stderr: str) -> ProgramFailed:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    detail = lines[-1] if lines else "sans message"
    return ProgramFailed(f"{program} a échoué sur « {shown(url)} » : {detail}")


# --- what a database holds -----------------------------------------------------------------------
def _tables(conn: psycopg.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    ]


def _schema_version(conn: psycopg.Connection) -> int | None:
    found = conn.execute("SELECT to_regclass('public.schema_version') IS NOT NULL").fetchone()
    if not (found and found[0]):
        return None
    row = conn.execute("SELECT max(version) FROM public.schema_version").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows per table of the public schema, every row read (count(*) visits each tuple)."""
    counts = {}
    for name in _tables(conn):
        row = conn.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(name))).fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


def contents(url: str) -> tuple[int | None, dict[str, int]]:
    """(schema version, rows per table) of the database at `url`."""
    with _connect(url) as conn:
        try:
            return _schema_version(conn), _row_counts(conn)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"lecture impossible de « {shown(url)} » : {exc}") from exc


# --- dumping -------------------------------------------------------------------------------------
@dataclass
class Dump:
    """A dump under way: the state it holds, and its bytes as pg_dump writes them."""

    schema_version: int | None
    tables: dict[str, int]
    chunks: Iterator[bytes]


def _dump_chunks(url: str, snapshot: str) -> Iterator[bytes]:
    shown_url, env = _without_password(url)
    command = [str(programs() / "pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--dbname={shown_url}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    try:
        while chunk := process.stdout.read(_CHUNK):
            yield chunk
        stderr = process.stderr.read().decode(errors="replace")
        if process.wait() != 0:
            raise _failure("pg_dump", url, stderr)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@contextmanager
def dumped(url: str) -> Iterator[Dump]:
    """The database at `url` as one consistent state: its rows counted and its dump's bytes,
    both from the same exported snapshot (the replicas' writes after it are in neither)."""
    programs()  # before anything: a French message when the programs are missing
    conn = _connect(url, autocommit=False)
    try:
        try:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            version, counts = _schema_version(conn), _row_counts(conn)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"lecture impossible de « {shown(url)} » : {exc}") from exc
        yield Dump(version, counts, _dump_chunks(url, str(row[0])))
    finally:
        conn.rollback()
        conn.close()


# --- restoring -----------------------------------------------------------------------------------
def list_archive(file: Path) -> None:
    """DatabaseUnavailable unless `file` is an archive pg_restore reads (its table of contents)."""
    done = subprocess.run(
        [str(programs() / "pg_restore"), "--list", str(file)], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise DatabaseUnavailable(f"pg_restore ne le lit pas : {lines[-1].strip() if lines else 'sans message'}")


def restore_into(url: str, file: Path) -> None:
    """Create the database `url` names and restore the archive `file` into it in one transaction
    (nothing is left in it when any statement fails); the database is dropped on failure."""
    programs()
    name = database_name(url)
    with _server(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    shown_url, env = _without_password(url)
    command = [
        str(programs() / "pg_restore"),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        f"--dbname={shown_url}",
        str(file),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=24 * 3600)
        if done.returncode != 0:
            raise _failure("pg_restore", url, done.stderr)
    except BaseException:
        drop(url)
        raise


def drop(url: str) -> None:
    """Drop the database `url` names (a scratch or a restored one), ending its sessions."""
    with _server(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url))))


def exists(url: str) -> bool:
    with _server(url) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)", [database_name(url)]
        ).fetchone()
        return bool(row and row[0])


def _sessions(conn: psycopg.Connection, name: str) -> list[tuple[int, str, str]]:
    """(pid, program, address) of every other session on the database `name`."""
    return [
        (int(pid), program or "?", str(address) if address else "socket local")
        for pid, program, address in conn.execute(
            "SELECT pid, application_name, client_addr FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() ORDER BY pid",
            [name],
        ).fetchall()
    ]


def sessions(url: str) -> list[tuple[int, str, str]]:
    """The sessions using the database at `url` (a replica's pool, psql…)."""
    with _server(url) as conn:
        return _sessions(conn, database_name(url))


def _in_use(url: str, found: list[tuple[int, str, str]]) -> DatabaseInUse:
    listed = ", ".join(f"PID {pid} ({program}, {address})" for pid, program, address in found[:5])
    more = f" et {len(found) - 5} autre(s)" if len(found) > 5 else ""
    return DatabaseInUse(
        f"La base de données « {shown(url)} » est utilisée par {len(found)} autre(s) session(s) : {listed}{more}. "
        "Arrêtez les serveurs du portail (les répliques) avant de la restaurer, ou utilisez --force "
        "pour fermer leurs connexions."
    )


def _copy_privileges(conn: psycopg.Connection, live: str, restored: str) -> None:
    """Who may connect to the live database may connect to the restored one, and nobody else: a
    dump carries the privileges of what is inside a database, not those of the database itself."""
    row = conn.execute("SELECT datacl IS NULL FROM pg_database WHERE datname = %s", [live]).fetchone()
    if row is None or row[0]:
        return  # the defaults, as the new database has them
    target = sql.Identifier(restored)
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(target))
    granted = conn.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type "
        "FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = %s",
        [live],
    ).fetchall()
    for grantee, privilege in granted:
        role = sql.SQL("PUBLIC") if grantee == "PUBLIC" else sql.Identifier(grantee)
        conn.execute(sql.SQL("GRANT {} ON DATABASE {} TO {}").format(sql.SQL(privilege), target, role))


def swap_allowed(url: str) -> None:
    """DatabaseInUse (French, naming them) while other sessions use the database at `url`."""
    found = sessions(url)
    if found:
        raise _in_use(url, found)


def reachable(url: str) -> None:
    """DatabaseUnavailable (French) unless the server of `url` answers."""
    with _server(url):
        pass


def swap(url: str, restored: str, kept: str | None, *, force: bool = False) -> None:
    """The database `restored` (same server) takes the name of the one at `url`; the live one,
    when there is one, is renamed `kept`. Refused (DatabaseInUse) while another session uses the
    live database, unless `force`, which ends them. Either both renames happen or neither."""
    name = database_name(url)
    ident, restored_ident = sql.Identifier(name), sql.Identifier(restored)
    with _server(url) as conn:
        try:
            if kept is None:
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(restored_ident, ident))
                return
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(ident))
        except psycopg.Error as exc:
            raise DatabaseUnavailable(
                f"La base « {shown(url)} » ne peut pas être remplacée ({exc}) : rien n'a été modifié. "
                "Le compte PostgreSQL doit en être le propriétaire et avoir le droit CREATEDB."
            ) from exc
        try:
            found = _sessions(conn, name)
            if found and not force:
                raise _in_use(url, found)
            deadline = time.monotonic() + END_SESSIONS_TIMEOUT_S
            while found:
                for pid, _program, _address in found:
                    conn.execute("SELECT pg_terminate_backend(%s)", [pid])
                if time.monotonic() > deadline:
                    raise _in_use(url, found)
                time.sleep(0.1)
                found = _sessions(conn, name)
            with conn.transaction():
                _copy_privileges(conn, name, restored)
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(ident, sql.Identifier(kept)))
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(restored_ident, ident))
        except psycopg.errors.ObjectInUse as exc:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(ident))
            raise _in_use(url, _sessions(conn, name)) from exc
        except psycopg.Error as exc:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(ident))
            raise DatabaseUnavailable(
                f"Les bases de « {shown(url)} » n'ont pas pu être échangées ({exc}) : rien n'a été modifié."
            ) from exc
        except BaseException:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(ident))
            raise
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(sql.Identifier(kept)))


__all__ = [
    "DatabaseInUse",
    "Dump",
    "ProgramFailed",
    "contents",
    "drop",
    "dumped",
    "exists",
    "list_archive",
    "programs",
    "reachable",
    "restore_into",
    "sessions",
    "swap",
    "swap_allowed",
]
