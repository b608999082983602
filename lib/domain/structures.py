"""What an administrator types to set a town up: its sites (structures), its services
(prestations) and its diets (régimes). Each check returns the clean value or raises InvalidInput
naming the field, in French; whether a name or a code is already taken is the service's question."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from lib.domain.errors import InvalidInput

NAME_MAX_LENGTH = 80
ADDRESS_MAX_LENGTH = 200
SHORT_NAME_MAX_LENGTH = 12  # fits a calendar cell on a 390-px phone
CODE_MAX_LENGTH = 30
SCHOOL_WEEKDAYS = (1, 2, 3, 4, 5)  # ISO: Monday to Friday
WEEKDAY_NAMES = {1: "lundi", 2: "mardi", 3: "mercredi", 4: "jeudi", 5: "vendredi"}

_SERVICE_CODE = re.compile(rf"^[a-z0-9][a-z0-9-]{{0,{CODE_MAX_LENGTH - 1}}}$")
_DIET_CODE = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{CODE_MAX_LENGTH - 1}}}$")


class SiteKind(StrEnum):
    """A site's kind, as the schema's CHECK on `sites.kind` lists them."""

    MATERNELLE = "maternelle"
    ELEMENTAIRE = "elementaire"
    MERCREDI = "mercredi"

    @property
    def label(self) -> str:
        return {"maternelle": "École maternelle", "elementaire": "École élémentaire", "mercredi": "Centre du mercredi"}[
            self.value
        ]


# The diets a town usually starts with (code, label): offered by a button, never forced.
PRESET_DIETS = (
    ("standard", "Standard"),
    ("sans_porc", "Sans porc"),
    ("vegetarien", "Végétarien"),
    ("sans_allergene", "Sans allergène"),
)


def text_field(value: object, label: str, max_length: int, *, required: bool = True) -> str:
    """A trimmed one-line text of at most `max_length` characters ('' when optional and empty)."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} : saisissez un texte.")
    clean = " ".join(value.split())
    if required and not clean:
        raise InvalidInput(f"{label} : ce champ est obligatoire.")
    if len(clean) > max_length:
        raise InvalidInput(f"{label} : {max_length} caractères au plus.")
    return clean


def site_kind(value: object) -> SiteKind:
    if isinstance(value, str) and value in {k.value for k in SiteKind}:
        return SiteKind(value)
    choices = ", ".join(k.label.lower() for k in SiteKind)
    raise InvalidInput(f"Type de structure inconnu : choisissez {choices}.")


def service_code(value: object) -> str:
    code = value.strip() if isinstance(value, str) else ""
    if not _SERVICE_CODE.match(code):
        raise InvalidInput(
            f"Code de la prestation : lettres minuscules, chiffres et tirets, {CODE_MAX_LENGTH} caractères au plus "
            "(exemple : cantine-midi)."
        )
    return code


def diet_code(value: object) -> str:
    code = value.strip() if isinstance(value, str) else ""
    if not _DIET_CODE.match(code):
        raise InvalidInput(
            f"Code du régime : lettres minuscules, chiffres, tirets ou soulignés, {CODE_MAX_LENGTH} caractères au "
            "plus (exemple : sans_porc)."
        )
    return code


def weekdays(values: Iterable[object]) -> tuple[int, ...]:
    """The school weekdays a service is given on (ISO, Monday = 1 … Friday = 5), sorted, at least one."""
    chosen = list(values) if not isinstance(values, (str, bytes)) else [values]
    if not chosen:
        raise InvalidInput("Jours de la semaine : cochez au moins un jour.")
    if any(isinstance(d, bool) or not isinstance(d, int) or d not in SCHOOL_WEEKDAYS for d in chosen):
        raise InvalidInput("Jours de la semaine : choisissez parmi lundi, mardi, mercredi, jeudi et vendredi.")
    return tuple(sorted({d for d in chosen if isinstance(d, int)}))


def weekdays_text(days: Iterable[int]) -> str:
    """(1, 2, 4, 5) → 'lundi, mardi, jeudi, vendredi'."""
    return ", ".join(WEEKDAY_NAMES.get(d, str(d)) for d in days)
