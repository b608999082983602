"""The engine a test session runs the store on, and PostgreSQL's test databases.

`PORTAIL_TEST_ENGINE=postgresql` runs the session on a real PostgreSQL server that the session
starts itself (Debian's `postgresql` package, `initdb` in a temporary directory, fsync off); a
test's database is a new database copied from a template (CREATE DATABASE … TEMPLATE), as a
DuckDB test copies a file. Anything else (unset) is DuckDB.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lib.store import server
from lib.store.db import is_url
from lib.tools import postgresql_local

DUCKDB = "duckdb"
POSTGRESQL = "postgresql"
ENGINE = POSTGRESQL if os.environ.get("PORTAIL_TEST_ENGINE", "").strip().lower() == POSTGRESQL else DUCKDB

_numbers = itertools.count()

__all__ = ["DUCKDB", "ENGINE", "POSTGRESQL", "copy", "drop", "is_url", "local_server", "new_database"]


@contextmanager
def local_server() -> Iterator[str]:
    """A PostgreSQL server for the session, its cluster in a directory of its own under the system's
    temporary folder — not under pytest's: every pytest run that starts makes /tmp/pytest-of-<user>
    private again (0700), and the server, running as `postgres`, would lose its own files."""
    directory = Path(tempfile.mkdtemp(prefix="portail-test-pg-"))
    port = postgresql_local.free_port()
    try:
        url = postgresql_local.start(directory, port, durable=False)
        yield url
    finally:
        postgresql_local.stop(directory, mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)


def new_database(server_url: str, name: str | None = None, template: str | None = None) -> str:
    """A new empty database (or a copy of `template`) on the session's server: its URL."""
    name = name or f"t{os.getpid()}_{next(_numbers)}"
    url = server.with_database(server_url, name)
    server.drop_database(url)
    server.create_database(url, template=template)
    return url


def copy(template: str | Path, path: Path) -> str | Path:
    """A private copy of a template database: the file copied to `path` (DuckDB), or a new database
    made from the template (PostgreSQL, `path` unused)."""
    if is_url(template):
        return new_database(
            server.with_database(str(template), "postgres"), template=server.database_name(str(template))
        )
    shutil.copyfile(template, path)
    return path


def drop(target: str | Path) -> None:
    if is_url(target):
        server.drop_database(str(target))
