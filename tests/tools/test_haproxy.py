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
