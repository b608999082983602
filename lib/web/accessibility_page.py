"""GET /accessibilite: the accessibility statement, public (no login), in the form French public
bodies publish it (RGAA 4.1: état de conformité, résultats, contenus non accessibles,
établissement de la déclaration, retour d'information et contact, voies de recours)."""

from __future__ import annotations

from html import escape

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from lib.domain import accessibility as a11y
from lib.domain import fr
from lib.services import home
from lib.services.config import database
from lib.web import pages


def render(town: str, contact_email: str) -> tuple[str, int]:
    barriers = "".join(
        f"<li><p>{escape(b.what)}</p><p><strong>Solution de contournement :</strong> {escape(b.workaround)}</p></li>"
        for b in a11y.KNOWN_BARRIERS
    )
    exempt = "".join(f"<li>{escape(item)}</li>" for item in a11y.NOT_SUBJECT)
    technologies = ", ".join(a11y.TECHNOLOGIES)
    if contact_email:
        contact = (
            f"<p>Si vous n'arrivez pas à accéder à un contenu ou à un service, écrivez au service éducation "
            f'de la mairie : <a href="mailto:{escape(contact_email)}?subject=Accessibilit%C3%A9%20du%20Portail'
            f'%20Famille">{escape(contact_email)}</a>. Dites-nous la page et ce qui vous bloque : nous vous '
            "répondrons et vous donnerons l'information ou le service sous une autre forme.</p>"
        )
    else:
        contact = (
            "<p>Si vous n'arrivez pas à accéder à un contenu ou à un service, contactez le service éducation "
            "de la mairie (accueil ou téléphone) : nous vous donnerons l'information ou le service sous une "
            "autre forme.</p>"
        )
    body = f"""<p><a href="/">Portail Famille</a> › Accessibilité</p>
<h1>Déclaration d'accessibilité</h1>
<p>{escape(town)} s'engage à rendre ses services numériques accessibles, conformément à l'article 47 de la loi
n° 2005-102 du 11 février 2005. Cette déclaration s'applique au Portail Famille (inscriptions, réservations,
factures et paiement en ligne).</p>
<h2>État de conformité</h2>
<p>Le Portail Famille est <strong>{escape(a11y.LEVEL)}</strong> avec le référentiel général d'amélioration de
l'accessibilité (RGAA), version {escape(a11y.RGAA_VERSION)}, en raison des non-conformités énumérées ci-dessous.</p>
<h2>Résultats des tests</h2>
<p>{escape(a11y.AUDIT_METHOD)}</p>
<p>Aucune erreur de gravité « sérieuse » ou « critique » n'est relevée par l'audit automatisé ; les points
ci-dessous restent.</p>
<h2>Contenus non accessibles</h2>
<h3>Non-conformités</h3>
<ul>{barriers}</ul>
<h3>Contenus non soumis à l'obligation d'accessibilité</h3>
<ul>{exempt}</ul>
<h2>Établissement de cette déclaration</h2>
<p>Cette déclaration a été établie le {escape(fr.long_date(a11y.AUDIT_DATE))}.</p>
<p>Technologies utilisées : {escape(technologies)}.</p>
<p>Environnement de test : {escape(a11y.ENVIRONMENT)}</p>
<h2>Retour d'information et contact</h2>
{contact}
<h2>Voies de recours</h2>
<p>Si vous avez signalé un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à un service et
que vous n'avez pas obtenu de réponse satisfaisante, vous pouvez :</p>
<ul>
<li>écrire un message au Défenseur des droits (formulaire sur le site defenseurdesdroits.fr) ;</li>
<li>contacter le délégué du Défenseur des droits de votre région ;</li>
<li>envoyer un courrier par la poste (gratuit, ne pas mettre de timbre) : Défenseur des droits,
Libre réponse 71120, 75342 Paris CEDEX 07.</li>
</ul>
<p><a href="/">Retour au Portail Famille</a></p>"""
    return pages.page("Déclaration d'accessibilité", body, wide=True)


async def statement(_request: Request) -> Response:
    facts = await to_thread.run_sync(lambda: home.town(database()))
    text, status = render(facts.name, facts.contact_email)
    return HTMLResponse(text, status_code=status)


ROUTES = [Route(a11y.STATEMENT_PATH, statement, methods=["GET"])]
