"""Elected officials' home: this school year to date against the previous one."""

import pandas as pd
import streamlit as st

from lib import charts
from lib.domain import fr
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import home
from lib.ui import layout, session, tables

actor = session.require_actor(Role.ELECTED, Role.ADMIN)
data = home.elected_home(session.db(), actor, session.today())

st.title("Accueil élus", anchor=False)
if data is None:
    st.info("Aucune année scolaire n'est encore ouverte.")
    st.stop()


def rate(figures: home.YearFigures) -> str:
    return fr.percent(figures.present_to_date, figures.checked_to_date)


st.caption(
    f"Année scolaire {md(data.label)}, depuis la rentrée, comparée à {md(data.previous_label or '—')} à la même date."
)
prev = data.previous


def count(value: int, before: int | None) -> tuple[str, str | None]:
    """The figure and its change since last year, French-written (« 13 557 », « +1 597 »)."""
    if before is None:
        return fr.decimal(value, 0), None
    change = value - before
    return fr.decimal(value, 0), ("+" if change >= 0 else "-") + fr.decimal(abs(change), 0)


now = data.current
cols = st.columns(2)
cols[0].metric("Enfants inscrits", *count(now.children, prev.children if prev else None))
cols[1].metric("Familles", *count(now.families, prev.families if prev else None))
cols = st.columns(2)
cols[0].metric("Réservations à ce jour", *count(now.bookings_to_date, prev.bookings_to_date if prev else None))
cols[1].metric("Taux de présence", rate(now), help=f"Année précédente : {rate(prev) if prev else '—'}")

st.header("Jours réservés par mois", anchor=False)
st.caption(
    "Le mois en cours (barre pointillée) est compté jusqu'à aujourd'hui : ses chiffres sont partiels. "
    "L'année précédente : mois complets. L'axe part de 0."
)
months = pd.DataFrame(data.months)
st.plotly_chart(
    charts.monthly_comparison(
        months, current_label=data.label, previous_label=data.previous_label, value_title="Jours réservés"
    ),
    key="elu_months",
)
st.dataframe(
    tables.french(months.drop(columns=["tick", "running"])).rename(
        columns={"month_label": "Mois", "current": data.label, "previous": data.previous_label or "—"}
    ),
    hide_index=True,
)
layout.contact_footer()
