"""Schema migrations: `schema.sql` is version 1, then `migrations/NNN_name.sql` in order.

Each applied version is recorded in `schema_version`; running `migrate` again applies nothing.
A migration runs in one transaction with its version row, so a failure leaves the previous
version intact.
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.store.db import Database

STORE_DIR = Path(__file__).parent
SCHEMA = STORE_DIR / "schema.sql"
MIGRATIONS = STORE_DIR / "migrations"
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+(?:\.(duckdb|postgresql))?\.sql$")
ENGINES = ("duckdb", "postgresql")


def available(migrations_dir: Path = MIGRATIONS, engine: str = "duckdb") -> list[tuple[int, Path | None]]:
    """(version, file) for schema.sql and every numbered migration, in order, as `engine` runs them.

    A migration is one file for both engines, `NNN_name.sql`, unless a change concerns one engine
    only (an index PostgreSQL needs and DuckDB's row groups do not): then it is `NNN_name.<engine>.sql`
    and the other engine records the version with nothing to run (file None)."""
    found: list[tuple[int, Path | None]] = [(1, SCHEMA)]
    by_version: dict[int, dict[str | None, Path]] = {}
    for file in sorted(migrations_dir.glob("*.sql")):
        match = _NAME.match(file.name)
        if match:
            version = int(match[1])
            if version <= 1:
                raise ValueError(f"{file.name}: migration numbers start at 002")
            variants = by_version.setdefault(version, {})
            if match[2] in variants:
                raise ValueError("two migrations carry the same number")
            variants[match[2]] = file
    for version, variants in sorted(by_version.items()):
        if None in variants and len(variants) > 1:
            raise ValueError(f"migration {version:03d}: a shared file and an engine's own file carry the same number")
        found.append((version, variants.get(None) or variants.get(engine)))
    return found


def current_version(db: Database) -> int:
    db.cursor().execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL)"
    )
    return db.value("SELECT coalesce(max(version), 0) FROM schema_version")


def migrate(db: Database, migrations_dir: Path = MIGRATIONS) -> list[int]:
    """Apply what is missing; returns the versions applied now."""
    lock = getattr(db, "migrating", None)  # PostgreSQL: replicas starting together take turns
    with lock() if lock else nullcontext():
        return _migrate(db, migrations_dir)


def _migrate(db: Database, migrations_dir: Path) -> list[int]:
    applied: list[int] = []
    if db.engine == "postgresql":
        from lib.store.postgres import COMPAT_SQL

        db.write(lambda cur: cur.execute(COMPAT_SQL.read_text(encoding="utf-8")), attempts=1)
    version = current_version(db)
    for number, file in available(migrations_dir, db.engine):
        if number <= version:
            continue
        sql = file.read_text(encoding="utf-8") if file else ""
        name = file.name if file else f"{number:03d} (other engine only)"

        def apply(cur, sql=sql, number=number, name=name):
            if sql:
                cur.execute(sql)
            cur.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [number, name, datetime.now(UTC).replace(tzinfo=None)],
            )

        db.write(apply, attempts=1)
        applied.append(number)
    return applied
