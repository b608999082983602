"""Direct debit as a family reads it: its mandate (« Mon dossier ») and an invoice's debit
(« Mes factures »), read-only."""

from __future__ import annotations

import streamlit as st

from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.markup import md
from lib.services import sepa
from lib.ui import session


def family_mandates(actor: Actor) -> None:
    """« Prélèvement automatique »: the family's mandates, IBAN masked; nothing when it has none."""
    found = sepa.family_mandates(session.db(), actor)
    if not found:
        return
    st.header("Prélèvement automatique", anchor=False)
    for mandate in found:
        state = "en cours" if mandate.ends_on is None else f"révoqué à partir du {fr.numeric_date(mandate.ends_on)}"
        st.markdown(
            f"**Mandat SEPA {md(mandate.rum)}** ({state})  \n"
            f"Signé le {fr.numeric_date(mandate.signed_on)} par {md(mandate.guardian)} · compte {md(mandate.iban)}"
        )
    st.caption("Pour changer de compte ou arrêter le prélèvement, adressez-vous au service enfance de la mairie.")


def invoice_debit(actor: Actor, invoice_id: int) -> bool:
    """An invoice's direct debit, shown in its detail: « Prélèvement le … », or the bank's reject and
    its reason. True when the invoice is to be (or was) debited: no « Payer » then."""
    found = sepa.invoice_debit(session.db(), actor, invoice_id, session.now())
    if found is None:
        return False
    when = fr.long_date(found.collection_date)
    if found.rejected:
        st.warning(f"Prélèvement du {when} rejeté par la banque : {md(found.rejected)}.", icon="⚠️")
        return False
    st.info(f"Prélèvement le {when} (mandat SEPA) : vous n'avez rien à payer en ligne.", icon="🏦")
    return True
