"""The process's HTTP surface, Streamlit's answers and ours alike.

`SecurityHeaders` (outermost on the `st.App`) gives every answer what Django's security
middleware and OWASP's secure-headers project give theirs:

- a Content-Security-Policy: pages may be framed only by our own pages (`frame-ancestors 'self'`:
  another site, or another page of the same site, cannot frame « Mes factures » and its « Payer »
  under a decoy), scripts come only from our origin or are one of the few inline scripts we write
  ourselves (allowed by their SHA-256, so an injected `<script>` does not run), forms go only to
  our routes and to the payment provider's page. Streamlit's frontend needs `'unsafe-inline'`
  styles (emotion writes `<style>` elements at run time), `data:`/`blob:` images, `data:` fonts,
  its websocket (`connect-src 'self'`), the calendar component's frame, served from our origin,
  and `'wasm-unsafe-eval'` (its protobuf library compiles a small WebAssembly helper; JavaScript
  from a string stays refused);
- `X-Frame-Options: SAMEORIGIN` for browsers that predate `frame-ancestors`;
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (addresses such as
  `/paiement/depart?facture=…&code=…` never leave in a Referer), `Cross-Origin-Opener-Policy:
  same-origin`;
- no `server` banner (`hide_server_banner`: uvicorn adds `server: uvicorn` after every middleware).

`StreamlitDoors` closes what Streamlit leaves open by default:

- its websocket accepts any origin whose host is localhost or one of the machine's addresses (any
  port: another local application's page could drive a session), and any Host (DNS rebinding):
  here the Host must be one the portal is reached by (the machine itself, or the host of its
  public address: `public_url`, else PORTAIL_PUBLIC_URL) and a browser's Origin must be the page's own;
- `/media/…` (the files behind `st.download_button`, an invoice's PDF) answers anyone who has the
  URL until Streamlit forgets the file, minutes after logout: here it needs a valid session;
- `/_stcore/metrics` is public: here it is for the administrator only.

HSTS is the TLS proxy's (`lib/tools/haproxy.py`): the server itself speaks plain HTTP behind it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re

from anyio import to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lib.domain.errors import DatabaseUnavailable, PortailError
from lib.domain.roles import Role
from lib.services import auth
from lib.services.config import database
from lib.services.web_policy import WebPolicy, web_policy
from lib.web import document, login_page, pages, routes, streamlit_files

MEDIA_PREFIX = "/media/"
METRICS_PATH = "/_stcore/metrics"
STREAM_PATH = "/_stcore/stream"
POLICY_VIOLATION = 1008  # websocket close code; before the handshake, uvicorn answers 403

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def inline_scripts(html: str) -> list[str]:
    """The bodies of the inline `<script>` elements of a document, as the browser hashes them."""
    return _INLINE_SCRIPT.findall(html)


@functools.cache
def script_hashes() -> tuple[str, ...]:
    """CSP sources for the inline scripts we serve: Streamlit's shell's own, the script
    `document` adds to it, the login page's prefetch and the payment page's auto-submit. Taken
    from the templates themselves (never from an answer on its way out, which could carry an
    injected script), so a change to one of them follows here."""
    bodies = inline_scripts(document.app_script()) + inline_scripts(pages.redirect_form("", [], "", "")[0])
    bodies += inline_scripts(login_page.render(town="", contact_email="", csrf_token=""))
    shell = streamlit_files.index_html()
    if shell is not None and shell.is_file():
        bodies += inline_scripts(shell.read_text(encoding="utf-8"))
    digests = {base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode() for body in bodies}
    return tuple(f"'sha256-{digest}'" for digest in sorted(digests))


def content_security_policy(form_origins: tuple[str, ...] = ()) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(("'self'", "'wasm-unsafe-eval'", *script_hashes())),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": " ".join(("'self'", *form_origins)),
        "frame-ancestors": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


FIXED_HEADERS = {
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def current_policy(served_port: int | None) -> WebPolicy:
    return web_policy(database(), served_port)


def _served_port(scope: Scope) -> int | None:
    """The port this process serves on: the socket's (None on a Unix socket), never the Host header."""
    return (scope.get("server") or (None, None))[1]


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP answer, the `server` header removed. The
    form targets (the payment provider's page) are read from the settings for documents only:
    a script or an image posts no form."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                form_origins: tuple[str, ...] = ()
                if headers.get("content-type", "").startswith("text/html"):
                    form_origins = await self._form_origins(_served_port(scope))
                secure(headers, form_origins)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _form_origins(self, served_port: int | None) -> tuple[str, ...]:
        try:
            return (await to_thread.run_sync(current_policy, served_port)).form_origins
        except PortailError:  # the database is unavailable: the page says so, and posts no form elsewhere
            return ()


def secure(headers: MutableHeaders, form_origins: tuple[str, ...] = ()) -> None:
    """The security headers on one answer (an answer's own choice of one of them stands)."""
    del headers["server"]
    headers.setdefault("content-security-policy", content_security_policy(form_origins))
    for name, value in FIXED_HEADERS.items():
        headers.setdefault(name, value)


DATABASE_DOWN = (
    "Le portail ne peut pas joindre sa base de données pour le moment : réessayez dans quelques minutes. "
    "Vos réservations déjà enregistrées sont conservées."
)


async def server_error(_request: Request, exc: Exception) -> Response:
    """Starlette's last resort for an exception no route caught (it is still logged): that answer
    leaves outside every middleware, so it is secured here. The database out of reach (PostgreSQL
    stopped or restarting) is a 503 that says so, without the server's address."""
    if isinstance(exc, DatabaseUnavailable):
        response = PlainTextResponse(
            DATABASE_DOWN, status_code=503, headers={"Cache-Control": "no-store", "Retry-After": "30"}
        )
        secure(response.headers)
        return response
    response = PlainTextResponse(
        "Erreur interne du portail : réessayez dans un instant.", status_code=500, headers={"Cache-Control": "no-store"}
    )
    secure(response.headers)
    return response


class StreamlitDoors:
    """ASGI middleware: Streamlit's websocket, media files and metrics, as described above."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "websocket" and path == STREAM_PATH:
            policy = await to_thread.run_sync(current_policy, _served_port(scope))
            if not websocket_allowed(Headers(scope=scope), policy):
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
                return
        elif scope["type"] == "http" and path.startswith(MEDIA_PREFIX):
            role = await _session_role(scope)
            if role is None:
                await _refuse(
                    scope,
                    receive,
                    send,
                    403,
                    "Ce fichier n'est plus disponible : reconnectez-vous, puis "
                    "téléchargez-le à nouveau depuis le portail.",
                )
                return
            await self.app(scope, receive, _private(send))
            return
        elif scope["type"] == "http" and path == METRICS_PATH and await _session_role(scope) is not Role.ADMIN:
            await _refuse(scope, receive, send, 404, "Page introuvable.")
            return
        await self.app(scope, receive, send)


def _host_name(host: str) -> str | None:
    """The host name of a Host header or an Origin's netloc, lower-case, without port or brackets."""
    match = re.fullmatch(r"(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]/@\s]+))(?::\d{1,5})?", host.strip())
    if match is None:
        return None
    return (match[1] or match[2]).lower().rstrip(".")


def websocket_allowed(headers: Headers, policy: WebPolicy) -> bool:
    """The Host is one the portal is reached by, and a browser's Origin is that same host and
    port (a browser always sends Origin on a websocket; a client that sends none is not a page
    another site could use)."""
    host = headers.get("host", "")
    if _host_name(host) not in policy.hosts:
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    scheme, _, netloc = origin.partition("://")
    return scheme in ("http", "https") and netloc.lower() == host.lower()


async def _session_role(scope: Scope) -> Role | None:
    token = Request(scope).cookies.get(auth.SESSION_COOKIE)
    return await to_thread.run_sync(lambda: routes.session_role(token))


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    await PlainTextResponse(text, status_code=status, headers={"Cache-Control": "no-store"})(scope, receive, send)


def _private(send: Send) -> Send:
    """`send` that keeps a media file (an invoice) out of every cache: it is one person's."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            MutableHeaders(scope=message)["Cache-Control"] = "private, no-store"
        await send(message)

    return wrapped


def hide_server_banner() -> None:
    """uvicorn writes `server: uvicorn` on every answer itself, after the application, unless its
    Config says `server_header=False`; `streamlit run` builds that Config before it imports
    server.py and offers no setting for it. So the server's startup, which runs after that
    import, drops the header from the Config first (uvicorn builds its default headers from it).
    server.py calls this once; tests/web/test_security_headers.py checks the real server."""
    import uvicorn

    startup = uvicorn.Server.startup
    if getattr(startup, "hides_server_banner", False):
        return

    async def startup_without_banner(self, sockets=None):
        self.config.server_header = False
        self.config.encoded_headers = [
            (name, value) for name, value in self.config.encoded_headers if name.lower() != b"server"
        ]
        await startup(self, sockets=sockets)

    # uvicorn has no setting for its banner on every answer: its startup is wrapped, once.
    startup_without_banner.hides_server_banner = True  # type: ignore[attr-defined]
    uvicorn.Server.startup = startup_without_banner  # type: ignore[method-assign]
