"""Administrator: the audit log in plain French — who, what, which family or child, when — by kind
of change, family or child name and period; the same as CSV."""

from itertools import groupby
from typing import Any

import streamlit as st

from lib.domain import fr
from lib.domain.journal import KINDS, NAME_MAX
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import trail
from lib.ui import dates, layout, session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.ADMIN)
today = session.today()
st.title("Journal d'audit", anchor=False)
st.caption("Qui a changé quoi, pour quelle famille ou quel enfant, et quand (heure de Paris).")
left, right = st.columns(2)
kind = left.selectbox("Type de changement", list(KINDS), key="audit_kind")
name = right.text_input(
    "Famille ou enfant (nom ou prénom)",
    key="audit_name",
    max_chars=NAME_MAX,
    placeholder="ex. Martin",
    help="Sans accents ni majuscules obligatoires.",
)
first, last = dates.around(today, after=0)
left, right = st.columns(2)
start = dates.day_picker("Du", first, last, first, key="audit_from", where=left)
end = dates.day_picker("Au", first, last, last, key="audit_to", where=right)
filters: dict[str, Any] = {"kind": kind, "name": name, "first": start, "last": end}
with refusals_shown(stop=True):
    found = trail.journal(session.db(), actor, **filters)

if not found.lines:
    st.info("Aucune entrée ne correspond à ces filtres.")
else:
    shown = f"Les {len(found.lines)} entrées les plus récentes" if found.more else f"{len(found.lines)} entrée(s)"
    st.caption(
        f"{shown}, de la plus récente à la plus ancienne."
        + (" Précisez les filtres, ou téléchargez le CSV (5 000 entrées au plus)." if found.more else "")
    )
    st.download_button(
        "Télécharger ces entrées (CSV)",
        lambda: trail.journal_csv(session.db(), actor, **filters),
        f"journal-audit-{today.isoformat()}.csv",
        "text/csv",
        key="audit_csv",
        icon=":material/download:",
    )
    for day, lines in groupby(found.lines, key=lambda line: line.at.date()):
        items = []
        for line in lines:
            item = f"- **{fr.hour(line.at)}** — {md(line.who)} : {md(line.what)}."
            if line.concerns:
                item += f"  \n  Concerne : {md(line.concerns)}."
            if line.reason:
                item += f"  \n  Motif : « {md(line.reason)} »"
            items.append(item)
        with st.container(border=True):
            st.markdown(f"**{fr.long_date(day).capitalize()}**\n\n" + "\n".join(items))
layout.contact_footer()
