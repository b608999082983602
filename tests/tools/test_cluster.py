"""`make cluster` (lib/tools/cluster.py): two replicas behind HAProxy on one PostgreSQL database,
seen over HTTP (the browser walk is tests/browser/test_failover.py).

A login cookie issued by one replica is accepted by the other (sessions live in the database);
HAProxy keeps a browser on its replica (SERVERID cookie) and sends it to the other one when its
replica dies, still logged in; with every replica down the proxy answers in French; a wrong
PORTAIL_DB or a PostgreSQL that does not answer stops `make cluster` with a French message.
Runs on PostgreSQL whatever the session's engine (a server of the module's own)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from lib.services import auth, setup
from lib.store.db import close_database, open_database
from lib.store.server import create_database, with_database
from lib.tools import cluster, haproxy, postgresql_local
from lib.tools.processes import free_port
from tests.conftest import DEMO_NOW
from tests.serve import ROOT

pytestmark = pytest.mark.slow
ADMIN, PASSWORD = "admin@ville.test", "un mot de passe assez long"


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    """A PostgreSQL server of the module's own: (directory, port, URL of a database with one account)."""
    if not haproxy.available():
        pytest.fail("HAProxy is needed (apt-get install haproxy; `make test` does it)")
    with tempfile.TemporaryDirectory(
        prefix="portail-pg-"
    ) as folder:  # not under pytest's root (tests/engines.py's local_server)
        directory = Path(folder)
        port = postgresql_local.free_port()
        # durable: a commit is on disk when acknowledged, so a login survives the outage test's stop
        url = with_database(postgresql_local.start(directory, port, durable=True), "ville")
        try:
            create_database(url)
            db = open_database(url)  # the schema
            setup.create_admin(db, ADMIN, "Service enfance", PASSWORD, DEMO_NOW)
            close_database(url)
            yield directory, port, url
        finally:
            postgresql_local.stop(directory, mode="immediate")


@pytest.fixture(scope="module")
def running(pg, tmp_path_factory):
    _directory, _port, url = pg
    with cluster.running_cluster(2, url, directory=tmp_path_factory.mktemp("cluster")) as running:
        yield running


def browser_like() -> requests.Session:
    """A client that, as a browser does, sends a GET again on a new connection when the proxy
    closed the kept-alive one (the replica behind it died)."""
    client = requests.Session()
    client.mount("http://", HTTPAdapter(max_retries=Retry(total=3, connect=3, read=3, allowed_methods={"GET"})))
    return client


def login(client: requests.Session, base: str) -> str:
    page = client.get(base + "/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    answer = client.post(
        base + "/auth/login", data={"email": ADMIN, "password": PASSWORD, "csrf": token}, allow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client.cookies[auth.SESSION_COOKIE]


def logged_in(base: str, token: str) -> bool:
    """The home page opens with the session cookie (a page without a valid one redirects to the login form)."""
    answer = requests.get(base + "/", cookies={auth.SESSION_COOKIE: token}, allow_redirects=False, timeout=60)
    assert answer.status_code in (200, 302), answer.text
    return answer.status_code == 200


def server_id(answer: requests.Response) -> str | None:
    found = re.search(r"SERVERID=(\w+)", answer.headers.get("set-cookie", ""))
    return found[1] if found else None


def test_the_configuration_is_valid_with_stickiness_health_checks_and_redispatch(tmp_path):
    pages = {}
    for status, page in haproxy.ERROR_PAGES.items():
        pages[status] = tmp_path / f"{status}.http"
        pages[status].write_text(page)
    text = haproxy.cluster_config(
        listen="127.0.0.1:8501",
        servers=[("portail1", "127.0.0.1:8601"), ("portail2", "127.0.0.1:8602")],
        error_pages=pages,
    )
    (tmp_path / "haproxy.cfg").write_text(text)
    check = subprocess.run([haproxy.HAPROXY, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "cookie SERVERID insert indirect nocache" in text
    assert "option httpchk GET /_stcore/health" in text and "option redispatch" in text
    assert "server portail1 127.0.0.1:8601 check cookie portail1" in text
    assert "timeout tunnel 1h" in text  # the websocket of a page left open


def test_a_login_cookie_issued_by_one_replica_is_accepted_by_the_other(running):
    first, second = running.replica_urls
    with requests.Session() as client:
        token = login(client, first)
    assert logged_in(second, token)
    assert not logged_in(second, "not-a-session")  # the check is real


def test_the_proxy_keeps_a_browser_on_its_replica_and_moves_it_when_that_one_dies(running):
    base = running.url
    with browser_like() as client:
        first = client.get(base + "/connexion")
        assert first.status_code == 200
        serving = server_id(first)
        assert serving in ("portail1", "portail2")
        token = login(client, base)
        assert client.cookies["SERVERID"] == serving
        home = client.get(base + "/", allow_redirects=False)
        assert home.status_code == 200 and server_id(home) is None  # stays where it is (no new cookie)
        running.kill_replica(serving)
        try:
            moved = client.get(base + "/", allow_redirects=False)
            assert moved.status_code == 200  # still logged in: no login form
            other = server_id(moved)
            assert other is not None and other != serving
            assert client.cookies[auth.SESSION_COOKIE] == token
        finally:
            running.restart_replica(serving)
    assert sorted(running.alive()) == ["portail1", "portail2"]


def test_with_every_replica_down_the_proxy_answers_in_french(running):
    for replica in running.replicas:
        running.kill_replica(replica.name)
    try:
        deadline = time.monotonic() + 30
        while True:
            answer = requests.get(running.url + "/connexion", timeout=30)
            if answer.status_code == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert answer.status_code == 503
        assert "Le portail redémarre" in answer.text and 'lang="fr"' in answer.text
    finally:
        for replica in running.replicas:
            running.restart_replica(replica.name)
    assert requests.get(running.url + "/connexion", timeout=30).status_code == 200


def _start(tmp_path: Path, db: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PORTAIL_DB=db, CLUSTER_PORT=str(free_port()))
    return subprocess.run(
        [sys.executable, "-m", "lib.tools.cluster", "start", "--dir", str(tmp_path / "etat")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "db",
    [
        "postgresql://portail@127.0.0.1:{closed}/portail",  # no server there
        "postgresql://portail@nulle-part.invalid/portail",  # a host that does not exist
    ],
)
def test_make_cluster_stops_in_french_when_postgresql_does_not_answer(tmp_path, db):
    done = _start(tmp_path, db.format(closed=free_port()))
    assert done.returncode == 1
    assert "Groupe de serveurs non démarré : Le serveur PostgreSQL" in done.stderr
    assert "Vérifiez qu'il est démarré et que l'adresse PORTAIL_DB est juste" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "etat" / "state.json").exists()  # nothing left running


def test_make_cluster_stops_in_french_on_a_database_that_does_not_exist(pg, tmp_path):
    _directory, _port, url = pg
    done = _start(tmp_path, with_database(url, "pas_de_ville"))
    assert done.returncode == 1
    assert "Groupe de serveurs non démarré" in done.stderr and "pas_de_ville" in done.stderr
    assert "Traceback" not in done.stderr


def test_postgresql_down_mid_run_is_said_in_french_and_the_portal_comes_back(pg, running):
    """PostgreSQL stops while the replicas run: the pages say so in French (no traceback, no
    English), the replicas stay up (HAProxy keeps them: their health is Streamlit's), and once
    the server is back the same session works again without a new login."""
    directory, port, _url = pg
    base = running.url
    with browser_like() as client:
        token = login(client, base)
        postgresql_local.stop(directory, mode="immediate")
        try:
            down = client.get(base + "/", allow_redirects=False, timeout=120)
            # The portal's own 503 once its pool gives up waiting for a connection; if that takes
            # longer than HAProxy's `timeout server`, the proxy's French 504.
            if down.status_code == 503:
                assert down.text.startswith("Le portail ne peut pas joindre sa base de données pour le moment")
            else:
                assert down.status_code == 504 and "Le portail met trop de temps à répondre" in down.text
            assert "postgresql://" not in down.text  # the server's address is not the family's business
            assert client.cookies[auth.SESSION_COOKIE] == token  # not logged out by the outage
            assert sorted(running.alive()) == ["portail1", "portail2"]
        finally:
            postgresql_local.start(directory, port, durable=True)
        deadline = time.monotonic() + 60
        while True:
            back = client.get(base + "/", allow_redirects=False, timeout=120)
            if back.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert back.status_code == 200  # the same session, no login form
        assert client.cookies[auth.SESSION_COOKIE] == token
