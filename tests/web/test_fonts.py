"""Streamlit's fonts served as subsets (lib/web/fonts.py): the icon font still draws every icon the
portal and Streamlit's interface name, the text font still writes French, and a font that cannot
be subset is served as it is. Served through the real server: tests/web/test_compression.py
(one st.App per test session)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from lib.web import fonts
from lib.web.fonts import FontSubsets, build_subsets, icon_glyphs, icon_names
from tests.helpers import ICON_FILE, ITALIC_FILE, TEXT_FILE, font, our_icons

# Icons Streamlit's own interface draws, named here by hand: the sidebar's open/close chevrons, the
# page menu, expanders, dialogs' close, checks, the password eye, the main menu.
CHROME = [
    "keyboard_double_arrow_right",
    "keyboard_double_arrow_left",
    "expand_more",
    "expand_less",
    "close",
    "check",
    "search",
    "menu",
    "more_vert",
    "more_horiz",
    "keyboard_arrow_down",
    "keyboard_arrow_right",
    "visibility",
    "visibility_off",
    "chevron_left",
    "chevron_right",
    "error",
    "info",
    "check_circle",
    "content_copy",
    "upload",
    "download",
]
UNUSED = ["pets", "rocket_launch", "sailing", "hiking"]  # named nowhere: must be gone from the subset


@pytest.fixture(scope="module")
def subsets():
    return build_subsets()


def test_the_icon_font_is_a_fraction_of_the_original_and_draws_every_icon_named(subsets):
    subset = subsets[ICON_FILE.name]
    assert subset is not None and len(subset.body) < ICON_FILE.stat().st_size / 5
    original, served = font(ICON_FILE.read_bytes()), font(subset.body)
    ours = our_icons()
    assert {"home", "receipt_long", "edit_calendar"} <= ours  # the scan finds the portal's icons
    wanted = ours | set(CHROME) | icon_names()
    in_original = icon_glyphs(original, wanted)
    assert set(ours) | set(CHROME) <= set(in_original), "an icon the portal names is not in Streamlit's font"
    assert icon_glyphs(served, wanted) == in_original  # each name still makes the same glyph
    for name in UNUSED:
        assert name in icon_glyphs(original, [name]) and name not in icon_glyphs(served, [name])
    assert len(served.getGlyphOrder()) < len(original.getGlyphOrder()) / 10
    cmap = served.getBestCmap()
    assert all(ord(c) in cmap for c in "abcdefghijklmnopqrstuvwxyz0123456789_")


def test_a_new_icon_in_a_page_is_found_by_the_scan(tmp_path):
    page = tmp_path / "nouvelle_page.py"
    page.write_text('st.button("Animaux", icon=":material/pets:")\n', encoding="utf-8")
    assert icon_names([page]) == {"pets"}
    served = font(fonts.subset_icon_font(ICON_FILE.read_bytes(), icon_names([page]) | {"home"}))
    assert set(icon_glyphs(served, ["pets", "home", "hiking"])) == {"pets", "home"}


@pytest.mark.parametrize("path", [TEXT_FILE, ITALIC_FILE], ids=["upright", "italic"])
def test_the_text_font_still_writes_french_with_its_weights(subsets, path):
    subset = subsets[path.name]
    assert subset is not None and len(subset.body) < path.stat().st_size * 0.7
    original, served = font(path.read_bytes()), font(subset.body)
    cmap = served.getBestCmap()
    french = "éèêëàâäçîïôöùûüÿœæÉÈÀÇŒÆ€«»’–—…•\u00a0\u202f°№✓"
    assert [c for c in french if ord(c) in original.getBestCmap() and ord(c) not in cmap] == []
    assert all(ord(c) in cmap for c in "éàç€«»œ\u00a0\u202f")
    assert [(a.axisTag, a.minValue, a.maxValue) for a in served["fvar"].axes] == [
        (a.axisTag, a.minValue, a.maxValue) for a in original["fvar"].axes
    ]
    assert "gvar" in served and "GPOS" in served and "GSUB" in served
    features = {r.FeatureTag for r in served["GPOS"].table.FeatureList.FeatureRecord}
    assert "kern" in features


# --- the fallback: the original, never a failed request -------------------------------------

ORIGINAL = b"wOF2 Streamlit's own bytes"


def _original(_request):
    return Response(ORIGINAL, media_type="font/woff2", headers={"ETag": '"original"'})


def _app(build):
    inner = Starlette(routes=[Route("/static/media/{name}", _original)])
    middleware = FontSubsets(inner, build=build)
    assert middleware.wait(60)
    return middleware


def test_a_font_that_cannot_be_subset_is_served_as_it_is(tmp_path, capfd):
    broken = tmp_path / ICON_FILE.name
    broken.write_bytes(b"not a font at all")
    built = build_subsets(media=tmp_path)
    assert built == {ICON_FILE.name: None}
    assert "servie telle quelle" in capfd.readouterr().err
    with TestClient(_app(lambda: built)) as client:
        answer = client.get(f"/static/media/{ICON_FILE.name}")
        assert answer.status_code == 200 and answer.content == ORIGINAL and answer.headers["etag"] == '"original"'


def test_a_failed_build_serves_every_original(capfd):
    def fails():
        raise ImportError("No module named 'fontTools'")

    with TestClient(_app(fails)) as client:
        for path in (ICON_FILE, TEXT_FILE):
            answer = client.get(f"/static/media/{path.name}")
            assert answer.status_code == 200 and answer.content == ORIGINAL
    assert "originaux servis" in capfd.readouterr().err


def test_only_the_subset_fonts_are_answered(subsets):
    with TestClient(_app(lambda: subsets)) as client:
        assert client.get(f"/static/media/{ICON_FILE.name}").content == subsets[ICON_FILE.name].body
        assert client.get("/static/media/KaTeX_Main-Regular.abc.woff2").content == ORIGINAL
        assert client.post(f"/static/media/{ICON_FILE.name}").status_code == 405  # the app's own answer
