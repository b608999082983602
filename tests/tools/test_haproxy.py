"""The HAProxy configuration a town deploys in front of the portal (lib/tools/haproxy.py); the
browser walk through it is tests/browser/test_https.py."""

from __future__ import annotations

import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from lib.tools import haproxy
from lib.tools.processes import free_port, stop


def test_the_printed_configuration_is_valid_and_sends_plain_http_to_https(tmp_path, capsys):
    """What `python -m lib.tools.haproxy` prints for /etc/haproxy is accepted by HAProxy (`haproxy -c`):
    HTTPS with HTTP/2 offered, the scheme passed on (the session cookie is then `Secure`), port 80
    answered with a permanent redirect to HTTPS, and every server listed."""
    if not haproxy.available():
        pytest.fail("HAProxy and openssl are needed (apt-get install haproxy openssl; `make test` does it)")
    certificate = haproxy.self_signed(tmp_path)
    assert (
        haproxy.main(
            [
                "--certificate",
                str(certificate),
                "--server",
                "127.0.0.1:8501",
                "--server",
                "127.0.0.1:8502",
                "--listen",
                "127.0.0.1:8443",
                "--redirect-http",
                "127.0.0.1:8080",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    (tmp_path / "haproxy.cfg").write_text(text)
    check = subprocess.run([haproxy.HAPROXY, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "bind 127.0.0.1:8443 ssl crt" in text and "alpn h2,http/1.1" in text
    assert "http-request set-header X-Forwarded-Proto https" in text
    assert "option httpchk GET /sante" in text  # the route that says not ok when the database cannot be read
    assert "bind 127.0.0.1:8080\n    http-request redirect scheme https code 301" in text
    assert "server portail1 127.0.0.1:8501 check" in text and "server portail2 127.0.0.1:8502 check" in text
    assert oct(certificate.stat().st_mode & 0o777) == "0o600"  # the private key is in it


def test_without_a_redirect_only_https_is_served(tmp_path):
    text = haproxy.config(listen=":443", certificate=tmp_path / "portail.pem", servers=["127.0.0.1:8501"])
    assert "frontend portail_http\n" not in text and "frontend portail_https" in text


def test_a_proxy_needs_a_server(tmp_path):
    with pytest.raises(ValueError):
        haproxy.config(listen=":443", certificate=tmp_path / "portail.pem", servers=[])


def test_the_proxys_log_keeps_no_calendar_token_and_no_query_string(tmp_path):
    """HAProxy's journal (`log stdout`): the request's path, without its query string (a payment
    link's code, an e-mailed link's secret) and without a calendar feed's token (lib/web/calendar_routes.py). No portal is
    needed behind: the proxy logs its own 503 the same way."""
    if not haproxy.available():
        pytest.fail("HAProxy and openssl are needed (apt-get install haproxy openssl; `make test` does it)")
    listen = f"127.0.0.1:{free_port()}"
    (tmp_path / "haproxy.cfg").write_text(
        haproxy.config(listen=listen, certificate=haproxy.self_signed(tmp_path), servers=[f"127.0.0.1:{free_port()}"])
    )
    log = tmp_path / "haproxy.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [haproxy.HAPROXY, "-f", str(tmp_path / "haproxy.cfg"), "-db"], stdout=out, stderr=subprocess.STDOUT
        )
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    secret = "S3cr3t-jeton_du-calendrier"
    try:
        for path in (
            f"/calendrier/{secret}.ics",
            "/paiement/depart?facture=1&code=c0de5ecret",
            "/auth/reinitialiser?jeton=SECRET-du-lien",
        ):
            deadline = time.monotonic() + 10
            while True:
                try:
                    urllib.request.urlopen(f"https://{listen}{path}", timeout=5, context=context)
                except urllib.error.HTTPError:
                    break  # 503: no portal behind, the line is logged all the same
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        deadline = time.monotonic() + 10
        while log.read_text().count('"GET ') < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop(proc)
    text = log.read_text()
    assert '"GET /calendrier/- HTTP/1.1"' in text and '"GET /paiement/depart HTTP/1.1"' in text, text
    assert '"GET /auth/reinitialiser HTTP/1.1"' in text
    assert secret not in text and "c0de5ecret" not in text and "SECRET-du-lien" not in text
