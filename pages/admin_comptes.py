"""Administrator: the families' accounts — who has not activated theirs yet (invited when, link valid
until when) and « Renvoyer l'invitation », « Inviter les responsables pas encore invités », a family's
guardians with their accounts' states (invite one), and another account for a family (its holder
receives the invitation and chooses the password)."""

from datetime import datetime

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.clock import from_utc_naive
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import accounts, cash_desk
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
        width="stretch",
    )
    names = {w.user_id: f"{w.display_name} – {w.email} ({w.family_name})" for w in waiting}
    chosen = st.selectbox("Compte", list(names), format_func=names.__getitem__, key="accounts_resend_who")
    if st.button("Renvoyer l'invitation", key="accounts_resend"):
        with refusals_shown():
            accounts.invite(session.db(), actor, chosen, now)
            st.session_state[ANSWER] = (
                f"Invitation renvoyée à {md(names[chosen])} ; le lien envoyé avant ne marche plus."
            )
            st.rerun()

st.header("Inviter les responsables", anchor=False)
st.caption(
    "Crée le compte de chaque responsable qui a une adresse e-mail dans son dossier et n'a pas encore de compte, "
    "et envoie l'invitation à chacun, comme aux comptes jamais invités."
)
if st.button("Inviter les responsables pas encore invités", key="accounts_invite_all"):
    with refusals_shown():
        done = accounts.invite_all_pending(session.db(), actor, now)
        skipped = "".join(f"\n- {md(line)}" for line in done.skipped)
        st.session_state[ANSWER] = f"{done.sent} invitation(s) envoyée(s)." + (
            f" Non invités :{skipped}" if skipped else ""
        )
        st.rerun()

st.header("Régisseurs de la régie", anchor=False)
st.caption(
    "Le régisseur encaisse à la mairie les paiements des factures (chèque, espèces, CESU, virement) et remet le "
    "journal de caisse au comptable public. Seul un agent ou un administrateur peut recevoir ce droit."
)
with refusals_shown(stop=True):
    staff = cash_desk.staff_accounts(session.db(), actor)
st.dataframe(
    pd.DataFrame(
        {
            "Nom": [s.name for s in staff],
            "Régisseur": ["oui" if s.regisseur else "non" for s in staff],
            "Profil": [s.role.label for s in staff],
            "Adresse e-mail": [s.email for s in staff],
        }
    ),
    hide_index=True,
    width="stretch",
)
holders = {s.user_id: s for s in staff if s.active}
if holders:
    who = st.selectbox(
        "Compte du personnel",
        list(holders),
        format_func=lambda i: (
            f"{holders[i].name} – {holders[i].email} ({'régisseur' if holders[i].regisseur else 'non régisseur'})"
        ),
        key="accounts_regisseur_who",
    )
    holds = holders[who].regisseur
    if st.button(
        "Retirer le droit de régisseur" if holds else "Donner le droit de régisseur", key="accounts_regisseur_toggle"
    ):
        with refusals_shown():
            cash_desk.set_regisseur(session.db(), actor, who, not holds, now)
            verb = "retiré à" if holds else "donné à"
            st.session_state[ANSWER] = f"Droit de régisseur {verb} {md(holders[who].name)}."
            st.rerun()

st.header("Les responsables d'une famille", anchor=False)
with refusals_shown(stop=True):
    families = dict(accounts.families(session.db(), actor))
if not families:
    st.info("Aucune famille n'est encore enregistrée.")
    layout.contact_footer()
    st.stop()
family = st.selectbox("Famille", list(families), format_func=families.__getitem__, key="accounts_family")
with refusals_shown(stop=True):
    guardians = accounts.family_guardians(session.db(), actor, family)
if not guardians:
    st.info("Aucun responsable dans le dossier de cette famille : ajoutez-le depuis « Familles ».")
for guardian in guardians:
    with st.container(border=True):
        st.markdown(f"**{md(guardian.full_name or 'Responsable ' + str(guardian.rank))}** – {md(guardian.email or '')}")
        if guardian.activated_at is not None:
            st.caption(f"Compte activé le {_when(guardian.activated_at)}.")
        elif not guardian.email:
            st.caption("Pas d'adresse e-mail : ajoutez-la au dossier de la famille pour pouvoir l'inviter.")
        else:
            st.caption(
                "Pas encore de compte."
                if guardian.user_id is None
                else f"Invité le {_when(guardian.invited_at)}, lien {_link(guardian.expires_at)}."
            )
            label = "Envoyer l'invitation" if guardian.invited_at is None else "Renvoyer l'invitation"
            if st.button(label, key=f"accounts_guardian_{guardian.id}"):
                with refusals_shown():
                    accounts.invite_guardian(session.db(), actor, guardian.id, now)
                    st.session_state[ANSWER] = f"Invitation envoyée à {md(guardian.email)}."
                    st.rerun()

with st.expander("Un autre compte pour cette famille (hors responsables)"):
    st.caption(
        "Pour une personne qui n'est pas l'un des deux responsables du dossier : elle reçoit l'invitation et "
        "voit la famille comme ses responsables."
    )
    with st.form("accounts_create", clear_on_submit=True, enter_to_submit=False):
        name = st.text_input("Prénom et nom", max_chars=80, key="accounts_name")
        email = st.text_input("Adresse e-mail", max_chars=254, key="accounts_email")
        created = st.form_submit_button("Créer le compte et envoyer l'invitation", key="accounts_create_send")
    if created:
        with refusals_shown():
            accounts.create_family_account(session.db(), actor, family, email, name, now)
            st.session_state[ANSWER] = f"Compte créé ; l'invitation part à {md(email.strip().lower())}."
            st.rerun()
layout.contact_footer()
