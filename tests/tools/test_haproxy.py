"""The HAProxy configuration a town deploys in front of the portal (lib/tools/haproxy.py); the
browser walk through it is tests/browser/test_https.py."""

from __future__ import annotations

import subprocess

import pytest

from lib.tools import haproxy


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


def test_the_log_names_the_path_but_never_a_links_secret(tmp_path):
    """A link sent by e-mail carries its secret in the query string (?jeton=…): HAProxy logs each
    request's method and path only."""
    import ssl
    import threading
    import time
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from lib.tools.processes import free_port, stop

    class Portal(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args):
            pass

    backend = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    listen = f"127.0.0.1:{free_port()}"
    config = haproxy.config(
        listen=listen, certificate=haproxy.self_signed(tmp_path), servers=[f"127.0.0.1:{backend.server_port}"]
    )
    (tmp_path / "haproxy.cfg").write_text(config)
    log = tmp_path / "haproxy.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([haproxy.HAPROXY, "-f", str(tmp_path / "haproxy.cfg"), "-db"], stdout=out, stderr=out)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(
                    f"https://{listen}/auth/reinitialiser?jeton=SECRET-du-lien", timeout=2, context=context
                ) as answer:
                    assert answer.read() == b"ok"
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        time.sleep(0.5)
    finally:
        stop(proc)
        backend.shutdown()
    written = log.read_text()
    assert '"GET /auth/reinitialiser HTTP/1.1"' in written and "SECRET" not in written
