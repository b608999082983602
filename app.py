"""Portail Famille: the router. It finds who is logged in and shows only that role's pages."""

import streamlit as st

from lib.domain.errors import DatabaseUnavailable
from lib.domain.fr import PRODUCT
from lib.ui import layout, navigation, session
from lib.ui.errors import database_down, shown_in_french

layout.page_setup()
try:
    actor = session.current_actor()
except DatabaseUnavailable as error:  # PostgreSQL stopped mid-run: said in French, the page works again once it is back
    database_down(error)
if actor is None:
    page = st.navigation(
        [
            st.Page(
                "pages/connexion_requise.py",
                title="Connexion",
                icon=":material/login:",
                url_path="connexion-requise",
                default=True,
            )
        ],
        position="hidden",
    )
else:
    # expanded: every page listed (collapsed, Streamlit hides a long menu behind an English « View more »)
    page = st.navigation(navigation.pages_for(actor.role), expanded=True)
    layout.sidebar(actor)
# The tab names the page and the site ("Mes factures – Portail Famille"): what a screen reader says first.
st.set_page_config(page_title=f"{page.title} – {PRODUCT}")
with shown_in_french():  # never Streamlit's English error box
    page.run()
