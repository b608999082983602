"""Which pages each role sees (the list itself is lib/domain/menu.py). A page missing from a role's
list does not exist for that session: st.navigation serves only what it is given, whatever the
URL asks for."""

from __future__ import annotations

import streamlit as st

from lib.domain.menu import EXTRA, HOME, Entry
from lib.domain.roles import Role


def _page(entry: Entry, default: bool = False) -> st.Page:
    return st.Page(entry.file, title=entry.title, icon=entry.icon, url_path=entry.url_path, default=default)


def pages_for(role: Role) -> list:
    """The role's pages for st.navigation: the home page first, then the menu's order, « Mon compte »
    last. One flat list: Streamlit's section headings nest <div>s inside the menu's <ul>, which
    screen readers (and axe) reject."""
    return [_page(HOME[role], default=True), *(_page(entry) for entry in EXTRA[role])]
