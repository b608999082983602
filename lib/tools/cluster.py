"""Several replicas of the portal behind HAProxy, on one PostgreSQL database: `make cluster`.

    python -m lib.tools.cluster start    # REPLICAS (2), CLUSTER_PORT (8501), PORTAIL_DB, PG_PORT
    python -m lib.tools.cluster stop

`start` uses PORTAIL_DB when it is a `postgresql://…` URL, else starts a PostgreSQL server of its
own in `.cluster/pg` (lib/tools/postgresql_local.py, durable: fsync on) and its database
`portail`; builds the demo town there when the database holds none; starts REPLICAS
`streamlit run server.py` processes on free local ports and HAProxy in front on CLUSTER_PORT
(lib/tools/haproxy.py `cluster_config`: cookie stickiness, WebSocket, health checks on
/_stcore/health, redispatch when a replica dies). Everything runs in the background, its logs and
process ids in `.cluster/`; `stop` ends what `start` started (the local PostgreSQL included).

The tests and the load bench use `running_cluster(...)`, the same processes for a `with` block.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg

from lib.domain.errors import DatabaseUnavailable, PortailError
from lib.store.db import is_url
from lib.store.postgres import shown
from lib.store.server import create_database, database_exists, database_name, with_database
from lib.tools import haproxy, postgresql_local
from lib.tools.processes import free_port, server_command, stop

ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = ROOT / ".cluster"
DEFAULT_PORT = 8501
DEFAULT_REPLICAS = 2
DEFAULT_PG_PORT = 55432
DATABASE = "portail"
START_TIMEOUT_S = 180.0
# START_ONE_BY_ONE: each server, as it opens the database, applies the PostgreSQL compatibility
# definitions and any pending migration (lib/store/migrate.py); two doing it at the same moment
# collide ("tuple concurrently updated") and the loser stops. So the replicas start one after
# another, each once the previous one answers.


class ClusterError(PortailError):
    """The cluster could not start (the message says why, in French)."""


@dataclass
class Replica:
    name: str  # HAProxy's server name, also the SERVERID cookie's value
    port: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    """A running cluster: `url` is HAProxy's public address, `replica_urls` each replica's own."""

    url: str
    db_url: str
    directory: Path
    replicas: list[Replica]
    env: dict[str, str] = field(default_factory=dict)
    proxy: subprocess.Popen | None = None

    @property
    def replica_urls(self) -> list[str]:
        return [r.url for r in self.replicas]

    def replica(self, name_or_index: str | int) -> Replica:
        """A replica by its name (the SERVERID cookie's value) or its index."""
        if isinstance(name_or_index, int):
            return self.replicas[name_or_index]
        for replica in self.replicas:
            if replica.name == name_or_index:
                return replica
        raise KeyError(name_or_index)

    def kill_replica(self, name_or_index: str | int = 0) -> Replica:
        """kill -9 one replica (a crash, not a shutdown); returns it."""
        replica = self.replica(name_or_index)
        if replica.proc is not None and replica.proc.poll() is None:
            replica.proc.send_signal(signal.SIGKILL)
            replica.proc.wait()
        return replica

    def restart_replica(self, name_or_index: str | int, timeout_s: float = START_TIMEOUT_S) -> Replica:
        """Start a killed replica again on its port, once it answers."""
        replica = self.replica(name_or_index)
        if replica.proc is None or replica.proc.poll() is not None:
            replica.proc = _start_replica(replica, self.env)
            _wait_healthy([replica], timeout_s)
        return replica

    def alive(self) -> list[str]:
        return [r.name for r in self.replicas if r.proc is not None and r.proc.poll() is None]


# --- the pieces --------------------------------------------------------------------------------


def local_postgresql(directory: Path, port: int, *, durable: bool = True) -> str:
    """A PostgreSQL server of our own in `directory` (started if needed) and its database
    `portail` (created if missing): the database's URL."""
    server = postgresql_local.start(directory, port, durable=durable)
    postgresql_local.wait_ready(port)
    url = with_database(server, DATABASE)
    if not database_exists(url):
        create_database(url)
    return url


def build_demo_if_empty(db_url: str, env: dict[str, str], today: date | None = None) -> str:
    """`python -m lib.tools.demo --if-missing` on the database: its output (French)."""
    command = [sys.executable, "-m", "lib.tools.demo", "--if-missing", "--path", db_url]
    if today is not None:
        command += ["--today", today.isoformat()]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise ClusterError(
            "La ville de démonstration n'a pas pu être construite dans "
            f"« {shown(db_url)} » :\n{_tail(done.stderr or done.stdout)}"
        )
    return done.stdout.strip()


def _tail(text: str, count: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-count:])


def replica_env(
    db_url: str, public_url: str, cookie_secret: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment every replica shares: the database, the public address (HAProxy's), HAProxy
    trusted for X-Forwarded-For (the login throttle counts the family's address, not the proxy's),
    and one Streamlit cookie secret (its XSRF token stays valid on another replica)."""
    env = dict(os.environ)
    env.update(
        {
            "PORTAIL_DB": db_url,
            "PORTAIL_PUBLIC_URL": public_url,
            "PORTAIL_TRUSTED_PROXIES": "127.0.0.1",
            "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret,
        }
    )
    env.update(extra or {})
    return env


def _start_replica(replica: Replica, env: dict[str, str], *, detach: bool = False) -> subprocess.Popen:
    with open(replica.log, "a") as out:
        return subprocess.Popen(
            server_command(replica.port),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=detach,
        )


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
            return answer.read().decode() == "ok"
    except OSError:
        return False


def _last_lines(path: Path, count: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-count:])
    except OSError:
        return ""


def _wait_healthy(replicas: list[Replica], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    waiting = list(replicas)
    while waiting:
        for replica in list(waiting):
            if replica.proc is not None and replica.proc.poll() is not None:
                raise ClusterError(
                    f"Le serveur {replica.name} (port {replica.port}) s'est arrêté au démarrage :\n"
                    + _last_lines(replica.log)
                )
            if healthy(replica.url):
                waiting.remove(replica)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(r.name for r in waiting)
            raise ClusterError(f"Le ou les serveurs {names} ne répondent pas après {timeout_s:.0f} s.")
        if waiting:
            time.sleep(0.3)


def _start_proxy(directory: Path, listen: str, replicas: list[Replica], *, detach: bool = False) -> subprocess.Popen:
    if not Path(haproxy.HAPROXY).is_file():
        raise ClusterError(
            "HAProxy n'est pas installé : installez le paquet Debian « haproxy » (make system-packages)."
        )
    pages = {}
    for status, text in haproxy.ERROR_PAGES.items():
        pages[status] = directory / f"{status}.http"
        pages[status].write_text(text)
    config = directory / "haproxy.cfg"
    config.write_text(
        haproxy.cluster_config(
            listen=listen, servers=[(r.name, f"127.0.0.1:{r.port}") for r in replicas], error_pages=pages
        )
    )
    check = subprocess.run([haproxy.HAPROXY, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
    if check.returncode != 0:
        raise ClusterError("Configuration HAProxy refusée : " + (check.stderr or check.stdout).strip())
    with open(directory / "haproxy.log", "a") as out:
        return subprocess.Popen(
            [haproxy.HAPROXY, "-f", str(config), "-db"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=detach,
        )


def _wait_proxy(proc: subprocess.Popen, url: str, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise ClusterError("HAProxy n'a pas démarré : " + _last_lines(log))
        time.sleep(0.2)


def _check_database(db_url: str) -> None:
    """A clear French refusal now for a URL that is not PostgreSQL's, malformed, names a server
    that does not answer or a database that does not exist."""
    if not db_url.startswith(("postgresql://", "postgres://")):
        raise ClusterError(
            f"PORTAIL_DB doit être une adresse postgresql://… pour plusieurs serveurs (reçu : « {shown(db_url)} »)."
        )
    try:
        exists = database_exists(db_url)
    except DatabaseUnavailable as exc:
        raise ClusterError(exc.message) from exc
    except psycopg.Error as exc:  # a URL psycopg cannot read (a port that is not a number…)
        raise ClusterError(
            f"L'adresse PORTAIL_DB « {shown(db_url)} » n'est pas valide ({str(exc).strip()}). "
            "Elle s'écrit postgresql://utilisateur@hôte:port/base."
        ) from exc
    if not exists:
        raise ClusterError(
            f"La base « {database_name(db_url)} » n'existe pas sur le serveur de « {shown(db_url)} » : "
            f"créez-la (createdb {database_name(db_url)}) ou corrigez PORTAIL_DB."
        )


# --- for the tests and the benches -------------------------------------------------------------


@contextmanager
def running_cluster(
    replicas: int = DEFAULT_REPLICAS,
    db_url: str | None = None,
    port: int | None = None,
    *,
    directory: Path | None = None,
    env: dict[str, str] | None = None,
    today: date | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> Iterator[Cluster]:
    """`replicas` servers behind HAProxy on 127.0.0.1:`port` (default a free port) for the block.
    Without `db_url`, a PostgreSQL server of its own in the directory (durable), stopped after;
    the demo town is built in the database when it holds none (`today`: its date). `env`: more
    settings for the replicas (PORTAIL_FROZEN_NOW…)."""
    if replicas < 1:
        raise ValueError("at least one replica")
    with ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="portail-cluster-")))
        directory.mkdir(parents=True, exist_ok=True)
        if db_url is None:
            # a folder of its own: the server's account must reach it (not under pytest's private root)
            pg_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="portail-pg-")))
            db_url = local_postgresql(pg_dir, free_port())
            stack.callback(postgresql_local.stop, pg_dir)
        _check_database(db_url)
        public = f"http://127.0.0.1:{port or free_port()}"
        shared = replica_env(db_url, public, secrets.token_hex(32), env)
        build_demo_if_empty(db_url, shared, today)
        cluster = Cluster(
            url=public,
            db_url=db_url,
            directory=directory,
            replicas=[
                Replica(f"portail{n}", free_port(), directory / f"portail{n}.log") for n in range(1, replicas + 1)
            ],
            env=shared,
        )

        def stop_all() -> None:
            if cluster.proxy is not None:
                stop(cluster.proxy)
            for replica in cluster.replicas:
                if replica.proc is not None:
                    stop(replica.proc)

        stack.callback(stop_all)
        for replica in cluster.replicas:  # one after another: see START_ONE_BY_ONE
            replica.proc = _start_replica(replica, shared)
            _wait_healthy([replica], timeout_s)
        cluster.proxy = _start_proxy(directory, public.removeprefix("http://"), cluster.replicas)
        _wait_proxy(cluster.proxy, public, directory / "haproxy.log", timeout_s)
        yield cluster


# --- make cluster / make cluster-stop ----------------------------------------------------------


def _state_file(state_dir: Path) -> Path:
    return state_dir / "state.json"


def _ours(pid: int, word: str) -> bool:
    """The process `pid` still runs and is the one we started (its command line names `word`)."""
    try:
        return word in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def _end(pid: int, word: str, timeout_s: float = 20) -> None:
    if not _ours(pid, word):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _ours(pid, word) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _ours(pid, word):
        os.kill(pid, signal.SIGKILL)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HAProxy binds: a closed port's TIME_WAIT is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(state_dir: Path, *, replicas: int, port: int, pg_port: int, db_url: str | None) -> Cluster:
    """Start the cluster in the background; what `stop` needs is written in `state_dir`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    if _state_file(state_dir).exists():
        raise ClusterError(f"Un groupe de serveurs tourne déjà ({state_dir}) : arrêtez-le d'abord (make cluster-stop).")
    if not _port_free(port):
        raise ClusterError(f"Le port {port} est déjà servi : choisissez-en un autre (CLUSTER_PORT=…).")
    own_pg = db_url is None
    if db_url is None:
        db_url = local_postgresql(state_dir / "pg", pg_port)
    state: dict = {"pg_dir": str(state_dir / "pg") if own_pg else None, "db_url": shown(db_url), "pids": []}
    try:
        _check_database(db_url)
        public = f"http://127.0.0.1:{port}"
        shared = replica_env(db_url, public, secrets.token_hex(32))
        print(build_demo_if_empty(db_url, shared), flush=True)
        cluster = Cluster(
            url=public,
            db_url=db_url,
            directory=state_dir,
            replicas=[
                Replica(f"portail{n}", free_port(), state_dir / f"portail{n}.log") for n in range(1, replicas + 1)
            ],
            env=shared,
        )
        for replica in cluster.replicas:  # one after another: see START_ONE_BY_ONE
            replica.proc = _start_replica(replica, shared, detach=True)
            state["pids"].append([replica.proc.pid, "streamlit"])
            _state_file(state_dir).write_text(json.dumps(state))
            _wait_healthy([replica], START_TIMEOUT_S)
        cluster.proxy = _start_proxy(state_dir, f"127.0.0.1:{port}", cluster.replicas, detach=True)
        state["pids"].append([cluster.proxy.pid, "haproxy"])
        state["url"] = public
        _state_file(state_dir).write_text(json.dumps(state))
        _wait_proxy(cluster.proxy, public, state_dir / "haproxy.log", 30)
    except BaseException:
        _stop_state(state)
        _state_file(state_dir).unlink(missing_ok=True)
        raise
    return cluster


def _stop_state(state: dict) -> None:
    for pid, word in reversed(state.get("pids", [])):
        _end(pid, word)
    if state.get("pg_dir"):
        postgresql_local.stop(Path(state["pg_dir"]))


def stop_cluster(state_dir: Path) -> bool:
    """End what `start` started; False when nothing was running."""
    path = _state_file(state_dir)
    if not path.exists():
        return False
    _stop_state(json.loads(path.read_text()))
    path.unlink()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Plusieurs serveurs du portail derrière HAProxy, sur PostgreSQL.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("REPLICAS") or DEFAULT_REPLICAS))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT") or DEFAULT_PORT))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("PG_PORT") or DEFAULT_PG_PORT))
    parser.add_argument("--dir", type=Path, default=STATE_DIR, help="dossier des journaux et de PostgreSQL")
    args = parser.parse_args(argv)
    if args.action == "stop":
        print("Groupe de serveurs arrêté." if stop_cluster(args.dir) else "Aucun groupe de serveurs en marche.")
        return 0
    raw = os.environ.get("PORTAIL_DB", "")
    db_url = raw if is_url(raw) else None
    if args.replicas < 1:
        print("REPLICAS doit valoir au moins 1.", file=sys.stderr)
        return 2
    try:
        cluster = start(args.dir, replicas=args.replicas, port=args.port, pg_port=args.pg_port, db_url=db_url)
    except (PortailError, subprocess.CalledProcessError, OSError) as exc:
        message = exc.message if isinstance(exc, PortailError) else str(exc)
        print(f"Groupe de serveurs non démarré : {message}", file=sys.stderr)
        return 1
    print(
        f"Portail Famille : {cluster.url} ({len(cluster.replicas)} serveurs derrière HAProxy, "
        f"base {shown(cluster.db_url)}).\n"
        f"Journaux dans {args.dir}/. Pour arrêter : make cluster-stop"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
