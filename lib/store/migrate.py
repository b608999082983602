"""Schema migrations: `schema.sql` is version 1, then `migrations/NNN_name.sql` in order.

Each applied version is recorded in `schema_version`; running `migrate` again applies nothing.
A migration runs in one transaction with its version row, so a failure leaves the previous
version intact.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.store.db import Database

STORE_DIR = Path(__file__).parent
SCHEMA = STORE_DIR / "schema.sql"
MIGRATIONS = STORE_DIR / "migrations"
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def available(migrations_dir: Path = MIGRATIONS) -> list[tuple[int, Path]]:
    """(version, file) for schema.sql and every numbered migration, in order."""
    found = [(1, SCHEMA)]
    for file in sorted(migrations_dir.glob("*.sql")):
        match = _NAME.match(file.name)
        if match:
            version = int(match[1])
            if version <= 1:
                raise ValueError(f"{file.name}: migration numbers start at 002")
            found.append((version, file))
    versions = [v for v, _ in found]
    if len(set(versions)) != len(versions):
        raise ValueError("two migrations carry the same number")
    return sorted(found)


def current_version(db: Database) -> int:
    db.cursor().execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL)"
    )
    return db.value("SELECT coalesce(max(version), 0) FROM schema_version")


def migrate(db: Database, migrations_dir: Path = MIGRATIONS) -> list[int]:
    """Apply what is missing; returns the versions applied now."""
    applied: list[int] = []
    if db.engine == "postgresql":
        from lib.store.postgres import COMPAT_SQL

        db.write(lambda cur: cur.execute(COMPAT_SQL.read_text(encoding="utf-8")), attempts=1)
    version = current_version(db)
    for number, file in available(migrations_dir):
        if number <= version:
            continue
        sql = file.read_text(encoding="utf-8")

        def apply(cur, sql=sql, number=number, name=file.name):
            cur.execute(sql)
            cur.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [number, name, datetime.now(UTC).replace(tzinfo=None)],
            )

        db.write(apply, attempts=1)
        applied.append(number)
    return applied
