"""Streamlit serves its own root document (and its components' frames) with `lang="en"` and the
title "Streamlit". This ASGI middleware rewrites those HTML documents on their way out, so a screen
reader speaks French from the first word and the tab is named before the script runs."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lib.domain.fr import PRODUCT

_LANG = re.compile(rb'<html([^>]*?)\slang="[^"]*"', re.IGNORECASE)
_TITLE = re.compile(rb"<title>Streamlit</title>", re.IGNORECASE)
_NOSCRIPT = re.compile(rb"<noscript>.*?</noscript>", re.IGNORECASE | re.DOTALL)
# Larger tap targets, no horizontal overflow on a 390-px phone, and Streamlit's grey captions
# (below 4.5:1 on white) darkened. In the head of the document, so no element is ever drawn without it.
APP_CSS = """<style>
.stButton button, .stDownloadButton button, .stFormSubmitButton button { min-height: 44px; min-width: 44px; }
[data-testid="stMainBlockContainer"] { padding-left: 1rem; padding-right: 1rem; max-width: 1100px; }
@media (max-width: 640px) { h1 { font-size: 1.7rem !important; } h2 { font-size: 1.35rem !important; } }
[data-testid="stCaptionContainer"] { color: #4b5160 !important; opacity: 1 !important; }
[data-testid="stCaptionContainer"] a { color: #1d4ed8 !important; }
</style>"""
_FRENCH_NOSCRIPT = ("<noscript>Le Portail Famille a besoin de JavaScript : activez-le dans votre navigateur, "
                    "ou contactez la mairie.</noscript>").encode()


def frenchify(html: bytes) -> bytes:
    """Declare French, name the tab, add the app's CSS and translate the no-script notice."""
    html = _LANG.sub(rb'<html\1 lang="fr"', html, count=1)
    if not re.search(rb"<html[^>]*\slang=", html, re.IGNORECASE):
        html = re.sub(rb"<html", b'<html lang="fr"', html, count=1, flags=re.IGNORECASE)
    if _TITLE.search(html):  # Streamlit's own shell (not a component's frame): our CSS too
        html = _TITLE.sub(f"<title>{PRODUCT}</title>{APP_CSS}".encode(), html, count=1)
    return _NOSCRIPT.sub(lambda _m: _FRENCH_NOSCRIPT, html, count=1)


class FrenchDocument:
    """Rewrites every `text/html` answer to a GET (Streamlit's shell on any page path, a
    component's index.html). The request is sent without Accept-Encoding so the body comes
    uncompressed; other answers (scripts, websockets, our own French pages) pass untouched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not _may_be_document(scope["path"]):
            await self.app(scope, receive, send)
            return
        scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"])
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                is_html = headers.get(b"content-type", b"").startswith(b"text/html")
                if is_html and b"content-encoding" not in headers:
                    start = message  # held back until the whole body is here
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = frenchify(b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send(dict(start, headers=headers))
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, capture)


def _may_be_document(path: str) -> bool:
    last = path.rsplit("/", 1)[-1]
    return "." not in last or last.endswith(".html")
