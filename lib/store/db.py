"""One DuckDB connection per process, a cursor per thread, retried write transactions.

DuckDB lets a single OS process open a database file; inside that process any number of
threads may work through cursors of the one connection. `open_database(path)` keeps that
single connection in a process-wide registry so the Streamlit script runs and our own HTTP
routes (payment notifications, login) share it.

Writers race optimistically: a transaction that touched a row another one committed first
fails with `duckdb.TransactionException`; `Database.write` rolls back and runs the whole unit
of work again after a short jittered pause. A commit the disk refused (full, quota, size limit,
I/O error) is not a conflict: it is raised at once as `StorageFailure`, in French.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from lib.domain.errors import DatabaseUnavailable, WriteRefusedByDisk

T = TypeVar("T")

# What a unit of work `work(cur)` receives in `Database.write`: layers above the store name the type
# through this alias and never import duckdb themselves.
Cursor = duckdb.DuckDBPyConnection

WRITE_ATTEMPTS = 12
_BACKOFF_BASE_S = 0.005
_BACKOFF_CAP_S = 0.25

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# What DuckDB says when the operating system refused to write its files (ENOSPC, EDQUOT, EFBIG, EIO).
_STORAGE_FAILURES = ("Could not write", "No space left", "Disk quota", "File too large", "Input/output error")
# Bytes 8-11 of every DuckDB file.
_MAGIC = b"DUCK"


class DatabaseLocked(DatabaseUnavailable):
    """Another process holds the database file."""

    def __init__(self, path: str, program: str | None, pid: int | None):
        holder = f"le programme {program} (PID {pid})" if pid else "un autre programme"
        super().__init__(
            f"La base de données « {path} » est déjà ouverte par {holder}. "
            "Arrêtez ce programme (par exemple le serveur lancé par « make run ») puis réessayez."
        )
        self.path, self.program, self.pid = path, program, pid


class StorageFailure(WriteRefusedByDisk):
    """The disk refused to write a transaction: nothing of it was kept, and trying again at once
    would fail the same way."""

    def __init__(self, path: str, detail: str):
        super().__init__(
            "L'enregistrement a échoué : le serveur n'a pas pu écrire dans la base de données (disque plein "
            "ou en panne). Rien n'a été enregistré. Réessayez plus tard et prévenez le service informatique."
        )
        self.path, self.detail = path, detail


def describe_lock_error(path: str, exc: Exception) -> DatabaseUnavailable:
    text = str(exc)
    match = _LOCK_HOLDER.search(text)
    if match:
        return DatabaseLocked(path, match["program"], int(match["pid"]))
    if "Could not set lock" in text or "Conflicting lock" in text:  # not "Corrupt … in block"
        return DatabaseLocked(path, None, None)
    return DatabaseUnavailable(f"Impossible d'ouvrir la base de données « {path} » : {text}")


def connect_file(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A raw connection, with the holder named in French when the file is taken (and the reason
    when it is damaged)."""
    path = str(path)
    try:
        return duckdb.connect(path)
    except duckdb.Error as exc:
        raise describe_lock_error(path, exc) from exc


def is_url(target: object) -> bool:
    """`PORTAIL_DB` names a PostgreSQL database (`postgresql://…`), not a DuckDB file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def _database_errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a runtime requirement
        return (duckdb.Error,)
    return (duckdb.Error, psycopg.Error)


# What either engine raises when a statement fails (a constraint, a damaged file, a lost server).
DATABASE_ERRORS = _database_errors()
# A constraint (unique, check, foreign key, not null) refused a row, in either engine.
try:
    import psycopg as _psycopg

    INTEGRITY_ERRORS: tuple[type[BaseException], ...] = (duckdb.ConstraintException, _psycopg.IntegrityError)
except ImportError:  # pragma: no cover
    INTEGRITY_ERRORS = (duckdb.ConstraintException,)


class Database:
    """The process's connection to one DuckDB file."""

    engine = "duckdb"

    def __init__(self, path: str | Path):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = connect_file(self.path)
        # DuckDB's lock on the file is a POSIX lock: it belongs to the process, and closing ANY
        # descriptor of the file in the process releases it (a backup's open/read/close let a
        # second process in). Our own reads of the file (backup, health) use this one descriptor,
        # open as long as the connection.
        self._fd = os.open(self.path, os.O_RDONLY)
        self._local = threading.local()
        self._write_turn = threading.RLock()
        self._closed = False

    # --- cursors -------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (created on first use)."""
        if self._closed:
            raise DatabaseUnavailable(f"La base de données « {self.path} » est fermée.")
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    # --- reads ---------------------------------------------------------------------------------
    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        return self.cursor().execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> tuple | None:
        # fetchall, not fetchone: DuckDB 2.0 keeps a half-read result open on the cursor and
        # refuses the next statement until it is drained.
        found = self.cursor().execute(sql, params).fetchall()
        return found[0] if found else None

    def value(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        found = self.row(sql, params)
        return None if found is None else found[0]

    def dicts(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return dicts(self.cursor(), sql, params)

    def frame(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> pd.DataFrame:
        return self.cursor().execute(sql, params).df()

    # --- writes --------------------------------------------------------------------------------
    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, attempts: int = WRITE_ATTEMPTS) -> T:
        """Run `work(cursor)` in one transaction; on a write-write conflict, roll back and
        run it again (up to `attempts` times) after a jittered exponential pause.

        Write transactions of this process take turns (reads never wait). Only this process can
        open the file, so this is every writer there is. Left to DuckDB's optimistic concurrency,
        200 families booking the same day all bumped the same `booking_day_locks` row: most
        transactions conflicted, retried, conflicted again and ran out of attempts (bench/load.py);
        first writers of a new row even failed with a duplicate key. In turn, each write takes its
        20 ms once. The retry stays for a conflict that would still come from elsewhere."""
        with self._write_turn:
            return self._write(work, attempts)

    @contextmanager
    def quiesced(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """For the block, this process's writers wait their turn and everything committed is in
        the main file (CHECKPOINT folds the write-ahead log in): the file does not change until
        the block ends, so it can be copied whole while the server goes on reading."""
        with self._write_turn:
            cur = self.cursor()
            cur.execute("CHECKPOINT")
            yield cur

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the main file: the file is then whole by itself."""
        self.cursor().execute("CHECKPOINT")

    def file_chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The database file's bytes, read through the process's own descriptor (see __init__);
        inside `quiesced()` they are a consistent copy."""
        offset = 0
        while chunk := os.pread(self._fd, size, offset):
            yield chunk
            offset += len(chunk)

    def check_readable(self) -> None:
        """Raise DatabaseUnavailable (in French) unless the file at our path is still the one we
        opened, with DuckDB's header, and a query answers: what a health check asks."""
        try:
            if os.fstat(self._fd).st_ino != os.stat(self.path).st_ino:
                raise DatabaseUnavailable(f"La base de données « {self.path} » a été remplacée ou supprimée.")
            if os.pread(self._fd, 12, 0)[8:12] != _MAGIC:
                raise DatabaseUnavailable(f"La base de données « {self.path} » est abîmée (en-tête illisible).")
            self.value("SELECT max(version) FROM schema_version")
        except (OSError, duckdb.Error) as exc:
            raise DatabaseUnavailable(f"La base de données « {self.path} » ne peut pas être lue : {exc}") from exc

    def _write(self, work: Callable[[duckdb.DuckDBPyConnection], T], attempts: int) -> T:
        cur = self.cursor()
        for attempt in range(1, attempts + 1):
            cur.execute("BEGIN TRANSACTION")
            try:
                result = work(cur)
                cur.execute("COMMIT")
                return result
            except duckdb.Error as exc:
                _rollback(cur)
                if is_storage_failure(exc):
                    raise StorageFailure(self.path, str(exc)) from exc
                if attempt == attempts or not is_conflict(exc):
                    raise
                pause = min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2 ** (attempt - 1))
                time.sleep(random.uniform(0, pause))
            except BaseException:
                _rollback(cur)
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._closed = True
        self._con.close()
        os.close(self._fd)


def dicts(
    source: Database | duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    """Rows as dicts, from the database or from a cursor inside a write transaction."""
    cur = (source.cursor() if hasattr(source, "write") else source).execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def is_conflict(exc: duckdb.Error) -> bool:
    """A write-write conflict worth retrying ("Conflict on update", a duplicate key another
    writer committed first), as opposed to a transaction already aborted by an earlier error or
    a commit the disk refused ("Failed to commit: Could not write file …": retrying would only
    fail again, twelve times over)."""
    text = str(exc)
    return isinstance(exc, duckdb.TransactionException) and ("conflict" in text.lower() or "duplicate key" in text)


def is_storage_failure(exc: duckdb.Error) -> bool:
    """The operating system refused to write the database's files."""
    return isinstance(exc, duckdb.IOException) or any(sign in str(exc) for sign in _STORAGE_FAILURES)


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        pass  # the failed COMMIT already ended the transaction


_registry: dict[str, Database] = {}
_registry_lock = threading.Lock()


def _key(target: str | Path) -> str:
    return str(target) if is_url(target) else str(Path(target).resolve())


def connect(target: str | Path) -> Database:
    """A new connection to `target`: a DuckDB file's path, or a `postgresql://…` URL."""
    if is_url(target):
        from lib.store.postgres import PostgresDatabase

        return PostgresDatabase(str(target))  # type: ignore[return-value]
    return Database(target)


def open_database(path: str | Path) -> Database:
    """The process-wide `Database` for `path` (a DuckDB file, or a `postgresql://…` URL), opened
    and migrated on first use."""
    from lib.store.migrate import migrate

    key = _key(path)
    with _registry_lock:
        db = _registry.get(key)
        if db is None:
            db = connect(path)
            try:
                migrate(db)
            except DATABASE_ERRORS as exc:  # a damaged file can open, then fail on its first read
                db.close()
                raise DatabaseUnavailable(f"La base de données « {path} » est illisible : {exc}") from exc
            except BaseException:
                db.close()
                raise
            _registry[key] = db
        return db


def close_database(path: str | Path) -> None:
    key = _key(path)
    with _registry_lock:
        db = _registry.pop(key, None)
    if db is not None:
        db.close()
