"""The pages a link sent by e-mail opens, and « Mot de passe oublié ? »: plain HTML forms like the
login page (French, one column, labels, no JavaScript).

GET only shows a form (a mail scanner that fetches a link must not use it); the form's POST, with
its CSRF field and our Origin, uses the link once. Every answer is `no-store` and sends no
Referer (the link's secret is in the address). After a new password, the holder logs in on
/connexion (never automatically), where the account's e-mail is filled in from a short-lived cookie
(not the address: it would reach the logs)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from html import escape

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from lib.domain.account_links import (
    LINK_REFUSED,
    RESET_ANSWER,
    LinkPurpose,
    LinkRefused,
)
from lib.domain.errors import InvalidInput, PortailError, TooManyAttempts
from lib.domain.validation import PASSWORD_MIN_LENGTH
from lib.services import accounts, auth, home
from lib.services.config import clock_now, database
from lib.web import login_page
from lib.web.routes import LOGIN_PATH, PREFILL_COOKIE, PostedForm, _secure, checked_form

CSRF_COOKIE = "pf_csrf_compte"
CSRF_PATH = "/auth/"
# same-origin, not no-referrer: a page under no-referrer makes the browser send « Origin: null » with its
# form, which the same-origin check must refuse. The link's token still never leaves for another site.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"}
FORGOT_PATH = "/auth/oubli"


def _client(request: Request) -> str | None:
    # uvicorn has replaced the peer by the X-Forwarded-For client only for a trusted proxy (lib/web/proxies.py).
    return request.client.host if request.client else None


def _page(request: Request, title: str, body: str, *, status: int = 200, csrf: str | None = None) -> HTMLResponse:
    """One of our pages; `csrf`: the token its form carries, set in the cookie the POST is checked against."""
    html = f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{escape(title)} – Portail Famille – {escape(home.town(database()).name)}</title>
<style>{login_page.STYLE}</style>
</head>
<body>
<main>
<h1>{escape(title)}</h1>
{body}
<footer><p><a href="{LOGIN_PATH}">Retour à la connexion</a></p></footer>
</main>
</body>
</html>"""
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    if csrf:
        response.set_cookie(
            CSRF_COOKIE, csrf, httponly=True, samesite="strict", path=CSRF_PATH, secure=_secure(request)
        )
    return response


def _notice(error: str | None = None, info: str | None = None) -> str:
    if error:
        return f'<p class="error" role="alert" id="form-error"><strong>Erreur :</strong> {escape(error)}</p>'
    if info:
        return f'<p class="info" role="status">{escape(info)}</p>'
    return ""


def _refused(request: Request) -> HTMLResponse:
    body = (
        f'<p class="error" role="alert">{escape(LINK_REFUSED)}</p>'
        f'<p><a href="{FORGOT_PATH}">Demander un nouveau lien de mot de passe</a></p>'
        "<p>Pour une invitation, demandez un nouvel envoi au service enfance de la mairie.</p>"
    )
    return _page(request, "Lien plus valable", body, status=410)


def _stale(request: Request, form: PostedForm) -> HTMLResponse:
    """A form refused by `checked_form` (too big, without its token, from elsewhere). The forgotten
    password's form can be started again here; a link's form, by going back to it (its address holds
    the link)."""
    again = f'<p><a href="{FORGOT_PATH}">Recommencer</a></p>' if request.url.path == FORGOT_PATH else ""
    return _page(request, "Formulaire expiré", _notice(error=form.refusal) + again, status=form.status)


# --- « Mot de passe oublié ? » --------------------------------------------------------------------


def _forgot_form(request: Request, *, email: str = "", error: str | None = None, status: int = 200) -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    described = ' aria-describedby="form-error"' if error else ""
    body = f"""{_notice(error)}
<p>Saisissez l'adresse e-mail de votre compte : vous recevrez un lien pour choisir un nouveau mot de passe.</p>
<form method="post" action="{FORGOT_PATH}" novalidate>
<input type="hidden" name="csrf" value="{escape(csrf)}">
<label for="email">Adresse e-mail</label>
<input id="email" name="email" type="email" autocomplete="username" inputmode="email" maxlength="254"
       required value="{escape(email)}"{described}>
<button type="submit">Recevoir un lien</button>
</form>"""
    return _page(request, "Mot de passe oublié", body, status=status, csrf=csrf)


async def forgot_form(request: Request) -> Response:
    """GET /auth/oubli."""
    return await to_thread.run_sync(lambda: _forgot_form(request))


async def forgot_submit(request: Request) -> Response:
    """POST /auth/oubli: one answer whether the account exists or not."""
    form = await checked_form(request, CSRF_COOKIE)
    if form.refusal:
        return await to_thread.run_sync(lambda: _stale(request, form))
    values = form.values
    email = values.get("email", "")[:300]
    client = _client(request)

    def answer() -> Response:
        try:
            accounts.request_reset(database(), email, clock_now(), client)
        except PortailError as exc:
            status = 429 if isinstance(exc, TooManyAttempts) else 400
            return _forgot_form(request, email=email if len(email) <= 254 else "", error=exc.message, status=status)
        body = f'<p class="info" role="status">{escape(RESET_ANSWER)}</p>'
        return _page(request, "Courriel envoyé", body)

    return await to_thread.run_sync(answer)


# --- a new password through a link (reset, invitation) ----------------------------------------------

_PASSWORD_PAGES = {
    LinkPurpose.PASSWORD_RESET: ("Choisir un nouveau mot de passe", "Enregistrer le mot de passe", "reinit"),
    LinkPurpose.INVITATION: ("Activer mon compte", "Activer mon compte", "active"),
}


def _password_form(
    request: Request, purpose: LinkPurpose, token: str, email: str, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    title, button, _done = _PASSWORD_PAGES[purpose]
    csrf = secrets.token_urlsafe(24)
    described = ' aria-describedby="form-error"' if error else ""
    body = f"""{_notice(error)}
<p>Compte : <strong>{escape(email)}</strong></p>
<p>Au moins {PASSWORD_MIN_LENGTH} caractères. Une phrase de quelques mots sans rapport entre eux est sûre et
facile à retenir ; les mots de passe courants ou déjà dérobés sur d'autres sites sont refusés.</p>
<form method="post" action="{purpose.path}" novalidate>
<input type="hidden" name="csrf" value="{escape(csrf)}">
<input type="hidden" name="jeton" value="{escape(token)}">
<input type="email" name="username" autocomplete="username" value="{escape(email)}" hidden readonly>
<label for="password">Nouveau mot de passe</label>
<input id="password" name="password" type="password" autocomplete="new-password" maxlength="256" required{described}>
<label for="confirmation">Nouveau mot de passe, une seconde fois</label>
<input id="confirmation" name="confirmation" type="password" autocomplete="new-password" maxlength="256"
       required{described}>
<button type="submit">{escape(button)}</button>
</form>"""
    return _page(request, title, body, status=status, csrf=csrf)


def _to_login(request: Request, done: str, email: str) -> Response:
    """To /connexion with the notice `done`; the e-mail waits in a cookie for the login form only."""
    response = RedirectResponse(f"{LOGIN_PATH}?fait={done}", status_code=303, headers=HEADERS)
    response.set_cookie(
        PREFILL_COOKIE, email, max_age=600, httponly=True, samesite="strict", path=LOGIN_PATH, secure=_secure(request)
    )
    return response


def _password_routes(purpose: LinkPurpose) -> tuple[Callable, Callable]:
    use = accounts.reset if purpose is LinkPurpose.PASSWORD_RESET else accounts.activate

    async def show(request: Request) -> Response:
        token = request.query_params.get("jeton", "")

        def page() -> Response:
            try:
                link = accounts.open_link(database(), token, purpose, clock_now())
            except LinkRefused:
                return _refused(request)
            return _password_form(request, purpose, token, link.email)

        return await to_thread.run_sync(page)

    async def submit(request: Request) -> Response:
        form = await checked_form(request, CSRF_COOKIE)
        if form.refusal:
            return await to_thread.run_sync(lambda: _stale(request, form))
        values = form.values
        token = values.get("jeton", "")
        client = _client(request)

        def answer() -> Response:
            db = database()
            try:
                email = use(db, token, values.get("password", ""), values.get("confirmation", ""), clock_now(), client)
            except LinkRefused:
                return _refused(request)
            except InvalidInput as exc:
                link = accounts.open_link(db, token, purpose, clock_now())
                return _password_form(request, purpose, token, link.email, error=exc.message, status=400)
            return _to_login(request, _PASSWORD_PAGES[purpose][2], email)

        try:
            return await to_thread.run_sync(answer)
        except LinkRefused:  # expired between the refusal and the form drawn again
            return await to_thread.run_sync(lambda: _refused(request))

    return show, submit


reset_form, reset_submit = _password_routes(LinkPurpose.PASSWORD_RESET)
activate_form, activate_submit = _password_routes(LinkPurpose.INVITATION)


# --- a new address, confirmed ----------------------------------------------------------------------

EMAIL_PATH = LinkPurpose.EMAIL_CHANGE.path


async def email_form(request: Request) -> Response:
    """GET /auth/courriel?jeton=: the address to confirm and a button (the GET changes nothing)."""
    token = request.query_params.get("jeton", "")

    def page() -> Response:
        try:
            link = accounts.open_link(database(), token, LinkPurpose.EMAIL_CHANGE, clock_now())
        except LinkRefused:
            return _refused(request)
        csrf = secrets.token_urlsafe(24)
        body = f"""<p>Le compte <strong>{escape(link.email)}</strong> utilisera désormais l'adresse
<strong>{escape(link.new_email or "")}</strong> pour se connecter et recevoir les courriels du portail.</p>
<form method="post" action="{EMAIL_PATH}">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<input type="hidden" name="jeton" value="{escape(token)}">
<button type="submit">Confirmer ma nouvelle adresse</button>
</form>"""
        return _page(request, "Confirmer la nouvelle adresse", body, csrf=csrf)

    return await to_thread.run_sync(page)


async def email_submit(request: Request) -> Response:
    """POST /auth/courriel: the address changes; this browser's session, if it is the account's, stays."""
    form = await checked_form(request, CSRF_COOKIE)
    if form.refusal:
        return await to_thread.run_sync(lambda: _stale(request, form))
    values = form.values
    token = values.get("jeton", "")
    session = request.cookies.get(auth.SESSION_COOKIE)

    def answer() -> Response:
        try:
            email = accounts.confirm_email_change(database(), token, clock_now(), session)
        except LinkRefused:
            return _refused(request)
        except InvalidInput as exc:
            return _page(request, "Adresse non modifiée", _notice(error=exc.message), status=409)
        return _to_login(request, "courriel", email)

    return await to_thread.run_sync(answer)


ROUTES = [
    Route(FORGOT_PATH, forgot_form, methods=["GET"]),
    Route(FORGOT_PATH, forgot_submit, methods=["POST"]),
    Route(LinkPurpose.PASSWORD_RESET.path, reset_form, methods=["GET"]),
    Route(LinkPurpose.PASSWORD_RESET.path, reset_submit, methods=["POST"]),
    Route(LinkPurpose.INVITATION.path, activate_form, methods=["GET"]),
    Route(LinkPurpose.INVITATION.path, activate_submit, methods=["POST"]),
    Route(EMAIL_PATH, email_form, methods=["GET"]),
    Route(EMAIL_PATH, email_submit, methods=["POST"]),
]
