"""The registration form and the booking calendar with its "Modification" editor, shared by the
family page ("Mes inscriptions") and the staff page ("Réservations – agents").

Session state holds only UI state: the month shown, whether the editor is open, the preview
of a weekly template (its inputs and the plan to colour the calendar), the day clicked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.calendar import WEEKDAY_NAMES
from lib.domain.errors import PortailError
from lib.domain.planning import State
from lib.services import reservations
from lib.ui import calendar, session
from lib.ui.dates import day_picker

PREVIEW = "resa_preview"
EDITING = "resa_edit"
MONTH = "resa_month"
DAY = "resa_day"
CONTEXT = "resa_context"
FLASH = "resa_flash"


@dataclass
class StaffOverride:
    late: bool = False
    reason: str | None = None


def choose_year(key: str) -> dict:
    years, current = reservations.school_years(session.db(), session.today())
    if not years:
        st.info("Aucune année scolaire n'est encore ouverte : revenez bientôt ou contactez la mairie.")
        st.stop()
    index = next((i for i, y in enumerate(years) if current and y["id"] == current["id"]), len(years) - 1)
    return st.selectbox("Année scolaire", years, index=index, format_func=lambda y: y["label"], key=key)


def _reset_when_context_changes(child_id: int, year_id: int) -> None:
    if st.session_state.get(CONTEXT) != (child_id, year_id):
        for key in (PREVIEW, EDITING, MONTH, DAY):
            st.session_state.pop(key, None)
        st.session_state[CONTEXT] = (child_id, year_id)


def _flash(kind: str, text: str) -> None:
    st.session_state[FLASH] = (kind, text)


def show_flash() -> None:
    kind, text = st.session_state.pop(FLASH, (None, None))
    if kind == "success":
        st.success(text, icon="✅")
    elif kind == "error":
        st.error(text, icon="⛔")
    elif kind == "info":
        st.info(text)


# --- registration -----------------------------------------------------------------------------

def registration_section(actor: Actor, child: dict, year: dict) -> None:
    db = session.db()
    form = reservations.registration_form(db, actor, child["id"], year["id"])
    if not form.sites:
        st.info("Aucune structure n'est encore ouverte aux inscriptions.")
        return
    names = {sid: name for site in form.sites for sid, name in site.services}
    if form.current:
        st.markdown("\n".join(
            f"- **{s.name}** : {', '.join(names[x] for x in form.current[s.site_id]) or '—'}"
            for s in form.sites if s.site_id in form.current))
    else:
        st.info(f"{child['first_name']} n'est pas encore inscrit(e) pour {year['label']}.")
    site = st.selectbox("Structure", form.sites, format_func=lambda s: s.name, key=f"reg_site_{child['id']}")
    current = form.current.get(site.site_id, [])
    st.markdown("Prestations")
    chosen = [sid for sid, name in site.services
              if st.checkbox(name, value=sid in current, key=f"reg_{child['id']}_{site.site_id}_{sid}")]
    if st.button("Enregistrer l'inscription", key="reg_save", type="primary"):
        try:
            _flash("success", reservations.save_registration(db, actor, child["id"], year["id"], site.site_id,
                                                             chosen, session.now()))
            st.session_state.pop(PREVIEW, None)
            st.rerun()
        except PortailError as exc:
            st.error(exc.message, icon="⛔")


# --- bookings ---------------------------------------------------------------------------------

def booking_section(actor: Actor, child: dict, year: dict, override: StaffOverride | None = None) -> None:
    db = session.db()
    override = override or StaffOverride()
    _reset_when_context_changes(child["id"], year["id"])
    try:
        ctx = reservations.booking_context(db, actor, child["id"], year["id"])
    except PortailError as exc:
        st.info(exc.message)
        return
    now = session.now()
    month = _month_picker(ctx, now.date())
    preview = st.session_state.get(PREVIEW)
    plan = preview["plan"] if preview else None
    cells = reservations.month_cells(db, ctx, month, now, plan)
    list_view = st.toggle("Affichage en liste (pratique sur téléphone)", key="resa_list_view")
    clicked = calendar.show(cells, {s.id: s.short_name for s in ctx.services}, month, list_view=list_view,
                            key=f"resa_cal_{child['id']}_{month.isoformat()}_{'list' if list_view else 'grid'}")
    if clicked is not None:
        st.session_state[DAY] = clicked
    if preview:
        _preview_box(actor, ctx, preview, override)
    _day_panel(actor, ctx, cells, override)
    if st.button("Modification", key="resa_modify", icon=":material/edit_calendar:",
                 type="secondary" if st.session_state.get(EDITING) else "primary"):
        st.session_state[EDITING] = not st.session_state.get(EDITING, False)
        st.session_state.pop(PREVIEW, None)
        st.rerun()
    if st.session_state.get(EDITING):
        _editor(actor, ctx, month, cells, override)


def _month_picker(ctx, today: date) -> date:
    months = ctx.months()
    if st.session_state.get(MONTH) not in months:
        this_month = today.replace(day=1)
        st.session_state[MONTH] = this_month if this_month in months else months[0]
    index = months.index(st.session_state[MONTH])
    # A horizontal container keeps ◀ month ▶ on one line on a phone (columns would stack).
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        # Callbacks: they change the month before the script (and the selectbox) runs again.
        st.button("◀", key="resa_prev", help="Mois précédent", disabled=index == 0,
                  on_click=_set_month, args=(months[max(index - 1, 0)],))
        st.selectbox("Mois affiché", months, format_func=lambda m: fr.month_year(m).capitalize(), key=MONTH,
                     width="stretch")
        st.button("▶", key="resa_next", help="Mois suivant", disabled=index == len(months) - 1,
                  on_click=_set_month, args=(months[min(index + 1, len(months) - 1)],))
    return st.session_state[MONTH]


def _set_month(month: date) -> None:
    st.session_state[MONTH] = month
    st.session_state.pop(DAY, None)


def _run(action, *, success_prefix: str = "") -> bool:
    """Run a change; on success keep its summary for the next run, on refusal show why."""
    try:
        result = action()
    except PortailError as exc:
        st.error(exc.message, icon="⛔")
        return False
    _flash("success", success_prefix + result.summary())
    for key in [k for k in st.session_state if str(k).startswith("booking_day_")]:
        del st.session_state[key]  # the month table re-reads the stored states
    return True


def _day_panel(actor, ctx, cells, override: StaffOverride) -> None:
    day = st.session_state.get(DAY)
    if day is None:
        return
    todays = [c for c in cells if c.day == day]
    with st.container(border=True, key="resa_day_panel"):
        st.markdown(f"**{fr.long_date(day).capitalize()}**")
        if not todays:
            st.caption("Aucune prestation de votre enfant ce jour-là.")
        for cell in todays:
            service = ctx.service(cell.service_id)
            style = calendar.STYLES[cell.state]
            st.markdown(f"{style.icon} **{service.name}** : {style.word}" + (f" — {cell.note}" if cell.note else ""))
            if cell.state in (State.BOOKED, State.WAITING):
                label, wanted = "Annuler ce jour", False
            elif cell.state in (State.BOOKABLE, State.CANCELLED, State.LOCKED):
                label, wanted = "Réserver ce jour", True
            else:
                continue
            if st.button(label, key=f"resa_day_{service.code}_{day.isoformat()}"):
                done = _run(lambda: reservations.set_day(session.db(), actor, ctx, service.id, day, wanted,
                                                         session.now(), late=override.late, reason=override.reason))
                if done:
                    st.rerun()


def _preview_box(actor, ctx, preview: dict, override: StaffOverride) -> None:
    plan = preview["plan"]
    with st.container(border=True, key="resa_preview_box"):
        st.markdown(f"**Aperçu de la semaine type** du {fr.long_date(preview['start'])} au "
                    f"{fr.long_date(preview['end'])} : rien n'est encore enregistré.")
        st.markdown(f"- ✚ **{len(plan.to_book)}** jour(s) seront réservés\n"
                    f"- − **{len(plan.to_cancel)}** jour(s) seront annulés\n"
                    f"- {plan.unchanged} jour(s) restent tels quels")
        if plan.skipped:
            st.markdown("Jours ignorés :\n" + "\n".join(f"- {reason} : {n} jour(s)"
                                                         for reason, n in plan.skipped_by_reason()))
        left, right = st.columns(2)
        if left.button("Confirmer", key="resa_confirm", type="primary", width="stretch"):
            done = _run(lambda: reservations.apply_template(
                session.db(), actor, ctx, preview["template"], preview["start"], preview["end"], session.now(),
                late=override.late, reason=override.reason))
            if done:
                st.session_state.pop(PREVIEW, None)
                st.session_state[EDITING] = False
                st.rerun()
        if right.button("Abandonner", key="resa_discard", width="stretch"):
            st.session_state.pop(PREVIEW, None)
            st.rerun()


def _editor(actor, ctx, month: date, cells, override: StaffOverride) -> None:
    with st.container(border=True, key="resa_editor"):
        mode = st.radio("Que voulez-vous modifier ?", ["Semaine type", "Jours occasionnels"], horizontal=True,
                        key="resa_mode")
        if mode == "Semaine type":
            _template_editor(actor, ctx, override)
        else:
            _occasional_editor(actor, ctx, month, cells, override)


def _template_editor(actor, ctx, override: StaffOverride) -> None:
    st.caption("Cochez les jours où votre enfant sera régulièrement présent, choisissez la période, puis "
               "« Appliquer » pour voir le résultat sur le calendrier avant de confirmer.")
    template: dict[int, list[int]] = {}
    for service in ctx.services:
        st.markdown(f"**{service.name}**")
        ticked = []
        with st.container(horizontal=True, gap="medium", key=f"booking_template_{service.code}"):
            for weekday in service.weekdays:
                name = WEEKDAY_NAMES[weekday - 1]
                if st.checkbox(name.capitalize(), key=f"booking_template_{name}_{service.code}"):
                    ticked.append(weekday)
        template[service.id] = ticked
    left, right = st.columns(2)
    first, last = ctx.year["start_date"], ctx.year["end_date"]
    start = day_picker("Du", first, last, ctx.first_service_day, key="resa_from", where=left)
    end = day_picker("Au", first, last, ctx.last_service_day, key="resa_to", where=right)
    if st.button("Appliquer", key="resa_apply", type="primary"):
        try:
            plan = reservations.preview_template(session.db(), actor, ctx, template, start, end, session.now(),
                                                 late=override.late)
        except PortailError as exc:
            st.error(exc.message, icon="⛔")
            return
        st.session_state[PREVIEW] = {"template": template, "start": start, "end": end, "plan": plan}
        st.rerun()


def _occasional_editor(actor, ctx, month: date, cells, override: StaffOverride) -> None:
    st.caption(f"Cochez les jours de {fr.month_year(month)} à réserver, décochez ceux à annuler, puis "
               "« Confirmer ». Changez de mois avec les flèches au-dessus du calendrier.")
    service = ctx.services[0]
    if len(ctx.services) > 1:
        service = st.selectbox("Prestation", ctx.services, format_func=lambda s: s.name, key="resa_occ_service")
    by_day = {c.day: c for c in cells if c.service_id == service.id}
    clicked = st.session_state.get(DAY)
    wanted: list[date] = []
    columns = st.columns(2)
    for index, (day, cell) in enumerate(sorted(by_day.items())):
        style = calendar.STYLES[cell.state]
        key = f"booking_day_{service.code}_{day.isoformat()}"
        if key not in st.session_state:
            st.session_state[key] = cell.state in (State.BOOKED, State.WAITING)
        if clicked == day and st.session_state.get("resa_toggled") != (key, clicked):
            st.session_state[key] = not st.session_state[key]  # a click on the calendar ticks the day
            st.session_state["resa_toggled"] = (key, clicked)
        label = f"{fr.short_date(day)} — {style.icon} {style.word}"
        if columns[index % 2].checkbox(label, key=key, disabled=cell.state is State.CLOSED,
                                       help=cell.note or None):
            wanted.append(day)
    if not by_day:
        st.info("Aucun jour de cette prestation ce mois-ci.")
        return
    if st.button("Confirmer", key="resa_confirm_days", type="primary"):
        done = _run(lambda: reservations.change_days(session.db(), actor, ctx, service.id, month, wanted,
                                                     session.now(), late=override.late, reason=override.reason))
        if done:
            st.rerun()

