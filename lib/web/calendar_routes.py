"""GET /calendrier/<jeton>.ics: a child's calendar feed, read by the family's phone.

Public: the secret in the address is the only credential (a calendar application has no session).
An unknown, revoked or orphaned token gets one and the same 404, so the answer tells nothing about
which tokens ever existed. The answer sets no cookie, asks caches to keep it private, and carries
`Referrer-Policy: no-referrer`. Nothing here logs the path: the token would be in it.
"""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from lib.services import calendar_feeds
from lib.services.config import clock_now, database

MEDIA_TYPE = "text/calendar; charset=utf-8"
NOT_FOUND = "Calendrier introuvable : ce lien a été supprimé ou remplacé. Demandez le nouveau lien à la famille."
HEADERS = {"Cache-Control": "private, max-age=900", "Referrer-Policy": "no-referrer"}


async def feed(request: Request) -> Response:
    """GET /calendrier/{token}.ics"""
    token = request.path_params["token"]
    body = await to_thread.run_sync(lambda: calendar_feeds.ics(database(), token, clock_now()))
    if body is None:
        return PlainTextResponse(
            NOT_FOUND, status_code=404, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        )
    return Response(body, media_type=MEDIA_TYPE, headers=HEADERS)


ROUTES = [Route(calendar_feeds.PATH + "{token}" + calendar_feeds.SUFFIX, feed, methods=["GET"])]
