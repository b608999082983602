"""« Mes factures » widgets: the status dot with its word, the legend, the detail pane."""

from __future__ import annotations

import secrets

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.invoicing import InvoiceStatus, PaymentRight, method_label, payment_reference
from lib.domain.markup import md
from lib.services import home, invoicing, payments
from lib.ui import session
from lib.ui.sepa import invoice_debit

SELECTED = "invoices_selected"
CONFIRM = "invoices_confirm"
RIGHT_ANSWER = "invoices_right_answer"
LINK_PARAM = "facture"  # « Mes factures ?facture=F-2026-000267 »: the home's « Payer » shortcut


def status_label(status: InvoiceStatus) -> str:
    return f"{status.dot} {status.word}"


def legend() -> None:
    st.caption(
        "Légende : "
        + " · ".join(
            f"{s.dot} {s.word}"
            for s in (
                InvoiceStatus.UNPAID,
                InvoiceStatus.PAID,
                InvoiceStatus.IN_PROGRESS,
                InvoiceStatus.CREDIT,
                InvoiceStatus.OVERPAID,
            )
        )
        + " (non soldée : reste à payer ; soldée : réglée ; trop-perçu : payée deux fois, la mairie "
        "rembourse)."
    )


def table(rows: list[invoicing.InvoiceRow]) -> None:
    """The invoices; clicking a row selects it for the detail pane."""
    # The columns a parent needs first come first: a phone shows them without scrolling the table.
    frame = pd.DataFrame(
        [
            {
                "État": status_label(r.status),
                "Mois": fr.month_year(r.month).capitalize(),
                "Reste à payer": fr.euros(r.left_cents),
                "N°": r.number,
                "Montant": fr.euros(r.total_cents),
                "Échéance": fr.numeric_date(r.due_date),
            }
            for r in rows
        ]
    )
    ids = [r.id for r in rows]

    def picked() -> None:
        selection = st.session_state["invoices_table"].selection
        chosen = list(selection.rows) or [cell[0] for cell in selection.cells]
        if chosen:
            st.session_state[SELECTED] = ids[chosen[0]]
            st.session_state.pop(CONFIRM, None)

    # A click on any cell of a row, or on its tick box, picks that invoice (the seed: "cliquez sur une ligne").
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        selection_mode=["single-row", "single-cell"],
        on_select=picked,
        key="invoices_table",
    )


def cards(rows: list[invoicing.InvoiceRow]) -> None:
    """The invoices as a list of buttons, for a phone (the grid would scroll sideways there): each
    says its state in words, month, amount left and number; a tap shows its detail below."""

    def pick(invoice_id: int) -> None:
        if st.session_state.get(SELECTED) != invoice_id:
            st.session_state[SELECTED] = invoice_id
            st.session_state.pop(CONFIRM, None)

    for r in rows:
        shown = st.session_state.get(SELECTED) == r.id
        st.button(
            f"{status_label(r.status)} · {fr.month_year(r.month).capitalize()} · reste {fr.euros(r.left_cents)}"
            f" · {r.number}" + (" — affichée ci-dessous" if shown else ""),
            key=f"invoices_card_{r.id}",
            width="stretch",
            on_click=pick,
            args=(r.id,),
        )


def open_from_link(rows: list[invoicing.InvoiceRow], right: PaymentRight) -> None:
    """A link naming an invoice (the home's « Payer ») selects it and, when it can be paid online,
    opens its « Payer » step. The link is read once, then dropped from the address, so choosing
    another invoice afterwards is not undone. Only the family's own rows can match."""
    number = st.query_params.get(LINK_PARAM)
    if number is None:
        return
    del st.query_params[LINK_PARAM]
    row = home.linked_invoice(rows, number)
    if row is None:
        st.info("Cette facture n'est pas dans votre compte. Voici vos factures.")
        return
    st.session_state[SELECTED] = row.id
    st.session_state.pop(CONFIRM, None)
    if row.status is InvoiceStatus.UNPAID and right is PaymentRight.GRANTED:
        _open_payment(row.id)


def _open_payment(invoice_id: int) -> None:
    st.session_state[CONFIRM] = invoice_id
    st.session_state[f"invoices_key_{invoice_id}"] = secrets.token_urlsafe(24)


def detail(actor, invoice_id: int, right: PaymentRight) -> None:
    db = session.db()
    data = invoicing.invoice_detail(db, actor, invoice_id, session.now())
    row = data.row
    with st.container(border=True, key="invoice_detail"):
        st.header(f"{row.kind.word} {row.number}", anchor=False)
        words = data.text
        st.markdown(
            f"**{status_label(row.status)}** · {fr.month_year(row.month).capitalize()}  \n"
            + "  \n".join(md(line) for line in words.debtor)
            + f"  \nÉmise le {fr.numeric_date(row.issue_date)}, à payer avant le **{fr.numeric_date(row.due_date)}**"
        )
        # A list rather than a table: it stays readable in a narrow pane and on a phone.
        st.markdown(
            "\n".join(
                f"- {md(line.label)} : {line.quantity} × {fr.euros(line.unit_price_cents)} = "
                f"**{fr.euros(line.amount_cents)}**"
                for line in data.lines
            )
        )
        st.markdown(
            f"Total : **{fr.euros(row.total_cents)}**  \nDéjà réglé : {fr.euros(row.paid_cents)}  \n"
            f"Reste à payer : **{fr.euros(row.left_cents)}**"
        )
        if words.reference:
            label, _, value = words.reference.partition(" : ")
            st.markdown(f"{label} : **{md(value)}**")
        if words.ways:
            st.markdown(
                "**Comment payer ?**\n" + "\n".join(f"- **{md(way.title)}** : {md(way.text)}" for way in words.ways),
            )
        if data.payments:
            st.markdown(
                "**Paiements reçus**\n"
                + "\n".join(
                    f"- {fr.numeric_date(p.paid_at)} : {fr.euros(p.amount_cents)} ({md(method_label(p.method))})"
                    for p in data.payments
                )
            )
        # Built when the button is clicked, not on every view of the page; the click does not rerun
        # the page (a rerun registers the button again and could drop the file being built for it).
        st.download_button(
            "Télécharger la facture (PDF)",
            lambda: invoicing.invoice_pdf(db, actor, invoice_id, session.now()),
            f"{row.number}.pdf",
            "application/pdf",
            key="invoices_pdf",
            icon=":material/download:",
            on_click="ignore",
        )
        if not invoice_debit(actor, invoice_id):  # « Prélèvement le … » instead of « Payer »
            _pay(row, right)
        st.caption(
            "  \n".join(md(line) for line in (" · ".join(words.issuer), words.official, words.collection) if line),
        )
        if words.recourse:
            st.caption(md(words.recourse))


def _pay(row: invoicing.InvoiceRow, right: PaymentRight) -> None:
    if row.status is InvoiceStatus.IN_PROGRESS and row.pending_until is not None:  # in progress until then
        st.info(
            "🟠 Un paiement est en cours pour cette facture : il apparaîtra ici dès que la banque l'aura "
            "confirmé. Actualisez la page dans un instant. "
            + payments.second_payment_after(row.pending_until, session.now())
        )
        return
    if row.status is InvoiceStatus.OVERPAID:
        st.info(
            f"🟣 Trop-perçu : cette facture a reçu {fr.euros(row.overpaid_cents)} de plus que son montant ; "
            "la mairie vous rembourse la différence."
        )
        return
    if row.status is not InvoiceStatus.UNPAID or right is not PaymentRight.GRANTED:
        return
    if not row.payable_by_you:
        st.caption(f"Seul le compte de {md(row.payer)}, à qui la facture est adressée, peut la payer en ligne.")
        return
    if st.session_state.get(CONFIRM) != row.id:
        if st.button(
            f"Payer {fr.euros(row.left_cents)}", key="invoices_pay", type="primary", icon=":material/payments:"
        ):
            _open_payment(row.id)
            st.rerun()
        return
    st.warning(
        "**ATTENTION : une fois le paiement effectué, il ne sera pas possible de revenir en arrière.**  \n"
        f"Vous allez payer **{fr.euros(row.left_cents)}** pour la facture {row.number} (référence de paiement "
        f"**{payment_reference(row.number)}**) sur la page sécurisée "
        "de la banque, puis revenir ici.",
        icon="⚠️",
    )
    token = session.session_token()
    if token is None:  # signed out meanwhile: no payment link without a session to check it against
        return
    link = payments.departure_link(token, row.id, st.session_state[f"invoices_key_{row.id}"])
    st.markdown(
        f'<a href="{link}" target="_self" style="display:block;text-align:center;padding:.7rem;'
        "min-height:44px;border-radius:8px;background:#1d4ed8;color:#fff;font-weight:600;"
        f'text-decoration:none">Confirmer et payer {fr.euros(row.left_cents)}</a>',
        unsafe_allow_html=True,
    )
    if st.button("Annuler", key="invoices_pay_cancel", width="stretch"):
        st.session_state.pop(CONFIRM, None)
        st.rerun()
