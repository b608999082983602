"""Text typed by people (family names, addresses, the names an administrator gives sites, services
and diets) made inert where it is shown: `pdf` for reportlab's paragraph markup. What someone
typed is shown as typed, never as a tag."""

from __future__ import annotations

from xml.sax.saxutils import escape


def pdf(text: object) -> str:
    """`text` for a reportlab Paragraph (XML-like markup: <b>, <br/>, &amp;), shown literally."""
    return escape(str(text))
