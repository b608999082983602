"""« PAI »: find a child and read or write its health record (projet d'accueil individualisé), then
validate the corrections the families proposed. Agents and administrators only; every read and
write is in the audit log, by field name, never by value."""

import streamlit as st

from lib.domain.roles import Role
from lib.services import reservations
from lib.ui import health, layout, session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.AGENT, Role.ADMIN)
db, now = session.db(), session.now()
st.title("PAI", anchor=False)
st.caption(
    "Projets d'accueil individualisés, allergies, panier repas : des données de santé, lues seulement par "
    "le personnel qui s'occupe des enfants. Chaque consultation est inscrite au journal."
)

query = st.text_input(
    "Rechercher un enfant (prénom, nom)", key="pai_search", max_chars=80, placeholder="ex. : Hugo Martin"
)
if query:
    with refusals_shown():
        found = reservations.find_children(db, actor, query)
        if not found:
            st.info("Aucun enfant ne correspond à cette recherche.")
        else:
            child = st.selectbox(
                f"Enfant ({len(found)} trouvé(s))",
                found,
                key="pai_child",
                format_func=lambda c: f"{c.first_name} {c.last_name} ({c.school_class}, {c.family})",
            )
            health.staff_pai_form(db, actor, child.id, now)
else:
    st.caption("Saisissez au moins deux lettres du prénom ou du nom.")

st.header("Corrections proposées par les familles", anchor=False)
health.pai_validations(db, actor, now)
layout.contact_footer()
