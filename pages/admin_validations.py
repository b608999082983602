"""« À valider »: the changes families proposed, old → new, accepted or refused with a note the family
reads. A new quotient familial: agents see it, the administrator decides (it changes prices). Then a
correction of a child's health file (PAI): agents and administrators decide (each one shown is a
health read, in the journal)."""

import streamlit as st

from lib.domain import fr
from lib.domain.changes import quotient_of
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import families
from lib.ui import families as widgets
from lib.ui import health, session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.AGENT, Role.ADMIN)
db = session.db()
st.title("À valider", anchor=False)
widgets.flash()
st.header("Quotient familial", anchor=False)
waiting = families.pending(db, actor)
if not waiting:
    st.info("Aucune demande en attente.")
for change in waiting:
    proposal = quotient_of(change)
    old = families.current_quotient(db, actor, change.family_id)
    with st.container(border=True):
        st.subheader(f"{md(change.family)} — {change.kind.label}", anchor=False)
        st.markdown(
            f"{'non renseigné' if old is None else old} → **{proposal.qf}** "
            f"(valable depuis le {fr.numeric_date(proposal.valid_from)}, {proposal.source.label}"
            + (f", allocataire n° {md(proposal.allocataire_no)}" if proposal.allocataire_no else "")
            + f") — envoyée le {widgets.since(change.submitted_at)}"
        )
        if not families.may_decide(actor, change):
            st.caption("La décision revient à l'administrateur : le quotient familial change les tarifs.")
            continue
        key = f"valid_{change.id}"
        note = st.text_input("Note pour la famille (obligatoire pour refuser)", max_chars=500, key=f"{key}_note")
        accept = st.button("Accepter", type="primary", key=f"{key}_accept")
        refuse = st.button("Refuser", key=f"{key}_refuse")
        if accept or refuse:
            with refusals_shown():
                widgets.saved("valid", families.decide(db, actor, change.id, accept, note, session.now()))

st.header("Corrections de PAI proposées par les familles", anchor=False)
health.pai_validations(db, actor, session.now())
