"""`md`: what people type, put into Streamlit's markdown, is shown as typed and never becomes a
link, an image, HTML, emphasis or a list. Rendered here with markdown-it (CommonMark, GFM tables and
strikethrough) plus the pass Streamlit's GFM makes over the text afterwards to link bare addresses
(the regular expressions of mdast-util-gfm-autolink-literal, as Streamlit 1.67's bundle has them)."""

import re
from html import unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lib.domain.markup import WORD_JOINER, md, pdf

RENDERER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# mdast-util-gfm-autolink-literal's transform (Streamlit's StreamlitMarkdown bundle, function `nc`)
BARE_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I)
BARE_EMAIL = re.compile(r"(?<![^\s\W])([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)")
PAYLOADS = [
    "![x](https://evil.example/p.png) [clic](https://evil.example)",
    "<img src=https://evil.example/p.png>",
    "<https://evil.example>",
    "www.evil.example",
    "contact@evil.example",
    "**gras** _it_ `code` ~~barré~~",
    "# Titre",
    "- liste",
    "1. liste",
    "3) liste",
    "> citation",
    "| a | b |",
    "$x^2$",
    ":red[rouge]",
    "&lt;b&gt; &amp;",
    "a\\",
    "[x]: https://evil.example",
    "Ligne\n# deux\r\n===",
    "O'Brien & <Fils>",
]


def render(source: str) -> str:
    return RENDERER.render(source)


def shown(source: str) -> str:
    """The text a reader sees (tags dropped, entities decoded, the invisible word joiner removed)."""
    return unescape(re.sub(r"<[^>]+>", "", render(source))).strip().replace(WORD_JOINER, "")


def expected(text: str) -> str:
    return " ".join(re.split(r"[\r\n\u2028\u2029]+", text)).strip()


@pytest.mark.parametrize("text", PAYLOADS)
def test_what_was_typed_is_shown_as_typed_and_is_no_markup(text):
    html = render(md(text))
    assert re.fullmatch(r"<p>[^<]*</p>\n", html), html  # one paragraph of plain text, no element
    assert shown(md(text)) == expected(text)


@pytest.mark.parametrize("text", PAYLOADS)
def test_no_bare_address_is_left_for_streamlit_to_link(text):
    text_node = unescape(re.sub(r"<[^>]+>", "", render(md(text))))
    assert not BARE_URL.search(text_node) and not BARE_EMAIL.search(text_node)


def test_inside_our_own_markdown_a_name_stays_a_name():
    html = render(f"- **{md('![x](https://evil.example/p.png)')}** : {md('- 1. _x_')}")
    assert "<img" not in html and "<a" not in html and "<em>" not in html and html.count("<li>") == 1


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc"))))
def test_any_text_comes_back_as_typed(text):
    assert shown(md(text)) == expected(text).strip(" \t\n\r\x0b\x0c")


def test_pdf_markup_is_escaped():
    assert pdf("<b>O'Brien & <Fils>") == "&lt;b&gt;O'Brien &amp; &lt;Fils&gt;"
