"""Backup and restore of the database file (`make backup`, `make restore`).

A backup is three files sharing one unique name, `portail-YYYYMMDD-HHMMSS-xxxxxxxx.duckdb`:
the copy of the database file; `….duckdb.json`, its manifest (rows of every table counted at
backup time, schema version, moment, size, checksum); `….duckdb.sha256`, its SHA-256 in
`sha256sum` format (`sha256sum -c` reads it too), written last. They are created, never
overwritten, readable by their owner only (0600 in a 0700 folder): they hold password hashes
and health notes.

Two ways to take one, the same file either way:
- offline (`save`), when no process holds the database: we open it ourselves (refused, naming
  the holder, when one does), CHECKPOINT, and copy it while our connection keeps others out;
- online (`save_online`), inside the server, which holds the file: its writers wait their turn
  (`Database.quiesced`), the write-ahead log is folded into the file, and the file is copied
  while pages go on reading. `POST /admin/sauvegarde` (lib/web/backup_routes.py) runs it for
  whoever presents the backup token, and `make backup` calls that route when a server holds
  the file.
Either way the copy is opened read-only and read to its last row, and its counts must equal
the live database's, before it becomes a backup.

A restore verifies the whole backup first (checksum, manifest, every table read, the row counts
recorded at backup time) and refuses in French otherwise, changing nothing; it is refused while
a server holds the live file; the live file is kept beside itself as
`….replaced-YYYYMMDD-HHMMSS-xxxx` and the verified copy takes its name atomically.

On PostgreSQL (`PORTAIL_DB=postgresql://…`) the same rules hold with PostgreSQL's own programs
(lib/store/pg_backup.py): the backup file is a `pg_dump --format=custom` archive,
`<database>-YYYYMMDD-HHMMSS-xxxxxxxx.pgdump`, with the same manifest (`"engine": "postgresql"`)
and checksum files. `pg_dump` is online by nature (its snapshot is consistent while the
replicas write), so there is nothing to refuse and no server to ask; the rows are counted in the
very snapshot it dumps. Before it becomes a backup, the archive is restored into a scratch
database of the same server, counted and dropped. A restore verifies the same way, restoring
into a new database (`pg_restore --single-transaction`: a failure leaves nothing), checks it,
then swaps names: refused while another session (a replica) uses the live database unless
forced; the live database is kept as `<name>_replaced_YYYYMMDD_HHMMSS_xxxx`.

The command line (`python -m lib.tools.backup save|restore|verify`) is lib/tools/backup.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lib.domain.clock import to_utc_naive
from lib.domain.errors import DatabaseUnavailable, NotAllowed, PortailError
from lib.services.config import ROOT, db_path
from lib.services.private_files import read_private_file
from lib.store import audit, pg_backup, snapshot
from lib.store.db import Database, is_url
from lib.store.postgres import PostgresDatabase, shown
from lib.store.server import database_name, with_database

DEFAULT_DIR = ROOT / "backups"
BACKUP_DIR_ENV = "PORTAIL_BACKUP_DIR"
TOKEN_ENV = "PORTAIL_BACKUP_TOKEN"
TOKEN_FILE_ENV = "PORTAIL_BACKUP_TOKEN_FILE"
ROUTE = "/admin/sauvegarde"
MANIFEST_FORMAT = 1
DUCKDB = "duckdb"
POSTGRESQL = "postgresql"
SUFFIXES = {DUCKDB: ".duckdb", POSTGRESQL: ".pgdump"}
TOKEN_MIN_LENGTH = 32
_CHUNK = 1 << 20


class BackupRefused(PortailError):
    """A backup a restore must not use, or one that could not be taken."""


@dataclass(frozen=True)
class Backup:
    path: Path
    sha256: str
    size: int
    tables: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def checksum_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".sha256")


def backup_dir() -> Path:
    """`PORTAIL_BACKUP_DIR` if set (relative paths from the repository root), else backups/."""
    raw = os.environ.get(BACKUP_DIR_ENV)
    if not raw:
        return DEFAULT_DIR
    path = Path(raw)
    return path if path.is_absolute() else ROOT / path


# --- private files -------------------------------------------------------------------------------
def _private_dir(directory: Path) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)  # an older, wider folder too: the backups are nobody else's to read
    return directory


def _create_private(path: Path) -> int:
    """A new file, owner-only; FileExistsError rather than overwrite anything."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def _write_private(path: Path, text: str) -> None:
    with os.fdopen(_create_private(path), "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as src:
        while chunk := src.read(_CHUNK):
            yield chunk


def _write_copy(chunks: Iterable[bytes], target: Path) -> tuple[str, int]:
    """Write `chunks` to the new owner-only file `target`, synced; (SHA-256, size) of what was written."""
    digest, size = hashlib.sha256(), 0
    with os.fdopen(_create_private(target), "wb") as out:
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unique(directory: Path, stem: str, now: datetime, suffix: str = ".duckdb") -> Path:
    """A name no file in `directory` has (the moment, then 32 random bits)."""
    while True:
        candidate = directory / f"{stem}-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}{suffix}"
        taken = (
            candidate,
            manifest_path(candidate),
            checksum_path(candidate),
            candidate.with_name(candidate.name + ".partial"),
        )
        if not any(p.exists() for p in taken):
            return candidate


# --- taking a backup -----------------------------------------------------------------------------
def _take(db: Database, directory: Path, now: datetime) -> Backup:
    """Copy the database file while its writers wait, check the copy against the live counts,
    then write its manifest and checksum."""
    directory = _private_dir(directory)
    source = Path(db.path)
    target = _unique(directory, source.stem, now)
    partial = target.with_name(target.name + ".partial")
    made: list[Path] = []
    try:
        with db.quiesced() as cur:
            version, counts = snapshot.schema_version(cur), snapshot.row_counts(cur)
            made.append(partial)
            digest, size = _write_copy(db.file_chunks(_CHUNK), partial)
        try:
            _, found = snapshot.read_backup(partial)
        except DatabaseUnavailable as exc:
            raise BackupRefused(
                f"La copie de la base est illisible ({exc.message}) : aucune sauvegarde écrite."
            ) from exc
        if found != counts:
            raise BackupRefused("La copie ne contient pas les mêmes lignes que la base : aucune sauvegarde écrite.")
        _publish(partial, target, made, DUCKDB, source.name, now, version, size, digest, counts)
    except BaseException:
        for leftover in made:
            leftover.unlink(missing_ok=True)
        raise
    _sync_dir(directory)
    return Backup(target, digest, size, counts)


def _publish(
    partial: Path,
    target: Path,
    made: list[Path],
    engine: str,
    database: str,
    now: datetime,
    version: int | None,
    size: int,
    digest: str,
    counts: dict[str, int],
) -> None:
    """The checked copy `partial` becomes the backup `target`, then its manifest, then its checksum
    (last: the backup is complete); every file written is added to `made` (removed on failure)."""
    os.link(partial, target)  # never replaces a file that exists
    made.append(target)
    partial.unlink()
    manifest = {
        "format": MANIFEST_FORMAT,
        "engine": engine,
        "database": database,
        "taken_at": now.isoformat(),
        "schema_version": version,
        "bytes": size,
        "sha256": digest,
        "tables": counts,
    }
    made.append(manifest_path(target))
    _write_private(manifest_path(target), json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    made.append(checksum_path(target))
    _write_private(checksum_path(target), f"{digest}  {target.name}\n")


def _scratch(url: str, purpose: str) -> str:
    """A database name of the same server for a while (a verification, a restore), unused."""
    name = database_name(url)[:40]
    return with_database(url, f"{name}_{purpose}_{secrets.token_hex(4)}")


def _take_postgresql(url: str, directory: Path, now: datetime) -> Backup:
    """pg_dump the database at `url` (custom format), its rows counted in the dump's own snapshot;
    the archive restored into a scratch database and counted again before it becomes a backup."""
    directory = _private_dir(directory)
    target = _unique(directory, database_name(url) or "portail", now, SUFFIXES[POSTGRESQL])
    partial = target.with_name(target.name + ".partial")
    made: list[Path] = []
    try:
        with pg_backup.dumped(url) as dump:
            if not dump.schema_version:
                raise BackupRefused(
                    f"La base « {shown(url)} » n'est pas une base du Portail Famille (schéma absent) : "
                    "aucune sauvegarde écrite."
                )
            made.append(partial)
            digest, size = _write_copy(dump.chunks, partial)
        version, counts = dump.schema_version, dump.tables
        try:
            found = _restored_contents(url, partial)
        except DatabaseUnavailable as exc:
            raise BackupRefused(
                f"L'archive de pg_dump ne se restaure pas ({exc.message}) : aucune sauvegarde écrite."
            ) from exc
        if found != (version, counts):
            raise BackupRefused(
                "L'archive restaurée ne contient pas les mêmes lignes que la base : aucune sauvegarde écrite."
            )
        _publish(partial, target, made, POSTGRESQL, database_name(url), now, version, size, digest, counts)
    except BaseException:
        for leftover in made:
            leftover.unlink(missing_ok=True)
        raise
    _sync_dir(directory)
    return Backup(target, digest, size, counts)


def _restored_contents(server_url: str, archive: Path) -> tuple[int | None, dict[str, int]]:
    """(schema version, rows per table) of `archive` restored into a scratch database of the
    server at `server_url`, dropped afterwards."""
    scratch = _scratch(server_url, "verif")
    pg_backup.restore_into(scratch, archive)
    try:
        return pg_backup.contents(scratch)
    finally:
        pg_backup.drop(scratch)


def save(path: Path | str, directory: Path, now: datetime) -> Backup:
    """Offline backup: refused (DatabaseLocked, in French) while another process holds `path`.
    A `postgresql://` URL: pg_dump, while the replicas serve."""
    if is_url(path):
        pg_backup.programs()  # French messages before any folder is made: programs missing,
        if not pg_backup.exists(str(path)):  # server down, or no such database
            raise DatabaseUnavailable(
                f"La base de données « {shown(str(path))} » n'existe pas sur ce serveur : rien à sauvegarder."
            )
        return _take_postgresql(str(path), directory, now)
    path = Path(path)
    if not path.exists():
        raise DatabaseUnavailable(f"La base de données « {path} » n'existe pas : rien à sauvegarder.")
    db = Database(path)  # as it is: a backup migrates nothing
    try:
        return _take(db, directory, now)
    finally:
        db.close()


def save_online(db: Database | PostgresDatabase, directory: Path, now: datetime) -> Backup:
    """Backup taken inside the process that holds the database, while it serves."""
    made = _take_postgresql(db.url, directory, now) if isinstance(db, PostgresDatabase) else _take(db, directory, now)

    def record(cur: Any) -> None:  # a DuckDB connection or a PostgreSQL cursor: the same calls
        audit.record(
            cur,
            at_utc=to_utc_naive(now),
            user_id=None,
            action="database.backup",
            entity="database",
            entity_id=None,
            after={"file": made.path.name, "rows": made.rows, "sha256": made.sha256},
        )

    db.write(record)
    return made


# --- the online backup's secret ------------------------------------------------------------------
def token_file() -> Path:
    """`PORTAIL_BACKUP_TOKEN_FILE`, else `backup-token` beside the database (data/ for a PostgreSQL one)."""
    raw = os.environ.get(TOKEN_FILE_ENV)
    if raw:
        return Path(raw)
    database = db_path()
    return (ROOT / "data" if isinstance(database, str) else database.parent) / "backup-token"


def _read_token_file(path: Path) -> str:
    return read_private_file(
        path,
        f"Le fichier du jeton de sauvegarde ({TOKEN_FILE_ENV}, par défaut backup-token à côté de la base)",
        "sauvegarde en ligne refusée",
    )


def configured_token() -> str | None:
    """The secret the server expects: `PORTAIL_BACKUP_TOKEN`, else the token file's content."""
    token = os.environ.get(TOKEN_ENV) or (_read_token_file(token_file()) if token_file().exists() else None)
    if token is not None and len(token) < TOKEN_MIN_LENGTH:
        raise NotAllowed(
            f"Le jeton de sauvegarde est trop court ({TOKEN_MIN_LENGTH} caractères au moins) : "
            "sauvegarde en ligne refusée."
        )
    return token


def client_token() -> str:
    """The secret `make backup` sends: the configured one, or a new token file (owner-only)
    that the server, running as the same account, reads at the next request."""
    token = configured_token()
    if token is None:
        path = token_file()
        _write_private(path, secrets.token_urlsafe(32) + "\n")
        token = _read_token_file(path)
    return token


def authorize(authorization: str | None) -> None:
    """NotAllowed unless `authorization` is "Bearer <the configured token>"."""
    expected = configured_token()
    if expected is None:
        raise NotAllowed(
            f"Sauvegarde en ligne désactivée : définissez {TOKEN_ENV}, ou le fichier du jeton "
            f"({TOKEN_FILE_ENV}, par défaut backup-token à côté de la base, que make backup crée)."
        )
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme != "Bearer" or not hmac.compare_digest(sent.strip().encode(), expected.encode()):
        raise NotAllowed("Jeton de sauvegarde absent ou invalide : sauvegarde refusée.")


# --- restoring -----------------------------------------------------------------------------------
def _refused(backup: Path, why: str) -> BackupRefused:
    return BackupRefused(f"Restauration refusée, rien n'a été modifié : {why} (sauvegarde « {backup} »).")


def _recorded_checksum(backup: Path) -> str:
    try:
        text = checksum_path(backup).read_text(encoding="utf-8")
    except OSError:
        raise _refused(
            backup, f"la somme de contrôle « {checksum_path(backup).name} » est absente ou illisible"
        ) from None
    fields = text.split()
    if len(fields) != 2 or fields[1].lstrip("*") != backup.name or len(fields[0]) != 64:
        raise _refused(backup, f"la somme de contrôle « {checksum_path(backup).name} » est mal formée")
    return fields[0].lower()


def _recorded(backup: Path, digest: str) -> tuple[str, dict[str, int]]:
    """(engine, rows per table) the manifest records for the file whose SHA-256 is `digest`."""
    try:
        manifest = json.loads(manifest_path(backup).read_text(encoding="utf-8"))
        tables = manifest["tables"]
        engine = manifest.get("engine", DUCKDB)  # the first manifests were DuckDB's only
        valid = (
            manifest["format"] == MANIFEST_FORMAT
            and manifest["sha256"] == digest
            and engine in SUFFIXES
            and isinstance(tables, dict)
            and all(isinstance(k, str) and type(v) is int for k, v in tables.items())
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        valid = False
    if not valid:
        raise _refused(
            backup, f"le manifeste « {manifest_path(backup).name} » est absent, illisible ou ne décrit pas ce fichier"
        )
    return engine, tables


def _checked_files(backup: Path) -> tuple[str, str, dict[str, int]]:
    """(SHA-256, engine, recorded rows) of a backup whose checksum and manifest describe it."""
    if not backup.is_file():
        raise BackupRefused(f"Sauvegarde introuvable : « {backup} ».")
    expected = _recorded_checksum(backup)
    digest = _sha256(backup)
    if not hmac.compare_digest(digest, expected):
        raise _refused(backup, "sa somme de contrôle ne correspond pas, le fichier est incomplet ou abîmé")
    engine, recorded = _recorded(backup, digest)
    return digest, engine, recorded


def _check_contents(backup: Path, version: int | None, found: dict[str, int], recorded: dict[str, int]) -> None:
    if not version:
        raise _refused(backup, "ce n'est pas une sauvegarde du Portail Famille (schéma absent)")
    if found != recorded:
        changed = sorted(set(found) ^ set(recorded)) or sorted(t for t in found if found[t] != recorded[t])
        table = changed[0]
        raise _refused(
            backup,
            f"la table « {table} » a {found.get(table, 0)} ligne(s) au lieu des "
            f"{recorded.get(table, 0)} comptées à la sauvegarde",
        )


def _engine_name(engine: str) -> str:
    return "PostgreSQL" if engine == POSTGRESQL else "DuckDB"


def _restored_checked(backup: Path, into: str, recorded: dict[str, int]) -> None:
    """Restore the PostgreSQL archive `backup` into the new database `into` and check it holds the
    recorded rows; the database is dropped when anything fails."""
    try:
        pg_backup.list_archive(backup)
    except DatabaseUnavailable as exc:
        raise _refused(backup, f"ce n'est pas une sauvegarde lisible du Portail Famille ({exc.message})") from exc
    try:
        pg_backup.restore_into(into, backup)
    except pg_backup.ProgramFailed as exc:
        pg_backup.reachable(into)  # the server itself went away: say so, not that the archive is bad
        raise _refused(backup, f"l'archive ne se restaure pas ({exc.message})") from exc
    try:
        version, found = pg_backup.contents(into)
        _check_contents(backup, version, found, recorded)
    except BaseException:
        pg_backup.drop(into)
        raise


def verify(backup: Path, server: Path | str | None = None) -> Backup:
    """The backup, checked whole: its SHA-256 against its checksum file, its manifest, every row of
    every table read, the row counts recorded at backup time. BackupRefused (French) otherwise.
    A PostgreSQL archive is read by restoring it into a scratch database of `server` (a
    `postgresql://` URL), dropped afterwards."""
    digest, engine, recorded = _checked_files(backup)
    if engine == POSTGRESQL:
        if server is None or not is_url(server):
            raise BackupRefused(
                f"« {backup} » est une sauvegarde PostgreSQL : la vérifier demande un serveur PostgreSQL "
                "(PORTAIL_DB=postgresql://… ou --path postgresql://…), où elle est restaurée dans une base "
                "temporaire."
            )
        scratch = _scratch(str(server), "verif")
        _restored_checked(backup, scratch, recorded)
        pg_backup.drop(scratch)
        return Backup(backup, digest, backup.stat().st_size, recorded)
    try:
        version, found = snapshot.read_backup(backup)
    except DatabaseUnavailable as exc:
        raise _refused(backup, f"ce n'est pas une sauvegarde lisible du Portail Famille ({exc.message})") from exc
    _check_contents(backup, version, found, recorded)
    return Backup(backup, digest, backup.stat().st_size, found)


def _kept_name(path: Path, now: datetime) -> Path:
    while True:
        candidate = path.with_name(f"{path.name}.replaced-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}")
        if not candidate.exists():
            return candidate


def _kept_database(url: str, now: datetime) -> str:
    while True:
        candidate = f"{database_name(url)[:30]}_replaced_{now:%Y%m%d_%H%M%S}_{secrets.token_hex(2)}"
        if not pg_backup.exists(with_database(url, candidate)):
            return candidate


def _restore_postgresql(backup: Path, url: str, now: datetime, recorded: dict[str, int], force: bool) -> str | None:
    """Restore into a new database of the same server, check it, then swap names with the live
    database (kept under another name); refused while other sessions use it, unless `force`."""
    live = pg_backup.exists(url)  # DatabaseUnavailable (French) when the server does not answer
    if live and not force:
        pg_backup.swap_allowed(url)  # refused at once, before restoring anything
    restored = _scratch(url, "restore")
    _restored_checked(backup, restored, recorded)
    kept = _kept_database(url, now) if live else None
    try:
        pg_backup.swap(url, database_name(restored), kept, force=force)
    except BaseException:
        pg_backup.drop(restored)
        raise
    return kept


def restore(backup: Path, path: Path | str, now: datetime, *, force: bool = False) -> Path | str | None:
    """Replace the database at `path` by the verified `backup`; returns where the replaced file
    was kept (None when there was none). On PostgreSQL (`path` a URL), the name the replaced
    database was kept under; `force` ends the other sessions using it instead of refusing."""
    target_engine = POSTGRESQL if is_url(path) else DUCKDB
    _, engine, recorded = _checked_files(backup)
    if engine != target_engine:
        raise _refused(
            backup,
            f"c'est une sauvegarde {_engine_name(engine)} et la base « {shown(str(path))} » est "
            f"{_engine_name(target_engine)}",
        )
    if target_engine == POSTGRESQL:
        return _restore_postgresql(backup, str(path), now, recorded, force)
    path = Path(path)
    checked = verify(backup)
    snapshot.check_not_held(path)  # refused at once while a server holds it, before copying anything
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".restoring")
    staging.unlink(missing_ok=True)  # left by a restore that died half way; never a live file
    try:
        if _write_copy(_chunks(backup), staging)[0] != checked.sha256:
            raise _refused(backup, "le fichier a changé pendant la restauration")
        kept = None
        if path.exists():
            with snapshot.held_alone(path):  # no server can open the file through the swap
                kept = _kept_name(path, now)
                os.link(path, kept)
                os.replace(staging, path)
            wal = Path(f"{path}.wal")
            if wal.exists():  # the replaced file's log goes with it, never replayed onto the backup
                os.replace(wal, Path(f"{kept}.wal"))
        else:
            os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    _sync_dir(path.parent)
    return kept
