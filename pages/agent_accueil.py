"""Agent home: children expected today per site and service, and attendance recorded so far."""

import streamlit as st

from lib.domain import fr
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import home
from lib.ui import layout, session

actor = session.require_actor(Role.AGENT, Role.ADMIN)
today = session.today()
counts = home.agent_home(session.db(), actor, today)

st.title("Accueil agent", anchor=False)
if counts.day is None:
    st.info("Aucun jour de service dans les prochaines semaines (vacances scolaires).")
else:
    when = "Aujourd'hui" if counts.day == today else "Prochain jour de service"
    st.header(f"{when} : {fr.long_date(counts.day)}", anchor=False)
    if not counts.rows:
        st.info("Aucun enfant réservé ce jour-là.")
    for row in counts.rows:
        with st.container(border=True):
            st.subheader(f"{md(row.site)} — {md(row.service)}", anchor=False)
            cols = st.columns(3)
            cols[0].metric("Enfants réservés", row.booked, help=f"Capacité : {row.capacity}")
            cols[1].metric("Pointés présents", row.present)
            cols[2].metric("Pointés absents", row.absent)
            if row.waiting:
                st.caption(f"{row.waiting} enfant(s) en liste d'attente.")
layout.contact_footer()
