"""« Impayés » (administrator and agents): the invoices with something left to pay, per family and
per month, how late each is, the totals, and the CSV file the public accountant (the Trésor) takes."""

from datetime import date

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.domain.unpaid import COLUMNS, lateness
from lib.services import collection
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.ADMIN, Role.AGENT)
db, today = session.db(), session.today()
st.title("Impayés", anchor=False)
st.caption(
    "Les factures dont il reste une somme à payer : paiements reçus (contre-passations déduites) et avoirs "
    "pris en compte. Le fichier CSV est celui que l'on remet au comptable public (Trésor public)."
)

with refusals_shown(stop=True):
    everything = collection.unpaid(db, actor, today)
    months = collection.unpaid_months(db, actor)
families: dict[int | None, str] = {
    None: "Toutes les familles",
    **{f.family_id: f"{f.family} ({f.debtors})" for f in everything.families},
}
periods: dict[date | None, str] = {None: "Tous les mois", **{m: fr.month_year(m).capitalize() for m in months}}
family = st.selectbox("Famille", list(families), format_func=lambda f: families[f], key="unpaid_family")
month = st.selectbox("Mois facturé", list(periods), format_func=lambda m: periods[m], key="unpaid_month")
overdue = st.checkbox("Seulement les factures échues (date d'échéance passée)", key="unpaid_overdue")
with refusals_shown(stop=True):
    found = collection.unpaid(db, actor, today, family_id=family, month=month, overdue_only=overdue)

cols = st.columns(3)
cols[0].metric("Factures impayées", len(found.rows))
cols[1].metric("Reste à recouvrer", fr.euros(found.left_cents))
cols[2].metric("Dont échu", fr.euros(found.overdue_cents))
if not found.rows:
    st.success("Aucune facture impayée pour ce choix.", icon="✅")
else:
    st.header("Par famille", anchor=False)
    st.dataframe(
        pd.DataFrame(
            {
                "Famille": [f.family for f in found.families],
                "Débiteur(s)": [f.debtors for f in found.families],
                "Factures": [f.invoices for f in found.families],
                "Reste à payer": [fr.euros(f.left_cents) for f in found.families],
                "Retard": [lateness(f.oldest_due, today) for f in found.families],
            }
        ),
        hide_index=True,
        width="stretch",
        key="unpaid_families",
    )
    st.header("Par facture", anchor=False)
    st.dataframe(
        pd.DataFrame(
            {
                "N°": [r.number for r in found.rows],
                "Débiteur": [r.debtor for r in found.rows],
                "Mois": [fr.month_year(r.month).capitalize() for r in found.rows],
                "Échéance": [fr.numeric_date(r.due_date) for r in found.rows],
                "Retard": [lateness(r.due_date, today) for r in found.rows],
                "Montant": [fr.euros(r.total_cents) for r in found.rows],
                "Réglé": [fr.euros(r.paid_cents) for r in found.rows],
                "Avoirs": [fr.euros(r.credited_cents) for r in found.rows],
                "Reste à payer": [fr.euros(r.left_cents) for r in found.rows],
                "Référence": [r.reference for r in found.rows],
            }
        ),
        hide_index=True,
        width="stretch",
        key="unpaid_invoices",
    )
    st.download_button(
        "Exporter pour le comptable public (CSV)",
        lambda: collection.unpaid_csv(db, actor, session.now(), family_id=family, month=month, overdue_only=overdue),
        f"impayes-{today.isoformat()}.csv",
        "text/csv",
        key="unpaid_export",
        icon=":material/download:",
        on_click="ignore",
    )
    st.caption("L'export est noté au journal d'audit.")
with st.expander("Les colonnes du fichier"):
    st.markdown("\n".join(f"- `{c.name}` : {md(c.description)}" for c in COLUMNS))
layout.contact_footer()
