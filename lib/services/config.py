"""Where the database lives, and opening it."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from lib.domain.clock import PARIS

from lib.store.db import Database, open_database

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = ROOT / "data" / "portail.duckdb"
FROZEN_NOW = "PORTAIL_FROZEN_NOW"


def db_path() -> Path:
    """`PORTAIL_DB` if set (relative paths from the repository root), else data/portail.duckdb."""
    raw = os.environ.get("PORTAIL_DB")
    if not raw:
        return DEFAULT_DB
    path = Path(raw)
    return path if path.is_absolute() else ROOT / path


def database(path: str | Path | None = None) -> Database:
    """The process's open database (migrated); raises DatabaseUnavailable in French."""
    return open_database(path or db_path())


def clock_now() -> datetime:
    """The real time in Paris, or the moment `PORTAIL_FROZEN_NOW` (ISO, Paris time) names:
    tests and demos stop the clock there so that deadlines give the same answers any day."""
    frozen = os.environ.get(FROZEN_NOW)
    if frozen:
        moment = datetime.fromisoformat(frozen)
        return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)
    return datetime.now(PARIS)
