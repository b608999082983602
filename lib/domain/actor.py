"""Who is acting: derived from the server-side session, never from what the browser sends."""

from __future__ import annotations

from dataclasses import dataclass

from lib.domain.errors import NotAllowed
from lib.domain.roles import STAFF_ROLES, Role


@dataclass(frozen=True)
class Actor:
    user_id: int
    email: str
    role: Role
    display_name: str
    family_id: int | None = None

    @property
    def is_family(self) -> bool:
        return self.role is Role.FAMILY

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise NotAllowed("Cette page ou cette action n'est pas ouverte à votre profil.")
