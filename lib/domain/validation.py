"""Checks on what people type, with the French message that explains a refusal."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import TypeGuard

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from lib.domain.errors import InvalidInput, NotFound
from lib.domain.invoicing import Bracket

EMAIL_MAX_LENGTH = 254
PASSWORD_MAX_LENGTH = 256
PASSWORD_MIN_LENGTH = 12  # ASVS 2.1.1
# zxcvbn's 30,000 most common passwords of public breaches (ASVS 2.1.7), lower case.
_BREACHED = frozenset(FREQUENCY_LISTS["passwords"])
# zxcvbn scores 0 to 4; 3 is "safely unguessable" for an online attack. Its pattern search grows
# with the length: the first characters decide the score, the rest only add strength.
_MIN_SCORE = 3
_SCORED_LENGTH = 64
# Deliberately plain: letters, digits and the usual punctuation of an address, one "@",
# a dotted domain. Anything stranger (spaces, quotes, control characters) is refused.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def is_id(value: object) -> TypeGuard[int]:
    """An id as the pages pass it: an int (a bool is not one). Anything else is refused as an id that
    does not exist is, by each service with its own French « introuvable »."""
    return isinstance(value, int) and not isinstance(value, bool)


def known_id(value: object, missing: str) -> int:
    """`value` if it is an id (`is_id`); NotFound(`missing`) otherwise."""
    if not is_id(value):
        raise NotFound(missing)
    return value


def whole_number(value: object, label: str, low: int, high: int) -> int:
    """A whole number from `low` to `high` (a bool is not one), or a refusal naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{label} : saisissez un nombre entier entre {low} et {high}.")
    return value


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


def check_new_password(raw: str | None, confirmation: str | None, personal: list[str]) -> str:
    """A new password that a person chose, or InvalidInput saying what to change. `personal`: the
    account's e-mail and name, which a password must not be built on."""
    password = raw or ""
    if not password:
        raise InvalidInput("Saisissez le nouveau mot de passe.")
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            f"Le nouveau mot de passe est trop court : au moins {PASSWORD_MIN_LENGTH} caractères "
            "(une phrase de plusieurs mots est facile à retenir)."
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(f"Le nouveau mot de passe est trop long (au plus {PASSWORD_MAX_LENGTH} caractères).")
    if password != (confirmation or ""):
        raise InvalidInput("Les deux saisies du nouveau mot de passe sont différentes.")
    if password.lower() in _BREACHED:
        raise InvalidInput("Ce mot de passe figure dans les listes de mots de passe dérobés : choisissez-en un autre.")
    words = [part for item in personal for part in re.split(r"[@.\s_-]+", fold(item)) if len(part) >= 3]
    if len(functools.reduce(lambda rest, word: rest.replace(word, ""), words, fold(password))) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            f"Votre nom et votre adresse e-mail ne comptent pas dans les {PASSWORD_MIN_LENGTH} "
            "caractères : ajoutez d'autres mots."
        )
    if zxcvbn(password[:_SCORED_LENGTH], user_inputs=words)["score"] < _MIN_SCORE:
        raise InvalidInput(
            "Ce mot de passe est trop facile à deviner (mot courant, suite de touches, "
            "répétition) : ajoutez des mots sans rapport entre eux."
        )
    return password


_EUROS = re.compile(r"^(\d{1,6})(?:[,.](\d{1,2}))?$")


def parse_euros(raw: str | None) -> int:
    """A price typed the French way ('3,50', '3,5 €', '12') in integer cents, or InvalidInput."""
    text = (raw or "").replace("€", "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "").strip()
    match = _EUROS.match(text)
    if not match:
        raise InvalidInput(
            f"Prix illisible : « {(raw or '').strip()[:20]} ». Saisissez un montant en euros, par exemple 3,50."
        )
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def parse_brackets(grid: Iterable[tuple[str | None, str | None]]) -> list[Bracket]:
    """The tariff brackets typed in the administrator's grid: each row (ceiling, price) as text, None
    for an empty cell. A row left empty is no bracket, an empty ceiling is the top bracket, the price
    is read the French way. Whether the brackets fit together is `check_brackets`'s question."""
    return [
        Bracket(_ceiling(ceiling), parse_euros(price)) for ceiling, price in grid if (ceiling, price) != (None, None)
    ]


def _ceiling(typed: str | None) -> int | None:
    text = (typed or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput("Tarif illisible : saisissez un plafond entier et un prix en euros.") from None


def fold(text: str) -> str:
    """Lower case without accents, as names are compared in searches: « Léa » finds « LEA »."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


_PHONE_SEPARATORS = re.compile(r"[\s.\-]")
_FRENCH_PHONE = re.compile(r"^(?:0|\+33|0033)([1-9]\d{8})$")


def check_phone(raw: str | None, label: str) -> str:
    """A French telephone number (10 digits from 0, or +33 and 9 digits; spaces, dots and dashes
    allowed), written back the usual way (« 05 61 23 45 67 »), or a refusal naming the field."""
    text = (raw or "").strip()
    match = _FRENCH_PHONE.match(_PHONE_SEPARATORS.sub("", text))
    if not match:
        raise InvalidInput(
            f"{label} : numéro illisible « {text[:20]} ». Saisissez 10 chiffres (exemple : 05 61 23 45 67) "
            "ou le numéro au format international (+33 5 61 23 45 67)."
        )
    digits = "0" + match[1]
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
