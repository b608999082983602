"""What a backup records and a restore checks: the tables of a database file and their rows."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lib.domain.errors import DatabaseUnavailable


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
