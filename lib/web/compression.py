"""Brotli or gzip on the way out, for a phone on a mobile network.

Streamlit 1.67 has a gzip middleware of its own, but it deliberately leaves its frontend bundles
(`/static/...`) and its root document uncompressed (its reasons, in
`streamlit/web/server/starlette/starlette_gzip_middleware.py`: gzip at the origin costs CPU on
every hit, and a CDN in front would compress anyway), and no setting turns that on. A town's
portal has no CDN in front, and those bundles are 2.8 MB of a first visit: over slow 4G that is
most of the wait. So this middleware, outermost on the `st.App`, compresses every compressible
answer itself, and answers Streamlit's objection:

- a hashed, immutable file (Streamlit's `Cache-Control: immutable` with an ETag) is compressed
  once and kept in a bounded cache keyed by path, ETag and coding: later visitors cost a
  dictionary lookup, not a compression;
- anything else is compressed as it streams, at a middle level.

Brotli (`br`) when the browser accepts it — every current one does over http://localhost and
https — and gzip otherwise. Brotli's best level (11) shrinks Streamlit's bundles a quarter more
than gzip's best, but costs about 4 s of CPU per megabyte: the first visitor of a file gets it at
a fast level (5, already smaller than gzip -9) and the best level is computed in one background
thread, replacing the cached copy when it is ready. Without the `brotli` package, gzip only.

Hashed files that come without a long cache (a component's `static/js/main.<hash>.js`, which
Streamlit sends with a bare `Cache-Control: public`) get one, so a phone does not download them
again on every visit.

Left untouched: websockets, HEAD and Range requests, answers already encoded, partial or
bodiless answers, small bodies, and types that do not shrink (images, woff/woff2 fonts, PDF —
reportlab already deflates its pages —, archives, audio, video). Inner layers are asked for
identity (Accept-Encoding removed), so there is one compression policy: this one.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

try:
    import brotli
except ImportError:  # gzip only
    brotli = None

from anyio import to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 1024  # below this, gzip's header and checksum eat most of the gain
STREAM_LEVEL = 6
CACHED_LEVEL = 9
BROTLI_STREAM_QUALITY = 4  # a streamed or one-off answer (the HTML shell, a CSV export)
BROTLI_FIRST_QUALITY = 5  # an immutable file's first visitor, while quality 11 is computed behind
BROTLI_BEST_QUALITY = 11
THREAD_SIZE = 64 * 1024  # compress bigger bodies in a worker thread, off the event loop
CACHE_BYTES = 32 * 1024 * 1024
LONG_CACHE = "public, max-age=31536000, immutable"

_TEXT_TYPES = {
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "application/json",
    "application/manifest+json",
    "application/xml",
    "application/xhtml+xml",
    "application/wasm",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "font/ttf",
    "font/otf",
    "application/x-font-ttf",
    "application/vnd.ms-fontobject",
}
# A component's build output: `…/static/js/main.a153ecd0.js`, `…/static/css/main.7f1c2b3e.css`.
_HASHED_COMPONENT_FILE = re.compile(r"^/component/[^/]+/static/(?:js|css|media)/[^/]+\.[0-9a-f]{8,}\.[a-z0-9]+$")


def compressible(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    if media == "text/event-stream":  # each event must leave at once
        return False
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def _weights(accept_encoding: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding:
            weights[coding.strip().lower()] = q
    return weights


def _accepts(weights: dict[str, float], *names: str) -> float:
    """The weight given to the first of `names` listed, else to `*` (RFC 9110 §12.5.3)."""
    for name in names:
        if name in weights:
            return weights[name]
    return weights.get("*", 0)


def choose_coding(accept_encoding: str) -> str | None:
    """ "br" when brotli is accepted (and installed) at least as much as gzip, else "gzip" when
    accepted, else None (identity)."""
    weights = _weights(accept_encoding)
    gzip_q = _accepts(weights, "gzip", "x-gzip")
    br_q = _accepts(weights, "br") if brotli is not None else 0
    if br_q > 0 and br_q >= gzip_q:
        return "br"
    return "gzip" if gzip_q > 0 else None


class _CompressedCache:
    """Compressed bodies of immutable files, least recently used out first, bounded in bytes.
    Keyed by (path, ETag, coding). Thread-safe: brotli's best level is stored from a worker."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[str, bytes, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bytes, str]) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple[str, bytes, str], body: bytes, *, replace: bool = False) -> None:
        with self._lock:
            if len(body) > self.max_bytes or (key in self._items and not replace):
                return
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._items[key] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self.size -= len(old)


class Compress:
    """Pure ASGI middleware: brotli or gzip for clients that accept it (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = MINIMUM_SIZE, cache_bytes: int = CACHE_BYTES):
        self.app = app
        self.minimum_size = minimum_size
        self.cache = _CompressedCache(cache_bytes)
        self._best = ThreadPoolExecutor(max_workers=1, thread_name_prefix="brotli-11")  # one core at most
        self._pending: set[tuple[str, bytes, str]] = set()
        self._pending_lock = threading.Lock()

    def improve_later(self, key: tuple[str, bytes, str], body: bytes) -> None:
        """Compress `body` at brotli's best level in the background, then replace the cached copy."""
        with self._pending_lock:
            if key in self._pending:
                return
            self._pending.add(key)

        def work() -> None:
            try:
                self.cache.put(key, brotli.compress(body, quality=BROTLI_BEST_QUALITY), replace=True)
            finally:
                with self._pending_lock:
                    self._pending.discard(key)

        self._best.submit(work)

    def wait_for_best(self) -> None:
        """Block until the background compressions queued so far are done (for tests and benches)."""
        self._best.submit(lambda: None).result()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "HEAD" or "range" in headers:  # a HEAD has no body; a range is of the identity body
            await self.app(scope, receive, _long_cache_for_hashed(scope, send))
            return
        coding = choose_coding(headers.get("accept-encoding", ""))
        inner = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"])
        await self.app(inner, receive, _Responder(self, scope, send, coding).send)


def _long_cache_for_hashed(scope: Scope, send: Send) -> Send:
    """`send` that gives a hashed component file the long cache Streamlit's own bundles have."""
    if not _HASHED_COMPONENT_FILE.match(scope.get("path", "")):
        return send

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            message.setdefault("headers", [])
            _add_long_cache(MutableHeaders(scope=message))
        await send(message)

    return wrapped


def _vary_on_accept_encoding(headers: MutableHeaders) -> None:
    """Add Accept-Encoding to Vary once (Streamlit's inner gzip layer may have added it already)."""
    existing = ", ".join(headers.getlist("vary"))
    tokens = {token.strip().lower() for token in existing.split(",")}
    if "accept-encoding" not in tokens and "*" not in tokens:
        headers["Vary"] = f"{existing}, Accept-Encoding" if existing else "Accept-Encoding"


def _add_long_cache(headers: MutableHeaders) -> None:
    if "immutable" not in headers.get("cache-control", "") and "no-store" not in headers.get("cache-control", ""):
        headers["Cache-Control"] = LONG_CACHE


class _Responder:
    """One answer's way out: pass it, or hold its start until the body says how to compress."""

    def __init__(self, owner: Compress, scope: Scope, send: Send, coding: str | None):
        self.owner = owner
        self.path: str = scope["path"]
        self.hashed_component = bool(_HASHED_COMPONENT_FILE.match(self.path))
        self._send = send
        self.coding = coding
        self.mode = "pass"  # pass | hold | stream | buffer | swallow
        self.start: Message = {}
        self.chunks: list[bytes] = []
        self.cache_key: tuple[str, bytes, str] | None = None
        self.compressor: _Stream | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            await self._on_start(message)
        elif kind == "http.response.body":
            await self._on_body(message)
        else:  # pathsend, trailers, early hints: nothing to compress
            if self.mode == "hold":
                self.mode = "pass"
                await self._send(self.start)
            await self._send(message)

    async def _on_start(self, message: Message) -> None:
        message.setdefault("headers", [])
        headers = MutableHeaders(scope=message)
        status = message["status"]
        if self.hashed_component and status == 200:
            _add_long_cache(headers)
        encoded = headers.get("content-encoding", "identity").lower() != "identity"
        if (
            encoded
            or status < 200
            or status in (204, 206, 304)
            or message.get("trailers")
            or "no-transform" in headers.get("cache-control", "")
            or not compressible(headers.get("content-type", ""))
        ):
            await self._send(message)
            return
        _vary_on_accept_encoding(headers)
        if self.coding is None:
            await self._send(message)
            return
        self.start = message
        self.mode = "hold"
        etag = headers.get("etag")
        if status == 200 and etag and "immutable" in headers.get("cache-control", ""):
            self.cache_key = (self.path, etag.encode(), self.coding)
            cached = self.owner.cache.get(self.cache_key)
            if cached is not None:
                self.mode = "swallow"  # the app still sends the file: its bytes are dropped
                await self._send_whole(cached)

    async def _on_body(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if self.mode == "pass":
            await self._send(message)
            return
        if self.mode == "swallow":
            return
        coding = self._coding()
        if self.mode == "hold" and not more and len(body) < self.owner.minimum_size:
            self.mode = "pass"
            await self._send(self.start)
            await self._send(message)
        elif (self.mode == "hold" and self.cache_key is not None) or self.mode == "buffer":
            self.mode = "buffer"
            self.chunks.append(body)
            key = self.cache_key
            assert key is not None  # set with the mode
            if not more:
                whole = b"".join(self.chunks)
                self.chunks = []
                compressed = await _maybe_in_thread(lambda: _whole(whole, coding, cached=True), len(whole))
                self.owner.cache.put(key, compressed)
                if coding == "br":
                    self.owner.improve_later(key, whole)
                self.mode = "pass"
                await self._send_whole(compressed)
        elif self.mode == "hold" and not more:
            compressed = await _maybe_in_thread(lambda: _whole(body, coding, cached=False), len(body))
            self.mode = "pass"
            await self._send_whole(compressed)
        else:  # a streamed body: compress each piece as it comes, flushed so it leaves at once
            if self.mode == "hold":
                self.mode = "stream"
                self.compressor = _Stream(coding)
                headers = self._encoded_headers()
                del headers["content-length"]
                await self._send(self.start)
            compressor = self.compressor
            assert compressor is not None  # made when the stream began

            def piece() -> bytes:
                return compressor.piece(body, last=not more)

            await self._send(
                {"type": "http.response.body", "body": await _maybe_in_thread(piece, len(body)), "more_body": more}
            )

    def _coding(self) -> str:
        assert self.coding is not None  # an answer is held, then buffered or streamed, only when it has a coding
        return self.coding

    def _encoded_headers(self) -> MutableHeaders:
        headers = MutableHeaders(scope=self.start)
        headers["Content-Encoding"] = self._coding()
        etag = headers.get("etag")
        if etag and not etag.startswith("W/"):
            # The compressed bytes are another representation: a strong tag would claim they are the
            # identity bytes. A weak one still revalidates (If-None-Match compares weakly).
            headers["ETag"] = "W/" + etag
        return headers

    async def _send_whole(self, compressed: bytes) -> None:
        headers = self._encoded_headers()
        headers["Content-Length"] = str(len(compressed))
        await self._send(self.start)
        await self._send({"type": "http.response.body", "body": compressed, "more_body": False})


class _Stream:
    """A streamed body's compressor: each piece flushed, so that it leaves at once."""

    def __init__(self, coding: str):
        self.coding = coding
        if coding == "br":
            self._br = brotli.Compressor(quality=BROTLI_STREAM_QUALITY)
        else:
            self._gz = zlib.compressobj(STREAM_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def piece(self, data: bytes, *, last: bool) -> bytes:
        if self.coding == "br":
            out = self._br.process(data)
            return out + (self._br.finish() if last else self._br.flush())
        out = self._gz.compress(data)
        return out + self._gz.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _whole(data: bytes, coding: str, *, cached: bool) -> bytes:
    """A whole body at once: an immutable file about to be cached gets the stronger level."""
    if coding == "br":
        return brotli.compress(data, quality=BROTLI_FIRST_QUALITY if cached else BROTLI_STREAM_QUALITY)
    compressor = zlib.compressobj(CACHED_LEVEL if cached else STREAM_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


async def _maybe_in_thread(work: Callable[[], bytes], size: int) -> bytes:
    if size >= THREAD_SIZE:
        return await to_thread.run_sync(work)
    return work()
