"""SEPA direct debit (« prélèvement SEPA »), as a French town collects its canteen bills: the rules
and the files, with no database.

- A family's payer guardian signs a SEPA core mandate: its reference (RUM, made by us: `make_rum`,
  checked by `check_rum`), signature date, debtor name, IBAN and BIC (checked with `schwifty`:
  `checked_account`). The town is the creditor: its identifier (ICS, `check_creditor_id`), name,
  account, the day of the month it collects and the pre-notification delay (`CreditorSettings`).
- Each month the administrator makes one `pain.008.001.02` file (`pain_008`, built and checked against
  the XSD by `sepaxml`): one transaction per invoice, FRST for a mandate's first collection and RCUR
  after (`sequence_type`), on the collection date (`collection_date`: the town's day of the month, at
  least the pre-notification delay after today).
- The family is told the amount, the date, the RUM and the ICS before (`notice_letter`).
- A rejected debit comes back with an ISO reason code (`REJECT_REASONS`, in French), typed by the
  administrator or read from the bank's `pain.002` status report (`read_pain_002`); the family is told
  (`rejected_letter`).
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaDD
from sepaxml.validation import ValidationError

from lib.domain import fr
from lib.domain.errors import InvalidInput
from lib.domain.letters import Letter, MailKind, one_line

# --- the mandate ---------------------------------------------------------------------------------

RUM_MAX = 35
# The characters the SEPA rulebook allows in a mandate reference (the « Latin character set »).
_RUM = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$")
DEBTOR_NAME_MAX = 70  # the pain.008's <Nm>
DEFAULT_NOTICE_DAYS = 14  # the SEPA rulebook's pre-notification, unless the mandate says otherwise
MIN_NOTICE_DAYS, MAX_NOTICE_DAYS = 2, 30
LAST_COLLECTION_DAY = 28  # every month has it
DEFAULT_COLLECTION_DAY = 5


class SequenceType(StrEnum):
    """The pain.008's <SeqTp> of one collection under a mandate (the store's `sepa_debits.sequence_type`)."""

    FIRST = "FRST"  # the mandate's first collection
    RECURRING = "RCUR"  # every later one


def make_rum(family_id: int, mandate_id: int) -> str:
    """The mandate's unique reference (RUM), ours: « PF » (Portail Famille), the family, the mandate's
    number; letters and digits only, well under 35 characters, unique since the mandate's id is."""
    return check_rum(f"PF{family_id:06d}M{mandate_id:07d}")


def check_rum(text: str) -> str:
    """A RUM as the rulebook allows it (1–35 characters of its set, not starting nor ending with a
    space, no « // »), else InvalidInput."""
    if not _RUM.match(text) or text != text.strip() or "//" in text:
        raise InvalidInput(
            "Référence de mandat (RUM) invalide : 1 à 35 caractères, lettres, chiffres et / - ? : ( ) . , ' +."
        )
    return text


@dataclass(frozen=True)
class Account:
    """A bank account as the file takes it: IBAN in its compact form, BIC of 8 or 11 characters."""

    iban: str
    bic: str


def checked_account(iban: str, bic: str) -> Account:
    """The IBAN and BIC typed by a person, checked with schwifty (country, length, check digits,
    bank code); an empty BIC is taken from the IBAN's bank where schwifty knows it. InvalidInput in
    French otherwise."""
    try:
        account = IBAN(iban.strip())
    except SchwiftyException as exc:
        raise InvalidInput(
            "IBAN invalide : vérifiez les 27 caractères d'un IBAN français (FR76 …), sans erreur de saisie "
            f"({_why(exc)})."
        ) from exc
    typed = bic.strip().replace(" ", "").upper()
    if not typed:
        found = account.bic
        if found is None:
            raise InvalidInput("BIC manquant : la banque de cet IBAN n'est pas connue, saisissez son BIC.")
        return Account(account.compact, str(found.compact))
    try:
        checked = BIC(typed)
    except SchwiftyException as exc:
        raise InvalidInput(f"BIC invalide : 8 ou 11 caractères, comme BNPAFRPP ({_why(exc)}).") from exc
    if checked.country_code != account.country_code:
        raise InvalidInput("Le BIC n'est pas celui d'une banque du pays de l'IBAN : vérifiez les deux.")
    return Account(account.compact, str(checked.compact))


def _why(exc: SchwiftyException) -> str:
    """schwifty's reason, in French for the ones a person makes."""
    name = type(exc).__name__
    return {
        "InvalidChecksumDigits": "clé de contrôle fausse",
        "InvalidLength": "longueur incorrecte",
        "InvalidCountryCode": "code pays inconnu",
        "InvalidStructure": "format incorrect",
        "InvalidBankCode": "banque inconnue",
        "InvalidBranchCode": "agence inconnue",
        "InvalidAccountCode": "numéro de compte incorrect",
    }.get(name, "format incorrect")


def masked_iban(iban: str) -> str:
    """An IBAN as a family sees it: the country, then only the last 4 characters."""
    return f"{iban[:4]} •••• •••• {iban[-4:]}" if len(iban) > 8 else "••••"


def checked_debtor_name(name: str) -> str:
    clean = one_line(name, 200)
    if not 2 <= len(clean) <= DEBTOR_NAME_MAX:
        raise InvalidInput(f"Nom du débiteur : 2 à {DEBTOR_NAME_MAX} caractères, comme sur le mandat signé.")
    return clean


def checked_notice_days(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_NOTICE_DAYS <= value <= MAX_NOTICE_DAYS:
        raise InvalidInput(
            f"Délai de pré-notification : un nombre de jours entre {MIN_NOTICE_DAYS} et {MAX_NOTICE_DAYS} "
            f"({DEFAULT_NOTICE_DAYS} par défaut)."
        )
    return value


def checked_signature_date(signed_on: object, today: date) -> date:
    if not isinstance(signed_on, date):
        raise InvalidInput("Date de signature du mandat manquante.")
    if signed_on > today:
        raise InvalidInput("La date de signature du mandat ne peut pas être dans le futur.")
    return signed_on


# --- the creditor (the town) ---------------------------------------------------------------------

_ICS = re.compile(r"^([A-Z]{2})(\d{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


def check_creditor_id(text: str) -> str:
    """The creditor identifier (ICS, « identifiant créancier SEPA ») the Banque de France gave the
    town: FR, 2 check digits, a 3-character business code (ZZZ by default), the national identifier;
    the check digits are ISO 7064 mod 97-10 over the national identifier and the country (the
    business code left out): FR72ZZZ123456. InvalidInput otherwise."""
    compact = text.replace(" ", "").upper()
    match = _ICS.match(compact)
    if match is None or len(compact) > 35:
        raise InvalidInput("Identifiant créancier SEPA (ICS) invalide : il s'écrit comme FR72ZZZ123456.")
    country, check, _, national = match.groups()
    if 98 - _mod97(f"{national}{country}00") != int(check):
        raise InvalidInput("Identifiant créancier SEPA (ICS) invalide : sa clé de contrôle ne correspond pas.")
    return compact


def checked_collection_day(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= LAST_COLLECTION_DAY:
        raise InvalidInput(f"Jour de prélèvement : un jour du mois entre 1 et {LAST_COLLECTION_DAY}.")
    return value


@dataclass(frozen=True)
class CreditorSettings:
    """The town as creditor: the settings the administrator enters once."""

    name: str
    creditor_id: str  # ICS
    iban: str
    bic: str
    collection_day: int  # day of the month debits are collected (1–28)
    notice_days: int = DEFAULT_NOTICE_DAYS  # the pre-notification delay, unless a mandate says otherwise

    @property
    def complete(self) -> bool:
        return bool(self.name and self.creditor_id and self.iban and self.bic)


def checked_creditor(
    name: str, creditor_id: str, iban: str, bic: str, collection_day: object, notice_days: object
) -> CreditorSettings:
    clean_name = one_line(name, 200)
    if not 2 <= len(clean_name) <= DEBTOR_NAME_MAX:
        raise InvalidInput(f"Nom du créancier : 2 à {DEBTOR_NAME_MAX} caractères (le nom de la mairie ou de la régie).")
    account = checked_account(iban, bic)
    return CreditorSettings(
        clean_name,
        check_creditor_id(creditor_id),
        account.iban,
        account.bic,
        checked_collection_day(collection_day),
        checked_notice_days(notice_days),
    )


# --- a month's collection ------------------------------------------------------------------------


def collection_date(today: date, collection_day: int, notice_days: int) -> date:
    """The first date on the town's day of the month that is at least `notice_days` after today:
    the family must have had its pre-notification that long before the money leaves its account."""
    earliest = today + timedelta(days=notice_days)
    candidate = earliest.replace(day=collection_day)
    if candidate >= earliest:
        return candidate
    following = (earliest.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following.replace(day=collection_day)


def sequence_type(collected_before: bool) -> SequenceType:
    """FRST for a mandate's first collection (none of its earlier debits went through), RCUR after."""
    return SequenceType.RECURRING if collected_before else SequenceType.FIRST


@dataclass(frozen=True)
class Debit:
    """One transaction of the file: an invoice collected under a mandate."""

    end_to_end_id: str  # ours, the bank returns it with a reject: « R12-F2026000123 »
    invoice_number: str
    amount_cents: int
    rum: str
    signed_on: date
    debtor_name: str
    iban: str
    bic: str
    sequence: SequenceType


def end_to_end_id(run_id: int, reference: str) -> str:
    """A debit's end-to-end id: the run and the invoice's payment reference (at most 35 characters)."""
    return f"R{run_id}-{reference}"[:35]


def remittance(invoice_number: str, town: str) -> str:
    """The <Ustrd> line the family reads on its bank statement."""
    return one_line(f"Facture {invoice_number} {town}", 140)


def pain_008(creditor: CreditorSettings, collection: date, debits: list[Debit], message_id: str) -> bytes:
    """The `pain.008.001.02` file (SEPA core direct debit, as French banks take it) of a run, built by
    sepaxml and validated by it against the XSD: one payment block per sequence type on the
    collection date. InvalidInput when there is nothing to collect or the file does not validate."""
    if not debits:
        raise InvalidInput("Aucune facture à prélever : aucun fichier n'est produit.")
    file = SepaDD(
        {
            "name": creditor.name,
            "IBAN": creditor.iban,
            "BIC": creditor.bic,
            "batch": True,
            "creditor_id": creditor.creditor_id,
            "currency": "EUR",
        },
        schema="pain.008.001.02",
    )
    file.msg_id = message_id
    header = file._xml.find("CstmrDrctDbtInitn/GrpHdr/MsgId")
    if header is not None:  # made in sepaxml's constructor: ours is the run's
        header.text = message_id
    for debit in debits:
        file.add_payment(
            {
                "name": debit.debtor_name,
                "IBAN": debit.iban,
                "BIC": debit.bic,
                "amount": debit.amount_cents,
                "type": debit.sequence.value,
                "collection_date": collection,
                "mandate_id": debit.rum,
                "mandate_date": debit.signed_on,
                "description": remittance(debit.invoice_number, creditor.name),
                "endtoend_id": debit.end_to_end_id,
            }
        )
    try:
        out: bytes = file.export(validate=True)
    except ValidationError as exc:
        raise InvalidInput(
            "Le fichier de prélèvement ne respecte pas le format pain.008 : vérifiez les réglages et les mandats."
        ) from exc
    return out


def message_id(month: date, run_id: int) -> str:
    """The file's <MsgId>: unique for the town (the run's id), readable (the billed month)."""
    return f"PORTAIL-{month:%Y%m}-{run_id:06d}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- rejects -------------------------------------------------------------------------------------

# The ISO 20022 reason codes French banks return for a rejected or returned SEPA direct debit.
REJECT_REASONS: dict[str, str] = {
    "AC01": "Numéro de compte incorrect",
    "AC04": "Compte clôturé",
    "AC06": "Compte bloqué",
    "AC13": "Compte du débiteur d'un type non autorisé",
    "AG01": "Prélèvement interdit sur ce compte",
    "AG02": "Code opération incorrect",
    "AM04": "Provision insuffisante",
    "AM05": "Opération en double",
    "BE05": "Créancier inconnu",
    "CNOR": "Banque du créancier injoignable",
    "DNOR": "Banque du débiteur injoignable",
    "FF01": "Fichier ou opération invalide",
    "MD01": "Pas de mandat",
    "MD02": "Données du mandat manquantes ou incorrectes",
    "MD06": "Remboursement demandé par le débiteur",
    "MD07": "Débiteur décédé",
    "MS02": "Refus du débiteur",
    "MS03": "Raison non communiquée par la banque",
    "RC01": "BIC incorrect",
    "RR01": "Identification du débiteur manquante",
    "RR02": "Nom ou adresse du débiteur manquant",
    "RR03": "Nom ou adresse du créancier manquant",
    "RR04": "Raison réglementaire",
    "SL01": "Service spécifique de la banque du débiteur",
}


def reject_code(code: object) -> str:
    """A reason code as typed (« am04 ») made the bank's (« AM04 »); InvalidInput for an unknown one."""
    clean = code.strip().upper() if isinstance(code, str) else ""
    if clean not in REJECT_REASONS:
        raise InvalidInput("Motif de rejet inconnu : choisissez un code de la liste (AM04, MD01, AC04, MS02…).")
    return clean


def reject_reason(code: object) -> str:
    """The code's French wording, « AM04 – Provision insuffisante »; InvalidInput for an unknown code."""
    clean = reject_code(code)
    return f"{clean} – {REJECT_REASONS[clean]}"


@dataclass(frozen=True)
class Returned:
    """A rejected transaction as the bank's status report gives it."""

    end_to_end_id: str
    code: str


_PAIN_002 = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:pain\.002\.001\.\d\d$")
MAX_RETURN_FILE = 5_000_000


class _Declaration(Exception):
    """A DOCTYPE, refused unread: entities are declared only in one."""


class _WithoutDoctype(ET.TreeBuilder):
    """ElementTree's tree builder, stopping its parser at the start of any DOCTYPE."""

    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise _Declaration


def _without_doctype(data: bytes) -> ET.Element:
    """The document's root; ParseError for a document with a DOCTYPE (so with entities), as the XML
    parser itself sees it, whatever the file's encoding (a search of the bytes misses UTF-16)."""
    parser = ET.XMLParser(target=_WithoutDoctype())
    try:
        parser.feed(data)
        root: ET.Element = parser.close()
    except _Declaration as exc:
        raise ET.ParseError("DOCTYPE") from exc
    return root


def read_pain_002(data: bytes) -> list[Returned]:
    """The rejected transactions (<TxSts>RJCT</TxSts>, or a whole rejected group) of a bank's
    `pain.002` Customer Payment Status Report: each one's <OrgnlEndToEndId> and its reason code
    (<StsRsnInf><Rsn><Cd>). A file with a DOCTYPE (entities) is refused unread. InvalidInput in
    French for anything that is not such a report."""
    refusal = InvalidInput(
        "Fichier de retour illisible : déposez le compte rendu de rejets de la banque au format XML pain.002."
    )
    if not data or len(data) > MAX_RETURN_FILE:
        raise refusal
    try:
        root = _without_doctype(data)
    except (ET.ParseError, ValueError) as exc:  # ValueError: an encoding the parser cannot read (UTF-32…)
        raise refusal from exc
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if not _PAIN_002.match(namespace):
        raise refusal
    ns = {"p": namespace}
    report = root.find("p:CstmrPmtStsRpt", ns)
    if report is None:
        raise refusal
    found: list[Returned] = []
    for group in report.findall("p:OrgnlPmtInfAndSts", ns):
        group_status = (group.findtext("p:PmtInfSts", "", ns) or "").strip()
        group_code = (group.findtext("p:StsRsnInf/p:Rsn/p:Cd", "", ns) or "").strip()
        for tx in group.findall("p:TxInfAndSts", ns):
            status = (tx.findtext("p:TxSts", "", ns) or group_status).strip()
            if status != "RJCT":
                continue
            ident = (tx.findtext("p:OrgnlEndToEndId", "", ns) or "").strip()
            code = (tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", "", ns) or group_code).strip().upper()
            if ident:
                found.append(Returned(ident, code))
    return found


# --- letters to the family -----------------------------------------------------------------------


def notice_letter(
    town: str, number: str, amount_cents: int, collection: date, rum: str, creditor_id: str, iban: str
) -> Letter:
    """The pre-notification: what will be debited, when, under which mandate, by which creditor."""
    return Letter(
        kind=MailKind.DIRECT_DEBIT_NOTICE,
        subject=f"Prélèvement de la facture {number} le {fr.numeric_date(collection)} – {one_line(town, 80)}",
        paragraphs=(
            "Bonjour,",
            f"La facture {number} sera prélevée sur votre compte, selon le mandat SEPA que vous avez signé :",
        ),
        lines=(
            f"Montant : {fr.euros(amount_cents)}",
            f"Date du prélèvement : {fr.long_date(collection)}",
            f"Compte débité : {masked_iban(iban)}",
            f"Référence unique du mandat (RUM) : {rum}",
            f"Identifiant créancier SEPA (ICS) : {creditor_id}",
        ),
        after=("Vous n'avez rien à faire : veillez seulement à ce que votre compte soit approvisionné à cette date.",),
    )


def rejected_letter(town: str, number: str, amount_cents: int, collection: date, reason: str) -> Letter:
    """A rejected debit: the invoice is to be paid again, and why the bank refused."""
    return Letter(
        kind=MailKind.DIRECT_DEBIT_REJECTED,
        subject=f"Prélèvement rejeté – facture {number} – {one_line(town, 80)}",
        paragraphs=(
            "Bonjour,",
            f"Le prélèvement de la facture {number} du {fr.long_date(collection)} a été rejeté par votre banque :",
        ),
        lines=(f"Montant : {fr.euros(amount_cents)}", f"Motif : {reason}"),
        after=("La facture reste à payer : vous pouvez la régler en ligne dans « Mes factures » ou à la mairie.",),
    )
