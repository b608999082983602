"""Other processes for the tests: the real server (`streamlit run server.py`) on a database file,
for the browser tests, the durability drill and the load test, and a process that holds a
database file as a server would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lib.tools.processes import free_port, server_command, stop  # noqa: F401 (re-exported for the test modules)

ROOT = Path(__file__).resolve().parents[1]


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
            return answer.read().decode() == "ok"
    except OSError:
        return False


def start_server(
    db: Path,
    log: Path,
    *,
    frozen_now: str | None = None,
    timeout_s: float = 120,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """The server on 127.0.0.1 serving `db`, once /_stcore/health answers ok; (process, base URL).
    `env`: more environment variables (settings such as PORTAIL_TRUSTED_PROXIES)."""
    port = port or free_port()
    env = dict(os.environ, PORTAIL_DB=str(db), **(env or {}))
    if frozen_now:
        env["PORTAIL_FROZEN_NOW"] = frozen_now
    with open(log, "a") as out:
        proc = subprocess.Popen(
            server_command(port),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while not healthy(base):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError("the server did not start: " + log.read_text())
        time.sleep(0.3)
    return proc, base


_HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()
"""


@contextmanager
def held(path: Path) -> Iterator[int]:
    """Another process holds the DuckDB file at `path` (as the server does) for the block; yields its PID."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc.pid
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
