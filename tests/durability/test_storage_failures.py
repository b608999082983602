"""A disk that refuses writes, a damaged file: the portal says so in French at once, and its
health check says « not ok ». (A commit the disk refused used to be retried as a write-write
conflict, twelve times over, then raised as DuckDB's English error.)"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from lib.domain.errors import DatabaseUnavailable
from lib.store.db import DatabaseLocked, StorageFailure, is_conflict, is_storage_failure, open_database
from lib.web import backup_routes
from tests.serve import ROOT

DISK_FULL = (
    'TransactionContext Error: Failed to commit: Could not write file "/srv/portail.duckdb.wal": '
    "No space left on device"
)


class _FullDisk:
    """A cursor whose COMMIT fails the way DuckDB's does when the disk is full."""

    def __init__(self, cursor):
        self.cursor = cursor

    def execute(self, sql, *args):
        if sql == "COMMIT":
            self.cursor.execute("ROLLBACK")  # DuckDB ends the transaction when its commit fails
            raise duckdb.TransactionException(DISK_FULL)
        return self.cursor.execute(sql, *args)


def test_a_commit_refused_for_lack_of_space_is_not_retried(fresh_db):
    runs = []

    def work(cur):
        runs.append(1)
        cur.execute("INSERT INTO settings VALUES ('town_name', 'Belcastel')")

    fresh_db.cursor()  # this thread's cursor, then the same cursor behind a full disk
    fresh_db._local.cursor = _FullDisk(fresh_db._local.cursor)
    with pytest.raises(StorageFailure, match=r"L'enregistrement a échoué.*disque plein.*Rien n'a été enregistré"):
        fresh_db.write(work)
    assert len(runs) == 1
    fresh_db._local.cursor = fresh_db._local.cursor.cursor
    assert fresh_db.value("SELECT count(*) FROM settings") == 0


@pytest.mark.parametrize(
    "message, conflict, storage",
    [
        ("TransactionContext Error: Conflict on update!", True, False),
        (
            'TransactionContext Error: Failed to commit: PRIMARY KEY or UNIQUE constraint violation: duplicate key "5"',
            True,
            False,
        ),
        (DISK_FULL, False, True),
        ('TransactionContext Error: Failed to commit: Could not write file "x.wal": File too large', False, True),
        ('TransactionContext Error: Failed to commit: Could not write file "x.wal": Disk quota exceeded', False, True),
    ],
)
def test_conflicts_and_storage_failures_are_told_apart(message, conflict, storage):
    exc = duckdb.TransactionException(message)
    assert (is_conflict(exc), is_storage_failure(exc)) == (conflict, storage)


_FILE_SIZE_LIMIT = textwrap.dedent("""
    import os, resource, signal, sys
    from lib.store.db import StorageFailure, open_database
    db = open_database(sys.argv[1])
    db.cursor().execute("CHECKPOINT")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    wal = sys.argv[1] + ".wal"
    limit = max(os.path.getsize(sys.argv[1]), os.path.getsize(wal) if os.path.exists(wal) else 0) + 4096
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    runs = []
    def work(cur):
        runs.append(1)
        cur.execute("INSERT INTO audit_log (logged_at, action, entity, entity_id) "
                    "SELECT now()::TIMESTAMP, 'fill', 'x', repeat('x', 200) FROM range(20000)")
    try:
        db.write(work)
    except StorageFailure as exc:
        print("StorageFailure", len(runs), exc.detail)
""")


def test_a_real_write_past_the_file_size_limit_fails_once_in_french(tmp_path):
    """The same with DuckDB's own error: the process may not grow its files (RLIMIT_FSIZE, as a
    full disk or a quota would refuse)."""
    path = tmp_path / "small.duckdb"
    result = subprocess.run(
        [sys.executable, "-c", _FILE_SIZE_LIMIT, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.startswith("StorageFailure 1 "), result.stdout + result.stderr
    assert "Could not write file" in result.stdout


def _health(monkeypatch, path) -> tuple[int, str]:
    monkeypatch.setenv("PORTAIL_DB", str(path))
    with TestClient(Starlette(routes=backup_routes.ROUTES)) as client:
        answer = client.get(backup_routes.HEALTH_PATH)
    return answer.status_code, answer.text


def test_health_says_not_ok_when_the_database_cannot_be_read(tmp_path, monkeypatch):
    damaged = tmp_path / "damaged.duckdb"
    damaged.write_bytes(b"\0" * 8 + b"NOT A DATABASE" * 1000)
    assert _health(monkeypatch, damaged) == (503, "not ok")


@pytest.mark.parametrize("offset, length", [(0, 4096), (4096, 8192)])  # the file's header; the database's headers
def test_a_damaged_file_is_named_damaged_not_held_and_health_says_not_ok(demo_path, monkeypatch, offset, length):
    with open(demo_path, "r+b") as file:
        file.seek(offset)
        file.write(b"\x5a" * length)
    with pytest.raises(DatabaseUnavailable) as refused:
        open_database(demo_path)
    assert not isinstance(refused.value, DatabaseLocked)  # "Corrupt … in block" is no lock
    assert "Impossible d'ouvrir la base de données" in refused.value.message
    assert _health(monkeypatch, demo_path) == (503, "not ok")


def test_health_says_ok_for_a_good_database_and_not_ok_once_its_file_is_gone(demo_path, monkeypatch):
    assert _health(monkeypatch, demo_path) == (200, "ok")
    moved = demo_path.with_name("moved.duckdb")
    demo_path.rename(moved)  # the file the server opened is no longer the database's path
    assert _health(monkeypatch, demo_path) == (503, "not ok")
    moved.rename(demo_path)


def test_check_readable_names_the_file_in_french(demo_db):
    demo_db.check_readable()
    with open(demo_db.path, "r+b") as file:
        file.seek(8)
        file.write(b"XXXX")
    with pytest.raises(DatabaseUnavailable, match="abîmée"):
        demo_db.check_readable()


# --- pages: a French message, never Streamlit's English box ---------------------------------------
def _family_home_failing_with(demo_db, monkeypatch, error: Exception):
    from streamlit.testing.v1 import AppTest

    from lib.services import auth, home
    from lib.ui.session import TEST_TOKEN_KEY
    from tests.conftest import DEMO_NOW

    def broken(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(home, "family_home", broken)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state[TEST_TOKEN_KEY] = auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW)[0]
    return at.run()


def test_an_unexpected_error_on_a_page_is_shown_in_french(demo_db, monkeypatch, caplog):
    at = _family_home_failing_with(demo_db, monkeypatch, RuntimeError("boom: internal detail"))
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("Une erreur inattendue empêche d'afficher cette page.")
    reference = error.value.split("référence « ")[1][:6]
    assert "boom" not in error.value
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)  # the log has the traceback


def test_a_full_disk_on_a_page_says_so_in_french(demo_db, monkeypatch):
    at = _family_home_failing_with(demo_db, monkeypatch, StorageFailure("x.duckdb", DISK_FULL))
    assert not at.exception
    assert [e.value for e in at.error] == [StorageFailure("x.duckdb", DISK_FULL).message]
