"""Administrator: each service's deadlines and price, the daily capacity per site, and its dated tariffs
(the council's decisions, their history, the prices of a day present without a booking, of a PAI
packed lunch and for families living outside the town)."""

import pandas as pd
import streamlit as st

from lib.domain import fr, periods
from lib.domain.deadlines import MAX_DELAY_DAYS, deadline_rule
from lib.domain.invoicing import Tariff
from lib.domain.journal import brackets_text
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.domain.validation import parse_euros
from lib.services import settings, tariffs
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.ADMIN)


def _euros_or(cents: int | None, empty: str) -> str:
    return empty if cents is None else fr.euros(cents)


def _typed(cents: int | None) -> str:
    return "" if cents is None else fr.decimal(cents / 100, 2)


def tariff_history(service_id: int, history: list[Tariff]) -> None:
    st.markdown("**Historique des tarifs** (chaque jour est facturé au tarif en vigueur ce jour-là)")
    st.dataframe(
        pd.DataFrame(
            {
                "À partir du": [
                    "Tarif de base" if t.valid_from is None else t.valid_from.strftime("%d/%m/%Y") for t in history
                ],
                "Délibération": [t.reference for t in history],
                "Prix": [fr.euros(t.unit_price_cents) for t in history],
                "Selon le QF": [brackets_text([[b.qf_max, b.price_cents] for b in t.brackets]) for t in history],
                "Repas non réservé": [_euros_or(t.unbooked_price_cents, "non facturé") for t in history],
                "Panier repas (PAI)": [_euros_or(t.basket_price_cents, "prix du repas") for t in history],
                "Hors commune": [_euros_or(t.non_resident_price_cents, "selon le QF") for t in history],
            }
        ),
        hide_index=True,
        width="stretch",
        key=f"tariff_history_{service_id}",
    )


def new_tariff_form(service_id: int, history: list[Tariff]) -> None:
    """A council decision: the service's prices from a date, prefilled with the latest tariff."""
    latest, since = history[-1], tariffs.published_until(session.db(), actor)
    with st.form(f"tariff_new_{service_id}", border=True):
        st.markdown("**Nouveau tarif à partir d'une date (délibération)**")
        if since is not None:
            st.caption(
                f"Les mois jusqu'à {fr.month_year(periods.previous_month(since))} sont déjà facturés : un nouveau "
                f"tarif s'applique au plus tôt le {fr.long_date(since)} (une facture émise n'est jamais recalculée)."
            )
        start = st.date_input(
            "Date d'effet", value=since or session.now().date(), format="DD/MM/YYYY", key=f"tariff_from_{service_id}"
        )
        reference = st.text_input(
            "Délibération (référence, facultatif)",
            max_chars=200,
            placeholder="Délibération n° 2026-45 du 12 novembre 2026",
            key=f"tariff_ref_{service_id}",
        )
        unit = st.text_input(
            "Prix unitaire (€)", _typed(latest.unit_price_cents), max_chars=12, key=f"tariff_unit_{service_id}"
        )
        st.markdown("Tarifs selon le quotient familial (facultatif ; plafond vide = tranche la plus haute)")
        edited = st.data_editor(
            pd.DataFrame(
                {
                    "Plafond QF": ["" if b.qf_max is None else str(b.qf_max) for b in latest.brackets],
                    "Prix (€)": [_typed(b.price_cents) for b in latest.brackets],
                },
                dtype="string",
            ),
            num_rows="dynamic",
            hide_index=True,
            key=f"tariff_grid_{service_id}",
            column_config={
                "Plafond QF": st.column_config.TextColumn(max_chars=7),
                "Prix (€)": st.column_config.TextColumn(max_chars=12),
            },
        )
        unbooked = st.text_input(
            "Repas non réservé (€ ; vide : non facturé)",
            _typed(latest.unbooked_price_cents),
            max_chars=12,
            help="Un enfant présent sans réservation ce jour-là.",
            key=f"tariff_unbooked_{service_id}",
        )
        basket = st.text_input(
            "Repas panier, PAI (€ ; vide : prix du repas ; 0 : gratuit)",
            _typed(latest.basket_price_cents),
            max_chars=12,
            help="La famille fournit le repas (projet d'accueil individualisé).",
            key=f"tariff_basket_{service_id}",
        )
        outside = st.text_input(
            "Hors commune (€ ; vide : tarif selon le QF)",
            _typed(latest.non_resident_price_cents),
            max_chars=12,
            help="Familles dont le dossier est marqué « hors commune ».",
            key=f"tariff_outside_{service_id}",
        )
        if st.form_submit_button("Enregistrer le nouveau tarif"):
            grid = [
                (None if pd.isna(q) else str(q), None if pd.isna(p) else str(p))
                for q, p in zip(edited["Plafond QF"], edited["Prix (€)"])
            ]
            with refusals_shown():
                said = tariffs.add_decision(
                    session.db(),
                    actor,
                    service_id,
                    valid_from=start,
                    reference=reference,
                    unit_price=unit,
                    grid=grid,
                    unbooked_price=unbooked,
                    basket_price=basket,
                    non_resident_price=outside,
                    now=session.now(),
                )
                st.success(said, icon="✅")


st.title("Prestations et délais", anchor=False)
st.caption("Les délais s'appliquent aux familles ; le personnel peut toujours modifier « hors délai » avec un motif.")

services = settings.services(session.db(), actor)
invoiced_until = tariffs.published_until(session.db(), actor)
if not services:
    st.info(
        "Aucune prestation n'est encore proposée par une structure : créez-les dans « Structures et année scolaire »."
    )
for service in services:
    sid, deadlines = service.id, service.deadlines
    with st.form(f"service_{sid}", border=True):
        st.header(md(service.name), anchor=False)
        price = st.text_input(
            "Prix unitaire (€)",
            value=fr.decimal(service.unit_price_cents / 100, 2),
            max_chars=12,
            help="En euros, avec une virgule : 3,50",
            key=f"svc_price_{sid}",
        )
        left, right = st.columns(2)
        book = left.number_input(
            "Réservation : jours avant", 0, MAX_DELAY_DAYS, deadlines.book.days, key=f"svc_book_{sid}"
        )
        book_working = left.checkbox(
            "Jours ouvrés (réservation)", deadlines.book.working, key=f"svc_book_working_{sid}"
        )
        book_cutoff = left.time_input(
            "Réservation : heure limite le dernier jour", deadlines.book.cutoff, step=900, key=f"svc_book_cutoff_{sid}"
        )
        cancel = right.number_input(
            "Annulation : jours avant", 0, MAX_DELAY_DAYS, deadlines.cancel.days, key=f"svc_cancel_{sid}"
        )
        cancel_working = right.checkbox(
            "Jours ouvrés (annulation)", deadlines.cancel.working, key=f"svc_cancel_working_{sid}"
        )
        cancel_cutoff = right.time_input(
            "Annulation : heure limite le dernier jour",
            deadlines.cancel.cutoff,
            step=900,
            key=f"svc_cancel_cutoff_{sid}",
        )
        capacities = {
            c.site_id: st.number_input(
                f"Capacité par jour — {md(c.site)}",
                0,
                settings.MAX_CAPACITY,
                c.capacity,
                key=f"svc_cap_{sid}_{c.site_id}",
            )
            for c in service.capacities
        }
        if st.form_submit_button("Enregistrer", type="primary"):
            with refusals_shown():
                messages = [
                    settings.update_service(
                        session.db(),
                        actor,
                        sid,
                        unit_price_cents=parse_euros(price),
                        book=deadline_rule(book, book_working, book_cutoff, of="de réservation"),
                        cancel=deadline_rule(cancel, cancel_working, cancel_cutoff, of="d'annulation"),
                        now=session.now(),
                    )
                ]
                for site_id, value in capacities.items():
                    if value != next(c.capacity for c in service.capacities if c.site_id == site_id):
                        messages.append(
                            settings.set_capacity(session.db(), actor, site_id, sid, int(value), session.now())
                        )
                st.success(md(" ".join(messages)), icon="✅")
        brackets = settings.tariffs(session.db(), actor, sid)
        st.markdown("Tarifs selon le quotient familial (facultatif ; plafond vide = tranche la plus haute)")
        edited = st.data_editor(
            # Text cells: an empty ceiling stays an empty cell (the grid would write "None").
            pd.DataFrame(
                {
                    "Plafond QF": ["" if b.qf_max is None else str(b.qf_max) for b in brackets],
                    "Prix (€)": [fr.decimal(b.price_cents / 100, 2) for b in brackets],
                },
                dtype="string",
            ),
            num_rows="dynamic",
            hide_index=True,
            key=f"svc_tariffs_{sid}",
            column_config={
                "Plafond QF": st.column_config.TextColumn(
                    max_chars=7, help="Quotient familial maximal ; vide pour la tranche la plus haute"
                ),
                "Prix (€)": st.column_config.TextColumn(max_chars=12, help="En euros, avec une virgule : 2,50"),
            },
        )
        if st.form_submit_button("Enregistrer les tarifs"):
            grid = [
                (None if pd.isna(q) else str(q), None if pd.isna(p) else str(p))
                for q, p in zip(edited["Plafond QF"], edited["Prix (€)"])
            ]
            with refusals_shown():
                st.success(md(settings.save_tariff_grid(session.db(), actor, sid, grid, session.now())), icon="✅")
        st.caption(
            f"Actuellement : {fr.euros(service.unit_price_cents)} ; réservation {deadlines.book.describe()} ; "
            f"annulation {deadlines.cancel.describe()}."
        )
        if invoiced_until is not None:
            st.caption(
                f"Les mois jusqu'à {fr.month_year(periods.previous_month(invoiced_until))} sont facturés : le prix "
                "unitaire et les tarifs selon le QF ci-dessus ne changent plus (une facture émise n'est jamais "
                "recalculée). Pour un nouveau prix, utilisez « Nouveau tarif à partir d'une date » ci-dessous."
            )
    history = tariffs.history(session.db(), actor, sid)
    tariff_history(sid, history)
    new_tariff_form(sid, history)
layout.contact_footer()
