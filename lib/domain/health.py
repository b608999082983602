"""A child's health at the portal: its PAI (projet d'accueil individualisé), the allergies, the
protocol the staff follow, whether the family brings the meal (panier repas), the doctor.

Health data is special (GDPR art. 9): only the staff who look after the children (agents,
administrators) and the child's own family read it; the kitchen gets the diet code only. The
audit log records who read or changed whose record and which fields, never a value. Pure: the
records the store builds and the checks on what people type.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from lib.domain.errors import InvalidInput
from lib.domain.validation import check_phone

ALLERGIES_MAX = 500
PROTOCOL_MAX = 2000
DOCTOR_NAME_MAX = 80
NOTE_MAX = 500

# How long after its school year's end a child's health data outlives its last registration:
# families re-register over the summer and in September, and a returning child must not lose its
# PAI in between (nor a town migrated in July the notes migration 010 moved). Archived children
# lose theirs at once.
PURGE_GRACE_DAYS = 120

# Each field's French name: the form's labels, the journal's « champs modifiés », old → new.
LABELS: dict[str, str] = {
    "has_pai": "PAI signé",
    "allergies": "Allergies",
    "protocol": "Protocole",
    "meal_basket": "Panier repas",
    "doctor_name": "Médecin",
    "doctor_phone": "Téléphone du médecin",
    "valid_until": "Valable jusqu'au",
}


class RequestState(StrEnum):
    """A family's proposed change of the PAI: waiting for the staff, then accepted or refused."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"


@dataclass(frozen=True)
class HealthRecord:
    """What is known of a child's health; empty text is "nothing written"."""

    has_pai: bool = False
    allergies: str = ""
    protocol: str = ""
    meal_basket: bool = False
    doctor_name: str = ""
    doctor_phone: str = ""
    valid_until: date | None = None

    def payload(self) -> dict[str, Any]:
        """The record as JSON-ready values (a proposal waiting for validation)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["valid_until"] = self.valid_until.isoformat() if self.valid_until else None
        return values


EMPTY = HealthRecord()


@dataclass(frozen=True)
class ChildHealth:
    """A child's stored record, with the child's name (a sheet's list, a validation)."""

    child_id: int
    first_name: str
    last_name: str
    record: HealthRecord
    updated_at: datetime | None  # UTC (naive)


@dataclass(frozen=True)
class HealthRequest:
    """A change proposed by the family: `proposed` is None once decided (the payload is cleared)."""

    id: int
    child_id: int
    first_name: str
    last_name: str
    family: str
    proposed: HealthRecord | None
    submitted_at: datetime  # UTC (naive)
    state: RequestState
    decided_at: datetime | None
    note: str | None


def _text(value: object, label: str, limit: int, *, lines: bool) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} : texte illisible.")
    text = value.strip()
    allowed = "\n\t" if lines else ""
    if any(unicodedata.category(c).startswith("C") and c not in allowed for c in text.replace("\r\n", "\n")):
        raise InvalidInput(f"{label} : caractères invisibles refusés ; saisissez du texte simple.")
    if len(text) > limit:
        raise InvalidInput(f"{label} : {limit} caractères au plus ({len(text)} saisis).")
    return text.replace("\r\n", "\n")


def _flag(value: object, label: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{label} : répondez par oui ou non.")
    return value


def _valid_until(value: object, today: date) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput("Valable jusqu'au : date illisible.") from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput("Valable jusqu'au : choisissez une date.")
    if value < today:
        raise InvalidInput("Valable jusqu'au : cette date est passée ; un PAI échu se renouvelle avant d'être saisi.")
    return value


def health_record(values: object, today: date) -> HealthRecord:
    """The record typed in a form (or proposed by a family), checked; a French refusal otherwise."""
    if not isinstance(values, Mapping):
        raise InvalidInput("Formulaire de santé illisible : rechargez la page.")
    unknown = set(values) - set(LABELS)
    if unknown:
        raise InvalidInput("Formulaire de santé illisible : rechargez la page.")
    phone = _text(values.get("doctor_phone"), LABELS["doctor_phone"], 30, lines=False)
    record = HealthRecord(
        has_pai=_flag(values.get("has_pai", False), LABELS["has_pai"]),
        allergies=_text(values.get("allergies"), LABELS["allergies"], ALLERGIES_MAX, lines=True),
        protocol=_text(values.get("protocol"), LABELS["protocol"], PROTOCOL_MAX, lines=True),
        meal_basket=_flag(values.get("meal_basket", False), LABELS["meal_basket"]),
        doctor_name=_text(values.get("doctor_name"), LABELS["doctor_name"], DOCTOR_NAME_MAX, lines=False),
        doctor_phone=check_phone(phone, LABELS["doctor_phone"]) if phone else "",
        valid_until=_valid_until(values.get("valid_until"), today),
    )
    if record.meal_basket and not record.has_pai:
        raise InvalidInput("Un panier repas se prévoit dans un PAI : cochez aussi « PAI signé ».")
    return record


def changed_fields(old: HealthRecord | None, new: HealthRecord) -> list[str]:
    """The names of the fields `new` changes (in the form's order): what the audit log keeps."""
    before = old or EMPTY
    return [f.name for f in fields(new) if getattr(before, f.name) != getattr(new, f.name)]


def note_text(value: object, *, required: bool) -> str | None:
    """The staff's word to the family on a decision (required to refuse)."""
    text = _text(value, "Note", NOTE_MAX, lines=False)
    if required and not text:
        raise InvalidInput("Indiquez à la famille pourquoi la correction est refusée.")
    return text or None
