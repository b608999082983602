"""Pieces of a family file that « Familles » (staff) and « Mon dossier » (the family) both show:
the quotient familial's history, the contacts and the consents, with their one-column forms.

After a save the page reruns and reads the file again: what is shown is what is stored. Forms are
keyed by a version that each save bumps, so their fields start again from the stored values."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.clock import from_utc_naive
from lib.domain.families import ConsentKind, ContactInput, QfSource, QuotientInput, check_source, parse_day, parse_qf
from lib.domain.markup import md
from lib.services import families
from lib.services.families import FamilyFile
from lib.ui import session
from lib.ui.errors import refusals_shown

FLASH = "family_flash"


def version(key: str) -> int:
    return int(st.session_state.get(f"{key}_version", 0))


def field(key: str, name: str) -> str:
    """A form field's widget key: a new one after each save, so the field shows what is stored."""
    return f"{key}_{version(key)}_{name}"


def saved(key: str, message: str) -> None:
    """After a save: the message to show once, new form fields, and the page read again."""
    st.session_state[FLASH] = message
    st.session_state[f"{key}_version"] = version(key) + 1
    st.rerun()


def flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(md(message), icon="✅")


def child_name(file: FamilyFile, child_id: int | None) -> str:
    if child_id is None:
        return "Tous les enfants"
    return next((f"{c.first_name} {c.last_name}" for c in file.children if c.id == child_id), "—")


def quotient_history(file: FamilyFile) -> None:
    current = file.family.quotient_familial
    st.markdown(f"Quotient familial en vigueur : **{'non renseigné' if current is None else current}**")
    if file.quotients:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Depuis le": fr.numeric_date(q.valid_from),
                        "Quotient": q.qf,
                        "Origine": q.source.label,
                        "N° d'allocataire": q.allocataire_no or "",
                        "Enregistré par": q.recorded_by or "reprise des données",
                    }
                    for q in file.quotients
                ]
            ),
            hide_index=True,
        )


def quotient_form(key: str, submit: str) -> QuotientInput | None:
    """The QF fields (value, date, source, allocataire number); what was typed once submitted."""
    with st.form(f"{key}_{version(key)}", enter_to_submit=False):
        qf = st.text_input("Quotient familial", max_chars=6, key=field(key, "qf"))
        day = st.text_input("Valable depuis le (JJ/MM/AAAA)", max_chars=10, key=field(key, "date"))
        source = st.selectbox(
            "Origine", list(QfSource), format_func=lambda s: s.label, key=field(key, "source"), index=0
        )
        number = st.text_input("Numéro d'allocataire CAF ou MSA (facultatif)", max_chars=15, key=field(key, "no"))
        if not st.form_submit_button(submit, type="primary"):
            return None
    with refusals_shown():
        return QuotientInput(parse_qf(qf), parse_day(day, "Valable depuis le"), check_source(source), number or None)
    return None


def contacts_section(file: FamilyFile, actor: Actor, editable: bool, key: str) -> None:
    """The emergency contacts and authorised pick-up people; `editable`: add and remove."""
    if not file.contacts:
        st.caption("Aucun contact enregistré.")
    for contact in file.contacts:
        roles = [
            w
            for w, on in (("à prévenir en cas d'urgence", contact.emergency), ("peut venir chercher", contact.pickup))
            if on
        ]
        st.markdown(
            f"**{md(contact.name)}** ({md(contact.relation)}) — {md(contact.phone)} — {', '.join(roles)} — "
            f"{md(child_name(file, contact.child_id))}"
        )
        if editable and st.button("Retirer ce contact", key=f"{key}_remove_{contact.id}"):
            with refusals_shown():
                families.remove_contact(session.db(), actor, file.family.id, contact.id, session.now())
                saved(key, f"Contact {contact.name} retiré.")
    if not editable:
        return
    children: list[int | None] = [None, *(c.id for c in file.children if c.archived_at is None)]
    with st.form(f"{key}_new_{version(key)}", enter_to_submit=False):
        st.markdown("**Ajouter un contact**")
        name = st.text_input("Nom et prénom", max_chars=80, key=field(key, "name"))
        relation = st.text_input("Lien avec l'enfant (grand-mère, voisin…)", max_chars=80, key=field(key, "relation"))
        phone = st.text_input("Téléphone", max_chars=20, key=field(key, "phone"))
        emergency = st.checkbox("À prévenir en cas d'urgence", key=field(key, "emergency"))
        pickup = st.checkbox("Autorisé(e) à venir chercher l'enfant", key=field(key, "pickup"))
        child = st.selectbox("Pour", children, format_func=lambda c: child_name(file, c), key=field(key, "child"))
        if st.form_submit_button("Ajouter le contact", type="primary"):
            with refusals_shown():
                typed = ContactInput(name, relation, phone, emergency, pickup, child)
                families.save_contact(session.db(), actor, file.family.id, None, typed, session.now())
                saved(key, f"Contact {name.strip()} enregistré.")


def _answer(granted: bool | None) -> str:
    return {True: "oui", False: "non", None: "pas encore répondu"}[granted]


def consents_section(file: FamilyFile, actor: Actor, editable: bool, key: str) -> None:
    """Each child's photo and outing consents; `editable`: the form that changes them."""
    kids = [c for c in file.children if c.archived_at is None]
    if not kids:
        st.caption("Aucun enfant dans ce dossier.")
        return
    for child in kids:
        answers = ", ".join(f"{k.label} : **{_answer(file.consent(child.id, k))}**" for k in ConsentKind)
        st.markdown(f"{md(child.first_name)} — {answers}")
    if not editable:
        return
    with st.form(f"{key}_{version(key)}", enter_to_submit=False):
        chosen = {
            (child.id, kind): st.checkbox(
                f"{md(child.first_name)} — {kind.label}",
                value=bool(file.consent(child.id, kind)),
                key=field(key, f"{child.id}_{kind.value}"),
            )
            for child in kids
            for kind in ConsentKind
        }
        if st.form_submit_button("Enregistrer les autorisations", type="primary"):
            with refusals_shown():
                for (child_id, kind), granted in chosen.items():
                    if file.consent(child_id, kind) is not granted:
                        families.set_consent(
                            session.db(), actor, file.family.id, child_id, kind, granted, session.now()
                        )
                saved(key, "Autorisations enregistrées.")


def since(moment) -> str:
    """« le 27 novembre 2026 » for a stored UTC instant."""
    return fr.long_date(from_utc_naive(moment))


def run(action: Callable[[], str], key: str) -> None:
    """Call a service that answers with a sentence; on success show it after the page is read again."""
    with refusals_shown():
        saved(key, action())
