"""Backup and restore of the database file (`make backup`, `make restore`).

DuckDB lets one process open the file, and not even a reader may open it while the server runs.
A backup is therefore a consistent copy taken while nobody holds the file: we open it ourselves
(which fails, naming the holder, when the server is up), CHECKPOINT so that everything the write-
ahead log holds is in the main file, close it, and copy that one file. While the server runs the
backup is refused with a French message: stop the server (a few seconds), back up, start it again.

A restore checks that the backup opens and carries our schema, then replaces the database file
atomically (copy beside it, then rename), also refusing while a server holds the file.

    python -m lib.services.backup save [--path FILE] [--to DIR]
    python -m lib.services.backup restore BACKUP [--path FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

from lib.domain.clock import PARIS
from lib.domain.errors import DatabaseUnavailable
from lib.services.config import ROOT, db_path
from lib.store.db import DatabaseLocked, connect_file

DEFAULT_DIR = ROOT / "backups"


def _checkpointed(path: Path) -> None:
    """Open `path` alone (DatabaseLocked, in French, if a server holds it), fold the WAL into the
    file, close it."""
    con = connect_file(path)
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()


def save(path: Path, directory: Path, now: datetime) -> Path:
    """Copy the database to `directory` as portail-YYYYMMDD-HHMMSS.duckdb; returns the copy."""
    if not path.exists():
        raise DatabaseUnavailable(f"La base de données « {path} » n'existe pas : rien à sauvegarder.")
    _checkpointed(path)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{path.stem}-{now:%Y%m%d-%H%M%S}.duckdb"
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(path, partial)
    os.replace(partial, target)  # a backup that exists is complete
    return target


def restore(backup: Path, path: Path) -> None:
    """Replace the database at `path` by `backup` (checked first)."""
    if not backup.is_file():
        raise DatabaseUnavailable(f"Sauvegarde introuvable : « {backup} ».")
    check_backup(backup)
    if path.exists():
        _checkpointed(path)  # refuses while a server holds it
    staging = path.with_name(path.name + ".restoring")
    shutil.copyfile(backup, staging)
    Path(str(path) + ".wal").unlink(missing_ok=True)
    os.replace(staging, path)


def check_backup(backup: Path) -> None:
    try:
        con = connect_file(backup)
    except DatabaseLocked:
        raise
    except DatabaseUnavailable as exc:
        raise DatabaseUnavailable(f"« {backup} » n'est pas une sauvegarde du Portail Famille lisible "
                                  f"({exc.message}).") from exc
    try:
        version = con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
        con.execute("SELECT count(*) FROM bookings").fetchall()
    except Exception as exc:  # noqa: BLE001 — any failure means: not one of our databases
        raise DatabaseUnavailable(f"« {backup} » n'est pas une sauvegarde du Portail Famille lisible ({exc}).") from exc
    finally:
        con.close()
    if not version:
        raise DatabaseUnavailable(f"« {backup} » n'est pas une sauvegarde du Portail Famille (schéma absent).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sauvegarde et restauration de la base du Portail Famille.")
    commands = parser.add_subparsers(dest="command", required=True)
    saving = commands.add_parser("save", help="copier la base dans un dossier de sauvegardes")
    saving.add_argument("--path", type=Path, default=None, help="base (défaut : PORTAIL_DB ou data/portail.duckdb)")
    saving.add_argument("--to", type=Path, default=DEFAULT_DIR, help="dossier des sauvegardes (défaut : backups/)")
    restoring = commands.add_parser("restore", help="remplacer la base par une sauvegarde")
    restoring.add_argument("backup", type=Path, help="fichier de sauvegarde (.duckdb)")
    restoring.add_argument("--path", type=Path, default=None, help="base (défaut : PORTAIL_DB ou data/portail.duckdb)")
    args = parser.parse_args(argv)
    path = args.path or db_path()
    try:
        if args.command == "save":
            target = save(path, args.to, datetime.now(PARIS))
            print(f"Sauvegarde écrite : {target} ({target.stat().st_size / 2 ** 20:.1f} Mio).")
        else:
            restore(args.backup, path)
            print(f"Base « {path} » restaurée depuis « {args.backup} ».")
    except DatabaseUnavailable as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
