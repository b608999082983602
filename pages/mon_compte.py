"""« Mon compte », for every role: change one's password (the other devices are then logged out),
change one's e-mail (confirmed by a link sent to the new address), and log out of every device at once;
for a family account, choose the optional e-mails."""

import streamlit as st

from lib.domain.account_links import EMAIL_CHANGE_SENT
from lib.domain.family_letters import WHY_ESSENTIAL
from lib.domain.markup import md
from lib.domain.validation import PASSWORD_MIN_LENGTH
from lib.services import accounts, auth, mail
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

ANSWER = "account_answer"
MAIL_ANSWER = "account_mail_answer"
EMAIL_ANSWER = "account_email_answer"

actor = session.require_actor()
st.title("Mon compte", anchor=False)
st.markdown(f"Connecté(e) avec l'adresse **{md(actor.email)}** ({actor.role.label.lower()}).")

st.header("Changer de mot de passe", anchor=False)
st.caption(
    f"Au moins {PASSWORD_MIN_LENGTH} caractères. Une phrase de quelques mots sans rapport entre eux est "
    "sûre et facile à retenir ; les mots de passe courants ou déjà dérobés sur d'autres sites sont refusés. "
    "Une fois le mot de passe changé, vos autres appareils sont déconnectés."
)
answer = st.session_state.pop(ANSWER, None)
if answer:
    st.success(answer, icon="✅")
with st.form("account_password", clear_on_submit=True, enter_to_submit=False):
    current = st.text_input(
        "Mot de passe actuel", type="password", autocomplete="current-password", key="account_current"
    )
    new = st.text_input("Nouveau mot de passe", type="password", autocomplete="new-password", key="account_new")
    again = st.text_input(
        "Nouveau mot de passe, une seconde fois", type="password", autocomplete="new-password", key="account_again"
    )
    submitted = st.form_submit_button("Changer le mot de passe", type="primary", key="account_change")
if submitted:
    with refusals_shown():
        ended = auth.change_password(
            session.db(), actor, session.session_token(), current, new, again, session.now(), st.context.ip_address
        )
        others = f" {ended} autre(s) session(s) fermée(s)." if ended else ""
        st.session_state[ANSWER] = f"Votre mot de passe a été changé.{others}"
        st.rerun()

st.header("Changer d'adresse e-mail", anchor=False)
st.caption(
    "Un lien de confirmation, valable 24 heures, est envoyé à la nouvelle adresse et votre adresse actuelle est "
    "prévenue. L'adresse de connexion ne change qu'une fois ce lien ouvert et confirmé."
)
sent = st.session_state.pop(EMAIL_ANSWER, None)
if sent:
    st.success(sent, icon="✅")
with st.form("account_email", clear_on_submit=True, enter_to_submit=False):
    new_email = st.text_input("Nouvelle adresse e-mail", autocomplete="email", max_chars=254, key="account_email_new")
    password = st.text_input(
        "Mot de passe actuel", type="password", autocomplete="current-password", key="account_email_password"
    )
    asked = st.form_submit_button("Recevoir le lien de confirmation", key="account_email_send")
if asked:
    with refusals_shown():
        accounts.request_email_change(session.db(), actor, password, new_email, session.now(), st.context.ip_address)
        st.session_state[EMAIL_ANSWER] = EMAIL_CHANGE_SENT
        st.rerun()

st.header("Appareils connectés", anchor=False)
st.markdown(
    "Un appareil perdu, un ordinateur partagé où vous êtes resté(e) connecté(e) : fermez toutes vos "
    "sessions, sur cet appareil comme sur les autres. Il faudra ensuite vous reconnecter."
)
url = session.logout_url(everywhere=True)
if url:
    st.markdown(f'<a href="{url}" target="_self">Se déconnecter de tous les appareils</a>', unsafe_allow_html=True)
if actor.is_family:
    st.header("Courriels", anchor=False)
    st.markdown(
        "Le portail vous écrit à l'adresse de votre compte. Vous pouvez ne plus recevoir les accusés de "
        "réception de ce que vous faites vous-même ; une modification faite par le service enfance vous est "
        "toujours signalée."
    )
    mail_answer = st.session_state.pop(MAIL_ANSWER, None)
    if mail_answer:
        st.success(mail_answer, icon="✅")
    with st.form("account_mail", enter_to_submit=False):
        choices = {
            kind: st.toggle(kind.label, value=wanted, key=f"account_mail_{kind.value}")
            for kind, wanted in mail.preferences(session.db(), actor).items()
        }
        saved = st.form_submit_button("Enregistrer mes choix", key="account_mail_save")
    if saved:
        with refusals_shown():
            st.session_state[MAIL_ANSWER] = mail.set_preferences(session.db(), actor, choices, session.now())
            st.rerun()
    st.markdown(
        "**Toujours envoyés :**\n\n" + "\n".join(f"- {kind.label} : {why}." for kind, why in WHY_ESSENTIAL.items())
    )

layout.contact_footer()
