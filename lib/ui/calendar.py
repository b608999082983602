"""The reservation calendar (streamlit-calendar / FullCalendar) and its legend.

Every state has a colour, an icon and a word: colour is never the only signal. The component
keeps returning its last click on every rerun, so a click is handled once, compared with the
last one handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st
from streamlit_calendar import calendar as fullcalendar

from lib.domain.planning import Cell, State


@dataclass(frozen=True)
class Style:
    word: str
    icon: str
    background: str
    text: str
    explanation: str


# Text colours reach 4.5:1 on their backgrounds.
STYLES: dict[State, Style] = {
    State.BOOKED: Style("Réservé", "✓", "#15803d", "#ffffff", "le repas ou l'accueil est réservé"),
    State.BOOKABLE: Style("Réservable", "+", "#ffffff", "#1e3a8a", "pas réservé, encore possible"),
    State.CANCELLED: Style("Annulé", "✕", "#fde68a", "#713f12", "réservation annulée"),
    State.WAITING: Style("Liste d'attente", "⏳", "#6d28d9", "#ffffff", "complet : en attente d'une place"),
    State.LOCKED: Style("Délai dépassé", "🔒", "#e5e7eb", "#374151", "trop tard pour réserver ce jour"),
    State.CLOSED: Style("Fermé", "⛔", "#d1d5db", "#111827", "week-end, jour férié, vacances ou fermeture"),
    State.PRESENT: Style("Présent", "●", "#1d4ed8", "#ffffff", "présence pointée par l'équipe"),
    State.ABSENT: Style("Absent", "○", "#b91c1c", "#ffffff", "absence pointée par l'équipe"),
    State.JUSTIFIED: Style("Absence justifiée", "◐", "#fecaca", "#7f1d1d", "absence justifiée (certificat…)"),
    State.TO_BOOK: Style("À réserver", "✚", "#db2777", "#ffffff", "aperçu : sera réservé en confirmant"),
    State.TO_CANCEL: Style("À annuler", "−", "#fed7aa", "#7c2d12", "aperçu : sera annulé en confirmant"),
}

_CSS = """
.fc { font-size: 0.85rem; }
.fc .fc-toolbar-title { font-size: 1.15rem; text-transform: capitalize; }
.fc .fc-daygrid-event { white-space: normal; margin-top: 2px; }
.fc .fc-event-title { font-weight: 600; overflow: hidden; text-overflow: ellipsis; }
.fc .fc-day-sat, .fc .fc-day-sun { background: #f3f4f6; }
.fc .fc-event.state-bookable { border: 1px dashed #1e3a8a !important; }
.fc .fc-bg-event { opacity: 1; overflow: hidden; }
.fc .fc-bg-event .fc-event-title { font-size: 0.7rem; color: #111827; font-style: normal; overflow-wrap: anywhere;
  hyphens: auto; margin: 0 2px; }
@media (max-width: 480px) {
  .fc { font-size: 0.7rem; }
  .fc .fc-daygrid-day-number { padding: 1px 2px; }
  .fc .fc-daygrid-event { padding: 0 1px; }
  /* A closed day's reason stays inside its cell; the list view and the day panel give it whole. */
  .fc .fc-bg-event .fc-event-title { font-size: 0.6rem; line-height: 1.15; }
}
"""


def events(
    cells: list[Cell], short_names: dict[int, str], several_services: bool, *, with_words: bool = False
) -> list[dict]:
    """FullCalendar events: one per service day; a day closed for all its services as a background
    band with the reason, a service closed on a day another service stays open (a strike of the
    canteen only) as that service's event, with the reason in words."""
    found: list[dict] = []
    closed_days: set[date] = set()
    open_days = {cell.day for cell in cells if cell.state is not State.CLOSED}
    for cell in cells:
        style = STYLES[cell.state]
        if cell.state is State.CLOSED and cell.day not in open_days:
            if cell.day not in closed_days:
                closed_days.add(cell.day)
                found.append(
                    {
                        "start": cell.day.isoformat(),
                        "allDay": True,
                        "display": "background",
                        "title": f"{style.icon} {cell.note}",
                        "backgroundColor": style.background,
                    }
                )
            continue
        name = short_names[cell.service_id]
        title = f"{style.icon} {name}" if several_services else f"{style.icon} {style.word}"
        if cell.state is State.CLOSED:
            title = f"{style.icon} {name} — {style.word} ({cell.note})"
        elif with_words and several_services:
            title += f" — {style.word}" + (f" ({cell.note})" if cell.note else "")
        if cell.locked and cell.state in (State.BOOKED, State.WAITING):
            title += " 🔒"
        found.append(
            {
                "id": f"{cell.service_id}:{cell.day.isoformat()}",
                "title": title,
                "start": cell.day.isoformat(),
                "allDay": True,
                "backgroundColor": style.background,
                "borderColor": style.text if cell.state is State.BOOKABLE else style.background,
                "textColor": style.text,
                "classNames": [f"state-{cell.state.value}"],
                "extendedProps": {
                    "service_id": cell.service_id,
                    "state": cell.state.value,
                    "word": style.word,
                    "note": cell.note,
                },
            }
        )
    return found


def show(cells: list[Cell], short_names: dict[int, str], month: date, *, list_view: bool, key: str) -> date | None:
    """Draw the month; return the day the person clicked, once per click."""
    options = {
        "initialView": "listMonth" if list_view else "dayGridMonth",
        "initialDate": month.isoformat(),
        "locale": "fr",
        "firstDay": 1,
        "timeZone": "UTC",
        "headerToolbar": {"left": "", "center": "title", "right": ""},
        "height": "auto",
        "fixedWeekCount": False,
        "showNonCurrentDates": False,
        "dayMaxEvents": False,
        "weekNumbers": False,
        "buttonText": {"today": "Aujourd'hui", "month": "Mois", "list": "Liste"},
        "noEventsText": "Aucun jour de service ce mois-ci.",
        "allDayText": "Journée",
        # Events are focusable: Tab reaches each day of service, Enter opens its panel (as a click does).
        "eventInteractive": True,
    }
    value = fullcalendar(
        events=events(cells, short_names, len(short_names) > 1, with_words=list_view),
        options=options,
        custom_css=_CSS,
        callbacks=["dateClick", "eventClick"],
        key=key,
    )
    return _clicked_day(value, key)


def _clicked_day(value: object, key: str) -> date | None:
    if not isinstance(value, dict) or value.get("callback") not in ("dateClick", "eventClick"):
        return None
    marker = f"{key}__handled"
    signature = repr(value)
    if st.session_state.get(marker) == signature:
        return None  # the component repeats its last event on every rerun
    st.session_state[marker] = signature
    if value["callback"] == "dateClick":
        raw = value["dateClick"].get("date", "")
    else:
        raw = value["eventClick"].get("event", {}).get("start", "")
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


def legend(states: list[State] | None = None) -> None:
    """The colours in words, at the bottom of the page (as the seed's guide promises), the
    preview's « À réserver » and « À annuler » included."""
    shown = states or list(STYLES)
    items = "".join(
        f'<li style="display:flex;align-items:center;gap:.5rem;margin:.2rem 0">'
        f'<span aria-hidden="true" style="display:inline-block;min-width:2.2rem;text-align:center;'
        f"background:{STYLES[s].background};color:{STYLES[s].text};border:1px solid {STYLES[s].text};"
        f'border-radius:4px;padding:0 .3rem">{STYLES[s].icon}</span>'
        f"<span><strong>{STYLES[s].word}</strong> : {STYLES[s].explanation}</span></li>"
        for s in shown
    )
    st.html(
        f'<section aria-label="Légende des couleurs du calendrier"><h3 style="font-size:1.1rem">'
        f'Légende</h3><ul style="list-style:none;padding:0;margin:0">{items}</ul>'
        '<p style="margin-top:.4rem">🔒 : ce jour ne peut plus être modifié en ligne (délai dépassé).</p>'
        "</section>"
    )
