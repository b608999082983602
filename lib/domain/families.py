"""The family file: guardians (« responsables »), children, the quotient familial and its history,
emergency contacts and authorised pick-up people, consents, who is billed. Records as the store
keeps them, and the checks on what staff and families type, each refusal a French sentence naming
the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from lib.domain.errors import InvalidInput
from lib.domain.validation import normalize_email, whole_number

NAME_MAX = 80
TEXT_MAX = 200  # an address, a relation, a note
REF_MAX = 30  # the town's own file number
QF_MAX = 99_999
ALLOCATAIRE_MAX = 15
MAX_GUARDIANS = 2
ADULT_AGE = 18
# The school classes a child may be in (maternelle, then élémentaire).
SCHOOL_CLASSES = ("PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2")


class BillingMode(StrEnum):
    """Who receives the family's invoices."""

    GUARDIAN1 = "guardian1"
    GUARDIAN2 = "guardian2"
    SPLIT = "split"  # shared custody: each child's bill is split between the two guardians

    @property
    def label(self) -> str:
        return {
            BillingMode.GUARDIAN1: "Responsable 1",
            BillingMode.GUARDIAN2: "Responsable 2",
            BillingMode.SPLIT: "Partagée entre les deux responsables (garde alternée)",
        }[self]


class QfSource(StrEnum):
    """Where a quotient familial comes from."""

    CAF = "caf"
    MSA = "msa"
    ATTESTATION = "attestation"
    AUTRE = "autre"

    @property
    def label(self) -> str:
        return {
            QfSource.CAF: "CAF",
            QfSource.MSA: "MSA",
            QfSource.ATTESTATION: "Attestation",
            QfSource.AUTRE: "Autre",
        }[self]


class ConsentKind(StrEnum):
    PHOTO = "photo"
    SORTIES = "sorties"

    @property
    def label(self) -> str:
        return {ConsentKind.PHOTO: "Photos (droit à l'image)", ConsentKind.SORTIES: "Sorties hors de la structure"}[
            self
        ]


# --- stored records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    id: int
    name: str
    town_ref: str | None
    billing: BillingMode
    quotient_familial: int | None  # the QF in force (the history's latest line)
    created_at: datetime
    archived_at: datetime | None
    non_resident: bool = False  # « hors commune »: billed at the services' non-resident price


@dataclass(frozen=True)
class Guardian:
    id: int
    family_id: int
    rank: int  # 1 or 2
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    address: str | None
    user_id: int | None
    town_ref: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class ChildRecord:
    id: int
    family_id: int
    first_name: str
    last_name: str
    birth_date: date
    school_class: str
    diet_code: str
    town_ref: str | None
    archived_at: datetime | None


@dataclass(frozen=True)
class QuotientRecord:
    id: int
    family_id: int
    qf: int
    valid_from: date
    source: QfSource
    allocataire_no: str | None
    recorded_by: str | None  # the name of who recorded it (None: carried over)
    recorded_at: datetime


@dataclass(frozen=True)
class Contact:
    id: int
    family_id: int
    child_id: int | None  # None: for every child of the family
    name: str
    relation: str
    phone: str
    emergency: bool
    pickup: bool


@dataclass(frozen=True)
class Consent:
    child_id: int
    kind: ConsentKind
    granted: bool
    changed_at: datetime


@dataclass(frozen=True)
class BillingShare:
    child_id: int
    guardian_id: int
    percent: int


# --- what people type -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardianInput:
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    address: str | None
    town_ref: str | None = None


@dataclass(frozen=True)
class QuotientInput:
    qf: int
    valid_from: date
    source: QfSource
    allocataire_no: str | None


@dataclass(frozen=True)
class ChildInput:
    first_name: str
    last_name: str
    birth_date: date
    school_class: str
    diet_code: str
    town_ref: str | None = None


@dataclass(frozen=True)
class ContactInput:
    name: str
    relation: str
    phone: str
    emergency: bool
    pickup: bool
    child_id: int | None = None


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c).startswith("C") for c in text)


def check_name(value: object, label: str) -> str:
    """A first or last name, a family name: 1 to 80 characters, no control character."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"{label} : ce champ est obligatoire.")
    if len(text) > NAME_MAX:
        raise InvalidInput(f"{label} : {NAME_MAX} caractères au plus.")
    if _has_control(text) or not any(c.isalpha() for c in text):
        raise InvalidInput(f"{label} : saisissez des lettres (les tirets, apostrophes et espaces sont acceptés).")
    return text


def optional_text(value: object, label: str, limit: int = TEXT_MAX) -> str | None:
    """A free text that may stay empty (an address, a relation): None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{label} : texte illisible.")
    text = " ".join(value.split())
    if len(text) > limit:
        raise InvalidInput(f"{label} : {limit} caractères au plus.")
    if _has_control(text):
        raise InvalidInput(f"{label} : caractères non autorisés.")
    return text or None


def required_text(value: object, label: str, limit: int = TEXT_MAX) -> str:
    text = optional_text(value, label, limit)
    if text is None:
        raise InvalidInput(f"{label} : ce champ est obligatoire.")
    return text


_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_FRENCH_NUMBER = re.compile(r"^0[1-9]\d{8}$")


def check_phone(value: object, label: str) -> str:
    """A French phone number (10 digits starting with 0, or +33 followed by 9 digits), written
    « 06 12 34 56 78 »."""
    raw = value.strip() if isinstance(value, str) else ""
    if not raw:
        raise InvalidInput(f"{label} : ce champ est obligatoire.")
    digits = _PHONE_SEPARATORS.sub("", raw)
    if digits.startswith("+33"):
        digits = "0" + digits[3:].removeprefix("0")
    elif digits.startswith("0033"):
        digits = "0" + digits[4:].removeprefix("0")
    if not _FRENCH_NUMBER.match(digits):
        raise InvalidInput(
            f"{label} : numéro de téléphone invalide « {raw[:20]} » (10 chiffres, par exemple 06 12 34 56 78)."
        )
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def optional_phone(value: object, label: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return check_phone(value, label)


def email_elsewhere(holders: Iterable[object], own: object) -> bool:
    """An e-mail is one person's login, never two families': whether one of its `holders` (each
    holder's family, None for a staff account or an unknown family) is not the family `own`."""
    return any(holder is None or holder != own for holder in holders)


LOGIN_ELSEWHERE = "l'adresse de connexion se change depuis « Mon compte »."


def login_diverges(before: str | None, after: str | None, login: str | None) -> bool:
    """Whether changing a guardian's e-mail from `before` to `after` would part it from the login of
    his activated account (`login`; None: no activated account): only its holder changes it."""
    return login is not None and after != before and after != login


def optional_email(value: object, label: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{label} : adresse illisible.")
    try:
        return normalize_email(value)
    except InvalidInput as exc:
        raise InvalidInput(f"{label} : {exc.message}") from None


def check_town_ref(value: object, label: str) -> str | None:
    """The town's own file number: letters, digits, « - », « / », « _ » and « . »; may be empty."""
    text = optional_text(value, label, REF_MAX)
    if text is not None and not re.fullmatch(r"[A-Za-z0-9/_.\-]+", text):
        raise InvalidInput(f"{label} : lettres, chiffres, « - », « / », « _ » ou « . » seulement, sans espace.")
    return text


def check_guardian(typed: GuardianInput, rank: int) -> GuardianInput:
    """The guardian as typed, cleaned, or the refusal naming the field."""
    if rank not in range(1, MAX_GUARDIANS + 1):
        raise InvalidInput(f"Une famille a au plus {MAX_GUARDIANS} responsables.")
    who = f"Responsable {rank}"
    return GuardianInput(
        first_name=check_name(typed.first_name, f"{who}, prénom"),
        last_name=check_name(typed.last_name, f"{who}, nom"),
        email=optional_email(typed.email, f"{who}, e-mail"),
        phone=optional_phone(typed.phone, f"{who}, téléphone"),
        address=optional_text(typed.address, f"{who}, adresse"),
        town_ref=check_town_ref(typed.town_ref, f"{who}, identifiant mairie"),
    )


def check_qf(value: object) -> int:
    return whole_number(value, "Quotient familial", 0, QF_MAX)


def parse_qf(typed: object) -> int:
    """A QF typed in a text field (« 1 250 » or « 1250 »), checked as `check_qf`."""
    text = "".join(typed.split()) if isinstance(typed, str) else ""
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(f"Quotient familial : saisissez un nombre entier entre 0 et {QF_MAX}.")
    return check_qf(int(text))


def check_qf_date(day: object, today: date) -> date:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInput("Date du quotient familial : choisissez une date.")
    if day > today:
        raise InvalidInput("Date du quotient familial : elle ne peut pas être dans le futur.")
    return day


def check_source(value: object) -> QfSource:
    try:
        return QfSource(str(value))
    except ValueError:
        raise InvalidInput("Origine du quotient familial : choisissez CAF, MSA, attestation ou autre.") from None


def check_allocataire(source: QfSource, value: object) -> str | None:
    """The CAF or MSA allocataire number: digits only (may be empty); another source has none."""
    text = optional_text(value, "Numéro d'allocataire", ALLOCATAIRE_MAX)
    if text is None:
        return None
    if source not in (QfSource.CAF, QfSource.MSA):
        raise InvalidInput("Numéro d'allocataire : seulement pour un quotient de la CAF ou de la MSA.")
    compact = text.replace(" ", "")
    if not compact.isdigit() or not compact.isascii():
        raise InvalidInput(f"Numéro d'allocataire {source.label} : chiffres seulement.")
    return compact


def check_quotient(typed: QuotientInput, today: date) -> QuotientInput:
    source = check_source(typed.source)
    return QuotientInput(
        qf=check_qf(typed.qf),
        valid_from=check_qf_date(typed.valid_from, today),
        source=source,
        allocataire_no=check_allocataire(source, typed.allocataire_no),
    )


def check_birth_date(day: object, today: date) -> date:
    """A child's birth date: in the past, and the child under 18."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInput("Date de naissance : choisissez une date.")
    if day >= today:
        raise InvalidInput("Date de naissance : elle doit être passée.")
    try:
        adult_on = day.replace(year=day.year + ADULT_AGE)
    except ValueError:  # born on 29 February
        adult_on = date(day.year + ADULT_AGE, 3, 1)
    if adult_on <= today:
        raise InvalidInput(f"Date de naissance : l'enfant doit avoir moins de {ADULT_AGE} ans.")
    return day


def check_child(typed: ChildInput, today: date, classes: Sequence[str], diets: Sequence[str]) -> ChildInput:
    if typed.school_class not in classes:
        raise InvalidInput("Classe : choisissez-en une dans la liste.")
    if typed.diet_code not in diets:
        raise InvalidInput("Régime alimentaire : choisissez-en un dans la liste.")
    return ChildInput(
        first_name=check_name(typed.first_name, "Prénom de l'enfant"),
        last_name=check_name(typed.last_name, "Nom de l'enfant"),
        birth_date=check_birth_date(typed.birth_date, today),
        school_class=typed.school_class,
        diet_code=typed.diet_code,
        town_ref=check_town_ref(typed.town_ref, "Identifiant mairie de l'enfant"),
    )


def check_contact(typed: ContactInput) -> ContactInput:
    if not (typed.emergency or typed.pickup):
        raise InvalidInput(
            "Contact : cochez « à prévenir en cas d'urgence », « autorisé à venir chercher » ou les deux."
        )
    return ContactInput(
        name=check_name(typed.name, "Nom du contact"),
        relation=required_text(typed.relation, "Lien avec l'enfant", NAME_MAX),
        phone=check_phone(typed.phone, "Téléphone du contact"),
        emergency=bool(typed.emergency),
        pickup=bool(typed.pickup),
        child_id=typed.child_id,
    )


def check_billing(mode: object, guardians: Sequence[Guardian]) -> BillingMode:
    """Who is billed: responsable 2 needs a second guardian; a split bill needs two guardians,
    each with an e-mail (each receives his share)."""
    try:
        billing = BillingMode(str(mode))
    except ValueError:
        raise InvalidInput("Facturation : choisissez responsable 1, responsable 2 ou partagée.") from None
    ranks = {g.rank for g in guardians}
    if billing is BillingMode.GUARDIAN2 and 2 not in ranks:
        raise InvalidInput("Facturation : ajoutez d'abord le responsable 2.")
    if billing is BillingMode.SPLIT:
        if ranks != {1, 2}:
            raise InvalidInput("Facturation partagée : la famille doit avoir deux responsables.")
        if any(not g.email for g in guardians):
            raise InvalidInput("Facturation partagée : chaque responsable doit avoir une adresse e-mail.")
    return billing


def check_shares(percents: Sequence[object]) -> list[int]:
    """The two guardians' shares of a child's bill, in percent: whole numbers summing to 100."""
    if len(percents) != MAX_GUARDIANS:
        raise InvalidInput("Répartition : indiquez la part de chacun des deux responsables.")
    shares = [whole_number(p, "Part d'un responsable (%)", 0, 100) for p in percents]
    if sum(shares) != 100:
        raise InvalidInput(f"Répartition : les parts doivent faire 100 % au total (ici {sum(shares)} %).")
    return shares


@dataclass(frozen=True)
class FoundFamily:
    """A family found by the staff's search: enough to tell namesakes apart."""

    id: int
    name: str
    town_ref: str | None
    guardians: str  # « Anne Aubert, Marc Aubert »
    children: str  # « Alice, Adrien »
    archived: bool


_DAY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def parse_day(typed: object, label: str) -> date:
    """A day typed the French way, « 14/03/2019 », or the refusal naming the field."""
    text = typed.strip() if isinstance(typed, str) else ""
    match = _DAY.match(text)
    try:
        if match is None:
            raise ValueError
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise InvalidInput(f"{label} : date illisible « {text[:20]} » (attendu JJ/MM/AAAA).") from None
