"""`make backup` / `make restore`: a backup is verified whole before it replaces anything, the
replaced file is kept, refusals are in French and change nothing; backups have unique,
owner-only files. (The online backup through a running server: tests/durability/test_online_backup.py.)

These are the DuckDB file's: on a PostgreSQL session (PORTAIL_TEST_ENGINE=postgresql) they are
skipped, and test_backup_postgresql.py checks the same rules with pg_dump and pg_restore; the
backup token's tests run on both."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from lib.domain.clock import PARIS
from lib.domain.errors import DatabaseUnavailable, NotAllowed
from lib.services import backup
from lib.store.db import DatabaseLocked, close_database, open_database
from tests.engines import ENGINE, POSTGRESQL
from tests.serve import ROOT, free_port, held

duckdb_only = pytest.mark.skipif(
    ENGINE == POSTGRESQL, reason="the DuckDB file's backup (PostgreSQL: test_backup_postgresql.py)"
)

AT = datetime(2026, 11, 27, 9, 30, tzinfo=PARIS)
LATER = datetime(2026, 11, 28, 2, 0, tzinfo=PARIS)


def count(path, table="bookings") -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


def delete_bookings(path, child_id: int) -> None:
    db = open_database(path)
    db.write(lambda cur: cur.execute("DELETE FROM bookings WHERE child_id = ?", [child_id]))
    close_database(path)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lib.tools.backup", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def saved(demo_path, tmp_path) -> backup.Backup:
    return backup.save(demo_path, tmp_path / "backups", AT)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# --- what a backup is --------------------------------------------------------------------------
@duckdb_only
def test_backup_then_restore_brings_back_the_saved_state_and_keeps_the_replaced_file(demo_path, saved):
    assert saved.path.name.startswith("demo-20261127-093000-") and saved.path.suffix == ".duckdb"
    before = count(demo_path)
    delete_bookings(demo_path, 1)
    changed = count(demo_path)
    assert changed < before
    kept = backup.restore(saved.path, demo_path, LATER)
    assert count(demo_path) == before
    assert kept.name.startswith("demo.duckdb.replaced-20261128-020000-")
    assert count(kept) == changed  # the replaced database, whole, beside the restored one
    assert backup.verify(saved.path).sha256 == saved.sha256  # the backup itself is untouched


@duckdb_only
def test_a_restore_replaces_a_database_too_damaged_to_open(demo_path, saved):
    before = saved.tables["bookings"]
    with open(demo_path, "r+b") as file:  # the database's headers fail their checksums
        file.seek(4096)
        file.write(b"\x5a" * 8192)
    damaged = demo_path.read_bytes()
    kept = backup.restore(saved.path, demo_path, LATER)
    assert count(demo_path) == before
    assert kept.read_bytes() == damaged


@duckdb_only
def test_backup_includes_what_was_only_in_the_write_ahead_log(demo_path, tmp_path):
    db = open_database(demo_path)
    db.write(lambda cur: cur.execute("DELETE FROM bookings WHERE child_id = 2"))
    expected = db.value("SELECT count(*) FROM bookings")
    close_database(demo_path)
    assert count(backup.save(demo_path, tmp_path, AT).path) == expected


@duckdb_only
def test_the_manifest_and_checksum_describe_the_backup(demo_path, saved):
    manifest = json.loads(backup.manifest_path(saved.path).read_text())
    assert manifest["tables"]["bookings"] == count(demo_path) and manifest["tables"]["users"] == count(
        demo_path, "users"
    )
    assert manifest["sha256"] == saved.sha256 and manifest["bytes"] == saved.path.stat().st_size
    assert manifest["engine"] == "duckdb"
    assert backup.checksum_path(saved.path).read_text() == f"{saved.sha256}  {saved.path.name}\n"
    # the standard tool agrees
    assert (
        subprocess.run(
            ["sha256sum", "-c", backup.checksum_path(saved.path).name], cwd=saved.path.parent, capture_output=True
        ).returncode
        == 0
    )


@duckdb_only
def test_a_backup_whose_manifest_predates_the_engine_field_still_restores(demo_path, saved):
    """Backups taken before PostgreSQL came have no "engine" in their manifest: they are DuckDB's."""
    manifest = json.loads(backup.manifest_path(saved.path).read_text())
    del manifest["engine"]
    backup.manifest_path(saved.path).write_text(json.dumps(manifest))
    assert backup.restore(saved.path, demo_path, LATER) is not None
    manifest["engine"] = "oracle"
    backup.manifest_path(saved.path).write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupRefused, match=r"manifeste .* ne décrit pas ce fichier"):
        backup.verify(saved.path)


@duckdb_only
def test_backups_are_owner_only(demo_path, tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    made = backup.save(demo_path, directory, AT)
    assert mode(directory) == 0o700
    for path in (made.path, backup.manifest_path(made.path), backup.checksum_path(made.path)):
        assert mode(path) == 0o600, path
    backup.restore(made.path, demo_path, LATER)
    assert mode(demo_path) == 0o600  # the restored database holds the same secrets


@duckdb_only
def test_two_backups_in_the_same_second_get_two_names_and_overwrite_nothing(demo_path, saved, tmp_path):
    first = snapshot(saved.path.parent)
    delete_bookings(demo_path, 1)
    second = backup.save(demo_path, saved.path.parent, AT)
    assert second.path != saved.path
    assert {n: b for n, b in snapshot(saved.path.parent).items() if n in first} == first
    assert len(snapshot(saved.path.parent)) == 6
    assert backup.verify(saved.path).tables["bookings"] > backup.verify(second.path).tables["bookings"]


# --- what a restore refuses ------------------------------------------------------------------------
@duckdb_only
def test_a_backup_truncated_to_two_thirds_is_refused_and_the_database_kept(demo_path, tmp_path):
    """The audit's attack, through the command line as `make backup` / `make restore` run it:
    the truncated copy used to be « restaurée » and nobody could log in afterwards."""
    assert cli("save", "--path", str(demo_path), "--to", str(tmp_path / "b")).returncode == 0
    [made] = sorted((tmp_path / "b").glob("*.duckdb"))
    data = made.read_bytes()
    made.write_bytes(data[: len(data) * 2 // 3])
    before = demo_path.read_bytes()
    result = cli("restore", str(made), "--path", str(demo_path))
    assert result.returncode == 1
    assert "Restauration refusée, rien n'a été modifié" in result.stderr and "somme de contrôle" in result.stderr
    assert "Traceback" not in result.stderr
    assert demo_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "demo.duckdb"]  # no staging file left


@duckdb_only
def test_a_truncated_backup_with_rewritten_checksums_is_still_refused(demo_path, saved):
    """Whoever truncated it also rewrote the checksum file, then the manifest's checksum: reading
    every row of every table still finds the missing blocks."""
    data = saved.path.read_bytes()
    saved.path.write_bytes(data[: len(data) * 2 // 3])
    digest = backup._sha256(saved.path)
    backup.checksum_path(saved.path).write_text(f"{digest}  {saved.path.name}\n")
    before = demo_path.read_bytes()
    with pytest.raises(backup.BackupRefused, match=r"manifeste .* ne décrit pas ce fichier"):
        backup.restore(saved.path, demo_path, LATER)
    manifest = json.loads(backup.manifest_path(saved.path).read_text())
    backup.manifest_path(saved.path).write_text(json.dumps(dict(manifest, sha256=digest)))
    with pytest.raises(backup.BackupRefused, match="pas une sauvegarde lisible du Portail Famille"):
        backup.restore(saved.path, demo_path, LATER)
    assert demo_path.read_bytes() == before


@duckdb_only
def test_a_backup_changed_by_one_byte_fails_its_checksum(demo_path, saved):
    data = bytearray(saved.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    saved.path.write_bytes(bytes(data))
    before = demo_path.read_bytes()
    with pytest.raises(backup.BackupRefused, match="sa somme de contrôle ne correspond pas"):
        backup.restore(saved.path, demo_path, LATER)
    assert demo_path.read_bytes() == before


@duckdb_only
def test_a_backup_whose_rows_differ_from_its_manifest_is_refused(demo_path, saved):
    manifest_file = backup.manifest_path(saved.path)
    manifest = json.loads(manifest_file.read_text())
    manifest["tables"]["bookings"] += 1
    manifest_file.write_text(json.dumps(manifest))
    before = demo_path.read_bytes()
    with pytest.raises(backup.BackupRefused, match=r"la table « bookings » a .* ligne\(s\) au lieu des"):
        backup.restore(saved.path, demo_path, LATER)
    assert demo_path.read_bytes() == before


@duckdb_only
@pytest.mark.parametrize(
    "companion, message", [("checksum_path", "somme de contrôle .* absente"), ("manifest_path", "manifeste .* absent")]
)
def test_a_backup_without_its_checksum_or_manifest_is_refused(demo_path, saved, companion, message):
    getattr(backup, companion)(saved.path).unlink()
    before = demo_path.read_bytes()
    with pytest.raises(backup.BackupRefused, match=message):
        backup.restore(saved.path, demo_path, LATER)
    assert demo_path.read_bytes() == before


@duckdb_only
def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(demo_path, tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database")
    before = demo_path.read_bytes()
    with pytest.raises(backup.BackupRefused, match="somme de contrôle"):
        backup.restore(junk, demo_path, LATER)
    with pytest.raises(backup.BackupRefused, match="introuvable"):
        backup.restore(tmp_path / "missing.duckdb", demo_path, LATER)
    assert demo_path.read_bytes() == before


# --- refused while a server holds the file ----------------------------------------------------------
@pytest.fixture
def held_db(demo_path):
    """Another process holding the database, as the server does."""
    with held(demo_path):
        yield demo_path


@duckdb_only
def test_offline_backup_and_restore_are_refused_while_a_process_holds_the_file(demo_path, tmp_path):
    made = backup.save(demo_path, tmp_path / "backups", AT)
    before = demo_path.read_bytes()
    with held(demo_path):
        with pytest.raises(DatabaseLocked, match=r"déjà ouverte par le programme .*PID"):
            backup.save(demo_path, tmp_path / "other", AT)
        with pytest.raises(DatabaseUnavailable, match="déjà ouverte"):
            backup.restore(made.path, demo_path, LATER)
    assert not (tmp_path / "other").exists()
    assert demo_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "demo.duckdb"]


@duckdb_only
def test_the_command_line_says_why_in_french_when_no_server_answers(held_db, tmp_path, monkeypatch):
    monkeypatch.setenv(backup.TOKEN_ENV, "t" * 40)
    result = cli(
        "save", "--path", str(held_db), "--to", str(tmp_path / "b"), "--url", f"http://127.0.0.1:{free_port()}"
    )
    assert result.returncode == 1
    assert "Erreur : La base de données" in result.stderr and "La sauvegarde en ligne par" in result.stderr
    assert "ne répond pas" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "b").exists()


# --- the online backup's secret ---------------------------------------------------------------------
def test_the_online_backup_needs_the_token(monkeypatch, tmp_path):
    monkeypatch.delenv(backup.TOKEN_ENV, raising=False)
    monkeypatch.setenv(backup.TOKEN_FILE_ENV, str(tmp_path / "token"))
    with pytest.raises(NotAllowed, match="Sauvegarde en ligne désactivée"):
        backup.authorize("Bearer anything")
    token = backup.client_token()  # what `make backup` does first
    assert mode(tmp_path / "token") == 0o600 and len(token) >= backup.TOKEN_MIN_LENGTH
    backup.authorize(f"Bearer {token}")
    for wrong in (None, "", token, f"Bearer {token[:-1]}", f"Bearer {token}x", "Basic " + token):
        with pytest.raises(NotAllowed, match="Jeton de sauvegarde absent ou invalide"):
            backup.authorize(wrong)
    os.chmod(tmp_path / "token", 0o644)
    with pytest.raises(NotAllowed, match="chmod 600"):
        backup.authorize(f"Bearer {token}")


def test_a_short_token_is_refused(monkeypatch):
    monkeypatch.setenv(backup.TOKEN_ENV, "short")
    with pytest.raises(NotAllowed, match="trop court"):
        backup.authorize("Bearer short")
