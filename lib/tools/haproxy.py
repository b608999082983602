"""The portal as a town deploys it: HTTPS with HTTP/2 in front, through Debian's HAProxy.

A portal where parents type passwords is served over HTTPS, and a phone on a mobile network then
gets HTTP/2: Streamlit's ~100 small modules travel on one connection instead of queueing six at a
time on HTTP/1.1 (Lighthouse's mobile profile: « Mes inscriptions » 6.4 s → 4.1 s to largest paint,
bench/LIGHTHOUSE.md). Uvicorn speaks HTTP/1.1 only, so TLS and HTTP/2 end in HAProxy, which
passes the websocket through and tells the server the request came over HTTPS
(`X-Forwarded-Proto`, so the session cookie is marked `Secure`).

    python -m lib.tools.haproxy --certificate /etc/haproxy/portail.pem --server 127.0.0.1:8501

prints the configuration for /etc/haproxy/haproxy.cfg (README, « Mise en production »). The tests
and `make lighthouse` run the same configuration on a self-signed certificate (`running`).
"""

from __future__ import annotations

import argparse
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lib.tools.processes import free_port, stop

# Debian installs HAProxy in /usr/sbin, which a user's PATH may not hold
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
OPENSSL = "openssl"


class ProxyUnavailable(RuntimeError):
    """HAProxy or openssl is not installed, or HAProxy did not start."""


# HAProxy's `option httplog` line, with the request line rebuilt from the method, the logged path
# (txn.logged_path) and the HTTP version.
LOG_FORMAT = (
    '"%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs '
    '\\"%HM %[var(txn.logged_path)] %HV\\""'
)


def config(*, listen: str, certificate: Path, servers: list[str], redirect_http: str | None = None) -> str:
    """HAProxy's configuration: HTTPS on `listen` (host:port) with HTTP/2 offered first, to the
    Streamlit server(s) `servers` (host:port). `redirect_http` (host:port): also answer plain HTTP
    there with a permanent redirect to HTTPS. Several servers are balanced by source address, so a
    browser's websocket and its HTTP requests reach the same process."""
    if not servers:
        raise ValueError("at least one server")
    lines = [
        "# Portail Famille behind HAProxy: written by `python -m lib.tools.haproxy`.",
        "global",
        "    # to the journal under systemd",
        "    log stdout format raw local0",
        "    ssl-default-bind-options ssl-min-ver TLSv1.2",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    # the websocket of a page left open on a phone",
        "    timeout tunnel 1h",
        "",
    ]
    if redirect_http:
        lines += [
            "frontend portail_http",
            f"    bind {redirect_http}",
            "    http-request redirect scheme https code 301",
            "",
        ]
    lines += [
        "frontend portail_https",
        f"    bind {listen} ssl crt {certificate} alpn h2,http/1.1",
        "    option forwardfor",
        "    http-request set-header X-Forwarded-Proto https",
        '    http-response set-header Strict-Transport-Security "max-age=31536000"',
        # The log's request is the path without its query string, and a calendar feed's path without
        # its token (lib/web/calendar_routes.py): the secret of a link must not end up in the journal.
        "    http-request set-var(txn.logged_path) path,regsub(^/calendrier/.*$,/calendrier/-)",
        f"    log-format {LOG_FORMAT}",
        "    default_backend portail",
        "",
        "backend portail",
        "    balance source",
        "    # our health route: not ok when the database cannot be read (/_stcore/health only says the server is up)",
        "    option httpchk GET /sante",
    ]
    lines += [f"    server portail{n} {server} check" for n, server in enumerate(servers, start=1)]
    return "\n".join(lines) + "\n"


# What the proxy itself answers, in French, when no replica can take a request (all restarting: 503,
# a replica gone mid-answer: 502) or one takes too long (504): the page tries again by itself.
def error_page(status: int, reason: str, text: str) -> str:
    return (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="10"><title>Portail Famille</title></head>'
        f"<body><h1>Portail Famille</h1><p>{text}</p></body></html>\n"
    )


RESTARTING = "Le portail redémarre : cette page se rechargera d'elle-même dans quelques secondes."
ERROR_PAGES = {
    502: error_page(502, "Bad Gateway", RESTARTING),
    503: error_page(503, "Service Unavailable", RESTARTING),
    504: error_page(
        504,
        "Gateway Timeout",
        "Le portail met trop de temps à répondre : cette page se rechargera d'elle-même dans quelques secondes.",
    ),
}
UNAVAILABLE_PAGE = ERROR_PAGES[503]


def cluster_config(*, listen: str, servers: list[tuple[str, str]], error_pages: dict[int, Path] | None = None) -> str:
    """HAProxy in front of several replicas (`servers`: (name, host:port)), plain HTTP on `listen`
    (host:port): `make cluster` and the failover test (in production, the HTTPS front above takes
    the same backend lines).

    Streamlit keeps a session in one process, so a browser stays on the replica that served its
    first page: HAProxy inserts a `SERVERID` cookie naming it, and the websocket that follows
    carries it. A replica is healthy while `/_stcore/health` answers (the database's own state is
    the page's to tell, in French: a PostgreSQL outage must not empty the backend). When a replica
    dies, its tunnels are cut at once (`on-marked-down shutdown-sessions`), requests meant for it go
    to another (`option redispatch`), whose cookie replaces the old one; the login cookie is checked
    against the database, so the other replica knows the family. `error_pages`: the proxy's own
    answers (status → file, see ERROR_PAGES), in French."""
    if not servers:
        raise ValueError("at least one server")
    lines = [
        "# Portail Famille: several replicas behind HAProxy, written by lib/tools/cluster.py.",
        "global",
        "    log stdout format raw local0",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option redispatch",
        "    retries 3",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout tunnel 1h",
        "",
        "frontend portail",
        f"    bind {listen}",
        "    option forwardfor",
        "    default_backend replicas",
        "",
        "backend replicas",
        "    balance roundrobin",
        "    cookie SERVERID insert indirect nocache httponly",
        "    option httpchk GET /_stcore/health",
        "    http-check expect string ok",
        "    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2 on-marked-down shutdown-sessions",
    ]
    lines += [f"    errorfile {status} {path}" for status, path in sorted((error_pages or {}).items())]
    lines += [f"    server {name} {address} check cookie {name}" for name, address in servers]
    return "\n".join(lines) + "\n"


def available() -> bool:
    return Path(HAPROXY).is_file() and shutil.which(OPENSSL) is not None


def self_signed(directory: Path, host: str = "127.0.0.1") -> Path:
    """A certificate and its key in one PEM file (HAProxy's `crt`), for tests and benches only."""
    key, cert, both = directory / "key.pem", directory / "cert.pem", directory / "portail.pem"
    san = f"IP:{host}" if host.replace(".", "").isdigit() else f"DNS:{host}"
    subprocess.run(
        [
            OPENSSL,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "7",
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName={san}",
        ],
        check=True,
        capture_output=True,
    )
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    both.chmod(0o600)
    return both


def _answers(base: str) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # our own self-signed certificate
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2, context=context) as answer:
            return answer.read().decode() == "ok"
    except OSError:
        return False


@contextmanager
def running(servers: list[str], *, listen: str | None = None, timeout_s: float = 30) -> Iterator[str]:
    """HAProxy on `listen` (host:port; default a free local port) with a self-signed certificate,
    in front of `servers`; yields its https:// base URL once the portal answers through it."""
    if not available():
        raise ProxyUnavailable("HAProxy et openssl sont nécessaires (paquets Debian haproxy et openssl).")
    with tempfile.TemporaryDirectory(prefix="portail-haproxy-") as folder:
        directory = Path(folder)
        listen = listen or f"127.0.0.1:{free_port()}"
        path = directory / "haproxy.cfg"
        path.write_text(config(listen=listen, certificate=self_signed(directory), servers=servers))
        log = directory / "haproxy.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([HAPROXY, "-f", str(path), "-db"], stdout=out, stderr=subprocess.STDOUT)
        base = f"https://{listen}"
        try:
            deadline = time.monotonic() + timeout_s
            while not _answers(base):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise ProxyUnavailable("HAProxy n'a pas démarré : " + log.read_text())
                time.sleep(0.2)
            yield base
        finally:
            stop(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Configuration HAProxy (HTTPS, HTTP/2) devant le portail.")
    parser.add_argument(
        "--certificate",
        type=Path,
        required=True,
        help="certificat et clé dans un seul fichier PEM (par exemple de certbot)",
    )
    parser.add_argument("--server", action="append", required=True, help="adresse du portail (hôte:port), répétable")
    parser.add_argument("--listen", default=":443", help="adresse HTTPS (défaut :443)")
    parser.add_argument("--redirect-http", default=":80", help="adresse HTTP redirigée vers HTTPS ('' : aucune)")
    args = parser.parse_args(argv)
    sys.stdout.write(
        config(
            listen=args.listen,
            certificate=args.certificate,
            servers=args.server,
            redirect_http=args.redirect_http or None,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
