"""A PostgreSQL server of our own in a directory: for the test session and `make cluster`.

Debian's `postgresql` package brings the programs (/usr/lib/postgresql/NN/bin); `initdb` makes a
cluster in the directory, `pg_ctl` starts it on 127.0.0.1 and a port, trusting local connections
(the directory is the project's own, the port is bound to the loopback only). As root, the server
runs as the `postgres` account the package created: PostgreSQL refuses to run as root.

    python -m lib.tools.postgresql_local start --dir .cluster/pg --port 55432
    python -m lib.tools.postgresql_local stop --dir .cluster/pg
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from lib.domain.errors import DatabaseUnavailable

USER = "portail"


def bin_dir() -> Path:
    """The newest PostgreSQL's programs installed by Debian, else those on the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise DatabaseUnavailable(
        "PostgreSQL n'est pas installé : installez le paquet Debian « postgresql » "
        "(apt-get install postgresql), puis réessayez."
    )


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for root, dirs, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def url(port: int, database: str = "postgres") -> str:
    return f"postgresql://{USER}@127.0.0.1:{port}/{database}"


def start(directory: Path, port: int, *, durable: bool = True) -> str:
    """Make the cluster in `directory` if missing and start it on `port` (already running: left
    as it is). Returns the URL of its `postgres` database. `durable=False` (tests only) turns off
    fsync: a test database never outlives the machine's power."""
    directory = directory.resolve()
    data = directory / "data"
    programs = bin_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # the postgres account must reach the directory through its parents: say so rather than
        # open them up behind the owner's back
        closed = [p for p in directory.parents if not p.stat().st_mode & 0o001]
        if closed:
            raise DatabaseUnavailable(
                f"Le serveur PostgreSQL (compte « postgres ») ne peut pas atteindre « {directory} » : le dossier "
                f"« {closed[0]} » lui est fermé. Choisissez un autre dossier ou ouvrez-le (chmod o+x)."
            )
    if not (data / "PG_VERSION").exists():
        data.mkdir(exist_ok=True)
        _chown(directory)
        subprocess.run(
            _as_server_user(
                [
                    str(programs / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    _chown(directory)
    if running(directory):
        return url(port)
    options = [
        f"-p {port}",
        f"-k {directory}",
        "-c listen_addresses=127.0.0.1",
        "-c max_connections=200",
        "-c shared_buffers=128MB",
    ]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    subprocess.run(
        _as_server_user(
            [
                str(programs / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "server.log"),
                "-o",
                " ".join(options),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return url(port)


def running(directory: Path) -> bool:
    pid = directory.resolve() / "data" / "postmaster.pid"
    if not pid.exists():
        return False
    try:
        number = int(pid.read_text().split()[0])
        os.kill(number, 0)
    except (ProcessLookupError, ValueError, IndexError):
        return False
    return not _dead(number)


def _dead(pid: int) -> bool:
    """A postmaster killed (kill -9) whose parent has not reaped it yet is a zombie: not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def server_pid(directory: Path) -> int | None:
    pid = directory.resolve() / "data" / "postmaster.pid"
    try:
        return int(pid.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop(directory: Path, mode: str = "fast") -> None:
    directory = directory.resolve()
    if not running(directory):
        return
    subprocess.run(
        _as_server_user([str(bin_dir() / "pg_ctl"), "-D", str(directory / "data"), "-m", mode, "-w", "stop"]),
        check=False,
        stdout=subprocess.DEVNULL,
    )


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run(
            [str(bin_dir() / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL
        )
        if done.returncode == 0:
            return
        time.sleep(0.2)
    raise DatabaseUnavailable(f"Le serveur PostgreSQL du port {port} ne répond pas après {timeout:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Un serveur PostgreSQL local pour le Portail Famille.")
    parser.add_argument("action", choices=["start", "stop", "url"])
    parser.add_argument("--dir", type=Path, required=True, help="dossier du serveur")
    parser.add_argument("--port", type=int, default=55432)
    args = parser.parse_args(argv)
    if args.action == "start":
        print(start(args.dir, args.port))
    elif args.action == "stop":
        stop(args.dir)
    else:
        print(url(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
