"""Administrator: « Courriels envoyés ». The outbox — every message the portal queued, its state
in words, its tries and last error — with « Renvoyer », « Annuler » and a trial message; in the
demo, « Boîte de démonstration »: what each family would have received."""

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain.letters import MailState
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import mail
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

ALL = "Tous"
EVERY_FAMILY = 0

actor = session.require_actor(Role.ADMIN)
db, now = session.db(), session.now()
st.title("Courriels envoyés", anchor=False)
st.caption(
    "Chaque courriel est d'abord enregistré ici, avec le changement qu'il annonce, puis envoyé ; "
    "un serveur d'envoi en panne ne fait rien perdre : les courriels attendent et repartent. Heures de Paris."
)
done = st.session_state.pop("mail_done", None)
if done:
    st.success(done, icon="✅")
with refusals_shown(stop=True):
    overview = mail.outbox_view(db, actor, now)

tabs = ["File d'envoi", "Boîte de démonstration"] if overview.demo else ["File d'envoi"]
shown_tabs = st.tabs(tabs)

with shown_tabs[0]:
    if overview.banner:
        st.warning(overview.banner, icon="⚠️")
    states = [ALL, *(s.label for s in MailState)]
    state_label = st.selectbox("État", states, key="mail_state")
    families = dict([(EVERY_FAMILY, "Toutes les familles"), *overview.families])
    family = st.selectbox("Famille", list(families), format_func=families.__getitem__, key="mail_family")
    chosen_state = next((s for s in MailState if s.label == state_label), None)
    with refusals_shown(stop=True):
        view = mail.outbox_view(db, actor, now, chosen_state, family or None)
    if not view.entries:
        st.info("Aucun courriel ne correspond à ces filtres.")
    else:
        st.caption(
            f"Les {len(view.entries)} courriels les plus récents." if view.more else f"{len(view.entries)} courriel(s)."
        )
        st.dataframe(
            pd.DataFrame(
                {
                    "N°": [e.id for e in view.entries],
                    "Heure": [fr.numeric_date_time(e.at) for e in view.entries],
                    "Type": [e.kind for e in view.entries],
                    "Destinataire": [e.recipient for e in view.entries],
                    "Objet": [e.subject for e in view.entries],
                    "État": [e.state.label for e in view.entries],
                    "Essais": [e.attempts for e in view.entries],
                    "Dernière erreur": [e.last_error for e in view.entries],
                    "Envoyé le": [fr.numeric_date_time(e.sent_at) if e.sent_at else "" for e in view.entries],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        actionable = {e.id: e for e in view.entries if e.may_resend or e.may_cancel}
        if actionable:
            picked = st.selectbox(
                "Courriel à renvoyer ou à annuler",
                list(actionable),
                format_func=lambda i: (
                    f"n° {i} — {actionable[i].subject} — {actionable[i].recipient} ({actionable[i].state.label})"
                ),
                key="mail_pick",
            )
            entry = actionable[picked]
            left, right = st.columns(2)
            if left.button("Renvoyer", key="mail_resend", disabled=not entry.may_resend, icon=":material/send:"):
                with refusals_shown():
                    mail.resend(db, actor, entry.id, session.now())
                    st.session_state["mail_done"] = f"Le courriel n° {entry.id} repartira dans quelques secondes."
                    st.rerun()
            if right.button("Annuler", key="mail_cancel", disabled=not entry.may_cancel, icon=":material/block:"):
                with refusals_shown():
                    mail.cancel(db, actor, entry.id, session.now())
                    st.session_state["mail_done"] = f"Le courriel n° {entry.id} ne sera pas envoyé."
                    st.rerun()
        st.caption(
            "Un courriel contenant un lien à usage unique (invitation, mot de passe oublié) ne se renvoie pas : "
            "envoyez un nouveau lien à la place."
        )
    st.divider()
    st.markdown(f"Pour vérifier les réglages d'envoi, un courriel d'essai part vers votre adresse, {md(actor.email)}.")
    if st.button("Envoyer un courriel d'essai", key="mail_trial", icon=":material/outgoing_mail:"):
        with refusals_shown():
            number = mail.send_trial(db, actor, session.now())
            st.session_state["mail_done"] = f"Courriel d'essai n° {number} mis en file d'envoi : suivez-le ci-dessous."
            st.rerun()

if overview.demo:
    with shown_tabs[1]:
        st.caption(
            "En démonstration, aucun courriel ne quitte le serveur : voici ce que chaque famille aurait reçu "
            "(chaque courriel une fois)."
        )
        with refusals_shown(stop=True):
            box = mail.demo_mailbox(db, actor)
        if not box:
            st.info("Aucun courriel reçu pour l'instant.")
        for number, recipient in enumerate(box):
            who = f"{recipient.name} <{recipient.address}>" if recipient.name else recipient.address
            with st.expander(f"{who} — {len(recipient.letters)} courriel(s)"):
                for index, letter in enumerate(recipient.letters):
                    when = f" — {fr.numeric_date_time(letter.at)}" if letter.at else ""
                    st.markdown(f"**{md(letter.subject)}**{md(when)}")
                    st.text(letter.text)
                    for link, (label, url) in enumerate(letter.links):
                        st.link_button(label, url, key=f"demo_link_{number}_{index}_{link}")
                    st.divider()
layout.contact_footer()
