"""Fermetures et grèves: the administrator declares that sites and services are closed on some days
(a closure, a strike, a « pont »), sees beforehand what it will cancel, and may withdraw it; agents
read the list."""

import streamlit as st

from lib.domain import fr
from lib.domain.clock import from_utc_naive
from lib.domain.closures import REASON_MAX, DeclaredClosure, child_days_text, period_text
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import closures
from lib.ui import dates, layout, session
from lib.ui.errors import refusals_shown

ALL = 0  # « Toutes »: no id of ours is 0
CONFIRM = "closure_confirm"  # the closure whose « Retirer » waits for its confirmation

actor = session.require_actor(Role.AGENT, Role.ADMIN)
today = session.today()
may_edit = actor.role is Role.ADMIN
st.title("Fermetures et grèves", anchor=False)
st.caption(
    "Les jours fermés apparaissent dans le calendrier des familles avec leur motif ; les réservations et les "
    "places en liste d'attente de ces jours sont annulées et jamais facturées."
)


def chosen(ids: list[int]) -> list[int]:
    """The ids picked, or none (every one) when « Toutes » is among them or nothing is picked."""
    return [] if ALL in ids or not ids else ids


def declaration_form() -> None:
    with refusals_shown(stop=True):
        offer = closures.choices(session.db(), actor)
    st.header("Déclarer une fermeture ou une grève", anchor=False)
    site_names = {ALL: "Toutes les structures", **dict(offer.sites)}
    service_names = {ALL: "Toutes les prestations", **dict(offer.services)}
    sites = st.multiselect(
        "Structures",
        list(site_names),
        default=[ALL],
        format_func=site_names.__getitem__,
        placeholder="Choisissez une ou plusieurs structures",
        key="closure_sites",
    )
    services = st.multiselect(
        "Prestations",
        list(service_names),
        default=[ALL],
        format_func=service_names.__getitem__,
        placeholder="Choisissez une ou plusieurs prestations",
        key="closure_services",
    )
    first, last = dates.around(today)
    start = dates.day_picker("Du", first, last, today, key="closure_from")
    end = dates.day_picker("Au (inclus)", first, last, start, key="closure_to")
    kind = st.selectbox("Type", offer.kinds, format_func=lambda k: k.label, key="closure_kind")
    reason = st.text_input(
        "Motif (affiché aux familles)",
        max_chars=REASON_MAX,
        placeholder="ex. grève du personnel de restauration",
        key="closure_reason",
    )
    with refusals_shown() as refused:
        preview = closures.preview(session.db(), actor, chosen(sites), chosen(services), start, end)
        st.info(md(f"{preview.sentence}  \nConcerne : {' ; '.join(preview.scopes)}."), icon="ℹ️")
    if st.button("Déclarer", type="primary", key="closure_declare", disabled=bool(refused)):
        with refusals_shown():
            result = closures.declare(
                session.db(), actor, chosen(sites), chosen(services), start, end, kind, reason, session.now()
            )
            st.success(md(result.sentence), icon="✅")
            if result.families:
                with st.expander(f"Familles concernées ({len(result.families)})"):
                    st.markdown(
                        "\n".join(
                            f"- **{md(family.name)}** : "
                            + " ; ".join(f"{md(c.first_name)} — {md(child_days_text(c.days))}" for c in family.children)
                            for family in result.families
                        )
                    )


def withdraw_buttons(closure: DeclaredClosure) -> None:
    if st.session_state.get(CONFIRM) != closure.id:
        if st.button("Retirer", key=f"closure_withdraw_{closure.id}"):
            st.session_state[CONFIRM] = closure.id
            st.rerun()
        return
    st.warning(
        "Retirer cette fermeture ? Les jours seront de nouveau ouverts à la réservation. Les réservations "
        "déjà annulées restent annulées : les familles réservent à nouveau si elles le souhaitent."
    )
    left, right = st.columns(2)
    if left.button("Confirmer le retrait", type="primary", key=f"closure_confirm_{closure.id}"):
        del st.session_state[CONFIRM]
        with refusals_shown():
            st.session_state["closure_withdrawn"] = closures.withdraw(session.db(), actor, closure.id, session.now())
        st.rerun()
    if right.button("Garder", key=f"closure_keep_{closure.id}"):
        del st.session_state[CONFIRM]
        st.rerun()


def shown(closure: DeclaredClosure, *, editable: bool) -> None:
    with st.container(border=True):
        lines = [
            f"**{md(closure.closure.sentence)}**",
            f"{md(closure.scope)} — {period_text(closure.closure.start, closure.closure.end)}",
        ]
        if closure.created_at is not None:
            by = f" par {md(closure.created_by)}" if closure.created_by else ""
            lines.append(f"Déclarée le {fr.numeric_date_time(from_utc_naive(closure.created_at))}{by}")
        if closure.withdrawn_at is not None:
            lines.append(f"Retirée le {fr.numeric_date_time(from_utc_naive(closure.withdrawn_at))}")
        st.markdown("  \n".join(lines))
        if editable:
            withdraw_buttons(closure)


if may_edit:
    declaration_form()
else:
    st.info("Seul l'administrateur déclare ou retire une fermeture ; voici celles qui sont enregistrées.")

if "closure_withdrawn" in st.session_state:
    st.success(md(st.session_state.pop("closure_withdrawn")), icon="✅")
with refusals_shown(stop=True):
    listed = closures.listed(session.db(), actor, today)
st.header("À venir", anchor=False)
if not listed.coming:
    st.caption("Aucune fermeture à venir.")
for closure in listed.coming:
    shown(closure, editable=may_edit)
st.header("Passées", anchor=False)
if not listed.past:
    st.caption("Aucune fermeture passée.")
for closure in listed.past:
    shown(closure, editable=may_edit)
if listed.withdrawn:
    with st.expander(f"Fermetures retirées ({len(listed.withdrawn)})"):
        for closure in listed.withdrawn:
            shown(closure, editable=False)
layout.contact_footer()
