"""Closures and strikes the town declares: what a declaration must say, which (site, service)
pairs it covers, and the records of what it cancelled.

A declaration names sites (none: every site) and services (none: every service); the store keeps
one `closures` row per pair the town offers (`scopes`), so that « the canteen at the two schools »
is two rows and a closure of everything is one row with two NULLs. The calendar then reads each row
as a `lib.domain.calendar.Closure`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from lib.domain import fr
from lib.domain.calendar import Closure, ClosureKind
from lib.domain.errors import InvalidInput
from lib.domain.journal import days_phrase, plural
from lib.domain.records import SiteService

REASON_MIN = 3
REASON_MAX = 200

Scope = tuple[int | None, int | None]  # (site_id, service_id); None: every site, every service


@dataclass(frozen=True)
class Declaration:
    """A checked declaration: its days, its kind and its reason (trimmed)."""

    start: date
    end: date
    kind: ClosureKind
    reason: str


def check_declaration(start: object, end: object, kind: object, reason: object) -> Declaration:
    """The declaration typed in the form, or a refusal in French."""
    return Declaration(*check_days(start, end), check_kind(kind), check_reason(reason))


def check_days(start: object, end: object) -> tuple[date, date]:
    if start is None or end is None:
        raise InvalidInput("Indiquez le premier et le dernier jour de la fermeture.")
    if (
        not isinstance(start, date)
        or not isinstance(end, date)
        or isinstance(start, datetime)
        or isinstance(end, datetime)
    ):
        raise InvalidInput("Dates illisibles : choisissez le premier et le dernier jour dans les listes.")
    if end < start:
        raise InvalidInput("Le dernier jour de la fermeture précède le premier : vérifiez les dates.")
    if end >= _a_year_after(start):  # a closure lasts at most a year: anything longer is a typing mistake
        raise InvalidInput("Une fermeture dure au plus un an : déclarez une période plus courte.")
    return start, end


def _a_year_after(day: date) -> date:
    """The same day a year later (1 March after a 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


def check_kind(kind: object) -> ClosureKind:
    if isinstance(kind, str) and kind in {k.value for k in ClosureKind}:
        return ClosureKind(kind)
    raise InvalidInput("Type inconnu : choisissez fermeture, grève ou pont.")


def check_reason(reason: object) -> str:
    if not isinstance(reason, str):
        raise InvalidInput("Indiquez le motif de la fermeture (par exemple « grève du personnel »).")
    text = " ".join(reason.split())  # a line break or a tab typed in the motif reads as a space
    if len(text) < REASON_MIN:
        raise InvalidInput(f"Motif trop court : {REASON_MIN} caractères au moins (par exemple « grève du personnel »).")
    if len(text) > REASON_MAX:
        raise InvalidInput(f"Motif trop long : {REASON_MAX} caractères au plus.")
    if not text.isprintable():
        raise InvalidInput("Motif illisible : saisissez seulement du texte.")
    return text


def _ids(values: object, what: str) -> list[int]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput(f"{what} illisibles : choisissez-les dans la liste.")
    found = list(values)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in found):
        raise InvalidInput(f"{what} illisibles : choisissez-les dans la liste.")
    return sorted(set(found))


def scopes(site_ids: object, service_ids: object, offered: Sequence[SiteService]) -> list[Scope]:
    """The (site, service) rows a declaration writes. No site named: every site (None); no service
    named: every service (None). Sites and services both named: the pairs the town offers among
    them (« the canteen » at the Wednesday centre means nothing)."""
    sites, services = _ids(site_ids, "Structures"), _ids(service_ids, "Prestations")
    site_names = {o.site_id: o.site for o in offered}
    service_names = {o.service_id: o.service for o in offered}
    if any(s not in site_names for s in sites):
        raise InvalidInput("Structure inconnue : choisissez-la dans la liste.")
    if any(s not in service_names for s in services):
        raise InvalidInput("Prestation inconnue : choisissez-la dans la liste.")
    if not sites and not services:
        return [(None, None)]
    if not services:
        return [(site, None) for site in sites]
    if not sites:
        return [(None, service) for service in services]
    pairs: list[Scope] = [(o.site_id, o.service_id) for o in offered if o.site_id in sites and o.service_id in services]
    if not pairs:
        raise InvalidInput("Aucune des structures choisies ne propose les prestations choisies : vérifiez votre choix.")
    return sorted(set(pairs), key=lambda p: (p[0] or 0, p[1] or 0))


def scope_text(site: str | None, service: str | None) -> str:
    """« Restauration scolaire — toutes les structures »: one row's scope, for people."""
    return f"{service or 'Toutes les prestations'} — {site or 'toutes les structures'}"


def period_text(start: date, end: date) -> str:
    """« le jeudi 21 janvier 2027 », « du 21/01/2027 au 22/01/2027 »."""
    return days_phrase([start, end])


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredClosure:
    """A stored closure row, with the names its ids stand for."""

    id: int
    closure: Closure
    site: str | None  # None: every site
    service: str | None  # None: every service
    created_at: datetime | None  # UTC (naive); None before migration 008
    created_by: str | None
    withdrawn_at: datetime | None  # UTC (naive); None: in force

    @property
    def scope(self) -> str:
        return scope_text(self.site, self.service)


@dataclass(frozen=True)
class ClosureList:
    """What « Fermetures et grèves » lists: in force and not over, in force and over (newest
    first), withdrawn (newest first)."""

    coming: list[DeclaredClosure]
    past: list[DeclaredClosure]
    withdrawn: list[DeclaredClosure]


@dataclass(frozen=True)
class ClosurePreview:
    """What a declaration would cancel, before it is made."""

    booked: int  # bookings
    waiting: int  # places on a waiting list
    families: int
    scopes: tuple[str, ...] = ()  # « Restauration scolaire — toutes les structures », one per row

    @property
    def sentence(self) -> str:
        if not self.booked and not self.waiting:
            return "Aucune réservation ni place en liste d'attente à annuler sur cette période."
        verb = "sera annulée" if self.booked + self.waiting == 1 else "seront annulées"
        return f"{_what(self.booked, self.waiting)} {verb} pour {plural(self.families, 'famille', 'familles')}."


def _what(booked: int, waiting: int) -> str:
    """« 12 réservations et 1 place en liste d'attente », a count left out when nothing."""
    parts = [plural(booked, "réservation", "réservations")] if booked else []
    if waiting:
        parts.append(plural(waiting, "place en liste d'attente", "places en liste d'attente"))
    return " et ".join(parts)


@dataclass(frozen=True)
class CancelledDay:
    """A booking (or a place on a waiting list) the closure cancelled."""

    service_id: int
    service: str
    day: date
    was_waiting: bool


@dataclass(frozen=True)
class ChildCancellations:
    child_id: int
    first_name: str
    last_name: str
    days: tuple[CancelledDay, ...]  # in day order


@dataclass(frozen=True)
class FamilyCancellations:
    """One family concerned by a closure: whom to tell, about which children and days."""

    family_id: int
    name: str
    children: tuple[ChildCancellations, ...]


@dataclass(frozen=True)
class ClosureResult:
    """What `services.closures.declare` did: the rows written and, family by family, the
    bookings and waiting places it cancelled (what the families are told)."""

    closure_ids: tuple[int, ...]
    declaration: Declaration
    scopes: tuple[str, ...]  # « Restauration scolaire — toutes les structures », one per row
    families: tuple[FamilyCancellations, ...]

    @property
    def booked(self) -> int:
        return sum(not d.was_waiting for f in self.families for c in f.children for d in c.days)

    @property
    def waiting(self) -> int:
        return sum(d.was_waiting for f in self.families for c in f.children for d in c.days)

    @property
    def sentence(self) -> str:
        kind = self.declaration.kind
        declared = "déclaré" if kind is ClosureKind.BRIDGE else "déclarée"
        what = f"{kind.label} {declared} {period_text(self.declaration.start, self.declaration.end)}"
        if not self.families:
            return f"{what} ({'; '.join(self.scopes)}) : aucune réservation n'était concernée."
        verb = "annulée" if self.booked + self.waiting == 1 else "annulées"
        families = plural(len(self.families), "famille", "familles")
        return f"{what} ({'; '.join(self.scopes)}) : {_what(self.booked, self.waiting)} {verb} pour {families}."


def child_days_text(days: Iterable[CancelledDay]) -> str:
    """« Restauration scolaire le jeudi 21 janvier 2027 (liste d'attente) »: a child's days."""
    parts = []
    for day in days:
        parts.append(f"{day.service} le {fr.long_date(day.day)}" + (" (liste d'attente)" if day.was_waiting else ""))
    return ", ".join(parts)
