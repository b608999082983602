"""The links an account's holder receives by e-mail: an invitation to choose a first password, a
forgotten password's reset, the confirmation of a new address. Each is a one-time secret with a
purpose and a lifetime; this module says how long each lives, where a link stands at an instant,
and the French sentences around them. Pure: the store keeps the links, the services use them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from lib.domain.clock import from_utc_naive
from lib.domain.errors import PortailError
from lib.domain.fr import numeric_date_time


class LinkPurpose(StrEnum):
    """What a link is for; the values are `link_tokens.purpose` (checked against the schema)."""

    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"

    @property
    def lifetime(self) -> timedelta:
        return LIFETIMES[self]

    @property
    def lifetime_words(self) -> str:
        """« 7 jours », « une heure », « 24 heures »: how long the link works, as a letter says it."""
        return LIFETIME_WORDS[self]

    @property
    def path(self) -> str:
        """The portal's page the link opens (the token follows in `?jeton=`)."""
        return PATHS[self]


LIFETIMES = {
    LinkPurpose.INVITATION: timedelta(days=7),
    LinkPurpose.PASSWORD_RESET: timedelta(hours=1),
    LinkPurpose.EMAIL_CHANGE: timedelta(hours=24),
}
LONGEST_LINK_LIFETIME = max(LIFETIMES.values())
LIFETIME_WORDS = {
    LinkPurpose.INVITATION: "7 jours",
    LinkPurpose.PASSWORD_RESET: "une heure",
    LinkPurpose.EMAIL_CHANGE: "24 heures",
}
PATHS = {
    LinkPurpose.INVITATION: "/auth/activer",
    LinkPurpose.PASSWORD_RESET: "/auth/reinitialiser",
    LinkPurpose.EMAIL_CHANGE: "/auth/courriel",
}


class LinkState(StrEnum):
    USABLE = "usable"
    USED = "used"  # consumed, or voided by a newer link of the same purpose
    EXPIRED = "expired"


@dataclass(frozen=True)
class StoredLink:
    """A link as the store keeps it (UTC-naive instants)."""

    purpose: LinkPurpose
    user_id: int
    new_email: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    created_by: int | None


def expiry(purpose: LinkPurpose, now_utc: datetime) -> datetime:
    """When a link made at `now_utc` stops working."""
    return now_utc + purpose.lifetime


def link_state(link: StoredLink, now_utc: datetime) -> LinkState:
    """Used wins over expired; a link works strictly before its expiry instant, not at it (the same
    rule as the store's `expires_at > now`)."""
    if link.used_at is not None:
        return LinkState.USED
    if now_utc >= link.expires_at:
        return LinkState.EXPIRED
    return LinkState.USABLE


def account_state(
    has_account: bool,
    activated_at: datetime | None,
    invited_at: datetime | None,
    expires_at: datetime | None,
    now_utc: datetime,
) -> str:
    """A guardian's account as the administrator reads it in a family file: « aucun compte »,
    « invité le 27/11/2026 à 14 h 05, lien valable jusqu'au 04/12/2026 à 14 h 05 » (or « lien expiré
    le … »), « activé le … ». Instants are UTC-naive; the link's last invitation expires at its
    instant (`link_state`'s rule)."""
    if activated_at is not None:
        return f"activé le {_when(activated_at)}"
    if not has_account:
        return "aucun compte"
    if invited_at is None or expires_at is None:
        return "créé, jamais invité"
    link = "expiré le" if now_utc >= expires_at else "valable jusqu'au"
    return f"invité le {_when(invited_at)}, lien {link} {_when(expires_at)}"


def _when(moment_utc: datetime) -> str:
    return numeric_date_time(from_utc_naive(moment_utc))


# The one answer to a link that does not work, whatever the reason (unknown, expired, used, voided by
# a newer one): saying which would tell a guesser something.
LINK_REFUSED = "Ce lien n'est plus valable : il a expiré ou a déjà servi. Demandez-en un nouveau."


class LinkRefused(PortailError):
    """A link that does not work (unknown, expired, used, voided): always `LINK_REFUSED`."""

    def __init__(self) -> None:
        super().__init__(LINK_REFUSED)


RESET_ANSWER = (
    "Si un compte existe pour cette adresse, un courriel vient de lui être envoyé avec un lien pour choisir "
    "un nouveau mot de passe ; ce lien est valable une heure. Pensez à regarder dans les indésirables."
)
RESET_DONE = "Votre mot de passe a été changé et vos autres sessions ont été fermées : connectez-vous."
ACTIVATED = "Votre compte est activé : connectez-vous avec votre nouveau mot de passe."
EMAIL_CHANGE_SENT = (
    "Un courriel de confirmation a été envoyé à la nouvelle adresse ; le lien qu'il contient est valable "
    "24 heures. Votre adresse ne change qu'une fois ce lien ouvert et confirmé."
)
EMAIL_CHANGED = "Votre adresse e-mail a été modifiée : connectez-vous désormais avec la nouvelle."
EMAIL_TAKEN = "Cette adresse e-mail est déjà celle d'un autre compte : choisissez-en une autre."
SAME_EMAIL = "C'est déjà l'adresse de votre compte."


def requests_wait(seconds: int) -> str:
    """Too many « mot de passe oublié » requests from one address: when to try again. It says
    nothing about the e-mail typed."""
    minutes = max(1, -(-seconds // 60))
    return (
        "Trop de demandes de nouveau mot de passe depuis cette connexion : par sécurité, réessayez dans "
        f"{minutes} minute{'s' if minutes > 1 else ''}."
    )
