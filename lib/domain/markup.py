"""Text typed by people (family, child and user names, addresses, reasons, the names an
administrator gives sites, services, diets and closures, and the messages that quote them) made
inert where it is shown: `md` for Streamlit's markdown (st.markdown, captions, titles, alerts,
widget labels), `pdf` for reportlab's paragraph markup. What someone typed is shown as typed,
never as a link, an image, a tag, emphasis or a list."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

# What can start markdown inside a line: code, emphasis, links and images ([ and ![), HTML and
# <autolinks>, entities (&amp;), strikethrough, LaTeX ($), headings and tables. A backslash makes
# each literal (CommonMark escapes any ASCII punctuation); the rest of the punctuation (. , : ' ( )
# - !) cannot start anything once these are escaped, and stays as is in the source.
_INLINE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>&~$#|"})
# What starts a list when the text begins a line (« - », « + », « 1. », « 1) »).
_LIST_MARKER = re.compile(r"^([-+]|\d{1,9}[.)])")
# Streamlit's GFM also turns bare addresses into links, in a pass over the text *after* the escapes
# are resolved (mdast-util-gfm-autolink-literal): « https://… », « www.… », « x@y.z ». An invisible
# word joiner (U+2060) before « :// » and « @ » and after « www » keeps the text as it reads but
# makes it no address.
WORD_JOINER = "\u2060"
_AUTOLINKS = re.compile(r"(?=://)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def md(text: object) -> str:
    """`text` for Streamlit markdown, shown literally, on one line (a line break would start a block)."""
    flat = _LINE_BREAKS.sub(" ", str(text)).strip()
    inert = _AUTOLINKS.sub(WORD_JOINER, flat).translate(_INLINE)
    return _LIST_MARKER.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], inert)


def pdf(text: object) -> str:
    """`text` for a reportlab Paragraph (XML-like markup: <b>, <br/>, &amp;), shown literally."""
    return escape(str(text))
