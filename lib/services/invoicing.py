"""Monthly invoicing (administrator) and « Mes factures » (families).

A month is billed from its bookings by the town's rule; a family gets one document per run and
payer (its billed guardian, or each of its two guardians for a split bill) with what is not billed
yet: the first run issues the invoices, a later run after a correction issues only the difference
(a complementary invoice, or a credit note when it is negative). Published documents are never
edited. Numbers are gapless per year: F-2026-000123, AV-2026-000124.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from lib.domain import fr, periods
from lib.domain.actor import Actor
from lib.domain.clock import from_utc_naive, to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.invoice_text import InvoiceText
from lib.domain.invoicing import (
    DEFAULT_DUE_DAYS,
    DEFAULT_RECOVERY_MINIMUM_CENTS,
    MINIMUM_SETTING,
    PREFIX,
    BillingRule,
    InvoiceStatus,
    Kind,
    Line,
    LineKind,
    check_recovery_minimum,
    day_kind,
    day_price,
    due_date,
    invoice_status,
    invoice_visible,
    kind_for,
    left_to_pay,
    may_pay,
    overpaid_cents,
    recovery_minimum,
    sequence_after,
)
from lib.domain.records import ReceivedPayment
from lib.domain.roles import Role
from lib.domain.validation import parse_euros
from lib.services import collection, family_mail, payments, sepa, setup
from lib.services.trail import refusals_audited
from lib.store import audit, reference
from lib.store import invoices as store
from lib.store.db import Database

INVOICERS = (Role.ADMIN,)
READERS = (Role.ADMIN, Role.AGENT)
BILLABLE_MONTHS = 12  # how far back the billing page offers a month (a late correction, a year on)


# --- the month's documents ---------------------------------------------------------------------


class _Made(Sequence):
    """A sequence whose items are made only when read (see `store.MonthLines`)."""

    def _make(self, i: int):
        raise NotImplementedError

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._make(index % len(self))

    def __eq__(self, other) -> bool:
        return list(self) == list(other)


class Lines(_Made):
    """A document's lines."""

    def __init__(self, month: store.MonthLines, start: int, end: int):
        self._month, self._start, self._end = month, start, end

    def __len__(self) -> int:
        return self._end - self._start

    def _make(self, i: int) -> Line:
        return Line(*self._month.line(self._start + i))


@dataclass
class Document:
    family_id: int
    family: str
    payer: str  # the name of the guardian it is addressed to
    lines: Sequence[Line]
    total_cents: int  # of its lines, summed in SQL with them (see test_invoicing)

    @property
    def kind(self) -> Kind:
        return kind_for(self.total_cents)


class Documents(_Made):
    """The month's documents, one per family and payer."""

    def __init__(self, month: store.MonthLines):
        self._month = month

    def __len__(self) -> int:
        return len(self._month)

    def _make(self, i: int) -> Document:
        family_id, name, payer, start, end, total = self._month.document(i)
        return Document(family_id, name, payer, Lines(self._month, start, end), total)

    @property
    def total_cents(self) -> int:
        return self._month.total_cents

    def by_column(self) -> dict[str, list]:
        """family, payer, lines (how many), total_cents: one list each, in document order, no
        `Document` made (a city's month has 30,000)."""
        return self._month.documents_by_column()


@dataclass(frozen=True)
class Carried:
    """A payer's document held below the minimum for public recovery, or crediting lines of the month still
    carried over (a credit note always corrects an invoice): carried over to his next invoice."""

    family: str
    payer: str
    lines: int
    total_cents: int
    months: list[date]  # the months it bills (earlier ones carried again, then the draft's)

    def why(self, minimum_cents: int) -> str:
        months = ", ".join(fr.month_year(m) for m in self.months)
        if self.total_cents < 0:
            return (
                f"{fr.euros(self.total_cents)}, déduit des montants reportés qu'il corrige : "
                f"reporté sur la prochaine facture ({months})."
            )
        return (
            f"{fr.euros(self.total_cents)}, sous le seuil de mise en recouvrement de {fr.euros(minimum_cents)} : "
            f"reporté sur la prochaine facture ({months})."
        )


@dataclass
class MonthDraft:
    month: date
    rule: BillingRule
    documents: Documents
    issued: list[dict] = field(default_factory=list)
    minimum_cents: int = DEFAULT_RECOVERY_MINIMUM_CENTS
    carried: list[Carried] = field(default_factory=list)  # what this run would carry over, and why
    carried_lines: int = 0  # lines of this month carried over by earlier runs

    @property
    def carried_cents(self) -> int:
        return sum(c.total_cents for c in self.carried)

    @property
    def total_cents(self) -> int:
        return self.documents.total_cents


def billing_rule(db: Database) -> BillingRule:
    return BillingRule(reference.settings(db).get("invoice_rule", BillingRule.BOOKINGS.value))


def minimum_cents(db: Database) -> int:
    """The minimum for public recovery the town set (15 € unless set)."""
    return recovery_minimum(reference.settings(db).get(MINIMUM_SETTING))


def set_minimum(db: Database, actor: Actor, typed: object, now: datetime) -> str:
    """Set the minimum for public recovery from what the administrator typed in euros ("15,00"); a
    refusal is kept in the audit log and nothing is written."""
    actor.require(*INVOICERS)
    with refusals_audited(db, actor, now, "setting.refused", "setting", MINIMUM_SETTING):
        if not isinstance(typed, str):
            raise InvalidInput(
                "Seuil de mise en recouvrement illisible : saisissez un montant en euros, par exemple 15,00."
            )
        cents = check_recovery_minimum(parse_euros(typed))

        def work(cur) -> None:
            setup.write_setting(cur, MINIMUM_SETTING, str(cents), to_utc_naive(now), actor.user_id, None)

        db.write(work)
    return f"Seuil de mise en recouvrement enregistré : {fr.euros(cents)}."


def billable_months(today: date) -> list[date]:
    """The finished months the billing page offers, the latest first (the current one cannot be
    billed before it ends)."""
    return [periods.add_months(today, -n) for n in range(1, BILLABLE_MONTHS + 1)]


def _month(month: object, now: datetime) -> tuple[date, date]:
    if not isinstance(month, date):
        raise InvalidInput("Choisissez un mois.")
    first, after = periods.month_start(month), periods.next_month(month)
    if after > now.date():
        raise InvalidInput(
            f"Le mois de {fr.month_year(first)} n'est pas terminé : il pourra être facturé à partir "
            f"du {fr.long_date(after)}."
        )
    return first, after


def _prices(cur) -> list[store.DayPrice]:
    """The month's price table: every (service, tariff, kind of day, QF, residence) priced once by
    `day_price` (a few hundred rows), never per line."""
    quotients = store.known_quotients(cur)
    return [
        store.DayPrice(
            service_id,
            tariff.valid_from,
            kind,
            qf,
            non_resident,
            day_price(tariff, kind, qf, non_resident),
            kind is not LineKind.BASKET or day_kind(tariff, True, True) is LineKind.BASKET,
        )
        for service_id, tariffs in store.service_tariffs(cur).items()
        for tariff in tariffs
        for kind in LineKind
        for qf in quotients
        for non_resident in (False, True)
    ]


def draft_month(db: Database, actor: Actor, month: date, now: datetime) -> MonthDraft:
    """What publishing the month would issue, and what it would carry over (nothing is written)."""
    actor.require(*INVOICERS)
    first, after = _month(month, now)
    rule, minimum = billing_rule(db), minimum_cents(db)
    cur = db.cursor()
    lines = store.month_lines(
        cur, first, after, rule is BillingRule.BOOKINGS_JUSTIFIED_CREDITED, _prices(cur), fr.month_year(first), minimum
    )
    carried = [
        Carried(family, payer, count, total, months) for family, payer, count, total, months in lines.carried_over()
    ]
    return MonthDraft(
        first,
        rule,
        Documents(lines),
        store.month_documents(db, first),
        minimum,
        carried,
        store.month_carried(cur, first),
    )


@dataclass
class Published:
    numbers: list[str]
    total_cents: int
    carried: int = 0  # documents held below the minimum for public recovery

    def summary(self) -> str:
        held = (
            f" {self.carried} montant(s) sous le seuil de mise en recouvrement reporté(s) sur la prochaine facture."
            if self.carried
            else ""
        )
        if not self.numbers:
            return "Rien de nouveau à facturer : toutes les factures de ce mois sont déjà émises." + held
        span = self.numbers[0] if len(self.numbers) == 1 else f"{self.numbers[0]} à {self.numbers[-1]}"
        return f"{len(self.numbers)} document(s) émis ({span}), pour un total de {fr.euros(self.total_cents)}." + held


def publish_month(db: Database, actor: Actor, month: date, now: datetime) -> Published:
    """Issue, in one transaction, every document the month still needs. Running it again
    issues nothing more. A refusal is kept in the audit log."""
    actor.require(*INVOICERS)
    with refusals_audited(db, actor, now, "invoice.publish_refused", "month", str(month)[:10]):
        return _publish_month(db, actor, month, now)


def _publish_month(db: Database, actor: Actor, month: date, now: datetime) -> Published:
    first, after = _month(month, now)
    rule, minimum = billing_rule(db), minimum_cents(db)
    settings = reference.settings(db)
    due_days = int(settings.get("invoice_due_days", DEFAULT_DUE_DAYS))
    issue = now.date()
    at = to_utc_naive(now)

    def work(cur) -> Published:
        seq = sequence_after(*store.sequence_state(cur, issue.year))
        issued, held = store.publish_lines(
            cur,
            first,
            after,
            rule is BillingRule.BOOKINGS_JUSTIFIED_CREDITED,
            _prices(cur),
            fr.month_year(first),
            minimum,
            first_id=store.next_invoice_id(cur),
            first_seq=seq,
            year=issue.year,
            prefixes={kind.value: PREFIX[kind] for kind in Kind},
            issue=issue,
            due=due_date(issue, due_days),
            at_utc=at,
        )
        if not issued and not held:
            if not store.month_documents(db, first) and not store.month_carried(cur, first):
                raise InvalidInput(f"Aucune réservation à facturer pour {fr.month_year(first)}.")
            return Published([], 0)
        result = Published([number for _, number, _ in issued], sum(total for _, _, total in issued), held)
        audit_id = audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="invoice.publish",
            entity="month",
            entity_id=first.isoformat(),
            after={
                "rule": rule.value,
                "documents": len(issued),
                "first": result.numbers[0] if issued else None,
                "last": result.numbers[-1] if issued else None,
                "total_cents": result.total_cents,
                "carried_over": held,
                "minimum_cents": minimum,
            },
        )
        if issued:
            family_mail.invoices_published(
                cur, issue.year, issued[0][0], issued[-1][0], now, user_id=actor.user_id, audit_id=audit_id
            )
        return result

    return db.write(work)


# --- « Mes factures » ------------------------------------------------------------------------------


@dataclass
class InvoiceRow:
    id: int
    number: str
    kind: Kind
    month: date
    issue_date: date
    due_date: date
    total_cents: int
    paid_cents: int
    status: InvoiceStatus
    credited_cents: int = 0
    pending_until: datetime | None = None  # an online payment is in progress until then (Paris time)
    payer: str = ""  # the name of the guardian it is addressed to
    payable_by_you: bool = True  # the reader is the payer's account (only he may pay it online)

    @property
    def left_cents(self) -> int:
        return left_to_pay(self.total_cents, self.paid_cents, self.credited_cents) if self.kind is Kind.INVOICE else 0

    @property
    def overpaid_cents(self) -> int:
        return (
            overpaid_cents(self.total_cents, self.paid_cents, self.credited_cents) if self.kind is Kind.INVOICE else 0
        )


def _row(summary: dict, attempt_lifetime: timedelta, user_id: int | None = None) -> InvoiceRow:
    """An invoice's row; `user_id`: the family account reading it (None: staff)."""
    kind = Kind(summary["kind"])
    started = summary["pending_started"]
    return InvoiceRow(
        summary["id"],
        summary["number"],
        kind,
        summary["period_month"],
        summary["issue_date"],
        summary["due_date"],
        summary["total_cents"],
        summary["paid_cents"],
        invoice_status(
            kind, summary["total_cents"], summary["paid_cents"], started is not None, summary["credited_cents"]
        ),
        summary["credited_cents"],
        None if started is None else from_utc_naive(started) + attempt_lifetime,
        summary["payer_name"],
        user_id is not None and may_pay(summary["split_family"], summary["payer_user_id"], user_id),
    )


def _visible(summary: dict, actor: Actor) -> bool:
    return invoice_visible(summary["split_family"], summary["payer_user_id"], actor.user_id)


def family_invoices(db: Database, actor: Actor, now: datetime) -> list[InvoiceRow]:
    """The family's invoices this account sees (a split bill's guardian sees only his own)."""
    if not actor.is_family or actor.family_id is None:
        raise NotAllowed("Cette page est réservée aux familles.")
    lifetime = payments.config(db).attempt_lifetime
    return [
        _row(s, lifetime, actor.user_id)
        for s in store.family_invoices(db, actor.family_id, to_utc_naive(now - lifetime))
        if _visible(s, actor)
    ]


@dataclass(frozen=True)
class DetailLine:
    """A line of a published invoice, as stored (its amount was computed when it was published)."""

    first_name: str  # the child's
    label: str
    quantity: int
    unit_price_cents: int
    amount_cents: int


@dataclass(frozen=True)
class InvoiceDetail:
    row: InvoiceRow
    family_name: str
    payer_name: str  # the guardian it is addressed to
    payer_address: str | None
    lines: list[DetailLine]
    payments: list[ReceivedPayment]
    text: InvoiceText  # debtor, town, collection, ways to pay, recourse: as the PDF prints them


def invoice_detail(db: Database, actor: Actor, invoice_id: object, now: datetime) -> InvoiceDetail:
    """One invoice with its lines and payments: the family's own, or any for staff. A refused
    look at someone else's invoice is kept in the audit log."""
    with refusals_audited(db, actor, now, "invoice.access_refused", "invoice", invoice_id):
        return _invoice_detail(db, actor, invoice_id, now)


def _invoice_detail(db: Database, actor: Actor, invoice_id: object, now: datetime) -> InvoiceDetail:
    refusal = NotAllowed("Facture introuvable ou non rattachée à votre compte.")
    if not isinstance(invoice_id, int) or isinstance(invoice_id, bool):
        raise refusal
    lifetime = payments.config(db).attempt_lifetime
    summary = store.invoice_summary(db, invoice_id, to_utc_naive(now - lifetime))
    if summary is None:
        raise refusal
    if actor.is_family:
        if summary["family_id"] != actor.family_id or not _visible(summary, actor):
            raise refusal
    elif actor.role not in READERS:
        raise NotAllowed("Votre profil ne permet pas de consulter les factures.")
    family = store.family(db, summary["family_id"])
    if family is None:  # an invoice always has its family (foreign key)
        raise refusal
    payer = store.payers(db, [invoice_id]).get(invoice_id)
    row = _row(summary, lifetime, actor.user_id if actor.is_family else None)
    payer_name = payer.name if payer else family["name"]
    payer_address = payer.address if payer else family["address"]
    return InvoiceDetail(
        row,
        family["name"],
        payer_name,
        payer_address,
        [
            DetailLine(r["first_name"], r["label"], r["quantity"], r["unit_price_cents"], r["amount_cents"])
            for r in store.invoice_lines(db, invoice_id)
        ],
        [
            ReceivedPayment(from_utc_naive(r["paid_at"]), r["amount_cents"], r["method"])
            for r in store.invoice_payments(db, invoice_id)
        ],
        collection.invoice_text(
            reference.settings(db),
            number=row.number,
            credit_note=row.kind is Kind.CREDIT_NOTE,
            issue=row.issue_date,
            due=row.due_date,
            left_cents=row.left_cents,
            debtor_name=payer_name,
            debtor_address=payer_address,
            debit_on=sepa.direct_debit_date(db, invoice_id),
        ),
    )


def invoice_pdf(db: Database, actor: Actor, invoice_id: object, now: datetime) -> bytes:
    from lib.services.invoice_pdf import render

    detail = invoice_detail(db, actor, invoice_id, now)
    return render(detail, reference.settings(db))
