"""HTTP routes of our own: the login form, its POST, and the guard that sends a visitor who is
not logged in to the login form before Streamlit's page loads."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from lib.domain import accessibility as a11y
from lib.domain import account_links, menu
from lib.domain.errors import LoginRefused, PortailError, TooManyAttempts
from lib.domain.roles import Role
from lib.services import auth, home
from lib.services.config import clock_now, database
from lib.web import login_page

CSRF_COOKIE = "pf_csrf"
# The e-mail of an account that just chose a password or an address through a link (lib/web/account_routes.py),
# for the login form to fill in: a short-lived cookie, not the page's address (addresses reach the logs).
PREFILL_COOKIE = "pf_courriel"
LOGIN_PATH = "/connexion"
MAX_FORM_BYTES = 4096
STALE_FORM = "Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et réessayez."
FORM_TOO_BIG = "Formulaire trop volumineux."

# Paths that never need a session: ours, Streamlit's machinery, static assets.
# /export/ checks the session itself and answers 403 (a download, not a page to redirect).
# /calendrier/ is a phone's calendar reading a feed: its secret address is its only credential.
_PUBLIC_PREFIXES = (
    "/_stcore/",
    "/static/",
    "/component/",
    "/media/",
    "/auth/",
    "/app/static/",
    "/paiement/",
    "/export/",
    "/calendrier/",
)
_PUBLIC_PATHS = {
    LOGIN_PATH,
    a11y.STATEMENT_PATH,
    "/favicon.png",
    "/favicon.ico",
    "/manifest.json",
    "/robots.txt",
    "/sante",
}  # the health check (lib/web/backup_routes.py)


def _now() -> datetime:
    return clock_now()


def _secure(request: Request) -> bool:
    """Cookies are `Secure` on HTTPS (as told by a trusted proxy, lib/web/proxies.py) and whenever
    the town's public address is https."""
    return request.url.scheme == "https" or auth.cookies_need_https(database())


def _login_response(
    request: Request, *, status: int = 200, email: str = "", error: str | None = None, info: str | None = None
) -> HTMLResponse:
    db = database()
    facts = home.town(db)
    token = secrets.token_urlsafe(24)
    page = login_page.render(
        town=facts.name,
        contact_email=facts.contact_email,
        csrf_token=token,
        email=email,
        error=error,
        info=info,
        demo=auth.is_demo(db),
    )
    response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", path="/auth/login", secure=_secure(request)
    )
    return response


async def login_form(request: Request) -> Response:
    """GET /connexion. A stale session cookie is dropped here."""
    info = None
    if request.query_params.get("fin") == "1":
        info = "Vous êtes déconnecté(e)."
    elif request.query_params.get("fin") == "tous":
        info = "Vous êtes déconnecté(e) de tous les appareils."
    elif request.query_params.get("expiree") == "1":
        info = auth.SESSION_EXPIRED
    done = _DONE.get(request.query_params.get("fait", ""))
    email = request.cookies.get(PREFILL_COOKIE, "")[:254] if done else ""
    response = await to_thread.run_sync(lambda: _login_response(request, info=done or info, email=email))
    if auth.SESSION_COOKIE in request.cookies and info:
        response.delete_cookie(auth.SESSION_COOKIE, path="/")
    if done:
        response.delete_cookie(PREFILL_COOKIE, path=LOGIN_PATH)
    return response


# /connexion?fait=…: where a link sent by e-mail led (lib/web/account_routes.py).
_DONE = {"reinit": account_links.RESET_DONE, "active": account_links.ACTIVATED, "courriel": account_links.EMAIL_CHANGED}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # browsers send Origin on POST; "null" comes from sandboxed frames
    return urlsplit(origin).netloc == request.headers.get("host")


@dataclass(frozen=True)
class PostedForm:
    """A form's POST as checked: its fields, and why it must not be used (`refusal`, French, with the
    answer's `status`), None when it is small, sent from our pages and carries its CSRF cookie's token."""

    values: dict[str, str]
    refusal: str | None = None
    status: int = 200


def _declared_length(request: Request) -> int | None:
    """The body's declared size (0 when undeclared); None when the header is not a number."""
    raw = request.headers.get("content-length", "0").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


async def checked_form(request: Request, csrf_cookie: str, max_fields: int = 10) -> PostedForm:
    """The one check of our plain HTML forms (the login, the pages a link opens): the size declared
    (read only if small), the Origin, and the CSRF field equal to its cookie."""
    length = _declared_length(request)
    if length is None:
        return PostedForm({}, STALE_FORM, 400)
    if length > MAX_FORM_BYTES:
        return PostedForm({}, FORM_TOO_BIG, 413)
    form = await request.form(max_files=0, max_fields=max_fields)
    values = {key: str(value) for key, value in form.items()}
    sent = values.get("csrf", "").encode("utf-8")
    cookie = request.cookies.get(csrf_cookie, "").encode("utf-8")
    if not _same_origin(request) or not cookie or not hmac.compare_digest(sent, cookie):
        return PostedForm(values, STALE_FORM, 403)
    return PostedForm(values)


async def login_submit(request: Request) -> Response:
    """POST /auth/login: check the form (checked_form), then the credentials."""
    form = await checked_form(request, CSRF_COOKIE)
    email = form.values.get("email", "")[:300]
    password = form.values.get("password", "")
    if form.refusal:
        refusal = form.refusal
        return await to_thread.run_sync(
            lambda: _login_response(request, status=form.status, email=email, error=refusal)
        )
    # uvicorn has already replaced the peer by the X-Forwarded-For client if, and only if, the peer
    # is a trusted proxy (lib/web/proxies.py).
    client_ip = request.client.host if request.client else None

    def attempt() -> Response:
        try:
            token, _actor = auth.login(database(), email, password, _now(), client_ip)
        except PortailError as exc:
            # 429 with the seconds to wait: the server never sleeps on a throttled attempt.
            status = 429 if isinstance(exc, TooManyAttempts) else 400
            return _login_response(request, status=status, email=email if len(email) <= 254 else "", error=exc.message)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE,
            token,
            max_age=int(auth.SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            path="/",
            secure=_secure(request),
        )
        response.delete_cookie(CSRF_COOKIE, path="/auth/login")
        return response

    return await to_thread.run_sync(attempt)


async def logout(request: Request) -> Response:
    """GET /auth/logout?code=…: the sidebar's « Se déconnecter » (this session) and « Mon compte »'s
    « Se déconnecter de tous les appareils » (every session of the account), each with its own code.
    The codes are derived from the session token, so a link planted on another site cannot log
    anyone out."""
    token = request.cookies.get(auth.SESSION_COOKIE)
    code = request.query_params.get("code", "").encode("utf-8")  # bytes: compare_digest refuses non-ASCII str
    if not token:
        return RedirectResponse("/", status_code=303)
    everywhere = hmac.compare_digest(code, auth.logout_everywhere_code(token).encode())
    if not everywhere and not hmac.compare_digest(code, auth.logout_code(token).encode()):
        return RedirectResponse("/", status_code=303)
    await to_thread.run_sync(lambda: auth.logout(database(), token, _now(), everywhere=everywhere))
    response = RedirectResponse(f"{LOGIN_PATH}?fin={'tous' if everywhere else '1'}", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


ROUTES = [
    Route(LOGIN_PATH, login_form, methods=["GET"]),
    Route("/auth/login", login_submit, methods=["POST"]),
    Route("/auth/logout", logout, methods=["GET"]),
]


class RequireLogin:
    """ASGI middleware: a page request without a valid session is sent to the login form.

    The Streamlit script checks the session again on every run; this guard only spares the
    visitor an empty app shell and gives the browser a real redirect.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and self._is_page(scope["path"]):
            request = Request(scope)
            token = request.cookies.get(auth.SESSION_COOKIE)
            role = await to_thread.run_sync(lambda: session_role(token))
            if role is None:
                response = RedirectResponse(LOGIN_PATH + ("?expiree=1" if token else ""), status_code=302)
                if token:
                    response.delete_cookie(auth.SESSION_COOKIE, path="/")
                await response(scope, receive, send)
                return
            page = scope["path"].strip("/")
            if "/" not in page and page not in menu.page_paths(role):
                # Another role's page, an old bookmark, a typo: the home page, not Streamlit's
                # English "Page not found" box. (Deeper paths such as /mes-factures/_stcore/health
                # are the frontend probing for its base path: they must get Streamlit's answer.)
                await RedirectResponse("/", status_code=302)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _is_page(path: str) -> bool:
        if path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES):
            return False
        return "." not in path.rsplit("/", 1)[-1]  # files (scripts, images) are Streamlit's assets


def session_role(token: str | None) -> Role | None:
    """The role of a valid session, None without one."""
    if not token:
        return None
    try:
        return auth.actor_for_token(database(), token, _now()).role
    except LoginRefused:
        return None
