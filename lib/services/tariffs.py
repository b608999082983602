"""A service's dated tariffs (administrator): the council's decisions (délibérations), each applying
from a date and kept forever, with their prices of a day present without a booking, of a PAI packed
lunch and for a family living outside the town. Before its first decision a service is priced by its
base tariff (its unit price and QF grid, edited with its deadlines). The month's invoicing prices each day at the
tariff in force that day (lib.services.invoicing); a decision may only apply after the last month
already invoiced, so an issued invoice is never re-priced."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput, NotFound
from lib.domain.invoicing import Tariff, check_brackets, check_decision, check_optional_tariff, check_tariff
from lib.domain.roles import Role
from lib.domain.validation import is_id, parse_brackets, parse_euros
from lib.services.trail import refusals_audited
from lib.store import audit
from lib.store import invoices as store
from lib.store.db import Database

EDITORS = (Role.ADMIN,)


def _checked_service(service_id: object) -> int:
    if not is_id(service_id):
        raise NotFound("Prestation introuvable.")
    return service_id


def history(db: Database, actor: Actor, service_id: object) -> list[Tariff]:
    """A service's tariffs: its base tariff, then its decisions by date of effect."""
    actor.require(*EDITORS)
    found = store.service_tariffs(db).get(_checked_service(service_id))
    if found is None:
        raise NotFound("Prestation introuvable.")
    return found


def published_until(db: Database, actor: Actor) -> date | None:
    """The first day a new tariff may apply from (None: no month invoiced yet)."""
    actor.require(*EDITORS)
    return store.published_until(db)


def optional_euros(typed: object, what: str) -> int | None:
    """A price typed the French way, or None for an empty field: that price's own rule then applies (an
    unbooked day is not billed, a packed lunch costs a meal, a family outside the town pays by the QF grid)."""
    if typed is None or (isinstance(typed, str) and not typed.strip()):
        return None
    if not isinstance(typed, str):
        raise InvalidInput(f"{what} : saisissez un montant en euros, par exemple 2,50.")
    try:
        return check_optional_tariff(parse_euros(typed), what)
    except InvalidInput as exc:
        raise InvalidInput(f"{what} : {exc.message}") from exc


def _tariff_row(tariff: Tariff) -> dict:
    return {
        "valid_from": tariff.valid_from.isoformat() if tariff.valid_from else None,
        "reference": tariff.reference,
        "unit_price_cents": tariff.unit_price_cents,
        "brackets": [[b.qf_max, b.price_cents] for b in tariff.brackets],
        "unbooked_price_cents": tariff.unbooked_price_cents,
        "basket_price_cents": tariff.basket_price_cents,
        "non_resident_price_cents": tariff.non_resident_price_cents,
    }


def add_decision(
    db: Database,
    actor: Actor,
    service_id: object,
    *,
    valid_from: object,
    reference: object,
    unit_price: object,
    grid: Sequence[tuple[str | None, str | None]],
    unbooked_price: object,
    basket_price: object,
    non_resident_price: object,
    now: datetime,
) -> str:
    """A council decision: the service's prices from `valid_from` on, as typed on « Prestations »
    (prices in euros, the QF grid's (ceiling, price) cells; an empty unbooked or basket price: such
    days are not billed; an empty non-resident price: the QF grid for every family). Refused, in
    French and with nothing written, before the last month invoiced, on another decision's date, or
    for a price that cannot be read; a refusal is kept in the audit log."""
    actor.require(*EDITORS)
    with refusals_audited(db, actor, now, "tariff.decision_refused", "service", str(service_id)[:20]):
        sid = _checked_service(service_id)
        if not isinstance(unit_price, str):
            raise InvalidInput("Prix unitaire : saisissez un montant en euros, par exemple 3,50.")
        unit = check_tariff(parse_euros(unit_price), "Prix unitaire")
        brackets = tuple(check_brackets(parse_brackets(grid)))
        unbooked = optional_euros(unbooked_price, "Prix d'un repas non réservé")
        basket = optional_euros(basket_price, "Prix d'un repas panier (PAI)")
        non_resident = optional_euros(non_resident_price, "Prix hors commune")

        def work(cur) -> str:
            tariffs = store.service_tariffs(cur).get(sid)
            if tariffs is None:
                raise NotFound("Prestation introuvable.")
            taken = [t.valid_from for t in tariffs if t.valid_from is not None]
            text = check_decision(valid_from, reference, store.published_until(cur), taken)
            assert isinstance(valid_from, date)  # check_decision refused anything else
            tariff = Tariff(valid_from, unit, brackets, unbooked, basket, non_resident, text)
            store.insert_decision(cur, sid, tariff, actor.user_id, to_utc_naive(now))
            audit.record(
                cur,
                at_utc=to_utc_naive(now),
                user_id=actor.user_id,
                action="tariff.decide",
                entity="service",
                entity_id=sid,
                after=_tariff_row(tariff),
            )
            return valid_from.strftime("%d/%m/%Y")

        day = db.write(work)
    return f"Nouveau tarif enregistré : il s'applique aux repas à partir du {day}."
