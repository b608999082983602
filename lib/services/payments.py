"""Paying invoices online: the right to pay, starting a payment, recording the provider's answer.

The provider's answer arrives twice (the browser's return and the server-to-server
notification) and may be replayed or forged: both go through `record_answer`, which accepts only
a signed answer for a known attempt with the right amount, and records the payment at most once
per attempt (a unique key on payments.transaction_id, in the same transaction as the attempt's
new state). A final state never changes — a payment cannot be undone — but a signed "paid" always
wins: money the provider took is recorded, even after a refusal or our own expiry.

An invoice never has two attempts that could both still succeed: an attempt blocks its invoice
until the provider answered final for it or its own expiry has surely passed
(`ProviderConfig.attempt_lifetime`). If money arrives twice anyway, both payments are kept and the
invoice is « Trop-perçu »: `overpaid_invoices` lists the refunds for the administrator.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple
from urllib.parse import urlencode

from lib.domain import fr
from lib.domain.actor import Actor
from lib.domain.clock import from_utc_naive, to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.invoicing import (
    Kind,
    PayerEmailNeeded,
    PaymentRefused,
    PaymentRight,
    TxState,
    left_to_pay,
    may_pay,
    next_state,
    outcome_message,
    overpaid_cents,
    payment_reference,
)
from lib.domain.records import FamilyRight, ReceivedPayment
from lib.domain.roles import Role
from lib.domain.validation import normalize_email
from lib.payments import provider
from lib.payments.sandbox import BANK
from lib.services import auth, family_mail, sepa
from lib.services.config import PUBLIC_URL_ENV as PUBLIC_URL_ENV  # the tests name it here
from lib.services.config import production, public_address
from lib.services.trail import refusals_audited
from lib.store import audit, reference
from lib.store import invoices as store
from lib.store import payments as payment_store
from lib.store.db import Cursor, Database

_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def config(db: Database) -> provider.ProviderConfig:
    return provider.ProviderConfig.from_settings(reference.settings(db))


def portal_address(values: dict[str, str], served_port: int | None) -> str | None:
    """The portal's address given to the provider (the form's target for the test bank, the
    return, the notification): the public address, else the process's own
    http://127.0.0.1:<the port it serves on>; None on a Unix socket without a public address.
    Never an address a request names: a forged Host header must not send the family, the
    provider or the test bank elsewhere."""
    return public_address(values) or (f"http://127.0.0.1:{served_port}" if served_port else None)


def own_address(db: Database, served_port: int | None) -> str | None:
    """The portal's address given to the provider (see portal_address), from the town's settings."""
    return portal_address(reference.settings(db), served_port)


def service_base(values: dict[str, str], served_port: int | None) -> str | None:
    """Where the portal reaches a web service of its own (the PayFiP sandbox's SOAP): itself on
    the port it serves on, not through the public address (a proxy, a certificate, a name the
    server may not resolve); the public address when the port is unknown (no request, a Unix socket)."""
    return f"http://127.0.0.1:{served_port}" if served_port else public_address(values)


def _setup(db: Database, served_port: int | None) -> tuple[provider.ProviderConfig, str, str | None]:
    """The provider's configuration, the portal's address and where it reaches its own services,
    from one read of the settings."""
    values = reference.settings(db)
    base = portal_address(values, served_port)
    if base is None:
        raise PaymentRefused(
            "Le paiement en ligne n'est pas configuré (adresse publique du portail) : contactez la mairie."
        )
    return provider.ProviderConfig.from_settings(values), base, service_base(values, served_port)


# --- the right to pay online --------------------------------------------------------------------


def _own_family(actor: Actor) -> int:
    """The id of the actor's family: NotAllowed for anyone but a family."""
    if not actor.is_family or actor.family_id is None:
        raise NotAllowed("Cette page est réservée aux familles.")
    return actor.family_id


def _family(db_or_cur: Database | Cursor, family_id: int) -> dict:
    found = store.family(db_or_cur, family_id)
    if found is None:  # a family account always has its family row (foreign key)
        raise NotAllowed("Famille introuvable.")
    return found


def payment_right(db: Database, actor: Actor) -> FamilyRight:
    found = store.family_right(db, _own_family(actor))
    if found is None:  # a family account always has its family row (foreign key)
        raise NotAllowed("Famille introuvable.")
    return found


def request_payment_right(db: Database, actor: Actor, now: datetime) -> str:
    found = payment_right(db, actor)
    state = found.right
    if state is PaymentRight.GRANTED:
        return "Votre famille a déjà le droit de payer en ligne."
    if state is PaymentRight.REQUESTED:
        return "Votre demande est déjà enregistrée : la mairie vous répondra prochainement."
    at = to_utc_naive(now)

    def work(cur: Cursor) -> None:
        store.set_payment_right(cur, found.family_id, PaymentRight.REQUESTED, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="payment_right.request",
            entity="family",
            entity_id=found.family_id,
            before={"payment_right": state},
            after={"payment_right": PaymentRight.REQUESTED},
        )

    db.write(work)
    return "Demande envoyée : la mairie vous répondra prochainement. Vous verrez sa réponse sur cette page."


def payment_right_requests(db: Database, actor: Actor) -> list[FamilyRight]:
    actor.require(Role.ADMIN)
    return store.payment_right_requests(db)


def decide_payment_right(db: Database, actor: Actor, family_id: object, grant: bool, now: datetime) -> str:
    actor.require(Role.ADMIN)
    found = (
        store.family_right(db, family_id) if isinstance(family_id, int) and not isinstance(family_id, bool) else None
    )
    if found is None:
        raise InvalidInput("Famille introuvable.")
    value = PaymentRight.GRANTED if grant else PaymentRight.REFUSED
    at = to_utc_naive(now)

    def work(cur: Cursor) -> None:
        store.set_payment_right(cur, found.family_id, value, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action=f"payment_right.{value}",
            entity="family",
            entity_id=found.family_id,
            before={"payment_right": found.right},
            after={"payment_right": value},
        )

    db.write(work)
    return f"{found.name} : droit de payer en ligne {'accordé' if grant else 'refusé'}."


# --- starting a payment ----------------------------------------------------------------------------

DEPARTURE_PATH = "/paiement/depart"


def departure_link(token: str, invoice_id: int, key: str) -> str:
    """The link behind « Confirmer et payer »: the route checks its code against the session, then
    starts the payment (the same key again resumes the same attempt: a double click is harmless)."""
    code = auth.action_code(token, f"pay:{invoice_id}:{key}")
    return f"{DEPARTURE_PATH}?{urlencode({'facture': invoice_id, 'cle': key, 'code': code})}"


def departure_code_ok(token: str, raw_invoice_id: str, key: str, code: str) -> bool:
    return hmac.compare_digest(code, auth.action_code(token, f"pay:{raw_invoice_id}:{key}"))


@dataclass(frozen=True)
class Departure(provider.Started):
    """Where the departure sends the browser, and what it shows the family before: the amount,
    the invoice, and the payment reference the public accountant matches (REFDET and year)."""

    amount_cents: int = 0
    number: str = ""
    payment_ref: str = ""
    exer: int | None = None


RECEIPT_EMAIL_MAX = 80  # PayFiP's MEL: 6 to 80 characters


def receipt_email(raw: object) -> str:
    """The e-mail a payer gives for the bank's receipt (when the family file has none and the
    provider needs one): validated, never stored in the family file."""
    email = normalize_email(raw if isinstance(raw, str) else None)
    if len(email) > RECEIPT_EMAIL_MAX:
        raise InvalidInput(f"Adresse e-mail trop longue pour la banque (au plus {RECEIPT_EMAIL_MAX} caractères).")
    return email


def start_payment(
    db: Database,
    actor: Actor,
    invoice_id: object,
    idempotency_key: str,
    served_port: int | None,
    now: datetime,
    *,
    email: str | None = None,
) -> Departure:
    """Create (or, for the same key, find again) the attempt to pay an invoice; returns what takes
    the browser to the provider. A refusal is kept in the audit log.
    `served_port`: the port this process serves on (the portal's address without `public_url`;
    None on a Unix socket, where only a configured address will do). `email`: the one the payer
    gave for the bank's receipt, where the provider needs one and the family file has none
    (PayerEmailNeeded asks for it)."""
    with refusals_audited(db, actor, now, "payment.start_refused", "invoice", invoice_id):
        return _start_payment(db, actor, invoice_id, idempotency_key, served_port, now, email)


@dataclass(frozen=True)
class _Due:
    number: str
    left: int
    year: int


def _start_payment(
    db: Database,
    actor: Actor,
    invoice_id: object,
    idempotency_key: str,
    served_port: int | None,
    now: datetime,
    given_email: str | None,
) -> Departure:
    """In three steps, so that no write waits on the provider: read and check; ask the provider
    (PayFiP answers over the network: up to provider.SERVICE_TIMEOUT_S); then, in one write, check
    again and keep the attempt. A provider's request that loses the race (another attempt got in
    first) is never shown to anyone and expires at the provider."""
    if not actor.is_family or actor.family_id is None:
        raise NotAllowed("Seule la famille peut payer ses factures en ligne.")
    family_id = actor.family_id
    if not isinstance(idempotency_key, str) or not _KEY.match(idempotency_key):
        raise InvalidInput("Lien de paiement invalide : revenez à « Mes factures » et cliquez à nouveau sur « Payer ».")
    refusal = NotAllowed("Facture introuvable ou non rattachée à votre compte.")
    if not isinstance(invoice_id, int) or isinstance(invoice_id, bool):
        raise refusal
    email = receipt_email(given_email) if given_email is not None else None
    cfg, base_url, own_services = _setup(db, served_port)
    if production() and cfg.backend in provider.NOT_FOR_PRODUCTION:
        raise PaymentRefused("Le paiement en ligne n'est pas disponible : contactez la mairie.")
    at = to_utc_naive(now)
    since = to_utc_naive(now - cfg.attempt_lifetime)

    def again(cur: Cursor) -> Departure | None:
        found = store.transaction_by_key(cur, idempotency_key)
        if found is None:
            return None
        if found["family_id"] != family_id or found["invoice_id"] != invoice_id:
            raise refusal
        number = store.invoice_number(cur, invoice_id) or "?"
        if found["state"] != TxState.PENDING:
            raise PaymentRefused(outcome_message(TxState(found["state"]), number))
        sepa.refuse_if_debited(cur, invoice_id)  # put in a direct debit run since: not paid twice
        return _departure(
            provider.Started.from_stored(found["transaction_ref"], found["form_fields"]),
            found["amount_cents"],
            number,
            found["payment_ref"] or found["order_ref"],
            found["exer"],
        )

    def due(cur: Cursor) -> _Due:
        summary = store.invoice_summary(cur, invoice_id, since)
        if (
            summary is None
            or summary["family_id"] != family_id
            or not may_pay(summary["split_family"], summary["payer_user_id"], actor.user_id)
        ):
            raise refusal
        family = _family(cur, family_id)
        if family["payment_right"] != PaymentRight.GRANTED:
            raise PaymentRefused(
                "Votre famille n'a pas encore le droit de payer en ligne : demandez-le avec le "
                "bouton « Demander le droit de payer en ligne »."
            )
        if summary["kind"] != Kind.INVOICE:
            raise PaymentRefused(f"{summary['number']} est un avoir : il n'y a rien à payer.")
        sepa.refuse_if_debited(cur, invoice_id)  # an invoice collected by direct debit is not paid online too
        left = left_to_pay(summary["total_cents"], summary["paid_cents"], summary["credited_cents"])
        if left == 0:
            raise PaymentRefused(f"La facture {summary['number']} est déjà soldée.")
        pending = store.pending_for_invoice(cur, invoice_id, since)
        if pending is not None:
            pending_at = from_utc_naive(pending["created_at"])
            raise PaymentRefused(
                f"Un paiement de la facture {summary['number']} est déjà en cours depuis "
                f"{fr.hour(pending_at)} : terminez-le sur la page de paiement. "
                + second_payment_after(pending_at + cfg.attempt_lifetime, now)
            )
        return _Due(summary["number"], left, store.invoice_year(cur, invoice_id))

    cur = db.cursor()
    found = again(cur)
    if found is not None:
        return found
    first = due(cur)
    email = email or _payer_email(cur, invoice_id)
    if email is None and cfg.email_required:
        raise PayerEmailNeeded(
            "La banque envoie un reçu par e-mail : indiquez l'adresse où le recevoir (elle ne sert qu'à ce paiement)."
        )
    ref = payment_reference(first.number)
    try:
        started = provider.start(cfg, base_url, first.left, ref, first.year, email, own_services)
    except Exception as exc:  # a misconfigured or unreachable provider must not show a traceback to a parent
        raise PaymentRefused(
            "Le paiement en ligne est momentanément indisponible : réessayez plus tard ou contactez la mairie."
        ) from exc

    def work(cur: Cursor) -> Departure:
        found = again(cur)
        if found is not None:
            return found
        store.lock_invoice(cur, invoice_id)
        if due(cur) != first:
            raise PaymentRefused(
                f"La facture {first.number} vient de changer : revenez à « Mes factures » et cliquez à nouveau sur « Payer »."
            )
        store.insert_transaction(
            cur,
            {
                "invoice_id": invoice_id,
                "family_id": family_id,
                "provider": cfg.backend,
                "transaction_ref": started.transaction_ref,
                "order_ref": first.number,
                "payment_ref": ref,
                "exer": first.year,
                "idempotency_key": idempotency_key,
                "amount_cents": first.left,
                "state": TxState.PENDING.value,
                "created_at": at,
                "updated_at": at,
                "form_fields": started.stored(),
            },
        )
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="payment.start",
            entity="invoice",
            entity_id=invoice_id,
            after={"transaction": started.transaction_ref, "amount_cents": first.left, "reference": ref},
        )
        return _departure(started, first.left, first.number, ref, first.year)

    return db.write(work)


def _departure(started: provider.Started, amount: int, number: str, ref: str, exer: int | None) -> Departure:
    return Departure(
        started.transaction_ref, started.kind, started.url, started.fields, started.html, amount, number, ref, exer
    )


def _payer_email(cur: Cursor, invoice_id: int) -> str | None:
    """The e-mail given to the provider: the invoice's payer's (lib.store.invoices.payers)."""
    payer = store.payers(cur, [invoice_id]).get(invoice_id)
    return payer.email if payer else None


def second_payment_after(until: datetime, now: datetime) -> str:
    """Why a second payment of an invoice cannot start while an attempt is in progress, and when
    it can (`until`: the attempt's end, see ProviderConfig.attempt_lifetime), for the family."""
    when = fr.hour(until) if until.astimezone(now.tzinfo).date() == now.date() else f"le {fr.numeric_date_time(until)}"
    return (
        "Tant que la banque peut encore l'accepter, un second paiement n'est pas possible : sans réponse de sa "
        f"part, vous pourrez payer à nouveau après {when}."
    )


# --- the provider's answer ---------------------------------------------------------------------------


class AnswerRejected(Exception):
    """An answer that is not recorded; `status` is the HTTP status for the provider."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass
class Recorded:
    transaction_ref: str
    state: TxState
    invoice_number: str
    changed: bool
    overpaid_cents: int = 0

    @property
    def message(self) -> str:
        return outcome_message(self.state, self.invoice_number, self.overpaid_cents)


def _refuse_unproven_backend(cfg: provider.ProviderConfig) -> None:
    """In production, a backend whose answers cannot show the town was paid is refused
    (provider.NOT_FOR_PRODUCTION; the production check lists it too)."""
    reason = provider.NOT_FOR_PRODUCTION.get(cfg.backend)
    if reason is not None and production():
        raise provider.ProviderError(f"{reason}.")


def record_answer(
    db: Database, query_string: str, source: str, now: datetime, *, address: str, served_port: int | None = None
) -> Recorded:
    """Verify an answer and record it once. Rejections change nothing but leave an audit entry:
    one each for a genuine answer that does not fit its attempt, one counted per address and window
    for anonymous ones (unsigned, forged, unconfirmed, unreadable). `address`: where the answer
    came from; `served_port`: as for start_payment (the portal's address, where the provider's
    status service is our own sandbox's)."""
    at = to_utc_naive(now)
    values = reference.settings(db)
    cfg = provider.ProviderConfig.from_settings(values)
    try:
        _refuse_unproven_backend(cfg)
        named = provider.attempt_named(cfg, query_string)
        if named is not None and store.transaction_for_answer(db.cursor(), named) is None:
            raise provider.ProviderError("transaction inconnue", status=404)
        answer = provider.parse(cfg, service_base(values, served_port), query_string, source=source, address=address)
    except provider.ProviderError as exc:
        REJECTIONS.count(db, now, address, source, exc.reason)
        raise AnswerRejected(exc.status, exc.reason) from None
    answer_ref = answer.transaction_ref or answer.payment_ref or "?"

    def work(cur: Cursor) -> Recorded:
        if answer.transaction_ref is not None:
            tx = store.transaction_for_answer(cur, answer.transaction_ref)
        else:
            tx = store.latest_transaction_for_payment_ref(cur, answer.payment_ref) if answer.payment_ref else None
        if tx is None:
            raise AnswerRejected(404, "transaction inconnue")
        number = tx["order_ref"]
        if answer.amount_cents is not None and answer.amount_cents != tx["amount_cents"]:
            raise AnswerRejected(400, f"montant {answer.amount_cents} ≠ {tx['amount_cents']} attendus")
        if answer.payment_ref is not None and answer.payment_ref != (tx["payment_ref"] or number):
            raise AnswerRejected(400, "la réponse ne concerne pas cette facture")
        if answer.year is not None and tx["exer"] is not None and answer.year != str(tx["exer"]):
            raise AnswerRejected(400, "la réponse ne concerne pas cet exercice")
        current = TxState(tx["state"])
        state = next_state(current, answer.state)
        if state == current:
            return Recorded(tx["transaction_ref"], current, number, changed=False)  # a replay: nothing to do
        store.update_transaction(
            cur, tx["id"], state.value, at, json.dumps(answer.data, ensure_ascii=False), answer.message[:500]
        )
        after = {
            "state": state.value,
            "transaction": tx["transaction_ref"],
            "source": source,
            "amount_cents": tx["amount_cents"],
        }
        overpaid = 0
        payment_id = None
        if state is TxState.PAID:
            payment_id = store.insert_payment(cur, tx["invoice_id"], tx["amount_cents"], at, "online", tx["id"], None)
            overpaid = overpaid_cents(*payment_store.invoice_money(cur, tx["invoice_id"]))
            if overpaid:
                after["overpaid_cents"] = overpaid
        audit_id = audit.record(
            cur,
            at_utc=at,
            user_id=None,
            action=f"payment.{state.value}",
            entity="invoice",
            entity_id=tx["invoice_id"],
            before={"state": current.value},
            after=after,
        )
        if payment_id is not None:
            family_mail.payment_received(cur, payment_id, now, by_staff=False, user_id=None, audit_id=audit_id)
        return Recorded(tx["transaction_ref"], state, number, changed=True, overpaid_cents=overpaid)

    try:
        return db.write(work)
    except AnswerRejected as exc:
        reason = exc.reason[:300]
        db.write(
            lambda cur: audit.record(
                cur,
                at_utc=at,
                user_id=None,
                action="payment.rejected",
                entity="transaction",
                entity_id=answer_ref,
                after={"source": source, "address": address},
                reason=reason,
            )
        )
        raise


class RejectionTally:
    """Anonymous rejected answers — anyone can post to the notification route — counted per source
    address: one audit row per address and window (WINDOW), whose count is brought up to date at
    most once per FLUSH, and for the last time when a later rejection finds the window closed. A
    flood then costs a few writes per window and one line in the journal, where one row each once
    buried the real payments. Counts live in this process until written: at most FLUSH of them
    are lost if it stops. Beyond MAX_ADDRESSES addresses at once, new ones are counted together
    under « autres adresses » (an attacker with many addresses cannot grow the table)."""

    WINDOW = timedelta(minutes=10)
    FLUSH = timedelta(minutes=1)
    MAX_ADDRESSES = 10_000
    OTHERS = "autres adresses"

    @dataclass
    class _Tally:
        audit_id: int
        source: str
        opened: datetime
        last: datetime
        written_at: datetime
        reason: str
        count: int = 1
        written: int = 1

    def __init__(self) -> None:
        self._by_database: dict[str, dict[str, RejectionTally._Tally]] = {}  # database file → address → tally
        self._lock = threading.Lock()

    def count(self, db: Database, now: datetime, address: str, source: str, reason: str) -> None:
        reason = reason[:300]
        with self._lock:
            tallies = self._by_database.setdefault(db.path, {})
            tally = tallies.get(address)
            if tally is None or now >= tally.opened + self.WINDOW:
                self._close_windows(db, tallies, now)
                if address not in tallies and len(tallies) >= self.MAX_ADDRESSES:
                    address = self.OTHERS
                tally = tallies.get(address)
            if tally is None:
                first = {"source": source, "count": 1, "first": to_utc_naive(now).isoformat()}
                audit_id = db.write(
                    lambda cur: payment_store.open_rejection_tally(cur, to_utc_naive(now), address, first, reason)
                )
                tallies[address] = self._Tally(audit_id, source, now, now, now, reason)
                return
            tally.count, tally.last, tally.reason = tally.count + 1, now, reason
            if now >= tally.written_at + self.FLUSH:
                self._write(db, tally, now)

    def _close_windows(self, db: Database, tallies: dict[str, RejectionTally._Tally], now: datetime) -> None:
        for address in [a for a, t in tallies.items() if now >= t.opened + self.WINDOW]:
            self._write(db, tallies.pop(address), now)

    @staticmethod
    def _write(db: Database, tally: RejectionTally._Tally, now: datetime) -> None:
        tally.written_at = now
        if tally.count == tally.written:
            return
        after = {
            "source": tally.source,
            "count": tally.count,
            "first": to_utc_naive(tally.opened).isoformat(),
            "last": to_utc_naive(tally.last).isoformat(),
        }
        db.write(lambda cur: payment_store.update_rejection_tally(cur, tally.audit_id, after, tally.reason))
        tally.written = tally.count


REJECTIONS = RejectionTally()


class Outcome(NamedTuple):
    """What became of a family's payment attempt, and the sentence saying it."""

    state: TxState
    message: str


def outcome_for_family(db: Database, actor: Actor, transaction_ref: str) -> Outcome | None:
    """What became of one of the family's attempts (for the message back on « Mes factures »)."""
    if not actor.is_family or actor.family_id is None:
        return None
    if not isinstance(transaction_ref, str) or len(transaction_ref) > 80:
        return None
    found = store.transaction_for_family(db, transaction_ref, actor.family_id)
    if found is None:
        return None
    state = TxState(found["state"])
    message = outcome_message(
        state, found["number"], overpaid_cents(*payment_store.invoice_money(db, found["invoice_id"]))
    )
    return Outcome(state, message + reference_line(found["payment_ref"], found["exer"]))


def reference_line(payment_ref: str | None, exer: int | None) -> str:
    """The payment reference the public accountant matches, as the family reads it (empty for an
    attempt made before references were kept)."""
    if not payment_ref:
        return ""
    return f" Référence de paiement : {payment_ref}" + (f" (exercice {exer})." if exer else ".")


def reconcile(db: Database, now: datetime, *, family_id: int | None = None) -> int:
    """Settle attempts whose answer never reached us: ask the provider (PayFiP's status service;
    the Systempay sandbox keeps its answers), and give up on attempts only once the provider's own
    expiry has surely passed (`attempt_lifetime`). Returns how many attempts changed."""
    changed = 0
    cfg = config(db)
    for tx in store.stale_pending(db, to_utc_naive(now), family_id):
        query = provider.status_query(cfg, tx["transaction_ref"]) or (
            BANK.status(tx["transaction_ref"]) if cfg.sandbox else None
        )
        if query:
            with contextlib.suppress(AnswerRejected):
                if record_answer(db, query, "reconciliation", now, address="rapprochement").changed:
                    changed += 1
                    continue
        if from_utc_naive(tx["created_at"]) + cfg.attempt_lifetime < now:
            changed += db.write(partial(_expire, tx=tx, at=to_utc_naive(now)))
    return changed


def _expire(cur: Cursor, *, tx: dict, at: datetime) -> int:
    """An attempt without an answer past its provider's expiry: expired (1), unless an answer came meanwhile (0)."""
    now_stored = store.transaction_by_ref(cur, tx["transaction_ref"])
    if now_stored is None or now_stored["state"] != TxState.PENDING:
        return 0
    store.update_transaction(cur, tx["id"], TxState.EXPIRED.value, at, None, "sans réponse de la banque")
    audit.record(
        cur,
        at_utc=at,
        user_id=None,
        action="payment.expired",
        entity="invoice",
        entity_id=tx["invoice_id"],
        after={"transaction": tx["transaction_ref"]},
    )
    return 1


# --- money received twice ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Overpaid:
    """An invoice that received more than it asked, and the refund the town owes its family."""

    invoice_id: int
    number: str
    family_id: int
    family: str
    email: str | None
    total_cents: int
    paid_cents: int
    credited_cents: int
    payments: list[ReceivedPayment]
    payer: str = ""  # the guardian the invoice is addressed to (`email` is his), who is refunded

    @property
    def refund_cents(self) -> int:
        return overpaid_cents(self.total_cents, self.paid_cents, self.credited_cents)


def overpaid_invoices(db: Database, actor: Actor) -> list[Overpaid]:
    actor.require(Role.ADMIN)
    rows = payment_store.overpaid_invoices(db)
    payers = store.payers(db, [r["id"] for r in rows])
    return [
        Overpaid(
            r["id"],
            r["number"],
            r["family_id"],
            r["family"],
            payers[r["id"]].email if r["id"] in payers else r["email"],
            r["total_cents"],
            r["paid_cents"],
            r["credited_cents"],
            [
                ReceivedPayment(from_utc_naive(p["paid_at"]), p["amount_cents"], p["method"], p["reference"])
                for p in r["payments"]
            ],
            payers[r["id"]].name if r["id"] in payers else "",
        )
        for r in rows
    ]


def describe_right(right: FamilyRight) -> str:
    when = f" le {fr.numeric_date(from_utc_naive(right.at))}" if right.at else ""
    return {
        PaymentRight.NONE: "Votre famille n'a pas le droit de payer en ligne.",
        PaymentRight.REQUESTED: (
            f"Demande de droit de payer en ligne envoyée{when} : en attente de la réponse de la mairie."
        ),
        PaymentRight.GRANTED: f"Droit de payer en ligne accordé{when}.",
        PaymentRight.REFUSED: (
            f"Demande de droit de payer en ligne refusée{when}. Contactez la mairie pour en savoir plus."
        ),
    }[right.right]
