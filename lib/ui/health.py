"""Children's health (PAI) on screen: the staff's form in a child's file (at once on « PAI », on
request in « Familles »), the family's view with
its proposed corrections, the staff's list of corrections to validate, and the cards of an
attendance sheet's PAI.

Every read of health data is audited by the service, so each widget reads once and keeps what it
read in `st.session_state` (Streamlit reruns the script on every click): a rerun neither reads
again nor writes another audit entry. After a write the kept copy is dropped and read afresh.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import streamlit as st

from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.clock import from_utc_naive
from lib.domain.health import (
    ALLERGIES_MAX,
    DOCTOR_NAME_MAX,
    LABELS,
    NOTE_MAX,
    PROTOCOL_MAX,
    HealthRecord,
    RequestState,
    changed_fields,
)
from lib.domain.markup import md
from lib.domain.records import SiteService
from lib.services import health
from lib.ui.dates import day_picker
from lib.ui.errors import refusals_shown

FILE = "pai_file_"  # + child id: the child's HealthFile as read
PENDING = "pai_pending"  # the staff's list of corrections to validate, as read
SHEET = "check_pai"  # (day, site, service), the SheetHealth read for that attendance sheet
FLASH = "pai_flash"  # (where, message) shown once after a write
VALIDITY_YEARS = 3  # how far ahead « Valable jusqu'au » offers dates


# --- showing a record ------------------------------------------------------------------------------


def _value(field: str, record: HealthRecord) -> str:
    """A field as a person reads it (one line)."""
    value = getattr(record, field)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return fr.long_date(value)
    return md(value) if value else "—"


def show_record(record: HealthRecord, today: date) -> None:
    """The record, field by field; the protocol as typed, on its lines."""
    st.markdown(
        "\n".join(
            f"- **{LABELS[field]}** : {_value(field, record)}"
            for field in ("has_pai", "allergies", "meal_basket", "doctor_name", "doctor_phone")
        )
    )
    st.markdown(f"**{LABELS['protocol']}** :")
    st.text(record.protocol or "—")  # st.text: what was typed, never read as markdown
    _validity(record, today)


def _validity(record: HealthRecord, today: date) -> None:
    if record.valid_until is None:
        return
    if record.valid_until < today:
        st.warning(f"PAI échu le {fr.long_date(record.valid_until)} : à renouveler avec la famille.", icon="⚠️")
    else:
        st.caption(f"Valable jusqu'au {fr.long_date(record.valid_until)}.")


def sheet_pai(
    db, actor: Actor, day: date, pair: SiteService, added: list[int], listed: list[int], now: datetime
) -> None:
    """Pointage's « Afficher les PAI de cette liste »: the sheet's records, read (and audited) on
    request, kept for the reruns of this sheet only — another day, site or service drops them. A
    child added to the list afterwards brings the button back."""
    place = (day, pair.site_id, pair.service_id)
    read = st.session_state.get(SHEET)
    if read is not None and read[0] != place:
        st.session_state.pop(SHEET)
        read = None
    if not listed:
        return
    if read is None or set(listed) - set(read[1].children):
        if st.button("Afficher les PAI de cette liste", key="check_pai_show", icon=":material/medical_information:"):
            with refusals_shown():
                found = health.sheet_health(db, actor, day, pair.site_id, pair.service_id, now, tuple(added))
                st.session_state[SHEET] = (place, found)
                st.rerun()
    if read is None:
        return
    if not read[1].records:
        st.info("Aucun enfant de cette liste n'a de PAI ni d'information de santé enregistrée.")
    for item in read[1].records:
        title = f"{'PAI' if item.record.has_pai else 'Santé'} — {item.first_name} {item.last_name}"
        with st.expander(md(title), icon=":material/medical_information:"):
            show_record(item.record, now.date())


def _flash(where: str, text: str) -> None:
    st.session_state[FLASH] = (where, text)


def _show_flash(where: str) -> None:
    if st.session_state.get(FLASH, (None,))[0] == where:
        st.success(md(st.session_state.pop(FLASH)[1]), icon="✅")


def _paris_day(moment: datetime) -> str:
    return fr.long_date(from_utc_naive(moment))


# --- the form --------------------------------------------------------------------------------------


def _form(key: str, record: HealthRecord | None, today: date, submit: str) -> dict[str, object] | None:
    """The record's fields pre-filled; the values typed when `submit` is pressed, else None."""
    shown = record or HealthRecord()
    with st.form(key=key):
        has_pai = st.checkbox(LABELS["has_pai"], value=shown.has_pai, key=f"{key}_has_pai")
        allergies = st.text_area(LABELS["allergies"], value=shown.allergies, max_chars=ALLERGIES_MAX, key=f"{key}_all")
        protocol = st.text_area(
            "Protocole (conduite à tenir, trousse d'urgence)",
            value=shown.protocol,
            max_chars=PROTOCOL_MAX,
            key=f"{key}_protocol",
        )
        meal_basket = st.checkbox(
            "Panier repas fourni par la famille", value=shown.meal_basket, key=f"{key}_meal_basket"
        )
        doctor_name = st.text_input(
            LABELS["doctor_name"], value=shown.doctor_name, max_chars=DOCTOR_NAME_MAX, key=f"{key}_doctor"
        )
        doctor_phone = st.text_input(
            LABELS["doctor_phone"],
            value=shown.doctor_phone,
            max_chars=30,
            key=f"{key}_phone",
            placeholder="05 61 23 45 67",
        )
        dated = st.checkbox(
            "Le PAI a une date de fin de validité", value=shown.valid_until is not None, key=f"{key}_dated"
        )
        first = min(today, shown.valid_until or today)
        until = day_picker(
            LABELS["valid_until"],
            first,
            today + timedelta(days=366 * VALIDITY_YEARS),
            shown.valid_until or today + timedelta(days=365),
            key=f"{key}_until",
        )
        if not st.form_submit_button(submit, type="primary"):
            return None
    return {
        "has_pai": has_pai,
        "allergies": allergies,
        "protocol": protocol,
        "meal_basket": meal_basket,
        "doctor_name": doctor_name,
        "doctor_phone": doctor_phone,
        "valid_until": until if dated else None,
    }


def _file(db, actor: Actor, child_id: int, now: datetime) -> health.HealthFile:
    """The child's health file, read (and audited) once, then kept for the reruns."""
    key = f"{FILE}{child_id}"
    if key not in st.session_state:
        st.session_state[key] = health.child_health(db, actor, child_id, now)
    return st.session_state[key]


def _stamp(found: health.HealthFile) -> str:
    """Part of the form's key: a new stored record starts a new form, filled with it."""
    return found.updated_at.isoformat() if found.updated_at else "new"


# --- the staff's form --------------------------------------------------------------------------------


def staff_pai_form(db, actor: Actor, child_id: int, now: datetime) -> None:
    """A child's PAI in the staff's child file: shown, and edited with « Enregistrer le PAI »."""
    with refusals_shown() as refused:
        found = _file(db, actor, child_id, now)
    if refused:
        return
    name = f"{found.child.first_name} {found.child.last_name}"
    if found.record is None:
        st.info(f"Aucune information de santé n'est enregistrée pour {md(name)}.")
    else:
        _validity(found.record, now.date())
    if found.pending is not None:
        st.info(
            f"La famille a proposé une correction le {_paris_day(found.pending.submitted_at)} : elle attend votre "
            "validation (pages « À valider » et « PAI »)."
        )
    values = _form(f"pai_staff_{child_id}_{_stamp(found)}", found.record, now.date(), "Enregistrer le PAI")
    if values is not None:
        with refusals_shown():
            message = health.save_health(db, actor, child_id, values, now)
            st.session_state.pop(f"{FILE}{child_id}", None)
            _flash(f"staff_{child_id}", message)
            st.rerun()
    _show_flash(f"staff_{child_id}")


def staff_pai_on_request(db, actor: Actor, child_id: int, now: datetime) -> None:
    """`staff_pai_form` behind « Afficher le PAI », for a page that shows a child for other reasons
    (the family file): nothing is read, nor written in the journal, until asked; once read, the
    reruns keep it."""
    if f"{FILE}{child_id}" not in st.session_state:
        st.caption("Allergies, PAI, panier repas, médecin : affichés seulement à la demande (lecture journalisée).")
        if not st.button("Afficher le PAI", key=f"pai_staff_show_{child_id}", icon=":material/medical_information:"):
            return
    staff_pai_form(db, actor, child_id, now)


# --- the family's view ------------------------------------------------------------------------------


def family_pai_section(db, actor: Actor, child_id: int, now: datetime) -> None:
    """The family's view of its child's PAI, shown on request, and a correction to propose."""
    key = f"{FILE}{child_id}"
    if key not in st.session_state:
        st.caption("Allergies, PAI, panier repas, médecin : affichés seulement quand vous le demandez.")
        if st.button("Voir la fiche de santé", key=f"pai_show_{child_id}", icon=":material/visibility:"):
            with refusals_shown():
                _file(db, actor, child_id, now)
                st.rerun()
        return
    found = _file(db, actor, child_id, now)
    if found.record is None:
        st.info(f"Aucune information de santé n'est enregistrée pour {md(found.child.first_name)}.")
    else:
        show_record(found.record, now.date())
    if found.pending is not None and found.pending.proposed is not None:
        st.info(f"En attente de validation depuis le {_paris_day(found.pending.submitted_at)}.", icon="⏳")
        changed = changed_fields(found.record, found.pending.proposed)
        st.markdown("\n".join(f"- **{LABELS[f]}** : {_value(f, found.pending.proposed)}" for f in changed))
    elif found.decided is not None and found.decided.decided_at is not None:
        when = _paris_day(found.decided.decided_at)
        if found.decided.state is RequestState.REFUSED:
            st.warning(f"Votre correction a été refusée le {when} : {md(found.decided.note or '')}", icon="⛔")
        else:
            st.caption(f"Votre dernière correction a été acceptée le {when}.")
    _show_flash(f"family_{child_id}")
    if st.toggle("Proposer une correction", key=f"pai_propose_{child_id}"):
        st.caption(
            "Le service éducation vérifie chaque correction avant de l'enregistrer (joignez le PAI signé si besoin)."
        )
        proposed = found.pending.proposed if found.pending is not None else None
        values = _form(
            f"pai_family_{child_id}_{_stamp(found)}", proposed or found.record, now.date(), "Envoyer la correction"
        )
        if values is not None:
            with refusals_shown():
                message = health.propose_health(db, actor, child_id, values, now)
                st.session_state.pop(key, None)
                st.session_state.pop(f"pai_propose_{child_id}", None)
                _flash(f"family_{child_id}", message)
                _file(db, actor, child_id, now)
                st.rerun()


# --- the staff's validations ------------------------------------------------------------------------


def pai_validations(db, actor: Actor, now: datetime) -> None:
    """The families' corrections waiting: old → new for each field changed, Accepter / Refuser."""
    if PENDING not in st.session_state:
        with refusals_shown() as refused:
            st.session_state[PENDING] = health.pending_health(db, actor, now)
        if refused:
            return
    _show_flash("validations")
    waiting = st.session_state[PENDING]
    if not waiting:
        st.info("Aucune correction de PAI n'attend de validation.")
        return
    for request, old in waiting:
        if request.proposed is None:
            continue
        with st.container(border=True):
            st.markdown(
                f"**{md(request.first_name)} {md(request.last_name)}** ({md(request.family)}) — proposée le "
                f"{_paris_day(request.submitted_at)}"
            )
            st.markdown(
                "\n".join(
                    f"- **{LABELS[f]}** : {_value(f, old or HealthRecord())} → {_value(f, request.proposed)}"
                    for f in changed_fields(old, request.proposed)
                )
            )
            note = st.text_input(
                "Note pour la famille (obligatoire pour refuser)", key=f"pai_note_{request.id}", max_chars=NOTE_MAX
            )
            left, right = st.columns(2)
            decision = None
            if left.button("Accepter", key=f"pai_accept_{request.id}", type="primary"):
                decision = True
            if right.button("Refuser", key=f"pai_refuse_{request.id}"):
                decision = False
            if decision is not None:
                with refusals_shown():
                    message = health.decide_health(db, actor, request.id, decision, note, now)
                    st.session_state.pop(PENDING, None)
                    st.session_state.pop(f"{FILE}{request.child_id}", None)
                    _flash("validations", message)
                    st.rerun()
