"""Family home: the children, this year's registrations, the next booked days, the balance."""

import streamlit as st

from lib.domain import fr
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import home
from lib.ui import invoices, layout, session

actor = session.require_actor(Role.FAMILY)
data = home.family_home(session.db(), actor, session.today())
actions = home.family_actions(session.db(), actor, session.now())

st.title(f"Bonjour {md(actor.display_name)}", anchor=False)
if data.school_year:
    st.caption(f"Année scolaire {md(data.school_year)}")
# The seed guide's first words: what the portal is for, before the shortcuts to it.
st.markdown(
    "Le Portail Famille vous permet de réserver la restauration scolaire et le mercredi de vos enfants, "
    "et de régler vos factures."
)

# The seed's two pages and what waits (an unpaid invoice's « Payer ») one tap away, menu closed.
# Buttons that switch page (st.page_link would refuse to draw where the page runs alone, as in tests).
with st.container(key="home_shortcuts"):
    left, right = st.columns(2)
    if left.button("Mes inscriptions", key="home_go_inscriptions", icon=":material/calendar_month:", width="stretch"):
        st.switch_page("pages/mes_inscriptions.py")
    if right.button("Mes factures", key="home_go_factures", icon=":material/receipt_long:", width="stretch"):
        st.switch_page("pages/mes_factures.py")
    for invoice in actions.unpaid[:3]:  # the oldest first; « Mes factures » has them all
        what = f"{fr.month_year(invoice.month)} ({invoice.number})"
        label = (
            f"Payer {fr.euros(invoice.left_cents)} — {what}"
            if actions.can_pay_online
            else f"Voir la facture non soldée : {fr.euros(invoice.left_cents)} — {what}"
        )
        if st.button(
            label,
            key=f"home_pay_{invoice.number}",
            type="primary",
            width="stretch",
            icon=":material/payments:" if actions.can_pay_online else ":material/receipt_long:",
        ):
            st.switch_page("pages/mes_factures.py", query_params={invoices.LINK_PARAM: invoice.number})

if data.unpaid_count:
    st.warning(f"🔴 {data.unpaid_count} facture(s) non soldée(s) : {fr.euros(data.unpaid_cents)} restant à payer.")
else:
    st.success("🟢 Toutes vos factures sont soldées.")

st.header("Mes enfants", anchor=False)
if not data.children:
    st.info("Aucun enfant n'est rattaché à votre compte. Contactez le service éducation.")
for child in data.children:
    with st.container(border=True, key=f"child_{child.id}"):
        st.subheader(f"{md(child.first_name)} {md(child.last_name)}", anchor=False)
        st.markdown(f"Classe : **{md(child.school_class)}** · Régime : **{md(child.diet)}**")
        if child.registrations:
            st.markdown("**Inscriptions**")
            st.markdown("\n".join(f"- {md(r.site)} : {md(', '.join(r.services))}" for r in child.registrations))
        else:
            st.info("Pas encore inscrit(e) pour cette année scolaire.")
        if child.next_bookings:
            st.markdown("**Prochaines réservations**")
            st.markdown(
                "\n".join(
                    f"- {fr.long_date(day).capitalize()} : {md(', '.join(services))}"
                    for day, services in child.next_bookings
                )
            )
        else:
            st.caption("Aucune réservation à venir.")

layout.contact_footer()
