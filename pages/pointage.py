"""« Pointage »: for a day, a site and a service, mark each booked child present, absent or absent
with a justification (a few taps on a tablet), add a child who came without a booking, save."""

import pandas as pd
import streamlit as st

from lib.domain.errors import PortailError
from lib.domain.roles import Role
from lib.services import attendance
from lib.ui import dates, layout, session

actor = session.require_actor(Role.AGENT, Role.ADMIN)
db, now = session.db(), session.now()
st.title("Pointage", anchor=False)

choices = attendance.choices(db, actor)
if not choices:
    st.info("Aucune structure ni prestation n'est configurée.")
    st.stop()
left, right = st.columns(2)
day = dates.day_picker("Jour", dates.around(now.date())[0], now.date(), now.date(), key="check_day", where=left)
pair = right.selectbox("Structure et prestation", choices, format_func=lambda c: f"{c['site']} — {c['service']}",
                       key="check_pair")
try:
    sheet = attendance.sheet(db, actor, day, pair["site_id"], pair["service_id"], now)
except PortailError as exc:
    st.error(exc.message, icon="⛔")
    st.stop()

labels = {None: "—", **attendance.STATUSES}
codes = {label: code for code, label in attendance.STATUSES.items()}
editor_key = f"check_{day.isoformat()}_{pair['site_id']}_{pair['service_id']}"
added = st.session_state.setdefault(f"{editor_key}_added", [])
rows = sheet.rows + [dict(c, booked=False, status="present") for c in sheet.addable if c["child_id"] in added]
if not rows:
    st.info("Aucun enfant réservé ce jour-là pour cette prestation.")
frame = pd.DataFrame([{"N°": r["child_id"], "Enfant": f"{r['first_name']} {r['last_name']}", "Classe": r["school_class"],
                       "Réservé": "oui" if r["booked"] else "non", "Présence": labels[r["status"]]} for r in rows])
st.caption(f"{len(sheet.rows)} enfant(s) attendu(s). Touchez la colonne « Présence » pour pointer.")
if rows:
    unpointed = {r["child_id"]: "present" for r in sheet.rows if r["status"] is None}
    if unpointed and st.button(f"Marquer présents les {len(unpointed)} enfant(s) non pointés", key="check_all_present"):
        try:
            st.session_state["check_flash"] = attendance.save(db, actor, day, pair["site_id"], pair["service_id"],
                                                              unpointed, session.now())
            st.rerun()
        except PortailError as exc:
            st.error(exc.message, icon="⛔")
    if "check_flash" in st.session_state:
        st.success(st.session_state.pop("check_flash"), icon="✅")
    edited = st.data_editor(frame, hide_index=True, width="stretch", key=editor_key,
                            disabled=["N°", "Enfant", "Classe", "Réservé"],
                            column_config={"Présence": st.column_config.SelectboxColumn(
                                "Présence", options=list(attendance.STATUSES.values()), required=False)})
    if st.button("Enregistrer le pointage", key="check_save", type="primary"):
        statuses = {int(n): codes[p] for n, p in zip(edited["N°"], edited["Présence"]) if p in codes}
        try:
            st.success(attendance.save(db, actor, day, pair["site_id"], pair["service_id"], statuses,
                                       session.now()), icon="✅")
        except PortailError as exc:
            st.error(exc.message, icon="⛔")
candidates = [c for c in sheet.addable if c["child_id"] not in added]
if candidates:
    with st.expander("Ajouter un enfant présent sans réservation"):
        extra = st.selectbox("Enfant inscrit à cette structure", candidates, key="check_extra",
                             format_func=lambda c: f"{c['first_name']} {c['last_name']} ({c['school_class']})")
        if st.button("Ajouter au pointage", key="check_add"):
            added.append(extra["child_id"])
            st.rerun()
layout.contact_footer()
