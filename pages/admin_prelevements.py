"""Administrator: SEPA direct debit (« Prélèvements »). The families' mandates (recorded from the
paper signed by the payer, revoked, history kept), the month's run (its pain.008 file for the bank,
the families' pre-notifications), the bank's rejects (typed, or its pain.002 file), and the town's
creditor settings (ICS, account, collection day, pre-notification delay)."""

from functools import partial

import pandas as pd
import streamlit as st

from lib.domain import fr
from lib.domain import sepa as rules
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import invoicing, sepa
from lib.ui import session
from lib.ui.errors import refusals_shown

actor = session.require_actor(Role.ADMIN)
db, now = session.db(), session.now()
st.title("Prélèvements", anchor=False)
st.caption(
    "Prélèvement SEPA des factures : chaque mois, un fichier pour la banque (pain.008) avec les factures restant à "
    "payer des familles ayant un mandat en cours ; chaque famille reçoit un avis avant la date du prélèvement."
)
town = sepa.settings(db, actor)
if not town.complete:
    st.warning("Renseignez d'abord les réglages du créancier (onglet « Réglages »).", icon="⚠️")


def run_bytes(run_id: int) -> bytes:
    """A run's file, read when its button is clicked."""
    return sepa.run_file(db, actor, run_id)[1]


mandates_tab, run_tab, rejects_tab, settings_tab = st.tabs(["Mandats", "Prélèvement du mois", "Rejets", "Réglages"])

with mandates_tab:
    st.header("Enregistrer un mandat signé", anchor=False)
    names = dict(sepa.families(db, actor))
    family_id = st.selectbox(
        "Famille",
        list(names),
        format_func=lambda i: f"{names[i]} (dossier n° {i})",  # two families may share a name
        index=None,
        key="sepa_family",
        placeholder="Choisir",
    )
    if family_id is None:
        st.caption("Choisissez d'abord la famille dont un responsable a signé le mandat.")
    else:
        guardians = dict(sepa.payer_guardians(db, actor, family_id))
        with st.form("sepa_mandate_form", enter_to_submit=False):
            guardian_id = st.selectbox(
                "Responsable signataire (celui à qui les factures sont adressées)",
                list(guardians),
                format_func=lambda i: guardians[i],
                key=f"sepa_guardian_{family_id}",  # a new family: its own choices
            )
            signed_on = st.date_input("Date de signature", value=now.date(), format="DD/MM/YYYY", key="sepa_signed_on")
            debtor = st.text_input("Nom du titulaire du compte", max_chars=rules.DEBTOR_NAME_MAX, key="sepa_debtor")
            iban = st.text_input("IBAN", max_chars=42, key="sepa_iban", placeholder="FR76 …")
            bic = st.text_input("BIC (facultatif : trouvé d'après l'IBAN)", max_chars=11, key="sepa_bic")
            own_notice = st.number_input(
                "Délai de pré-notification propre au mandat, en jours (0 : celui de la mairie)",
                min_value=0,
                max_value=rules.MAX_NOTICE_DAYS,
                value=0,
                key="sepa_notice",
            )
            if st.form_submit_button("Enregistrer le mandat", type="primary"):
                with refusals_shown():
                    made = sepa.record_mandate(
                        db,
                        actor,
                        family_id=family_id,
                        guardian_id=guardian_id,
                        signed_on=signed_on,
                        debtor_name=debtor,
                        iban=iban,
                        bic=bic,
                        notice_days=int(own_notice) or None,
                        now=session.now(),
                    )
                    st.success(f"Mandat {made.rum} enregistré pour {md(made.family)}.", icon="✅")
    st.header("Mandats", anchor=False)
    every = sepa.mandates(db, actor)
    if not every:
        st.caption("Aucun mandat enregistré.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "RUM": [m.rum for m in every],
                    "Famille": [m.family for m in every],
                    "Signataire": [m.guardian for m in every],
                    "Signé le": [fr.numeric_date(m.signed_on) for m in every],
                    "IBAN": [m.iban for m in every],
                    "BIC": [m.bic for m in every],
                    "État": [m.state for m in every],
                }
            ),
            hide_index=True,
            width="stretch",
            key="sepa_mandates",
        )
        open_ones = {m.id: m for m in every if m.revocable}
        if open_ones:
            with st.form("sepa_revoke_form", enter_to_submit=False):
                chosen = st.selectbox(
                    "Mandat à révoquer",
                    list(open_ones),
                    format_func=lambda i: f"{open_ones[i].rum} — {open_ones[i].family}",
                    key="sepa_revoke_id",
                )
                ends_on = st.date_input("Plus de prélèvement à partir du", value=now.date(), format="DD/MM/YYYY")
                if st.form_submit_button("Révoquer le mandat"):
                    with refusals_shown():
                        ended = sepa.revoke_mandate(db, actor, chosen, ends_on, session.now())
                        st.success(f"Mandat {ended.rum} révoqué à partir du {fr.numeric_date(ends_on)}.", icon="✅")

with run_tab:
    month = st.selectbox(
        "Mois facturé à prélever",
        invoicing.billable_months(now.date()),
        format_func=lambda m: fr.month_year(m).capitalize(),
        key="sepa_month",
    )
    if town.complete:
        with refusals_shown():
            preview = sepa.preview_run(db, actor, month, now)
            for out in preview.left_out:
                st.warning(f"{out.invoice_number} n'est pas prélevée : {out.reason}.", icon="⏳")
            if not preview.lines:
                st.info(
                    f"Aucune facture à prélever pour {fr.month_year(month)} : aucune facture restant à payer d'une "
                    "famille ayant un mandat, ou toutes sont déjà dans un prélèvement."
                )
            else:
                st.markdown(
                    f"**{len(preview.lines)}** facture(s), **{fr.euros(preview.total_cents)}**, prélevées le "
                    f"**{fr.long_date(preview.collection_date)}** (avis envoyé aux familles aujourd'hui)."
                )
                st.dataframe(
                    pd.DataFrame(
                        {
                            "Facture": [line.invoice_number for line in preview.lines],
                            "Montant": [fr.euros(line.amount_cents) for line in preview.lines],
                            "RUM": [line.rum for line in preview.lines],
                            "Séquence": [line.sequence.value for line in preview.lines],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                    key="sepa_preview",
                )
                sure = st.checkbox(
                    "J'ai vérifié la liste : générer le fichier et prévenir les familles", key="sepa_sure"
                )
                if st.button(
                    "Générer le fichier de prélèvement", key="sepa_generate", type="primary", disabled=not sure
                ):
                    with refusals_shown():
                        run = sepa.generate_run(db, actor, month, session.now())
                        st.success(
                            f"Fichier {run.message_id} généré : {run.debits} prélèvement(s), "
                            f"{fr.euros(run.total_cents)}, le {fr.long_date(run.collection_date)}. "
                            "Téléchargez-le ci-dessous pour la banque.",
                            icon="✅",
                        )
    st.header("Fichiers générés", anchor=False)
    made_runs = sepa.runs(db, actor)
    if not made_runs:
        st.caption("Aucun fichier généré.")
    for run in made_runs:
        with st.container(border=True, key=f"sepa_run_{run.id}"):
            st.markdown(
                f"**{fr.month_year(run.month).capitalize()}** — prélevé le {fr.numeric_date(run.collection_date)} — "
                f"{run.debits} prélèvement(s), {fr.euros(run.total_cents)}"
                + (f" — **{run.rejects} rejet(s)**" if run.rejects else "")
                + f"  \n{run.message_id} · SHA-256 {run.sha256[:16]}…"
            )
            st.download_button(
                "Télécharger le fichier (XML pain.008)",
                partial(run_bytes, run.id),
                f"{run.message_id}.xml",
                "application/xml",
                key=f"sepa_download_{run.id}",
                icon=":material/download:",
                on_click="ignore",
            )

with rejects_tab:
    every_debit = sepa.debits(db, actor)
    open_debits = {d.id: d for d in every_debit if d.rejectable}
    st.header("Saisir un rejet", anchor=False)
    if not open_debits:
        st.caption("Aucun prélèvement en cours.")
    else:
        with st.form("sepa_reject_form", enter_to_submit=False):
            debit_id = st.selectbox(
                "Prélèvement rejeté",
                list(open_debits),
                format_func=lambda i: (
                    f"{open_debits[i].invoice_number} — {open_debits[i].family} — "
                    f"{fr.euros(open_debits[i].amount_cents)} le {fr.numeric_date(open_debits[i].collection_date)}"
                ),
                key="sepa_reject_debit",
            )
            code = st.selectbox(
                "Motif donné par la banque",
                list(rules.REJECT_REASONS),
                format_func=lambda c: f"{c} – {rules.REJECT_REASONS[c]}",
                key="sepa_reject_code",
            )
            if st.form_submit_button("Enregistrer le rejet", type="primary"):
                with refusals_shown():
                    st.success(
                        f"Rejet enregistré, facture à payer de nouveau : "
                        f"{md(sepa.record_reject(db, actor, debit_id, code, session.now()))}.",
                        icon="✅",
                    )
    st.header("Importer le compte rendu de la banque", anchor=False)
    upload = st.file_uploader("Fichier de rejets (XML pain.002)", type=["xml"], key="sepa_return_file")
    if upload is not None and st.button("Importer les rejets", key="sepa_import"):
        with refusals_shown():
            report = sepa.import_rejects(db, actor, upload.getvalue(), session.now())
            if report.recorded:
                st.success("Rejets enregistrés :\n" + "\n".join(f"- {md(line)}" for line in report.recorded), icon="✅")
            if report.refused:
                st.warning(
                    "Lignes non enregistrées :\n" + "\n".join(f"- {md(line)}" for line in report.refused), icon="⚠️"
                )
    st.header("Prélèvements", anchor=False)
    if every_debit:
        st.dataframe(
            pd.DataFrame(
                {
                    "Facture": [d.invoice_number for d in every_debit],
                    "Famille": [d.family for d in every_debit],
                    "Montant": [fr.euros(d.amount_cents) for d in every_debit],
                    "Date": [fr.numeric_date(d.collection_date) for d in every_debit],
                    "Séquence": [d.sequence for d in every_debit],
                    "État": [d.state for d in every_debit],
                }
            ),
            hide_index=True,
            width="stretch",
            key="sepa_debits",
        )

with settings_tab:
    with st.form("sepa_settings_form", enter_to_submit=False):
        name = st.text_input("Nom du créancier (mairie ou régie)", town.name, max_chars=70, key="sepa_cr_name")
        creditor_id = st.text_input(
            "Identifiant créancier SEPA (ICS)",
            town.creditor_id,
            max_chars=35,
            key="sepa_cr_ics",
            placeholder="FR72ZZZ123456",
        )
        town_iban = st.text_input("IBAN du compte crédité", town.iban, max_chars=42, key="sepa_cr_iban")
        town_bic = st.text_input("BIC", town.bic, max_chars=11, key="sepa_cr_bic")
        day = st.number_input(
            "Jour du mois des prélèvements", 1, rules.LAST_COLLECTION_DAY, town.collection_day, key="sepa_cr_day"
        )
        notice = st.number_input(
            "Délai de pré-notification (jours)",
            rules.MIN_NOTICE_DAYS,
            rules.MAX_NOTICE_DAYS,
            town.notice_days,
            key="sepa_cr_notice",
        )
        if st.form_submit_button("Enregistrer les réglages", type="primary"):
            with refusals_shown():
                sepa.save_settings(
                    db,
                    actor,
                    name=name,
                    creditor_id=creditor_id,
                    iban=town_iban,
                    bic=town_bic,
                    collection_day=int(day),
                    notice_days=int(notice),
                    now=session.now(),
                )
                st.success("Réglages du prélèvement enregistrés.", icon="✅")
