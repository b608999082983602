"""« Mon dossier », for a family: its file as the town hall keeps it. Phones, address, contacts,
pick-up people and consents change at once; a new quotient familial, or a correction of a child's
health file (PAI, shown only on request), waits for the town hall's validation; « Mes données » downloads everything the portal holds about the family."""

import streamlit as st

from lib.domain import fr
from lib.domain.changes import ChangeState, quotient_of
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import families
from lib.ui import families as widgets
from lib.ui import health, session
from lib.ui import sepa as direct_debit
from lib.ui.errors import refusals_shown

EXPORT = "dossier_export"

actor = session.require_actor(Role.FAMILY)
db = session.db()
st.title("Mon dossier", anchor=False)
widgets.flash()
with refusals_shown(stop=True):
    file = families.my_file(db, actor)

st.header("Responsables", anchor=False)
st.caption(
    "Chaque responsable change son téléphone et son adresse depuis son propre compte. Pour changer un nom, "
    "écrivez au service enfance de la mairie ; votre adresse e-mail se change depuis « Mon compte »."
)
for guardian in file.guardians:
    st.markdown(f"**Responsable {guardian.rank} : {md(guardian.full_name)}** — {md(guardian.email or 'sans e-mail')}")
    if guardian.user_id != actor.user_id:  # the other parent's details are his to change
        st.caption(f"Téléphone : {md(guardian.phone or '—')} · Adresse : {md(guardian.address or '—')}")
        continue
    key = f"dossier_g{guardian.rank}"
    with st.form(f"{key}_{widgets.version(key)}", enter_to_submit=False):
        phone = st.text_input("Téléphone", guardian.phone or "", max_chars=20, key=widgets.field(key, "phone"))
        address = st.text_area("Adresse", guardian.address or "", max_chars=200, key=widgets.field(key, "address"))
        if st.form_submit_button("Enregistrer", type="primary"):
            with refusals_shown():
                families.update_my_guardian(db, actor, guardian.rank, phone, address, session.now())
                widgets.saved(key, f"Coordonnées du responsable {guardian.rank} enregistrées.")

st.header("Enfants", anchor=False)
for child in file.children:
    if child.archived_at is None:
        st.markdown(
            f"**{md(child.first_name)} {md(child.last_name)}** — né(e) le {fr.numeric_date(child.birth_date)} — "
            f"classe {md(child.school_class)}"
        )
        with st.expander(f"Santé (PAI) de {md(child.first_name)}", icon=":material/medical_information:"):
            health.family_pai_section(db, actor, child.id, session.now())

st.header("Quotient familial", anchor=False)
widgets.quotient_history(file)
for change in file.changes:
    proposal = quotient_of(change)
    if change.state is ChangeState.PENDING:
        st.info(
            f"Nouveau quotient {proposal.qf} ({proposal.source.label}) : en attente de validation depuis le "
            f"{widgets.since(change.submitted_at)}."
        )
    elif change.state is ChangeState.REFUSED:
        st.warning(
            f"Quotient {proposal.qf} proposé le {widgets.since(change.submitted_at)} : refusé"
            + (f" — {md(change.note)}" if change.note else "")
            + "."
        )
st.markdown("**Signaler un nouveau quotient familial** (il sera appliqué après validation par la mairie)")
typed = widgets.quotient_form("dossier_qf", "Envoyer à la mairie")
if typed is not None:
    with refusals_shown():
        families.propose_quotient(db, actor, typed, session.now())
        widgets.saved("dossier_qf", "Demande envoyée : elle attend la validation de la mairie.")

st.header("Personnes à prévenir et autorisées à venir chercher", anchor=False)
widgets.contacts_section(file, actor, True, "dossier_contacts")

st.header("Autorisations", anchor=False)
widgets.consents_section(file, actor, True, "dossier_consents")

direct_debit.family_mandates(actor)
st.header("Mes données", anchor=False)
st.caption("Tout ce que le portail conserve sur votre famille, en fichiers pour un tableur (ZIP).")
if st.button("Préparer mes données", key="dossier_prepare"):
    with refusals_shown():
        st.session_state[EXPORT] = families.my_data(db, actor, session.now())
if EXPORT in st.session_state:
    st.download_button(
        "Télécharger mes données (ZIP)",
        st.session_state[EXPORT],
        file_name="mes-donnees.zip",
        mime="application/zip",
        key="dossier_download",
    )
