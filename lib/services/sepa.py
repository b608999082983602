"""SEPA direct debit, the use cases: the town's creditor settings, a family's mandates, the monthly
run (its pain.008 file, the pre-notifications), the collection on its date, rejects (typed or
imported from the bank's pain.002), and what a family sees.

When an invoice counts as paid: on the collection date, by a `prelevement` payment dated that day
(`collect_due`, a daily job). That is what a French town's régie records: a receipt is booked when
the money is there, and until then the invoice is owed (the unpaid list and the public accountant
see it so); the file handed to the bank is only the order. A reject the bank returns before the
collection date (pain.002) leaves nothing to undo; a debit returned after it (the account closed, a
refund asked) re-opens the invoice by a counter-entry of its payment with the reason.

What cannot be paid online: an invoice in a run whose debit was not rejected (`refuse_if_debited`,
called by `services.payments` when a payment starts): the family's bank is about to pay it, and
« Mes factures » shows « Prélèvement le … » instead of « Payer ». An invoice of a family with a mandate
but in no run yet may still be paid online: the month's run takes only what is left to pay, and the
administrator may never run a given month. An invoice is put in one run at most (a schema UNIQUE):
running a month again takes only the invoices not in a run yet, and a rejected debit is not
presented again — the family pays it online or at the town hall."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from lib.domain import fr
from lib.domain import sepa as rules
from lib.domain.actor import Actor
from lib.domain.clock import PARIS, from_utc_naive, to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.invoicing import PaymentMethod, PaymentRefused, invoice_visible, payment_reference
from lib.domain.roles import Role
from lib.domain.validation import is_id
from lib.payments import provider
from lib.services import mail, trail
from lib.services.trail import refusals_audited
from lib.store import audit, deployment, outbox, reference
from lib.store import invoices as invoice_store
from lib.store import payments as payment_store
from lib.store import sepa as store
from lib.store.db import Cursor, Database

NOT_CONFIGURED = (
    "Les réglages du prélèvement ne sont pas complets : renseignez le nom, l'ICS, l'IBAN et le BIC de la "
    "mairie (onglet « Réglages »)."
)


def _today(now: datetime) -> date:
    return now.astimezone(PARIS).date()


# --- the creditor's settings ---------------------------------------------------------------------


def creditor(db_or_cur: Database | Cursor) -> rules.CreditorSettings:
    """The town as creditor, as stored (empty fields when not set; `complete` says if runs may go)."""
    values = store.creditor_settings(db_or_cur)
    day = values.get("sepa_collection_day", "")
    notice = values.get("sepa_notice_days", str(rules.DEFAULT_NOTICE_DAYS))
    return rules.CreditorSettings(
        values.get("sepa_creditor_name", ""),
        values.get("sepa_creditor_id", ""),
        values.get("sepa_iban", ""),
        values.get("sepa_bic", ""),
        int(day) if day.isdigit() else rules.DEFAULT_COLLECTION_DAY,
        int(notice) if notice.isdigit() else rules.DEFAULT_NOTICE_DAYS,
    )


def settings(db: Database, actor: Actor) -> rules.CreditorSettings:
    actor.require(Role.ADMIN)
    return creditor(db)


def save_settings(
    db: Database,
    actor: Actor,
    *,
    name: str,
    creditor_id: str,
    iban: str,
    bic: str,
    collection_day: object,
    notice_days: object,
    now: datetime,
) -> rules.CreditorSettings:
    """Check and store the creditor's settings, each change in the journal; a refusal is journaled
    and writes nothing."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "sepa.settings_refused", "setting", "sepa"):
        checked = rules.checked_creditor(name, creditor_id, iban, bic, collection_day, notice_days)
    values = {
        "sepa_creditor_name": checked.name,
        "sepa_creditor_id": checked.creditor_id,
        "sepa_iban": checked.iban,
        "sepa_bic": checked.bic,
        "sepa_collection_day": str(checked.collection_day),
        "sepa_notice_days": str(checked.notice_days),
    }

    def work(cur: Cursor) -> None:
        for key, value in values.items():
            before = deployment.put_setting(cur, key, value)
            if before != value:
                trail.write(
                    cur,
                    actor,
                    now,
                    action="setting.update",
                    entity="setting",
                    entity_id=key,
                    before=before,
                    after=value,
                )

    db.write(work)
    return checked


def _ready(cur: Database | Cursor) -> rules.CreditorSettings:
    found = creditor(cur)
    if not found.complete:
        raise InvalidInput(NOT_CONFIGURED)
    return found


# --- mandates --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mandate:
    """A mandate as the staff sees it (IBAN in full)."""

    id: int
    family_id: int
    family: str
    guardian: str
    rum: str
    signed_on: date
    debtor_name: str
    iban: str
    bic: str
    notice_days: int | None
    ends_on: date | None

    def in_force(self, today: date) -> bool:
        return self.signed_on <= today and (self.ends_on is None or self.ends_on > today)

    @property
    def revocable(self) -> bool:
        """Not revoked yet (a revoked mandate keeps its end date)."""
        return self.ends_on is None

    @property
    def state(self) -> str:
        return "en cours" if self.ends_on is None else f"fin le {fr.numeric_date(self.ends_on)}"


def _mandate(row: dict) -> Mandate:
    return Mandate(
        row["id"],
        row["family_id"],
        row["family"],
        row["guardian"],
        row["rum"],
        row["signed_on"],
        row["debtor_name"],
        row["iban"],
        row["bic"],
        row["notice_days"],
        row["ends_on"],
    )


def mandates(db: Database, actor: Actor, family_id: object = None) -> list[Mandate]:
    """Every mandate, or one family's, the ended ones kept (the history)."""
    actor.require(Role.ADMIN)
    return [_mandate(r) for r in store.mandates(db, family_id if is_id(family_id) else None)]


def families(db: Database, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the families a mandate may be recorded for (not archived)."""
    actor.require(Role.ADMIN)
    return store.families(db)


def payer_guardians(db: Database, actor: Actor, family_id: object) -> list[tuple[int, str]]:
    """(id, name) of the family's guardians who may sign (the form's choices)."""
    actor.require(Role.ADMIN)
    if not is_id(family_id):
        return []
    return [(r["id"], r["name"]) for r in store.payer_guardians(db, family_id)]


def record_mandate(
    db: Database,
    actor: Actor,
    *,
    family_id: object,
    guardian_id: object,
    signed_on: object,
    debtor_name: str,
    iban: str,
    bic: str,
    notice_days: object = None,
    now: datetime,
) -> Mandate:
    """Record a mandate the payer guardian signed (on paper): its RUM is made here. A wrong IBAN or
    BIC, a guardian not of the family, or a mandate already in force for him: a French refusal,
    journaled, nothing written."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "sepa.mandate_refused", "family", family_id):
        return _record_mandate(db, actor, family_id, guardian_id, signed_on, debtor_name, iban, bic, notice_days, now)


def _record_mandate(
    db: Database,
    actor: Actor,
    family_id: object,
    guardian_id: object,
    signed_on: object,
    debtor_name: str,
    iban: str,
    bic: str,
    notice_days: object,
    now: datetime,
) -> Mandate:
    if not is_id(family_id) or not is_id(guardian_id):
        raise NotFound("Famille ou responsable introuvable.")
    day = rules.checked_signature_date(signed_on, _today(now))
    name = rules.checked_debtor_name(debtor_name)
    account = rules.checked_account(iban, bic)
    own_notice = None if notice_days is None else rules.checked_notice_days(notice_days)
    at = to_utc_naive(now)

    def work(cur: Cursor) -> Mandate:
        if guardian_id not in {r["id"] for r in store.payer_guardians(cur, family_id)}:
            raise NotFound("Famille ou responsable introuvable.")
        current = store.open_mandate(cur, guardian_id)
        if current is not None:
            raise InvalidInput(
                f"Ce responsable a déjà un mandat en cours ({current['rum']}) : révoquez-le d'abord "
                "(un changement de compte est un nouveau mandat)."
            )
        mandate_id = store.next_mandate_id(cur)
        rum = rules.make_rum(family_id, mandate_id)
        store.insert_mandate(
            cur,
            {
                "id": mandate_id,
                "family_id": family_id,
                "guardian_id": guardian_id,
                "rum": rum,
                "signed_on": day,
                "debtor_name": name,
                "iban": account.iban,
                "bic": account.bic,
                "notice_days": own_notice,
                "created_at": at,
                "created_by": actor.user_id,
            },
        )
        trail.write(
            cur,
            actor,
            now,
            action="sepa.mandate",
            entity="family",
            entity_id=family_id,
            after={"rum": rum, "signed_on": day.isoformat(), "iban": rules.masked_iban(account.iban)},
        )
        found = store.mandate(cur, mandate_id)
        assert found is not None  # written just above
        return _mandate(found)

    return db.write(work)


def revoke_mandate(db: Database, actor: Actor, mandate_id: object, ends_on: object, now: datetime) -> Mandate:
    """End a mandate from `ends_on` on (no collection on or after it); kept in the history."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "sepa.revoke_refused", "sepa_mandate", mandate_id):
        if not is_id(mandate_id):
            raise NotFound("Mandat introuvable.")
        if not isinstance(ends_on, date):
            raise InvalidInput("Date de fin du mandat manquante.")

        def work(cur: Cursor) -> Mandate:
            found = store.mandate(cur, mandate_id)
            if found is None:
                raise NotFound("Mandat introuvable.")
            if found["ends_on"] is not None:
                raise InvalidInput(
                    f"Le mandat {found['rum']} est déjà révoqué (fin le {fr.numeric_date(found['ends_on'])})."
                )
            if ends_on < found["signed_on"]:
                raise InvalidInput("La fin du mandat ne peut pas précéder sa signature.")
            store.end_mandate(cur, mandate_id, ends_on, to_utc_naive(now), actor.user_id)
            trail.write(
                cur,
                actor,
                now,
                action="sepa.mandate_revoked",
                entity="family",
                entity_id=found["family_id"],
                after={"rum": found["rum"], "ends_on": ends_on.isoformat()},
            )
            ended = store.mandate(cur, mandate_id)
            assert ended is not None
            return _mandate(ended)

        return db.write(work)


@dataclass(frozen=True)
class FamilyMandate:
    """A mandate as its family sees it: the IBAN masked."""

    rum: str
    guardian: str
    signed_on: date
    iban: str  # masked
    ends_on: date | None


def family_mandates(db: Database, actor: Actor) -> list[FamilyMandate]:
    """The reader's own family's mandates (never another family's), in force first; in shared
    custody (a split bill) only the reader's own, as he sees only the invoices addressed to him."""
    if not actor.is_family or actor.family_id is None:
        raise NotAllowed("Cette page est réservée aux familles.")
    return [
        FamilyMandate(r["rum"], r["guardian"], r["signed_on"], rules.masked_iban(r["iban"]), r["ends_on"])
        for r in store.mandates(db, actor.family_id)
        if invoice_visible(r["split_family"], r["guardian_user_id"], actor.user_id)
    ]


# --- the monthly run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunLine:
    invoice_number: str
    family_id: int
    amount_cents: int
    rum: str
    sequence: rules.SequenceType


@dataclass(frozen=True)
class LeftOut:
    """An invoice of the month that the run does not collect, and why (French, for the administrator)."""

    invoice_number: str
    reason: str


PAYING_ONLINE = "paiement en ligne en cours"


@dataclass(frozen=True)
class RunPreview:
    month: date
    collection_date: date
    lines: list[RunLine]
    left_out: list[LeftOut] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def _month(month: object) -> date:
    if not isinstance(month, date) or month.day != 1:
        raise InvalidInput("Mois à prélever invalide : choisissez un mois dans la liste.")
    return month


def _pending_since(db: Database, now: datetime) -> datetime:
    """Online payment attempts started after this may still be paid (ProviderConfig.attempt_lifetime)."""
    lifetime = provider.ProviderConfig.from_settings(reference.settings(db)).attempt_lifetime
    return to_utc_naive(now - lifetime)


def _candidates(
    source: Database | Cursor, town: rules.CreditorSettings, month: date, today: date, since: datetime
) -> tuple[date, list, list[LeftOut]]:
    """The collection date, the invoices due on it, and those left out because an online payment of
    theirs is in progress (it may pay them: they are not collected twice). The town's delay is
    lengthened when a mandate included asks a longer one."""

    def split(collection: date) -> tuple[list, list[LeftOut]]:
        found = store.due(source, month, collection, since)
        paying = [LeftOut(r["number"], PAYING_ONLINE) for r in found if r["paying_online"]]
        return [r for r in found if not r["paying_online"]], paying

    collection = rules.collection_date(today, town.collection_day, town.notice_days)
    found, left_out = split(collection)
    longest = max([town.notice_days, *(r["notice_days"] or 0 for r in found)])
    if longest > town.notice_days:
        collection = rules.collection_date(today, town.collection_day, longest)
        found, left_out = split(collection)
    return collection, found, left_out


def _lines(found: list[dict]) -> list[RunLine]:
    return [
        RunLine(r["number"], r["family_id"], r["amount_cents"], r["rum"], rules.sequence_type(r["collected_before"]))
        for r in found
    ]


def preview_run(db: Database, actor: Actor, month: object, now: datetime) -> RunPreview:
    """What a run of `month` would collect today, and when; the invoices it leaves out, and why."""
    actor.require(Role.ADMIN)
    first = _month(month)
    town = _ready(db)
    collection, found, left_out = _candidates(db, town, first, _today(now), _pending_since(db, now))
    return RunPreview(first, collection, _lines(found), left_out)


@dataclass(frozen=True)
class Run:
    id: int
    month: date
    collection_date: date
    message_id: str
    sha256: str
    total_cents: int
    debits: int
    rejects: int
    created_at: datetime
    left_out: tuple[LeftOut, ...] = ()  # when just generated: the month's invoices it did not collect


def generate_run(db: Database, actor: Actor, month: object, now: datetime) -> Run:
    """Make the month's pain.008 for the invoices due (see `store.sepa.due`), queue each family's
    pre-notification, and keep the run (file, message id, SHA-256) and its debits, all in one
    transaction; the invoices are paid on the collection date (`collect_due`). Nothing to collect, or settings
    missing: a French refusal, journaled, nothing written."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "sepa.run_refused", "sepa_run", str(month)):
        return _generate_run(db, actor, _month(month), now)


def _generate_run(db: Database, actor: Actor, month: date, now: datetime) -> Run:
    at = to_utc_naive(now)
    since = _pending_since(db, now)

    def work(cur: Cursor) -> Run:
        town = _ready(cur)
        collection, found, left_out = _candidates(cur, town, month, _today(now), since)
        if not found:
            raise InvalidInput(
                f"Aucune facture à prélever pour {fr.month_year(month)} : pas de facture restant à payer d'une "
                "famille ayant un mandat en cours, ou toutes sont déjà dans un prélèvement"
                + "".join(f" ; {out.invoice_number} : {out.reason}" for out in left_out)
                + "."
            )
        run_id = store.next_run_id(cur)
        message = rules.message_id(month, run_id)
        debits = [
            rules.Debit(
                rules.end_to_end_id(run_id, payment_reference(r["number"])),
                r["number"],
                r["amount_cents"],
                r["rum"],
                r["signed_on"],
                r["debtor_name"],
                r["iban"],
                r["bic"],
                rules.sequence_type(r["collected_before"]),
            )
            for r in found
        ]
        file = rules.pain_008(town, collection, debits, message)
        digest = rules.sha256(file)
        total = sum(d.amount_cents for d in debits)
        store.insert_run(
            cur,
            {
                "id": run_id,
                "period_month": month,
                "collection_date": collection,
                "message_id": message,
                "sha256": digest,
                "file": file,
                "total_cents": total,
                "created_at": at,
                "created_by": actor.user_id,
            },
        )
        audit_id = trail.write(
            cur,
            actor,
            now,
            action="sepa.run",
            entity="sepa_run",
            entity_id=run_id,
            after={
                "month": month.isoformat(),
                "collection_date": collection.isoformat(),
                "debits": len(debits),
                "total_cents": total,
                "message_id": message,
                "sha256": digest,
                "left_out": {out.invoice_number: out.reason for out in left_out},
            },
        )
        sign = mail.signature(cur).town
        for row, debit in zip(found, debits, strict=True):
            debit_id = store.insert_debit(
                cur,
                {
                    "run_id": run_id,
                    "invoice_id": row["invoice_id"],
                    "mandate_id": row["mandate_id"],
                    "sequence_type": debit.sequence.value,
                    "amount_cents": debit.amount_cents,
                    "end_to_end_id": debit.end_to_end_id,
                },
            )
            letter = rules.notice_letter(
                sign, debit.invoice_number, debit.amount_cents, collection, debit.rum, town.creditor_id, debit.iban
            )
            mail.queue(
                cur,
                letter,
                _readers(cur, row["invoice_id"]),
                now,
                dedupe_key=f"sepa-notice:{debit_id}",
                created_by=actor.user_id,
                audit_id=audit_id,
                always=True,
            )
        return Run(
            run_id, month, collection, message, digest, total, len(debits), 0, from_utc_naive(at), tuple(left_out)
        )

    return db.write(work)


def collect_due(db: Database, now: datetime) -> int:
    """The daily job: each debit whose collection date has come, neither collected nor rejected, pays
    its invoice by a `prelevement` payment dated that day (journaled, by the system); how many. Run
    again, it collects nothing twice (one collection per debit)."""
    at = to_utc_naive(now)

    def work(cur: Cursor) -> int:
        due = store.uncollected(cur, _today(now))
        for found in due:
            paid_at = to_utc_naive(datetime.combine(found["collection_date"], time(12, 0), PARIS))
            payment_id = invoice_store.insert_payment(
                cur, found["invoice_id"], found["amount_cents"], paid_at, PaymentMethod.DIRECT_DEBIT.value, None, None
            )
            store.insert_collection(cur, found["id"], payment_id)
            audit.record(
                cur,
                at_utc=at,
                user_id=None,
                action="sepa.collected",
                entity="invoice",
                entity_id=found["invoice_id"],
                after={"debit": found["end_to_end_id"], "amount_cents": found["amount_cents"]},
            )
        return len(due)

    return db.write(work)


def _readers(cur: Cursor, invoice_id: int) -> list[mail.Recipient]:
    return [r for r in map(mail.invoice_reader, outbox.invoice_accounts(cur, invoice_id)) if r is not None]


def runs(db: Database, actor: Actor) -> list[Run]:
    actor.require(Role.ADMIN)
    return [
        Run(
            r["id"],
            r["period_month"],
            r["collection_date"],
            r["message_id"],
            r["sha256"],
            r["total_cents"],
            r["debits"],
            r["rejects"],
            from_utc_naive(r["created_at"]),
        )
        for r in store.runs(db)
    ]


def run_file(db: Database, actor: Actor, run_id: object) -> tuple[str, bytes]:
    """(file name, the pain.008 as generated) of a run: the same bytes, whose SHA-256 was kept."""
    actor.require(Role.ADMIN)
    found = store.run_file(db, run_id) if is_id(run_id) else None
    if found is None:
        raise NotFound("Prélèvement introuvable.")
    return f"{found[0]}.xml", found[1]


@dataclass(frozen=True)
class DebitRow:
    id: int
    run_id: int
    invoice_number: str
    family: str
    amount_cents: int
    sequence: str
    collection_date: date
    rum: str
    end_to_end_id: str
    reject_reason: str | None
    collected: bool  # its payment recorded (the collection date came)

    @property
    def rejectable(self) -> bool:
        """Not rejected yet: a debit is rejected at most once."""
        return self.reject_reason is None

    @property
    def state(self) -> str:
        if self.reject_reason:
            return f"rejeté : {self.reject_reason}"
        return "prélevé" if self.collected else "à prélever"


def debits(db: Database, actor: Actor, run_id: object = None) -> list[DebitRow]:
    actor.require(Role.ADMIN)
    return [
        DebitRow(
            r["id"],
            r["run_id"],
            r["number"],
            r["family"],
            r["amount_cents"],
            r["sequence_type"],
            r["collection_date"],
            r["rum"],
            r["end_to_end_id"],
            r["reject_reason"],
            r["payment_id"] is not None,
        )
        for r in store.debits(db, run_id if is_id(run_id) else None)
    ]


# --- rejects ---------------------------------------------------------------------------------------

SOURCE_TYPED, SOURCE_FILE = "saisie", "fichier"


def _reject(cur: Cursor, actor: Actor, found: dict, code: str, source: str, now: datetime) -> str:
    """Keep the reject, re-open the invoice if the money was collected (a counter-entry of its
    payment, with the reason), journal it and tell the family; the French line of what was done.
    `code`: a known one."""
    reason = rules.reject_reason(code)
    at = to_utc_naive(now)
    counter = None
    if found["payment_id"] is not None:
        counter = payment_store.insert_counter_entry(
            cur, found["payment_id"], at, f"Prélèvement rejeté : {reason}", actor.user_id
        )
        if counter is None:  # the cash desk cancelled that payment already
            raise InvalidInput(f"Le paiement du prélèvement de la facture {found['number']} est déjà annulé.")
    store.insert_reject(
        cur,
        {
            "debit_id": found["id"],
            "code": code,
            "reason": reason,
            "counter_payment_id": counter,
            "source": source,
            "rejected_at": at,
            "recorded_by": actor.user_id,
        },
    )
    audit_id = trail.write(
        cur,
        actor,
        now,
        action="sepa.reject",
        entity="invoice",
        entity_id=found["invoice_id"],
        after={"debit": found["end_to_end_id"], "amount_cents": found["amount_cents"], "source": source},
        reason=reason,
    )
    letter = rules.rejected_letter(
        mail.signature(cur).town, found["number"], found["amount_cents"], found["collection_date"], reason
    )
    mail.queue(
        cur,
        letter,
        _readers(cur, found["invoice_id"]),
        now,
        dedupe_key=f"sepa-reject:{found['id']}",
        created_by=actor.user_id,
        audit_id=audit_id,
        always=True,
    )
    return f"{found['number']} ({found['family']}) : {reason}"


def _already(found: dict) -> InvalidInput:
    return InvalidInput(
        f"Le prélèvement de la facture {found['number']} est déjà enregistré comme rejeté "
        f"({found['reject_reason']}) : rien n'est enregistré une seconde fois."
    )


def record_reject(db: Database, actor: Actor, debit_id: object, code: object, now: datetime) -> str:
    """The administrator enters a rejected debit with its reason code: the invoice is unpaid again.
    An unknown or already rejected debit, an unknown code: French refusal, journaled, nothing written."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "sepa.reject_refused", "sepa_debit", debit_id):
        clean = rules.reject_code(code)
        if not is_id(debit_id):
            raise NotFound("Prélèvement introuvable.")

        def work(cur: Cursor) -> str:
            found = store.debit(cur, debit_id)
            if found is None:
                raise NotFound("Prélèvement introuvable.")
            if found["reject_code"] is not None:
                raise _already(found)
            return _reject(cur, actor, found, clean, SOURCE_TYPED, now)

        return db.write(work)


@dataclass(frozen=True)
class ImportReport:
    recorded: list[str]  # « F-2026-000123 (Famille Aubert) : AM04 – Provision insuffisante »
    refused: list[str]  # each line of the file not recorded, and why


def import_rejects(db: Database, actor: Actor, data: object, now: datetime) -> ImportReport:
    """Read the bank's pain.002 status report and record each rejected debit it lists, in one
    transaction; a debit unknown, already rejected or with an unknown code is listed as refused
    (nothing recorded twice). An unreadable file: French refusal, journaled, nothing written."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "sepa.import_refused", "sepa_run", "pain.002"):
        if not isinstance(data, bytes):
            raise InvalidInput("Déposez le fichier de retour de la banque (XML pain.002).")
        returned = rules.read_pain_002(data)
        if not returned:
            raise InvalidInput("Ce compte rendu de la banque ne contient aucun prélèvement rejeté.")

        def work(cur: Cursor) -> ImportReport:
            recorded: list[str] = []
            refused: list[str] = []
            for item in returned:
                found = store.debit_by_end_to_end(cur, item.end_to_end_id)
                if found is None:
                    refused.append(f"{item.end_to_end_id} : prélèvement inconnu du portail.")
                elif found["reject_code"] is not None:
                    refused.append(f"{item.end_to_end_id} : {_already(found).message}")
                elif item.code not in rules.REJECT_REASONS:
                    refused.append(f"{item.end_to_end_id} : motif de rejet inconnu « {item.code[:8]} ».")
                else:
                    recorded.append(_reject(cur, actor, found, item.code, SOURCE_FILE, now))
            return ImportReport(recorded, refused)

        return db.write(work)


# --- what an invoice's readers see -------------------------------------------------------------------


def direct_debit_date(cur_or_db: Database | Cursor, invoice_id: int) -> date | None:
    """The date the invoice is (or was) collected by direct debit, None when it is in no run or its
    debit was rejected. For the invoice's texts (« sera prélevée le … »); no access check: the
    caller has already read the invoice for its reader."""
    found = store.invoice_debit(cur_or_db, invoice_id)
    if found is None or found["reject_code"] is not None:
        return None
    collected: date = found["collection_date"]
    return collected


def refuse_if_debited(cur: Cursor, invoice_id: int) -> None:
    """PaymentRefused when the invoice is collected by direct debit: it cannot be paid online too."""
    collected = direct_debit_date(cur, invoice_id)
    if collected is not None:
        raise PaymentRefused(
            f"Cette facture sera prélevée le {fr.long_date(collected)} sur votre compte (mandat SEPA) : "
            "elle ne peut pas être payée en ligne."
        )


@dataclass(frozen=True)
class InvoiceDebit:
    """An invoice's direct debit as its readers see it."""

    collection_date: date
    rejected: str | None  # the reject's reason, if the bank refused it


def invoice_debit(db: Database, actor: Actor, invoice_id: object, now: datetime) -> InvoiceDebit | None:
    """The invoice's direct debit, for its family (a split bill: its payer only) or the staff;
    None for an invoice of another family, as for an invoice in no run."""
    if not is_id(invoice_id):
        return None
    if actor.is_family:
        summary = invoice_store.invoice_summary(db, invoice_id, to_utc_naive(now))
        if (
            summary is None
            or summary["family_id"] != actor.family_id
            or not invoice_visible(summary["split_family"], summary["payer_user_id"], actor.user_id)
        ):
            return None
    elif actor.role not in (Role.ADMIN, Role.AGENT):
        return None
    found = store.invoice_debit(db, invoice_id)
    if found is None:
        return None
    return InvoiceDebit(found["collection_date"], found["reject_reason"])
