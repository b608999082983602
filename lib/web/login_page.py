"""The login page: plain HTML served by our route, so that the browser's password manager,
the phone keyboard (type=email) and a page with no JavaScript all work."""

from __future__ import annotations

import functools
from html import escape
from html.parser import HTMLParser

from lib.domain import accessibility as a11y
from lib.web import streamlit_files

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Source Sans Pro", "Segoe UI", Roboto, Arial, sans-serif; color: #1f2430;
       background: #f4f6fa; line-height: 1.5; font-size: 1.05rem; }
main { max-width: 26rem; margin: 2rem auto; padding: 1.5rem; background: #fff; border-radius: 12px;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }
@media (max-width: 480px) { main { margin: 0; border-radius: 0; min-height: 100vh; } }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.town { margin: 0 0 1.25rem; color: #4a5060; }
label { display: block; font-weight: 600; margin: 1rem 0 .3rem; }
input { width: 100%; font-size: 1.05rem; padding: .7rem .8rem; border: 2px solid #6b7280; border-radius: 8px; }
input:focus { outline: 3px solid #1d4ed8; outline-offset: 1px; }
button { margin-top: 1.5rem; width: 100%; font-size: 1.1rem; font-weight: 600; padding: .8rem; border: 0;
         border-radius: 8px; background: #1d4ed8; color: #fff; cursor: pointer; min-height: 48px; }
button:focus { outline: 3px solid #111; outline-offset: 2px; }
.error { border: 2px solid #b91c1c; background: #fef2f2; color: #7f1d1d; padding: .75rem; border-radius: 8px; }
.info { border: 2px solid #1d4ed8; background: #eff6ff; color: #1e3a8a; padding: .75rem; border-radius: 8px; }
.demo { margin-top: 1.5rem; font-size: .95rem; background: #f8fafc; border: 1px dashed #64748b; padding: .75rem;
        border-radius: 8px; }
.demo code { font-size: .95rem; }
footer { margin-top: 1.5rem; font-size: .95rem; color: #4a5060; }
a { color: #1d4ed8; }
"""

DEMO_ACCOUNTS = [
    ("parent@demo.fr", "parent (famille Martin)"),
    ("agent@demo.fr", "agent d'animation"),
    ("cuisine@demo.fr", "cuisine centrale"),
    ("maire@demo.fr", "maire (élue)"),
    ("admin@demo.fr", "administrateur"),
]


class _StreamlitShellAssets(HTMLParser):
    """The hashed files Streamlit's index.html loads first: its module script, the modules it
    preloads, its stylesheet and its preloaded font, as (href, `as` destination)."""

    def __init__(self):
        super().__init__()
        self.assets: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        rel = (attr.get("rel") or "").lower()
        if tag == "script" and attr.get("src"):
            found = (attr["src"], "script")
        elif tag == "link" and rel == "modulepreload" and attr.get("href"):
            found = (attr["href"], "script")
        elif tag == "link" and rel == "stylesheet" and attr.get("href"):
            found = (attr["href"], "style")
        elif tag == "link" and rel == "preload" and attr.get("href") and attr.get("as"):
            found = (attr["href"], attr["as"])
        else:
            return
        if found[0].startswith("./static/") and found not in self.assets:
            self.assets.append(found)


@functools.cache
def prefetch_assets() -> tuple[tuple[str, str], ...]:
    """What the app's first page will load, read from the installed Streamlit once (server.py calls
    this at start). The login page asks the browser to fetch them while the parent types, so that
    « Se connecter » finds them in its cache; the names change with each Streamlit release, so they
    are never written here. No index.html (a broken install): no prefetch, the login still works."""
    index = streamlit_files.index_html()
    if index is None or not index.is_file():
        return ()
    parser = _StreamlitShellAssets()
    parser.feed(index.read_text(encoding="utf-8"))
    return tuple(parser.assets) + tuple(a for a in streamlit_files.early_assets() if a not in parser.assets)


# The links wait in an inert <template> until the parent starts on the form (focus) or, at the
# latest, two seconds after the page has loaded: put in the head directly, a slow phone starts
# fetching ~700 KiB while the form itself is still being drawn (Lighthouse measured the login
# page's largest paint at 3 s instead of 0.8 s). Without JavaScript nothing is prefetched, and
# nothing else changes.
_PREFETCH_SCRIPT = """<script>
(function () {
  var done = false;
  function prefetch() {
    if (done) return;
    done = true;
    document.head.appendChild(document.getElementById("pf-prefetch").content.cloneNode(true));
  }
  document.addEventListener("focusin", prefetch);
  window.addEventListener("load", function () { setTimeout(prefetch, 2000); });
})();
</script>"""


def _prefetch_links() -> str:
    """Relative like Streamlit's own links: /connexion sits where the app's pages do, so they resolve
    to the same /static/… URLs (under a base URL path too). crossorigin as in index.html, so the
    cached copy is the one the module loader and the font face ask for."""
    assets = prefetch_assets()
    if not assets:
        return ""
    links = "\n".join(
        f'<link rel="prefetch" href="{escape(href)}" as="{escape(kind)}" crossorigin>' for href, kind in assets
    )
    return f'<template id="pf-prefetch">\n{links}\n</template>\n{_PREFETCH_SCRIPT}'


def render(
    *,
    town: str,
    contact_email: str,
    csrf_token: str,
    email: str = "",
    error: str | None = None,
    info: str | None = None,
    demo: bool = False,
) -> str:
    """The whole page. Every value is escaped."""
    notice = ""
    if error:
        notice = f'<p class="error" role="alert" id="login-error"><strong>Erreur :</strong> {escape(error)}</p>'
    elif info:
        notice = f'<p class="info" role="status">{escape(info)}</p>'
    described = ' aria-describedby="login-error"' if error else ""
    demo_box = ""
    if demo:
        items = "".join(f"<li><code>{escape(e)}</code> : {escape(who)}</li>" for e, who in DEMO_ACCOUNTS)
        demo_box = (
            '<section class="demo" aria-labelledby="demo-title"><h2 id="demo-title" style="font-size:1.05rem;margin:0">'
            'Base de démonstration</h2><p style="margin:.3rem 0">Mot de passe de tous les comptes : '
            f'<code>demo</code></p><ul style="margin:.3rem 0;padding-left:1.2rem">{items}</ul></section>'
        )
    contact = ""
    if contact_email:
        contact = (
            f"<p>Une question ? Écrivez au service éducation : "
            f'<a href="mailto:{escape(contact_email)}">{escape(contact_email)}</a></p>'
        )
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connexion – Portail Famille – {escape(town)}</title>
<style>{STYLE}</style>
{_prefetch_links()}
</head>
<body>
<main>
<h1>Portail Famille</h1>
<p class="town">{escape(town)}</p>
{notice}
<form method="post" action="/auth/login" novalidate>
<input type="hidden" name="csrf" value="{escape(csrf_token)}">
<label for="email">Adresse e-mail</label>
<input id="email" name="email" type="email" autocomplete="username" inputmode="email" maxlength="254"
       required value="{escape(email)}"{described}>
<label for="password">Mot de passe</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="256" required{described}>
<button type="submit">Se connecter</button>
</form>
<p><a href="/auth/oubli">Mot de passe oublié ?</a></p>
{demo_box}
<footer>{contact}<p><a href="{a11y.STATEMENT_PATH}">{escape(a11y.footer_line())}</a></p></footer>
</main>
</body>
</html>"""
