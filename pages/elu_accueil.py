"""Elected officials' home: this school year to date against the previous one."""

import pandas as pd
import streamlit as st

from lib import charts
from lib.domain import fr
from lib.domain.roles import Role
from lib.services import home
from lib.ui import layout, session, tables

actor = session.require_actor(Role.ELECTED, Role.ADMIN)
data = home.elected_home(session.db(), actor, session.today())

st.title("Accueil élus", anchor=False)
if data is None:
    st.info("Aucune année scolaire n'est encore ouverte.")
    st.stop()


def rate(figures: dict) -> str:
    checked = figures["checked_to_date"]
    return fr.percent(figures["present_to_date"], checked)


st.caption(f"Année scolaire {data.label}, depuis la rentrée, comparée à {data.previous_label or '—'} "
           "à la même date.")
cols = st.columns(2)
prev = data.previous or {}
cols[0].metric("Enfants inscrits", data.current["children"],
               delta=data.current["children"] - prev["children"] if prev else None)
cols[1].metric("Familles", data.current["families"],
               delta=data.current["families"] - prev["families"] if prev else None)
cols = st.columns(2)
cols[0].metric("Réservations à ce jour", data.current["bookings_to_date"],
               delta=data.current["bookings_to_date"] - prev["bookings_to_date"] if prev else None)
cols[1].metric("Taux de présence", rate(data.current), help=f"Année précédente : {rate(prev) if prev else '—'}")

st.header("Jours réservés par mois", anchor=False)
st.caption("Le mois en cours est compté jusqu'à aujourd'hui ; l'année précédente, mois complets.")
months = pd.DataFrame(data.months)
st.plotly_chart(charts.monthly_comparison(months, current_label=data.label, previous_label=data.previous_label,
                                          value_title="Jours réservés"), key="elu_months")
st.dataframe(tables.french(months).rename(columns={"month_label": "Mois", "current": data.label,
                                    "previous": data.previous_label or "—"}), hide_index=True)
layout.contact_footer()
