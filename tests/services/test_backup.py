"""`make backup` / `make restore`: a consistent copy while nobody holds the file, refused (in
French, nothing written) while a server does; a restore brings the saved state back."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import duckdb
import pytest

from lib.domain.clock import PARIS
from lib.domain.errors import DatabaseUnavailable
from lib.services import backup
from lib.store.db import DatabaseLocked, close_database, open_database
from tests.serve import ROOT, held

AT = datetime(2026, 11, 27, 9, 30, tzinfo=PARIS)


def count(path) -> int:
    con = duckdb.connect(str(path))
    try:
        return con.execute("SELECT count(*) FROM bookings").fetchall()[0][0]
    finally:
        con.close()


def test_backup_then_restore_brings_back_the_saved_state(demo_path, tmp_path):
    saved = backup.save(demo_path, tmp_path / "backups", AT)
    assert saved.name == "demo-20261127-093000.duckdb"
    before = count(demo_path)
    db = open_database(demo_path)
    db.write(lambda cur: cur.execute("DELETE FROM bookings WHERE child_id = 1"))
    close_database(demo_path)
    assert count(demo_path) < before
    backup.restore(saved, demo_path)
    assert count(demo_path) == before
    assert count(saved) == before  # the backup itself is untouched


def test_backup_includes_what_was_only_in_the_write_ahead_log(demo_path, tmp_path):
    db = open_database(demo_path)
    db.write(lambda cur: cur.execute("DELETE FROM bookings WHERE child_id = 2"))
    expected = db.value("SELECT count(*) FROM bookings")
    close_database(demo_path)
    assert count(backup.save(demo_path, tmp_path, AT)) == expected


@pytest.fixture
def held_db(demo_path):
    """Another process holding the database, as the server does."""
    with held(demo_path):
        yield demo_path


def test_backup_and_restore_are_refused_while_a_server_holds_the_file(held_db, tmp_path):
    held = held_db
    with pytest.raises(DatabaseLocked, match="déjà ouverte par le programme .*PID"):
        backup.save(held, tmp_path / "backups", AT)
    assert not (tmp_path / "backups").exists()
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(DatabaseUnavailable):
        backup.restore(other, held)


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(demo_path, tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database")
    before = demo_path.read_bytes()
    with pytest.raises(DatabaseUnavailable, match="n'est pas une sauvegarde"):
        backup.restore(junk, demo_path)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(DatabaseUnavailable, match="n'est pas une sauvegarde"):
        backup.restore(empty, demo_path)
    with pytest.raises(DatabaseUnavailable, match="introuvable"):
        backup.restore(tmp_path / "missing.duckdb", demo_path)
    assert demo_path.read_bytes() == before


def test_the_command_line_says_why_in_french_and_exits_non_zero(held_db, tmp_path):
    held = held_db
    result = subprocess.run([sys.executable, "-m", "lib.services.backup", "save", "--path", str(held),
                             "--to", str(tmp_path / "b")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Erreur : La base de données" in result.stderr and "Arrêtez ce programme" in result.stderr
    assert not (tmp_path / "b").exists()
