"""Checks on what people type, with the French message that explains a refusal."""

from __future__ import annotations

import re
import unicodedata

from lib.domain.errors import InvalidInput

EMAIL_MAX_LENGTH = 254
PASSWORD_MAX_LENGTH = 256
# Deliberately plain: letters, digits and the usual punctuation of an address, one "@",
# a dotted domain. Anything stranger (spaces, quotes, control characters) is refused.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def normalize_email(raw: str | None) -> str:
    """Trimmed, lower-cased e-mail, or InvalidInput with a French reason."""
    email = (raw or "").strip().lower()
    if not email:
        raise InvalidInput("Saisissez votre adresse e-mail.")
    if len(email) > EMAIL_MAX_LENGTH:
        raise InvalidInput(f"Adresse e-mail trop longue (au plus {EMAIL_MAX_LENGTH} caractères).")
    if not _EMAIL.match(email):
        raise InvalidInput("Adresse e-mail invalide : vérifiez son orthographe (exemple : prenom.nom@exemple.fr).")
    return email


def check_password_input(raw: str | None) -> str:
    password = raw or ""
    if not password:
        raise InvalidInput("Saisissez votre mot de passe.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(f"Mot de passe trop long (au plus {PASSWORD_MAX_LENGTH} caractères).")
    return password


_EUROS = re.compile(r"^(\d{1,6})(?:[,.](\d{1,2}))?$")


def parse_euros(raw: str | None) -> int:
    """A price typed the French way ('3,50', '3,5 €', '12') in integer cents, or InvalidInput."""
    text = (raw or "").replace("€", "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "").strip()
    match = _EUROS.match(text)
    if not match:
        raise InvalidInput(f"Prix illisible : « {(raw or '').strip()[:20]} ». Saisissez un montant en euros, "
                           "par exemple 3,50.")
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def fold(text: str) -> str:
    """Lower case without accents, as names are compared in searches: « Léa » finds « LEA »."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
