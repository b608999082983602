"""« Pointage »: for a day, a site and a service, mark each booked child present, absent or absent
with a justification (a few taps on a tablet), add a child who came without a booking, save."""

import pandas as pd
import streamlit as st

from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import attendance
from lib.ui import dates, health, layout, session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.AGENT, Role.ADMIN)
db, now = session.db(), session.now()
st.title("Pointage", anchor=False)

choices = attendance.choices(db, actor)
if not choices:
    st.info("Aucune structure ni prestation n'est configurée.")
    st.stop()
left, middle, right = st.columns(3)
day = dates.day_picker("Jour", dates.around(now.date())[0], now.date(), now.date(), key="check_day", where=left)
# Two short lists rather than one of long « site — service » names, cut on a phone.
sites = list(dict.fromkeys(c.site for c in choices))
site = middle.selectbox("Structure", sites, key="check_site")
pair = right.selectbox(
    "Prestation", [c for c in choices if c.site == site], format_func=lambda c: c.service, key="check_service"
)
with refusals_shown(stop=True):
    sheet = attendance.sheet(db, actor, day, pair.site_id, pair.service_id, now)

codes = {label: code for code, label in attendance.STATUSES.items()}
place = f"check_{day.isoformat()}_{pair.site_id}_{pair.service_id}"
added = st.session_state.setdefault(f"{place}_added", [])
# The grid's key changes after every save, so that it shows what is stored, never a stale edit.
generation = st.session_state.setdefault("check_generation", 0)
rows = sheet.with_added(added)
if not rows:
    st.info("Aucun enfant réservé ce jour-là pour cette prestation.")
st.caption(f"{len(sheet.rows)} enfant(s) attendu(s). Touchez la colonne « Présence » pour pointer, puis enregistrez.")


def saved(message: str) -> None:
    st.session_state["check_flash"] = message
    st.session_state["check_generation"] = generation + 1
    st.rerun()


if rows:
    frame = pd.DataFrame(
        [
            {
                "N°": r.child_id,
                "Enfant": f"{r.first_name} {r.last_name}",
                "Classe": r.school_class,
                "Réservé": "oui" if r.booked else "non",
                "PAI": "oui" if r.pai else "",  # a flag: the content is behind the button below
                "Présence": attendance.STATUSES.get(r.status or "", "—"),  # « — »: not checked yet
            }
            for r in rows
        ]
    )
    # The name and the status first: on a phone they are what shows without scrolling sideways.
    edited = st.data_editor(
        frame,
        hide_index=True,
        width="stretch",
        key=f"{place}_{generation}",
        column_order=["Enfant", "Présence", "PAI", "Classe", "Réservé", "N°"],
        disabled=["N°", "Enfant", "PAI", "Classe", "Réservé"],
        column_config={
            "Présence": st.column_config.SelectboxColumn(
                "Présence", options=list(attendance.STATUSES.values()), required=False
            )
        },
    )
    stored = {r.child_id: r.status for r in sheet.rows}
    # What the grid shows now that is not stored: saved with either button, never lost.
    edits = {
        int(n): codes.get(p)
        for n, p in zip(edited["N°"], edited["Présence"])
        if codes.get(p) is not None and codes.get(p) != stored.get(int(n))
    }
    rest = attendance.unmarked(sheet, edits)
    if edits:
        st.warning(f"{len(edits)} changement(s) pas encore enregistré(s).", icon="✏️")
    if st.button("Enregistrer le pointage", key="check_save", type="primary"):
        with refusals_shown():
            saved(
                attendance.save(db, actor, day, pair.site_id, pair.service_id, edits, session.now())
                if edits
                else "Aucun changement : le pointage était déjà celui-ci."
            )
    if rest and edits:
        st.caption("« Marquer présents » enregistre aussi les choix déjà faits dans la grille.")
    if rest and st.button(f"Marquer présents les {len(rest)} enfant(s) non pointés", key="check_all_present"):
        with refusals_shown():
            saved(attendance.mark_rest_present(db, actor, day, pair.site_id, pair.service_id, edits, session.now()))
    if "check_flash" in st.session_state:
        st.success(md(st.session_state.pop("check_flash")), icon="✅")
health.sheet_pai(db, actor, day, pair, added, [r.child_id for r in rows], now)
candidates = [c for c in sheet.addable if c.child_id not in added]
if candidates:
    with st.expander("Ajouter un enfant présent sans réservation"):
        extra = st.selectbox(
            "Enfant inscrit à cette structure",
            candidates,
            key="check_extra",
            format_func=lambda c: f"{c.first_name} {c.last_name} ({c.school_class})",
        )
        if st.button("Ajouter au pointage", key="check_add"):
            added.append(extra.child_id)
            st.rerun()
layout.contact_footer()
