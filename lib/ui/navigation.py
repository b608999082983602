"""Which pages each role sees (the list itself is lib/domain/menu.py). A page missing from a role's
list does not exist for that session: st.navigation serves only what it is given, whatever the
URL asks for."""

from __future__ import annotations

import streamlit as st

from lib.domain.menu import EXTRA, HOME
from lib.domain.roles import Role


def pages_for(role: Role) -> list:
    home = HOME[role]
    pages = [st.Page(home.file, title=home.title, icon=home.icon, url_path=home.url_path, default=True)]
    pages += [st.Page(e.file, title=e.title, icon=e.icon, url_path=e.url_path) for e in EXTRA[role]]
    return pages
