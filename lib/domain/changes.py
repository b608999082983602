"""Corrections a family proposes and the town hall validates (« À valider »). What a family may
change at once (phones, address, contacts, pick-up people, consents: written directly and audited)
is not here; what changes prices waits: the quotient familial and its proof."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from lib.domain.errors import InvalidInput
from lib.domain.families import QfSource, QuotientInput

NOTE_MAX = 500


class ChangeKind(StrEnum):
    QF = "qf"

    @property
    def label(self) -> str:
        return {ChangeKind.QF: "Quotient familial"}[self]


class ChangeState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {
            ChangeState.PENDING: "En attente de validation",
            ChangeState.ACCEPTED: "Acceptée",
            ChangeState.REFUSED: "Refusée",
        }[self]


@dataclass(frozen=True)
class PendingChange:
    id: int
    family_id: int
    family: str  # the family's name
    child_id: int | None
    kind: ChangeKind
    payload: str | None  # JSON, read by the kind's reader (`quotient_of`)
    submitted_by: int
    submitted_at: datetime
    state: ChangeState
    decided_at: datetime | None
    note: str | None


def quotient_payload(proposal: QuotientInput) -> str:
    return json.dumps(
        {
            "qf": proposal.qf,
            "valid_from": proposal.valid_from.isoformat(),
            "source": proposal.source.value,
            "allocataire_no": proposal.allocataire_no,
        }
    )


def quotient_of(change: PendingChange) -> QuotientInput:
    """The QF a family proposed, as it was checked when proposed."""
    if change.kind is not ChangeKind.QF or change.payload is None:
        raise InvalidInput("Cette demande ne porte pas sur le quotient familial.")
    data = json.loads(change.payload)
    return QuotientInput(
        qf=int(data["qf"]),
        valid_from=date.fromisoformat(data["valid_from"]),
        source=QfSource(data["source"]),
        allocataire_no=data["allocataire_no"],
    )


def check_note(value: object, required: bool) -> str | None:
    """The town hall's note to the family: required for a refusal (the family reads why)."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"Note : {NOTE_MAX} caractères au plus.")
    if required and not text:
        raise InvalidInput("Note : indiquez à la famille pourquoi la demande est refusée.")
    return text or None
