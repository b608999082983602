"""« Calendrier du téléphone » on « Mes inscriptions »: a child's calendar feed, made, replaced or
deleted by the family (lib/services/calendar_feeds.py).

The address is shown once, in the run right after it is made: only its hash is kept, so a later
run cannot show it again. The buttons act in their callbacks, before the page is drawn, so the
run that follows a click already shows the child's new state (the address and « Remplacer » /
« Supprimer » after « Créer », « Créer » after « Supprimer »)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.clock import from_utc_naive
from lib.domain.errors import PortailError
from lib.domain.markup import md
from lib.domain.records import Child
from lib.services import calendar_feeds
from lib.ui import session
from lib.ui.errors import refusals_shown

SHOWN = "feed_shown"  # session key: (child id, FeedLinks) to show once, or (child id, refusal), or (child id, text)

HELP = (
    "Abonnez le calendrier de votre téléphone aux réservations de votre enfant : chaque jour réservé y "
    "apparaît avec sa limite d'annulation, et le téléphone vous le rappelle la veille de cette limite. "
    "Le lien est personnel : toute personne qui le connaît voit les jours réservés (le prénom seulement, "
    "jamais la santé, le régime ni les prix). Remplacez-le si vous l'avez partagé par erreur."
)
HOW_TO = (
    "**iPhone** : Réglages › Calendrier › Comptes › Ajouter un compte › Autre › "
    "Ajouter un calendrier avec abonnement, puis collez l'adresse (ou touchez le lien webcal:// sur le téléphone).  \n"
    "**Android (Google Agenda)** : sur un ordinateur, calendar.google.com › Autres agendas › + › "
    "« À partir de l'URL », puis collez l'adresse https://. Google Agenda ignore les rappels des "
    "agendas abonnés : notez vous-même la limite, ou utilisez une autre application d'agenda."
)


def _act(action: Callable[[Actor, int], object], actor: Actor, child_id: int) -> None:
    """A button's callback: run `action`, keep what the next lines of the page must show."""
    try:
        st.session_state[SHOWN] = (child_id, action(actor, child_id))
    except PortailError as refusal:
        st.session_state[SHOWN] = (child_id, refusal)


def _create(actor: Actor, child_id: int) -> calendar_feeds.FeedLinks:
    db = session.db()
    return calendar_feeds.links(db, calendar_feeds.create(db, actor, child_id, session.now()))


def _replace(actor: Actor, child_id: int) -> calendar_feeds.FeedLinks:
    db = session.db()
    return calendar_feeds.links(db, calendar_feeds.replace(db, actor, child_id, session.now()))


def _revoke(actor: Actor, child_id: int) -> str:
    calendar_feeds.revoke(session.db(), actor, child_id, session.now())
    return "Lien supprimé : le calendrier abonné ne sera plus mis à jour. Vous pouvez le retirer du téléphone."


def _shown(child_id: int) -> object:
    """What the last click asked to show for this child, once."""
    kept = st.session_state.get(SHOWN)
    if not kept or kept[0] != child_id:
        return None
    st.session_state.pop(SHOWN)
    return kept[1]


def _show_links(child: Child, found: calendar_feeds.FeedLinks) -> None:
    st.success(
        f"Lien créé pour {md(child.first_name)}. Copiez-le maintenant : il ne sera plus affiché "
        "(« Remplacer le lien » en donne un nouveau).",
        icon="✅",
    )
    st.markdown("Adresse à coller dans le calendrier :")
    st.code(found.https, language=None, wrap_lines=True)
    st.markdown("Ou, depuis le téléphone, l'abonnement direct :")
    st.code(found.webcal, language=None, wrap_lines=True)
    st.link_button("Ouvrir dans le calendrier du téléphone", found.webcal, icon=":material/event:")


def feed_section(actor: Actor, child: Child) -> None:
    """The expander for `child`: its link's state and the three buttons."""
    with st.expander("Calendrier du téléphone", icon=":material/calendar_month:"):
        st.markdown(HELP)
        shown = _shown(child.id)
        if isinstance(shown, PortailError):
            with refusals_shown():
                raise shown
        elif isinstance(shown, calendar_feeds.FeedLinks):
            _show_links(child, shown)
        elif isinstance(shown, str):
            st.success(shown, icon="✅")
        with refusals_shown() as refused:
            feeds = calendar_feeds.feeds(session.db(), actor, child.id)
        if refused:
            return
        if feeds:
            feed = feeds[-1]
            read = (
                f"lu par le calendrier le {fr.numeric_date_time(from_utc_naive(feed.last_read_at))}"
                if feed.last_read_at
                else "pas encore lu par un calendrier"
            )
            st.caption(f"Lien créé le {fr.numeric_date_time(from_utc_naive(feed.created_at))}, {read}.")
            st.button(
                "Remplacer le lien",
                key=f"feed_replace_{child.id}",
                icon=":material/autorenew:",
                on_click=_act,
                args=(_replace, actor, child.id),
            )
            st.button(
                "Supprimer le lien",
                key=f"feed_revoke_{child.id}",
                icon=":material/link_off:",
                on_click=_act,
                args=(_revoke, actor, child.id),
            )
        else:
            st.button(
                "Créer le lien",
                key=f"feed_create_{child.id}",
                type="primary",
                icon=":material/add_link:",
                on_click=_act,
                args=(_create, actor, child.id),
            )
        st.markdown(HOW_TO)
