"""« Mes inscriptions » (the seed's part 1): register a child, then book on the calendar."""

import streamlit as st

from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import reservations
from lib.ui import calendar, calendar_feed, layout, session
from lib.ui import reservations as widgets

actor = session.require_actor(Role.FAMILY)
st.title("Mes inscriptions", anchor=False)
st.markdown(
    "Touchez un jour du calendrier pour le réserver ou l'annuler. « Modification » : une semaine type "
    "sur une période (les jours où votre enfant vient chaque semaine), ou des jours occasionnels, mois par "
    "mois. La légende des couleurs est en bas de page."
)

children = reservations.my_children(session.db(), actor)
if not children:
    st.info("Aucun enfant n'est rattaché à votre compte. Contactez le service éducation.")
    st.stop()
left, right = st.columns(2)
child = left.selectbox("Enfant", children, format_func=lambda c: f"{c.first_name} {c.last_name}", key="resa_child")
with right:
    year = widgets.choose_year("resa_year")

with st.expander("Inscrire mon enfant ou modifier son inscription", icon=":material/how_to_reg:"):
    widgets.registration_section(actor, child, year)
calendar_feed.feed_section(actor, child)

st.header(f"Réservations de {md(child.first_name)}", anchor=False)
widgets.booking_section(actor, child, year)
calendar.legend()
layout.contact_footer()
