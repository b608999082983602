"""Operations routes: the online backup (`make backup` while the server runs) and a health check
that reads the database (Streamlit's /_stcore/health only says the web server is up)."""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from lib.domain.errors import NotAllowed, PortailError
from lib.services import backup
from lib.services.config import clock_now, database

HEALTH_PATH = "/sante"


async def take_backup(request: Request) -> Response:
    """POST /admin/sauvegarde with `Authorization: Bearer <backup token>`: a verified backup in
    the server's backup folder; its name, size, checksum and rows in JSON."""
    authorization = request.headers.get("authorization")

    def work() -> Response:
        try:
            backup.authorize(authorization)
            made = backup.save_online(database(), backup.backup_dir(), clock_now())
        except NotAllowed as exc:
            return JSONResponse({"erreur": exc.message}, status_code=403)
        except PortailError as exc:
            return JSONResponse({"erreur": exc.message}, status_code=503)
        return JSONResponse(
            {
                "fichier": str(made.path),
                "octets": made.size,
                "sha256": made.sha256,
                "tables": len(made.tables),
                "lignes": made.rows,
            }
        )

    return await to_thread.run_sync(work)


async def health(_request: Request) -> Response:
    """GET /sante: "ok" when the database answers, 503 "not ok" when it cannot be read."""

    def work() -> Response:
        try:
            database().check_readable()
        except PortailError:
            return PlainTextResponse("not ok", status_code=503, headers={"Cache-Control": "no-store"})
        return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})

    return await to_thread.run_sync(work)


ROUTES = [
    Route(backup.ROUTE, take_backup, methods=["POST"]),
    Route(HEALTH_PATH, health, methods=["GET", "HEAD"]),
]
