"""Which peers may tell us the client's address and scheme (X-Forwarded-For / -Proto).

The login throttle counts per client address, and the session cookie is `Secure` when the request
came over HTTPS: a header any client can write must not decide either. Only the reverse proxies a
town lists in `PORTAIL_TRUSTED_PROXIES` (comma-separated addresses or networks, e.g.
`127.0.0.1` for HAProxy on the same machine) are believed; by default nobody is.

`streamlit run server.py` serves the app with uvicorn, whose own ProxyHeadersMiddleware rewrites
the client and the scheme from those headers for the peers in its `forwarded_allow_ips` — by
default 127.0.0.1 and ::1, and Streamlit gives no way to pass another list. `follow_in_uvicorn`
makes uvicorn use ours: one setting, one rule, for Streamlit's requests and ours alike.
"""

from __future__ import annotations

import ipaddress
import os

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from lib.domain.errors import InvalidInput

TRUSTED_PROXIES = "PORTAIL_TRUSTED_PROXIES"


def trusted_proxies(raw: str | None = None) -> list[str]:
    """The trusted proxies' networks as uvicorn reads them (`raw`: the setting, else the variable).
    InvalidInput in French for an entry that is not an address or a network."""
    text = os.environ.get(TRUSTED_PROXIES, "") if raw is None else raw
    found = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise InvalidInput(
                f"{TRUSTED_PROXIES} : « {item[:60]} » n'est ni une adresse IP ni un réseau "
                "(exemple : 127.0.0.1,10.0.0.0/8)."
            ) from None
    return found


def proxy_headers(app, trusted: list[str]) -> ProxyHeadersMiddleware:
    """`app` behind uvicorn's proxy-header handling, believing only `trusted` peers. Built with a
    list even when empty: an empty string would be read by uvicorn as one (odd) host name."""
    return ProxyHeadersMiddleware(app, trusted_hosts=list(trusted))


def follow_in_uvicorn(trusted: list[str]) -> None:
    """Make the running uvicorn believe only `trusted`. uvicorn imports this app (server.py) and only
    then wraps it in ProxyHeadersMiddleware, looking the class up in `uvicorn.config` at that
    moment: replacing it there, while server.py is being imported, decides the list it gets."""
    import uvicorn.config

    # uvicorn gives no hook for this: its class is replaced by a factory with the same call.
    uvicorn.config.ProxyHeadersMiddleware = lambda app, trusted_hosts=None: proxy_headers(app, trusted)  # type: ignore[misc,assignment]
