"""The town hall's cash desk (« régie »): a staff account holding the régisseur right records a
payment received at the counter (cheque, cash, CESU, transfer) against an invoice, with a numbered
receipt; corrects one only by a counter-entry with its reason and its own receipt; and prints the
day's cash journal (PDF, CSV) for the public accountant.

Who may do what, as a town organises it: the administrator grants and withdraws the right
(« Comptes »); only a régisseur records or cancels; the régisseurs and the administrator read the
receipts and the journal (the administrator checks the régie, he does not hold its cash); other
staff and families see nothing of it. Every refusal to record or cancel is in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lib.domain import cash_desk as rules
from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.cash_desk import CashPayment, DayTotals, Receipt
from lib.domain.clock import PARIS, from_utc_naive, to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.invoicing import Kind, PaymentMethod, left_to_pay, payment_reference, sequence_after
from lib.domain.roles import Role
from lib.domain.spreadsheet import csv_bytes
from lib.domain.validation import is_id
from lib.payments import provider
from lib.services import family_mail, sepa, trail
from lib.services.trail import refusals_audited
from lib.store import cash_desk as store
from lib.store import invoices as invoice_store
from lib.store import payments as ledger
from lib.store import reference
from lib.store.db import Cursor, Database

HOLDERS = (Role.AGENT, Role.ADMIN)  # the staff who may be given the right
SEARCH_LIMIT = 20

NOT_REGISSEUR = NotAllowed(
    "Seul un régisseur de la mairie enregistre ou annule un paiement à la régie : l'administrateur donne ce "
    "droit depuis la page « Comptes »."
)
NOT_READER = NotAllowed("La régie est consultée par les régisseurs et l'administrateur seulement.")
UNKNOWN_INVOICE = "Facture introuvable : vérifiez son numéro ou cherchez-la par le nom de la famille."


# --- who may do what ----------------------------------------------------------------------------


def _is_regisseur(cur: Cursor, actor: Actor) -> bool:
    return actor.role in HOLDERS and store.is_regisseur(cur, actor.user_id)


def _require_regisseur(cur: Cursor, actor: Actor) -> None:
    if not _is_regisseur(cur, actor):
        raise NOT_REGISSEUR


def _require_reader(db: Database, actor: Actor) -> None:
    if actor.role is not Role.ADMIN and not _is_regisseur(db.cursor(), actor):
        raise NOT_READER


@dataclass(frozen=True)
class Access:
    records: bool  # holds the régisseur right
    reads: bool  # a régisseur or the administrator


def access(db: Database, actor: Actor) -> Access:
    """What the page offers this actor (the entry points check again)."""
    records = _is_regisseur(db.cursor(), actor)
    return Access(records, records or actor.role is Role.ADMIN)


# --- the right, granted by the administrator -------------------------------------------------------


@dataclass(frozen=True)
class StaffAccount:
    user_id: int
    name: str
    email: str
    role: Role
    regisseur: bool
    active: bool


def staff_accounts(db: Database, actor: Actor) -> list[StaffAccount]:
    """The agents and administrators, with whether each holds the right (administrator only)."""
    actor.require(Role.ADMIN)
    return [
        StaffAccount(r["id"], r["display_name"], r["email"], Role(r["role"]), r["regisseur"], r["active"])
        for r in store.staff_accounts(db)
    ]


def set_regisseur(db: Database, actor: Actor, user_id: object, holds: bool, now: datetime) -> None:
    """Grant or withdraw the régisseur right; audited, a refusal too. An administrator does not grant
    it to himself (who controls the régie does not also keep its till); he may give his own up."""
    with refusals_audited(db, actor, now, "user.regisseur_refused", "user", user_id):
        actor.require(Role.ADMIN)
        if not isinstance(holds, bool):
            raise InvalidInput("Choisissez : régisseur ou non.")
        if holds and user_id == actor.user_id:
            raise NotAllowed(
                "Le droit de régisseur est donné par un autre administrateur : qui contrôle la régie n'en tient "
                "pas la caisse."
            )

        def work(cur: Cursor) -> None:
            account = store.staff_account(cur, user_id) if is_id(user_id) else None
            if account is None:
                raise NotFound("Compte introuvable.")
            if Role(account["role"]) not in HOLDERS:
                raise InvalidInput("Seul un agent ou un administrateur de la mairie peut être régisseur.")
            if holds and not account["active"]:
                raise InvalidInput("Ce compte est fermé : il ne peut pas recevoir le droit de régisseur.")
            if account["regisseur"] == holds:
                return
            store.set_regisseur(cur, account["id"], holds)
            trail.write(
                cur,
                actor,
                now,
                action="user.regisseur",
                entity="user",
                entity_id=account["id"],
                before={"regisseur": account["regisseur"], "name": account["display_name"]},
                after={"regisseur": holds, "name": account["display_name"]},
            )

        db.write(work)


# --- invoices at the counter ------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterInvoice:
    """An invoice as the régisseur sees it: what it asks, what it received, what is still owed."""

    id: int
    number: str
    reference: str  # its payment reference (lib.domain.invoicing.payment_reference)
    family: str
    payer: str
    month: date
    due_date: date
    total_cents: int
    paid_cents: int
    credited_cents: int
    left_cents: int
    paid: bool  # nothing left to pay: « Payée »


def _counter_invoice(row: dict) -> CounterInvoice:
    left = left_to_pay(row["total_cents"], row["paid_cents"], row["credited_cents"])
    return CounterInvoice(
        row["id"],
        row["number"],
        payment_reference(row["number"]),
        row["family"],
        row["payer_name"],
        row["period_month"],
        row["due_date"],
        row["total_cents"],
        row["paid_cents"],
        row["credited_cents"],
        left,
        left == 0,
    )


def find_invoices(db: Database, actor: Actor, query: object) -> list[CounterInvoice]:
    """Invoices by the family's or a guardian's name, the invoice number or its payment reference."""
    _require_reader(db, actor)
    terms = rules.search_terms(query)
    return [_counter_invoice(r) for r in store.find_invoices(db, terms.words, terms.numbers, SEARCH_LIMIT)]


def invoice(db: Database, actor: Actor, invoice_id: object) -> CounterInvoice:
    _require_reader(db, actor)
    row = store.invoice_at_counter(db.cursor(), invoice_id) if is_id(invoice_id) else None
    if row is None or row["kind"] != Kind.INVOICE.value:
        raise NotFound(UNKNOWN_INVOICE)
    return _counter_invoice(row)


# --- receipts ------------------------------------------------------------------------------------------


def _receipt(row: dict) -> Receipt:
    return Receipt(
        id=row["id"],
        number=row["number"],
        issued_at=from_utc_naive(row["issued_at"]),
        invoice_id=row["invoice_id"],
        invoice_number=row["invoice_number"],
        family=row["family"],
        payer=row["payer_name"],
        amount_cents=row["amount_cents"],
        method=PaymentMethod(row["method"]),
        regisseur=row["regisseur"],
        payment_id=row["payment_id"],
        bank=row["bank"],
        cheque_number=row["cheque_number"],
        drawer=row["drawer"],
        cesu_count=row["cesu_count"],
        transfer_ref=row["transfer_ref"],
        cancels_number=row["cancels_number"],
        reason=row["reason"],
        cancelled_by=row["cancelled_by"],
    )


def _one_receipt(cur: Cursor, receipt_id: int) -> Receipt:
    return _receipt(store.receipts(cur, [receipt_id])[0])


@dataclass(frozen=True)
class Recorded:
    receipt: Receipt
    replayed: bool  # the same form came back (a double click, a reload): nothing new was written


def _number(cur: Cursor, book_number: str | None, year: int) -> tuple[str, int | None]:
    """The receipt's number: the paper book's (used once), or the next of the year's sequence."""
    if book_number is not None:
        if store.number_used(cur, book_number):
            raise InvalidInput(
                f"Le numéro de reçu « {book_number} » est déjà utilisé : chaque souche du carnet sert une seule "
                "fois. Vérifiez le numéro imprimé sur la souche."
            )
        return book_number, None
    seq = sequence_after(*store.sequence_state(cur, year))
    return rules.receipt_number(year, seq), seq


def record_payment(
    db: Database, actor: Actor, invoice_id: object, form: CashPayment, key: object, now: datetime
) -> Recorded:
    """Record a payment received at the counter for an invoice, with its receipt, its audit entry
    and the family's payment receipt e-mail, in one transaction. The same form sent twice (`key`)
    records once and gives back the first receipt."""
    with refusals_audited(db, actor, now, "cashdesk.refused", "invoice", invoice_id):
        lifetime = provider.ProviderConfig.from_settings(reference.settings(db)).attempt_lifetime

        def work(cur: Cursor) -> Recorded:
            _require_regisseur(cur, actor)
            idempotency = rules.checked_key(key)
            done = store.receipt_for_key(cur, idempotency)
            if done is not None:
                return Recorded(_one_receipt(cur, done), replayed=True)
            payment = rules.checked(form)
            row = store.invoice_at_counter(cur, invoice_id) if is_id(invoice_id) else None
            if row is None:
                raise NotFound(UNKNOWN_INVOICE)
            if row["kind"] != Kind.INVOICE.value:
                raise InvalidInput(
                    f"{row['number']} est un avoir : un avoir ne se paie pas, il réduit ce que doit la facture "
                    "qu'il corrige. Cherchez cette facture."
                )
            debit_on = sepa.direct_debit_date(cur, row["id"])
            if debit_on is not None:
                raise InvalidInput(
                    f"La facture {row['number']} sera prélevée le {fr.long_date(debit_on)} (mandat SEPA) : ne "
                    "l'encaissez pas au guichet. Si la famille veut la payer autrement, le prélèvement doit "
                    "d'abord être rejeté ou retiré sur la page « Prélèvements »."
                )
            _refuse_if_paid_online(cur, row, lifetime, now)
            rules.check_owed(
                payment.amount_cents, left_to_pay(row["total_cents"], row["paid_cents"], row["credited_cents"])
            )
            at = to_utc_naive(now)
            number, seq = _number(cur, payment.book_number, now.astimezone(PARIS).year)
            payment_id = invoice_store.insert_payment(
                cur, row["id"], payment.amount_cents, at, payment.method.value, None, actor.user_id
            )
            payer = payment.payer or row["payer_name"] or row["family"]
            receipt_id = store.insert_receipt(
                cur,
                number=number,
                year=now.astimezone(PARIS).year,
                seq=seq,
                payment_id=payment_id,
                payer_name=payer,
                key=idempotency,
                at_utc=at,
                user_id=actor.user_id,
                bank=payment.bank,
                cheque_number=payment.cheque_number,
                drawer=payment.drawer or (payer if payment.method is PaymentMethod.CHEQUE else None),
                cesu_count=payment.cesu_count,
                transfer_ref=payment.transfer_ref,
            )
            audit_id = trail.write(
                cur,
                actor,
                now,
                action="cashdesk.payment",
                entity="invoice",
                entity_id=row["id"],
                after={
                    "receipt": number,
                    "amount_cents": payment.amount_cents,
                    "method": payment.method.value,
                    "payment_id": payment_id,
                },
            )
            family_mail.payment_received(cur, payment_id, now, by_staff=True, user_id=actor.user_id, audit_id=audit_id)
            return Recorded(_one_receipt(cur, receipt_id), replayed=False)

        return db.write(work)


def _refuse_if_paid_online(cur: Cursor, row: dict, lifetime: timedelta, now: datetime) -> None:
    """InvalidInput while an online payment of the invoice may still succeed (started less than the
    attempt lifetime ago, see ProviderConfig.attempt_lifetime): money taken now would be paid twice."""
    pending = invoice_store.pending_for_invoice(cur, row["id"], to_utc_naive(now - lifetime))
    if pending is None:
        return
    started = from_utc_naive(pending["created_at"])
    until = started + lifetime
    latest = (
        fr.hour(until)
        if until.astimezone(PARIS).date() == now.astimezone(PARIS).date()
        else f"le {fr.numeric_date_time(until)}"
    )
    raise InvalidInput(
        f"Un paiement en ligne de la facture {row['number']} est en cours depuis {fr.hour(started)} : attendez "
        f"sa réponse (au plus tard {latest}) avant d'encaisser au guichet."
    )


def cancel_payment(
    db: Database,
    actor: Actor,
    receipt_id: object,
    reason: object,
    key: object,
    now: datetime,
    book_number: object = None,
) -> Recorded:
    """Cancel a payment taken at the counter by a counter-entry (the ledger never edits a payment),
    with its reason and its own receipt « Annulation du reçu R-… »; once per payment."""
    with refusals_audited(db, actor, now, "cashdesk.cancel_refused", "cash_receipt", receipt_id):

        def work(cur: Cursor) -> Recorded:
            _require_regisseur(cur, actor)
            idempotency = rules.checked_key(key)
            done = store.receipt_for_key(cur, idempotency)
            if done is not None:
                return Recorded(_one_receipt(cur, done), replayed=True)
            found = store.receipts(cur, [receipt_id]) if is_id(receipt_id) else []
            if not found:
                raise NotFound("Reçu introuvable : choisissez-le dans le journal de caisse.")
            original = _receipt(found[0])
            if original.is_cancellation:
                raise InvalidInput(
                    f"Le reçu {original.number} est lui-même une annulation : il ne s'annule pas. Enregistrez le "
                    "paiement à nouveau si besoin."
                )
            why = rules.checked_reason(reason)
            book = rules.checked_book_number(book_number)
            at = to_utc_naive(now)
            counter_id = (
                None
                if original.cancelled_by
                else ledger.insert_counter_entry(cur, original.payment_id, at, why, actor.user_id)
            )
            if counter_id is None:
                raise InvalidInput(
                    f"Le reçu {original.number} est déjà annulé"
                    + (f" (reçu {original.cancelled_by})" if original.cancelled_by else "")
                    + " : un paiement ne s'annule qu'une fois."
                )
            year = now.astimezone(PARIS).year
            number, seq = _number(cur, book, year)
            new_id = store.insert_receipt(
                cur,
                number=number,
                year=year,
                seq=seq,
                payment_id=counter_id,
                payer_name=original.payer,
                key=idempotency,
                at_utc=at,
                user_id=actor.user_id,
                bank=original.bank,
                cheque_number=original.cheque_number,
                drawer=original.drawer,
                cesu_count=original.cesu_count,
                transfer_ref=original.transfer_ref,
            )
            trail.write(
                cur,
                actor,
                now,
                action="cashdesk.cancel",
                entity="invoice",
                entity_id=original.invoice_id,
                before={"receipt": original.number, "amount_cents": original.amount_cents},
                after={"receipt": number, "amount_cents": -original.amount_cents, "method": original.method.value},
                reason=why,
            )
            return Recorded(_one_receipt(cur, new_id), replayed=False)

        return db.write(work)


def invoice_receipts(db: Database, actor: Actor, invoice_id: object) -> list[Receipt]:
    """The receipts of one invoice (payments at the counter and cancellations)."""
    _require_reader(db, actor)
    if not is_id(invoice_id):
        raise NotFound(UNKNOWN_INVOICE)
    return [_receipt(r) for r in store.invoice_receipts(db, invoice_id)]


def receipt(db: Database, actor: Actor, receipt_id: object) -> Receipt:
    _require_reader(db, actor)
    found = store.receipts(db, [receipt_id]) if is_id(receipt_id) else []
    if not found:
        raise NotFound("Reçu introuvable : choisissez-le dans le journal de caisse.")
    return _receipt(found[0])


def receipt_pdf(db: Database, actor: Actor, receipt_id: object, *, duplicate: bool) -> bytes:
    """The receipt as a PDF: the original handed over at the counter, or a « Duplicata » (same
    number) when it is printed again."""
    from lib.services.cash_desk_pdf import receipt_document

    return receipt_document(receipt(db, actor, receipt_id), reference.settings(db), duplicate=duplicate)


# --- the day's cash journal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CashJournal:
    day: date
    regisseur: str | None  # None: every régisseur
    receipts: list[Receipt]
    totals: DayTotals


def _day(value: object) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput("Choisissez le jour du journal de caisse.")
    return value


def day_journal(db: Database, actor: Actor, day: object, regisseur_id: object = None) -> CashJournal:
    """Every receipt and cancellation of a Paris day, by one régisseur or all, with the totals."""
    _require_reader(db, actor)
    chosen = _day(day)
    who: str | None = None
    if regisseur_id is not None:
        names = dict(store.issuers(db))
        if not is_id(regisseur_id) or regisseur_id not in names:
            raise NotFound("Régisseur introuvable : choisissez-le dans la liste.")
        who = names[regisseur_id]
    start = datetime.combine(chosen, time(0, 0), PARIS)
    end = datetime.combine(chosen + timedelta(days=1), time(0, 0), PARIS)
    rows = store.day_receipts(db, to_utc_naive(start), to_utc_naive(end), regisseur_id if who else None)
    receipts = [_receipt(r) for r in rows]
    return CashJournal(chosen, who, receipts, rules.day_totals(receipts))


def regisseurs(db: Database, actor: Actor) -> list[tuple[int, str]]:
    """Whose journal may be chosen: those who hold the right or issued a receipt."""
    _require_reader(db, actor)
    return store.issuers(db)


def journal_csv(db: Database, actor: Actor, day: object, regisseur_id: object = None) -> bytes:
    journal = day_journal(db, actor, day, regisseur_id)
    return csv_bytes(rules.JOURNAL_HEADERS, rules.journal_rows(journal.receipts) + rules.totals_rows(journal.totals))


def journal_pdf(db: Database, actor: Actor, day: object, regisseur_id: object = None) -> bytes:
    from lib.services.cash_desk_pdf import journal_document

    return journal_document(day_journal(db, actor, day, regisseur_id), reference.settings(db))


def journal_file_name(journal_day: date, extension: str) -> str:
    return f"journal-de-caisse-{journal_day.isoformat()}.{extension}"


def receipt_file_name(number: str) -> str:
    safe = "".join(c if c.isalnum() or c == "-" else "-" for c in number)
    return f"recu-{safe}.pdf"


def owed_text(found: CounterInvoice) -> str:
    """« Reste dû : 45,50 € sur 80,00 € » or « Payée »: what the régisseur reads before taking money."""
    if found.paid:
        return f"Payée ({fr.euros(found.total_cents)})"
    return f"Reste dû : {fr.euros(found.left_cents)} sur {fr.euros(found.total_cents)}"
