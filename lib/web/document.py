"""Streamlit serves its own root document (and its components' frames) with `lang="en"` and the
title "Streamlit". This ASGI middleware rewrites those HTML documents on their way out, so a screen
reader speaks French from the first word and the tab is named before the script runs."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lib.domain.fr import PRODUCT
from lib.web import streamlit_files

_LANG = re.compile(rb'<html([^>]*?)\slang="[^"]*"', re.IGNORECASE)
_TITLE = re.compile(rb"<title>Streamlit</title>", re.IGNORECASE)
_NOSCRIPT = re.compile(rb"<noscript>.*?</noscript>", re.IGNORECASE | re.DOTALL)
# Larger tap targets, no horizontal overflow on a 390-px phone, and Streamlit's grey captions
# (below 4.5:1 on white) darkened. In the head of the document, so no element is ever drawn without it.
APP_CSS = """<style>
.stButton button, .stDownloadButton button, .stFormSubmitButton button { min-height: 44px; min-width: 44px; }
/* the eye that shows a password as typed (« Mon compte ») */
.stTextInput button { min-height: 44px; min-width: 44px; }
[data-testid="stMainBlockContainer"] { padding-left: 1rem; padding-right: 1rem; max-width: 1100px; }
@media (max-width: 640px) { h1 { font-size: 1.7rem !important; } h2 { font-size: 1.35rem !important; } }
[data-testid="stCaptionContainer"] { color: #4b5160 !important; opacity: 1 !important; }
[data-testid="stCaptionContainer"] a { color: #1d4ed8 !important; }
.st-key-home_shortcuts .stButton button { justify-content: flex-start; padding: .6rem 1rem; }
.st-key-home_shortcuts .stButton button p { font-size: 1.05rem; font-weight: 600; text-align: left; }
/* « Mes factures »: the grid (the seed's « cliquez sur une ligne ») on a wide screen, a list of cards
   on a phone, where a grid would need sideways scrolling. Its toolbar (English, CSV of two rows) is gone:
   the PDF of each invoice is the export. */
.st-key-invoices_table [data-testid="stElementToolbar"] { display: none !important; }
@media (max-width: 640px) { .st-key-invoices_grid { display: none !important; } }
@media (min-width: 641px) { .st-key-invoices_cards { display: none !important; } }
.st-key-invoices_cards .stButton button { justify-content: flex-start; padding: .6rem .9rem; }
.st-key-invoices_cards .stButton button div, .st-key-invoices_cards .stButton button p { text-align: left;
  justify-content: flex-start; font-size: 1rem; }
</style>"""
_FRENCH_UI = {
    "Skip to main content": "Aller au contenu principal",
    "Sidebar": "Menu latéral",
    "App pages": "Pages du portail",
    "Expand sidebar": "Ouvrir le menu",
    "Collapse sidebar": "Réduire le menu",
    "Main menu": "Menu principal",
    "Open": "Ouvrir la liste",
    "Close": "Fermer",
    "Clear value": "Effacer",
    "Clear all": "Tout effacer",
    "Selected values": "Valeurs choisies",
    "Running...": "Chargement…",
    "Stop": "Arrêter",
    "Stop script": "Arrêter",
    "Show/hide columns": "Afficher ou masquer des colonnes",
    "Download as CSV": "Télécharger en CSV",
    "Search": "Rechercher",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "Toggle fullscreen": "Plein écran",
    "Help": "Aide",
    "Choose an option": "Choisir dans la liste",
    "Select...": "Choisir…",
    "No results": "Aucun résultat",
    "Print": "Imprimer",
    "Record a screencast": "Enregistrer l'écran",
    "Made with Streamlit": "Réalisé avec Streamlit",
    "Show password": "Afficher le mot de passe",
    "Hide password": "Masquer le mot de passe",
    "Increment": "Augmenter",
    "Decrement": "Diminuer",
    "Link to heading": "Lien vers ce titre",
    "Dataframe column menu": "Menu de la colonne",
    "Navigate to home page": "Aller à l'accueil",
    "Sort ascending": "Trier par ordre croissant",
    "Sort descending": "Trier par ordre décroissant",
    "Pin column": "Épingler la colonne",
    "Unpin column": "Détacher la colonne",
    "Hide column": "Masquer la colonne",
    "Autosize": "Largeur automatique",
    "Copy column name": "Copier le nom de la colonne",
    "Close Search": "Fermer la recherche",
    "Next Result": "Résultat suivant",
    "Previous Result": "Résultat précédent",
    "Clear selection": "Effacer la sélection",
    "Select all": "Tout sélectionner",
    "Download as PNG": "Télécharger en PNG",
    "Scroll tabs left": "Onglets précédents",
    "Scroll tabs right": "Onglets suivants",
    # A grid column's menu (click on a header) and its submenus.
    "Statistics": "Statistiques",
    "Automatic": "Automatique",
    "Localized": "Localisé",
    "Plain": "Brut",
    "Percent": "Pourcentage",
    "Scientific": "Scientifique",
    "Average": "Moyenne",
    "Median": "Médiane",
    "Sum": "Somme",
    "Distinct": "Valeurs distinctes",
    "Empty": "Vides",
    "Values": "Valeurs",
    "Standard deviation": "Écart type",
    "Range": "Étendue",
    "Connecting": "Connexion…",
    "Connection error": "Connexion perdue",
    "Please wait...": "Veuillez patienter…",
}
# Streamlit's interface speaks English whatever the browser's language, and offers no setting for it:
# this script translates its fixed words (aria-labels, placeholders, tooltips, the skip link) as they
# appear, and closes the side menu on a phone once a page is chosen there (Streamlit leaves it open
# over the page the family asked for). Exact strings only: our own French text is never touched.
APP_SCRIPT = """<script>(() => {
const WORDS = %(words)s;
const PATTERNS = [[/^Help for (.+)$/s, "Aide pour $1"], [/^Remove (.+)$/s, "Retirer $1"]];
const ATTRS = ["aria-label", "placeholder", "title", "alt"];
function french(value) {
  const key = value.trim();
  if (Object.prototype.hasOwnProperty.call(WORDS, key)) return value.replace(key, WORDS[key]);
  for (const [re, to] of PATTERNS) if (re.test(key)) return value.replace(key, key.replace(re, to));
  return null;
}
function fixElement(e) {
  for (const a of ATTRS) { const v = e.getAttribute(a); if (v) { const f = french(v); if (f !== null) e.setAttribute(a, f); } }
}
function fixText(t) { const f = french(t.nodeValue); if (f !== null) t.nodeValue = f; }
function fixTree(root) {
  if (root.nodeType === 3) { fixText(root); return; }
  if (root.nodeType !== 1) return;
  fixElement(root);
  root.querySelectorAll("[aria-label],[placeholder],[title],[alt]").forEach(fixElement);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) fixText(walker.currentNode);
}
new MutationObserver(records => {
  for (const r of records) {
    if (r.type === "attributes") fixElement(r.target);
    else if (r.type === "characterData") fixText(r.target);
    else r.addedNodes.forEach(fixTree);
  }
}).observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                      attributes: true, attributeFilter: ATTRS});
document.addEventListener("click", event => {
  const link = event.target.closest && event.target.closest("[data-testid=stSidebarNav] a");
  if (!link || window.innerWidth > 640) return;
  setTimeout(() => {
    const bar = document.querySelector("[data-testid=stSidebar]");
    const close = document.querySelector("[data-testid=stSidebarCollapseButton] button");
    if (bar && close && bar.getAttribute("data-collapsed") === "false") close.click();
  }, 0);
}, true);
})();</script>"""
_FRENCH_NOSCRIPT = (
    b"<noscript>Le Portail Famille a besoin de JavaScript : activez-le dans votre navigateur, "
    b"ou contactez la mairie.</noscript>"
)


def app_script() -> str:
    return APP_SCRIPT % {"words": json.dumps(_FRENCH_UI, ensure_ascii=False)}


def frenchify(html: bytes) -> bytes:
    """Declare French, name the tab, add the app's CSS and script, translate the no-script notice."""
    html = _LANG.sub(rb'<html\1 lang="fr"', html, count=1)
    if not re.search(rb"<html[^>]*\slang=", html, re.IGNORECASE):
        html = re.sub(rb"<html", b'<html lang="fr"', html, count=1, flags=re.IGNORECASE)
    if _TITLE.search(html):  # Streamlit's own shell (not a component's frame): our CSS too
        html = _TITLE.sub(
            f"<title>{PRODUCT}</title>{APP_CSS}{app_script()}{streamlit_files.early_links()}".encode(), html, count=1
        )
    return _NOSCRIPT.sub(lambda _m: _FRENCH_NOSCRIPT, html, count=1)


class FrenchDocument:
    """Rewrites every `text/html` answer to a GET (Streamlit's shell on any page path, a
    component's index.html). The request is sent without Accept-Encoding so the body comes
    uncompressed; other answers (scripts, websockets, our own French pages) pass untouched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not _may_be_document(scope["path"]):
            await self.app(scope, receive, send)
            return
        scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"])
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                seen = {k.lower(): v for k, v in message.get("headers", [])}
                is_html = seen.get(b"content-type", b"").startswith(b"text/html")
                if is_html and b"content-encoding" not in seen:
                    start = message  # held back until the whole body is here
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = frenchify(b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send(dict(start, headers=headers))
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, capture)


def _may_be_document(path: str) -> bool:
    last = path.rsplit("/", 1)[-1]
    return "." not in last or last.endswith(".html")
