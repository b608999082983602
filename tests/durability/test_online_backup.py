"""The real server (`streamlit run server.py`) holds the database; `make backup` still takes a
verified backup through it (POST /admin/sauvegarde with the backup token), the backup restores
once the server is stopped, and the server's health check says « not ok » when its file is
damaged — and a restore then brings the town back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import duckdb
import pytest

from lib.services import backup
from lib.store.db import close_database, open_database
from tests.conftest import DEMO_NOW
from tests.engines import ENGINE, POSTGRESQL
from tests.serve import ROOT, start_server, stop

# The server holding a DuckDB file; on PostgreSQL nothing holds a file and pg_dump runs while the
# replicas serve (tests/services/test_backup_postgresql.py).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ENGINE == POSTGRESQL, reason="the DuckDB file held by a server (PostgreSQL: pg_dump)"),
]
TOKEN = "online-backup-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def server(demo_template, tmp_path_factory):
    """(server process, base URL, database path, backup folder, environment); the last test stops it."""
    folder = tmp_path_factory.mktemp("online")
    path, backups = folder / "portail.duckdb", folder / "backups"
    shutil.copyfile(demo_template, path)
    env = {"PORTAIL_DB": str(path), backup.BACKUP_DIR_ENV: str(backups), backup.TOKEN_ENV: TOKEN}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        proc, base = start_server(path, folder / "server.log", frozen_now=DEMO_NOW.isoformat())
    try:
        yield proc, base, path, backups, dict(os.environ, **env)
    finally:
        stop(proc)


def post(url: str, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def make_backup(base: str, env: dict) -> subprocess.CompletedProcess:
    """What `make backup` runs."""
    return subprocess.run(
        [sys.executable, "-m", "lib.tools.backup", "save", "--url", base],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows(path, sql: str) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def test_the_backup_route_refuses_without_the_token(server):
    _proc, base, _path, backups, _env = server
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
        status, answer = post(base + backup.ROUTE, headers)
        assert status == 403 and "Jeton de sauvegarde absent ou invalide" in answer["erreur"]
    assert not backups.exists() or not list(backups.iterdir())


def test_make_backup_while_the_server_runs_then_restore_it(server, tmp_path):
    _proc, base, _path, backups, env = server
    first = make_backup(base, env)
    assert first.returncode == 0, first.stderr
    assert "Sauvegarde en ligne écrite par le serveur" in first.stdout
    second = make_backup(base, env)
    assert second.returncode == 0, second.stderr
    made = sorted(backups.glob("*.duckdb"), key=lambda p: p.stat().st_mtime_ns)
    assert len(made) == 2 and made[0].name != made[1].name
    checked = [backup.verify(p) for p in made]
    # The first backup's audit entry was written by the server after it, into its write-ahead
    # log: the second backup, taken while the server still runs, has it.
    assert checked[1].tables["audit_log"] == checked[0].tables["audit_log"] + 1
    assert rows(made[1], "SELECT count(*) FROM audit_log WHERE action = 'database.backup'") == 1

    restored = tmp_path / "restored.duckdb"
    assert backup.restore(made[1], restored, DEMO_NOW) is None
    db = open_database(restored)  # opens, migrates nothing new, has the town
    try:
        assert db.value("SELECT count(*) FROM bookings") == checked[1].tables["bookings"]
        assert db.value("SELECT count(*) FROM users WHERE email = 'admin@demo.fr'") == 1
    finally:
        close_database(restored)


def test_health_says_not_ok_when_the_database_file_is_damaged_and_a_restore_repairs_it(server):
    proc, base, path, backups, env = server
    assert get(base + "/sante") == (200, "ok")
    made = make_backup(base, env)
    assert made.returncode == 0, made.stderr
    newest = max(backups.glob("*.duckdb"), key=lambda p: p.stat().st_mtime_ns)
    with open(path, "r+b") as file:  # a disk that lost the file's first block
        file.write(bytes(4096))
    assert get(base + "/sante") == (503, "not ok")
    assert get(base + "/_stcore/health")[0] == 200  # Streamlit's own check cannot see it

    damaged = path.read_bytes()
    restore = [sys.executable, "-m", "lib.tools.backup", "restore", str(newest)]
    held = subprocess.run(restore, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert held.returncode == 1 and "déjà ouverte" in held.stderr  # not while the server holds it
    assert path.read_bytes() == damaged

    stop(proc)  # the town stops the server and restores the last backup over the damaged file
    done = subprocess.run(restore, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "restaurée" in done.stdout and "L'ancienne base est conservée" in done.stdout
    [kept] = [p for p in path.parent.glob("portail.duckdb.replaced-*") if p.suffix != ".wal"]
    assert kept.read_bytes() == damaged
    assert rows(path, "SELECT count(*) FROM bookings") == backup.verify(newest).tables["bookings"]
