"""Which pages each role sees. A page missing from a role's list does not exist for that
session: st.navigation serves only what it is given, whatever the URL asks for."""

from __future__ import annotations

import streamlit as st

from lib.domain.roles import Role

_HOME = {
    Role.FAMILY: ("pages/famille_accueil.py", "Accueil", ":material/home:"),
    Role.AGENT: ("pages/agent_accueil.py", "Accueil agent", ":material/home:"),
    Role.KITCHEN: ("pages/cuisine.py", "Cuisine", ":material/restaurant:"),
    Role.ELECTED: ("pages/elu_accueil.py", "Accueil élus", ":material/home:"),
    Role.ADMIN: ("pages/admin_accueil.py", "Administration", ":material/home:"),
}

# Later issues add their pages here, per role: (file, title, icon, url_path).
_EXTRA: dict[Role, list[tuple[str, str, str, str]]] = {role: [] for role in Role}
_EXTRA[Role.FAMILY] = [
    ("pages/mes_inscriptions.py", "Mes inscriptions", ":material/event:", "mes-inscriptions"),
    ("pages/mes_factures.py", "Mes factures", ":material/receipt_long:", "mes-factures"),
]
_KITCHEN = ("pages/cuisine.py", "Cuisine", ":material/restaurant:", "cuisine")
_CHECK = ("pages/pointage.py", "Pointage", ":material/fact_check:", "pointage")
_TRENDS = ("pages/tendances.py", "Tendances", ":material/trending_up:", "tendances")
_EXTRA[Role.AGENT] = [
    ("pages/agent_reservations.py", "Réservations – agents", ":material/event:", "reservations"),
    _CHECK,
    _KITCHEN,
]
_EXTRA[Role.ELECTED] = [_TRENDS]
_EXTRA[Role.ADMIN] = [
    ("pages/agent_reservations.py", "Réservations – agents", ":material/event:", "reservations"),
    ("pages/admin_facturation.py", "Facturation", ":material/request_quote:", "facturation"),
    ("pages/admin_prestations.py", "Prestations et délais", ":material/tune:", "prestations"),
    ("pages/admin_journal.py", "Journal d'audit", ":material/history:", "journal"),
    _CHECK,
    _KITCHEN,
    _TRENDS,
]


def pages_for(role: Role) -> list:
    path, title, icon = _HOME[role]
    pages = [st.Page(path, title=title, icon=icon, url_path="accueil", default=True)]
    pages += [st.Page(p, title=t, icon=i, url_path=u) for p, t, i, u in _EXTRA[role]]
    return pages
