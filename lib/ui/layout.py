"""Shared page furniture: the sidebar with the user and the logout button, the contact footer."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

import streamlit as st

from lib.domain import accessibility as a11y
from lib.domain.actor import Actor
from lib.domain.markup import md
from lib.services import home
from lib.ui import session


def page_setup() -> None:
    # The tab's title is set by app.py once the page is known; the app's CSS (tap targets, contrast)
    # is in the document's head (lib/web/document.py), so it applies before the first element shows.
    st.set_page_config(page_icon="🏫", layout="wide", initial_sidebar_state="auto")


_LOGOUT_STYLE = (
    "display:inline-block;padding:.55rem 1rem;min-height:44px;border:1px solid #6b7280;"
    "border-radius:8px;color:#1f2430;text-decoration:none;background:#fff"
)


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(f"**{md(actor.display_name)}**  \n{actor.role.label}")
        url = session.logout_url()
        if url:
            # A real link: logging out leaves the app for the login page in one step.
            st.markdown(
                f'<a href="{url}" target="_self" style="{_LOGOUT_STYLE}">⎋ Se déconnecter</a>', unsafe_allow_html=True
            )


def html_line(html: str) -> str:
    """One line of our own HTML for st.caption/st.markdown(unsafe_allow_html=True), as an HTML block
    (a <div>): markdown leaves its text alone, so an e-mail address in it stays one link (GFM would
    link it a second time inside ours, which a browser renders as an empty link). Every text in
    it that is not ours goes through html.escape."""
    return f"<div>{html}</div>"


def email_link(email: str) -> str:
    """The town's contact address as a mailto: link, for `html_line`."""
    return f'<a href="mailto:{escape(quote(email, safe="@"))}">{escape(email)}</a>'


def contact_footer() -> None:
    facts = home.town(session.db())
    st.divider()
    if facts.contact_email:
        line = f"{escape(facts.name)} — une question ? Écrivez à {email_link(facts.contact_email)}."
        st.caption(html_line(line), unsafe_allow_html=True)
    # Same tab (Streamlit's markdown links open a new one without saying so).
    st.caption(f'<a href="{a11y.STATEMENT_PATH}" target="_self">{a11y.footer_line()}</a>', unsafe_allow_html=True)
