"""Other processes the tools start and stop (HAProxy here; the server and Chromium in the tests and benches)."""

from __future__ import annotations

import socket
import subprocess
import sys

# Debian's Chromium, headless, for the browser tests and the benches (never a downloaded browser).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def server_command(port: int) -> list[str]:
    """The portal's server (`streamlit run server.py`) on 127.0.0.1:`port`, headless: what the
    tests, the cluster's replicas and the load bench start, run from the repository's root."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "server.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, timeout_s: float = 15) -> None:
    """Ask the process to end (SIGTERM), then kill it if it has not within `timeout_s`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
