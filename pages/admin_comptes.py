"""Administrator: the families' accounts — who has not activated theirs yet (invited when, link valid
until when), « Renvoyer l'invitation », « Inviter les responsables pas encore invités », and a new
account for a family (its holder receives the invitation and chooses the password)."""

from datetime import datetime

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.clock import from_utc_naive
from lib.domain.roles import Role
from lib.services import accounts
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

ANSWER = "accounts_answer"

actor = session.require_actor(Role.ADMIN)
now = session.now()
st.title("Comptes des familles", anchor=False)
st.caption(
    "Chaque responsable d'une famille a son propre compte. La mairie le crée, le responsable reçoit une "
    "invitation par courriel et choisit lui-même son mot de passe ; le lien de l'invitation sert une fois "
    "et fonctionne 7 jours."
)
answer = st.session_state.pop(ANSWER, None)
if answer:
    st.success(answer, icon="✅")


def _when(moment: datetime | None) -> str:
    return fr.numeric_date_time(from_utc_naive(moment)) if moment else "—"


def _link(expires: datetime | None) -> str:
    if expires is None:
        return "jamais invité"
    state = "valable jusqu'au" if from_utc_naive(expires) > now else "expiré le"
    return f"{state} {_when(expires)}"


st.header("Comptes non activés", anchor=False)
with refusals_shown(stop=True):
    waiting = accounts.not_activated(session.db(), actor)
if not waiting:
    st.info("Tous les comptes des familles sont activés.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "Responsable": [w.display_name for w in waiting],
                "Adresse e-mail": [w.email for w in waiting],
                "Famille": [w.family_name for w in waiting],
                "Invité le": [_when(w.invited_at) for w in waiting],
                "Lien": [_link(w.expires_at) for w in waiting],
            }
        ),
        hide_index=True,
        use_container_width=True,
    )
    names = {w.user_id: f"{w.display_name} – {w.email} ({w.family_name})" for w in waiting}
    chosen = st.selectbox("Compte", list(names), format_func=names.__getitem__, key="accounts_resend_who")
    if st.button("Renvoyer l'invitation", key="accounts_resend"):
        with refusals_shown():
            accounts.invite(session.db(), actor, chosen, now)
            st.session_state[ANSWER] = f"Invitation renvoyée à {names[chosen]} ; le lien envoyé avant ne marche plus."
            st.rerun()
    never = [w for w in waiting if w.invited_at is None]
    if never and st.button(f"Inviter les responsables pas encore invités ({len(never)})", key="accounts_invite_all"):
        with refusals_shown():
            sent = accounts.invite_all_pending(session.db(), actor, now)
            st.session_state[ANSWER] = f"{fr.decimal(sent, 0)} invitation(s) envoyée(s)."
            st.rerun()

st.header("Créer le compte d'un responsable", anchor=False)
with refusals_shown(stop=True):
    families = dict(accounts.families(session.db(), actor))
if not families:
    st.info("Aucune famille n'est encore enregistrée.")
else:
    with st.form("accounts_create", clear_on_submit=True, enter_to_submit=False):
        family = st.selectbox("Famille", list(families), format_func=families.__getitem__, key="accounts_family")
        name = st.text_input("Prénom et nom du responsable", max_chars=80, key="accounts_name")
        email = st.text_input("Adresse e-mail du responsable", max_chars=254, key="accounts_email")
        created = st.form_submit_button("Créer le compte et envoyer l'invitation", type="primary")
    if created:
        with refusals_shown():
            accounts.create_family_account(session.db(), actor, family, email, name, now)
            st.session_state[ANSWER] = f"Compte créé ; l'invitation part à {email.strip().lower()}."
            st.rerun()
layout.contact_footer()
