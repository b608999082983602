"""Administrator: the audit log — who changed what, when, before and after, and why."""

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.clock import from_utc_naive
from lib.domain.roles import Role
from lib.services import settings
from lib.ui import layout, session

KINDS = {"Tout": "", "Réservations": "booking", "Inscriptions": "registration", "Prestations": "service",
         "Capacités": "capacity", "Paiements": "payment"}

actor = session.require_actor(Role.ADMIN)
st.title("Journal d'audit", anchor=False)
left, right = st.columns(2)
kind = left.selectbox("Type de changement", list(KINDS), key="audit_kind")
child = right.text_input("N° d'enfant (facultatif)", key="audit_child", max_chars=12)
entries = settings.audit_entries(session.db(), actor, action_prefix=KINDS[kind],
                                 entity="child" if child.strip() else None, entity_id=child.strip() or None)
if not entries:
    st.info("Aucune entrée ne correspond.")
else:
    table = pd.DataFrame([{
        "Quand": fr.numeric_date_time(from_utc_naive(e["logged_at"])),
        "Qui": e["who"], "Action": e["action"], "Objet": f"{e['entity']} {e['entity_id'] or ''}".strip(),
        "Motif": e["reason"] or "", "Avant": e["before"] or "", "Après": e["after"] or "",
    } for e in entries])
    st.caption(f"{len(entries)} entrée(s), les plus récentes d'abord.")
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button("Télécharger (CSV)", table.to_csv(index=False, sep=";").encode("utf-8-sig"), "journal-audit.csv",
                       "text/csv", key="audit_csv")
layout.contact_footer()
