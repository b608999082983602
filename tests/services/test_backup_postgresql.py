"""`make backup` / `make restore` on PostgreSQL (PORTAIL_DB=postgresql://…): pg_dump's archive is
restored into a scratch database and counted before it is called a backup, a restore verifies
the same way into a new database and swaps names (the replaced database kept), refused while a
replica is connected unless forced; refusals are in French and change nothing.

PostgreSQL sessions only (PORTAIL_TEST_ENGINE=postgresql): the `pg_server` fixture skips otherwise.
The DuckDB file's rules: test_backup.py."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from lib.domain.clock import PARIS
from lib.domain.errors import DatabaseUnavailable
from lib.services import backup
from lib.store import pg_backup, server
from lib.store.db import close_database, open_database
from lib.tools import postgresql_local
from tests.serve import ROOT

AT = datetime(2026, 11, 27, 9, 30, tzinfo=PARIS)
LATER = datetime(2026, 11, 28, 2, 0, tzinfo=PARIS)
FAMILIES = 5


def add_families(url: str, names: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
            conn.execute("INSERT INTO families (name, created_at) VALUES (%s, now())", [name])


def count(url: str, table: str = "families") -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])


def databases(url: str) -> list[str]:
    with psycopg.connect(server.with_database(url, "postgres"), autocommit=True) as conn:
        return sorted(r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate"))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lib.tools.backup", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def town_url(pg_server, db_target) -> str:
    """A database of the portal (schema and migrations) with a few families and settings."""
    open_database(db_target)
    close_database(db_target)
    add_families(db_target, [f"Famille {n}" for n in range(FAMILIES)])
    with psycopg.connect(db_target, autocommit=True) as conn:
        conn.execute("INSERT INTO settings (key, value) VALUES ('town_name', 'Sainte-Sauvegarde')")
    return db_target


@pytest.fixture
def saved(town_url, tmp_path) -> backup.Backup:
    return backup.save(town_url, tmp_path / "backups", AT)


# --- what a backup is --------------------------------------------------------------------------
def test_backup_then_restore_brings_back_the_saved_state_and_keeps_the_replaced_database(town_url, saved):
    name = server.database_name(town_url)
    assert saved.path.name.startswith(f"{name}-20261127-093000-") and saved.path.suffix == ".pgdump"
    assert saved.tables["families"] == FAMILIES and saved.tables["schema_version"] > 0
    before = databases(town_url)
    add_families(town_url, ["Famille après la sauvegarde"])
    kept = backup.restore(saved.path, town_url, LATER)
    assert count(town_url) == FAMILIES
    assert count(town_url, "settings") == 1
    assert isinstance(kept, str) and kept.startswith(f"{name}_replaced_20261128_020000_")
    assert count(server.with_database(town_url, kept)) == FAMILIES + 1  # the replaced database, whole
    assert databases(town_url) == sorted([*before, kept])  # no scratch database left behind
    assert backup.verify(saved.path, town_url).sha256 == saved.sha256  # the backup itself is untouched
    # the restored database is the portal's: it opens (no migration to apply) and new rows get new ids
    db = open_database(town_url)
    try:
        db.write(lambda cur: cur.execute("INSERT INTO families (name, created_at) VALUES ('Famille neuve', now())"))
        assert db.value("SELECT count(DISTINCT id) FROM families") == FAMILIES + 1
    finally:
        close_database(town_url)


def test_the_restored_database_keeps_who_may_connect_to_the_live_one(town_url, saved):
    """A dump holds what is inside the database, not who may connect to it: a restore must not
    open to everyone (PUBLIC) a database the town had closed to all but the portal's roles."""
    name = server.database_name(town_url)
    role = f"{name}_replica"
    acl = "SELECT a.grantee::regrole::text, a.privilege_type FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = %s"
    with psycopg.connect(server.with_database(town_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        kept = None
        try:
            conn.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
            conn.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{role}"')
            before = sorted(conn.execute(acl, [name]).fetchall())
            kept = backup.restore(saved.path, town_url, LATER)
            assert sorted(conn.execute(acl, [name]).fetchall()) == before
            assert ("-", "CONNECT") not in before and (role, "CONNECT") in before  # PUBLIC shows as grantee 0: "-"
        finally:
            for database in (name, kept) if kept else (name,):
                conn.execute(f'REVOKE ALL ON DATABASE "{database}" FROM "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_the_manifest_and_checksum_describe_the_backup_and_the_files_are_owner_only(town_url, saved):
    manifest = json.loads(backup.manifest_path(saved.path).read_text())
    assert manifest["engine"] == "postgresql" and manifest["database"] == server.database_name(town_url)
    assert manifest["tables"]["families"] == FAMILIES and manifest["sha256"] == saved.sha256
    assert manifest["bytes"] == saved.path.stat().st_size
    assert backup.checksum_path(saved.path).read_text() == f"{saved.sha256}  {saved.path.name}\n"
    checked = subprocess.run(["sha256sum", "-c", backup.checksum_path(saved.path).name], cwd=saved.path.parent)
    assert checked.returncode == 0
    # pg_restore reads it as its own custom-format archive
    listed = subprocess.run(
        [str(pg_backup.programs() / "pg_restore"), "--list", str(saved.path)], capture_output=True, text=True
    )
    assert listed.returncode == 0 and "TABLE DATA public families" in listed.stdout
    assert mode(saved.path.parent) == 0o700
    for path in (saved.path, backup.manifest_path(saved.path), backup.checksum_path(saved.path)):
        assert mode(path) == 0o600, path


def test_a_backup_taken_while_a_replica_writes_holds_the_rows_it_counted(town_url, tmp_path):
    """pg_dump runs online; the rows are counted in the snapshot it dumps, so the verification
    (the archive restored and counted) agrees although families are added all along."""
    stop = threading.Event()
    added = []

    def replica() -> None:
        with psycopg.connect(town_url, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("INSERT INTO families (name, created_at) VALUES ('Famille pressée', now())")
                added.append(1)

    writer = threading.Thread(target=replica)
    writer.start()
    try:
        made = backup.save(town_url, tmp_path / "b", AT)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert added, "the replica wrote nothing during the backup"
    assert FAMILIES <= made.tables["families"] <= FAMILIES + len(added)
    assert backup.verify(made.path, town_url).tables == made.tables


def test_two_backups_in_the_same_second_get_two_names_and_overwrite_nothing(town_url, saved):
    first = {p.name: p.read_bytes() for p in saved.path.parent.iterdir()}
    add_families(town_url, ["Famille seconde"])
    second = backup.save(town_url, saved.path.parent, AT)
    assert second.path != saved.path and second.tables["families"] == FAMILIES + 1
    assert {p.name: p.read_bytes() for p in saved.path.parent.iterdir() if p.name in first} == first
    assert len(list(saved.path.parent.iterdir())) == 6


def test_the_online_backup_route_takes_a_pg_dump_and_records_it(town_url, tmp_path):
    """POST /admin/sauvegarde on a replica calls save_online with its PostgreSQL database."""
    db = open_database(town_url)
    try:
        made = backup.save_online(db, tmp_path / "b", AT)
        assert made.path.suffix == ".pgdump"
        assert db.value("SELECT count(*) FROM audit_log WHERE action = 'database.backup'") == 1
    finally:
        close_database(town_url)


# --- what a restore refuses ------------------------------------------------------------------------
def test_a_restore_is_refused_while_a_replica_is_connected_unless_forced(town_url, saved):
    add_families(town_url, ["Famille du jour"])
    before = databases(town_url)
    with psycopg.connect(town_url, autocommit=True, application_name="replique-1") as replica:
        with pytest.raises(
            pg_backup.DatabaseInUse, match=r"utilisée par 1 autre\(s\) session\(s\).*replique-1.*--force"
        ):
            backup.restore(saved.path, town_url, LATER)
        assert count(town_url) == FAMILIES + 1 and databases(town_url) == before
        replica.execute("SELECT 1")  # still connected: a refusal ends nobody's session
        kept = backup.restore(saved.path, town_url, LATER, force=True)
        with pytest.raises(psycopg.OperationalError):
            replica.execute("SELECT 1")  # its connection was closed by --force
    assert count(town_url) == FAMILIES
    assert isinstance(kept, str) and count(server.with_database(town_url, kept)) == FAMILIES + 1


def test_the_swap_itself_refuses_a_replica_that_connected_during_the_restore(town_url, pg_server):
    """The check before restoring is not enough: a replica may connect while pg_restore runs. The
    swap closes the door (ALLOW_CONNECTIONS false), looks again, and opens it back when it refuses."""
    restored = server.with_database(pg_server, f"{server.database_name(town_url)}_restored")
    server.create_database(restored)
    before = databases(town_url)
    try:
        with psycopg.connect(town_url, autocommit=True, application_name="replique-tardive"):
            with pytest.raises(pg_backup.DatabaseInUse, match="replique-tardive"):
                pg_backup.swap(town_url, server.database_name(restored), "kept_db")
        assert databases(town_url) == before
        assert count(town_url) == FAMILIES  # connections are allowed again
    finally:
        server.drop_database(restored)


def test_a_dump_truncated_to_two_thirds_is_refused_through_the_command_line(town_url, tmp_path):
    saved = cli("save", "--path", town_url, "--to", str(tmp_path / "b"))
    assert saved.returncode == 0, saved.stderr
    assert "Sauvegarde écrite" in saved.stdout and "lignes vérifiées" in saved.stdout
    [made] = sorted((tmp_path / "b").glob("*.pgdump"))
    data = made.read_bytes()
    made.write_bytes(data[: len(data) * 2 // 3])
    add_families(town_url, ["Famille du jour"])
    before = databases(town_url)
    result = cli("restore", str(made), "--path", town_url)
    assert result.returncode == 1
    assert "Restauration refusée, rien n'a été modifié" in result.stderr and "somme de contrôle" in result.stderr
    assert "Traceback" not in result.stderr
    assert count(town_url) == FAMILIES + 1 and databases(town_url) == before


def test_a_truncated_dump_with_rewritten_checksums_is_still_refused(town_url, saved):
    """Whoever truncated it also rewrote the checksum and the manifest: restoring it into a new
    database fails (in one transaction), and the live one is untouched."""
    data = saved.path.read_bytes()
    saved.path.write_bytes(data[: len(data) * 2 // 3])
    digest = backup._sha256(saved.path)
    backup.checksum_path(saved.path).write_text(f"{digest}  {saved.path.name}\n")
    manifest = json.loads(backup.manifest_path(saved.path).read_text())
    backup.manifest_path(saved.path).write_text(json.dumps(dict(manifest, sha256=digest)))
    add_families(town_url, ["Famille du jour"])
    before = databases(town_url)
    with pytest.raises(
        backup.BackupRefused,
        match=r"Restauration refusée, rien n'a été modifié : (ce n'est pas une sauvegarde lisible|l'archive ne se restaure pas)",
    ):
        backup.restore(saved.path, town_url, LATER)
    with pytest.raises(backup.BackupRefused, match="rien n'a été modifié"):
        backup.verify(saved.path, town_url)
    assert count(town_url) == FAMILIES + 1 and databases(town_url) == before


def test_a_dump_whose_rows_differ_from_its_manifest_is_refused(town_url, saved):
    manifest = json.loads(backup.manifest_path(saved.path).read_text())
    manifest["tables"]["families"] += 1
    backup.manifest_path(saved.path).write_text(json.dumps(manifest))
    before = databases(town_url)
    with pytest.raises(backup.BackupRefused, match=r"la table « families » a 5 ligne\(s\) au lieu des 6"):
        backup.restore(saved.path, town_url, LATER)
    assert count(town_url) == FAMILIES and databases(town_url) == before


def test_a_dump_of_another_application_is_refused(town_url, pg_server, tmp_path):
    """A pg_dump archive of someone else's database, even dressed with a checksum and a manifest."""
    other = server.with_database(pg_server, f"{server.database_name(town_url)}_other")
    server.create_database(other)
    try:
        with psycopg.connect(other, autocommit=True) as conn:
            conn.execute("CREATE TABLE invoices (id integer, label text)")
            conn.execute("INSERT INTO invoices VALUES (1, 'pas à nous')")
        foreign = tmp_path / "other.pgdump"
        subprocess.run(
            [str(pg_backup.programs() / "pg_dump"), "-Fc", "-f", str(foreign), f"--dbname={other}"], check=True
        )
    finally:
        server.drop_database(other)
    with pytest.raises(backup.BackupRefused, match=r"somme de contrôle .* absente"):
        backup.restore(foreign, town_url, LATER)
    digest = backup._sha256(foreign)
    backup.checksum_path(foreign).write_text(f"{digest}  {foreign.name}\n")
    manifest = {"format": 1, "engine": "postgresql", "sha256": digest, "tables": {"invoices": 1}}
    backup.manifest_path(foreign).write_text(json.dumps(manifest))
    before = databases(town_url)
    with pytest.raises(backup.BackupRefused, match=r"pas une sauvegarde du Portail Famille \(schéma absent\)"):
        backup.restore(foreign, town_url, LATER)
    assert count(town_url) == FAMILIES and databases(town_url) == before


def test_a_file_that_is_not_a_dump_is_refused(town_url, tmp_path):
    junk = tmp_path / "junk.pgdump"
    junk.write_bytes(b"not an archive" * 100)
    digest = backup._sha256(junk)
    backup.checksum_path(junk).write_text(f"{digest}  {junk.name}\n")
    backup.manifest_path(junk).write_text(
        json.dumps({"format": 1, "engine": "postgresql", "sha256": digest, "tables": {}})
    )
    before = databases(town_url)
    with pytest.raises(backup.BackupRefused, match="ce n'est pas une sauvegarde lisible du Portail Famille"):
        backup.restore(junk, town_url, LATER)
    with pytest.raises(backup.BackupRefused, match="introuvable"):
        backup.restore(tmp_path / "missing.pgdump", town_url, LATER)
    assert count(town_url) == FAMILIES and databases(town_url) == before


def test_a_backup_of_the_other_engine_is_refused(town_url, saved, tmp_path):
    duck = tmp_path / "portail.duckdb"
    open_database(duck)
    close_database(duck)
    duck_backup = backup.save(duck, tmp_path / "duck", AT)
    with pytest.raises(backup.BackupRefused, match=r"c'est une sauvegarde DuckDB et la base .* est PostgreSQL"):
        backup.restore(duck_backup.path, town_url, LATER)
    before = duck.read_bytes()
    with pytest.raises(backup.BackupRefused, match=r"c'est une sauvegarde PostgreSQL et la base .* est DuckDB"):
        backup.restore(saved.path, duck, LATER)
    assert duck.read_bytes() == before and count(town_url) == FAMILIES


# --- bad addresses, a server down, programs missing ------------------------------------------------
def test_a_server_that_does_not_answer_gets_a_french_message_and_nothing_is_written(saved, tmp_path):
    down = f"postgresql://portail@127.0.0.1:{postgresql_local.free_port()}/portail"
    with pytest.raises(DatabaseUnavailable, match="ne répond pas"):
        backup.save(down, tmp_path / "other", AT)
    assert not (tmp_path / "other").exists()
    with pytest.raises(DatabaseUnavailable, match="ne répond pas"):
        backup.restore(saved.path, down, LATER)
    result = cli("save", "--path", down, "--to", str(tmp_path / "other"))
    assert result.returncode == 1 and "ne répond pas" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "other").exists()


def test_a_database_that_does_not_exist_is_not_saved(pg_server, tmp_path):
    missing = server.with_database(pg_server, "pas_de_base_ici")
    with pytest.raises(DatabaseUnavailable, match=r"« .*/pas_de_base_ici » n'existe pas sur ce serveur"):
        backup.save(missing, tmp_path / "b", AT)
    assert not (tmp_path / "b").exists()


def test_verifying_a_dump_needs_a_server(saved, monkeypatch):
    monkeypatch.delenv("PORTAIL_DB", raising=False)
    result = cli("verify", str(saved.path))
    assert result.returncode == 1 and "demande un serveur PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_line_verifies_a_dump_on_the_server(town_url, saved):
    result = cli("verify", str(saved.path), "--path", town_url)
    assert result.returncode == 0, result.stderr
    assert f"{saved.rows} lignes" in result.stdout
    assert not [d for d in databases(town_url) if "_verif_" in d]


def test_missing_postgresql_programs_are_named_in_french(monkeypatch, tmp_path):
    monkeypatch.setattr(pg_backup.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(pg_backup.shutil, "which", lambda name: None)
    with pytest.raises(DatabaseUnavailable, match=r"pg_dump et pg_restore .* « postgresql-client »"):
        backup.save("postgresql://portail@127.0.0.1:1/portail", tmp_path / "b", AT)
    assert not (tmp_path / "b").exists()


def test_the_password_of_the_url_is_not_on_the_command_line():
    url, env = pg_backup._without_password("postgresql://portail:s3cret@db.example:5432/portail?sslmode=require")
    assert url == "postgresql://portail@db.example:5432/portail?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret"
    assert "s3cret" not in url and os.environ.get("PGPASSWORD") != "s3cret"


# --- the demo town, whole --------------------------------------------------------------------------
def test_the_demo_town_comes_back_whole_and_the_portal_works_on_it(pg_server, demo_path, tmp_path):
    """Every table of a real town (sequences, the server-side compat functions, JSON, blobs) goes
    through pg_dump and pg_restore: afterwards the portal reads and writes it as before."""
    made = backup.save(demo_path, tmp_path / "b", AT)
    assert made.tables["bookings"] > 0 and made.tables["users"] > 0
    with psycopg.connect(demo_path, autocommit=True) as conn:
        conn.execute("DELETE FROM sessions")
        conn.execute("DELETE FROM audit_log")
    close_database(demo_path)
    backup.restore(made.path, demo_path, LATER)
    assert {t: count(demo_path, t) for t in made.tables} == made.tables
    db = open_database(demo_path)
    try:
        before = db.value("SELECT max(id) FROM families")
        db.write(lambda cur: cur.execute("INSERT INTO families (name, created_at) VALUES ('Famille neuve', now())"))
        assert db.value("SELECT max(id) FROM families") == before + 1  # the sequences came back too
    finally:
        close_database(demo_path)
