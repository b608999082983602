"""The town hall's cash desk (« régie »): what a régisseur types when a family pays at the counter
(cheque, cash, CESU, transfer), the checks it passes, the receipts' numbers (gapless per year, or
the paper receipt book's own), and the day's cash journal with its totals per means.

A payment is never edited: a mistake is undone by a counter-entry with its reason and its own
receipt (« Annulation du reçu R-2026-000001 »). The money itself is the payments ledger's
(lib/store/payments.py); this module knows only the rules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lib.domain import fr
from lib.domain.errors import InvalidInput
from lib.domain.invoicing import PaymentMethod, payment_reference
from lib.domain.validation import fold

# The means a régisseur takes at the counter, in the order the form offers them.
MEANS: tuple[PaymentMethod, ...] = (
    PaymentMethod.CHEQUE,
    PaymentMethod.CASH,
    PaymentMethod.CESU,
    PaymentMethod.TRANSFER,
)
RECEIPT_PREFIX = "R"
_PORTAL_NUMBER = re.compile(r"^R-?\d{4}-?\d+$", re.IGNORECASE)
_AMOUNT = re.compile(r"^(\d{1,6})(?:[,.](\d{1,2}))?$")
_CHEQUE_NUMBER = re.compile(r"^\d{1,12}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TEXT_MAX = 80  # a name, a bank, a transfer's reference
BOOK_NUMBER_MAX = 30
REASON_MIN, REASON_MAX = 5, 300
CESU_MAX = 500  # titles handed over at once


REGIE_NAME = "Régie de recettes du service enfance"  # when the town's settings name none
SEARCH_MIN, SEARCH_MAX = 2, 60
_REFERENCE = re.compile(r"^([A-Z]+)(\d{4})(\d+)$")


@dataclass(frozen=True)
class Search:
    """What the régisseur typed to find an invoice: folded words for the family's or a guardian's
    name, and the invoice numbers it may stand for (as typed, or its payment reference's invoice)."""

    words: list[str]
    numbers: list[str]


def search_terms(raw: object) -> Search:
    """« Aubert », « F-2026-000123 » or its payment reference « F2026000123 » (see
    lib.domain.invoicing.payment_reference), or InvalidInput."""
    text = _text(raw, "Recherche", SEARCH_MAX)
    if len(text) < SEARCH_MIN:
        raise InvalidInput(
            "Saisissez au moins 2 caractères : le nom de la famille ou d'un responsable, le numéro de la facture "
            "ou sa référence de paiement."
        )
    number = text.upper()
    numbers = [number]
    reference = _REFERENCE.match(number)
    if reference and payment_reference(number) == number:
        numbers.append(f"{reference[1]}-{reference[2]}-{reference[3]}")
    return Search(fold(text).split(), numbers)


def receipt_number(year: int, seq: int) -> str:
    """R-2026-000001: the portal's receipt numbers, gapless per year like the invoices'."""
    return f"{RECEIPT_PREFIX}-{year}-{seq:06d}"


def parse_amount(raw: object) -> int:
    """An amount typed the French way ('45,50', '45.5 €', '12') in integer cents, or InvalidInput."""
    if not isinstance(raw, str):
        raise InvalidInput("Montant illisible : saisissez un montant en euros, par exemple 45,50.")
    shown = raw.strip()[:20]
    text = raw.replace("€", "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "").strip()
    if text.startswith("-"):
        raise InvalidInput(f"Montant négatif : « {shown} ». Saisissez le montant reçu, par exemple 45,50.")
    match = _AMOUNT.match(text)
    if not match:
        raise InvalidInput(f"Montant illisible : « {shown} ». Saisissez un montant en euros, par exemple 45,50.")
    cents = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
    if cents == 0:
        raise InvalidInput("Le montant reçu doit être supérieur à 0,00 €.")
    return cents


def _text(raw: object, label: str, limit: int = TEXT_MAX) -> str:
    """A short line of text: spaces collapsed, no control character, at most `limit` characters; ''
    when nothing was typed."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput(f"{label} illisible : saisissez du texte.")
    text = " ".join(raw.split())
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InvalidInput(f"{label} illisible : saisissez seulement des lettres, des chiffres et des espaces.")
    if len(text) > limit:
        raise InvalidInput(f"{label} trop long : {limit} caractères au plus.")
    return text


def _cesu_count(raw: object) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise InvalidInput("Nombre de titres CESU illisible : saisissez un nombre entier.")
    try:
        count = int(raw.strip()) if isinstance(raw, str) else int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput("Nombre de titres CESU illisible : saisissez un nombre entier.") from None
    if not 1 <= count <= CESU_MAX:
        raise InvalidInput(f"Nombre de titres CESU : entre 1 et {CESU_MAX}.")
    return count


def checked_book_number(raw: object) -> str | None:
    """The paper receipt book's number (« carnet à souches ») the régisseur typed, or None for the
    portal's own numbering. It cannot look like the portal's numbers: the two would collide."""
    text = _text(raw, "Numéro du carnet à souches", BOOK_NUMBER_MAX)
    if not text:
        return None
    if _PORTAL_NUMBER.match(text):
        raise InvalidInput(
            f"Le numéro « {text} » a la forme des reçus du portail (R-année-numéro) : saisissez le numéro "
            "imprimé sur le carnet à souches, ou laissez vide pour que le portail numérote le reçu."
        )
    return text


def checked_key(raw: object) -> str:
    """The form's idempotency key: one submission, one payment, however often it is sent."""
    if not isinstance(raw, str) or not _KEY.match(raw):
        raise InvalidInput("Formulaire expiré : rechargez la page et saisissez le paiement à nouveau.")
    return raw


@dataclass(frozen=True)
class CashPayment:
    """What the régisseur typed: every field as the form gives it (text), checked by `checked`."""

    method: object
    amount: object
    payer: object = None
    bank: object = None
    cheque_number: object = None
    drawer: object = None
    cesu_count: object = None
    transfer_ref: object = None
    book_number: object = None


@dataclass(frozen=True)
class CheckedPayment:
    method: PaymentMethod
    amount_cents: int
    payer: str  # '' : the invoice's payer
    bank: str | None = None
    cheque_number: str | None = None
    drawer: str | None = None
    cesu_count: int | None = None
    transfer_ref: str | None = None
    book_number: str | None = None


def _method(raw: object) -> PaymentMethod:
    for method in MEANS:
        if raw == method or raw == method.value:
            return method
    raise InvalidInput("Choisissez le moyen de paiement : chèque, espèces, CESU ou virement.")


def checked(form: CashPayment) -> CheckedPayment:
    """The payment as the rules accept it, or InvalidInput with the first problem in French."""
    method = _method(form.method)
    amount = parse_amount(form.amount)
    payer = _text(form.payer, "Nom de la personne qui paie")
    book = checked_book_number(form.book_number)
    if method is PaymentMethod.CHEQUE:
        number = _text(form.cheque_number, "Numéro du chèque", 12)
        if not number:
            raise InvalidInput("Saisissez le numéro du chèque (les chiffres imprimés en bas du chèque).")
        if not _CHEQUE_NUMBER.match(number):
            raise InvalidInput(f"Numéro du chèque illisible : « {number} ». Saisissez seulement ses chiffres.")
        bank = _text(form.bank, "Banque")
        if not bank:
            raise InvalidInput("Saisissez la banque du chèque.")
        drawer = _text(form.drawer, "Nom du tireur") or None
        return CheckedPayment(method, amount, payer, bank=bank, cheque_number=number, drawer=drawer, book_number=book)
    if method is PaymentMethod.CESU:
        return CheckedPayment(method, amount, payer, cesu_count=_cesu_count(form.cesu_count), book_number=book)
    if method is PaymentMethod.TRANSFER:
        reference = _text(form.transfer_ref, "Référence du virement")
        if not reference:
            raise InvalidInput("Saisissez la référence du virement (son libellé sur le relevé).")
        return CheckedPayment(method, amount, payer, transfer_ref=reference, book_number=book)
    return CheckedPayment(method, amount, payer, book_number=book)


def check_owed(amount_cents: int, owed_cents: int) -> None:
    """The régie takes at most what the invoice still owes: never more (a refund would follow)."""
    if owed_cents <= 0:
        raise InvalidInput("Cette facture est déjà réglée : il ne reste rien à payer.")
    if amount_cents > owed_cents:
        raise InvalidInput(
            f"Le montant dépasse ce qui reste dû ({fr.euros(owed_cents)}) : la régie n'encaisse pas plus que "
            f"la facture ({fr.euros(amount_cents)} saisis). Pour un chèque, demandez un chèque de "
            f"{fr.euros(owed_cents)} au plus."
        )


def checked_reason(raw: object) -> str:
    """Why a payment is cancelled: mandatory, a sentence the accountant can read."""
    text = _text(raw, "Motif", REASON_MAX)
    if len(text) < REASON_MIN:
        raise InvalidInput(
            f"Saisissez le motif de l'annulation ({REASON_MIN} caractères au moins), par exemple « chèque "
            "saisi sur la mauvaise facture »."
        )
    return text


# --- receipts and the day's journal --------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """A receipt as printed and as the journal lists it; a cancellation's receipt has a negative
    amount and names the receipt it cancels."""

    id: int
    number: str
    issued_at: datetime  # Paris time
    invoice_id: int
    invoice_number: str
    family: str
    payer: str
    amount_cents: int
    method: PaymentMethod
    regisseur: str
    payment_id: int
    bank: str | None = None
    cheque_number: str | None = None
    drawer: str | None = None
    cesu_count: int | None = None
    transfer_ref: str | None = None
    cancels_number: str | None = None  # a cancellation's: the receipt it cancels
    reason: str | None = None
    cancelled_by: str | None = None  # a payment's: the receipt that cancelled it

    @property
    def is_cancellation(self) -> bool:
        return self.cancels_number is not None

    @property
    def cancellable(self) -> bool:
        """A payment not cancelled yet: the only kind of receipt the régisseur may cancel."""
        return not self.is_cancellation and not self.cancelled_by


def means_heading(method: PaymentMethod) -> str:
    """« Chèque », « Espèces », « CESU »: a means at the head of a line (« CESU » stays upper case)."""
    return method.label[:1].upper() + method.label[1:]


def means_text(receipt: Receipt) -> str:
    """« chèque n° 1234567, Banque Postale, tireur Anne Aubert », « 3 titres CESU », « espèces »…"""
    if receipt.method is PaymentMethod.CHEQUE:
        parts = [f"chèque n° {receipt.cheque_number}", receipt.bank or ""]
        if receipt.drawer:
            parts.append(f"tireur {receipt.drawer}")
        return ", ".join(p for p in parts if p)
    if receipt.method is PaymentMethod.CESU:
        return (
            f"CESU ({receipt.cesu_count} titre{'s' if receipt.cesu_count > 1 else ''})"
            if receipt.cesu_count
            else "CESU"
        )
    if receipt.method is PaymentMethod.TRANSFER:
        return f"virement, référence {receipt.transfer_ref}" if receipt.transfer_ref else "virement"
    return receipt.method.label


def what_text(receipt: Receipt) -> str:
    """What the receipt is for: « Facture F-2026-000123 » or « Annulation du reçu R-2026-000001 »."""
    if receipt.cancels_number is not None:
        return f"Annulation du reçu {receipt.cancels_number} (facture {receipt.invoice_number})"
    return f"Facture {receipt.invoice_number}"


@dataclass(frozen=True)
class MeansTotal:
    """One means' line of the day's totals: for cheques, the remittance slip's count and sum."""

    method: PaymentMethod
    count: int  # receipts less cancellations: the cheques to take to the bank
    cents: int


@dataclass(frozen=True)
class DayTotals:
    by_means: list[MeansTotal]
    cents: int
    count: int


def day_totals(receipts: Iterable[Receipt]) -> DayTotals:
    """Totals per means, every means listed (0 when none), and the grand total. A cancellation counts
    minus one and its negative amount: a cheque received and cancelled the same day is not remitted."""
    count = dict.fromkeys(MEANS, 0)
    cents = dict.fromkeys(MEANS, 0)
    for receipt in receipts:
        count[receipt.method] += -1 if receipt.is_cancellation else 1
        cents[receipt.method] += receipt.amount_cents
    lines = [MeansTotal(method, count[method], cents[method]) for method in MEANS]
    return DayTotals(lines, sum(cents.values()), sum(count.values()))


JOURNAL_HEADERS = [
    "Reçu",
    "Date et heure",
    "Régisseur",
    "Objet",
    "Famille",
    "Payeur",
    "Moyen de paiement",
    "Banque",
    "N° de chèque",
    "Tireur",
    "Titres CESU",
    "Référence du virement",
    "Montant (€)",
    "Motif d'annulation",
]


def cents_as_euros(cents: int) -> Decimal:
    """-1250 → Decimal('-12.50'): a CSV amount in euros, written '-12,50' by lib.domain.spreadsheet
    (a number, never text, so that the accountant's sheet sums it)."""
    return Decimal(cents).scaleb(-2)


def journal_rows(receipts: Sequence[Receipt]) -> list[list[object]]:
    """The journal's CSV lines, one per receipt, in JOURNAL_HEADERS' order."""
    return [
        [
            r.number,
            fr.numeric_date_time(r.issued_at),
            r.regisseur,
            what_text(r),
            r.family,
            r.payer,
            r.method.label,
            r.bank or "",
            r.cheque_number or "",
            r.drawer or "",
            r.cesu_count if r.cesu_count is not None else "",
            r.transfer_ref or "",
            cents_as_euros(r.amount_cents),
            r.reason or "",
        ]
        for r in receipts
    ]


def totals_rows(totals: DayTotals) -> list[list[object]]:
    """The totals under the journal's lines, in the same columns: per means (its name under « Moyen
    de paiement », how many under « Objet », the amount) and the day's total."""

    def row(first: str, count: int, means: str, cents: int) -> list[object]:
        return [first, "", "", f"{count} reçu(s)", "", "", means, *[""] * 5, cents_as_euros(cents), ""]

    rows = [row("Total", t.count, t.method.label, t.cents) for t in totals.by_means]
    rows.append(row("Total de la journée", totals.count, "", totals.cents))
    return rows
