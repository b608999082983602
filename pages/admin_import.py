"""Administrator: bring the town's families in from a CSV file (checked whole first, every problem by
line), and export them in the same columns."""

import pandas as pd
import streamlit as st

from lib.domain.family_import import COLUMNS
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import imports
from lib.ui import session
from lib.ui.errors import refusals_shown

SHOWN_PROBLEMS = 200
actor = session.require_actor(Role.ADMIN)
db = session.db()
st.title("Import et export des familles", anchor=False)
st.caption(
    "Un fichier CSV (UTF-8 ou Windows-1252, séparateur « ; » ou « , »), une ligne par enfant : les colonnes de la "
    "famille et des responsables se répètent sur la ligne de chacun de ses enfants. Le fichier est vérifié en entier "
    "avant tout import ; rien n'est écrit s'il reste un problème. Réimporter le même fichier ne change rien."
)
st.download_button(
    "Télécharger le modèle (CSV)",
    lambda: imports.template(actor),
    "modele-import-familles.csv",
    "text/csv",
    key="import_template",
    icon=":material/download:",
)
with st.expander("Les colonnes du fichier"):
    st.dataframe(
        pd.DataFrame(
            [(c.name, "oui" if c.required else "non", c.example, c.description) for c in COLUMNS],
            columns=["Colonne", "Obligatoire", "Exemple", "Description"],
        ),
        hide_index=True,
    )

st.header("Importer", anchor=False)
uploaded = st.file_uploader("Fichier des familles (CSV)", type=["csv", "txt"], key="import_file")
if uploaded is None:
    st.session_state.pop("import_report", None)
else:
    data = uploaded.getvalue()
    report = st.session_state.get("import_report")
    if report is not None and report.sha256 != imports.digest(data):
        report = None  # another file was chosen: check it first
    if st.button("Vérifier le fichier", key="import_check", type="primary" if report is None else "secondary"):
        with refusals_shown():
            report = imports.dry_run(db, actor, data, session.now())
            st.session_state["import_report"] = report
    if report is not None:
        st.caption(f"{report.lines} ligne(s) lue(s). Inscriptions sur l'année {report.school_year or '—'}.")
        if report.valid:
            st.success(f"✅ Fichier correct. {report.counts.sentence()}")
            if st.button("Importer", key="import_apply", type="primary"):
                with refusals_shown():
                    done = imports.apply(db, actor, data, report.sha256, session.now())
                    st.session_state.pop("import_report", None)
                    st.session_state["import_done"] = done.counts.sentence()
                    st.rerun()
        else:
            st.error(
                f"⛔ {len(report.problems)} problème(s) : rien ne sera importé. Corrigez le fichier et vérifiez-le à "
                "nouveau.",
                icon=None,
            )
            st.dataframe(
                pd.DataFrame(
                    [(p.line, p.column, p.message) for p in report.problems[:SHOWN_PROBLEMS]],
                    columns=["Ligne", "Colonne", "Problème"],
                ),
                hide_index=True,
            )
            if len(report.problems) > SHOWN_PROBLEMS:
                st.caption(f"Les {SHOWN_PROBLEMS} premiers problèmes ; la liste complète :")
            st.download_button(
                "Télécharger la liste des problèmes",
                "\n".join(p.sentence() for p in report.problems).encode("utf-8"),
                "problemes-import.txt",
                "text/plain",
                key="import_problems",
            )
done_text = st.session_state.pop("import_done", None)
if done_text:
    st.success(f"✅ Import terminé. {md(done_text)} Invitez ensuite les responsables (« Comptes des familles »).")

st.header("Exporter", anchor=False)
st.caption("Toutes les familles et leurs enfants, dans les colonnes de l'import (l'export est noté au journal).")
st.download_button(
    "Exporter les familles (CSV)",
    lambda: imports.export(db, actor, session.now()),
    f"familles-{session.today().isoformat()}.csv",
    "text/csv",
    key="import_export",
    icon=":material/download:",
)
