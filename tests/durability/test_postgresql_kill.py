"""Durability drill on PostgreSQL: a kill -9 of the database server in the middle of a stream of
bookings loses no acknowledged booking.

The server is our own (lib/tools/postgresql_local.py), started DURABLE as `make cluster` starts
it (fsync and synchronous commit on: a COMMIT returns once its WAL is on disk). The writer of the
DuckDB drill (tests/durability/writer.py) books and cancels canteen days through the reservation
service and prints each change after it committed. We SIGKILL PostgreSQL's postmaster after
ACKS_BEFORE_KILL acknowledgements; the writer's changes are refused meanwhile (DatabaseUnavailable,
in French) and tried again; we start the server again (crash recovery replays its WAL), the
writer goes on by itself on new connections; then we SIGKILL the writer and compare every
acknowledged change with what the database holds. Runs on PostgreSQL whatever the session's engine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from lib.store.db import close_database, open_database
from lib.store.server import create_database, with_database
from lib.tools import postgresql_local
from lib.tools.demo import build_demo
from tests.conftest import DEMO_NOW, DEMO_TODAY
from tests.serve import ROOT

pytestmark = pytest.mark.slow
ACKS_BEFORE_KILL = 40
ACKS_AFTER_RESTART = 20


@pytest.fixture(scope="module")
def durable_server(tmp_path_factory):
    """A durable PostgreSQL server of this module's own with the demo town: (directory, port, URL)."""
    with tempfile.TemporaryDirectory(prefix="portail-pg-") as folder:  # not under pytest's root (tests/engines.py)
        directory = Path(folder)
        port = postgresql_local.free_port()
        server = postgresql_local.start(directory, port, durable=True)
        url = with_database(server, "portail")
        try:
            create_database(url)
            build_demo(url, DEMO_TODAY)
            yield directory, port, url
        finally:
            postgresql_local.stop(directory, mode="immediate")


def _fsync_on(url: str) -> bool:
    db = open_database(url)
    try:
        return db.value("SHOW fsync") == "on" and db.value("SHOW synchronous_commit") == "on"
    finally:
        close_database(url)


class Writer:
    """tests/durability/writer.py in a process, its lines read by a thread."""

    def __init__(self, url: str, tmp_path: Path):
        self.err = tmp_path / "writer.err"
        with open(self.err, "w") as err:  # the child keeps its own copy of the descriptor
            self.proc = self._start(url, tmp_path, err)
        self.acks: list[tuple[str, ...]] = []
        self.downs = 0
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @staticmethod
    def _start(url: str, tmp_path: Path, err) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.durability.writer"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=dict(
                os.environ,
                PORTAIL_DB=url,
                PORTAIL_FROZEN_NOW=DEMO_NOW.isoformat(),
                PORTAIL_MAIL_SINK_DIR=str(tmp_path / "courriels"),
            ),
        )

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                if line.startswith("ACK"):
                    self.acks.append(tuple(line.split()[1:]))
                elif line.startswith("DOWN"):
                    self.downs += 1

    def wait_for(self, what: str, count: int, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                seen = len(self.acks) if what == "acks" else self.downs
            if seen >= count:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"the writer stopped ({self.proc.returncode}): {self.err.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: {seen} of {count} within {timeout_s} s: {self.err.read_text()}")
            time.sleep(0.05)

    def kill(self) -> list[tuple[str, ...]]:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reader.join(30)  # the lines it flushed before dying
        return list(self.acks)


def _restart(directory: Path, port: int, timeout_s: float = 60) -> None:
    """Start the killed server again once its orphaned backends have gone (they notice the
    postmaster's death and exit; until then the shared memory is still in use)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            postgresql_local.start(directory, port, durable=True)
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_every_acknowledged_booking_survives_a_kill_of_the_postgresql_server(durable_server, tmp_path):
    directory, port, url = durable_server
    assert _fsync_on(url)  # durable, as `make cluster` runs it
    writer = Writer(url, tmp_path)
    try:
        writer.wait_for("acks", ACKS_BEFORE_KILL)
        postmaster = postgresql_local.server_pid(directory)
        assert postmaster is not None
        os.kill(postmaster, signal.SIGKILL)
        writer.wait_for("downs", 1)  # the writer saw the server gone, in French, and waits
        acked_at_kill = len(writer.acks)
        _restart(directory, port)
        writer.wait_for("acks", acked_at_kill + ACKS_AFTER_RESTART)  # back by itself, on new connections
    finally:
        acks = writer.kill()
    assert {a[3] for a in acks} == {"booked", "cancelled"}
    last: dict[tuple[int, int, str], str] = {}
    for child, service, day, state in acks:
        last[(int(child), int(service), day)] = state

    db = open_database(url)
    try:
        stored = {
            (c, s, d.isoformat()): state
            for c, s, d, state in db.rows(
                "SELECT child_id, service_id, day, state FROM bookings WHERE child_id = 1 AND service_id = 1"
            )
        }
        doubled = db.value(
            "SELECT count(*) FROM (SELECT child_id, service_id, day FROM bookings"
            " GROUP BY child_id, service_id, day HAVING count(*) > 1) d"
        )
        logged = db.value("SELECT count(*) FROM audit_log WHERE action = 'booking.days' AND entity_id = '1'")
    finally:
        close_database(url)
    differ = {key for key, state in last.items() if stored.get(key) != state}
    # Only a change in flight when a process died (the server's kill, the writer's) may be
    # committed without its ACK having been printed: it then shows the state that flip was writing.
    assert len(differ) <= 2, differ
    for key in differ:
        assert stored[key] != last[key]
    assert doubled == 0
    assert logged >= len(acks)  # one audit entry per acknowledged change, committed with it
