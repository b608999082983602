"""What the HTTP layer needs from the town's settings to guard the process: the host names the
portal is reached by (a websocket from any other is refused) and where a page may post a form
(our own routes, and the payment provider's page)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import eopayment

from lib.payments.provider import ProviderConfig
from lib.services import payments
from lib.store import reference
from lib.store.db import Database

# The machine itself: the demo (`make run` listens on 127.0.0.1), the tests, a proxy on the same host.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# A provider whose form address eopayment does not publish (Paybox, Ogone, SIPS…): any HTTPS page.
ANY_HTTPS = "https:"


@dataclass(frozen=True)
class WebPolicy:
    hosts: frozenset[str]  # lower-case host names (no port) the browser may use
    form_origins: tuple[str, ...]  # besides our own origin, where a form may be posted


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL, else None (a relative path is ours)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def payment_form_origin(config: ProviderConfig, portal: str | None) -> str | None:
    """Where the departure page posts the signed form: the `service_url` option, else the
    backend's own default. A path is one of our routes (the test bank) at the portal's address
    `portal` (payments.portal_address; None: the page's own origin)."""
    url = config.options.get("service_url")
    if url is None:
        backend = eopayment.get_backends().get(config.backend)
        if backend is None:
            return None  # nothing can be paid: no form leaves
        url = next((p.get("default") for p in backend.description["parameters"] if p["name"] == "service_url"), None)
        if url is None:
            return ANY_HTTPS
    url = str(url)
    if url.startswith("/"):
        return origin_of(portal) if portal else None
    return origin_of(url) or ANY_HTTPS


def web_policy(db: Database, served_port: int | None = None) -> WebPolicy:
    """From one read of the settings: the portal's public address (`public_url`, else
    PORTAIL_PUBLIC_URL) names its public host; the payment settings the provider's page.
    `served_port`: the port this process serves on (the test bank's address without a public one)."""
    values = reference.settings(db)
    public = urlsplit(payments.public_address(values) or "").hostname
    hosts = LOOPBACK_HOSTS | ({public} if public else set())
    form = payment_form_origin(ProviderConfig.from_settings(values), payments.portal_address(values, served_port))
    return WebPolicy(frozenset(hosts), (form,) if form else ())
