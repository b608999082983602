"""Administrator's home: a new town's first steps (until all are done), the portal in figures, the
accounts, the latest audit entries."""

import pandas as pd
import streamlit as st

from lib.domain.roles import Role
from lib.services import home, town_setup, trail
from lib.ui import layout, session

actor = session.require_actor(Role.ADMIN)
data = home.admin_home(session.db(), actor)

st.title("Administration", anchor=False)
steps = town_setup.first_steps(session.db(), actor)
if not steps.all_done:
    st.header("Pour démarrer", anchor=False)
    done = {True: "✅ fait", False: "⬜ à faire"}
    st.markdown(
        "\n".join(
            f"{n}. {label} — {done[ticked]}"
            for n, (label, ticked) in enumerate(
                [
                    ("l'année scolaire", steps.school_year),
                    ("les structures", steps.sites),
                    ("les prestations", steps.services),
                    ("importer les familles", steps.families),
                    ("inviter les responsables", steps.invitations),
                ],
                start=1,
            )
        )
    )
    if st.button("Structures et année scolaire", key="admin_go_structures", icon=":material/domain:"):
        st.switch_page("pages/admin_structures.py")
cols = st.columns(3)
cols[0].metric("Familles", data.families)
cols[1].metric("Enfants", data.children)
cols[2].metric("Factures émises", data.invoices)
if data.payment_requests:
    st.warning(f"{data.payment_requests} demande(s) de droit au paiement en ligne en attente.")

st.header("Comptes actifs par profil", anchor=False)
st.dataframe(
    pd.DataFrame([{"Profil": role.label, "Comptes": users} for role, users in data.users_by_role.items()]),
    hide_index=True,
)

st.header("Journal d'audit (dernières entrées)", anchor=False)
recent = trail.journal(session.db(), actor, limit=12).lines
st.dataframe(
    pd.DataFrame(
        [
            {
                "Quand": line.when,
                "Qui": line.who,
                "Quoi": line.what,
                "Concerne": line.concerns or "",
                "Motif": line.reason or "",
            }
            for line in recent
        ]
    ),
    hide_index=True,
)
if st.button("Tout le journal, avec ses filtres", key="admin_go_journal", icon=":material/history:"):
    st.switch_page("pages/admin_journal.py")
layout.contact_footer()
