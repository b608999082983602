"""The stored records that cross the layers: the store builds them, services return them, pages
read their fields by name (not dicts, whose keys only the query that made them knows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from lib.domain.deadlines import ServiceDeadlines
from lib.domain.invoicing import PaymentRight


@dataclass(frozen=True)
class SchoolYearRecord:
    """A school year the town opened (`school_years`): the id is its first calendar year, 2026
    for 2026/2027. `lib.domain.school_year.SchoolYear` computes the dates before it is stored."""

    id: int
    label: str
    start_date: date
    end_date: date


@dataclass(frozen=True)
class Child:
    id: int
    family_id: int
    first_name: str
    last_name: str
    school_class: str | None


@dataclass(frozen=True)
class FoundChild(Child):
    """A child found by the staff's search, with its family's name to tell namesakes apart."""

    family: str


@dataclass(frozen=True)
class FamilyRight:
    """A family's right to pay online, as stored."""

    family_id: int
    name: str
    email: str | None
    right: PaymentRight
    at: datetime | None  # UTC (naive): when it was last asked for or decided


@dataclass(frozen=True)
class SiteService:
    """A service a site offers: what the staff choose before taking attendance or reading trends."""

    site_id: int
    site: str
    service_id: int
    service: str


@dataclass(frozen=True)
class SiteCapacity:
    """How many children a site takes per day for a service."""

    site_id: int
    site: str
    capacity: int


@dataclass(frozen=True)
class ServiceSettings:
    """A service as the administrator edits it: price, deadlines, each site's daily capacity."""

    id: int
    name: str
    unit_price_cents: int
    deadlines: ServiceDeadlines
    capacities: tuple[SiteCapacity, ...]


@dataclass(frozen=True)
class AttendanceChild:
    """A child on a pointage sheet: expected (booked that day), already pointed there without a
    booking, or one the staff may add (registered at the site for the service)."""

    child_id: int
    first_name: str
    last_name: str
    school_class: str | None
    booked: bool = False
    status: str | None = None  # present / absent / justified; None: not pointed yet
    pai: bool = False  # the child has a signed PAI: a flag for the list, never its content


@dataclass(frozen=True)
class ReceivedPayment:
    """A payment an invoice received."""

    paid_at: datetime  # Paris time: the day a family reads is Paris's, not UTC's
    amount_cents: int
    method: str  # online, cheque, cash…
    reference: str | None = None  # the provider's transaction reference, for a payment made online
