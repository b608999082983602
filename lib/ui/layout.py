"""Shared page furniture: the sidebar with the user and the logout button, the contact footer."""

from __future__ import annotations

import streamlit as st

from lib.domain.actor import Actor
from lib.services import home
from lib.ui import session

# Larger tap targets and no horizontal overflow on a 390-px phone.
_CSS = """
<style>
.stButton > button, .stDownloadButton > button, .stFormSubmitButton > button { min-height: 44px; }
[data-testid="stMainBlockContainer"] { padding-left: 1rem; padding-right: 1rem; max-width: 1100px; }
@media (max-width: 640px) { h1 { font-size: 1.7rem !important; } }
</style>
"""


def page_setup() -> None:
    st.set_page_config(page_title="Portail Famille", page_icon="🏫", layout="wide",
                       initial_sidebar_state="auto")
    st.html(_CSS)


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(f"**{actor.display_name}**  \n{actor.role.label}")
        if st.button("Se déconnecter", key="logout", icon=":material/logout:"):
            session.logout()
            st.rerun()


def contact_footer() -> None:
    facts = home.town(session.db())
    if facts["contact_email"]:
        st.divider()
        st.caption(f"{facts['name']} — une question ? Écrivez à [{facts['contact_email']}](mailto:{facts['contact_email']}).")
