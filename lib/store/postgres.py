"""The same store on PostgreSQL: `PORTAIL_DB=postgresql://…` (psycopg 3, psycopg-pool).

`PostgresDatabase` answers what `lib.store.db.Database` answers (rows, row, value, dicts, frame,
write(work)), so the store's queries and the services above them do not know which engine they
run on. What differs between the two dialects lives here and in `lib/store/sql.py`:

- placeholders: the store writes DuckDB's `?` and `$name`; `translate` turns them into psycopg's
  `%s` and `%(name)s` (once per statement text, cached), doubling a literal `%`;
- a query whose wording differs is a `sql.Dialects` string (its DuckDB text, its `.postgresql`
  text beside it): one visible place per query;
- the DuckDB functions the store uses that PostgreSQL spells otherwise are defined once, as
  PostgreSQL SQL functions, in `postgresql.sql` (applied before the schema).

Concurrency is the database's: a unit of work runs in one SERIALIZABLE transaction on a pooled
connection; a serialization failure or a deadlock (two replicas booking the last place) rolls back
and runs the whole unit again, as DuckDB's conflicts do. There is no in-process write lock: the
other writers are other processes.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Loader
from psycopg_pool import ConnectionPool, PoolTimeout

from lib.domain.errors import DatabaseUnavailable

T = TypeVar("T")

COMPAT_SQL = Path(__file__).parent / "postgresql.sql"
# More tries than DuckDB's 12: with several replicas a crowd booking the same morning conflicts for
# real (the same day's lock row), and SERIALIZABLE also reports conflicts between transactions that
# only read and wrote neighbouring index pages; each try waits a jittered pause capped at 0.25 s.
WRITE_ATTEMPTS = 30
_BACKOFF_BASE_S = 0.005
_BACKOFF_CAP_S = 0.25
POOL_MAX = 12
# How long a request waits for a pooled connection: a server down answers in French within that time
# (a busy replica's requests never wait that long for one of its POOL_MAX connections).
POOL_WAIT_S = 8
# The session lock the replicas take in turn to migrate a database (two starting at once collided).
MIGRATION_LOCK = 740_617
CONNECT_TIMEOUT_S = 5

# A placeholder outside string literals and comments: `?`, `$name`; a `%` to double.
_TOKEN = re.compile(r"""('(?:[^']|'')*')|("(?:[^"]|"")*")|(--[^\n]*)|(\?)|\$([A-Za-z_][A-Za-z0-9_]*)|(%)""")


def shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """DuckDB's placeholders as psycopg's."""

    def swap(m: re.Match[str]) -> str:
        if m[4]:
            return "%s"
        if m[5]:
            return f"%({m[5]})s"
        if m[6]:
            return "%%"
        return m[0].replace("%", "%%")  # psycopg reads `%` even inside a literal or a comment

    return _TOKEN.sub(swap, sql)


def postgresql_text(sql: str, params: object = ()) -> str:
    """The statement to send: a `Dialects` string's PostgreSQL wording, else the shared text; with
    parameters, its placeholders in psycopg's spelling (without, psycopg reads the text as it is:
    a script of several statements, a `%` left alone)."""
    text = getattr(sql, "postgresql", sql)
    return translate(text) if params else text


class _NumericLoader(Loader):
    """NUMERIC as DuckDB gives it: a whole number (sum of BIGINT) as int, else float (avg). Money
    is integer cents in both engines; no column is NUMERIC."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if ("." in text or "e" in text.lower() or text == "NaN") else int(text)


def _configure(conn: psycopg.Connection) -> None:
    conn.adapters.register_loader("numeric", _NumericLoader)
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


class _Result:
    """What `execute` returns: rows already fetched (the connection is back in the pool)."""

    def __init__(self, description: list[tuple] | None, rows: list[tuple], rowcount: int):
        self.description = description
        self._rows = rows
        self.rowcount = rowcount

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None

    def df(self) -> pd.DataFrame:
        return _frame(self.description, self.fetchall())

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        return _numpy(self.description, self.fetchall())


def _numpy(description: list[tuple] | None, rows: list[tuple]) -> dict[str, np.ndarray]:
    """Columns as numpy arrays, as DuckDB's `fetchnumpy` gives them (a DATE column as datetime64[D])."""
    names = [d[0] for d in description or []]
    columns = list(zip(*rows)) if rows else [()] * len(names)
    found: dict[str, np.ndarray] = {}
    for name, values in zip(names, columns):
        sample = next((v for v in values if v is not None), None)
        if isinstance(sample, datetime):
            found[name] = np.array([np.datetime64("NaT") if v is None else v for v in values], dtype="datetime64[us]")
        elif isinstance(sample, date):
            found[name] = np.array([np.datetime64("NaT") if v is None else v for v in values], dtype="datetime64[D]")
        else:
            found[name] = np.array(values, dtype=object if sample is None or isinstance(sample, str) else None)
    return found


def _frame(description: list[tuple] | None, rows: list[tuple]) -> pd.DataFrame:
    names = [d[0] for d in description or []]
    return pd.DataFrame.from_records(rows, columns=names)


class PgCursor:
    """A DuckDB-like cursor on one psycopg connection (inside a write: the transaction's)."""

    def __init__(self, conn: psycopg.Connection):
        self._cur = conn.cursor()
        self._result: _Result | None = None

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> PgCursor:
        self._cur.execute(postgresql_text(sql, params), _params(params) or None)
        self._keep()
        return self

    def executemany(self, sql: str, params_seq: Sequence[Sequence[Any]]) -> PgCursor:
        self._cur.executemany(postgresql_text(sql, True), [_params(p) for p in params_seq])
        self._result = _Result(None, [], self._cur.rowcount)
        return self

    def load_frame(self, name: str, frame: pd.DataFrame) -> None:
        """`frame` as a temporary table `name` of this transaction (dropped at its end), filled by
        COPY: what DuckDB's replacement scan of a DataFrame is for the store's set-based loads."""
        columns = ", ".join(f'"{c}" {_pg_type(frame[c])}' for c in frame.columns)
        self._cur.execute(f'CREATE TEMPORARY TABLE "{name}" ({columns}) ON COMMIT DROP')
        names = ", ".join(f'"{c}"' for c in frame.columns)
        with self._cur.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
            for row in _python_rows(frame):
                copy.write_row(row)
        self._result = None

    def _keep(self) -> None:
        description = [tuple(d) for d in self._cur.description] if self._cur.description else None
        rows = self._cur.fetchall() if description else []
        self._result = _Result(description, rows, self._cur.rowcount)

    @property
    def description(self) -> list[tuple] | None:
        return self._result.description if self._result else None

    @property
    def rowcount(self) -> int:
        return self._result.rowcount if self._result else -1

    def fetchall(self) -> list[tuple]:
        return self._result.fetchall() if self._result else []

    def fetchone(self) -> tuple | None:
        return self._result.fetchone() if self._result else None

    def df(self) -> pd.DataFrame:
        if self._result is None:
            return pd.DataFrame()
        return self._result.df()

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        return self._result.fetchnumpy() if self._result else {}

    def close(self) -> None:
        self._cur.close()


def _pg_type(column: pd.Series) -> str:
    """The PostgreSQL type of a DataFrame column (what DuckDB would infer reading it)."""
    kind = column.dtype
    if pd.api.types.is_bool_dtype(kind):
        return "boolean"
    if pd.api.types.is_integer_dtype(kind):
        return "bigint"
    if pd.api.types.is_float_dtype(kind):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(kind):
        return "timestamptz" if getattr(kind, "tz", None) is not None else "timestamp"
    sample = next((v for v in map(_python, column) if v is not None), None)
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "bigint"
    if isinstance(sample, float):
        return "double precision"
    if isinstance(sample, datetime):
        return "timestamptz" if sample.tzinfo else "timestamp"
    if isinstance(sample, date):
        return "date"
    if isinstance(sample, bytes):
        return "bytea"
    return "text"


def _python(value: Any) -> Any:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _python_rows(frame: pd.DataFrame) -> Iterator[tuple]:
    for row in frame.itertuples(index=False, name=None):
        yield tuple(_python(v) for v in row)


def _params(params: Sequence[Any] | dict[str, Any] | None) -> Sequence[Any] | dict[str, Any]:
    if params is None:
        return ()
    if isinstance(params, dict):
        return {k: _value(v) for k, v in params.items()}
    return [_value(v) for v in params]


def _value(value: Any) -> Any:
    # DuckDB takes a tuple as a list; psycopg adapts a list to an ARRAY.
    return list(value) if isinstance(value, tuple) else value


class _PooledCursor:
    """`Database.cursor()` outside a write: each statement borrows a pooled connection in autocommit
    and returns it at once (its rows are fetched)."""

    def __init__(self, db: PostgresDatabase):
        self._db = db
        self._result: _Result | None = None

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> _PooledCursor:
        # A read is tried twice: a pooled connection may have outlived its server (a restart, a
        # failover); the pool drops a broken one, the second try gets a fresh one.
        for attempt in (1, 2):
            try:
                with self._db.connection() as conn:
                    cur = PgCursor(conn)
                    cur.execute(sql, params)
                    self._result = cur._result
                return self
            except ServerUnreachable:
                raise  # no connection came within POOL_WAIT_S: a second wait would only double it
            except DatabaseUnavailable:
                if attempt == 2:
                    raise
                self._db.drop_broken()
        raise AssertionError("unreachable")

    def executemany(self, sql: str, params_seq: Sequence[Sequence[Any]]) -> _PooledCursor:
        with self._db.connection() as conn:
            PgCursor(conn).executemany(sql, params_seq)
        return self

    @property
    def description(self) -> list[tuple] | None:
        return self._result.description if self._result else None

    def fetchall(self) -> list[tuple]:
        return self._result.fetchall() if self._result else []

    def fetchone(self) -> tuple | None:
        return self._result.fetchone() if self._result else None

    def df(self) -> pd.DataFrame:
        return self._result.df() if self._result else pd.DataFrame()

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        return self._result.fetchnumpy() if self._result else {}


class ServerUnreachable(DatabaseUnavailable):
    """No connection to the server came in time (it is down, or out of reach)."""


def is_conflict(exc: BaseException) -> bool:
    """Worth running the unit of work again: another transaction won a race."""
    return isinstance(exc, (pg_errors.SerializationFailure, pg_errors.DeadlockDetected))


def is_down(exc: BaseException) -> bool:
    """The server went away (restart, kill, network): the statement may be tried again on a new
    connection; nothing of an unfinished transaction was kept."""
    return isinstance(exc, (psycopg.OperationalError, PoolTimeout)) and not isinstance(
        exc, (pg_errors.SerializationFailure, pg_errors.DeadlockDetected, pg_errors.LockNotAvailable)
    )


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database."""

    engine = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.path = shown(url)  # what messages name
        self._closed = False
        try:  # one connection first: a wrong address or a server down is said at once, with its reason
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.Error as exc:
            raise DatabaseUnavailable(unreachable_message(url, exc)) from exc
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX,
            configure=_configure,
            kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "autocommit": True},
            open=False,
            name="portail",
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S + 1)
        except PoolTimeout as exc:
            self._pool.close()
            raise DatabaseUnavailable(unreachable_message(url, exc)) from exc

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        if self._closed:
            raise DatabaseUnavailable(f"La base de données « {self.path} » est fermée.")
        try:
            with self._pool.connection(timeout=POOL_WAIT_S) as conn:
                yield conn
        except PoolTimeout as exc:
            raise ServerUnreachable(unreachable_message(self.url, exc)) from exc
        except psycopg.OperationalError as exc:
            if is_conflict(exc):
                raise
            raise DatabaseUnavailable(unreachable_message(self.url, exc)) from exc

    def drop_broken(self) -> None:
        """Check the idle pooled connections and drop those whose server went away (a restart cuts
        them all at once: the next statement then gets a live one)."""
        self._pool.check()

    @contextmanager
    def migrating(self) -> Iterator[None]:
        """For the block, this process alone migrates the database: replicas starting together take
        turns (a session lock on one pooled connection), the next one finding nothing left to apply."""
        with self.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])

    def _live_connection(self, conn: psycopg.Connection) -> bool:
        """True when the pooled connection still reaches its server (an empty statement)."""
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.OperationalError:
            return False
        return True

    # --- reads ---------------------------------------------------------------------------------
    def cursor(self) -> _PooledCursor:
        return _PooledCursor(self)

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        return self.cursor().execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> tuple | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        found = self.row(sql, params)
        return None if found is None else found[0]

    def dicts(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        cur = self.cursor().execute(sql, params)
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def frame(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> pd.DataFrame:
        return self.cursor().execute(sql, params).df()

    # --- writes --------------------------------------------------------------------------------
    def write(self, work: Callable[[PgCursor], T], *, attempts: int = WRITE_ATTEMPTS) -> T:
        """Run `work(cursor)` in one SERIALIZABLE transaction; when PostgreSQL reports that it lost
        a race (serialization failure, deadlock), roll back and run it again after a jittered pause."""
        stale = 0
        attempt = 1
        while True:
            try:
                with self.connection() as conn:
                    if not self._live_connection(conn):
                        # a connection that outlived its server: nothing was sent, take another
                        # (the pool drops the broken one)
                        stale += 1
                        if stale > POOL_MAX:
                            raise DatabaseUnavailable(
                                unreachable_message(self.url, ConnectionError("connexion perdue"))
                            )
                        continue
                    with conn.transaction():
                        conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                        return work(PgCursor(conn))
            except psycopg.Error as exc:
                if attempt >= attempts or not is_conflict(exc):
                    if isinstance(exc, psycopg.OperationalError) and not is_conflict(exc):
                        # the server went away mid-transaction: nothing of it was acknowledged
                        raise DatabaseUnavailable(unreachable_message(self.url, exc)) from exc
                    raise
            pause = min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2 ** (attempt - 1))
            time.sleep(random.uniform(0, pause))
            attempt += 1

    def checkpoint(self) -> None:
        """Nothing to fold: PostgreSQL's write-ahead log is its own business."""

    def check_readable(self) -> None:
        """Raise DatabaseUnavailable (in French) unless the server answers a query."""
        try:
            self.value("SELECT max(version) FROM schema_version")
        except (psycopg.Error, DatabaseUnavailable) as exc:
            raise DatabaseUnavailable(f"La base de données « {self.path} » ne répond pas : {exc}") from exc

    def close(self) -> None:
        self._closed = True
        self._pool.close()


def unreachable_message(url: str, exc: BaseException) -> str:
    """Why a connection failed, in French: a database missing on a server that answers, a login the
    server refused, else a server out of reach."""
    detail = str(exc).strip() or type(exc).__name__
    name = urlsplit(url).path.strip("/")
    if re.search(r'database "[^"]*" does not exist', detail):
        return (
            f"La base de données « {name} » n'existe pas sur le serveur PostgreSQL de « {shown(url)} ». "
            "Créez-la (createdb) ou corrigez l'adresse PORTAIL_DB, puis réessayez."
        )
    if "password authentication failed" in detail or "no password supplied" in detail:
        return (
            f"Le serveur PostgreSQL de « {shown(url)} » refuse la connexion (identifiant ou mot de passe). "
            "Corrigez l'adresse PORTAIL_DB, puis réessayez."
        )
    return (
        f"Le serveur PostgreSQL de « {shown(url)} » ne répond pas ({detail}). "
        "Vérifiez qu'il est démarré et que l'adresse PORTAIL_DB est juste, puis réessayez."
    )
