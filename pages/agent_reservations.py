"""« Réservations – agents »: find any child, see and edit the same calendar, past the deadlines
when needed ("hors délai", with a reason kept in the audit log)."""

import streamlit as st

from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import reservations, trail
from lib.ui import calendar, layout, session
from lib.ui import reservations as widgets
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.AGENT, Role.ADMIN)
st.title("Réservations – agents", anchor=False)

query = st.text_input(
    "Rechercher un enfant (prénom, nom)", key="staff_search", max_chars=80, placeholder="ex. : Hugo Martin"
)
if not query:
    st.caption("Saisissez au moins deux lettres du prénom ou du nom.")
    st.stop()
with refusals_shown(stop=True):
    found = reservations.find_children(session.db(), actor, query)
if not found:
    st.info("Aucun enfant ne correspond à cette recherche.")
    st.stop()
left, right = st.columns(2)
child = left.selectbox(
    f"Enfant ({len(found)} trouvé(s))",
    found,
    key="staff_child",
    format_func=lambda c: f"{c['first_name']} {c['last_name']} ({c['school_class']}, {c['family']})",
)
with right:
    year = widgets.choose_year("staff_year")
if st.session_state.get("staff_child_read") != child["id"]:  # once per child chosen, not per rerun
    trail.record_child_file_read(session.db(), actor, child["id"], session.now())
    st.session_state["staff_child_read"] = child["id"]

with st.container(border=True):
    late = st.toggle(
        "Modifier hors délai",
        key="staff_late",
        help="Permet de réserver ou d'annuler après la limite, y compris un jour passé.",
    )
    reason = st.text_input(
        "Motif (obligatoire hors délai, conservé dans le journal)", key="staff_reason", max_chars=500, disabled=not late
    )
override = widgets.StaffOverride(late=late, reason=reason)

with st.expander("Inscription de l'enfant", icon=":material/how_to_reg:"):
    widgets.registration_section(actor, child, year)

st.header(f"Réservations de {md(child['first_name'])} {md(child['last_name'])}", anchor=False)
widgets.booking_section(actor, child, year, override)
calendar.legend()
layout.contact_footer()
