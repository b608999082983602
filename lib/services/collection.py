"""Collecting the town's invoices: what its invoices say of the town (its legal settings, set by the
administrator), the text of one invoice for its reader, and the unpaid invoices the public
accountant collects, as a list and as the CSV file the Trésor takes.

The administrator writes the settings; the administrator and the agents read the unpaid list and
export it (the export, holding the families' debts, is in the audit log). Families never see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from lib.domain import invoice_text as text
from lib.domain import unpaid as rules
from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.roles import Role
from lib.domain.validation import is_id
from lib.services import setup
from lib.services.trail import refusals_audited
from lib.store import audit, reference
from lib.store import collection as store
from lib.store.db import Database

READERS = (Role.ADMIN, Role.AGENT)
PAYFIP_BACKENDS = ("payfip_ws", "tipi")  # the DGFiP's online payment, through eopayment


def _may_read(actor: Actor) -> None:
    if actor.role not in READERS:
        raise NotAllowed("Les impayés sont réservés au personnel de la mairie.")


# --- the town's part of its invoices ---------------------------------------------------------------------


def legal_settings(db: Database, actor: Actor) -> dict[str, str]:
    """The invoices' legal settings as stored ('' when unset; the collection mode's default)."""
    actor.require(Role.ADMIN, Role.AGENT)
    stored = reference.settings(db)
    values = {key: stored.get(key, "") for key in text.FIELDS}
    values["collection_mode"] = text.legal_from(stored).mode.value
    return values


def save_legal(db: Database, actor: Actor, values: Mapping[str, object], now: datetime) -> str:
    """Store the settings that changed, all of them checked together first (`checked_legal`):
    on a refusal nothing is written and the refusal is in the audit log."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "setting.legal_refused", "setting", "invoice_legal"):
        clean = text.checked_legal(values)
    stored = reference.settings(db)
    changed = {key: value for key, value in clean.items() if value != stored.get(key, "")}
    if not changed:
        return "Aucun changement."
    at = to_utc_naive(now)

    def work(cur) -> None:
        for key, value in changed.items():
            setup.write_setting(cur, key, value, at, actor.user_id, None)

    db.write(work)
    return "Mentions des factures enregistrées : " + ", ".join(text.FIELDS[k].lower() for k in changed) + "."


def invoice_text(
    settings: Mapping[str, str],
    *,
    number: str,
    credit_note: bool,
    issue: date,
    due: date,
    left_cents: int,
    debtor_name: str,
    debtor_address: str | None,
) -> text.InvoiceText:
    """The text of one invoice, from the town's settings. No direct debit yet: the direct-debit
    slice passes its date once mandates exist."""
    return text.invoice_text(
        text.legal_from(settings),
        number=number,
        credit_note=credit_note,
        issue=issue,
        due=due,
        left_cents=left_cents,
        debtor_name=debtor_name,
        debtor_address=debtor_address,
        online_by_payfip=settings.get("payment_backend", "") in PAYFIP_BACKENDS,
        debit_on=None,
    )


# --- the unpaid invoices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnpaidList:
    rows: list[rules.UnpaidInvoice]
    families: list[rules.FamilyTotal]
    today: date

    @property
    def left_cents(self) -> int:
        return sum(r.left_cents for r in self.rows)

    @property
    def total_cents(self) -> int:
        return sum(r.total_cents for r in self.rows)

    @property
    def overdue_cents(self) -> int:
        return sum(r.left_cents for r in self.rows if r.days_late(self.today) > 0)


def _filters(family_id: object, month: object) -> tuple[int | None, date | None]:
    if family_id is not None and not is_id(family_id):
        raise InvalidInput("Famille introuvable : choisissez-la dans la liste.")
    if month is not None and (not isinstance(month, date) or month.day != 1):
        raise InvalidInput("Mois illisible : choisissez-le dans la liste.")
    return family_id if isinstance(family_id, int) else None, month if isinstance(month, date) else None


def unpaid(
    db: Database,
    actor: Actor,
    today: date,
    *,
    family_id: object = None,
    month: object = None,
    overdue_only: bool = False,
) -> UnpaidList:
    """The invoices with something left to pay (of one family, one month, only those past their due
    date when asked), with one total per family."""
    _may_read(actor)
    family, period = _filters(family_id, month)
    rows = store.unpaid_invoices(db, family, period)
    if overdue_only:
        rows = [r for r in rows if r.days_late(today) > 0]
    return UnpaidList(rows, rules.by_family(rows), today)


def unpaid_months(db: Database, actor: Actor) -> list[date]:
    _may_read(actor)
    return store.unpaid_months(db)


def unpaid_csv(
    db: Database,
    actor: Actor,
    now: datetime,
    *,
    family_id: object = None,
    month: object = None,
    overdue_only: bool = False,
) -> bytes:
    """The list as the Trésor's CSV file (`unpaid.COLUMNS`), in the audit log: who took the town's
    debts, with which filters, how many lines and how much."""
    today = now.date()
    found = unpaid(db, actor, today, family_id=family_id, month=month, overdue_only=overdue_only)
    db.write(
        lambda cur: audit.record(
            cur,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id,
            action="unpaid.export",
            entity="invoice",
            entity_id="impayes",
            after={
                "famille": family_id,
                "mois": month.isoformat() if isinstance(month, date) else None,
                "echues": overdue_only,
                "factures": len(found.rows),
                "reste_cents": found.left_cents,
            },
        )
    )
    return rules.csv_file(found.rows, today)
