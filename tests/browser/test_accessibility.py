"""Accessibility and phone layout, measured on the real pages in Chromium (issue: RGAA / WCAG 2.1 AA).

For every page of every role, the login page, the accessibility statement and the pages our own
routes serve: axe-core finds no violation of impact "serious" or "critical"; the document speaks
French and its tab names the page; headings go down one level at a time; nothing scrolls sideways
at 390 px; no English month, no `$`, no dot-decimal amount, no "14:05" time is shown.
The results feed the statement's facts (lib/domain/accessibility.py)."""

from __future__ import annotations

import re

import pytest

from lib.domain import fr
from lib.web import accessibility_page, pages
from tests.browser.conftest import login, settle
from tests.browser.helpers import ENGLISH_UI, check, french_problems, screenshot

pytestmark = pytest.mark.browser

FAMILY_PAGES = [
    ("", "Bonjour Camille Martin"),
    ("mes-inscriptions", "Mes inscriptions"),
    ("mes-factures", "Mes factures"),
    ("mon-dossier", "Mon dossier"),
    ("mon-compte", "Mon compte"),
]
STAFF_PAGES = {
    "agent@demo.fr": [
        ("", "Accueil agent"),
        ("reservations", "Réservations – agents"),
        ("familles", "Familles"),
        ("a-valider", "À valider"),
        ("pointage", "Pointage"),
        ("pai", "PAI"),
        ("cuisine", "Cuisine"),
        ("fermetures", "Fermetures et grèves"),
    ],
    "cuisine@demo.fr": [("", "Cuisine")],
    "maire@demo.fr": [("", "Accueil élus"), ("tendances", "Tendances")],
    "admin@demo.fr": [
        ("", "Administration"),
        ("facturation", "Facturation"),
        ("prelevements", "Prélèvements"),
        ("prestations", "Prestations et délais"),
        ("structures", "Structures et année scolaire"),
        ("familles", "Familles"),
        ("a-valider", "À valider"),
        ("comptes", "Comptes des familles"),
        ("journal", "Journal d'audit"),
        ("courriels", "Courriels envoyés"),
        ("fermetures", "Fermetures et grèves"),
    ],
}


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
        assert ENGLISH_UI.match(english), english
    for french in ("Aller au contenu principal", "Aide pour Mois affiché", "Menu principal", "Ouvrir", "Mes factures"):
        assert not ENGLISH_UI.match(french), french


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
    # « Mot de passe oublié ? », and the page of a link that no longer works.
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_role("heading", name="Mot de passe oublié", level=1).wait_for()
    check(page, "oubli", title="Mot de passe oublié")
    page.goto(server + "/auth/reinitialiser?jeton=perime-perime-perime-perime")
    check(page, "lien-refuse", title="Lien plus valable")
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


def test_a_family_file_on_a_phone(server, page):
    """« Familles » with a file open, as an administrator on a phone: the tabs and the one-column
    forms pass the same checks as every page."""
    login(page, server, "admin@demo.fr")
    page.wait_for_url(re.compile(r".*/$"))
    open_app_page(page, server, "", "Administration")
    open_app_page(page, server, "familles", "Familles")
    page.get_by_label("Rechercher une famille").fill("martin camille")
    page.get_by_label("Rechercher une famille").press("Enter")
    page.get_by_role("heading", name="Famille Martin", level=2).wait_for()
    settle(page)
    check(page, "familles-dossier")
    screenshot(page, "admin-familles-dossier")
    page.get_by_role("tab", name="Quotient familial").click()
    settle(page)
    check(page, "familles-dossier-qf")
