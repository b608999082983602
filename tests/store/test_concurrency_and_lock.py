import subprocess
import sys
import threading

import pytest

from lib.store.db import DatabaseLocked, close_database, open_database
from tests.serve import held


def test_two_threads_racing_on_one_row_lose_no_increment(fresh_db):
    fresh_db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('counter', '0')"))
    per_thread = 150
    errors: list[BaseException] = []

    def bump(cur):
        value = int(cur.execute("SELECT value FROM settings WHERE key = 'counter'").fetchall()[0][0])
        cur.execute("UPDATE settings SET value = ? WHERE key = 'counter'", [str(value + 1)])

    def worker():
        try:
            for _ in range(per_thread):
                fresh_db.write(bump)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert fresh_db.value("SELECT value FROM settings WHERE key = 'counter'") == str(2 * per_thread)


def test_two_threads_inserting_keep_every_row(fresh_db):
    def worker(offset):
        for i in range(100):
            fresh_db.write(
                lambda cur, i=i: cur.execute(
                    "INSERT INTO audit_log (logged_at, action, entity, entity_id) VALUES (now()::TIMESTAMP, 'test', 'x', ?)",
                    [str(offset + i)],
                )
            )

    threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fresh_db.value("SELECT count(DISTINCT entity_id) FROM audit_log WHERE action = 'test'") == 200


def test_a_failed_unit_of_work_writes_nothing(fresh_db):
    def work(cur):
        cur.execute("INSERT INTO settings VALUES ('a', '1')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fresh_db.write(work)
    assert fresh_db.value("SELECT count(*) FROM settings") == 0


@pytest.fixture
def held_file(tmp_path):
    path = tmp_path / "held.duckdb"
    open_database(path)
    close_database(path)
    with held(path) as pid:
        yield path, pid


def test_a_file_held_by_another_process_is_refused_in_french(held_file):
    path, pid = held_file
    with pytest.raises(DatabaseLocked) as err:
        open_database(path)
    assert err.value.pid == pid
    assert str(path) in err.value.message
    assert f"PID {pid}" in err.value.message
    assert "déjà ouverte" in err.value.message


def test_make_demo_refuses_while_a_server_holds_the_file(held_file):
    path, pid = held_file
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "lib.tools.demo", "--path", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "déjà ouverte" in result.stderr and f"PID {pid}" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before


def test_make_run_stops_in_french_when_the_file_is_held(held_file):
    path, pid = held_file
    result = subprocess.run(
        [sys.executable, "-m", "lib.tools.demo", "--if-missing", "--path", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and f"PID {pid}" in result.stderr and "Traceback" not in result.stderr


def test_the_server_refuses_to_start_on_a_held_file(held_file):
    import os
    import socket
    from pathlib import Path

    path, pid = held_file
    root = Path(__file__).resolve().parents[2]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    result = subprocess.run(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", port, "--server.address", "127.0.0.1"],
        cwd=root,
        env=dict(os.environ, PORTAIL_DB=str(path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "déjà ouverte" in output and f"PID {pid}" in output
    assert "Traceback" not in output
