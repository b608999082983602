"""Downloads served over plain HTTP for staff (the kitchen's sheet from any PC or tablet), checked
against the session cookie and the role like every page."""

from __future__ import annotations

from datetime import date

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from lib.domain.errors import LoginRefused, NotAllowed, PortailError
from lib.services import auth, kitchen
from lib.services.config import clock_now, database

_TYPES = {"csv": ("text/csv; charset=utf-8", kitchen.sheet_csv), "pdf": ("application/pdf", kitchen.sheet_pdf)}


async def kitchen_sheet(request: Request) -> Response:
    """GET /export/cuisine.csv?jour=2026-11-30 (or .pdf)."""
    kind = request.path_params["kind"]
    if kind not in _TYPES:
        return PlainTextResponse("Format inconnu : .csv ou .pdf.", status_code=404)
    token = request.cookies.get(auth.SESSION_COOKIE)
    raw_day = request.query_params.get("jour", "")

    def work() -> Response:
        db, now = database(), clock_now()
        try:
            actor = auth.actor_for_token(db, token, now)
        except LoginRefused as exc:
            return PlainTextResponse(exc.message, status_code=403)
        try:
            day = date.fromisoformat(raw_day) if raw_day else kitchen.default_day(db, actor, now)
        except ValueError:
            return PlainTextResponse("Date illisible : utilisez AAAA-MM-JJ.", status_code=400)
        except NotAllowed as exc:
            return PlainTextResponse(exc.message, status_code=403)
        media, render = _TYPES[kind]
        try:
            body = render(db, actor, day, now)
        except NotAllowed as exc:
            return PlainTextResponse(exc.message, status_code=403)
        except PortailError as exc:
            return PlainTextResponse(exc.message, status_code=400)
        return Response(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="repas-{day.isoformat()}.{kind}"', "Cache-Control": "no-store"})

    return await to_thread.run_sync(work)


ROUTES = [Route("/export/cuisine.{kind:str}", kitchen_sheet, methods=["GET"])]
