"""What a backup records and a restore checks: the tables of a database file and their rows; the
live file held by us alone while a restore replaces it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from lib.domain.errors import DatabaseUnavailable
from lib.store.db import DatabaseLocked, connect_file


def open_read_only(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A backup opened without any chance of changing it (no write-ahead log replayed, nothing
    checkpointed); DatabaseUnavailable in French when DuckDB cannot read it."""
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DatabaseUnavailable(f"DuckDB ne peut pas l'ouvrir : {exc}") from exc


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
            "ORDER BY table_name"
        ).fetchall()
    ]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table of the open database."""
    return {name: con.execute(f"SELECT count(*) FROM {_quoted(name)}").fetchall()[0][0] for name in _tables(con)}


def read_every_row(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table, found by reading every column of every row (a hash of each row): a
    damaged or missing block fails here, where a count alone could be answered from metadata."""
    return {
        name: con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {_quoted(name)} AS t").fetchall()[0][0]
        for name in _tables(con)
    }


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    return con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]


def read_backup(path: str | Path) -> tuple[int | None, dict[str, int]]:
    """(schema version, rows per table) of the database file at `path`, opened read-only and
    read to its last row; DatabaseUnavailable in French when any of it cannot be read."""
    con = open_read_only(path)
    try:
        return schema_version(con), read_every_row(con)
    except duckdb.Error as exc:
        raise DatabaseUnavailable(f"lecture impossible : {exc}") from exc
    finally:
        con.close()


def _open_alone(path: Path) -> duckdb.DuckDBPyConnection | None:
    """The database file at `path` opened by this process alone (DatabaseLocked, in French, while
    another process holds it); None when there is none, or when it is too damaged to open: what
    a restore is for."""
    if not path.exists():
        return None
    try:
        return connect_file(path)
    except DatabaseLocked:
        raise
    except DatabaseUnavailable:
        return None


def check_not_held(path: Path) -> None:
    """DatabaseLocked (French, naming the holder) when another process holds the file at `path`."""
    con = _open_alone(path)
    if con is not None:
        con.close()


@contextmanager
def held_alone(path: Path) -> Iterator[None]:
    """For the block, no other process can open the database file at `path` (DatabaseLocked at
    once while one holds it), and the file is whole by itself, its write-ahead log folded in. A
    file too damaged to open is not held."""
    con = _open_alone(path)
    try:
        if con is not None:
            con.execute("CHECKPOINT")
        yield
    finally:
        if con is not None:
            con.close()
