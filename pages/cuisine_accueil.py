"""Kitchen home: meals per site and diet for today and the next service day."""

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.roles import Role
from lib.services import home
from lib.ui import layout, session

actor = session.require_actor(Role.KITCHEN, Role.AGENT, Role.ADMIN)
days = home.kitchen_home(session.db(), actor, session.today())

st.title("Accueil cuisine")
st.caption("Repas réservés par structure et par régime (codes de régime seulement, sans données de santé).")
if not days:
    st.info("Aucun repas prévu dans les prochaines semaines (vacances scolaires).")
for counts in days:
    st.header(fr.long_date(counts.day).capitalize())
    if not counts.rows:
        st.info("Aucun repas réservé ce jour-là.")
        continue
    table = pd.DataFrame(counts.rows).pivot_table(index="site", columns="diet", values="meals",
                                                  aggfunc="sum", fill_value=0, sort=False)
    table["Total"] = table.sum(axis=1)
    st.metric("Repas au total", int(table["Total"].sum()))
    st.dataframe(table.rename_axis(index="Structure", columns="Régime"), width="stretch")
layout.contact_footer()
