"""« Tendances » (read-only): attendance and meals per week or month, this school year against the
previous one, no-shows, use of the portal, billed and paid amounts. Every chart has its numbers."""

import pandas as pd
import streamlit as st

from lib import charts
from lib.domain import fr, periods
from lib.domain.roles import Role
from lib.domain.spreadsheet import csv_bytes
from lib.services import trends
from lib.ui import layout, session, tables
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.ELECTED, Role.ADMIN)
db = session.db()
st.title("Tendances", anchor=False)

offered = trends.filters(db, actor)
sites: dict[int | None, str] = {None: "Toutes les structures", **{o.site_id: o.site for o in offered}}
services: dict[int | None, str] = {None: "Toutes les prestations", **{o.service_id: o.service for o in offered}}
left, middle, right = st.columns(3)
grain = left.radio("Période", list(trends.GRAINS), format_func=trends.GRAINS.get, horizontal=True, key="trends_grain")
site = middle.selectbox("Structure", list(sites), format_func=lambda s: sites[s], key="trends_site")
service = right.selectbox("Prestation", list(services), format_func=lambda s: services[s], key="trends_service")
with refusals_shown(stop=True):
    data = trends.trends(db, actor, session.today(), grain=grain, site_id=site, service_id=service)

frame = pd.DataFrame(data.rows)
share = data.portal
left, right = st.columns(2)
left.metric(
    "Familles qui réservent en ligne",
    fr.percent(share.online, share.families, digits=0),
    help=f"{fr.decimal(share.online, 0)} famille(s) sur {fr.decimal(share.families, 0)} "
    "ayant des réservations cette année",
)
right.metric("Reste à encaisser", fr.euros(data.unpaid_cents))
if frame.empty:
    st.info("Pas encore de données pour cette année scolaire.")
    st.stop()

running = trends.RUNNING[data.grain]
st.caption(trends.READING[data.grain])
st.header("Taux de présence", anchor=False)
st.caption("Présents parmi les enfants réservés et pointés, en %.")
st.plotly_chart(
    charts.year_lines(
        frame,
        column="rate",
        current_label=data.label,
        previous_label=data.previous_label,
        value_title="% de présents",
        percent=True,
        running_name=running,
    ),
    key="trends_rate",
)
st.header("Absences non prévues", anchor=False)
st.caption("Absents (justifiés ou non) parmi les enfants réservés et pointés, en %.")
st.plotly_chart(
    charts.year_lines(
        frame,
        column="no_show",
        current_label=data.label,
        previous_label=data.previous_label,
        value_title="% d'absents",
        percent=True,
        running_name=running,
    ),
    key="trends_no_show",
)
st.header("Repas", anchor=False)
meals = frame.rename(columns={"label": "month_label", "current_meals": "current", "previous_meals": "previous"})
st.plotly_chart(
    charts.monthly_comparison(
        meals,
        current_label=data.label,
        previous_label=data.previous_label,
        value_title="Repas réservés",
        running_name=running,
    ),
    key="trends_meals",
)
table = frame.rename(
    columns={
        "label": "Période",
        "current_booked": f"Réservés {data.label}",
        "current_rate": f"% présents {data.label}",
        "current_no_show": f"% absents {data.label}",
        "current_meals": f"Repas {data.label}",
        "previous_booked": f"Réservés {data.previous_label}",
        "previous_rate": f"% présents {data.previous_label}",
        "previous_no_show": f"% absents {data.previous_label}",
        "previous_meals": f"Repas {data.previous_label}",
    }
).drop(columns=["index", "tick", "running"])
table = table[["Période", *[c for c in table if c != "Période"]]]  # the period first, as one reads a table
# "93,4" and "5 703", periods to come as "—": as a French reader (and screen reader) expects.
st.dataframe(
    tables.french(table, digits={c: 1 for c in table if c.startswith("% ")}),
    hide_index=True,
    width="stretch",
    column_config={"Période": st.column_config.TextColumn(width="medium", pinned=True)},
)
st.download_button(
    "Télécharger ces chiffres (CSV)",
    csv_bytes(table.columns, table.itertuples(index=False)),
    "tendances.csv",
    "text/csv",
    key="trends_csv",
)

st.header("Facturé et encaissé", anchor=False)
billing = pd.DataFrame(data.billing)
if billing.empty:
    st.info("Aucune facture émise pour l'instant.")
else:
    billing["label"] = [fr.month_year(p).capitalize() for p in billing["period"]]
    billing["tick"] = [periods.month_year_tick(p) for p in billing["period"]]
    st.plotly_chart(charts.billing(billing), key="trends_billing")
    st.dataframe(
        pd.DataFrame(
            {
                "Mois": billing["label"],
                "Facturé": [fr.euros(v) for v in billing["billed"]],
                "Encaissé": [fr.euros(v) for v in billing["paid"]],
            }
        ),
        hide_index=True,
        width="stretch",
    )
layout.contact_footer()
