"""Family home: the children, this year's registrations, the next booked days, the balance."""

import streamlit as st

from lib.domain import fr
from lib.domain.roles import Role
from lib.services import home
from lib.ui import layout, session

actor = session.require_actor(Role.FAMILY)
data = home.family_home(session.db(), actor, session.today())

st.title(f"Bonjour {actor.display_name}", anchor=False)
if data.school_year:
    st.caption(f"Année scolaire {data.school_year}")

if data.unpaid_count:
    st.warning(f"🔴 {data.unpaid_count} facture(s) non soldée(s) : {fr.euros(data.unpaid_cents)} restant à payer.")
else:
    st.success("🟢 Toutes vos factures sont soldées.")

st.header("Mes enfants", anchor=False)
if not data.children:
    st.info("Aucun enfant n'est rattaché à votre compte. Contactez le service éducation.")
for child in data.children:
    with st.container(border=True, key=f"child_{child.id}"):
        st.subheader(f"{child.first_name} {child.last_name}", anchor=False)
        st.markdown(f"Classe : **{child.school_class}** · Régime : **{child.diet}**")
        if child.registrations:
            st.markdown("**Inscriptions**")
            st.markdown("\n".join(f"- {r['site']} : {', '.join(r['services'])}" for r in child.registrations))
        else:
            st.info("Pas encore inscrit(e) pour cette année scolaire.")
        if child.next_bookings:
            st.markdown("**Prochaines réservations**")
            st.markdown("\n".join(f"- {fr.long_date(day).capitalize()} : {', '.join(services)}"
                                  for day, services in child.next_bookings))
        else:
            st.caption("Aucune réservation à venir.")

layout.contact_footer()
