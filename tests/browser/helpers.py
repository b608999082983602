"""Helpers for the browser tests: every accessibility and French-language rule checked on a page
(`check`), and whole-page screenshots."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.browser.axe import audit, blocking, describe

# Violations inside Streamlit's own frame that the app cannot fix, by axe rule id, with the reason.
# Empty today: every serious or critical violation found so far has been fixed in the app. A rule
# added here must say why, and the statement (lib/domain/accessibility.py) must list the barrier.
STREAMLIT_KNOWN: dict[str, str] = {}

SCREENS = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp/portail-screens"))

_ENGLISH_MONTHS = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mon(?!\s+[a-zà-ÿ])|Tue|Wed|Thu|Fri|"
    r"Sat|Sun|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_DOT_AMOUNT = re.compile(r"\d\.\d+\s?(€|%|EUR\b)|€\s?\d+\.\d")
_CLOCK_TIME = re.compile(r"\b\d{1,2}:\d{2}\b|\b(AM|PM)\b")
_ENGLISH_PHRASES = re.compile(
    r"Page not found|does not seem to exist|Something went wrong|No results|"
    r"Choose an option|Please wait|\bNone\b|\bnan\b|\bNaN\b|\bNaT\b|\bTrue\b|\bFalse\b"
)
_DOT_NUMBER = re.compile(r"^-?[\d,]*\d\.\d+$")  # a whole table cell such as 93.4 or 1,234.5


# Streamlit's own words, in its aria-labels, placeholders, tooltips and hidden links: a screen reader
# says them even where nobody sees them (« Skip to main content », « Help for Mois affiché »).
ENGLISH_UI = re.compile(
    r"^(Skip to main content|Sidebar|App pages|Expand sidebar|Collapse sidebar|Main menu|"
    r"Open|Close|Clear value|Clear all|Selected values|Running\.\.\.|Stop|Stop script|"
    r"Show/hide columns|Download as CSV|Search|Fullscreen|Close fullscreen|Toggle fullscreen|"
    r"Help|Help for .*|Choose an option|Select\.\.\.|Print|Record a screencast|"
    r"Made with Streamlit|Show password|Hide password|Increment|Decrement|Link to heading|"
    r"Dataframe column menu|Navigate to home page|Remove .*|No results)$"
)


def english_ui(page) -> list[str]:
    """Streamlit's English in the document (frames excluded): aria-label, placeholder, title, alt,
    and whole text nodes (the skip link, the main menu, the grids' tooltips)."""
    values = page.evaluate("""(() => {
        const out = [];
        document.querySelectorAll('[aria-label],[placeholder],[title],[alt]').forEach(e => {
            for (const a of ['aria-label', 'placeholder', 'title', 'alt']) {
                const v = e.getAttribute(a); if (v) out.push(a + '=' + v.trim()); } });
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) { const v = walker.currentNode.nodeValue.trim(); if (v) out.push('text=' + v); }
        return out; })()""")
    return sorted({v for v in values if ENGLISH_UI.match(v.split("=", 1)[1])})


def french_problems(text: str, cells: list[str] = ()) -> list[str]:
    """What a French reader should never see: English months or days, dollars, 12.40 €, 14:05,
    and (in table cells) 93.4."""
    found = [cell for cell in cells if _DOT_NUMBER.match(cell.strip())]
    text = "\n".join([text, *cells])
    found += [m.group(0) for m in _ENGLISH_MONTHS.finditer(text)]
    found += [m.group(0) for m in _ENGLISH_PHRASES.finditer(text)]
    found += ["$"] if "$" in text else []
    found += [m.group(0) for m in _DOT_AMOUNT.finditer(text)]
    found += [m.group(0) for m in _CLOCK_TIME.finditer(text)]
    return found


def visible_text(page) -> str:
    """Text a reader gets: the document, the charts' SVG labels, and every component frame."""
    parts = [
        page.evaluate("document.body.innerText"),
        page.evaluate("Array.from(document.querySelectorAll('svg text')).map(t => t.textContent).join(' ')"),
    ]
    for frame in page.frames[1:]:
        if not frame.is_detached():
            parts.append(frame.evaluate("document.body ? document.body.innerText : ''"))
    return "\n".join(parts)


def table_cells(page) -> list[str]:
    """The cells of Streamlit's data grids, from the table it keeps for screen readers."""
    return page.evaluate("""Array.from(document.querySelectorAll('[data-testid=stDataFrame] td, '
        + '[data-testid=stDataFrame] th')).map(c => c.textContent)""")


def heading_levels(page) -> list[int]:
    return page.evaluate("""Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6'))
        .filter(h => h.offsetParent !== null && h.textContent.trim())
        .map(h => Number(h.tagName[1]))""")


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the window to it first."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "Math.max(document.body.scrollHeight, "
        "(document.querySelector('[data-testid=stMain]') || document.body).scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 8000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENS / f"{name}-{size['width']}.png"))
    page.set_viewport_size(size)


def check(page, name: str, *, title: str | None = None) -> None:
    """Every rule of this module on the page as it is now."""
    violations = blocking(audit(page), STREAMLIT_KNOWN)
    assert not violations, f"{name}: axe finds\n{describe(violations)}"
    assert page.evaluate("document.documentElement.lang") == "fr", name
    page_title = page.title()
    assert " – Portail Famille" in page_title, (name, page_title)
    if title:
        assert page_title.startswith(title), (name, page_title)
    levels = heading_levels(page)
    assert levels and levels[0] == 1 and levels.count(1) == 1, (name, levels)
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), (name, levels)
    width = page.viewport_size["width"]
    scroll = page.evaluate("""[document.documentElement.scrollWidth,
        (document.querySelector('[data-testid=stMain]') || document.body).scrollWidth,
        (document.querySelector('[data-testid=stMain]') || document.body).clientWidth]""")
    assert scroll[0] <= width and scroll[1] <= scroll[2], (name, "scrolls sideways", scroll)
    problems = french_problems(visible_text(page), table_cells(page))
    assert not problems, (name, problems)
    english = english_ui(page)
    assert not english, (name, english)
