"""The roles of the portal's users and what each is called in French."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    FAMILY = "famille"
    AGENT = "agent"
    KITCHEN = "cuisine"
    ELECTED = "elu"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.FAMILY: "Famille",
    Role.AGENT: "Agent d'animation",
    Role.KITCHEN: "Cuisine centrale",
    Role.ELECTED: "Élu(e)",
    Role.ADMIN: "Administrateur",
}

STAFF_ROLES = frozenset({Role.AGENT, Role.KITCHEN, Role.ELECTED, Role.ADMIN})
