"""Administrator: monthly invoicing (draft, then publish; amounts under the minimum for public recovery
carried over, and that minimum), online-payment rights, reconciliation, and the
refunds owed for invoices paid twice."""

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.clock import from_utc_naive
from lib.domain.invoicing import PaymentRight, kind_for, method_label
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import invoicing, payments
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.ADMIN)
db, now = session.db(), session.now()
st.title("Facturation", anchor=False)

st.header("Factures du mois", anchor=False)
chosen = st.selectbox(
    "Mois à facturer (mois terminés)",
    invoicing.billable_months(now.date()),
    format_func=lambda m: fr.month_year(m).capitalize(),
    key="billing_month",
)
with refusals_shown(stop=True):
    draft = invoicing.draft_month(db, actor, chosen, now)
st.caption(
    f"Règle de facturation : {draft.rule.label}. Les factures publiées ne sont jamais modifiées : "
    "une correction donne une facture complémentaire ou un avoir."
)
if draft.issued:
    st.markdown(f"Déjà émis pour ce mois : **{len(draft.issued)}** document(s).")
    with st.expander("Documents émis pour ce mois"):
        st.dataframe(
            pd.DataFrame(
                {
                    "N°": [d["number"] for d in draft.issued],
                    "Famille": [d["family"] for d in draft.issued],
                    "Adressé à": [d["payer"] for d in draft.issued],
                    "Total": [fr.euros(d["total_cents"]) for d in draft.issued],
                }
            ),
            hide_index=True,
            width="stretch",
            key="billing_issued",
        )
if draft.carried_lines:
    st.caption(
        f"{draft.carried_lines} ligne(s) de ce mois sous le seuil de mise en recouvrement ont été reportées "
        "sur une facture suivante."
    )
if draft.carried:
    st.warning(
        f"{len(draft.carried)} montant(s) sous le seuil de mise en recouvrement ({fr.euros(draft.minimum_cents)}) "
        "ne seront pas émis : ils sont reportés sur la prochaine facture de la famille, jusqu'à atteindre le seuil.",
        icon="⏭️",
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Famille": [c.family for c in draft.carried],
                "Adressé à": [c.payer for c in draft.carried],
                "Montant": [fr.euros(c.total_cents) for c in draft.carried],
                "Pourquoi": [c.why(draft.minimum_cents) for c in draft.carried],
            }
        ),
        hide_index=True,
        width="stretch",
        key="billing_carried",
    )
if not draft.documents and not draft.carried:
    st.success(
        "Rien de nouveau à facturer pour ce mois."
        if draft.issued or draft.carried_lines
        else f"Aucune réservation à facturer pour {fr.month_year(chosen)}."
    )
else:
    cols = st.columns(2)
    cols[0].metric("Documents à émettre", len(draft.documents))
    cols[1].metric("Montant total", fr.euros(draft.total_cents))
    table = draft.documents.by_column()
    st.dataframe(
        pd.DataFrame(
            {
                "Famille": table["family"],
                "Adressé à": table["payer"],
                "Type": [kind_for(total).word for total in table["total_cents"]],
                "Lignes": table["lines"],
                "Total": [fr.euros(t) for t in table["total_cents"]],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    sure = st.checkbox(
        "J'ai vérifié le brouillon : publier ces documents (ils ne pourront plus être modifiés)", key="billing_sure"
    )
    if st.button("Publier", key="billing_publish", type="primary", disabled=not sure):
        with refusals_shown():
            st.success(invoicing.publish_month(db, actor, chosen, session.now()).summary(), icon="✅")

st.header("Seuil de mise en recouvrement", anchor=False)
st.caption(
    "Une somme inférieure au seuil ne peut pas être mise en recouvrement par le comptable public (art. D1611-1 "
    "du CGCT : 15 €). Le mois d'une famille sous le seuil n'est pas émis : il est reporté sur sa facture "
    "suivante, et encore reporté tant que le total reste sous le seuil, y compris d'une année scolaire à "
    "l'autre. Un avoir n'est jamais retenu. 0 : tout est émis."
)
with st.form("billing_minimum_form", enter_to_submit=False):
    typed_minimum = st.text_input(
        "Seuil (€)", fr.decimal(draft.minimum_cents / 100, 2), max_chars=12, key="billing_minimum"
    )
    if st.form_submit_button("Enregistrer le seuil"):
        with refusals_shown():
            st.success(invoicing.set_minimum(db, actor, typed_minimum, session.now()), icon="✅")

st.header("Droit de payer en ligne", anchor=False)
# A decision is confirmed inside the family's own box, where the button was (not at the top of a
# long page): the box stays for this visit and shows the state stored in the database.
decided = st.session_state.setdefault("right_decided", [])
requests = payments.payment_right_requests(db, actor)
shown = [r for r in requests if r.right is PaymentRight.REQUESTED or r.family_id in decided]
if not shown:
    st.caption("Aucune demande en attente.")
for family in sorted(shown, key=lambda r: r.name):
    with st.container(border=True, key=f"right_family_{family.family_id}"):
        st.markdown(f"**{md(family.name)}** ({md(family.email or 'sans e-mail')})")
        if family.right is not PaymentRight.REQUESTED:
            granted = family.right is PaymentRight.GRANTED
            (st.success if granted else st.warning)(
                f"Droit de payer en ligne {'accordé' if granted else 'refusé'}"
                + (f" le {fr.numeric_date_time(from_utc_naive(family.at))}" if family.at else "")
                + " : la famille le voit sur « Mes factures ».",
                icon="✅" if granted else "🚫",
            )
            continue
        left, right = st.columns(2)
        grant = left.button("Accorder", key=f"right_grant_{family.family_id}", type="primary")
        refuse = right.button("Refuser", key=f"right_refuse_{family.family_id}")
        if grant or refuse:
            with refusals_shown():
                payments.decide_payment_right(db, actor, family.family_id, grant, session.now())
                decided.append(family.family_id)
                st.rerun()
holders = [r.name for r in requests if r.right is PaymentRight.GRANTED]
st.caption(f"Familles ayant le droit : {fr.decimal(len(holders), 0)}.")

st.header("Paiements en attente", anchor=False)
lifetime = payments.config(db).attempt_lifetime
st.caption(
    "Un paiement dont la banque n'a pas confirmé le résultat est rapproché ici (et à chaque visite de la "
    "famille sur « Mes factures ») ; il n'est abandonné qu'une fois passé le délai où la banque peut encore "
    f"l'accepter ({fr.decimal(lifetime.total_seconds() / 60, 0)} minutes, marge comprise)."
)
if st.button("Rapprocher maintenant", key="billing_reconcile"):
    st.info(f"{payments.reconcile(db, session.now())} paiement(s) mis à jour.")

st.header("Trop-perçus à rembourser", anchor=False)
overpaid = payments.overpaid_invoices(db, actor)
if not overpaid:
    st.caption("Aucune facture n'a reçu plus que son montant.")
else:
    st.warning(
        f"{len(overpaid)} facture(s) ont reçu plus que leur montant : remboursez la famille du trop-perçu "
        "(les références permettent de retrouver les paiements chez la banque).",
        icon="🟣",
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Facture": [o.number for o in overpaid],
                "Famille": [f"{o.family} — {o.payer} ({o.email or 'sans e-mail'})" for o in overpaid],
                "À rembourser": [fr.euros(o.refund_cents) for o in overpaid],
                "Montant de la facture": [fr.euros(o.total_cents) for o in overpaid],
                "Paiements reçus": [
                    "; ".join(
                        f"{fr.numeric_date_time(p.paid_at)} : {fr.euros(p.amount_cents)}"
                        + (f" (réf. {p.reference})" if p.reference else f" ({method_label(p.method)})")
                        for p in o.payments
                    )
                    for o in overpaid
                ],
            }
        ),
        hide_index=True,
        width="stretch",
        key="billing_overpaid",
    )
layout.contact_footer()
