"""Accessibility and phone layout, measured on the real pages in Chromium (issue: RGAA / WCAG 2.1 AA).

For every page of every role, the login page, the accessibility statement and the pages our own
routes serve: axe-core finds no violation of impact "serious" or "critical"; the document speaks
French and its tab names the page; headings go down one level at a time; nothing scrolls sideways
at 390 px; no English month, no `$`, no dot-decimal amount, no "14:05" time is shown.
The results feed the statement's facts (lib/domain/accessibility.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from lib.domain import fr
from lib.web import accessibility_page, pages
from tests.browser.axe import audit, blocking, describe
from tests.browser.conftest import login, settle

pytestmark = pytest.mark.browser

# Violations inside Streamlit's own frame that the app cannot fix, by axe rule id, with the reason.
# Empty today: every serious or critical violation found so far has been fixed in the app. A rule
# added here must say why, and the statement (lib/domain/accessibility.py) must list the barrier.
STREAMLIT_KNOWN: dict[str, str] = {}

FAMILY_PAGES = [
    ("", "Bonjour Camille Martin"),
    ("mes-inscriptions", "Mes inscriptions"),
    ("mes-factures", "Mes factures"),
    ("mon-compte", "Mon compte"),
]
STAFF_PAGES = {
    "agent@demo.fr": [
        ("", "Accueil agent"),
        ("reservations", "Réservations – agents"),
        ("pointage", "Pointage"),
        ("cuisine", "Cuisine"),
    ],
    "cuisine@demo.fr": [("", "Cuisine")],
    "maire@demo.fr": [("", "Accueil élus"), ("tendances", "Tendances")],
    "admin@demo.fr": [
        ("", "Administration"),
        ("facturation", "Facturation"),
        ("prestations", "Prestations et délais"),
        ("journal", "Journal d'audit"),
    ],
}

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
_ENGLISH_UI = re.compile(
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
    return sorted({v for v in values if _ENGLISH_UI.match(v.split("=", 1)[1])})


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


def test_the_french_scan_catches_what_it_must():
    assert french_problems("Nov 27, 2026 : $12.40") == ["Nov", "$"]
    assert french_problems("lundi 30 novembre 2026 · 12,40 € · 23 h 59 · 93,5 %") == []
    assert french_problems("12.40 €") and french_problems("93.5 %") and french_problems("14:05")
    assert french_problems("Monday") and french_problems("December 2026") and french_problems("Mon, 30")
    assert french_problems("Mon compte") == []  # French « my », not Monday
    assert french_problems("Page not found") == ["Page not found"]
    assert french_problems("", ["700", "None"]) == ["None"]
    assert french_problems("", ["Septembre", "93.4"]) == ["93.4"] and not french_problems("", ["93,4", "2026"])
    for english in (
        "Skip to main content",
        "Help for Mois affiché",
        "Choose an option",
        "Main menu",
        "Download as CSV",
        "Collapse sidebar",
        "Made with Streamlit",
    ):
        assert _ENGLISH_UI.match(english), english
    for french in ("Aller au contenu principal", "Aide pour Mois affiché", "Menu principal", "Ouvrir", "Mes factures"):
        assert not _ENGLISH_UI.match(french), french


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
    """Every rule of this file on the page as it is now."""
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


def small_tap_targets(page) -> list[str]:
    """Buttons and links of the page less than 44 px high (not the grids' hover toolbars, links in a
    sentence, or the arrow inside a list whose whole field is the target)."""
    return page.evaluate("""Array.from(document.querySelectorAll(
            '[data-testid=stMain] button, [data-testid=stMain] a[href]'))
        .filter(e => e.offsetParent !== null && !e.closest('[data-testid=stElementToolbar]')
                     && !e.closest('[data-testid=stCaptionContainer]') && !e.closest('p, li')
                     && !e.closest('.stSelectbox, [data-testid=stSelectbox]'))
        .filter(e => e.getBoundingClientRect().height < 44)
        .map(e => (e.innerText || e.getAttribute('aria-label') || e.outerHTML.slice(0, 60)).trim())""")


def open_app_page(page, server: str, path: str, heading: str) -> None:
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", name=heading, level=1).wait_for()
    settle(page)
    if page.locator("iframe[title='streamlit_calendar.calendar']").count():
        frame = page.locator("iframe[title='streamlit_calendar.calendar'] >> visible=true").content_frame
        frame.locator(".fc-event, .fc-list-event").first.wait_for()
    if page.get_by_test_id("stPlotlyChart").count():
        page.locator(".stPlotlyChart svg.main-svg").first.wait_for()
    page.wait_for_timeout(500)


def test_public_pages(server, page):
    page.goto(server + "/connexion")
    check(page, "connexion", title="Connexion")
    screenshot(page, "connexion")
    page.get_by_role("link", name=re.compile("Accessibilité : partiellement conforme")).click()
    page.get_by_role("heading", name="Déclaration d'accessibilité", level=1).wait_for()
    check(page, "accessibilite", title="Déclaration d'accessibilité")
    screenshot(page, "accessibilite")
    # A wrong password: the error is announced (role=alert) and the page still passes.
    page.goto(server + "/connexion")
    login(page, server, "parent@demo.fr", "pas le bon")
    page.get_by_role("alert").wait_for()
    check(page, "connexion-erreur", title="Connexion")
    # A page of our payment routes: a return with no transaction.
    page.goto(server + "/paiement/retour")
    check(page, "paiement-retour")


def test_every_page_our_routes_serve(page):
    """Each template of lib/web/pages.py as served (the redirection without its one-line auto-submit
    script, which would leave for the bank before the audit)."""
    redirect, status = pages.redirect_form(
        "https://banque.example/paiement", [{"name": "vads_amount", "value": "8350"}], fr.euros(8350), "F-2026-000267"
    )
    served = {
        "redirection": (re.sub(r"<script>.*?</script>", "", redirect), status),
        "message": pages.message("Paiement enregistré", "La facture F-2026-000267 est soldée. Merci !"),
        "erreur": pages.message("Paiement refusé", "La banque a refusé le paiement.", status=400),
        "banque": pages.sandbox_bank(
            "r1", "Ville de Belcastel-sur-Save", fr.euros(8350), "F-2026-000267", "4970 1000 0000 0003"
        ),
        "declaration": accessibility_page.render("Ville de Belcastel-sur-Save", ""),
    }
    for name, (html, _status) in served.items():
        page.set_content(html)
        check(page, name)


def test_the_statement_is_public_and_says_what_a_french_body_must_say(server, page):
    page.goto(server + "/accessibilite")
    assert page.url.endswith("/accessibilite")  # no login asked
    text = page.locator("main").inner_text()
    for part in (
        "partiellement conforme",
        "RGAA",
        "Non-conformités",
        "Solution de contournement",
        "vendredi 27 novembre 2026",
        "Retour d'information et contact",
        "inscriptions@belcastel-demo.fr",
        "Voies de recours",
        "Défenseur des droits",
    ):
        assert part in text, part


def test_every_family_page_on_a_phone(server, page):
    login(page, server, "parent@demo.fr")
    page.get_by_text("Bonjour Camille Martin").wait_for()
    for path, heading in FAMILY_PAGES:
        open_app_page(page, server, path, heading)
        check(page, path or "accueil")
        assert not small_tap_targets(page), (path, small_tap_targets(page))  # thumbs, not mouse pointers
        screenshot(page, f"famille-{path or 'accueil'}")
    # The calendar as a list (the phone's reading of the month) passes too.
    open_app_page(page, server, "mes-inscriptions", "Mes inscriptions")
    page.get_by_text("Affichage en liste").click()
    settle(page)
    page.locator("iframe[title='streamlit_calendar.calendar'] >> visible=true").content_frame.locator(
        ".fc-list-event"
    ).first.wait_for()
    check(page, "mes-inscriptions-liste")
    screenshot(page, "famille-mes-inscriptions-liste")


@pytest.mark.parametrize("email", list(STAFF_PAGES))
def test_every_staff_page_at_a_desk_and_on_a_phone(server, desk, page, email):
    for tab in (desk, page):
        login(tab, server, email)
        tab.wait_for_url(re.compile(r".*/$"))
        for path, heading in STAFF_PAGES[email]:
            open_app_page(tab, server, path, heading)
            check(tab, f"{email}/{path or 'accueil'}")
            if tab is desk:
                screenshot(tab, f"{email.split('@')[0]}-{path or 'accueil'}")
