"""What an invoice says so that the public accountant can collect it, in one place for the PDF, the
detail a family reads in « Mes factures » and the e-mail that announces it.

A canteen bill is public revenue. The document names its debtor (the guardian it is addressed to,
with his postal address), the town that issues it (name, address, SIRET), the official who issues it
(« l'ordonnateur »), who collects it — the town's own « régie de recettes » (its régisseur takes
cheques, cash and CESU at the town hall) or, under an « avis des sommes à payer », the public
accountant (the service de gestion comptable, SGC, or trésorerie) —, its issue and due dates, every
way to pay it with its payment reference (`invoicing.payment_reference`, the one derivation), or,
under direct debit, the day it will be debited instead, and the recourse the law gives the debtor
(two months, article L1617-5 du code général des collectivités territoriales).

The town's part comes from its settings (`TownLegal`, checked by `checked_legal`: a SIRET passing
its checksum with `stdnum.fr.siret`, the addresses each collection mode needs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stdnum.exceptions import ValidationError
from stdnum.fr import siret as siret_number

from lib.domain import fr
from lib.domain.errors import InvalidInput
from lib.domain.invoicing import payment_reference

TEXT_MAX_LENGTH = 200


class CollectionMode(StrEnum):
    """Who collects the town's invoices (the setting `collection_mode`)."""

    REGIE = "regie"  # the town's régie de recettes: its régisseur is paid at the town hall
    ASAP = "asap"  # an « avis des sommes à payer »: the public accountant (SGC, trésorerie) collects

    @property
    def label(self) -> str:
        return {
            CollectionMode.REGIE: "Régie de recettes (paiement au régisseur de la commune)",
            CollectionMode.ASAP: "Avis des sommes à payer (recouvrement par le comptable public)",
        }[self]


# The settings an administrator fills in, in the form's order: key → its label in French.
FIELDS: dict[str, str] = {
    "town_address": "Adresse de la mairie",
    "town_siret": "SIRET de la commune",
    "collection_mode": "Mode de recouvrement",
    "official_name": "Ordonnateur : nom",
    "official_title": "Ordonnateur : qualité",
    "accountant_name": "Comptable public (SGC ou trésorerie)",
    "accountant_address": "Adresse du comptable public",
    "regie_name": "Nom de la régie (ordre des chèques)",
    "regie_address": "Adresse de la régie",
    "regie_hours": "Horaires d'ouverture de la régie",
}
ALWAYS_REQUIRED = ("town_address", "town_siret", "official_name", "official_title")
REQUIRED_BY_MODE: dict[CollectionMode, tuple[str, ...]] = {
    CollectionMode.REGIE: ("regie_name", "regie_address", "regie_hours"),
    CollectionMode.ASAP: ("accountant_name", "accountant_address"),
}
DEFAULT_MODE = CollectionMode.ASAP  # a town that has not said: its invoices go to the public accountant


def check_siret(value: object) -> str:
    """The SIRET's 14 digits (spaces and dots allowed when typed), its check digit verified."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{FIELDS['town_siret']} : ce champ est obligatoire.")
    try:
        return str(siret_number.validate(value))
    except ValidationError:
        raise InvalidInput(
            f"{FIELDS['town_siret']} : « {value.strip()[:40]} » n'est pas un numéro SIRET valide (14 chiffres dont "
            "le dernier est une clé de contrôle) ; recopiez-le depuis l'avis de situation INSEE de la commune."
        ) from None


def check_mode(value: object) -> CollectionMode:
    if isinstance(value, str) and value in {m.value for m in CollectionMode}:
        return CollectionMode(value)
    raise InvalidInput(f"{FIELDS['collection_mode']} : choisissez la régie de recettes ou l'avis des sommes à payer.")


def check_text(key: str, value: object) -> str:
    """A setting's text on one line ('' when empty), at most `TEXT_MAX_LENGTH` characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{FIELDS[key]} : saisissez un texte.")
    clean = " ".join(value.split())
    if len(clean) > TEXT_MAX_LENGTH:
        raise InvalidInput(f"{FIELDS[key]} : {TEXT_MAX_LENGTH} caractères au plus.")
    return clean


@dataclass(frozen=True)
class TownLegal:
    """What the invoice says of the town (a field not set yet is '' and is left out of the text)."""

    name: str
    address: str = ""
    siret: str = ""  # 14 digits
    mode: CollectionMode = DEFAULT_MODE
    official_name: str = ""
    official_title: str = ""
    accountant_name: str = ""
    accountant_address: str = ""
    regie_name: str = ""
    regie_address: str = ""
    regie_hours: str = ""


def legal_from(settings: Mapping[str, str]) -> TownLegal:
    """The town's part of its invoices from the stored settings, as stored (checked when saved)."""
    stored_mode = settings.get("collection_mode", "")
    mode = CollectionMode(stored_mode) if stored_mode in {m.value for m in CollectionMode} else DEFAULT_MODE
    return TownLegal(
        name=settings.get("town_name", ""),
        address=settings.get("town_address", ""),
        siret=settings.get("town_siret", ""),
        mode=mode,
        official_name=settings.get("official_name", ""),
        official_title=settings.get("official_title", ""),
        accountant_name=settings.get("accountant_name", ""),
        accountant_address=settings.get("accountant_address", ""),
        regie_name=settings.get("regie_name", ""),
        regie_address=settings.get("regie_address", ""),
        regie_hours=settings.get("regie_hours", ""),
    )


def checked_legal(values: Mapping[str, object]) -> dict[str, str]:
    """Every field of the form checked together: the values to store (key → clean text). The SIRET
    passes its checksum; the town's address and its ordonnateur are always needed, the régie's name,
    address and hours in régie mode, the public accountant's name and address under an avis des
    sommes à payer. InvalidInput names the first field to correct, in French."""
    unknown = [key for key in values if key not in FIELDS]
    if unknown:
        raise InvalidInput(f"Réglage inconnu « {str(unknown[0])[:40]} ».")
    mode = check_mode(values.get("collection_mode"))
    clean = {
        key: check_text(key, values.get(key, "")) for key in FIELDS if key not in ("collection_mode", "town_siret")
    }
    clean["collection_mode"] = mode.value
    for key in (*ALWAYS_REQUIRED, *REQUIRED_BY_MODE[mode]):
        if key != "town_siret" and not clean[key]:
            raise InvalidInput(f"{FIELDS[key]} : ce champ est obligatoire ({_why(key, mode)}).")
    clean["town_siret"] = check_siret(values.get("town_siret"))
    return {key: clean[key] for key in FIELDS}


def _why(key: str, mode: CollectionMode) -> str:
    if key in ALWAYS_REQUIRED:
        return "il figure sur chaque facture"
    if mode is CollectionMode.REGIE:
        return "les familles paient à la régie"
    return "les familles paient au comptable public sous un avis des sommes à payer"


def siret_text(siret: str) -> str:
    """« 213 102 979 00016 », as printed."""
    return str(siret_number.format(siret)) if siret else ""


# --- the text ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Way:
    """One way to pay: its name and what to do."""

    title: str
    text: str


@dataclass(frozen=True)
class InvoiceText:
    """Every sentence of an invoice that is not its lines and totals, in reading order."""

    issuer: tuple[str, ...]  # the town: name, address, SIRET
    debtor: tuple[str, ...]  # « Débiteur : … », then the address
    dates: tuple[str, ...]  # issue and due dates
    reference: str  # « Référence de paiement : F2026000123 » ('' for a credit note)
    collection: str  # the collection mode and who collects
    ways: tuple[Way, ...]  # how to pay (only the direct debit under a mandate; none when nothing is owed)
    official: str  # « L'ordonnateur : … »
    recourse: str  # '' for a credit note


RECOURSE = (
    "Voies et délais de recours : dans un délai de deux mois suivant la réception de la présente facture, vous "
    "pouvez contester la somme réclamée en saisissant directement le tribunal compétent (tribunal judiciaire ou "
    "tribunal administratif, selon la nature de la créance), en application de l'article L1617-5 du code général "
    "des collectivités territoriales. Avant tout recours, vous pouvez adresser une réclamation écrite à la mairie."
)
PORTAL_WHERE = "sur le Portail Famille, rubrique « Mes factures », bouton « Payer »"


def reference_line(number: str) -> str:
    return f"Référence de paiement : {payment_reference(number)}"


def issuer_lines(town: TownLegal) -> tuple[str, ...]:
    return tuple(
        line for line in (town.name, town.address, f"SIRET : {siret_text(town.siret)}" if town.siret else "") if line
    )


def debtor_lines(name: str, address: str | None) -> tuple[str, ...]:
    """The guardian the invoice is addressed to, and his postal address."""
    return (f"Débiteur : {name}", address or "Adresse postale non renseignée : signalez-la à la mairie.")


def official_line(town: TownLegal) -> str:
    who = ", ".join(part for part in (town.official_name, town.official_title) if part)
    return f"L'ordonnateur : {who}" if who else ""


def collection_line(town: TownLegal) -> str:
    if town.mode is CollectionMode.REGIE:
        regie = f" (« {town.regie_name} »)" if town.regie_name else ""
        return (
            f"Mode de recouvrement : régie de recettes de la commune{regie}, tenue par son régisseur. Passé la date "
            "d'échéance, la somme restant due est transmise au comptable public (Trésor public) pour recouvrement."
        )
    accountant = ", ".join(part for part in (town.accountant_name, town.accountant_address) if part)
    return (
        "Mode de recouvrement : avis des sommes à payer. Titre de recettes émis et rendu exécutoire par l'ordonnateur "
        "(article R2342-4 du code général des collectivités territoriales), recouvré par le comptable public"
        + (f" : {accountant}." if accountant else ".")
    )


def ways_to_pay(
    town: TownLegal,
    number: str,
    left_cents: int,
    *,
    online_by_payfip: bool,
    debit_on: date | None = None,
    debit_account: str = "",
) -> tuple[Way, ...]:
    """How to pay what is left on invoice `number`. Under direct debit (`debit_on`: the day the
    town's file debits it; `debit_account`: how the family recognises its account, e.g. a masked
    IBAN) only the debit is said, so nobody pays twice; nothing when nothing is owed."""
    if left_cents <= 0:
        return ()
    reference = payment_reference(number)
    if debit_on is not None:
        account = f" {debit_account}" if debit_account else ""
        return (
            Way(
                "Prélèvement automatique",
                f"Cette facture sera prélevée le {fr.long_date(debit_on)} sur votre compte{account} "
                f"({fr.euros(left_cents)}, référence {reference}). N'envoyez pas d'autre paiement.",
            ),
        )
    payfip = " (paiement sécurisé PayFiP de la DGFiP)" if online_by_payfip else ""
    ways = [Way("En ligne", f"par carte bancaire {PORTAL_WHERE}{payfip}, avec la référence {reference}.")]
    if town.mode is CollectionMode.REGIE:
        regie = f"« {town.regie_name} »" if town.regie_name else "la régie de la commune"
        where = f" : {town.regie_address}" if town.regie_address else ""
        hours = f" ({town.regie_hours})" if town.regie_hours else ""
        ways += [
            Way(
                "Par chèque",
                f"à l'ordre de {regie}, en inscrivant au dos la référence {reference}, à déposer ou à envoyer à la "
                f"régie{where}.",
            ),
            Way(
                "En espèces ou en CESU",
                f"au guichet de la régie{where}{hours}, en indiquant la référence {reference}.",
            ),
        ]
    else:
        where = ", ".join(part for part in (town.accountant_name, town.accountant_address) if part)
        ways.append(
            Way(
                "Par chèque",
                f"à l'ordre du Trésor public, en inscrivant au dos la référence {reference}, à envoyer au comptable "
                f"public{' : ' + where if where else ''}.",
            )
        )
    ways.append(
        Way(
            "Prélèvement automatique",
            "pour les prochaines factures, demandez à la mairie un mandat de prélèvement SEPA.",
        )
    )
    return tuple(ways)


def invoice_text(
    town: TownLegal,
    *,
    number: str,
    credit_note: bool,
    issue: date,
    due: date,
    left_cents: int,
    debtor_name: str,
    debtor_address: str | None,
    online_by_payfip: bool,
    debit_on: date | None = None,
    debit_account: str = "",
) -> InvoiceText:
    """The whole text of one invoice or credit note (a credit note asks for no payment and opens no
    recourse: it reduces what is owed)."""
    if credit_note:
        return InvoiceText(
            issuer_lines(town),
            debtor_lines(debtor_name, debtor_address),
            (f"Date d'émission : {fr.numeric_date(issue)}",),
            "",
            collection_line(town),
            (),
            official_line(town),
            "",
        )
    return InvoiceText(
        issuer_lines(town),
        debtor_lines(debtor_name, debtor_address),
        (f"Date d'émission : {fr.numeric_date(issue)}", f"Date d'échéance : {fr.numeric_date(due)}"),
        reference_line(number),
        collection_line(town),
        ways_to_pay(
            town, number, left_cents, online_by_payfip=online_by_payfip, debit_on=debit_on, debit_account=debit_account
        ),
        official_line(town),
        RECOURSE,
    )
