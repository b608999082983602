"""The server: Streamlit's app (app.py) and our own HTTP routes in ONE process, so that both
use the single DuckDB connection. `streamlit run server.py` (what `make run` does) finds the
`app` object below and serves it with uvicorn."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from lib.domain.errors import DatabaseUnavailable, InvalidInput
from lib.services.config import database, db_path
from lib.web import accessibility_page, export_routes, login_page, payment_routes, proxies
from lib.web.compression import Compress
from lib.web.document import FrenchDocument
from lib.web.fonts import FontSubsets
from lib.web.routes import ROUTES, RequireLogin


def _open_database_or_exit() -> None:
    """Open (and migrate) the database before serving anyone: a file held by another process
    stops the server here with a French message, not a traceback on every page."""
    try:
        database()
    except DatabaseUnavailable as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr, flush=True)
        sys.exit(1)


def _trust_proxies_or_exit() -> None:
    """Believe X-Forwarded-For/-Proto only from the proxies of PORTAIL_TRUSTED_PROXIES (lib/web/proxies.py)."""
    try:
        proxies.follow_in_uvicorn(proxies.trusted_proxies())
    except InvalidInput as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr, flush=True)
        sys.exit(1)


@asynccontextmanager
async def lifespan(_app):
    print(f"Portail Famille : base de données {db_path()}", flush=True)
    yield {}


# Outermost first. Compress sits outside FrenchDocument, which asks for an identity body to rewrite
# the HTML shell: the rewritten shell still leaves compressed. FontSubsets answers Streamlit's
# icon and text font URLs with smaller subsets (woff2: Compress leaves them as they are).
MIDDLEWARE = [Middleware(Compress), Middleware(FontSubsets), Middleware(FrenchDocument), Middleware(RequireLogin)]

_trust_proxies_or_exit()
_open_database_or_exit()
login_page.prefetch_assets()  # Streamlit's bundle names, read from its index.html once
app = st.App("app.py", routes=ROUTES + payment_routes.ROUTES + export_routes.ROUTES + accessibility_page.ROUTES,
             middleware=MIDDLEWARE, lifespan=lifespan)
