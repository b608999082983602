"""The backup tool (`make backup`, `make restore`): save, restore and verify from the command line.

    python -m lib.tools.backup save [--path FILE|URL] [--to DIR] [--url URL]
    python -m lib.tools.backup restore BACKUP [--path FILE|URL] [--force]
    python -m lib.tools.backup verify BACKUP [--path URL]

`save` copies the file itself when no process holds it; while a server does, it asks that server
for an online backup (`POST /admin/sauvegarde`, lib/web/backup_routes.py) with the backup token.
With a `postgresql://` database (`--path` or PORTAIL_DB), `save` runs pg_dump while the replicas
serve, `restore` refuses while they are connected unless `--force` (which closes their
connections), and `verify` of a PostgreSQL backup restores it into a scratch database of that
server. What a backup is and how a restore checks it: lib/services/backup.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from lib.domain.clock import PARIS
from lib.domain.errors import PortailError
from lib.services import backup
from lib.services.command_line import run_in_french
from lib.services.config import db_path
from lib.store.db import DatabaseLocked, is_url
from lib.store.postgres import shown


def _database(raw: str | None) -> Path | str:
    """`--path` as given (a `postgresql://` URL kept whole), else PORTAIL_DB / the default file."""
    if raw is None:
        return db_path()
    return raw if is_url(raw) else Path(raw)


def _named(target: Path | str) -> str:
    return shown(target) if isinstance(target, str) else str(target)


def request_online(url: str, token: str, timeout_s: float = 3600) -> dict:
    """Ask the server at `url` for an online backup; its answer (file, size, checksum, rows)."""
    request = urllib.request.Request(
        url.rstrip("/") + backup.ROUTE, data=b"", method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["erreur"]
        except (ValueError, KeyError, TypeError):
            message = f"le serveur a répondu {exc.code}"
        raise backup.BackupRefused(message) from exc
    except OSError as exc:
        raise backup.BackupRefused(f"le serveur ne répond pas à l'adresse {url} ({exc}).") from exc


def _save_command(path: Path | str, directory: Path, url: str, now: datetime) -> str:
    try:
        made = backup.save(path, directory, now)
    except DatabaseLocked as held:
        try:
            answer = request_online(url, backup.client_token())
        except PortailError as exc:
            raise backup.BackupRefused(
                f"{held.message} La sauvegarde en ligne par {url} a échoué aussi : {exc.message}"
            ) from exc
        return (
            f"Sauvegarde en ligne écrite par le serveur : {answer['fichier']} ({answer['octets'] / 2**20:.1f} Mio, "
            f"{answer['lignes']} lignes vérifiées, SHA-256 {answer['sha256']})."
        )
    return (
        f"Sauvegarde écrite : {made.path} ({made.size / 2**20:.1f} Mio, {made.rows} lignes vérifiées, "
        f"SHA-256 {made.sha256})."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sauvegarde et restauration de la base du Portail Famille.")
    commands = parser.add_subparsers(dest="command", required=True)
    saving = commands.add_parser("save", help="sauvegarder la base (en ligne par le serveur s'il tourne)")
    saving.add_argument(
        "--path", default=None, help="base, fichier ou URL postgresql:// (défaut : PORTAIL_DB ou data/portail.duckdb)"
    )
    saving.add_argument(
        "--to",
        type=Path,
        default=None,
        help="dossier des sauvegardes hors ligne (défaut : PORTAIL_BACKUP_DIR ou backups/) ; "
        "en ligne, le serveur écrit dans son propre PORTAIL_BACKUP_DIR",
    )
    saving.add_argument(
        "--url",
        default=os.environ.get("PORTAIL_URL", "http://127.0.0.1:8501"),
        help="adresse du serveur pour la sauvegarde en ligne (défaut : PORTAIL_URL ou http://127.0.0.1:8501)",
    )
    restoring = commands.add_parser("restore", help="remplacer la base par une sauvegarde vérifiée")
    restoring.add_argument("backup", type=Path, help="fichier de sauvegarde (.duckdb ou .pgdump)")
    restoring.add_argument(
        "--path", default=None, help="base, fichier ou URL postgresql:// (défaut : PORTAIL_DB ou data/portail.duckdb)"
    )
    restoring.add_argument(
        "--force",
        action="store_true",
        help="PostgreSQL : fermer les connexions des serveurs du portail (répliques) au lieu de refuser",
    )
    verifying = commands.add_parser("verify", help="vérifier une sauvegarde sans rien modifier")
    verifying.add_argument("backup", type=Path, help="fichier de sauvegarde (.duckdb ou .pgdump)")
    verifying.add_argument(
        "--path",
        default=None,
        help="PostgreSQL : le serveur où la restaurer dans une base temporaire (défaut : PORTAIL_DB)",
    )
    args = parser.parse_args(argv)
    now = datetime.now(PARIS)

    def work() -> None:
        if args.command == "save":
            print(_save_command(_database(args.path), args.to or backup.backup_dir(), args.url, now))
        elif args.command == "verify":
            checked = backup.verify(args.backup, _database(args.path))
            print(f"Sauvegarde « {args.backup} » vérifiée : {len(checked.tables)} tables, {checked.rows} lignes.")
        else:
            path = _database(args.path)
            kept = backup.restore(args.backup, path, now, force=args.force)
            print(
                f"Base « {_named(path)} » restaurée depuis « {args.backup} » (vérifiée)."
                + (f" L'ancienne base est conservée : « {kept} »." if kept else "")
            )

    return run_in_french(work)


if __name__ == "__main__":
    sys.exit(main())
