"""Which pages each role has, as plain data: the Streamlit router (lib/ui/navigation.py) builds its
pages from it, and the login guard (lib/web/routes.py) sends a request for a page the role does
not have to the home page, before Streamlit would show its English "Page not found"."""

from __future__ import annotations

from typing import NamedTuple

from lib.domain.roles import Role


class Entry(NamedTuple):
    file: str
    title: str
    icon: str
    url_path: str


HOME = {
    Role.FAMILY: Entry("pages/famille_accueil.py", "Accueil", ":material/home:", "accueil"),
    Role.AGENT: Entry("pages/agent_accueil.py", "Accueil agent", ":material/home:", "accueil"),
    Role.KITCHEN: Entry("pages/cuisine.py", "Cuisine", ":material/restaurant:", "accueil"),
    Role.ELECTED: Entry("pages/elu_accueil.py", "Accueil élus", ":material/home:", "accueil"),
    Role.ADMIN: Entry("pages/admin_accueil.py", "Administration", ":material/home:", "accueil"),
}

_KITCHEN = Entry("pages/cuisine.py", "Cuisine", ":material/restaurant:", "cuisine")
_CHECK = Entry("pages/pointage.py", "Pointage", ":material/fact_check:", "pointage")
_TRENDS = Entry("pages/tendances.py", "Tendances", ":material/trending_up:", "tendances")
_PAI = Entry("pages/admin_pai.py", "PAI", ":material/medical_information:", "pai")
_STAFF_BOOKINGS = Entry("pages/agent_reservations.py", "Réservations – agents", ":material/event:", "reservations")
_CLOSURES = Entry("pages/admin_fermetures.py", "Fermetures et grèves", ":material/event_busy:", "fermetures")

_FAMILIES = Entry("pages/admin_familles.py", "Familles", ":material/family_restroom:", "familles")
_VALIDATIONS = Entry("pages/admin_validations.py", "À valider", ":material/rule:", "a-valider")
ACCOUNT = Entry("pages/mon_compte.py", "Mon compte", ":material/manage_accounts:", "mon-compte")

_ACCOUNTS = Entry("pages/admin_comptes.py", "Comptes des familles", ":material/group_add:", "comptes")
_IMPORT = Entry("pages/admin_import.py", "Import et export", ":material/upload_file:", "import-familles")
_BILLING = Entry("pages/admin_facturation.py", "Facturation", ":material/request_quote:", "facturation")
_UNPAID = Entry("pages/admin_impayes.py", "Impayés", ":material/money_off:", "impayes")
_STRUCTURES = Entry("pages/admin_structures.py", "Structures et année scolaire", ":material/domain:", "structures")
_SERVICES = Entry("pages/admin_prestations.py", "Prestations et délais", ":material/tune:", "prestations")
_MAIL = Entry("pages/admin_courriels.py", "Courriels envoyés", ":material/mail:", "courriels")
_REGIE = Entry("pages/regie.py", "Régie", ":material/point_of_sale:", "regie")
_JOURNAL = Entry("pages/admin_journal.py", "Journal d'audit", ":material/history:", "journal")

# The staff's menus are long: their pages come in groups, in the order of a working day (the group
# names say why; the side menu lists the pages without headings, see lib/ui/navigation.py).
SECTIONS: dict[Role, list[tuple[str, list[Entry]]]] = {
    Role.FAMILY: [
        (
            "",
            [
                Entry("pages/mes_inscriptions.py", "Mes inscriptions", ":material/event:", "mes-inscriptions"),
                Entry("pages/mes_factures.py", "Mes factures", ":material/receipt_long:", "mes-factures"),
                Entry("pages/mon_dossier.py", "Mon dossier", ":material/folder_shared:", "mon-dossier"),
            ],
        )
    ],
    Role.AGENT: [
        ("Au quotidien", [_STAFF_BOOKINGS, _CHECK, _KITCHEN, _CLOSURES]),
        ("Familles", [_FAMILIES, _VALIDATIONS, _PAI]),
        ("Facturation et suivi", [_REGIE, _UNPAID]),  # « Régie » tells an agent without the régisseur right so
    ],
    Role.KITCHEN: [],
    Role.ELECTED: [("", [_TRENDS])],
    Role.ADMIN: [
        ("Au quotidien", [_STAFF_BOOKINGS, _CHECK, _KITCHEN, _CLOSURES]),
        ("Familles", [_FAMILIES, _ACCOUNTS, _VALIDATIONS, _IMPORT, _PAI]),
        ("Facturation et suivi", [_BILLING, _REGIE, _UNPAID, _TRENDS, _MAIL, _JOURNAL]),
        ("Réglages", [_STRUCTURES, _SERVICES]),
    ],
}
_ROLE_PAGES: dict[Role, list[Entry]] = {
    role: [entry for _, entries in sections for entry in entries] for role, sections in SECTIONS.items()
}
# Everyone's last entry: their own password and sessions.
EXTRA: dict[Role, list[Entry]] = {role: [*entries, ACCOUNT] for role, entries in _ROLE_PAGES.items()}


def page_paths(role: Role) -> set[str]:
    """The URL paths (without the leading slash) the role's pages answer; "" is the home page."""
    return {""} | {entry.url_path for entry in EXTRA[role]}
