"""Administrator: set the town up from an empty database — the town, its school years, its sites
(structures), its services (prestations) and its diets (régimes). After each save the page reloads
what is stored."""

import streamlit as st

from lib.domain import fr
from lib.domain.deadlines import MAX_DELAY_DAYS, deadline_rule
from lib.domain.invoice_text import FIELDS, CollectionMode
from lib.domain.markup import md
from lib.domain.roles import Role
from lib.domain.structures import (
    ADDRESS_MAX_LENGTH,
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    SCHOOL_WEEKDAYS,
    SHORT_NAME_MAX_LENGTH,
    WEEKDAY_NAMES,
    SiteKind,
    weekdays_text,
)
from lib.domain.validation import parse_euros
from lib.services import collection, settings, town_setup
from lib.ui import layout, session
from lib.ui.errors import refusals_shown

FLASH = "structures_flash"

actor = session.require_actor(Role.ADMIN)
db = session.db()


def saved(section: str, message: str, *, clear: str = "") -> None:
    """Show `message` in `section` after a rerun that reads everything again from the database;
    the widgets whose key starts with `clear` (a creation form) start empty again."""
    for key in [k for k in st.session_state if clear and str(k).startswith(clear)]:
        del st.session_state[key]
    st.session_state[FLASH] = (section, message)
    st.rerun()


def flash(section: str) -> None:
    found = st.session_state.get(FLASH)
    if found and found[0] == section:
        st.success(md(st.session_state.pop(FLASH)[1]), icon="✅")


st.title("Structures et année scolaire", anchor=False)
st.caption(
    "Pour démarrer : la ville, l'année scolaire, les structures, les prestations et les régimes. "
    "Les délais, prix et capacités de chaque prestation se règlent ensuite dans « Prestations et délais »."
)

# --- the town -------------------------------------------------------------------------------------
st.header("Ville", anchor=False)
flash("town")
town = town_setup.town_settings(db, actor)
with st.form("town_form", border=True):
    typed = {
        "town_name": st.text_input(
            town_setup.TOWN_SETTINGS["town_name"], town["town_name"], max_chars=120, key="town_name"
        ),
        "contact_email": st.text_input(
            town_setup.TOWN_SETTINGS["contact_email"],
            town["contact_email"],
            max_chars=254,
            key="town_contact",
            help="Les familles écrivent à cette adresse ; elle figure au pied de chaque page.",
        ),
        "holiday_zone": st.selectbox(
            town_setup.TOWN_SETTINGS["holiday_zone"],
            town_setup.ZONES,
            index=town_setup.ZONES.index(town["holiday_zone"]) if town["holiday_zone"] in town_setup.ZONES else 2,
            key="town_zone",
            help="Elle donne les dates des vacances et de l'année scolaire.",
        ),
        "public_url": st.text_input(
            town_setup.TOWN_SETTINGS["public_url"],
            town["public_url"],
            max_chars=200,
            key="town_url",
            help=(
                "L'adresse https par laquelle les familles ouvrent le portail, par exemple "
                "https://famille.ma-ville.fr. Le portail n'accepte que cette adresse : une adresse erronée coupe "
                "l'accès depuis le navigateur (corrigez-la alors avec python -m lib.services.setup set public_url)."
            ),
        ),
    }
    if st.form_submit_button("Enregistrer la ville", type="primary"):
        with refusals_shown():
            saved("town", town_setup.save_town(db, actor, typed, session.now()))
st.caption(
    md(
        f"Enregistré : {town['town_name']} — contact {town['contact_email'] or 'non renseigné'} — zone "
        f"{town['holiday_zone']} — adresse publique {town['public_url'] or 'non renseignée'}."
    )
)

# --- what the invoices say of the town --------------------------------------------------------------
st.header("Mentions des factures", anchor=False)
st.caption(
    "Elles figurent sur chaque facture (PDF et « Mes factures ») pour que le comptable public puisse la recouvrer : "
    "SIRET de la commune, ordonnateur, mode de recouvrement et moyens de paiement."
)
flash("legal")
legal = collection.legal_settings(db, actor)
modes = list(CollectionMode)
with st.form("legal_form", border=True):
    fields = {
        "town_address": st.text_input(
            FIELDS["town_address"], legal["town_address"], max_chars=200, key="legal_address"
        ),
        "town_siret": st.text_input(
            FIELDS["town_siret"],
            legal["town_siret"],
            max_chars=20,
            key="legal_siret",
            help="14 chiffres (SIREN de la commune et numéro de l'établissement), sur l'avis de situation INSEE.",
        ),
        "official_name": st.text_input(
            FIELDS["official_name"], legal["official_name"], max_chars=200, key="legal_official"
        ),
        "official_title": st.text_input(
            FIELDS["official_title"],
            legal["official_title"],
            max_chars=200,
            key="legal_title",
            help="Par exemple « Maire » ou « Adjointe déléguée aux finances ».",
        ),
        "collection_mode": st.radio(
            FIELDS["collection_mode"],
            [m.value for m in modes],
            index=[m.value for m in modes].index(legal["collection_mode"]),
            format_func=lambda v: CollectionMode(v).label,
            key="legal_mode",
        ),
        "regie_name": st.text_input(
            FIELDS["regie_name"] + " — obligatoire en régie", legal["regie_name"], max_chars=200, key="legal_regie"
        ),
        "regie_address": st.text_input(
            FIELDS["regie_address"] + " — obligatoire en régie",
            legal["regie_address"],
            max_chars=200,
            key="legal_regie_address",
        ),
        "regie_hours": st.text_input(
            FIELDS["regie_hours"] + " — obligatoire en régie",
            legal["regie_hours"],
            max_chars=200,
            key="legal_regie_hours",
        ),
        "accountant_name": st.text_input(
            FIELDS["accountant_name"] + " — obligatoire en avis des sommes à payer",
            legal["accountant_name"],
            max_chars=200,
            key="legal_accountant",
        ),
        "accountant_address": st.text_input(
            FIELDS["accountant_address"] + " — obligatoire en avis des sommes à payer",
            legal["accountant_address"],
            max_chars=200,
            key="legal_accountant_address",
        ),
    }
    if st.form_submit_button("Enregistrer les mentions des factures", type="primary"):
        with refusals_shown():
            saved("legal", collection.save_legal(db, actor, fields, session.now()))

# --- school years ---------------------------------------------------------------------------------
st.header("Années scolaires", anchor=False)
flash("years")
years = town_setup.school_years(db, actor)
for year in years:
    st.markdown(f"- **{year.label}** : du {fr.long_date(year.start_date)} au {fr.long_date(year.end_date)}")
if not years:
    st.info("Aucune année scolaire n'est ouverte : ouvrez l'année en cours pour que les familles s'inscrivent.")
openable = town_setup.openable_years(db, actor, session.now().date())
if openable:
    with st.form("year_form", border=True):
        chosen = st.selectbox(
            "Année à ouvrir (dates du calendrier officiel de la zone)",
            openable,
            format_func=lambda y: f"{y.label} : du {fr.long_date(y.start)} au {fr.long_date(y.end)}",
            key="year_choice",
        )
        if st.form_submit_button("Ouvrir cette année scolaire", type="primary"):
            with refusals_shown():
                saved("years", town_setup.open_school_year(db, actor, chosen.start_year, session.now()))
else:
    st.caption("L'année en cours et la suivante sont ouvertes.")

# --- sites ----------------------------------------------------------------------------------------
st.header("Structures", anchor=False)
flash("sites")
sites = town_setup.sites(db, actor)
if not sites:
    st.info("Aucune structure : créez l'école ou le centre où les enfants sont accueillis.")
kinds = list(SiteKind)
for site in sites:
    with st.expander(f"{site.name} — {site.kind.label}, {site.capacity} place(s)"):
        with st.form(f"site_{site.id}", border=False):
            name = st.text_input("Nom", site.name, max_chars=NAME_MAX_LENGTH, key=f"site_name_{site.id}")
            kind = st.selectbox(
                "Type", kinds, kinds.index(site.kind), format_func=lambda k: k.label, key=f"site_kind_{site.id}"
            )
            address = st.text_input(
                "Adresse", site.address, max_chars=ADDRESS_MAX_LENGTH, key=f"site_address_{site.id}"
            )
            capacity = st.number_input(
                "Capacité (enfants par jour)", 0, settings.MAX_CAPACITY, site.capacity, key=f"site_capacity_{site.id}"
            )
            if st.form_submit_button("Enregistrer la structure", type="primary"):
                with refusals_shown():
                    message = town_setup.update_site(
                        db, actor, site.id, name=name, kind=kind, address=address, capacity=capacity, now=session.now()
                    )
                    saved("sites", message)
            if site.registrations:
                st.caption(f"{site.registrations} inscription(s) : cette structure ne peut pas être supprimée.")
            else:
                confirm = st.checkbox("Je confirme la suppression", key=f"site_confirm_{site.id}")
                if st.form_submit_button("Supprimer la structure"):
                    if not confirm:
                        st.warning("Cochez « Je confirme la suppression » pour supprimer cette structure.")
                    else:
                        with refusals_shown():
                            saved("sites", town_setup.delete_site(db, actor, site.id, session.now()))
with st.form("site_new", border=True):
    st.subheader("Nouvelle structure", anchor=False)
    name = st.text_input("Nom", max_chars=NAME_MAX_LENGTH, key="new_site_name")
    kind = st.selectbox("Type", kinds, format_func=lambda k: k.label, key="new_site_kind")
    address = st.text_input("Adresse", max_chars=ADDRESS_MAX_LENGTH, key="new_site_address")
    capacity = st.number_input("Capacité (enfants par jour)", 0, settings.MAX_CAPACITY, 0, key="new_site_capacity")
    if st.form_submit_button("Créer la structure", type="primary"):
        with refusals_shown():
            town_setup.create_site(
                db, actor, name=name, kind=kind, address=address, capacity=capacity, now=session.now()
            )
            saved("sites", f"Structure « {name.strip()} » créée.", clear="new_site_")

# --- services -------------------------------------------------------------------------------------
st.header("Prestations", anchor=False)
flash("services")
services = town_setup.service_list(db, actor)
for service in services:
    given = md(", ".join(service.sites)) or "aucune structure"
    st.markdown(
        f"- **{md(service.name)}** ({md(service.code)}, « {md(service.short_name)} ») : "
        f"{weekdays_text(service.weekdays)} ; {fr.euros(service.unit_price_cents)}"
        f"{' ; repas' if service.is_meal else ''} ; proposée par {given}"
    )
if not services:
    st.info("Aucune prestation : créez la restauration scolaire, l'accueil du mercredi…")
if not sites:
    st.caption("Créez d'abord une structure : une prestation est proposée par au moins une structure.")
else:
    rules = town_setup.default_deadlines(db, actor)
    with st.form("service_new", border=True):
        st.subheader("Nouvelle prestation", anchor=False)
        code = st.text_input(
            "Code",
            max_chars=CODE_MAX_LENGTH,
            help="Lettres minuscules, chiffres et tirets : cantine-midi",
            key="new_svc_code",
        )
        name = st.text_input("Nom", max_chars=NAME_MAX_LENGTH, help="Restauration scolaire", key="new_svc_name")
        short = st.text_input(
            "Nom court (case du calendrier)",
            max_chars=SHORT_NAME_MAX_LENGTH,
            help=f"{SHORT_NAME_MAX_LENGTH} caractères au plus : Cantine",
            key="new_svc_short",
        )
        st.markdown("Jours de la semaine")
        days = [d for d in SCHOOL_WEEKDAYS if st.checkbox(WEEKDAY_NAMES[d].capitalize(), key=f"new_svc_day_{d}")]
        price = st.text_input(
            "Prix unitaire (€)", max_chars=12, help="En euros, avec une virgule : 3,50", key="new_svc_price"
        )
        meal = st.checkbox("C'est un repas (compté par la cuisine)", key="new_svc_meal")
        book = st.number_input("Réservation : jours avant", 0, MAX_DELAY_DAYS, rules.book.days, key="new_svc_book")
        book_working = st.checkbox("Jours ouvrés (réservation)", rules.book.working, key="new_svc_book_working")
        book_cutoff = st.time_input(
            "Réservation : heure limite le dernier jour", rules.book.cutoff, step=900, key="new_svc_book_cutoff"
        )
        cancel = st.number_input("Annulation : jours avant", 0, MAX_DELAY_DAYS, rules.cancel.days, key="new_svc_cancel")
        cancel_working = st.checkbox("Jours ouvrés (annulation)", rules.cancel.working, key="new_svc_cancel_working")
        cancel_cutoff = st.time_input(
            "Annulation : heure limite le dernier jour", rules.cancel.cutoff, step=900, key="new_svc_cancel_cutoff"
        )
        st.markdown("Structures qui la proposent, et leur capacité par jour")
        offered = {
            site.id: (
                st.checkbox(f"Proposée par {site.name}", key=f"new_svc_site_{site.id}"),
                st.number_input(
                    f"Capacité par jour — {site.name}",
                    0,
                    settings.MAX_CAPACITY,
                    site.capacity,
                    key=f"new_svc_site_capacity_{site.id}",
                ),
            )
            for site in sites
        }
        if st.form_submit_button("Créer la prestation", type="primary"):
            with refusals_shown():
                town_setup.create_service(
                    db,
                    actor,
                    code=code,
                    name=name,
                    short_name=short,
                    weekdays=days,
                    unit_price_cents=parse_euros(price),
                    is_meal=meal,
                    book=deadline_rule(book, book_working, book_cutoff, of="de réservation"),
                    cancel=deadline_rule(cancel, cancel_working, cancel_cutoff, of="d'annulation"),
                    capacities={sid: int(places) for sid, (ticked, places) in offered.items() if ticked},
                    now=session.now(),
                )
                saved("services", f"Prestation « {name.strip()} » créée.", clear="new_svc_")
    if services:
        with st.form("offer_form", border=True):
            st.subheader("Proposer une prestation dans une autre structure", anchor=False)
            site_choice = st.selectbox("Structure", sites, format_func=lambda s: s.name, key="offer_site")
            service_choice = st.selectbox("Prestation", services, format_func=lambda s: s.name, key="offer_service")
            places = st.number_input("Capacité par jour", 0, settings.MAX_CAPACITY, 0, key="offer_capacity")
            if st.form_submit_button("Ajouter à la structure"):
                with refusals_shown():
                    message = town_setup.offer_service(
                        db, actor, site_choice.id, service_choice.id, int(places), session.now()
                    )
                    saved("services", message)

# --- diets ----------------------------------------------------------------------------------------
st.header("Régimes", anchor=False)
flash("diets")
diets = town_setup.diets(db, actor)
if diets:
    st.markdown("\n".join(f"- {md(label)} ({md(code)})" for code, label in diets))
else:
    st.info("Aucun régime : la cuisine compte les repas par régime. Ajoutez au moins « Standard ».")
if st.button("Ajouter les régimes usuels (Standard, Sans porc, Végétarien, Sans allergène)", key="diet_presets"):
    with refusals_shown():
        saved("diets", town_setup.add_preset_diets(db, actor, session.now()))
with st.form("diet_new", border=True):
    label = st.text_input("Libellé", max_chars=NAME_MAX_LENGTH, help="Sans porc", key="diet_label")
    code = st.text_input(
        "Code",
        max_chars=CODE_MAX_LENGTH,
        help="Lettres minuscules, chiffres, tirets ou soulignés : sans_porc",
        key="diet_code",
    )
    if st.form_submit_button("Ajouter le régime"):
        with refusals_shown():
            saved("diets", town_setup.add_diet(db, actor, code, label, session.now()), clear="diet_")
layout.contact_footer()
