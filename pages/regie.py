"""« Régie » (the town hall's cash desk): a régisseur finds an invoice (family or guardian name,
invoice number, payment reference), sees what is owed, records a cheque, cash, CESU or a transfer
and hands over the receipt; cancels a receipt by a counter-entry with its reason; and downloads the
day's cash journal (PDF, CSV) for the public accountant. The administrator reads the receipts and
the journal; everything is checked again by lib.services.cash_desk."""

import uuid

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.cash_desk import MEANS, CashPayment, means_heading, means_text, what_text
from lib.domain.invoicing import PaymentMethod
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import cash_desk
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

ANSWER = "regie_answer"
LAST_RECEIPT = "regie_last_receipt"
PAY_KEY, CANCEL_KEY = "regie_pay_key", "regie_cancel_key"

actor = session.require_actor(Role.AGENT, Role.ADMIN)
db, now = session.db(), session.now()
st.title("Régie", anchor=False)
access = cash_desk.access(db, actor)
if not access.reads:
    st.info(
        "La régie (les paiements reçus à la mairie) est réservée aux régisseurs et à l'administrateur. "
        "L'administrateur donne le droit de régisseur depuis la page « Comptes »."
    )
    layout.contact_footer()
    st.stop()
st.caption(
    "Les paiements reçus à la mairie : chèque, espèces, CESU ou virement, avec un reçu numéroté. Une erreur se "
    "corrige par une annulation motivée, jamais en modifiant un paiement."
    + ("" if access.records else " Vous consultez la régie : seul un régisseur encaisse ou annule.")
)
answer = st.session_state.pop(ANSWER, None)
if answer:
    st.success(answer, icon="✅")
for form_key in (PAY_KEY, CANCEL_KEY):  # one key per form shown: the same form sent twice records once
    st.session_state.setdefault(form_key, uuid.uuid4().hex)


def _receipt_button(receipt_id: int, number: str, *, duplicate: bool, key: str) -> None:
    st.download_button(
        f"Télécharger le duplicata du reçu {number}" if duplicate else f"Télécharger le reçu {number} (PDF)",
        lambda: cash_desk.receipt_pdf(db, actor, receipt_id, duplicate=duplicate),
        cash_desk.receipt_file_name(number),
        "application/pdf",
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )


# The original is handed over right after recording, once: any later print is a « Duplicata ».
last = st.session_state.pop(LAST_RECEIPT, None)
if last:
    _receipt_button(last[0], last[1], duplicate=False, key="regie_receipt_original")

if access.records:
    st.header("Encaisser un paiement", anchor=False)
    query = st.text_input(
        "Rechercher une facture",
        max_chars=60,
        key="regie_search",
        placeholder="Nom de la famille ou d'un responsable, n° de facture ou référence de paiement",
    )
    found = []
    if query.strip():
        with refusals_shown():
            found = cash_desk.find_invoices(db, actor, query)
            if not found:
                st.info("Aucune facture ne correspond à cette recherche.")
    if found:
        by_id = {f.id: f for f in found}
        chosen = st.selectbox(
            "Facture",
            list(by_id),
            format_func=lambda i: (
                f"{by_id[i].number} – {by_id[i].family} – {fr.month_year(by_id[i].month)} – "
                f"{cash_desk.owed_text(by_id[i])}"
            ),
            key="regie_invoice",
        )
        invoice = by_id[chosen]
        with st.container(border=True, key="regie_owed"):
            st.markdown(
                f"**Facture {md(invoice.number)}** ({fr.month_year(invoice.month)}) – {md(invoice.family)}  \n"
                f"Adressée à {md(invoice.payer or invoice.family)} · référence de paiement {md(invoice.reference)}  \n"
                f"Total {fr.euros(invoice.total_cents)} · déjà réglé {fr.euros(invoice.paid_cents)}"
                + (f" · avoirs {fr.euros(invoice.credited_cents)}" if invoice.credited_cents else "")
            )
            if invoice.paid:
                st.markdown("✅ **Payée** : il ne reste rien à payer.")
            else:
                st.markdown(f"🔴 **Reste dû : {fr.euros(invoice.left_cents)}**")
        if not invoice.paid:
            labels = {m.value: means_heading(m) for m in MEANS}
            method = st.radio(
                "Moyen de paiement", list(labels), format_func=labels.__getitem__, key="regie_method", horizontal=True
            )
            with st.form("regie_pay", enter_to_submit=False):
                amount = st.text_input(
                    "Montant reçu (€)",
                    value=f"{invoice.left_cents // 100},{invoice.left_cents % 100:02d}",
                    max_chars=12,
                    key=f"regie_amount_{invoice.id}",
                    help="Un paiement partiel est possible ; jamais plus que le reste dû.",
                )
                payer = st.text_input(
                    "Nom de la personne qui paie", value=invoice.payer, max_chars=80, key=f"regie_payer_{invoice.id}"
                )
                fields: dict[str, str] = {}
                if method == PaymentMethod.CHEQUE.value:
                    fields["cheque_number"] = st.text_input("Numéro du chèque", max_chars=12, key="regie_cheque_number")
                    fields["bank"] = st.text_input("Banque", max_chars=80, key="regie_bank")
                    fields["drawer"] = st.text_input(
                        "Nom du tireur (si ce n'est pas la personne qui paie)", max_chars=80, key="regie_drawer"
                    )
                elif method == PaymentMethod.CESU.value:
                    fields["cesu_count"] = st.text_input(
                        "Nombre de titres CESU (facultatif)", max_chars=3, key="regie_cesu_count"
                    )
                elif method == PaymentMethod.TRANSFER.value:
                    fields["transfer_ref"] = st.text_input(
                        "Référence du virement (libellé sur le relevé)", max_chars=80, key="regie_transfer_ref"
                    )
                book = st.text_input(
                    "N° du carnet à souches (si la mairie en utilise un ; sinon, laissez vide)",
                    max_chars=30,
                    key="regie_book_number",
                )
                sent = st.form_submit_button("Enregistrer le paiement", type="primary", key="regie_pay_send")
            if sent:
                with refusals_shown():
                    done = cash_desk.record_payment(
                        db,
                        actor,
                        invoice.id,
                        CashPayment(method, amount, payer=payer, book_number=book, **fields),
                        st.session_state[PAY_KEY],
                        now,
                    )
                    receipt = done.receipt
                    st.session_state[LAST_RECEIPT] = (receipt.id, receipt.number)
                    st.session_state[PAY_KEY] = uuid.uuid4().hex
                    st.session_state[ANSWER] = (
                        f"Ce paiement était déjà enregistré : reçu {md(receipt.number)}."
                        if done.replayed
                        else f"Paiement de {fr.euros(receipt.amount_cents)} ({md(means_text(receipt))}) enregistré "
                        f"pour la facture {md(receipt.invoice_number)} : reçu {md(receipt.number)}. La famille "
                        "reçoit un reçu par courriel."
                    )
                    st.rerun()

st.header("Journal de caisse", anchor=False)
day = st.date_input("Jour", value=now.date(), format="DD/MM/YYYY", key="regie_day")
with refusals_shown(stop=True):
    people = dict(cash_desk.regisseurs(db, actor))
who = st.selectbox(
    "Régisseur",
    [None, *people],
    format_func=lambda i: "Tous les régisseurs" if i is None else people[i],
    key="regie_who",
)
with refusals_shown(stop=True):
    journal = cash_desk.day_journal(db, actor, day, who)
if not journal.receipts:
    st.info(f"Aucun paiement reçu à la régie le {fr.numeric_date(journal.day)}.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "Reçu": [r.number for r in journal.receipts],
                "Montant": [fr.euros(r.amount_cents) for r in journal.receipts],
                "Moyen": [means_text(r) for r in journal.receipts],
                "Heure": [fr.hour(r.issued_at) for r in journal.receipts],
                "Objet": [what_text(r) for r in journal.receipts],
                "Payeur": [r.payer for r in journal.receipts],
                "Régisseur": [r.regisseur for r in journal.receipts],
            }
        ),
        hide_index=True,
        width="stretch",
        key="regie_journal",
    )
totals = journal.totals
st.markdown(
    "\n".join(f"- {means_heading(t.method)} : {t.count} – {fr.euros(t.cents)}" for t in totals.by_means)
    + f"\n\n**Total de la journée : {fr.euros(totals.cents)}**"
)
st.download_button(
    "Télécharger le journal (PDF)",
    lambda: cash_desk.journal_pdf(db, actor, day, who),
    cash_desk.journal_file_name(journal.day, "pdf"),
    "application/pdf",
    key="regie_journal_pdf",
    icon=":material/download:",
    on_click="ignore",
)
st.download_button(
    "Télécharger le journal (CSV)",
    lambda: cash_desk.journal_csv(db, actor, day, who),
    cash_desk.journal_file_name(journal.day, "csv"),
    "text/csv",
    key="regie_journal_csv",
    icon=":material/download:",
    on_click="ignore",
)

if journal.receipts:
    receipts = {r.id: r for r in journal.receipts}
    st.subheader("Réimprimer un reçu", anchor=False)
    again = st.selectbox(
        "Reçu",
        list(receipts),
        format_func=lambda i: f"{receipts[i].number} – {receipts[i].payer} – {fr.euros(receipts[i].amount_cents)}",
        key="regie_reprint_which",
    )
    _receipt_button(again, receipts[again].number, duplicate=True, key="regie_reprint")

    open_ones = {i: r for i, r in receipts.items() if r.cancellable}
    if access.records and open_ones:
        st.subheader("Annuler un paiement", anchor=False)
        st.caption(
            "L'annulation ne modifie pas le paiement : elle enregistre un paiement inverse avec son motif et "
            "son propre reçu. La facture redevient due d'autant."
        )
        with st.form("regie_cancel", enter_to_submit=False):
            target = st.selectbox(
                "Reçu à annuler",
                list(open_ones),
                format_func=lambda i: (
                    f"{open_ones[i].number} – {open_ones[i].invoice_number} – {fr.euros(open_ones[i].amount_cents)}"
                ),
                key="regie_cancel_which",
            )
            reason = st.text_area("Motif de l'annulation", max_chars=300, key="regie_cancel_reason")
            cancel_book = st.text_input(
                "N° du carnet à souches (si la mairie en utilise un)", max_chars=30, key="regie_cancel_book"
            )
            cancelled = st.form_submit_button("Annuler ce paiement", key="regie_cancel_send")
        if cancelled:
            with refusals_shown():
                done = cash_desk.cancel_payment(
                    db, actor, target, reason, st.session_state[CANCEL_KEY], now, book_number=cancel_book
                )
                st.session_state[CANCEL_KEY] = uuid.uuid4().hex
                st.session_state[LAST_RECEIPT] = (done.receipt.id, done.receipt.number)
                st.session_state[ANSWER] = (
                    f"Reçu {md(open_ones[target].number)} annulé : reçu d'annulation {md(done.receipt.number)}."
                )
                st.rerun()
layout.contact_footer()
