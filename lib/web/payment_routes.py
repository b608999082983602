"""Payment routes: the departure to the provider, the browser's return, the provider's
notification, and the sandbox bank (only when the town's settings turn it on)."""

from __future__ import annotations

import urllib.request
from urllib.parse import parse_qsl, urlencode

from anyio import CapacityLimiter, to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from lib.domain import fr
from lib.domain.errors import InvalidInput, LoginRefused, PortailError
from lib.domain.invoicing import PayerEmailNeeded
from lib.payments import payfip_sandbox
from lib.payments.sandbox import BANK, TEST_CARD
from lib.services import auth, home, payments
from lib.services.config import clock_now, database
from lib.web import pages

MAX_BODY = 20_000
TOO_LARGE = "Requête trop volumineuse : refusée."

# The portal may call its own PayFiP sandbox from a request (a departure creates the idop, an answer
# is checked with its status service; the sandbox's decision notifies the portal). Each step of that
# chain takes its threads from its own pool, so none waits for a thread held by a step waiting on it:
# PROVIDER_CALLS (departures, answers) → SANDBOX_SERVICE (the SOAP service) and SANDBOX_NOTIFY
# (the sandbox's notification) → the notification route (PROVIDER_CALLS). Every wait is bounded
# too (provider.SERVICE_TIMEOUT_S, NOTIFY_TIMEOUT_S).
PROVIDER_CALLS = CapacityLimiter(20)
SANDBOX_SERVICE = CapacityLimiter(8)
SANDBOX_NOTIFY = CapacityLimiter(8)
NOTIFY_TIMEOUT_S = 10


def _html(result: tuple[str, int]) -> HTMLResponse:
    text, status = result
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store"})


def _served_port(request: Request) -> int | None:
    """The port this process serves on: the socket's, never the Host header (the portal's address
    given to the provider comes from the settings, see payments._setup); None on a Unix socket."""
    server = request.scope.get("server") or (None, None)
    return server[1]


def _address(request: Request) -> str:
    """Where a request comes from, for counting rejected answers: the peer of the socket."""
    return request.client.host if request.client else "inconnue"


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None when it is longer than MAX_BODY: refused on the declared length before
    reading anything, and on the streamed length as soon as it goes past (a chunked body declares
    none), so a huge body never sits in memory."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


async def _bounded_form(request: Request) -> dict[str, str] | None:
    """A urlencoded form read through `_bounded_body` (None when too long)."""
    body = await _bounded_body(request)
    return None if body is None else dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


async def depart(request: Request) -> Response:
    """GET /paiement/depart: start (or resume, same key) the payment, then send the browser to the
    provider (a redirect, or the signed form posted at once). POST: the same, with the e-mail the
    payer gives for the bank's receipt when the provider needs one and the family file has none."""
    token = request.cookies.get(auth.SESSION_COOKIE, "")  # absent: refused below like an expired one
    if request.method == "POST":
        params = await _bounded_form(request)
        if params is None:
            return _html(pages.message("Paiement impossible", TOO_LARGE, status=413))
    else:
        params = dict(request.query_params)
    raw_id, key, code = params.get("facture", ""), params.get("cle", ""), params.get("code", "")
    email = params.get("mel") if request.method == "POST" else None
    port = _served_port(request)

    def work() -> Response:
        db = database()
        try:
            actor = auth.actor_for_token(db, token, clock_now())
        except LoginRefused:
            return RedirectResponse("/connexion?expiree=1", status_code=303)
        if not raw_id.isdigit() or not payments.departure_code_ok(token, raw_id, key, code):
            return _html(
                pages.message(
                    "Lien de paiement invalide",
                    "Ce lien de paiement n'est pas valable : "
                    "revenez à « Mes factures » et cliquez à nouveau sur « Payer ».",
                    status=400,
                )
            )
        hidden = {"facture": raw_id, "cle": key, "code": code}
        try:
            started = payments.start_payment(db, actor, int(raw_id), key, port, clock_now(), email=email)
        except PayerEmailNeeded as exc:
            return _html(pages.receipt_email(payments.DEPARTURE_PATH, hidden, exc.message, "", status=200))
        except InvalidInput as exc:
            if email is None:
                return _html(pages.message("Paiement impossible", exc.message, status=400))
            return _html(pages.receipt_email(payments.DEPARTURE_PATH, hidden, exc.message, email, status=400))
        except PortailError as exc:
            return _html(pages.message("Paiement impossible", exc.message, status=409))
        return _departure(started)

    # Its own threads: the departure may wait on the provider's web service, which may be ours.
    return await to_thread.run_sync(work, limiter=PROVIDER_CALLS)


def _departure(started: payments.Departure) -> Response:
    """To the provider's page: a redirect (PayFiP, TIPI), the signed form (Systempay, Paybox), or
    the page eopayment wrote."""
    if started.kind == "url":
        return RedirectResponse(started.url, status_code=303, headers={"Cache-Control": "no-store"})
    if started.kind == "form":
        return _html(pages.redirect_form(started.url, started.fields, fr.euros(started.amount_cents), started.number))
    return HTMLResponse(started.html, headers={"Cache-Control": "no-store"})


async def _answer(request: Request, query: str, source: str):
    port = _served_port(request)

    def work():
        return payments.record_answer(
            database(), query, source, clock_now(), address=_address(request), served_port=port
        )

    # Its own threads: checking an answer may ask the provider's status service, which may be ours.
    return await to_thread.run_sync(work, limiter=PROVIDER_CALLS)


async def retour(request: Request) -> Response:
    """GET /paiement/retour?vads_…&signature=…: the browser comes back from the provider."""
    try:
        recorded = await _answer(request, request.url.query, "retour")
    except payments.AnswerRejected:
        return _html(
            pages.message(
                "Retour de paiement non reconnu",
                "Ce retour de paiement n'a pas pu être vérifié : rien n'a été enregistré. Si vous "
                "avez payé, la facture apparaîtra soldée dès que la banque l'aura confirmé.",
                status=400,
            )
        )
    return RedirectResponse(f"/mes-factures?{urlencode({'transaction': recorded.transaction_ref})}", status_code=303)


async def notification(request: Request) -> Response:
    """POST /paiement/notification: the provider's server-to-server notification (PayFiP's body is
    only `idop=…`; the answer is what its status service says)."""
    body = await _bounded_body(request)
    if body is None:
        return PlainTextResponse(f"KO: {TOO_LARGE}", status_code=413)
    try:
        recorded = await _answer(request, body.decode("utf-8", "replace"), "notification")
    except payments.AnswerRejected as exc:
        return PlainTextResponse(f"KO: {exc.reason}", status_code=exc.status)
    return PlainTextResponse(f"OK: {recorded.state.value}")


# --- the sandbox bank ------------------------------------------------------------------------------


def _too_large() -> Response:
    return _html(pages.message("Banque de test", TOO_LARGE, status=413, back="/", back_label="Retour au portail"))


def _sandbox_config():
    cfg = payments.config(database())
    return cfg if cfg.sandbox else None


async def sandbox_form(request: Request) -> Response:
    """POST /paiement/sandbox: the merchant's signed form arrives at the test bank."""
    cfg = await to_thread.run_sync(_sandbox_config)
    if cfg is None:
        return PlainTextResponse("Not Found", status_code=404)
    fields = await _bounded_form(request)
    if fields is None:
        return _too_large()
    try:
        request_id = BANK.receive(cfg, fields)
    except ValueError as exc:
        return _html(
            pages.message(
                "Banque de test",
                f"Paiement refusé par la banque de test : {exc}.",
                status=400,
                back="/",
                back_label="Retour au portail",
            )
        )
    town = await to_thread.run_sync(lambda: home.town(database()).name)
    return _html(
        pages.sandbox_bank(
            request_id, town, fr.euros(int(fields["vads_amount"])), fields.get("vads_order_id", ""), TEST_CARD
        )
    )


def _notify(url: str, query: str) -> None:
    try:
        urllib.request.urlopen(
            urllib.request.Request(
                url, data=query.encode(), method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
            ),
            timeout=NOTIFY_TIMEOUT_S,
        ).read()
    except OSError:
        pass  # a lost notification: the browser's return, or the reconciliation, still brings the answer


async def sandbox_decision(request: Request) -> Response:
    """POST /paiement/sandbox/decision: pay, refuse or cancel; notify the merchant, send the browser back."""
    cfg = await to_thread.run_sync(_sandbox_config)
    if cfg is None:
        return PlainTextResponse("Not Found", status_code=404)
    form = await _bounded_form(request)
    if form is None:
        return _too_large()
    decision = form.get("decision", "")
    lost = decision == "pay-no-return"
    try:
        fields, query = BANK.decide(cfg, form.get("request", ""), "pay" if lost else decision)
    except ValueError as exc:
        return _html(pages.message("Banque de test", f"{exc}.", status=400, back="/", back_label="Retour au portail"))
    if lost:
        return _html(
            pages.message(
                "Banque de test",
                "Paiement accepté. (Test : le portail n'a été prévenu ni par "
                "la notification ni par le retour ; actualisez « Mes factures ».)",
                back="/mes-factures",
            )
        )
    if fields.get("vads_url_check"):
        await to_thread.run_sync(lambda: _notify(fields["vads_url_check"], query), limiter=SANDBOX_NOTIFY)
    return RedirectResponse(f"{fields['vads_url_return']}?{query}", status_code=303)


# --- the PayFiP sandbox -----------------------------------------------------------------------------

PAYFIP_SERVICE_PATH = "/paiement/payfip/soap"
PAYFIP_PAGE_PATH = "/paiement/payfip"


def _payfip_sandbox() -> bool:
    cfg = payments.config(database())
    return cfg.sandbox and cfg.backend == "payfip_ws"


async def payfip_service(request: Request) -> Response:
    """POST /paiement/payfip/soap: PayFiP's SOAP web service (creerPaiementSecurise,
    recupererDetailPaiementSecurise), for the portal's own eopayment client: return addresses
    elsewhere than the portal's own are refused (anyone may post here)."""
    port = _served_port(request)
    served, portal = await to_thread.run_sync(
        lambda: (_payfip_sandbox(), payments.own_address(database(), port)), limiter=SANDBOX_SERVICE
    )
    if not served:
        return PlainTextResponse("Not Found", status_code=404)
    body = await _bounded_body(request)
    if body is None:
        return PlainTextResponse(TOO_LARGE, status_code=413)
    text, status = payfip_sandbox.answer(body, portal)
    return Response(text, status_code=status, media_type="text/xml; charset=utf-8")


async def payfip_page(request: Request) -> Response:
    """GET /paiement/payfip?idop=…: the payment page, as PayFiP shows it."""
    if not await to_thread.run_sync(_payfip_sandbox):
        return PlainTextResponse("Not Found", status_code=404)
    operation = payfip_sandbox.BANK.operation(request.query_params.get("idop", ""))
    if operation is None or operation.result:
        return _html(
            pages.message(
                "PayFiP (test)",
                "Ce paiement est inconnu ou déjà traité : revenez au portail.",
                status=404,
                back="/mes-factures",
            )
        )
    return _html(pages.payfip_page(operation, fr.euros(int(operation.montant))))


async def payfip_decision(request: Request) -> Response:
    """POST /paiement/payfip/decision: pay, refuse or cancel; as PayFiP, notify the portal
    (server to server, `idop=…` posted to urlnotif), then send the browser back to urlredirect."""
    if not await to_thread.run_sync(_payfip_sandbox):
        return PlainTextResponse("Not Found", status_code=404)
    form = await _bounded_form(request)
    if form is None:
        return _too_large()
    try:
        operation = payfip_sandbox.BANK.decide(form.get("idop", ""), form.get("decision", ""))
    except ValueError as exc:
        return _html(pages.message("PayFiP (test)", f"{exc}.", status=400, back="/", back_label="Retour au portail"))
    query = urlencode({"idop": operation.idop})
    await to_thread.run_sync(lambda: _notify(operation.urlnotif, query), limiter=SANDBOX_NOTIFY)
    return RedirectResponse(f"{operation.urlredirect}?{query}", status_code=303)


ROUTES = [
    Route(payments.DEPARTURE_PATH, depart, methods=["GET", "POST"]),
    Route("/paiement/retour", retour, methods=["GET"]),
    Route("/paiement/notification", notification, methods=["POST"]),
    Route("/paiement/sandbox", sandbox_form, methods=["POST"]),
    Route("/paiement/sandbox/decision", sandbox_decision, methods=["POST"]),
    Route(PAYFIP_SERVICE_PATH, payfip_service, methods=["POST"]),
    Route(PAYFIP_PAGE_PATH, payfip_page, methods=["GET"]),
    Route(PAYFIP_PAGE_PATH + "/decision", payfip_decision, methods=["POST"]),
]
