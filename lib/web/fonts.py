"""Smaller fonts for a phone's first visit: Streamlit's own font files, subset once, served at
their own URLs (so Streamlit's CSS is untouched).

Streamlit's frontend loads two woff2 files on every first visit, and woff2 does not compress
further: its icon font, MaterialSymbols-Rounded (366 KB, preloaded by its `index.js` before
anything is drawn), and its text font, SourceSansVF (166 KB). Over slow 4G that is almost 3 s of
the wire. Neither needs most of what it holds:

- the icon font is a ligature font: the text `home` in it draws the house. It holds ~3,800
  icons; the portal draws the few named `:material/…:` in our code (app.py, pages/, lib/) and
  Streamlit's own interface draws a few dozen more (its sidebar chevrons, `close`, `expand_more`…,
  every `:material/…:` string of its bundle and its Python package, to be generous). The subset
  keeps the letters, digits and `_`, those icons' glyphs and the ligatures that make them, and no
  other ligature: an icon left out would draw as its name in letters, so the collection is wide.
- the text font keeps what French pages (and most names written in Latin script) need: Latin-1,
  Latin Extended-A, a few letters of Extended-B (Romanian ș ț), punctuation (« » ’ – — … •,
  U+00A0/U+202F spaces), €, arrows and ✓-like symbols, with every layout feature and its weight
  axis. A character outside (Greek, Cyrillic, Vietnamese) is drawn by the phone's own font.

The subsets are built in a background thread when the server starts (a few seconds; a request
that comes earlier waits for them) and kept in memory, each with its own ETag and the one-year
immutable cache of Streamlit's hashed files. A font that cannot be subset (fontTools or brotli
missing, a font Streamlit changed) is served as Streamlit's original: one line in the log, never
a failed request.
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from lib.web import streamlit_files
from lib.web.compression import LONG_CACHE

ROOT = Path(__file__).resolve().parents[2]
ICON = re.compile(r":material/([a-z0-9_]+):")
ICON_FONT = re.compile(r"^MaterialSymbols-Rounded\.[^/]+\.woff2$")
TEXT_FONT = re.compile(r"^SourceSansVF-(?:Upright|Italic)\.ttf\.[^/]+\.woff2$")
# What the icon font needs besides the icons: the characters their names are typed with.
LIGATURE_TEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ .\r"
# The text font's characters: Latin script and the symbols a French page may hold.
TEXT_RANGES = [
    (0x0000, 0x017F),  # Basic Latin, Latin-1 (é à ç « »), Latin Extended-A (œ Œ ł ő)
    (0x0192, 0x0192),
    (0x01CD, 0x01DC),
    (0x0218, 0x021B),  # from Extended-B: ƒ, ǎ ǐ ǒ ǔ, Romanian ș ț
    (0x02B0, 0x02FF),  # spacing modifiers: ʼ ˆ ˜ ˚
    (0x0300, 0x036F),  # combining diacritics (a name typed in decomposed form)
    (0x2000, 0x206F),  # general punctuation: – — ’ “ ” … • ‹ › and the thin/no-break spaces
    (0x20A0, 0x20CF),  # currency: €
    (0x2100, 0x214F),  # letterlike: № ™
    (0x2150, 0x218F),  # number forms: ⅓
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # math operators: − × ≤ ≥
    (0x2300, 0x23FF),  # technical: ⌘
    (0x25A0, 0x25FF),  # geometric shapes: ■ ● ▲
    (0x2600, 0x27BF),  # symbols and dingbats: ✓ ✔ ✗
    (0xFB00, 0xFB06),  # ligatures ﬁ ﬂ
    (0xFEFF, 0xFEFF),
    (0xFFFD, 0xFFFD),
]


def _streamlit_package() -> Path:
    """Streamlit's installed folder."""
    package = streamlit_files.package_dir()
    if package is None:
        raise FileNotFoundError("streamlit is not installed")
    return package


def streamlit_media_dir() -> Path:
    return _streamlit_package() / "static" / "static" / "media"


def _icon_sources() -> Iterator[Path]:
    yield ROOT / "app.py"
    for folder in (ROOT / "pages", ROOT / "lib"):
        yield from sorted(folder.rglob("*.py"))
    package = _streamlit_package()
    yield from sorted((package / "static" / "static" / "js").glob("*.js"))  # its interface's own icons
    yield from sorted(p for p in package.rglob("*.py") if "static" not in p.parts)  # icons its Python emits


def icon_names(sources: Iterable[Path] | None = None) -> set[str]:
    """Every `:material/<name>:` in our code and in Streamlit's bundle and package."""
    names: set[str] = set()
    for path in _icon_sources() if sources is None else sources:
        try:
            names.update(ICON.findall(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue
    return names


def _ligatures(font) -> Iterator[tuple[tuple[str, ...], str]]:
    """(component glyphs, ligature glyph) of every ligature substitution in the font's GSUB."""
    if "GSUB" not in font:
        return
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for sub in lookup.SubTable:
            sub = getattr(sub, "ExtSubTable", sub)
            for first, ligatures in (getattr(sub, "ligatures", None) or {}).items():
                for ligature in ligatures:
                    yield (first, *ligature.Component), ligature.LigGlyph


def icon_glyphs(font, names: Iterable[str]) -> dict[str, str]:
    """icon name → the glyph its ligature draws, for the names the font has."""
    cmap = font.getBestCmap()
    table = dict(_ligatures(font))
    found = {}
    for name in names:
        try:
            sequence = tuple(cmap[ord(c)] for c in name)
        except KeyError:
            continue
        if sequence in table:
            found[name] = table[sequence]
    return found


def _save_woff2(font) -> bytes:
    font.flavor = "woff2"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def subset_icon_font(data: bytes, names: Iterable[str]) -> bytes:
    """The icon font with only the icons `names` (and the letters that spell them)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data))
    glyphs = icon_glyphs(font, names)
    if not glyphs:
        raise ValueError("no icon of the list found in the font's ligatures")
    cmap = font.getBestCmap()
    keep = {cmap[ord(c)] for c in LIGATURE_TEXT if ord(c) in cmap} | set(glyphs.values()) | {".notdef"}
    options = _options(subset, glyph_names=True)
    options.layout_closure = False  # keep the ligatures into kept glyphs only, not all 3,800 icons
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=sorted(keep), unicodes=[ord(c) for c in LIGATURE_TEXT])
    subsetter.subset(font)
    return _save_woff2(font)


def _options(subset, *, glyph_names: bool):
    """What both subsets keep: every layout feature, the names, a drawn .notdef; woff2 out."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.glyph_names = glyph_names
    options.flavor = "woff2"
    return options


def subset_text_font(data: bytes) -> bytes:
    """The text font with Latin script and common symbols, every layout feature and axis kept."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data))
    subsetter = subset.Subsetter(_options(subset, glyph_names=False))
    subsetter.populate(unicodes=[u for low, high in TEXT_RANGES for u in range(low, high + 1)])
    subsetter.subset(font)
    return _save_woff2(font)


@dataclass(frozen=True)
class Subset:
    body: bytes
    etag: str
    original_size: int


CACHE_DIR = Path(tempfile.gettempdir()) / "portail-famille-fonts"


def _kept(data: bytes, recipe: str, build) -> bytes:
    """A subset built once per font, recipe and fontTools version, then read back from a cache
    folder: every server start (the tests start several) would otherwise spend seconds of CPU on
    the same few files. A cache that cannot be read or written only means building again."""
    from fontTools import version as fonttools_version

    key = hashlib.sha256(b"\0".join([fonttools_version.encode(), recipe.encode(), data])).hexdigest()
    cached = CACHE_DIR / f"{key}.woff2"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    body = build()
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{threading.get_ident()}.part")
        partial.write_bytes(body)
        partial.replace(cached)  # whole or absent, whoever reads it
    except OSError:
        pass
    return body


def build_subsets(media: Path | None = None, names: Iterable[str] | None = None) -> dict[str, Subset | None]:
    """File name → its subset, for Streamlit's icon font and text fonts; None where it failed
    (that file is then served as it is)."""
    media = streamlit_media_dir() if media is None else media
    wanted = [p for p in sorted(media.glob("*.woff2")) if ICON_FONT.match(p.name) or TEXT_FONT.match(p.name)]
    result: dict[str, Subset | None] = {}
    for path in wanted:
        try:
            data = path.read_bytes()
            if ICON_FONT.match(path.name):
                icons = sorted(icon_names() if names is None else names)
                body = _kept(data, "\n".join(icons), lambda data=data, icons=icons: subset_icon_font(data, icons))
            else:
                body = _kept(data, "text", lambda data=data: subset_text_font(data))
            if len(body) >= len(data):
                raise ValueError("the subset is not smaller")
            digest = hashlib.sha256(body).hexdigest()[:20]
            result[path.name] = Subset(body, f'"subset-{digest}"', len(data))
        except Exception as exc:
            print(
                f"Polices : {path.name} servie telle quelle, sous-ensemble impossible ({type(exc).__name__}: {exc})",
                file=sys.stderr,
                flush=True,
            )
            result[path.name] = None
    return result


class FontSubsets:
    """Pure ASGI middleware: answers GET/HEAD of Streamlit's font files with their subsets."""

    def __init__(self, app: ASGIApp, *, build=build_subsets):
        self.app = app
        self.subsets: dict[str, Subset | None] = {}
        self._ready = threading.Event()

        def work() -> None:
            try:
                self.subsets = build()
            except Exception as exc:
                print(
                    f"Polices : sous-ensembles impossibles, originaux servis ({type(exc).__name__}: {exc})",
                    file=sys.stderr,
                    flush=True,
                )
            finally:
                self._ready.set()

        threading.Thread(target=work, name="font-subsets", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        head, _, name = path.rpartition("/")
        if (
            not head.endswith("/static/media")
            or scope["method"] not in ("GET", "HEAD")
            or not (ICON_FONT.match(name) or TEXT_FONT.match(name))
        ):
            await self.app(scope, receive, send)
            return
        if not self._ready.is_set():
            await to_thread.run_sync(self._ready.wait)
        subset = self.subsets.get(name)
        if subset is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"font/woff2"),
            (b"cache-control", LONG_CACHE.encode()),
            (b"etag", subset.etag.encode()),
        ]
        if_none_match = Headers(scope=scope).get("if-none-match", "")
        if subset.etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(subset.body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else subset.body})
