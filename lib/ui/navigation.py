"""Which pages each role sees (the list itself is lib/domain/menu.py). A page missing from a role's
list does not exist for that session: st.navigation serves only what it is given, whatever the
URL asks for."""

from __future__ import annotations

import streamlit as st

from lib.domain.menu import ACCOUNT, HOME, SECTIONS, Entry
from lib.domain.roles import Role


def _page(entry: Entry, default: bool = False) -> st.Page:
    return st.Page(entry.file, title=entry.title, icon=entry.icon, url_path=entry.url_path, default=default)


def pages_for(role: Role) -> dict[str, list]:
    """The role's pages by section, for st.navigation: the home page first, « Mon compte » last."""
    sections: dict[str, list] = {"": [_page(HOME[role], default=True)]}
    for title, entries in SECTIONS[role]:
        sections.setdefault(title, []).extend(_page(entry) for entry in entries)
    sections.setdefault("Mon compte" if len(sections) > 1 else "", []).append(_page(ACCOUNT))
    return sections
