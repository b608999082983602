"""Administrator: each service's deadlines and price, and the daily capacity per site."""

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.deadlines import MAX_DELAY_DAYS, deadline_rule
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.domain.validation import parse_euros
from lib.services import settings
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.ADMIN)
st.title("Prestations et délais", anchor=False)
st.caption("Les délais s'appliquent aux familles ; le personnel peut toujours modifier « hors délai » avec un motif.")

services = settings.services(session.db(), actor)
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
layout.contact_footer()
