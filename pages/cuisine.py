"""« Cuisine »: how many meals to cook per site, service and diet, firm or provisional, what changed
since the last print; the sheet as CSV or PDF; and the meals per day over a period."""

import pandas as pd
import streamlit as st

from lib import charts
from lib.domain import fr
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.domain.spreadsheet import csv_bytes
from lib.services import kitchen
from lib.ui import dates, layout, session, tables
from lib.ui.errors import refusals_shown

MAX_CARDS = 12

actor = session.require_actor(Role.KITCHEN, Role.AGENT, Role.ADMIN)
db, now = session.db(), session.now()
st.title("Cuisine", anchor=False)

default = kitchen.default_day(db, actor, now) or now.date()
span = dates.around(now.date())
day = dates.day_picker(
    "Jour de service",
    *span,
    default,
    key="kitchen_day",
    help="Par défaut : aujourd'hui jusqu'au déjeuner, puis le prochain jour de service.",
)
with refusals_shown(stop=True, as_info=True):
    sheet = kitchen.sheet(db, actor, day, now)
st.header(f"Repas du {fr.long_date(sheet.day)}", anchor=False)
(st.success if sheet.firm else st.warning)(sheet.status_text)
st.caption("Comptage par régime seulement : aucune donnée de santé (PAI, allergies) n'apparaît ici.")
if not sheet.rows:
    st.info("Aucun repas réservé ce jour-là.")
else:
    st.metric("Repas au total", fr.decimal(sheet.total, 0))
    # One small table per site and service (diet → meals) rather than one wide pivot: on a phone or
    # a kitchen tablet every diet's count stays in view, never cut off at the table's right edge.
    groups = sheet.groups()
    if len(groups) > MAX_CARDS:  # a city's hundred sites: one long table (sortable, searchable) instead
        st.dataframe(
            tables.french(
                pd.DataFrame(sheet.rows).rename(
                    columns={"site": "Structure", "service": "Prestation", "diet": "Régime", "meals": "Repas"}
                )
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        cols = st.columns(min(3, len(groups)))
        for i, group in enumerate(groups):
            with cols[i % len(cols)].container(border=True, key=f"kitchen_group_{i}"):
                st.markdown(f"**{md(group.site)}**  \n{md(group.service)} : **{fr.decimal(group.meals, 0)}** repas")
                st.dataframe(
                    tables.french(pd.DataFrame(group.diets, columns=["Régime", "Repas"])),
                    hide_index=True,
                    width="stretch",
                    key=f"kitchen_diets_{i}",
                )
if sheet.printed_at:
    when = fr.numeric_date_time(sheet.printed_at)
    if sheet.changes:
        st.markdown(
            f"**Changements depuis la dernière impression ({when}) :**\n"
            + "\n".join(
                f"- {md(what)} : {before} → **{after}** ({after - before:+d})" for what, before, after in sheet.changes
            )
        )
    else:
        st.caption(f"Aucun changement depuis la dernière impression ({when}).")
# Built on the click, and only the click counts as printing (the /export/ link only downloads).
# on_click="ignore": a click that also reran the page would register the buttons again and could
# drop the file being built for it (Streamlit's deferred downloads), leaving the download hanging.
with st.container(horizontal=True):
    st.download_button(
        "Fiche de production (CSV)",
        lambda: kitchen.sheet_file(db, actor, day, session.now(), "csv", count_as_printed=True),
        f"repas-{day.isoformat()}.csv",
        "text/csv",
        key="kitchen_csv",
        icon=":material/download:",
        on_click="ignore",
    )
    st.download_button(
        "Fiche imprimable (PDF)",
        lambda: kitchen.sheet_file(db, actor, day, session.now(), "pdf", count_as_printed=True),
        f"repas-{day.isoformat()}.pdf",
        "application/pdf",
        key="kitchen_pdf",
        icon=":material/print:",
        on_click="ignore",
    )

st.header("Repas par jour", anchor=False)
first, last = kitchen.default_range(now.date())
left, right = st.columns(2)
start = dates.day_picker("Du", *span, first, key="kitchen_from", where=left)
end = dates.day_picker("Au", *span, last, key="kitchen_to", where=right)
stack = st.radio("Empiler par", ["Structure", "Régime"], horizontal=True, key="kitchen_stack")
with refusals_shown(stop=True):
    series = kitchen.daily_series(db, actor, start, end)
if not series:
    st.info("Aucun repas réservé sur cette période.")
else:
    st.plotly_chart(
        charts.daily_meals(pd.DataFrame(series), stack_by="site" if stack == "Structure" else "diet"),
        key="kitchen_chart",
    )
    per_day = pd.DataFrame(kitchen.meals_per_day(series))
    per_day.columns = ["Jour", "Repas réservés", "Pointés présents", "Pointés absents"]
    st.dataframe(
        tables.french(per_day.assign(Jour=[fr.short_date(d) for d in per_day["Jour"]])),
        hide_index=True,
        width="stretch",
    )
    st.download_button(
        "Données du graphique (CSV)",
        csv_bytes(per_day.columns, per_day.itertuples(index=False)),
        "repas-par-jour.csv",
        "text/csv",
        key="kitchen_series_csv",
    )
layout.contact_footer()
