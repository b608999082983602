"""Brotli or gzip on the way out (lib/web/compression.py): through the real st.App of server.py (Streamlit's
own static files, its middleware and ours in their real order), and on tiny ASGI apps for the
cases the portal has no route for."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient

from lib.web import compression, streamlit_files
from lib.web.compression import Compress, choose_coding, compressible

GZIP = {"Accept-Encoding": "gzip, deflate"}
BR = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Chromium sends
IDENTITY = {"Accept-Encoding": "identity"}
STATIC = Path(streamlit_files.index_html()).parent


@pytest.fixture(scope="module")
def portal(tmp_path_factory, demo_template):
    """server.py's `app` (the st.App: our routes and middleware around Streamlit's), on a copy of
    the demo town."""
    import importlib
    import os
    import sys

    from tests import engines

    path = engines.copy(demo_template, tmp_path_factory.mktemp("compression") / "demo.duckdb")
    saved = os.environ.get("PORTAIL_DB")
    os.environ["PORTAIL_DB"] = str(path)
    sys.modules.pop("server", None)
    server = importlib.import_module("server")
    try:
        with TestClient(server.app, base_url="http://127.0.0.1:8501") as client:
            yield client
    finally:
        sys.modules.pop("server", None)
        from lib.store.db import close_database

        close_database(path)
        engines.drop(path)
        if saved is None:
            os.environ.pop("PORTAIL_DB", None)
        else:
            os.environ["PORTAIL_DB"] = saved


def _index_script() -> str:
    return re.search(
        r'<script type="module" crossorigin src="\./(static/js/index\.[^"]+\.js)"', (STATIC / "index.html").read_text()
    )[1]


def _raw_get(client: TestClient, path: str, headers: dict[str, str | None]):
    """The answer as sent (httpx would decode a gzip body silently). A header given as None is
    not sent at all (httpx sends its own Accept-Encoding otherwise)."""
    request = client.build_request("GET", path, headers={k: v for k, v in headers.items() if v is not None})
    for name, value in headers.items():
        if value is None:
            del request.headers[name]
    response = client.send(request, stream=True)
    try:
        return response, b"".join(response.iter_raw())
    finally:
        response.close()


def test_streamlits_main_bundle_comes_gzipped_and_decodes_to_the_same_bytes(portal):
    path = "/" + _index_script()
    plain, plain_body = _raw_get(portal, path, IDENTITY)
    packed, packed_body = _raw_get(portal, path, GZIP)
    assert plain_body == (STATIC / _index_script()).read_bytes()
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed_body) == plain_body
    assert int(packed.headers["content-length"]) == len(packed_body) < len(plain_body) / 2
    assert int(plain.headers["content-length"]) == len(plain_body)
    for answer in (plain, packed):
        assert "accept-encoding" in answer.headers["vary"].lower()
        assert "immutable" in answer.headers["cache-control"] and "max-age=31536000" in answer.headers["cache-control"]
    assert packed.headers["etag"] == "W/" + plain.headers["etag"]
    again, again_body = _raw_get(portal, path, GZIP)  # from the cache of compressed immutable files
    assert again_body == packed_body and again.headers["content-length"] == packed.headers["content-length"]
    revalidated = portal.get(path, headers={**GZIP, "If-None-Match": packed.headers["etag"]})
    assert revalidated.status_code == 304


def test_nothing_is_compressed_without_accept_encoding(portal):
    path = "/" + _index_script()
    for headers in (
        {"Accept-Encoding": None},
        IDENTITY,
        {"Accept-Encoding": "gzip;q=0, br;q=0"},
        {"Accept-Encoding": "zstd, deflate"},
    ):
        answer, body = _raw_get(portal, path, headers)
        assert "content-encoding" not in answer.headers
        assert body == (STATIC / _index_script()).read_bytes()


def test_the_french_html_shell_is_gzipped_too(portal):
    """FrenchDocument asks its inner layers for identity to rewrite the shell: compression sits
    outside it, so the rewritten shell still leaves compressed."""
    token = re.search(r'name="csrf" value="([^"]+)"', portal.get("/connexion").text)[1]
    login = portal.post(
        "/auth/login",
        data={"email": "parent@demo.fr", "password": "demo", "csrf": token},
        headers={"Origin": "http://127.0.0.1:8501"},
        follow_redirects=False,
    )
    assert login.status_code == 303
    plain, plain_body = _raw_get(portal, "/mes-inscriptions", IDENTITY)
    packed, packed_body = _raw_get(portal, "/mes-inscriptions", GZIP)
    assert plain.status_code == packed.status_code == 200
    assert b'<html lang="fr">' in plain_body and b"<title>Portail Famille</title>" in plain_body
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert gzip.decompress(packed_body) == plain_body
    assert int(packed.headers["content-length"]) == len(packed_body)
    assert "accept-encoding" in packed.headers["vary"].lower()


def test_the_login_page_is_gzipped_and_prefetches_streamlits_first_files(portal):
    packed, packed_body = _raw_get(portal, "/connexion", GZIP)
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers.get_list("vary") == ["Accept-Encoding"]  # once, though Streamlit's gzip layer adds it too
    page = gzip.decompress(packed_body).decode()
    template = re.search(r'<template id="pf-prefetch">(.*?)</template>', page, re.DOTALL)[1]
    assert 'getElementById("pf-prefetch")' in page  # put in the head once the parent starts on the form
    links = re.findall(r'<link rel="prefetch" href="\./([^"]+)" as="(\w+)" crossorigin>', template)
    index = (STATIC / "index.html").read_text()
    assert ("static/js/" + _index_script().rsplit("/", 1)[1], "script") in links
    assert any(kind == "style" for _, kind in links) and any(kind == "font" for _, kind in links)
    early = [(href[2:], kind) for href, kind in streamlit_files.early_assets()]
    # The shell's own (+ the module, the stylesheet, the font), then the modules the pages load late.
    assert len(links) == index.count('rel="modulepreload"') + 3 + len(early)
    for href, kind in links:
        assert (STATIC / href).is_file(), href
        assert "./" + href in index or (href, kind) in early  # read from Streamlit's files, nothing invented
        assert portal.get("/" + href, headers=GZIP).status_code == 200


def test_the_shell_asks_at_once_for_the_modules_the_pages_load_late(portal):
    found = streamlit_files.early_assets()
    stems = {href.rsplit("/", 1)[1].split(".")[0] for href, _ in found}
    assert {"rehype-raw", "Button", "Selectbox", "Checkbox", "Html"} <= stems
    assert (
        "./static/media/" + next(p.name for p in (STATIC / "static" / "media").glob("MaterialSymbols*.woff2")),
        "font",
    ) in found
    for href, _kind in found:
        assert (STATIC / href[2:]).is_file(), href
    shell = portal.get("/mes-inscriptions", headers={"Accept-Encoding": "identity"}).text
    assert "<title>" in shell and streamlit_files.early_links() in shell
    asked = re.findall(r'<link rel="modulepreload" crossorigin href="\./static/js/([^".]+)\.', shell)
    assert set(streamlit_files.SHELL_EARLY) <= set(asked)  # the markdown-with-HTML chain, at once


def test_streamlits_main_bundle_comes_in_brotli_to_a_browser_that_asks(portal):
    path = "/" + _index_script()
    packed, packed_body = _raw_get(portal, path, BR)
    original = (STATIC / _index_script()).read_bytes()
    assert packed.headers["content-encoding"] == "br"
    assert brotli.decompress(packed_body) == original
    assert int(packed.headers["content-length"]) == len(packed_body) < len(original) / 2
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert packed.headers["etag"].startswith("W/")
    gzipped, gzipped_body = _raw_get(portal, path, GZIP)  # the same file, to a gzip-only client
    assert gzipped.headers["content-encoding"] == "gzip" and gzip.decompress(gzipped_body) == original


def test_the_french_html_shell_comes_in_brotli_too(portal):
    packed, packed_body = _raw_get(portal, "/connexion", BR)
    assert packed.headers["content-encoding"] == "br"
    assert b'<html lang="fr">' in brotli.decompress(packed_body)


def test_images_and_fonts_are_left_as_they_are(portal):
    font = next(p for p in (STATIC / "static" / "media").glob("KaTeX_*.woff2"))  # not one fonts.py subsets
    answer, body = _raw_get(portal, f"/static/media/{font.name}", BR)
    assert "content-encoding" not in answer.headers and body == font.read_bytes()
    answer, body = _raw_get(portal, "/favicon.png", GZIP)
    assert "content-encoding" not in answer.headers and body == (STATIC / "favicon.png").read_bytes()


def test_the_server_serves_the_subsets_at_streamlits_urls(portal):
    from lib.web.fonts import icon_glyphs
    from tests.helpers import ICON_FILE, MEDIA, TEXT_FILE, font, our_icons

    for path in (ICON_FILE, TEXT_FILE):
        answer = portal.get(f"/static/media/{path.name}", headers=BR)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "font/woff2"
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-encoding" not in answer.headers
        assert int(answer.headers["content-length"]) == len(answer.content) < path.stat().st_size * 0.7
        assert answer.headers["etag"].startswith('"subset-')
        assert font(answer.content)["head"] is not None
        again = portal.get(f"/static/media/{path.name}", headers={**BR, "If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        head = portal.head(f"/static/media/{path.name}")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == answer.headers["content-length"]
    served = font(portal.get(f"/static/media/{ICON_FILE.name}", headers=BR).content)
    assert set(our_icons()) <= set(icon_glyphs(served, our_icons()))
    other = next(MEDIA.glob("KaTeX_Main-Regular.*.woff2"))
    assert portal.get(f"/static/media/{other.name}").content == other.read_bytes()  # not ours to change


# --- the middleware alone, on tiny apps -------------------------------------------------------

BIG = ("const answer = 42; // " + "le portail famille " * 300 + "\n").encode() * 4
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def _big(_request):
    return Response(BIG, media_type="application/javascript")


def _streamed(_request):
    async def pieces():
        for i in range(5):
            yield BIG[i * 1000 : (i + 1) * 1000]
        yield BIG[5000:]

    return StreamingResponse(pieces(), media_type="text/csv")


def _encoded(_request):
    return Response(gzip.compress(BIG), media_type="application/javascript", headers={"Content-Encoding": "gzip"})


def _tiny(_request):
    return PlainTextResponse("ok")


def _png(_request):
    return Response(PNG, media_type="image/png")


def _component(_request):
    return Response(BIG, media_type="application/javascript", headers={"Cache-Control": "public"})


async def _echo(websocket):
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text() * 100)
    await websocket.close()


def _tiny_app(*middleware):
    return Starlette(
        routes=[
            Route("/big.js", _big, methods=["GET", "HEAD"]),
            Route("/stream.csv", _streamed),
            Route("/encoded.js", _encoded),
            Route("/tiny", _tiny),
            Route("/image.png", _png),
            Route("/component/cal/static/js/main.a153ecd0.js", _component),
            Route("/component/cal/index.html", _component),
            WebSocketRoute("/ws", _echo),
        ],
        middleware=list(middleware),
    )


@pytest.fixture
def tiny():
    with TestClient(_tiny_app(Middleware(Compress))) as client:
        yield client


def test_a_streamed_answer_is_compressed_as_it_streams(tiny):
    answer, body = _raw_get(tiny, "/stream.csv", GZIP)
    assert answer.headers["content-encoding"] == "gzip" and "content-length" not in answer.headers
    assert gzip.decompress(body) == BIG
    answer, body = _raw_get(tiny, "/stream.csv", BR)
    assert answer.headers["content-encoding"] == "br" and "content-length" not in answer.headers
    assert brotli.decompress(body) == BIG


def _immutable(_request):
    return Response(
        BIG,
        media_type="application/javascript",
        headers={"Cache-Control": "public, immutable, max-age=31536000", "ETag": '"abc"'},
    )


def test_an_immutable_file_gets_brotlis_best_level_once_computed_behind():
    compress = Compress(Starlette(routes=[Route("/static/js/main.abc.js", _immutable)]))
    with TestClient(compress) as client:
        first, first_body = _raw_get(client, "/static/js/main.abc.js", BR)
        assert first.headers["content-encoding"] == "br" and brotli.decompress(first_body) == BIG
        compress.wait_for_best()
        best, best_body = _raw_get(client, "/static/js/main.abc.js", BR)
        assert brotli.decompress(best_body) == BIG
        assert best_body == brotli.compress(BIG, quality=11)  # the cached copy was replaced by the best one
        assert int(best.headers["content-length"]) == len(best_body) <= len(first_body)
        gzipped, gzipped_body = _raw_get(client, "/static/js/main.abc.js", GZIP)  # cached apart
        assert gzipped.headers["content-encoding"] == "gzip" and gzip.decompress(gzipped_body) == BIG
        _again, again_body = _raw_get(client, "/static/js/main.abc.js", BR)
        assert again_body == best_body


def test_already_encoded_tiny_and_incompressible_answers_pass_untouched(tiny):
    answer, body = _raw_get(tiny, "/encoded.js", GZIP)
    assert answer.headers["content-encoding"] == "gzip" and gzip.decompress(body) == BIG  # not gzipped twice
    answer, body = _raw_get(tiny, "/tiny", GZIP)
    assert "content-encoding" not in answer.headers and body == b"ok"
    answer, body = _raw_get(tiny, "/image.png", BR)
    assert "content-encoding" not in answer.headers and body == PNG and "vary" not in answer.headers


def test_head_and_range_requests_are_not_compressed(tiny):
    head = tiny.head("/big.js", headers=GZIP)
    assert "content-encoding" not in head.headers and head.headers["content-length"] == str(len(BIG))
    answer, body = _raw_get(tiny, "/big.js", {**GZIP, "Range": "bytes=0-99"})
    assert "content-encoding" not in answer.headers and body == BIG


def test_a_websocket_passes_untouched(tiny):
    with tiny.websocket_connect("/ws", headers=GZIP) as socket:
        socket.send_text("bonjour ")
        assert socket.receive_text() == "bonjour " * 100


def test_hashed_component_files_get_the_long_cache_and_others_do_not(tiny):
    hashed = tiny.get("/component/cal/static/js/main.a153ecd0.js", headers=GZIP)
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert hashed.content == BIG  # httpx decoded it
    assert tiny.get("/component/cal/index.html", headers=GZIP).headers["cache-control"] == "public"


def test_without_the_middleware_nothing_is_compressed():
    """The same requests on the same tiny app without Compress: what the portal sent before."""
    with TestClient(_tiny_app()) as client:
        answer, body = _raw_get(client, "/big.js", GZIP)
        assert "content-encoding" not in answer.headers and body == BIG


@pytest.mark.parametrize(
    "header, expected",
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("x-gzip", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("GZIP", True),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header, expected, monkeypatch):
    monkeypatch.setattr(compression, "brotli", None)  # gzip or nothing: the weights of gzip decide
    assert (choose_coding(header) == "gzip") is expected


@pytest.mark.parametrize(
    "header, expected",
    [
        ("gzip, deflate, br, zstd", "br"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("gzip;q=0, *", "br"),
        ("identity", None),
        ("", None),
        ("br;q=0, gzip;q=0", None),
        ("BR, GZIP", "br"),
        ("deflate", None),
    ],
)
def test_brotli_is_chosen_when_the_browser_accepts_it(header, expected):
    assert choose_coding(header) == expected


@pytest.mark.parametrize(
    "content_type, expected",
    [
        ("text/html; charset=utf-8", True),
        ("application/javascript", True),
        ("text/css", True),
        ("application/json", True),
        ("image/svg+xml", True),
        ("text/csv; charset=utf-8", True),
        ("text/calendar", True),
        ("image/png", False),
        ("font/woff2", False),
        ("application/pdf", False),
        ("text/event-stream", False),
        ("application/octet-stream", False),
        ("", False),
    ],
)
def test_which_types_are_compressed(content_type, expected):
    assert compressible(content_type) is expected
