"""The server: Streamlit's app (app.py) and our own HTTP routes in ONE process, so that both
use the single DuckDB connection. `streamlit run server.py` (what `make run` does) finds the
`app` object below and serves it with uvicorn."""

from __future__ import annotations

import asyncio
import sys
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from lib.services import health, mail_worker
from lib.services.command_line import run_in_french
from lib.services.config import clock_now, database
from lib.services.setup import serving_database
from lib.web import (
    accessibility_page,
    account_routes,
    backup_routes,
    calendar_routes,
    export_routes,
    login_page,
    payment_routes,
    proxies,
)
from lib.web.compression import Compress
from lib.web.document import FrenchDocument
from lib.web.fonts import FontSubsets
from lib.web.routes import ROUTES, RequireLogin
from lib.web.security import SecurityHeaders, StreamlitDoors, hide_server_banner, server_error


def _prepare_or_exit() -> None:
    """Before serving anyone: believe X-Forwarded-For/-Proto only from the proxies of
    PORTAIL_TRUSTED_PROXIES (lib/web/proxies.py), then open (and migrate) the database. A malformed
    setting, a file held by another process, or in production (PORTAIL_MODE=production) a missing
    database or demo settings stop the server here with a French message, not a traceback on every page.
    Then the health data of children no longer registered goes (lib/services/health.py)."""

    def prepare() -> None:
        proxies.follow_in_uvicorn(proxies.trusted_proxies())
        health.purge_unregistered(serving_database(), clock_now())

    if run_in_french(prepare):
        sys.exit(1)


@asynccontextmanager
async def lifespan(_app):
    """The mail worker's thread (and, in the demo, its local SMTP sink) lives as long as the server."""
    db = database()
    print(f"Portail Famille : base de données {db.path}", flush=True)  # a URL's password is not shown
    worker = mail_worker.start_for_server(db)
    try:
        yield {}
    finally:
        await asyncio.to_thread(worker.stop)


# Outermost first. SecurityHeaders sees every answer, refusals included; StreamlitDoors guards
# Streamlit's websocket, media files and metrics. Compress sits outside FrenchDocument, which asks
# for an identity body to rewrite the HTML shell: the rewritten shell still leaves compressed.
# FontSubsets answers Streamlit's icon and text font URLs with smaller subsets (woff2: Compress
# leaves them as they are).
MIDDLEWARE = [
    Middleware(SecurityHeaders),
    Middleware(StreamlitDoors),
    Middleware(Compress),
    Middleware(FontSubsets),
    Middleware(FrenchDocument),
    Middleware(RequireLogin),
]

_prepare_or_exit()
hide_server_banner()
login_page.prefetch_assets()  # Streamlit's bundle names, read from its index.html once
app = st.App(
    "app.py",
    routes=ROUTES
    + account_routes.ROUTES
    + payment_routes.ROUTES
    + export_routes.ROUTES
    + accessibility_page.ROUTES
    + backup_routes.ROUTES
    + calendar_routes.ROUTES,
    middleware=MIDDLEWARE,
    lifespan=lifespan,
    exception_handlers={Exception: server_error},
)
