"""« Mes factures » (the seed's part 2): every issued invoice with its red or green dot, the detail
of the selected one beside the table (below it on a phone), the PDF, and « Payer »."""

import streamlit as st

from lib.domain.invoicing import InvoiceStatus, PaymentRight, TxState
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import home, invoicing, payments
from lib.ui import invoices, layout, session

actor = session.require_actor(Role.FAMILY)
db, now = session.db(), session.now()
st.title("Mes factures", anchor=False)
st.markdown(
    "Toutes vos factures émises : touchez-en une pour voir son détail et son PDF. 🔴 non soldée, "
    "🟢 soldée. « Payer » ouvre le paiement en ligne sécurisé ; une fois le paiement effectué, il n'est "
    "pas possible de revenir en arrière."
)

# A payment whose return never reached us is settled here: a refresh brings the green dot.
payments.reconcile(db, now, family_id=actor.family_id)
ref = st.query_params.get("transaction")
outcome = payments.outcome_for_family(db, actor, ref) if ref else None
if outcome:
    {TxState.PAID: st.success, TxState.PENDING: st.info}.get(outcome.state, st.error)(md(outcome.message))

right = payments.payment_right(db, actor)
with st.container(border=True, key="payment_right"):
    st.markdown(payments.describe_right(right))
    # The answer to « Demander… » shows here, where the button was, after the rerun that stored it.
    answer = st.session_state.pop(invoices.RIGHT_ANSWER, None)
    if answer:
        st.success(md(answer), icon="✅")
    if right.right in (PaymentRight.NONE, PaymentRight.REFUSED):
        if st.button("Demander le droit de payer en ligne", key="invoices_request_right"):
            st.session_state[invoices.RIGHT_ANSWER] = payments.request_payment_right(db, actor, now)
            st.rerun()
        contact = home.town(db).contact_email
        if contact:
            st.caption(
                layout.html_line(f"Vous pouvez aussi écrire à {layout.email_link(contact)}."), unsafe_allow_html=True
            )

rows = invoicing.family_invoices(db, actor, now)
if not rows:
    st.info("Aucune facture émise pour le moment.")
    st.stop()
ids = [r.id for r in rows]
if st.session_state.get(invoices.SELECTED) not in ids:
    first_unpaid = next((r.id for r in rows if r.status is InvoiceStatus.UNPAID), ids[0])
    st.session_state[invoices.SELECTED] = first_unpaid
invoices.open_from_link(rows, right.right)

left, right_pane = st.columns([3, 2], gap="medium")
with left:
    # A grid on a wide screen, a list of cards on a phone: lib/web/document.py shows one of the two;
    # a phone's browser is not sent the grid at all (its bundle is the page's heaviest download).
    if not session.on_a_phone():
        with st.container(key="invoices_grid"):
            st.caption("Cliquez sur une ligne pour afficher le détail de la facture.")
            invoices.table(rows)
            by_id = {r.id: r for r in rows}
            st.selectbox(
                "Facture affichée",
                ids,
                format_func=lambda i: f"{by_id[i].number} — {by_id[i].status.word}",
                key=invoices.SELECTED,
                placeholder="Choisir une facture",
            )
    with st.container(key="invoices_cards"):
        st.caption("Touchez une facture pour afficher son détail.")
        invoices.cards(rows)
    invoices.legend()
with right_pane:
    invoices.detail(actor, st.session_state[invoices.SELECTED], right.right)
layout.contact_footer()
