"""Where the database lives, opening it, and the mode the portal runs in."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from lib.domain.clock import PARIS
from lib.domain.errors import InvalidInput
from lib.store.db import Database, is_url, open_database

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = ROOT / "data" / "portail.duckdb"
FROZEN_NOW = "PORTAIL_FROZEN_NOW"
MODE = "PORTAIL_MODE"
PRODUCTION = "production"
DEMO = "demo"
MAIL_SINK_DIR = "PORTAIL_MAIL_SINK_DIR"


PUBLIC_URL_ENV = "PORTAIL_PUBLIC_URL"


def _origin(value: str | None) -> str | None:
    value = (value or "").strip().rstrip("/")
    return value if value.startswith(("https://", "http://")) else None


def public_address(values: dict[str, str]) -> str | None:
    """The portal's public address as the town configures it: the setting `public_url`, else the
    environment's PORTAIL_PUBLIC_URL; None when neither is set."""
    return _origin(values.get("public_url")) or _origin(os.environ.get(PUBLIC_URL_ENV))


def db_path() -> Path | str:
    """`PORTAIL_DB` if set (a `postgresql://…` URL as it is, relative paths from the repository
    root), else data/portail.duckdb."""
    raw = os.environ.get("PORTAIL_DB")
    if not raw:
        return DEFAULT_DB
    if is_url(raw):
        return raw
    path = Path(raw)
    return path if path.is_absolute() else ROOT / path


def database_exists(target: Path | str) -> bool:
    """A DuckDB file that exists, or a PostgreSQL database holding a town (an account); raises
    DatabaseUnavailable (in French) when the server does not answer."""
    if is_url(target):
        from lib.store.server import server_database_in_use

        return server_database_in_use(str(target))
    return Path(target).exists()


def data_dir(database_path: Path | str | None = None) -> Path:
    """Where the portal keeps its files beside the database: the DuckDB file's folder, or `data/`
    for a PostgreSQL database (the server keeps the rows; the replicas share the repository's data/)."""
    db = database_path or db_path()
    return ROOT / "data" if is_url(db) else Path(db).parent


def mail_sink_dir(database_path: Path | str | None = None) -> Path:
    """The demo's mailbox (a Maildir): `PORTAIL_MAIL_SINK_DIR` if set (relative paths from the
    repository root), else `<database stem>-courriels/` beside the database (for a PostgreSQL
    database, `data/<database name>-courriels/`)."""
    raw = os.environ.get(MAIL_SINK_DIR)
    if raw:
        path = Path(raw)
        return path if path.is_absolute() else ROOT / path
    db = database_path or db_path()
    if is_url(db):
        name = urlsplit(str(db)).path.strip("/") or "postgresql"
        return ROOT / "data" / f"{name}-courriels"
    db = Path(db)
    return db.with_name(f"{db.stem}-courriels")


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


def production() -> bool:
    """True when `PORTAIL_MODE=production` (a town's own portal: no demo data or settings, checked
    at start); unset or `demo` is the demo. Any other value is refused: a typo must not quietly
    start a production server as a demo."""
    mode = os.environ.get(MODE, "").strip()
    if mode not in ("", DEMO, PRODUCTION):
        raise InvalidInput(
            f"{MODE}={mode!r} n'est pas un mode connu : écrivez {MODE}={PRODUCTION} (le portail d'une "
            f"ville) ou {MODE}={DEMO} (la démonstration)."
        )
    return mode == PRODUCTION
