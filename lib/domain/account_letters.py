"""The letters of an account's life: the invitation to choose a first password, the forgotten
password's link, the confirmation sent to a new address and the notice sent to the old one, and the
« mot de passe modifié » warning. Pure: each builds a `Letter` (lib/domain/letters.py), whose links
are one-time secrets (`secret_link`). Nothing a person typed reaches a letter except through
`one_line` (greeting, names)."""

from __future__ import annotations

from datetime import datetime

from lib.domain import fr
from lib.domain.account_links import LinkPurpose
from lib.domain.clock import PARIS
from lib.domain.letters import NAME_LIMIT, Letter, Link, MailKind, greeting, one_line

_NOT_YOU = "Si vous n'êtes pas à l'origine de cette demande, ignorez ce courriel : rien ne change sans ce lien."
_STOP_THE_CHANGE = (
    "Si ce n'est pas vous, utilisez tout de suite « Mot de passe oublié ? » sur la page de connexion : "
    "choisir un nouveau mot de passe annule ce changement d'adresse. Prévenez aussi le service enfance de la mairie."
)
_WARN = (
    "Si ce n'est pas vous, contactez sans attendre le service enfance de la mairie "
    "et utilisez « Mot de passe oublié ? » sur la page de connexion."
)


def _until(expires: datetime) -> str:
    """« jusqu'au vendredi 4 décembre 2026 à 9 h 30 » (Paris time; `expires` is aware)."""
    return f"jusqu'au {fr.long_date(expires.astimezone(PARIS))} à {fr.hour(expires)}"


def invitation(name: str, email: str, town: str, url: str, expires: datetime) -> Letter:
    """To a guardian whose account the town created: choose a password to open it."""
    return Letter(
        kind=MailKind.INVITATION,
        subject=f"Votre compte sur le Portail Famille – {one_line(town, NAME_LIMIT)}",
        paragraphs=(
            greeting(name),
            f"Le service enfance de {one_line(town, NAME_LIMIT)} a créé votre compte sur le Portail Famille : "
            "vous pourrez y réserver les repas et les activités de vos enfants et payer vos factures.",
            f"Votre identifiant est votre adresse e-mail : {one_line(email, 254)}. Pour ouvrir votre compte, "
            "choisissez votre mot de passe avec le bouton ci-dessous.",
        ),
        link=Link("Choisir mon mot de passe", url),
        after=(
            f"Ce lien ne sert qu'une fois et fonctionne {LinkPurpose.INVITATION.lifetime_words}, "
            f"{_until(expires)}. Passé ce délai, demandez un nouvel envoi à la mairie.",
        ),
        secret_link=True,
        payload={"purpose": LinkPurpose.INVITATION.value, "expires": expires},
    )


def password_reset(name: str, url: str, expires: datetime) -> Letter:
    """The link of « Mot de passe oublié ? »."""
    return Letter(
        kind=MailKind.PASSWORD_RESET,
        subject="Choisir un nouveau mot de passe",
        paragraphs=(
            greeting(name),
            "Une demande de nouveau mot de passe a été faite pour votre compte du Portail Famille. "
            "Pour choisir votre nouveau mot de passe, utilisez le bouton ci-dessous.",
        ),
        link=Link("Choisir un nouveau mot de passe", url),
        after=(
            f"Ce lien ne sert qu'une fois et fonctionne {LinkPurpose.PASSWORD_RESET.lifetime_words}, "
            f"{_until(expires)}. Une fois le mot de passe changé, toutes vos sessions ouvertes sont fermées.",
            _NOT_YOU,
        ),
        secret_link=True,
        payload={"purpose": LinkPurpose.PASSWORD_RESET.value, "expires": expires},
    )


def email_change(name: str, new_email: str, url: str, expires: datetime) -> Letter:
    """To the NEW address: confirm it is yours."""
    return Letter(
        kind=MailKind.EMAIL_CHANGE,
        subject="Confirmez votre nouvelle adresse e-mail",
        paragraphs=(
            greeting(name),
            f"Vous avez demandé que votre compte du Portail Famille utilise désormais l'adresse "
            f"{one_line(new_email, 254)}. Confirmez-la avec le bouton ci-dessous : elle deviendra votre "
            "identifiant de connexion.",
        ),
        link=Link("Confirmer ma nouvelle adresse", url),
        after=(
            f"Ce lien ne sert qu'une fois et fonctionne {LinkPurpose.EMAIL_CHANGE.lifetime_words}, {_until(expires)}.",
            _NOT_YOU,
        ),
        secret_link=True,
        payload={"purpose": LinkPurpose.EMAIL_CHANGE.value, "expires": expires},
    )


def email_change_notice(name: str, new_email: str, at: datetime) -> Letter:
    """To the OLD address, when the change is asked: someone wants to move the account elsewhere."""
    return Letter(
        kind=MailKind.EMAIL_CHANGED_NOTICE,
        subject="Changement d'adresse e-mail demandé",
        paragraphs=(
            greeting(name),
            f"Le {fr.long_date(at.astimezone(PARIS))} à {fr.hour(at)}, un changement d'adresse a été demandé "
            f"pour votre compte du Portail Famille, vers {one_line(new_email, 254)}. Il prendra effet quand "
            "cette nouvelle adresse l'aura confirmé.",
            _STOP_THE_CHANGE,
        ),
    )


def password_changed(name: str, at: datetime) -> Letter:
    """After a password change, a reset or an activation: the holder hears of it."""
    return Letter(
        kind=MailKind.PASSWORD_CHANGED,
        subject="Votre mot de passe a été modifié",
        paragraphs=(
            greeting(name),
            f"Le mot de passe de votre compte du Portail Famille a été modifié le "
            f"{fr.long_date(at.astimezone(PARIS))} à {fr.hour(at)}.",
            _WARN,
        ),
    )
