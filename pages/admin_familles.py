"""« Familles »: find a family, read its file (agents and administrators; each opening is in the
journal), edit it (administrator): guardians and billing (with their accounts' states), children and
their registrations, the quotient familial's history, contacts, consents, archive. Each child's PAI is
read on request (agents and administrators; each reading in the journal)."""

import streamlit as st

from lib.domain import fr
from lib.domain.families import SCHOOL_CLASSES, BillingMode, ChildInput, GuardianInput, parse_day
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.services import accounts, families, reservations
from lib.services.families import FamilyFile
from lib.ui import families as widgets
from lib.ui import health, session
from lib.ui.errors import refusals_shown

CHOSEN = "fam_chosen"
ACCOUNTS_FAMILY = "accounts_family"  # « Comptes des familles »' family choice (pages/admin_comptes.py)
READ = "fam_read"  # the family whose opening was last written in the journal

actor = session.require_actor(Role.AGENT, Role.ADMIN)
db = session.db()
admin = actor.role is Role.ADMIN
st.title("Familles", anchor=False)
widgets.flash()


def guardian_form(file: FamilyFile, rank: int) -> None:
    found = file.guardian(rank)
    key = f"fam_g{rank}"
    with st.form(f"{key}_{file.family.id}_{widgets.version(key)}", enter_to_submit=False):
        st.markdown(f"**{'Modifier' if found else 'Ajouter'} le responsable {rank}**")
        first = st.text_input(
            "Prénom", found.first_name if found else "", max_chars=80, key=widgets.field(key, "first")
        )
        last = st.text_input("Nom", found.last_name if found else "", max_chars=80, key=widgets.field(key, "last"))
        email = st.text_input(
            "Adresse e-mail", (found.email or "") if found else "", max_chars=254, key=widgets.field(key, "email")
        )
        phone = st.text_input(
            "Téléphone", (found.phone or "") if found else "", max_chars=20, key=widgets.field(key, "phone")
        )
        address = st.text_area(
            "Adresse", (found.address or "") if found else "", max_chars=200, key=widgets.field(key, "address")
        )
        ref = st.text_input(
            "Identifiant mairie (facultatif)",
            (found.town_ref or "") if found else "",
            max_chars=30,
            key=widgets.field(key, "ref"),
        )
        if st.form_submit_button("Enregistrer le responsable", type="primary"):
            typed = GuardianInput(first, last, email, phone, address, ref)
            with refusals_shown():
                families.save_guardian(db, actor, file.family.id, rank, typed, session.now())
                widgets.saved(key, f"Responsable {rank} enregistré.")


def account_states(file: FamilyFile) -> dict[int, str]:
    """The administrator reads the guardians' accounts; agents read the file, not the accounts."""
    return accounts.guardian_states(db, actor, file.family.id, session.now()) if admin else {}


def accounts_link(file: FamilyFile) -> None:
    """To « Comptes des familles », this family chosen there, to invite a guardian or resend. A button
    that switches page: st.page_link refuses to draw where a page runs alone, as in the page tests."""
    if st.button(
        "Inviter ou relancer dans « Comptes des familles »", key="fam_accounts", icon=":material/manage_accounts:"
    ):
        st.session_state[ACCOUNTS_FAMILY] = file.family.id
        st.switch_page("pages/admin_comptes.py")


def guardians_tab(file: FamilyFile) -> None:
    states = account_states(file)
    for rank in (1, 2):
        found = file.guardian(rank)
        st.subheader(f"Responsable {rank}", anchor=False)
        if found is None:
            st.caption("Pas de responsable enregistré.")
        else:
            lines = [
                f"**{md(found.full_name)}**",
                f"E-mail : {md(found.email or '—')}",
                f"Téléphone : {md(found.phone or '—')}",
                f"Adresse : {md(found.address or '—')}",
                f"Compte : {states[found.id] if admin else 'oui' if found.user_id else 'aucun'}",
            ]
            st.markdown("  \n".join(lines))
        if admin and file.family.archived_at is None:
            guardian_form(file, rank)
    if admin and file.family.archived_at is None:
        accounts_link(file)
    st.subheader("Dossier et facturation", anchor=False)
    st.markdown(
        f"Identifiant mairie : **{md(file.family.town_ref or 'aucun')}**  \nFactures adressées à : "
        f"**{file.family.billing.label}**"
        + ("  \nHors commune : **tarif non-résident**" if file.family.non_resident else "")
    )
    if admin and file.family.archived_at is None:
        key = "fam_billing"
        with st.form(f"{key}_{file.family.id}_{widgets.version(key)}", enter_to_submit=False):
            name = st.text_input("Nom du dossier", file.family.name, max_chars=80, key=widgets.field(key, "name"))
            ref = st.text_input(
                "Identifiant mairie", file.family.town_ref or "", max_chars=30, key=widgets.field(key, "ref")
            )
            modes = list(BillingMode)
            billing = st.selectbox(
                "Factures adressées à",
                modes,
                index=modes.index(file.family.billing),
                format_func=lambda m: m.label,
                key=widgets.field(key, "mode"),
            )
            outside = st.checkbox(
                "Hors commune (tarif non-résident)",
                file.family.non_resident,
                help="La famille habite hors de la commune : ses repas sont facturés au tarif non-résident.",
                key=widgets.field(key, "outside"),
            )
            if st.form_submit_button("Enregistrer le dossier", type="primary"):
                with refusals_shown():
                    families.update_family(
                        db, actor, file.family.id, name, ref, billing, session.now(), non_resident=outside
                    )
                    widgets.saved(key, "Dossier enregistré.")


def child_form(file: FamilyFile, child_id: int | None, diets: list[tuple[str, str]]) -> None:
    found = next((c for c in file.children if c.id == child_id), None)
    key = f"fam_child_{child_id or 'new'}"
    codes = [code for code, _ in diets]
    labels = dict(diets)
    with st.form(f"{key}_{widgets.version(key)}", enter_to_submit=False):
        first = st.text_input(
            "Prénom", found.first_name if found else "", max_chars=80, key=widgets.field(key, "first")
        )
        last = st.text_input("Nom", found.last_name if found else "", max_chars=80, key=widgets.field(key, "last"))
        born = st.text_input(
            "Date de naissance (JJ/MM/AAAA)",
            fr.numeric_date(found.birth_date) if found else "",
            max_chars=10,
            key=widgets.field(key, "born"),
        )
        level = st.selectbox(
            "Classe",
            SCHOOL_CLASSES,
            index=SCHOOL_CLASSES.index(found.school_class) if found and found.school_class in SCHOOL_CLASSES else 0,
            key=widgets.field(key, "class"),
        )
        diet = st.selectbox(
            "Régime alimentaire",
            codes,
            index=codes.index(found.diet_code) if found and found.diet_code in codes else 0,
            format_func=lambda c: labels[c],
            key=widgets.field(key, "diet"),
        )
        ref = st.text_input(
            "Identifiant mairie (facultatif)",
            (found.town_ref or "") if found else "",
            max_chars=30,
            key=widgets.field(key, "ref"),
        )
        if st.form_submit_button("Enregistrer l'enfant" if found else "Ajouter l'enfant", type="primary"):
            with refusals_shown():
                typed = ChildInput(first, last, parse_day(born, "Date de naissance"), level, diet, ref)
                if found:
                    families.update_child(db, actor, found.id, typed, session.now())
                else:
                    families.create_child(db, actor, file.family.id, typed, session.now())
                widgets.saved(key, f"{first.strip()} enregistré(e).")


def registration_form(child_id: int) -> None:
    _, current = reservations.school_years(db, session.today())
    if current is None:
        return
    form = reservations.registration_form(db, actor, child_id, current.id)
    st.markdown(
        f"Inscriptions {current.label} : "
        + (
            "; ".join(
                f"{md(s.name)} ({', '.join(md(n) for sid, n in s.services if sid in form.current.get(s.site_id, []))})"
                for s in form.sites
                if form.current.get(s.site_id)
            )
            or "aucune"
        )
    )
    key = f"fam_reg_{child_id}"
    with st.form(f"{key}_{widgets.version(key)}", enter_to_submit=False):
        site = st.selectbox("Structure", form.sites, format_func=lambda s: s.name, key=widgets.field(key, "site"))
        services = st.multiselect(
            "Prestations (aucune : retirer l'inscription à cette structure)",
            [sid for s in form.sites for sid, _ in s.services],
            format_func=lambda sid: next(n for s in form.sites for i, n in s.services if i == sid),
            key=widgets.field(key, "services"),
        )
        if st.form_submit_button("Enregistrer l'inscription"):
            with refusals_shown():
                message = reservations.save_registration(
                    db, actor, child_id, current.id, site.site_id, services, session.now()
                )
                widgets.saved(key, message)


def archive_form(key: str, what: str, action) -> None:
    with st.form(f"{key}_{widgets.version(key)}", enter_to_submit=False):
        st.markdown(
            f"**Archiver {md(what)}** : à partir de demain, les réservations et places en liste d'attente sont "
            "annulées ; la fiche de santé (PAI) est effacée ; les factures sont conservées."
        )
        reason = st.text_input("Motif", max_chars=500, key=widgets.field(key, "reason"))
        sure = st.checkbox("Je confirme l'archivage", key=widgets.field(key, "sure"))
        if st.form_submit_button("Archiver"):
            if not sure:
                st.error("Cochez « Je confirme l'archivage » pour archiver.", icon="⛔")
            else:
                widgets.run(lambda: action(reason), key)


def children_tab(file: FamilyFile) -> None:
    diets = families.diets(db, actor)
    labels = dict(diets)
    for child in file.children:
        archived = child.archived_at is not None
        title = f"{child.first_name} {child.last_name}" + (" (archivé)" if archived else "")
        with st.expander(md(title), expanded=len(file.children) == 1):
            st.markdown(
                f"Né(e) le {fr.numeric_date(child.birth_date)} — classe {md(child.school_class)} — régime "
                f"{md(labels.get(child.diet_code, child.diet_code))} — identifiant mairie {md(child.town_ref or '—')}"
            )
            if archived:
                if admin and file.family.archived_at is None and st.button("Désarchiver", key=f"fam_unarch_{child.id}"):
                    with refusals_shown():
                        widgets.saved("fam_children", families.unarchive_child(db, actor, child.id, session.now()))
                continue
            if file.family.archived_at is None:
                st.markdown("**Santé (PAI)**")
                health.staff_pai_on_request(db, actor, child.id, session.now())
            if admin:
                registration_form(child.id)
                child_form(file, child.id, diets)
                if file.family.billing is BillingMode.SPLIT:
                    shares_form(file, child.id)
                archive_form(
                    f"fam_arch_child_{child.id}",
                    child.first_name,
                    lambda reason, c=child: families.archive_child(db, actor, c.id, reason, session.now()),
                )
    if admin and file.family.archived_at is None:
        st.subheader("Ajouter un enfant", anchor=False)
        child_form(file, None, diets)


def shares_form(file: FamilyFile, child_id: int) -> None:
    split = {s.guardian_id: s.percent for s in file.shares if s.child_id == child_id}
    first, second = file.guardian(1), file.guardian(2)
    if first is None or second is None:
        return
    key = f"fam_shares_{child_id}"
    with st.form(f"{key}_{widgets.version(key)}", enter_to_submit=False):
        one = st.number_input(
            f"Part de {md(first.full_name)} (%)", 0, 100, split.get(first.id, 50), key=widgets.field(key, "1")
        )
        two = st.number_input(
            f"Part de {md(second.full_name)} (%)", 0, 100, split.get(second.id, 50), key=widgets.field(key, "2")
        )
        if st.form_submit_button("Enregistrer la répartition"):
            with refusals_shown():
                families.save_shares(db, actor, child_id, [int(one), int(two)], session.now())
                widgets.saved(key, "Répartition enregistrée.")


def quotient_tab(file: FamilyFile) -> None:
    widgets.quotient_history(file)
    if admin and file.family.archived_at is None:
        st.markdown("**Enregistrer un nouveau quotient familial**")
        typed = widgets.quotient_form("fam_qf", "Enregistrer le quotient")
        if typed is not None:
            with refusals_shown():
                families.record_quotient(db, actor, file.family.id, typed, session.now())
                widgets.saved("fam_qf", f"Quotient familial {typed.qf} enregistré.")


def new_family() -> None:
    key = "fam_new"
    with st.expander("Nouvelle famille"), st.form(f"{key}_{widgets.version(key)}", enter_to_submit=False):
        name = st.text_input("Nom du dossier (« Famille Martin »)", max_chars=80, key=widgets.field(key, "name"))
        ref = st.text_input("Identifiant mairie (facultatif)", max_chars=30, key=widgets.field(key, "ref"))
        first = st.text_input("Responsable 1 : prénom", max_chars=80, key=widgets.field(key, "first"))
        last = st.text_input("Responsable 1 : nom", max_chars=80, key=widgets.field(key, "last"))
        email = st.text_input("Responsable 1 : adresse e-mail", max_chars=254, key=widgets.field(key, "email"))
        phone = st.text_input("Responsable 1 : téléphone", max_chars=20, key=widgets.field(key, "phone"))
        address = st.text_area("Responsable 1 : adresse", max_chars=200, key=widgets.field(key, "address"))
        if st.form_submit_button("Créer la famille", type="primary"):
            with refusals_shown():
                created = families.create_family(
                    db, actor, name, ref, GuardianInput(first, last, email, phone, address), session.now()
                )
                st.session_state[CHOSEN] = created
                widgets.saved(key, f"{name.strip()} créée.")


if admin:
    new_family()
text = st.text_input(
    "Rechercher une famille", placeholder="Nom, prénom, e-mail ou identifiant mairie", max_chars=80, key="fam_search"
)
with_archived = st.checkbox("Inclure les dossiers archivés", key="fam_archived")
if text.strip():
    with refusals_shown():
        found = families.search(db, actor, text, with_archived)
        if not found:
            st.info("Aucune famille ne correspond à cette recherche.")
        else:
            ids = [f.id for f in found]
            names = {
                f.id: f"{f.name}{' (archivée)' if f.archived else ''} — {f.guardians or 'sans responsable'}"
                + (f" — enfants : {f.children}" if f.children else "")
                for f in found
            }
            picked = st.radio(
                "Familles trouvées",
                ids,
                index=ids.index(st.session_state[CHOSEN]) if st.session_state.get(CHOSEN) in ids else 0,
                format_func=lambda i: md(names[i]),
                key="fam_pick",
            )
            st.session_state[CHOSEN] = picked

chosen = st.session_state.get(CHOSEN)
if chosen is not None:
    with refusals_shown(stop=True):
        if st.session_state.get(READ) != chosen:
            families.record_read(db, actor, chosen, session.now())
            st.session_state[READ] = chosen
        file = families.family_file(db, actor, chosen)
    st.header(md(file.family.name), anchor=False)
    if file.family.archived_at is not None:
        st.warning(f"Dossier archivé le {widgets.since(file.family.archived_at)}.", icon="🗄️")
    if file.pending:
        st.info(f"{len(file.pending)} demande(s) de la famille à valider (page « À valider »).")
    tabs = st.tabs(["Responsables", "Enfants", "Quotient familial", "Contacts", "Autorisations"])
    with tabs[0]:
        guardians_tab(file)
    with tabs[1]:
        children_tab(file)
    with tabs[2]:
        quotient_tab(file)
    with tabs[3]:
        widgets.contacts_section(file, actor, admin and file.family.archived_at is None, "fam_contacts")
    with tabs[4]:
        widgets.consents_section(file, actor, admin and file.family.archived_at is None, "fam_consents")
    if admin:
        st.divider()
        if file.family.archived_at is None:
            archive_form(
                "fam_archive",
                file.family.name,
                lambda reason: families.archive_family(db, actor, file.family.id, reason, session.now()),
            )
        elif st.button("Désarchiver la famille", key="fam_unarchive"):
            widgets.run(lambda: families.unarchive_family(db, actor, file.family.id, session.now()), "fam_archive")
