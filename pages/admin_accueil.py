"""Administrator's home: the portal in figures, the accounts, the latest audit entries."""

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.clock import from_utc_naive
from lib.domain.roles import Role
from lib.services import home
from lib.ui import layout, session

actor = session.require_actor(Role.ADMIN)
data = home.admin_home(session.db(), actor)
figures = data["figures"]

st.title("Administration", anchor=False)
cols = st.columns(3)
cols[0].metric("Familles", figures["families"])
cols[1].metric("Enfants", figures["children"])
cols[2].metric("Factures émises", figures["invoices"])
if figures["payment_requests"]:
    st.warning(f"{figures['payment_requests']} demande(s) de droit au paiement en ligne en attente.")

st.header("Comptes actifs par profil", anchor=False)
roles = {r.value: r.label for r in Role}
st.dataframe(pd.DataFrame([{"Profil": roles[r["role"]], "Comptes": r["users"]} for r in data["users_by_role"]]),
             hide_index=True)

st.header("Journal d'audit (dernières entrées)", anchor=False)
entries = [{"Quand": fr.numeric_date_time(from_utc_naive(e["logged_at"])), "Qui": e["who"],
            "Action": e["action"], "Objet": f"{e['entity']} {e['entity_id'] or ''}".strip(),
            "Motif": e["reason"] or ""} for e in data["recent_audit"]]
st.dataframe(pd.DataFrame(entries), hide_index=True)
layout.contact_footer()
