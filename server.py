"""The server: Streamlit's app (app.py) and our own HTTP routes in ONE process, so that both
use the single DuckDB connection. `streamlit run server.py` (what `make run` does) finds the
`app` object below and serves it with uvicorn."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from lib.domain.errors import DatabaseUnavailable
from lib.services.config import database, db_path
from lib.web.routes import ROUTES, RequireLogin


@asynccontextmanager
async def lifespan(_app):
    # Open (and migrate) the database before the first visitor: a file held by another
    # process stops the server here with a French message instead of failing on every page.
    try:
        database()
    except DatabaseUnavailable as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    print(f"Portail Famille : base de données {db_path()}", flush=True)
    yield {}


app = st.App("app.py", routes=ROUTES, middleware=[Middleware(RequireLogin)], lifespan=lifespan)
