"""The letters a family receives about its children and its invoices: booking receipts, a place
obtained from the waiting list, a closure, an invoice published, a payment received, an unpaid
invoice. Pure builders of `Letter`s from plain values (first names, service names, days, amounts);
lib/services/family_mail.py gathers the values inside the change's transaction.

No health or diet data is ever an input. Children are named by their first name only; every name
goes through `one_line`, and the HTML is escaped by `letters.to_html`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import groupby

from lib.domain import fr
from lib.domain.deadlines import limit_text
from lib.domain.errors import InvalidInput
from lib.domain.invoice_text import reference_line
from lib.domain.invoicing import PaymentMethod
from lib.domain.letters import NAME_LIMIT, Letter, Link, MailKind, one_line

GREETING = "Bonjour,"
MY_INVOICES = "Voir mes factures"
NAMED_AT_MOST = 12  # beyond, a receipt lists its days one line per service and month
_VOWELS = frozenset("aeiouyhàâäéèêëîïôöùûüÿæœAEIOUYHÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÆŒ")


def reference(audit_id: int) -> str:
    """« J-000123 »: the audit entry of a change, as a family quotes it."""
    return f"J-{audit_id:06d}"


def of_name(first_name: str) -> str:
    """« d'Alice », « de Basile »: French elides « de » before a vowel or a mute h."""
    name = one_line(first_name, NAME_LIMIT)
    return f"d'{name}" if name[:1] in _VOWELS else f"de {name}"


def _titled(subject: str, town: str) -> str:
    return f"{subject} – {one_line(town, NAME_LIMIT)}"


# --- bookings ---------------------------------------------------------------------------------------


class Outcome(StrEnum):
    """What a change did to one day (the words of the receipt)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    WAITING = "waiting"

    @property
    def word(self) -> str:
        return {Outcome.BOOKED: "réservé", Outcome.CANCELLED: "annulé", Outcome.WAITING: "liste d'attente"}[self]

    @property
    def counted(self) -> str:
        return {
            Outcome.BOOKED: "réservé(s)",
            Outcome.CANCELLED: "annulé(s)",
            Outcome.WAITING: "en liste d'attente",
        }[self]


@dataclass(frozen=True)
class DayChange:
    service: str  # the service's name
    day: date
    outcome: Outcome
    cancel_limit: datetime | None = None  # for a booked day: until when it can be cancelled (aware, Paris)


def day_lines(changes: Sequence[DayChange]) -> tuple[str, ...]:
    """The receipt's lines, grouped by service, in day order: one per day when there are few, one per
    service, month and outcome beyond NAMED_AT_MOST (a template applied to a whole year)."""
    ordered = sorted(changes, key=lambda c: (one_line(c.service), c.day))
    if len(ordered) <= NAMED_AT_MOST:
        return tuple(_day_line(c) for c in ordered)
    lines = []
    for (service, _, outcome), group in groupby(
        sorted(ordered, key=lambda c: (one_line(c.service), c.day.replace(day=1), c.outcome.value, c.day)),
        key=lambda c: (one_line(c.service), c.day.replace(day=1), c.outcome),
    ):
        lines.append(_month_line(service, outcome, list(group)))
    return tuple(lines)


def _day_line(change: DayChange) -> str:
    text = f"{one_line(change.service)} — {fr.long_date(change.day)} : {change.outcome.word}"
    if change.outcome is Outcome.BOOKED and change.cancel_limit is not None:
        text += f", annulable jusqu'au {limit_text(change.cancel_limit, article=False)}"
    return text


def _month_line(service: str, outcome: Outcome, changes: list[DayChange]) -> str:
    days = [c.day for c in changes]
    span = (
        f"le {fr.long_date(days[0])}" if len(days) == 1 else f"du {fr.long_date(days[0])} au {fr.long_date(days[-1])}"
    )
    text = f"{service} — {fr.month_year(days[0])} : {len(days)} jour(s) {outcome.counted}, {span}"
    limits = [c.cancel_limit for c in changes if c.cancel_limit is not None]
    if outcome is Outcome.BOOKED and limits:
        text += f" (le premier annulable jusqu'au {limit_text(min(limits), article=False)})"
    return text


def booking_receipt(
    town: str, first_name: str, changes: Sequence[DayChange], *, by_staff: Sequence[bool], references: Sequence[int]
) -> Letter:
    """« Réservations d'Alice – Ville »: what one or several changes (merged while the receipt waited)
    did to the child's days. `by_staff`: for each change, whether the town's staff made it."""
    name = one_line(first_name, NAME_LIMIT)
    who = {True: "par le service enfance", False: "par vous"}
    authors = " et ".join(who[staff] for staff in sorted(set(by_staff), key=int)) or who[False]
    return Letter(
        kind=MailKind.BOOKING_RECEIPT,
        subject=_titled(f"Réservations {of_name(name)}", town),
        paragraphs=(GREETING, f"Les réservations {of_name(name)} ont été modifiées {authors} :"),
        lines=day_lines(changes),
        after=(
            "Vous retrouvez toutes les réservations dans le portail, rubrique « Mes inscriptions ».",
            "Vous pouvez choisir de ne plus recevoir ces accusés de réception : « Mon compte », « Courriels ».",
        ),
        reference=", ".join(reference(r) for r in references),
    )


def waiting_place(town: str, first_name: str, changes: Sequence[DayChange], audit_id: int) -> Letter:
    """« Une place s'est libérée »: days the child waited for are now booked (and will be billed)."""
    name = one_line(first_name, NAME_LIMIT)
    return Letter(
        kind=MailKind.WAITING_PLACE,
        subject=_titled(f"Une place s'est libérée pour {name}", town),
        paragraphs=(
            GREETING,
            f"Une place s'est libérée : {name}, qui était sur la liste d'attente, est maintenant inscrit(e) :",
        ),
        lines=day_lines(changes),
        after=(
            "Ces jours seront facturés. Si vous n'en avez plus besoin, annulez-les dans le portail "
            "(« Mes inscriptions ») avant la limite indiquée.",
        ),
        reference=reference(audit_id),
    )


def closure_letter(town: str, reason: str, cancelled: Sequence[tuple[str, str, Sequence[date]]]) -> Letter:
    """A closure or a strike: the days cancelled for each (child's first name, service, days); they are
    not billed."""
    lines = tuple(
        f"{one_line(first, NAME_LIMIT)} — {one_line(service)} : "
        + ", ".join(fr.long_date(day) for day in sorted(set(days)))
        for first, service, days in sorted(cancelled, key=lambda c: (one_line(c[0]), one_line(c[1])))
        if days
    )
    why = one_line(reason, 200)
    return Letter(
        kind=MailKind.CLOSURE,
        subject=_titled("Accueil fermé : réservations annulées", town),
        paragraphs=(
            GREETING,
            f"L'accueil sera fermé ({why}). Les réservations de ces jours sont annulées et ne seront pas facturées :"
            if why
            else "L'accueil sera fermé. Les réservations de ces jours sont annulées et ne seront pas facturées :",
        ),
        lines=lines,
        after=("Merci de prévoir une autre solution pour ces jours-là.",),
    )


# --- invoices and payments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFacts:
    number: str
    month: date
    total_cents: int
    due: date | None  # None for a credit note
    credit_note: bool = False


def _invoices_link(url: str | None) -> tuple[Link | None, tuple[str, ...]]:
    """The link to « Mes factures » when the portal's address is known, else where to find it."""
    if url:
        return Link(MY_INVOICES, url), ()
    return None, ("Retrouvez-la dans le portail, rubrique « Mes factures ».",)


def invoice_published(town: str, invoice: InvoiceFacts, url: str | None) -> Letter:
    """A new invoice or credit note, with its number, amount and due date; the PDF stays in the portal."""
    link, where = _invoices_link(url)
    lines: tuple[str, ...]
    if invoice.credit_note:
        subject = f"Nouvel avoir {invoice.number}"
        opening = f"Un avoir a été émis pour {fr.month_year(invoice.month)} : il réduit ce que vous devez."
        lines = (f"Numéro : {invoice.number}", f"Montant : {fr.euros(abs(invoice.total_cents))}")
    else:
        subject = f"Nouvelle facture {invoice.number}"
        opening = f"La facture de {fr.month_year(invoice.month)} est disponible."
        lines = (
            f"Numéro : {invoice.number}",
            f"Montant : {fr.euros(invoice.total_cents)}",
            reference_line(invoice.number),
        )
        if invoice.due is not None:
            lines += (f"À payer au plus tard le {fr.long_date(invoice.due)}",)
    return Letter(
        kind=MailKind.INVOICE_PUBLISHED,
        subject=_titled(subject, town),
        paragraphs=(GREETING, opening),
        lines=lines,
        link=link,
        after=where,
    )


def payment_receipt(
    town: str, number: str, month: date, amount_cents: int, paid_at: datetime, method: str, left_cents: int
) -> Letter:
    """« Paiement reçu »: the amount, the invoice it pays, when, and what is left to pay."""
    how = PaymentMethod(method).adverb if method in {m.value for m in PaymentMethod} else ""
    return Letter(
        kind=MailKind.PAYMENT_RECEIPT,
        subject=_titled(f"Paiement reçu – facture {number}", town),
        paragraphs=(
            GREETING,
            f"Nous avons bien reçu votre paiement{' ' + how if how else ''} de la facture {number} "
            f"({fr.month_year(month)}) :",
        ),
        lines=(
            f"Montant payé : {fr.euros(amount_cents)}",
            f"Reçu le {fr.long_date(paid_at)} à {fr.hour(paid_at)}",
            f"Reste à payer : {fr.euros(max(left_cents, 0))}",
        ),
        after=("Merci.",),
    )


def unpaid_reminder(town: str, invoice: InvoiceFacts, left_cents: int, url: str | None) -> Letter:
    """A reminder of an invoice past its due date with something left to pay."""
    link, where = _invoices_link(url)
    due = f", à payer au plus tard le {fr.long_date(invoice.due)}" if invoice.due else ""
    return Letter(
        kind=MailKind.UNPAID_REMINDER,
        subject=_titled(f"Facture {invoice.number} à régler", town),
        paragraphs=(
            GREETING,
            f"Sauf erreur de notre part, la facture {invoice.number} de {fr.month_year(invoice.month)}{due}, "
            f"n'est pas entièrement réglée : il reste {fr.euros(left_cents)} à payer.",
        ),
        lines=(reference_line(invoice.number),),  # to write on a cheque, or to give at the régie
        link=link,
        after=(
            *where,
            "Si vous avez payé entre-temps, ne tenez pas compte de ce message. En cas de difficulté, "
            "écrivez-nous : une solution peut être trouvée.",
        ),
    )


# --- the unpaid reminders' schedule -------------------------------------------------------------------

DEFAULT_REMINDER_DAYS = "10,30"
MAX_REMINDER_DAY = 365
MAX_REMINDERS = 6


RECEIPT_DELAY_MINUTES = 5  # a receipt waits this long for the family's next taps (setting receipt_delay_minutes)
MAX_RECEIPT_DELAY_MINUTES = 60


def receipt_delay_minutes(value: object) -> int:
    """The setting `receipt_delay_minutes`: how long a booking receipt waits for the next changes to join
    it (0: sent at once, one message per change); empty or missing: the default."""
    text = str(value if value is not None else "").strip()
    if not text:
        return RECEIPT_DELAY_MINUTES
    if not text.isdigit() or int(text) > MAX_RECEIPT_DELAY_MINUTES:
        raise InvalidInput(
            f"receipt_delay_minutes : un nombre de minutes de 0 à {MAX_RECEIPT_DELAY_MINUTES} (défaut "
            f"{RECEIPT_DELAY_MINUTES})."
        )
    return int(text)


def reminder_steps(value: object) -> tuple[int, ...]:
    """The setting `unpaid_reminder_days`: days after the due date, « 10,30 »; empty: no reminder."""
    text = str(value if value is not None else "").strip()
    if not text:
        return ()
    steps = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= MAX_REMINDER_DAY:
            raise InvalidInput(
                f"unpaid_reminder_days : des nombres de jours après l'échéance, de 1 à {MAX_REMINDER_DAY}, "
                "séparés par des virgules (exemple : 10,30)."
            )
        steps.append(int(part))
    if len(set(steps)) > MAX_REMINDERS:
        raise InvalidInput(f"unpaid_reminder_days : au plus {MAX_REMINDERS} relances.")
    return tuple(sorted(set(steps)))


def step_reached(due: date, today: date, steps: Sequence[int]) -> int | None:
    """The highest reminder step an invoice due on `due` has reached by `today` (None: none yet). Only
    this one is sent: after a few days without the daily run, the family gets one reminder, not two."""
    reached = [step for step in steps if today >= due + timedelta(days=step)]
    return max(reached) if reached else None


# --- what a family account may choose ------------------------------------------------------------------

# The essential kinds a family receives, and why they cannot be turned off (« Mon compte » →
# « Courriels »); the optional ones are letters.OPTIONAL.
WHY_ESSENTIAL: dict[MailKind, str] = {
    MailKind.WAITING_PLACE: "une place obtenue sur liste d'attente sera facturée si vous ne l'annulez pas",
    MailKind.CLOSURE: "des réservations ont été annulées par la mairie : il faut prévoir une autre solution",
    MailKind.INVOICE_PUBLISHED: "une facture est à payer avant une date",
    MailKind.UNPAID_REMINDER: "une facture reste à payer après son échéance",
    MailKind.PASSWORD_RESET: "vous l'avez demandé vous-même",
    MailKind.PASSWORD_CHANGED: "la sécurité de votre compte : vous saurez si quelqu'un d'autre l'a fait",
    MailKind.EMAIL_CHANGED_NOTICE: "la sécurité de votre compte : vous saurez si quelqu'un d'autre l'a fait",
}
