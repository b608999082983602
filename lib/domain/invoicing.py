"""Invoices: tariffs, lines, totals, numbering, what is left to pay, and the life of an online
payment attempt. Money is integer cents everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from lib.domain import fr
from lib.domain.errors import InvalidInput, PortailError

MAX_TARIFF_CENTS = 10_000  # 100 € for one meal or one half-day: anything above is a typing mistake
MAX_QF = 100_000
DEFAULT_DUE_DAYS = 30


class BillingRule(StrEnum):
    """What a month's invoice counts (a town setting)."""

    BOOKINGS = "bookings"  # every booked day
    BOOKINGS_JUSTIFIED_CREDITED = "bookings_justified_credited"  # booked days, less justified absences

    @property
    def label(self) -> str:
        return {
            BillingRule.BOOKINGS: "Jours réservés",
            BillingRule.BOOKINGS_JUSTIFIED_CREDITED: "Jours réservés, absences justifiées déduites",
        }[self]


class Kind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    @property
    def word(self) -> str:
        """« Facture », « Avoir »: what the document is called in French."""
        return "Avoir" if self is Kind.CREDIT_NOTE else "Facture"


class PaymentRight(StrEnum):
    """A family's right to pay online (the store's `families.payment_right`): the family asks,
    the town hall grants or refuses."""

    NONE = "none"
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


# F-2026-000123 for an invoice, AV-2026-000124 for a credit note: one gapless sequence a year,
# numbered by the store when a month is published.
PREFIX = {Kind.INVOICE: "F", Kind.CREDIT_NOTE: "AV"}


def sequence_after(count: int, distinct: int, top: int) -> int:
    """The next number of a gapless yearly sequence, from a summary of the year's numbers (how
    many documents, how many distinct numbers, the highest; numbers start at 1): gapless means
    all three are equal."""
    if not count == distinct == top:
        raise ValueError("the sequence already has a gap")
    return top + 1


@dataclass(frozen=True)
class Bracket:
    qf_max: int | None  # None: the top bracket
    price_cents: int


def check_tariff(price_cents: object, what: str = "Tarif") -> int:
    if isinstance(price_cents, bool) or not isinstance(price_cents, int):
        raise InvalidInput(f"{what} : saisissez un montant en centimes (nombre entier).")
    if not 0 <= price_cents <= MAX_TARIFF_CENTS:
        raise InvalidInput(
            f"{what} : montant impossible ({price_cents / 100:.2f} €) ; "
            f"il doit être compris entre 0 et {MAX_TARIFF_CENTS // 100} €."
        )
    return price_cents


def check_brackets(brackets: Sequence[Bracket]) -> list[Bracket]:
    """Brackets ordered by ceiling, each ceiling once, one open top bracket at most."""
    clean: list[Bracket] = []
    ceilings: set[int | None] = set()
    for bracket in brackets:
        if bracket.qf_max is not None and (
            isinstance(bracket.qf_max, bool) or not isinstance(bracket.qf_max, int) or not 0 <= bracket.qf_max <= MAX_QF
        ):
            raise InvalidInput(f"Plafond de quotient familial impossible : {bracket.qf_max}.")
        if bracket.qf_max in ceilings:
            raise InvalidInput("Deux tranches ont le même plafond de quotient familial.")
        ceilings.add(bracket.qf_max)
        clean.append(Bracket(bracket.qf_max, check_tariff(bracket.price_cents)))
    return sorted(clean, key=lambda b: (b.qf_max is None, b.qf_max or 0))


def tariff_for(quotient_familial: int | None, brackets: Sequence[Bracket], default_cents: int) -> int:
    """The price of the lowest bracket whose ceiling is at least the family's QF; a family
    without a known QF pays the top bracket; no brackets: the service's unit price."""
    if not brackets:
        return default_cents
    ordered = check_brackets(brackets)
    if quotient_familial is not None:
        for bracket in ordered:
            if bracket.qf_max is None or quotient_familial <= bracket.qf_max:
                return bracket.price_cents
    top = ordered[-1]
    return top.price_cents


class LineKind(StrEnum):
    """What an invoice line bills (the store's `invoice_lines.line_kind`)."""

    MEAL = "meal"  # booked days, at the service's price (QF grid, or the non-resident price)
    UNBOOKED = "unbooked"  # days a child was present without a booking, at their own price
    BASKET = "basket"  # days of a PAI packed lunch (the family brings the meal), at their own price

    @property
    def label(self) -> str:
        """What the line says it bills, before the service's name (nothing for a booked day)."""
        return {LineKind.MEAL: "", LineKind.UNBOOKED: "Repas non réservé", LineKind.BASKET: "Repas panier (PAI)"}[self]


@dataclass(frozen=True)
class Tariff:
    """A service's prices from a date: a council decision (délibération), or the service's base tariff
    (`valid_from` None), in force before its first decision. None for the unbooked price: such days are
    not billed; None for the basket price: a packed lunch has no price of its own and is billed as a
    meal (as before the town sets one); None for the non-resident price: the QF grid applies to all."""

    valid_from: date | None
    unit_price_cents: int
    brackets: tuple[Bracket, ...] = ()
    unbooked_price_cents: int | None = None
    basket_price_cents: int | None = None
    non_resident_price_cents: int | None = None
    reference: str = ""


def tariff_in_force(tariffs: Sequence[Tariff], day: date) -> Tariff:
    """The tariff a day is priced at: the latest decision in force on that day, else the base tariff.
    lib/store/invoices.py `_month_lines` does the same in SQL (an ASOF join on the decisions' dates)."""
    dated = [t for t in tariffs if t.valid_from is not None and t.valid_from <= day]
    if dated:
        return max(dated, key=lambda t: t.valid_from or day)
    base = [t for t in tariffs if t.valid_from is None]
    if not base:
        raise ValueError("a service always has its base tariff")
    return base[0]


def day_kind(tariff: Tariff, booked: bool, basket: bool) -> LineKind:
    """How a day a child was booked or present is billed: a PAI packed lunch (`basket`) at its own
    price when the tariff has one, booked or not; else a booked day as a meal, and a day present
    without a booking as such. lib/store/invoices.py `_month_lines` says the same in SQL."""
    if basket and tariff.basket_price_cents is not None:
        return LineKind.BASKET
    return LineKind.MEAL if booked else LineKind.UNBOOKED


def day_price(tariff: Tariff, kind: LineKind, quotient_familial: int | None, non_resident: bool) -> int | None:
    """The price of one day of `kind` under `tariff` for a family (its QF, whether it lives outside the
    town); None: such a day is not billed."""
    if kind is LineKind.UNBOOKED:
        return tariff.unbooked_price_cents
    if kind is LineKind.BASKET and tariff.basket_price_cents is not None:
        return tariff.basket_price_cents
    if non_resident and tariff.non_resident_price_cents is not None:
        return tariff.non_resident_price_cents
    return tariff_for(quotient_familial, tariff.brackets, tariff.unit_price_cents)


MAX_DECISION_REFERENCE = 200


def check_decision(valid_from: object, reference: object, published_until: date | None, taken: Sequence[date]) -> str:
    """A new decision's date and reference (its trimmed text): a date, after the last month already
    invoiced (`published_until`: the first day after it; an issued invoice is never re-priced), not
    the date of another decision of the service (`taken`); a reference of at most 200 characters."""
    if not isinstance(valid_from, date):
        raise InvalidInput("Date d'effet illisible : choisissez la date à partir de laquelle le tarif s'applique.")
    if published_until is not None and valid_from < published_until:
        raise InvalidInput(
            f"Un nouveau tarif ne peut s'appliquer qu'à partir du {fr.long_date(published_until)} : les mois "
            "d'avant sont déjà facturés, et une facture émise n'est jamais recalculée."
        )
    if valid_from in taken:
        raise InvalidInput(
            f"Un tarif s'applique déjà à partir du {fr.long_date(valid_from)} pour cette prestation : "
            "choisissez une autre date."
        )
    if reference is not None and not isinstance(reference, str):
        raise InvalidInput("Référence de la délibération illisible.")
    text = (reference or "").strip()
    if len(text) > MAX_DECISION_REFERENCE:
        raise InvalidInput(f"Référence de la délibération trop longue : {MAX_DECISION_REFERENCE} caractères au plus.")
    return text


def check_base_tariff_change(published_until: date | None) -> None:
    """A service's base tariff (its unit price and QF grid, with no date) may change only before the first
    month invoiced (`published_until`: the first day after the last one): after, a day added late to an
    invoiced month would be billed at the new price. A new price then applies from a date (a decision)."""
    if published_until is not None:
        raise InvalidInput(
            "Le tarif de base ne peut plus être modifié : les mois jusqu'à "
            f"{fr.month_year(published_until - timedelta(days=1))} sont déjà facturés, et une facture émise n'est "
            "jamais recalculée. Pour un nouveau prix, enregistrez un « Nouveau tarif à partir d'une date » "
            f"(délibération), au plus tôt le {fr.long_date(published_until)}."
        )


def check_optional_tariff(price_cents: object, what: str) -> int | None:
    """An optional price (None: not set), checked as `check_tariff`."""
    return None if price_cents is None else check_tariff(price_cents, what)


# The minimum for public recovery (seuil de mise en recouvrement, art. D1611-1 CGCT: 15 €): a public
# accountant cannot collect less. A payer's month below it is not issued but carried over to his next
# invoice, and carried again as long as the sum stays below it — also past the end of the school year:
# the amount is owed, and issued only once recoverable. A credit note is never held back.
DEFAULT_RECOVERY_MINIMUM_CENTS = 1_500
MINIMUM_SETTING = "recovery_minimum_cents"
MAX_RECOVERY_MINIMUM_CENTS = 10_000


def held_back(total_cents: int, minimum_cents: int) -> bool:
    """Whether a document is carried over instead of issued: an invoice below the minimum (a credit
    note, or nothing to pay, is always issued). lib/store/invoices.py `_month_lines` says the same in SQL."""
    return 0 < total_cents < minimum_cents


def recovery_minimum(stored: str | None) -> int:
    """The town's minimum in cents (the setting `recovery_minimum_cents`; 15 € when not set)."""
    return DEFAULT_RECOVERY_MINIMUM_CENTS if stored is None else int(stored)


def check_recovery_minimum(cents: object) -> int:
    """A minimum an administrator may set: 0 (every amount issued) to 100 €."""
    if isinstance(cents, bool) or not isinstance(cents, int) or not 0 <= cents <= MAX_RECOVERY_MINIMUM_CENTS:
        raise InvalidInput(
            f"Seuil de mise en recouvrement impossible : saisissez un montant entre 0 et "
            f"{MAX_RECOVERY_MINIMUM_CENTS // 100} € (15,00 € en règle générale)."
        )
    return cents


@dataclass(frozen=True)
class Line:
    child_id: int
    service_id: int
    label: str
    quantity: int
    unit_price_cents: int
    share_cents: int | None = None  # one payer's share of a split line (`split_cents`); None: the whole line

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents if self.share_cents is None else self.share_cents


def split_cents(amount: int, percents: Sequence[int]) -> list[int]:
    """An amount in cents shared by `percents` (a split bill's shares; any non-negative weights with
    a positive sum), by the largest-remainder method: each share is the exact value rounded down,
    then the cents left go one each to the largest remainders (the first share first on a tie). The
    shares always sum to the amount, each is within a cent of its exact value, a 0 % share gets 0.
    A negative amount (a credit) is shared as its opposite. lib/store/invoices.py `_month_lines` does
    the same in SQL (tests/services/test_invoice_split.py checks they agree)."""
    total = sum(percents)
    if total <= 0 or any(p < 0 for p in percents):
        raise ValueError("shares need non-negative weights with a positive sum")
    sign, whole = (-1 if amount < 0 else 1), abs(amount)
    floors = [whole * p // total for p in percents]
    remainders = [whole * p % total for p in percents]
    left = whole - sum(floors)
    ahead = set(sorted(range(len(percents)), key=lambda i: (-remainders[i], i))[:left])
    return [sign * (floors[i] + (1 if i in ahead else 0)) for i in range(len(percents))]


@dataclass(frozen=True)
class Payer:
    """Who an invoice is addressed to: one of the family's guardians (the billed one, or each of the
    two for a split bill), with his account when he has one."""

    guardian_id: int
    name: str
    email: str | None
    address: str | None
    user_id: int | None


def invoice_visible(split_family: bool, payer_user_id: int | None, user_id: int) -> bool:
    """Whether a family account sees one of its family's invoices: every invoice, unless the family's
    bill is split (shared custody), where each guardian sees only those addressed to him."""
    return not split_family or payer_user_id == user_id


def may_pay(split_family: bool, payer_user_id: int | None, user_id: int) -> bool:
    """Who may pay an invoice online: any account of the family (the family owes it), unless the bill
    is split (shared custody), where only the guardian it is addressed to pays his share."""
    return not split_family or (payer_user_id is not None and payer_user_id == user_id)


def kind_for(total: int) -> Kind:
    return Kind.CREDIT_NOTE if total < 0 else Kind.INVOICE


def due_date(issue: date, days: int = DEFAULT_DUE_DAYS) -> date:
    return issue + timedelta(days=days)


def left_to_pay(total: int, paid: int, credited: int = 0) -> int:
    """What is still owed on an invoice: its total, less payments, less the credit notes that
    correct it (`credited` is positive)."""
    return max(total - paid - credited, 0)


def overpaid_cents(total: int, paid: int, credited: int = 0) -> int:
    """What was received beyond what an invoice asks (two payments of it, or a payment and then a
    credit note): money the town owes back to the family."""
    return max(paid + credited - total, 0)


class InvoiceStatus(StrEnum):
    PAID = "paid"
    UNPAID = "unpaid"
    IN_PROGRESS = "in_progress"
    CREDIT = "credit"
    OVERPAID = "overpaid"

    @property
    def dot(self) -> str:
        return {
            InvoiceStatus.PAID: "🟢",
            InvoiceStatus.UNPAID: "🔴",
            InvoiceStatus.IN_PROGRESS: "🟠",
            InvoiceStatus.CREDIT: "🔵",
            InvoiceStatus.OVERPAID: "🟣",
        }[self]

    @property
    def word(self) -> str:
        return {
            InvoiceStatus.PAID: "Soldée",
            InvoiceStatus.UNPAID: "Non soldée",
            InvoiceStatus.IN_PROGRESS: "Paiement en cours",
            InvoiceStatus.CREDIT: "Avoir",
            InvoiceStatus.OVERPAID: "Trop-perçu",
        }[self]


def invoice_status(kind: Kind, total: int, paid: int, payment_pending: bool, credited: int = 0) -> InvoiceStatus:
    if kind is Kind.CREDIT_NOTE:
        return InvoiceStatus.CREDIT
    if overpaid_cents(total, paid, credited) > 0:
        return InvoiceStatus.OVERPAID
    if left_to_pay(total, paid, credited) == 0:
        return InvoiceStatus.PAID
    return InvoiceStatus.IN_PROGRESS if payment_pending else InvoiceStatus.UNPAID


# --- how money is received ---------------------------------------------------------------------


class PaymentMethod(StrEnum):
    """How a payment was made (the store's `payments.method`)."""

    ONLINE = "online"
    CHEQUE = "cheque"
    CASH = "especes"
    CESU = "cesu"
    TRANSFER = "virement"
    DIRECT_DEBIT = "prelevement"

    @property
    def label(self) -> str:
        """« chèque », « espèces »…: the means, as a list or a receipt names it."""
        return {
            PaymentMethod.ONLINE: "paiement en ligne",
            PaymentMethod.CHEQUE: "chèque",
            PaymentMethod.CASH: "espèces",
            PaymentMethod.CESU: "CESU",
            PaymentMethod.TRANSFER: "virement",
            PaymentMethod.DIRECT_DEBIT: "prélèvement",
        }[self]

    @property
    def adverb(self) -> str:
        """« en ligne », « par chèque »…: how a sentence says it was paid."""
        return {
            PaymentMethod.ONLINE: "en ligne",
            PaymentMethod.CHEQUE: "par chèque",
            PaymentMethod.CASH: "en espèces",
            PaymentMethod.CESU: "en CESU",
            PaymentMethod.TRANSFER: "par virement",
            PaymentMethod.DIRECT_DEBIT: "par prélèvement",
        }[self]


def method_label(code: str) -> str:
    """How a payment was made, in French (the stored code is English or unaccented)."""
    try:
        return PaymentMethod(code).label
    except ValueError:
        return code


def payment_reference(number: str) -> str:
    """The invoice's payment reference, as the public accountant and the providers know it: its
    number without separators (F-2026-000123 → F2026000123), letters and digits only, as PayFiP's
    REFDET (1 to 30 characters) and the other providers' order references allow."""
    return "".join(c for c in number if c.isascii() and c.isalnum()).upper()[:30]


# --- online payment attempts -----------------------------------------------------------------


class TxState(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    ERROR = "error"
    EXPIRED = "expired"


FINAL_STATES = frozenset({TxState.PAID, TxState.REFUSED, TxState.CANCELLED, TxState.ERROR, TxState.EXPIRED})


class PaymentRefused(PortailError):
    """A payment may not start (paid already, in progress, no right…)."""


class PayerEmailNeeded(PaymentRefused):
    """The provider needs an e-mail for its receipt (PayFiP's MEL) and the payer has none on file:
    the departure asks for one."""


def next_state(current: TxState, outcome: TxState) -> TxState:
    """Only a pending attempt changes; a final state never does (a payment cannot be undone, and a
    replayed answer changes nothing) — except when the provider says "paid" after any other final
    state (expired on our side, or refused, cancelled, in error by an earlier answer): the money
    was taken, so the payment must be recorded."""
    if outcome is TxState.PAID:
        return TxState.PAID
    if current in FINAL_STATES:
        return current
    return outcome


def outcome_message(state: TxState, number: str, overpaid: int = 0) -> str:
    """What the family reads about an attempt; `overpaid`: cents its invoice has received beyond
    what it asked (the attempt paid an invoice another payment had already settled)."""
    if state is TxState.PAID and overpaid > 0:
        return (
            f"Paiement enregistré : la facture {number} était déjà réglée, la mairie vous remboursera le "
            f"trop-perçu de {fr.euros(overpaid)}."
        )
    return {
        TxState.PAID: f"Paiement enregistré : la facture {number} est soldée. Merci !",
        TxState.REFUSED: f"Paiement refusé par la banque : la facture {number} reste à payer.",
        TxState.CANCELLED: f"Paiement annulé : la facture {number} reste à payer.",
        TxState.ERROR: f"Le paiement n'a pas abouti (erreur technique) : la facture {number} reste à payer.",
        TxState.EXPIRED: f"Le paiement n'a pas été terminé : la facture {number} reste à payer.",
        TxState.PENDING: f"Paiement de la facture {number} en cours de confirmation par la banque : "
        "actualisez la page dans un instant.",
    }[state]
