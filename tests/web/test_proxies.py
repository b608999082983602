"""X-Forwarded-For / -Proto are believed only from the proxies of PORTAIL_TRUSTED_PROXIES, in the
uvicorn that `streamlit run server.py` starts (its own default believes any local peer)."""

import pytest
import uvicorn.config

from lib.domain.errors import InvalidInput
from lib.web import proxies
from tests.conftest import run_coroutine

FORGED = [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-proto", b"https")]


@pytest.mark.parametrize(
    "raw, networks",
    [
        ("", []),
        (" , ", []),
        ("127.0.0.1", ["127.0.0.1/32"]),
        ("127.0.0.1, 10.0.0.0/8", ["127.0.0.1/32", "10.0.0.0/8"]),
        ("::1", ["::1/128"]),
        ("192.168.1.7/24", ["192.168.1.0/24"]),
    ],
)
def test_the_setting_lists_addresses_and_networks(raw, networks):
    assert proxies.trusted_proxies(raw) == networks


@pytest.mark.parametrize("raw", ["proxy.example", "127.0.0.1;10.0.0.1", "300.1.1.1"])
def test_a_wrong_setting_stops_the_start_in_french(raw):
    with pytest.raises(InvalidInput, match=r"PORTAIL_TRUSTED_PROXIES : .* n'est ni une adresse IP ni un réseau"):
        proxies.trusted_proxies(raw)


def test_by_default_nobody_is_trusted(monkeypatch):
    monkeypatch.delenv(proxies.TRUSTED_PROXIES, raising=False)
    assert proxies.trusted_proxies() == []


def seen_by_the_app(trusted: list[str], peer: str, monkeypatch) -> tuple[str, str]:
    """(client address, scheme) that our app sees for a request from `peer` carrying forged
    forwarding headers, through uvicorn's own loading of the app as `streamlit run` does it."""
    monkeypatch.setattr(uvicorn.config, "ProxyHeadersMiddleware", uvicorn.config.ProxyHeadersMiddleware)  # restored
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)  # uvicorn's default: believe 127.0.0.1 and ::1
    seen = {}

    async def app(scope, receive, send):
        seen["client"], seen["scheme"] = scope["client"][0], scope["scheme"]

    config = uvicorn.config.Config(app, log_config=None)
    proxies.follow_in_uvicorn(trusted)  # what server.py does while uvicorn imports it
    config.load()
    scope = {"type": "http", "scheme": "http", "client": (peer, 50000), "headers": FORGED, "path": "/"}
    run_coroutine(config.loaded_app(scope, None, None))
    return seen["client"], seen["scheme"]


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_is_ignored(monkeypatch):
    assert seen_by_the_app([], "127.0.0.1", monkeypatch) == ("127.0.0.1", "http")
    assert seen_by_the_app(["127.0.0.1/32"], "192.0.2.9", monkeypatch) == ("192.0.2.9", "http")


def test_a_listed_proxy_is_believed(monkeypatch):
    assert seen_by_the_app(["127.0.0.1/32"], "127.0.0.1", monkeypatch) == ("6.6.6.6", "https")
    assert seen_by_the_app(["10.0.0.0/8"], "10.1.2.3", monkeypatch) == ("6.6.6.6", "https")
