"""Registrations and bookings ("Mes inscriptions"), for families and for staff.

Every entry point takes the actor and checks that the child is theirs (a family) or that they
may act on any child (agent, admin). Deadlines come from `lib.domain.deadlines` through the
plans of `lib.domain.planning`: the calendar, the preview and the save use the same rules.
A change is one transaction: recompute the plan on what is stored now, lock the days touched,
write every booking in one set-based statement, promote waiting lists, write the audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from lib.domain import periods
from lib.domain.actor import Actor
from lib.domain.calendar import SchoolCalendar, parse_weekdays
from lib.domain.clock import to_utc_naive
from lib.domain.deadlines import DeadlineRule
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.family_letters import DayChange, Outcome
from lib.domain.fr import long_date, short_date
from lib.domain.planning import (
    BookingChange,
    BookingState,
    Cell,
    Plan,
    ServiceInfo,
    Skip,
    check_period,
    current_pattern,
    day_cells,
    plan_days,
    plan_template,
)
from lib.domain.records import Child, FoundChild, SchoolYearRecord
from lib.domain.roles import Role
from lib.domain.validation import fold, is_id
from lib.services import family_mail
from lib.store import audit, reference
from lib.store import bookings as store
from lib.store import settings as settings_store
from lib.store.db import Cursor, Database

EDITORS = (Role.AGENT, Role.ADMIN)
REASON_MAX = 500
SEARCH_MIN = 2
SEARCH_LIMIT = 30
SCHOOL_DAY_KINDS = ("maternelle", "elementaire")
NO_PLACE = store.Places(free=0, waiting=0)  # a (site, service) pair no longer offered


# --- who may act on which child -------------------------------------------------------------


def _child_for(db: Database, actor: Actor, child_id: object) -> Child:
    """The child, if the actor may act on it; the same refusal whether it exists or not."""
    return _may_act_on(actor, store.child(db, child_id) if is_id(child_id) else None)


def _may_act_on(actor: Actor, found: Child | None) -> Child:
    """`found` (a child, or None), if the actor may act on it."""
    refusal = NotAllowed("Enfant introuvable ou non rattaché à votre compte.")
    if found is None:
        raise refusal
    if actor.is_family:
        if actor.family_id is None or found.family_id != actor.family_id:
            raise refusal
    elif actor.role not in EDITORS:
        raise NotAllowed("Votre profil ne permet pas de modifier les inscriptions ni les réservations.")
    return found


def _override(actor: Actor, late: bool, reason: str | None) -> tuple[bool, str | None]:
    """Staff may act past the deadlines ("hors délai"), always with a reason."""
    if not late:
        return False, (reason or "").strip()[:REASON_MAX] or None
    if actor.role not in EDITORS:
        raise NotAllowed("Seul le personnel de la mairie peut modifier une réservation hors délai.")
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("Indiquez le motif de la modification hors délai.")
    if len(text) > REASON_MAX:
        raise InvalidInput(f"Motif trop long (au plus {REASON_MAX} caractères).")
    return True, text


def my_children(db: Database, actor: Actor) -> list[Child]:
    if not actor.is_family or actor.family_id is None:
        raise NotAllowed("Cette page est réservée aux familles.")
    return store.family_children(db, actor.family_id)


def find_children(db: Database, actor: Actor, text: str) -> list[FoundChild]:
    """Staff search by first or last name (several words narrow it down)."""
    actor.require(*EDITORS)
    words = [w for w in fold((text or "").strip()).split() if w][:5]
    if sum(len(w) for w in words) < SEARCH_MIN:
        raise InvalidInput(f"Saisissez au moins {SEARCH_MIN} lettres du prénom ou du nom.")
    return store.search_children(db, [w[:40] for w in words], SEARCH_LIMIT)


# --- school years -----------------------------------------------------------------------------


def school_years(db: Database, today: date) -> tuple[list[SchoolYearRecord], SchoolYearRecord | None]:
    """All school years, and the one to show first (the current one)."""
    return reference.school_years(db), reference.current_school_year(db, today)


def _year(db: Database, school_year_id: object) -> SchoolYearRecord:
    found = [y for y in reference.school_years(db) if y.id == school_year_id]
    if not found:
        raise InvalidInput("Année scolaire inconnue.")
    return found[0]


# --- registration -----------------------------------------------------------------------------


@dataclass
class SiteChoice:
    site_id: int
    name: str
    kind: str
    services: list[tuple[int, str]]  # (service_id, name)


@dataclass
class RegistrationForm:
    child: Child
    year: SchoolYearRecord
    sites: list[SiteChoice]
    current: dict[int, list[int]]  # site_id -> service ids


def registration_form(db: Database, actor: Actor, child_id: int, school_year_id: int) -> RegistrationForm:
    child = _child_for(db, actor, child_id)
    year = _year(db, school_year_id)
    sites: dict[int, SiteChoice] = {}
    for row in store.offered_services(db):
        site = sites.setdefault(row["site_id"], SiteChoice(row["site_id"], row["site_name"], row["site_kind"], []))
        site.services.append((row["id"], row["name"]))
    current = {r["site_id"]: r["service_ids"] or [] for r in store.registrations(db, child.id, year.id)}
    return RegistrationForm(child, year, list(sites.values()), current)


def save_registration(
    db: Database,
    actor: Actor,
    child_id: int,
    school_year_id: int,
    site_id: object,
    service_ids: Iterable[object],
    now: datetime,
) -> str:
    """Register the child at a site for some services (an empty list withdraws the registration).

    Refused: a year already over, an unknown site or a service the site does not offer, a second
    school-day site the same year, dropping a service whose future days are still booked.
    """
    form = registration_form(db, actor, child_id, school_year_id)
    child, year = form.child, form.year
    today = now.date()
    if year.end_date < today and not actor.is_staff:
        raise InvalidInput(f"L'année scolaire {year.label} est terminée : choisissez l'année en cours.")
    site = next((s for s in form.sites if s.site_id == site_id), None)
    if site is None:
        raise InvalidInput("Structure inconnue : choisissez-en une dans la liste.")
    asked = list(dict.fromkeys(service_ids))
    offered = {sid for sid, _ in site.services}
    wanted = [s for s in asked if isinstance(s, int) and s in offered]
    if len(wanted) < len(asked):
        raise InvalidInput(f"Cette prestation n'est pas proposée par « {site.name} ».")
    if wanted and site.kind in SCHOOL_DAY_KINDS:
        other = next(
            (
                s
                for s in form.sites
                if s.site_id != site.site_id and s.kind in SCHOOL_DAY_KINDS and form.current.get(s.site_id)
            ),
            None,
        )
        if other is not None:
            raise InvalidInput(
                f"{child.first_name} est déjà inscrit(e) à « {other.name} » pour {year.label} : "
                "retirez d'abord cette inscription-là."
            )
    dropped = [s for s in form.current.get(site.site_id, []) if s not in wanted]
    if dropped and store.active_bookings_count(db, child.id, dropped, site.site_id, max(today, year.start_date)):
        names = ", ".join(f"« {n} »" for sid, n in site.services if sid in dropped)
        raise InvalidInput(
            f"Des jours à venir sont encore réservés pour {names} : annulez-les d'abord "
            "(bouton « Modification »), puis retirez la prestation."
        )
    before = form.current.get(site.site_id, [])
    if sorted(before) == sorted(wanted):
        return "Aucun changement : l'inscription était déjà celle-ci."

    at = to_utc_naive(now)

    def work(cur):
        if wanted:
            store.save_registration(cur, child.id, year.id, site.site_id, sorted(wanted), at)
        else:
            reg = next(r for r in store.registrations(db, child.id, year.id) if r["site_id"] == site.site_id)
            store.delete_registration(cur, reg["id"])
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="registration.save",
            entity="child",
            entity_id=child.id,
            before={"site": site.name, "services": before},
            after={"site": site.name, "services": sorted(wanted), "year": year.label},
        )

    db.write(work)
    if not wanted:
        return f"Inscription de {child.first_name} à « {site.name} » retirée."
    return f"Inscription de {child.first_name} à « {site.name} » enregistrée pour {year.label}."


# --- the child's booking context ----------------------------------------------------------------


@dataclass
class BookingContext:
    child: Child
    year: SchoolYearRecord
    services: list[ServiceInfo]
    calendar: SchoolCalendar

    @property
    def first_service_day(self) -> date:
        days = [
            self.calendar.next_service_day(s.weekdays, self.year.start_date, inclusive=True, horizon_days=60)
            for s in self.services
        ]
        return min((d for d in days if d), default=self.year.start_date)

    @property
    def last_service_day(self) -> date:
        last = self.year.end_date
        for _ in range(60):
            if any(
                last.isoweekday() in s.weekdays and self.calendar.is_school_day(last, s.site_id, s.id)
                for s in self.services
            ):
                return last
            last -= timedelta(days=1)
        return self.year.end_date

    def service(self, service_id: object) -> ServiceInfo:
        found = next((s for s in self.services if s.id == service_id), None)
        if found is None:
            raise InvalidInput(
                f"{self.child.first_name} n'est pas inscrit(e) à cette prestation pour {self.year.label}."
            )
        return found

    def months(self) -> list[date]:
        return periods.months(self.year.start_date, self.year.end_date)


def _service_info(row: dict) -> ServiceInfo:
    return ServiceInfo(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        short_name=row["short_name"],
        weekdays=parse_weekdays(row["weekdays"]),
        site_id=row["site_id"],
        book=row["deadlines"].book,
        cancel=row["deadlines"].cancel,
    )


def booking_context(db: Database, actor: Actor, child_id: int, school_year_id: int) -> BookingContext:
    child, year, rows = (
        store.booking_basis(db, child_id, school_year_id if is_id(school_year_id) else None)
        if is_id(child_id)
        else (None, None, [])
    )
    child = _may_act_on(actor, child)
    if year is None:
        raise InvalidInput("Année scolaire inconnue.")
    services = [_service_info(r) for r in rows]
    if not services:
        raise InvalidInput(
            f"{child.first_name} n'est inscrit(e) à aucune prestation pour {year.label} : "
            "inscrivez-le (la) d'abord (« Inscrire mon enfant ou modifier son inscription »)."
        )
    return BookingContext(child, year, services, reference.school_calendar(db))


def _still_may_act(actor: Actor, ctx: BookingContext) -> None:
    """A context was built for one actor: whoever uses it is checked again against its child."""
    _may_act_on(actor, ctx.child)


def _recheck_stored(db: Database, actor: Actor, ctx: BookingContext) -> None:
    """Before a write: the actor against the child as stored now, not as the context remembers it."""
    _may_act_on(actor, store.child(db, ctx.child.id))


def _refuse_closed_since(db: Database, to_book: Iterable[tuple[int, date]], site_of: Mapping[int, int]) -> None:
    """The closures as stored now, read inside the booking's write: a closure or a strike declared after
    the family's calendar was drawn (its context remembers the calendar of then) is refused, not booked."""
    closures = reference.closures(db) if to_book else []
    for service_id, day in to_book:
        shut = next((c for c in closures if c.covers(day, site_of[service_id], service_id)), None)
        if shut is not None:
            raise InvalidInput(f"Réservation impossible le {long_date(day)} : {shut.sentence}.")


def month_cells(
    db: Database, actor: Actor, ctx: BookingContext, month: date, now: datetime, preview: Plan | None = None
) -> list[Cell]:
    """The state of every service day of one month for the child (one query)."""
    _still_may_act(actor, ctx)
    first, last = periods.month_start(month), periods.month_end(month)
    bookings: dict = {}
    attendance: dict = {}
    for service_id, day, state, status in store.month_view(db, ctx.child.id, first, last):
        if state is not None:
            bookings[(service_id, day)] = state
        if status is not None:
            attendance[(service_id, day)] = status
    return day_cells(ctx.services, first, last, bookings, attendance, ctx.calendar, now, preview)


def template_pattern(db: Database, actor: Actor, ctx: BookingContext, now: datetime) -> dict[int, tuple[int, ...]]:
    """The child's weekly pattern per service from today to the end of the year (the whole year
    once it is over): the weekly-template editor opens with it."""
    _still_may_act(actor, ctx)
    first, last = max(now.date(), ctx.year.start_date), ctx.year.end_date
    if first > last:
        first = ctx.year.start_date
    current = store.states(db.cursor(), ctx.child.id, first, last)
    return current_pattern(ctx.services, current, ctx.calendar, first, last)


# --- changes ------------------------------------------------------------------------------------


@dataclass
class ChangeResult:
    booked: list[tuple[int, date]] = field(default_factory=list)
    waiting: list[tuple[int, date]] = field(default_factory=list)
    cancelled: list[tuple[int, date]] = field(default_factory=list)
    promoted: int = 0
    skipped: list[Skip] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # service id -> name, to name the days
    NAMED_AT_MOST = 12  # beyond, the days are counted (the preview listed them by month)

    def summary(self) -> str:
        if not (self.booked or self.waiting or self.cancelled):
            return "Aucun changement : les réservations étaient déjà celles-ci."
        named = len(self.booked) + len(self.waiting) + len(self.cancelled) <= self.NAMED_AT_MOST
        parts = []
        for keys, words in (
            (self.booked, "réservé(s)"),
            (self.waiting, "complet(s) : en liste d'attente"),
            (self.cancelled, "annulé(s)"),
        ):
            if keys:
                parts.append(f"{len(keys)} jour(s) {words}" + (f" ({self._days(keys)})" if named else ""))
        return "Réservations enregistrées : " + ", ".join(parts) + "."

    def _days(self, keys: list[tuple[int, date]]) -> str:
        several = len({sid for sid, _ in self.booked + self.waiting + self.cancelled}) > 1
        return ", ".join(
            short_date(day) + (f" – {self.names.get(sid, '')}" if several else "")
            for sid, day in sorted(keys, key=lambda k: (k[1], k[0]))
        )


def preview_template(
    db: Database,
    actor: Actor,
    ctx: BookingContext,
    template: Mapping[int, Iterable[int]],
    start: date,
    end: date,
    now: datetime,
    *,
    late: bool = False,
) -> Plan:
    """What "Confirmer" would do (nothing is written)."""
    _still_may_act(actor, ctx)
    override, _ = _override(actor, late, "aperçu" if late else None)
    check_period(start, end, ctx.year.start_date, ctx.year.end_date, ctx.year.label, now.date())
    current = store.states(db.cursor(), ctx.child.id, max(start, now.date()), end)
    return plan_template(template, ctx.services, start, end, current, ctx.calendar, now, override=override)


def apply_template(
    db: Database,
    actor: Actor,
    ctx: BookingContext,
    template: Mapping[int, Iterable[int]],
    start: date,
    end: date,
    now: datetime,
    *,
    late: bool = False,
    reason: str | None = None,
) -> ChangeResult:
    override, reason = _override(actor, late, reason)
    check_period(start, end, ctx.year.start_date, ctx.year.end_date, ctx.year.label, now.date())
    template = {k: sorted(v) for k, v in template.items()}

    def plan_for(current):
        return plan_template(template, ctx.services, start, end, current, ctx.calendar, now, override=override)

    details = {"template": {str(k): v for k, v in template.items()}, "from": start, "to": end}
    origin = "staff_late" if override else ("staff" if actor.is_staff else "template")
    return _execute(
        db,
        actor,
        ctx,
        max(start, now.date()),
        end,
        plan_for,
        origin,
        now,
        override,
        reason,
        "booking.template",
        details,
    )


def change_days(
    db: Database,
    actor: Actor,
    ctx: BookingContext,
    service_id: int,
    book: Iterable[date],
    cancel: Iterable[date],
    now: datetime,
    *,
    late: bool = False,
    reason: str | None = None,
) -> ChangeResult:
    """Occasional days: book the days in `book`, cancel those in `cancel` (all or nothing); no
    other day is touched, whatever the month table showed."""
    service = ctx.service(service_id)
    book, cancel = _named_days(book), _named_days(cancel)
    if not book and not cancel:
        raise InvalidInput("Aucun jour coché ni décoché : rien à enregistrer.")
    outside = next((d for d in sorted(book | cancel) if not ctx.year.start_date <= d <= ctx.year.end_date), None)
    if outside is not None:
        raise InvalidInput(f"Le {long_date(outside)} est en dehors de l'année scolaire {ctx.year.label}.")
    wrong_day = next((d for d in sorted(book) if d.isoweekday() not in service.weekdays), None)
    if wrong_day is not None:
        raise InvalidInput(f"« {service.name} » n'est pas assurée le {long_date(wrong_day)}.")
    return _change_days(db, actor, ctx, service, book, cancel, now, late, reason)


def _named_days(days: Iterable[date]) -> set[date]:
    if isinstance(days, (str, bytes, date)) or not isinstance(days, Iterable):
        raise InvalidInput("Date illisible.")
    days = list(days)
    if any(not isinstance(d, date) or isinstance(d, datetime) for d in days):
        raise InvalidInput("Date illisible.")
    return set(days)


def set_day(
    db: Database,
    actor: Actor,
    ctx: BookingContext,
    service_id: int,
    day: date,
    booked: bool,
    now: datetime,
    *,
    late: bool = False,
    reason: str | None = None,
) -> ChangeResult:
    """Book (`booked`) or cancel one day: a click on the calendar."""
    service = ctx.service(service_id)
    if not isinstance(day, date) or not ctx.year.start_date <= day <= ctx.year.end_date:
        raise InvalidInput(f"Choisissez un jour de l'année scolaire {ctx.year.label}.")
    return _change_days(
        db, actor, ctx, service, {day} if booked else set(), set() if booked else {day}, now, late, reason
    )


def _change_days(db, actor, ctx, service, book: set[date], cancel: set[date], now, late, reason) -> ChangeResult:
    override, reason = _override(actor, late, reason)

    def plan_for(current):
        return plan_days(service, book, cancel, current, ctx.calendar, now, override=override)

    origin = "staff_late" if override else ("staff" if actor.is_staff else "occasional")
    days = book | cancel
    return _execute(
        db,
        actor,
        ctx,
        min(days),
        max(days),
        plan_for,
        origin,
        now,
        override,
        reason,
        "booking.days",
        {"service": service.name},
    )


def _execute(
    db: Database,
    actor: Actor,
    ctx: BookingContext,
    first: date,
    last: date,
    plan_for: Callable[[dict], Plan],
    origin: str,
    now: datetime,
    override: bool,
    reason: str | None,
    action: str,
    details: dict,
) -> ChangeResult:
    _recheck_stored(db, actor, ctx)
    at = to_utc_naive(now)
    site_of = {s.id: s.site_id for s in ctx.services}
    child_id = ctx.child.id

    def work(cur) -> ChangeResult:
        plan = plan_for(store.states(cur, child_id, first, last))
        result = ChangeResult(skipped=plan.skipped, names={s.id: s.name for s in ctx.services})
        if plan.is_empty:
            return result
        _refuse_closed_since(db, plan.to_book, site_of)
        asked = [(sid, day, True) for sid, day in plan.to_book] + [(sid, day, False) for sid, day in plan.to_cancel]
        keys = [(site_of[sid], sid, day) for sid, day, _ in asked]
        store.lock_days(cur, keys)
        places = store.places(cur, keys)
        rows = []
        for sid, day, book in asked:
            site = site_of[sid]
            if not book:
                state = BookingState.CANCELLED
            elif places.get((site, sid, day), NO_PLACE).free > 0:
                state = BookingState.BOOKED
            else:
                state = BookingState.WAITING
            rows.append(BookingChange(sid, day, site, state))
            {
                BookingState.CANCELLED: result.cancelled,
                BookingState.BOOKED: result.booked,
                BookingState.WAITING: result.waiting,
            }[state].append((sid, day))
        store.upsert_bookings(cur, child_id, rows, origin, actor.user_id, at)
        freed = [(site_of[sid], sid, day) for sid, day in result.cancelled]
        promoted = store.promote_waiting(
            cur, [k for k in freed if places.get(k, NO_PLACE).waiting > 0], actor.user_id, at
        )
        result.promoted = len(promoted)
        audit_id = audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action=action + (".late" if override else ""),
            entity="child",
            entity_id=child_id,
            before={"booked_or_waiting": _iso(result.cancelled)},
            after={**details, "booked": _iso(result.booked), "waiting": _iso(result.waiting)},
            reason=reason,
        )
        promotions = record_promotions(cur, promoted, at)
        family_mail.booking_changed(
            cur,
            family_mail.Booked(child_id, ctx.child.first_name, ctx.child.family_id, _day_changes(ctx, result, now)),
            by_staff=actor.is_staff,
            user_id=actor.user_id,
            audit_id=audit_id,
            now=now,
        )
        family_mail.places_obtained(
            cur, promotions, lambda sid, day: _day_change(ctx, sid, day, Outcome.BOOKED, now), now
        )
        return result

    return db.write(work)


def _day_change(ctx: BookingContext, service_id: int, day: date, outcome: Outcome, now: datetime) -> DayChange:
    service = ctx.service(service_id)
    return _letter_day(service.name, service.cancel, ctx.calendar, day, outcome, now)


def _letter_day(
    service: str, cancel: DeadlineRule, calendar: SchoolCalendar, day: date, outcome: Outcome, now: datetime
) -> DayChange:
    """One day of a letter: a booked day says until when it can be cancelled (the service's rule),
    unless that moment has passed (a day booked late by the staff)."""
    limit = cancel.limit(day, calendar) if outcome is Outcome.BOOKED else None
    return DayChange(service, day, outcome, limit if limit is not None and limit >= now else None)


def _day_changes(ctx: BookingContext, result: ChangeResult, now: datetime) -> list[DayChange]:
    return [
        _day_change(ctx, service_id, day, outcome, now)
        for keys, outcome in (
            (result.booked, Outcome.BOOKED),
            (result.waiting, Outcome.WAITING),
            (result.cancelled, Outcome.CANCELLED),
        )
        for service_id, day in keys
    ]


def record_promotions(
    cur: Cursor, promoted: list[store.Promoted], at_utc: datetime
) -> list[tuple[int, int, date, int]]:
    """One audit entry per child who left a waiting list for a freed place (by nobody: the system);
    (child, service, day, its audit id) for each."""
    return [
        (
            promoted_child,
            service_id,
            day,
            audit.record(
                cur,
                at_utc=at_utc,
                user_id=None,
                action="booking.promoted",
                entity="child",
                entity_id=promoted_child,
                before={"waiting": [[service_id, day]]},
                after={"booked": [[service_id, day]]},
                reason="place libérée",
            ),
        )
        for promoted_child, service_id, day in promoted
    ]


def announce_promotions(
    cur: Cursor, promoted: list[store.Promoted], calendar: SchoolCalendar, at_utc: datetime, now: datetime
) -> list[tuple[int, int, date, int]]:
    """Promotions made by a change other than a child's own booking (an archive): each one's audit
    entry (`record_promotions`) and, in the same transaction, « Une place s'est libérée » to each
    promoted family, each day named by its service with its cancellation limit as stored."""
    promotions = record_promotions(cur, promoted, at_utc)
    services = settings_store.service_deadlines(cur, sorted({p.service_id for p in promoted}))

    def describe(service_id: int, day: date) -> DayChange:
        name, deadlines = services[service_id]
        return _letter_day(name, deadlines.cancel, calendar, day, Outcome.BOOKED, now)

    family_mail.places_obtained(cur, promotions, describe, now)
    return promotions


def _iso(keys: list[tuple[int, date]]) -> list[list]:
    return [[sid, d.isoformat()] for sid, d in keys]
