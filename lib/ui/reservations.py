"""The registration form and the booking calendar with its "Modification" editor, shared by the
family page ("Mes inscriptions") and the staff page ("Réservations – agents").

Session state holds only UI state: the month shown, whether the editor is open, the preview
of a weekly template (its inputs and the plan to colour the calendar), the day clicked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from lib.domain import fr, periods
from lib.domain.actor import Actor
from lib.domain.calendar import WEEKDAY_NAMES
from lib.domain.markup import md
from lib.domain.planning import State
from lib.services import reservations
from lib.ui import calendar, session
from lib.ui.dates import day_picker
from lib.ui.errors import refusals_shown

PREVIEW = "resa_preview"
EDITING = "resa_edit"
MONTH = "resa_month"
DAY = "resa_day"
CONTEXT = "resa_context"
FLASH = "resa_flash"
PATTERN = "resa_pattern"
# The editors' widgets: emptied after every write and whenever the editor opens, so that each
# opens on what is stored now (a box left from before a cancellation would book the day again).
EDITOR_KEYS = ("booking_day_", "booking_template_")


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


def _reset_editor() -> None:
    for key in [k for k in st.session_state if str(k).startswith(EDITOR_KEYS)]:
        del st.session_state[key]
    st.session_state.pop(PATTERN, None)


def _reset_when_context_changes(child_id: int, year_id: int) -> None:
    if st.session_state.get(CONTEXT) != (child_id, year_id):
        for key in (PREVIEW, EDITING, MONTH, DAY):
            st.session_state.pop(key, None)
        _reset_editor()
        st.session_state[CONTEXT] = (child_id, year_id)


def _flash(where: str, text: str) -> None:
    """Keep a change's summary for the next run, to be shown at `where`: the place the person acted."""
    st.session_state[FLASH] = (where, text)


def show_flash(where: str) -> None:
    if st.session_state.get(FLASH, (None,))[0] != where:
        return
    _where, text = st.session_state.pop(FLASH)
    st.success(md(text), icon="✅")


# --- registration -----------------------------------------------------------------------------


def registration_section(actor: Actor, child: dict, year: dict) -> None:
    db = session.db()
    form = reservations.registration_form(db, actor, child["id"], year["id"])
    if not form.sites:
        st.info("Aucune structure n'est encore ouverte aux inscriptions.")
        return
    names = {sid: name for site in form.sites for sid, name in site.services}
    if form.current:
        st.markdown(
            "\n".join(
                f"- **{md(s.name)}** : {md(', '.join(names[x] for x in form.current[s.site_id]) or '—')}"
                for s in form.sites
                if s.site_id in form.current
            )
        )
    else:
        st.info(f"{md(child['first_name'])} n'est pas encore inscrit(e) pour {md(year['label'])}.")
    site = st.selectbox("Structure", form.sites, format_func=lambda s: s.name, key=f"reg_site_{child['id']}")
    current = form.current.get(site.site_id, [])
    st.markdown("Prestations")
    chosen = [
        sid
        for sid, name in site.services
        if st.checkbox(md(name), value=sid in current, key=f"reg_{child['id']}_{site.site_id}_{sid}")
    ]
    if st.button("Enregistrer l'inscription", key="reg_save", type="primary"):
        with refusals_shown():
            _flash(
                "registration",
                reservations.save_registration(db, actor, child["id"], year["id"], site.site_id, chosen, session.now()),
            )
            st.session_state.pop(PREVIEW, None)
            st.rerun()
    show_flash("registration")


# --- bookings ---------------------------------------------------------------------------------


def booking_section(actor: Actor, child: dict, year: dict, override: StaffOverride | None = None) -> None:
    db = session.db()
    override = override or StaffOverride()
    _reset_when_context_changes(child["id"], year["id"])
    with refusals_shown(as_info=True) as refused:
        ctx = reservations.booking_context(db, actor, child["id"], year["id"])
    if refused:
        return
    now = session.now()
    month = _month_picker(ctx, now.date())
    preview = st.session_state.get(PREVIEW)
    plan = preview["plan"] if preview else None
    cells = reservations.month_cells(db, actor, ctx, month, now, plan)
    list_view = st.toggle("Affichage en liste (pratique sur téléphone)", key="resa_list_view")
    clicked = calendar.show(
        cells,
        {s.id: s.short_name for s in ctx.services},
        month,
        list_view=list_view,
        key=f"resa_cal_{child['id']}_{month.isoformat()}_{'list' if list_view else 'grid'}",
    )
    if clicked is not None:
        st.session_state[DAY] = clicked
    show_flash("calendar")
    if preview:
        _preview_box(actor, ctx, preview, override)
    _day_panel(actor, ctx, cells, override)
    if st.button(
        "Modification",
        key="resa_modify",
        icon=":material/edit_calendar:",
        type="secondary" if st.session_state.get(EDITING) else "primary",
    ):
        st.session_state[EDITING] = not st.session_state.get(EDITING, False)
        st.session_state.pop(PREVIEW, None)
        _reset_editor()
        st.rerun()
    if st.session_state.get(EDITING):
        _editor(actor, ctx, month, cells, override, clicked)


def _month_picker(ctx, today: date) -> date:
    months = ctx.months()
    if st.session_state.get(MONTH) not in months:
        this_month = periods.month_start(today)
        st.session_state[MONTH] = this_month if this_month in months else months[0]
    index = months.index(st.session_state[MONTH])
    # A horizontal container keeps ◀ month ▶ on one line on a phone (columns would stack).
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        # Callbacks: they change the month before the script (and the selectbox) runs again.
        st.button(
            "◀",
            key="resa_prev",
            help="Mois précédent",
            disabled=index == 0,
            on_click=_set_month,
            args=(months[max(index - 1, 0)],),
        )
        st.selectbox(
            "Mois affiché", months, format_func=lambda m: fr.month_year(m).capitalize(), key=MONTH, width="stretch"
        )
        st.button(
            "▶",
            key="resa_next",
            help="Mois suivant",
            disabled=index == len(months) - 1,
            on_click=_set_month,
            args=(months[min(index + 1, len(months) - 1)],),
        )
    return st.session_state[MONTH]


def _set_month(month: date) -> None:
    st.session_state[MONTH] = month
    st.session_state.pop(DAY, None)


def _run(action, where: str) -> bool:
    """Run a change; on success keep its summary for the next run (shown at `where`) and empty the
    editors, so that they open again on what is now stored; on refusal show why, here."""
    with refusals_shown() as refused:
        _flash(where, action().summary())
        _reset_editor()
    return not refused


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
            st.markdown(
                f"{style.icon} **{md(service.name)}** : {style.word}" + (f" — {md(cell.note)}" if cell.note else "")
            )
            if cell.state in (State.BOOKED, State.WAITING):
                label, wanted = "Annuler ce jour", False
            elif cell.state in (State.BOOKABLE, State.CANCELLED, State.LOCKED):
                label, wanted = "Réserver ce jour", True
            else:
                continue
            if st.button(label, key=f"resa_day_{service.code}_{day.isoformat()}"):
                done = _run(
                    lambda service=service, day=day, wanted=wanted: reservations.set_day(
                        session.db(),
                        actor,
                        ctx,
                        service.id,
                        day,
                        wanted,
                        session.now(),
                        late=override.late,
                        reason=override.reason,
                    ),
                    "day",
                )
                if done:
                    st.rerun()
        show_flash("day")


def _preview_box(actor, ctx, preview: dict, override: StaffOverride) -> None:
    plan = preview["plan"]
    with st.container(border=True, key="resa_preview_box"):
        st.markdown(
            f"**Aperçu de la semaine type** du {fr.long_date(preview['start'])} au "
            f"{fr.long_date(preview['end'])} : rien n'est encore enregistré."
        )
        untouched = [s.name for s in ctx.services if s.id not in preview["template"]]
        st.markdown(
            f"- {calendar.STYLES[State.TO_BOOK].icon} **{len(plan.to_book)}** jour(s) seront réservés\n"
            f"- {calendar.STYLES[State.TO_CANCEL].icon} **{len(plan.to_cancel)}** jour(s) seront annulés\n"
            f"- {plan.unchanged} jour(s) restent tels quels"
            + "".join(f"\n- « {md(name)} » : inchangé (cases non modifiées)" for name in untouched)
        )
        if not plan.is_empty:
            st.markdown("**Jours qui changent, mois par mois**")
            st.markdown(_changes_by_month(plan, ctx))
        if plan.skipped:
            st.markdown(
                "Jours ignorés :\n"
                + "\n".join(f"- {md(reason)} : {n} jour(s)" for reason, n in plan.skipped_by_reason())
            )
        left, right = st.columns(2)
        if left.button("Confirmer", key="resa_confirm", type="primary", width="stretch", disabled=plan.is_empty):
            done = _run(
                lambda: reservations.apply_template(
                    session.db(),
                    actor,
                    ctx,
                    preview["template"],
                    preview["start"],
                    preview["end"],
                    session.now(),
                    late=override.late,
                    reason=override.reason,
                ),
                "calendar",
            )
            if done:
                st.session_state.pop(PREVIEW, None)
                st.session_state[EDITING] = False
                st.rerun()
        if right.button("Abandonner", key="resa_discard", width="stretch"):
            st.session_state.pop(PREVIEW, None)
            st.rerun()


def _changes_by_month(plan, ctx) -> str:
    """Every day the preview would change, grouped by month (markdown)."""
    several = len({sid for sid, _ in plan.to_book + plan.to_cancel}) > 1  # name the service only then

    def days(keys) -> str:
        return ", ".join(
            fr.short_date(day) + (f" ({md(ctx.service(sid).short_name)})" if several else "") for sid, day in keys
        )

    book, cancel = calendar.STYLES[State.TO_BOOK], calendar.STYLES[State.TO_CANCEL]
    lines = []
    for month, to_book, to_cancel in plan.by_month():
        lines.append(f"- **{fr.month_year(month).capitalize()}**")
        if to_book:
            lines.append(f"    - {book.icon} {book.word} : {days(to_book)}")
        if to_cancel:
            lines.append(f"    - {cancel.icon} {cancel.word} : {days(to_cancel)}")
    return "\n".join(lines)


def _editor(actor, ctx, month: date, cells, override: StaffOverride, clicked: date | None) -> None:
    with st.container(border=True, key="resa_editor"):
        mode = st.radio(
            "Que voulez-vous modifier ?", ["Semaine type", "Jours occasionnels"], horizontal=True, key="resa_mode"
        )
        if mode == "Semaine type":
            _template_editor(actor, ctx, override)
        else:
            _occasional_editor(actor, ctx, month, cells, override, clicked)


def _template_editor(actor, ctx, override: StaffOverride) -> None:
    st.caption(
        "Les cases cochées sont la semaine type actuelle de votre enfant. Cochez ou décochez des jours, "
        "choisissez la période, puis « Appliquer » pour voir le résultat sur le calendrier avant de "
        "confirmer. Une prestation dont vous ne changez aucune case reste telle qu'elle est."
    )
    if PATTERN not in st.session_state:
        st.session_state[PATTERN] = reservations.template_pattern(session.db(), actor, ctx, session.now())
    pattern = st.session_state[PATTERN]
    template: dict[int, list[int]] = {}
    for service in ctx.services:
        st.markdown(f"**{md(service.name)}**")
        ticked = []
        with st.container(horizontal=True, gap="medium", key=f"booking_template_{service.code}"):
            for weekday in service.weekdays:
                name = WEEKDAY_NAMES[weekday - 1]
                key = f"booking_template_{name}_{service.code}"
                if key not in st.session_state:
                    st.session_state[key] = weekday in pattern.get(service.id, ())
                if st.checkbox(name.capitalize(), key=key):
                    ticked.append(weekday)
        if tuple(ticked) != tuple(pattern.get(service.id, ())):
            template[service.id] = ticked  # only what the parent changed is applied
    left, right = st.columns(2)
    first, last = ctx.year["start_date"], ctx.year["end_date"]
    start = day_picker("Du", first, last, ctx.first_service_day, key="resa_from", where=left)
    end = day_picker("Au", first, last, ctx.last_service_day, key="resa_to", where=right)
    if st.button("Appliquer", key="resa_apply", type="primary"):
        with refusals_shown():
            plan = reservations.preview_template(
                session.db(), actor, ctx, template, start, end, session.now(), late=override.late
            )
            st.session_state[PREVIEW] = {"template": template, "start": start, "end": end, "plan": plan}
            st.rerun()


_WEEK_HEADER = ("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim")
# The month table keeps its seven columns on a phone (columns with wrap=False). Each cell shows the
# day number and the state's icon; screen readers get the whole date and state instead (the box's
# label, hidden from sight, or a visually hidden sentence).
_GRID_CSS = """<style>
.st-key-resa_month_grid [data-testid="stColumn"] { min-width: 0 !important; }
.st-key-resa_month_days [data-testid="stColumn"]:has(.stMarkdown) { border: 1px solid #d1d5db; border-radius: 4px;
  padding: 2px 3px; min-height: 44px; }
.st-key-resa_month_days [data-testid="stColumn"] [data-testid="stVerticalBlock"] { gap: 2px !important; }
.st-key-resa_month_grid .stMarkdown { min-height: 1.4rem; }
.st-key-resa_month_grid [data-testid="stMarkdownContainer"] { margin: 0 !important; }
.st-key-resa_month_grid [data-testid="stMarkdownContainer"] p { margin: 0; line-height: 1.4rem; white-space: nowrap; }
.st-key-resa_month_grid [data-testid="stCheckbox"] label { min-height: 24px; margin: 0; }
.st-key-resa_month_grid [data-testid="stCheckbox"] [data-testid="stWidgetLabel"] { display: none; }
.st-key-resa_month_grid .pf-sr { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
</style>"""


def _occasional_editor(actor, ctx, month: date, cells, override: StaffOverride, clicked: date | None) -> None:
    st.caption(
        f"Cochez les jours de {fr.month_year(month)} à réserver, décochez ceux à annuler, puis "
        "« Confirmer ». Les jours grisés ne peuvent plus être modifiés en ligne. Changez de mois avec "
        "les flèches au-dessus du calendrier."
    )
    service = ctx.services[0]
    if len(ctx.services) > 1:
        service = st.selectbox("Prestation", ctx.services, format_func=lambda s: s.name, key="resa_occ_service")
    by_day = {c.day: c for c in cells if c.service_id == service.id}
    if not by_day:
        st.info("Aucun jour de cette prestation ce mois-ci.")
        return
    stored = {day: cell.state in (State.BOOKED, State.WAITING) for day, cell in by_day.items()}
    editable = {day for day, cell in by_day.items() if _editable(cell, override)}
    if (
        clicked is not None and clicked in editable
    ):  # a click on the calendar while the table is open ticks or unticks that day
        key = _day_key(service, clicked)
        st.session_state[key] = not st.session_state.get(key, stored[clicked])
    ticked = _month_grid(service, month, by_day, stored, editable)
    book = sorted(d for d in editable if ticked[d] and not stored[d])
    cancel = sorted(d for d in editable if stored[d] and not ticked[d])
    st.markdown(_pending_changes(book, cancel))
    if st.button("Confirmer", key="resa_confirm_days", type="primary", disabled=not (book or cancel)):
        if _run(
            lambda: reservations.change_days(
                session.db(),
                actor,
                ctx,
                service.id,
                book,
                cancel,
                session.now(),
                late=override.late,
                reason=override.reason,
            ),
            "occasional",
        ):
            st.rerun()
    show_flash("occasional")


def _editable(cell, override: StaffOverride) -> bool:
    """Days the person may still change here: never a closed or already checked day; a day past its
    limit only for staff acting « hors délai »."""
    if cell.state in (State.CLOSED, State.PRESENT, State.ABSENT, State.JUSTIFIED):
        return False
    return override.late or not cell.locked


def _day_key(service, day: date) -> str:
    return f"booking_day_{service.code}_{day.isoformat()}"


def _month_grid(service, month: date, by_day: dict, stored: dict[date, bool], editable: set[date]) -> dict[date, bool]:
    """The month as a calendar, weeks in rows from Monday to Sunday; a box for each day that may
    change, the state (icon and word for screen readers) for the others. Returns the boxes' values."""
    st.html(_GRID_CSS)
    ticked = dict(stored)
    with st.container(key="resa_month_grid"):
        for column, name in zip(st.columns(7, gap=None, wrap=False), _WEEK_HEADER):
            column.markdown(f"**{name}**")
        days_box = st.container(key="resa_month_days")
        for week in periods.month_weeks(month):
            for column, day in zip(days_box.columns(7, gap=None, wrap=False), week):
                if day.month != month.month:
                    continue
                cell = by_day.get(day)
                style = calendar.STYLES[cell.state] if cell else None
                shown = f"{day.day} {style.icon}" if style else f"{day.day}"
                spoken = (
                    f"{fr.long_date(day)} : {style.word}{' — ' + cell.note if cell.note else ''}"
                    if cell and style
                    else f"{fr.long_date(day)} : pas de service"
                )
                if day in editable:
                    column.markdown(f'<span aria-hidden="true">{shown}</span>', unsafe_allow_html=True)
                    key = _day_key(service, day)
                    if key not in st.session_state:
                        st.session_state[key] = stored[day]
                    ticked[day] = column.checkbox(spoken, key=key, label_visibility="collapsed")
                else:
                    colour = "#4b5160" if style else "#6b7280"
                    column.markdown(
                        f'<span aria-hidden="true" style="color:{colour}">{shown}</span>'
                        f'<span class="pf-sr">{md(spoken)}</span>',
                        unsafe_allow_html=True,
                    )
    return ticked


def _pending_changes(book: list[date], cancel: list[date]) -> str:
    """What « Confirmer » will change, day by day (markdown)."""
    if not (book or cancel):
        return "Aucun changement pour l'instant : cochez ou décochez des jours."
    lines = ["**Ce qui sera enregistré en confirmant :**"]
    for days, state in ((book, State.TO_BOOK), (cancel, State.TO_CANCEL)):
        if days:
            style = calendar.STYLES[state]
            lines.append(f"- {style.icon} {style.word} : " + ", ".join(fr.long_date(d) for d in days))
    return "\n".join(lines)
