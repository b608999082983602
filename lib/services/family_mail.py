"""The messages a family receives about its children and invoices, queued inside the transaction of
the change they report (see lib/services/mail.py): the booking receipt (merged over a few minutes),
a place obtained from the waiting list, the invoices of a published month, a payment received.
Each function takes the change's cursor and plain values; the letters are lib/domain/family_letters'.
The unpaid reminders are lib/services/reminders.py's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from lib.domain.clock import from_utc_naive
from lib.domain.closures import ClosureResult
from lib.domain.errors import InvalidInput
from lib.domain.family_letters import (
    DayChange,
    InvoiceFacts,
    Outcome,
    booking_receipt,
    closure_letter,
    invoice_published,
    payment_receipt,
    receipt_delay_minutes,
    waiting_place,
)
from lib.domain.invoicing import Kind, left_to_pay
from lib.services import mail
from lib.store import outbox
from lib.store.db import Cursor

INVOICES_PATH = "/mes-factures"


def invoices_url(cur: Cursor) -> str | None:
    """The address of « Mes factures » for a letter, or None when the town has not configured the
    portal's public address: the letter then says where to look, and the change is not refused."""
    try:
        return mail.portal_link(cur, INVOICES_PATH)
    except InvalidInput:
        return None


# --- bookings ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    """What a booking change did, in plain values: the child and each day's outcome."""

    child_id: int
    first_name: str
    family_id: int
    changes: Sequence[DayChange]


def _payload(first_name: str, changes: Sequence[DayChange], by_staff: bool, audit_id: int) -> dict[str, Any]:
    return {
        "child": first_name,
        "days": [
            [c.service, c.day.isoformat(), c.outcome.value, c.cancel_limit.isoformat() if c.cancel_limit else None]
            for c in changes
        ],
        "staff": [by_staff],
        "refs": [audit_id],
    }


def _changes(payload: dict[str, Any]) -> list[DayChange]:
    return [
        DayChange(service, date.fromisoformat(day), Outcome(outcome), datetime.fromisoformat(limit) if limit else None)
        for service, day, outcome, limit in payload["days"]
    ]


def _combine(waiting: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A later change joins a waiting receipt: a day changed again shows its latest outcome."""
    days = {(service, day): [service, day, *rest] for service, day, *rest in waiting["days"] + new["days"]}
    return {
        "child": new["child"],
        "days": list(days.values()),
        "staff": waiting["staff"] + new["staff"],
        "refs": waiting["refs"] + new["refs"],
    }


def _receipt_of(town: str) -> mail.Merging:
    def render(payload: dict[str, Any]) -> Any:
        return booking_receipt(
            town, payload["child"], _changes(payload), by_staff=payload["staff"], references=payload["refs"]
        )

    return mail.Merging(render=render, combine=_combine)


def booking_changed(
    cur: Cursor, booked: Booked, *, by_staff: bool, user_id: int | None, audit_id: int, now: datetime
) -> list[int]:
    """The receipt of a booking change, to the child's family accounts, held back a few minutes
    (setting `receipt_delay_minutes`) so that the next taps join it. An account that turned receipts off gets none, unless the staff made
    the change."""
    if not booked.changes:
        return []
    return mail.queue_merged(
        cur,
        _receipt_of(mail.signature(cur).town),
        _payload(booked.first_name, booked.changes, by_staff, audit_id),
        mail.family_recipients(cur, booked.family_id),
        now,
        merge_key=f"receipt:{booked.child_id}",
        delay=timedelta(minutes=receipt_delay_minutes(outbox.setting(cur, "receipt_delay_minutes"))),
        created_by=user_id,
        audit_id=audit_id,
        always=by_staff,
    )


def places_obtained(
    cur: Cursor,
    promoted: Sequence[tuple[int, int, date, int]],
    describe: Callable[[int, date], DayChange],
    now: datetime,
) -> list[int]:
    """« Une place s'est libérée »: for each child promoted from the waiting list — (child, service,
    day, the promotion's audit id) — one message to its family, with the days it now has."""
    if not promoted:
        return []
    names = outbox.children(cur, sorted({child for child, *_ in promoted}))
    town = mail.signature(cur).town
    ids: list[int] = []
    for child_id in sorted(names):
        first_name, family_id = names[child_id]
        days = [(service, day, audit_id) for child, service, day, audit_id in promoted if child == child_id]
        audit_id = min(a for *_, a in days)
        ids += mail.queue(
            cur,
            waiting_place(town, first_name, [describe(service, day) for service, day, _ in days], audit_id),
            mail.family_recipients(cur, family_id),
            now,
            audit_id=audit_id,
        )
    return ids


# --- invoices and payments ------------------------------------------------------------------------------


def invoices_published(
    cur: Cursor, year: int, first_seq: int, last_seq: int, now: datetime, *, user_id: int | None, audit_id: int
) -> list[int]:
    """One message per document just published (credit notes too) to each account of its family,
    written in one statement whatever the number of families."""
    town, url = mail.signature(cur).town, invoices_url(cur)
    letters: dict[int, tuple[Any, list[mail.Recipient], None]] = {}
    for row in outbox.issued_documents(cur, year, first_seq, last_seq):
        if row["id"] not in letters:
            credit = row["kind"] == Kind.CREDIT_NOTE.value
            facts = InvoiceFacts(
                row["number"], row["period_month"], row["total_cents"], None if credit else row["due_date"], credit
            )
            letters[row["id"]] = (invoice_published(town, facts, url), [], None)
        reader = mail.invoice_reader(row)
        if reader is not None:
            letters[row["id"]][1].append(reader)
    return mail.queue_many(cur, letters.values(), now, created_by=user_id, audit_id=audit_id)


def payment_received(
    cur: Cursor, payment_id: int, now: datetime, *, by_staff: bool, user_id: int | None, audit_id: int | None
) -> list[int]:
    """The receipt of a recorded payment, once per payment ever (`payment:<id>`): a replayed bank
    notification cannot send a second one. Optional for the family, unless the staff recorded it."""
    found = outbox.payment(cur, payment_id)
    if found is None:
        return []
    letter = payment_receipt(
        mail.signature(cur).town,
        found["number"],
        found["period_month"],
        found["amount_cents"],
        from_utc_naive(found["paid_at"]),
        found["method"],
        left_to_pay(found["total_cents"], found["paid_cents"], found["credited_cents"]),
    )
    return mail.queue(
        cur,
        letter,
        [r for r in map(mail.invoice_reader, outbox.invoice_accounts(cur, found["invoice_id"])) if r is not None],
        now,
        dedupe_key=f"payment:{payment_id}",
        created_by=user_id,
        audit_id=audit_id,
        always=by_staff,
    )


def closure_declared(cur: Cursor, result: ClosureResult, *, user_id: int | None, now: datetime) -> list[int]:
    """« Accueil fermé »: each family whose bookings or waiting places a closure or a strike cancelled is
    told which days, child by child, in the declaration's transaction. Always sent: the family did not
    make this change."""
    town = mail.signature(cur).town
    declared = result.declaration
    reason = f"{declared.kind.label.lower()} : {declared.reason}"
    ids: list[int] = []
    for family in result.families:
        cancelled = [
            (child.first_name, service, [d.day for d in child.days if d.service == service])
            for child in family.children
            for service in sorted({d.service for d in child.days})
        ]
        ids += mail.queue(
            cur,
            closure_letter(town, reason, cancelled),
            mail.family_recipients(cur, family.family_id),
            now,
            created_by=user_id,
        )
    return ids
