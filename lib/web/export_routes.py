"""Downloads served over plain HTTP for staff (the kitchen's sheet from any PC or tablet), checked
against the session cookie and the role like every page.

A download here only reads: it never counts as printing the sheet (the « changes since the last
print » baseline moves only from the « Cuisine » page's buttons). A link planted on another site
therefore changes nothing, and the route takes no POST."""

from __future__ import annotations

from datetime import date

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from lib.domain.errors import LoginRefused, NotAllowed, PortailError
from lib.services import auth, kitchen
from lib.services.config import clock_now, database

_MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


async def kitchen_sheet(request: Request) -> Response:
    """GET /export/cuisine.csv?jour=2026-11-30 (or .pdf)."""
    kind = request.path_params["kind"]
    if kind not in _MEDIA:
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
        if day is None:  # no meal day ahead in the town's calendar
            return PlainTextResponse(
                "Aucun jour de repas à venir : choisissez un jour (?jour=AAAA-MM-JJ).", status_code=404
            )
        try:
            body = kitchen.sheet_file(db, actor, day, now, kind, count_as_printed=False)
        except NotAllowed as exc:
            return PlainTextResponse(exc.message, status_code=403)
        except PortailError as exc:
            return PlainTextResponse(exc.message, status_code=400)
        return Response(
            body,
            media_type=_MEDIA[kind],
            headers={
                "Content-Disposition": f'attachment; filename="repas-{day.isoformat()}.{kind}"',
                "Cache-Control": "no-store",
            },
        )

    return await to_thread.run_sync(work)


ROUTES = [Route("/export/cuisine.{kind:str}", kitchen_sheet, methods=["GET"])]
