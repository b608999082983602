"""The pure billing rules of a day: which tariff is in force, how a day is billed (booked, present
without a booking, PAI packed lunch), its price (QF grid, non-resident price, « not billed »), a new
decision's checks, and the minimum for public recovery."""

from datetime import date

import pytest

from lib.domain.errors import InvalidInput
from lib.domain.invoicing import (
    Bracket,
    LineKind,
    Tariff,
    check_decision,
    check_recovery_minimum,
    day_kind,
    day_price,
    held_back,
    recovery_minimum,
    tariff_in_force,
)

BASE = Tariff(None, 350, (Bracket(600, 200), Bracket(None, 450)), unbooked_price_cents=500)
JANUARY = Tariff(date(2027, 1, 1), 380, (), 600, 150, 700, "Délibération n° 2026-45")
MARCH = Tariff(date(2027, 3, 15), 400)


def test_each_day_is_priced_at_the_tariff_in_force_that_day():
    tariffs = [BASE, JANUARY, MARCH]
    assert tariff_in_force(tariffs, date(2026, 12, 31)) is BASE
    assert tariff_in_force(tariffs, date(2027, 1, 1)) is JANUARY
    assert tariff_in_force(tariffs, date(2027, 3, 14)) is JANUARY
    assert tariff_in_force(tariffs, date(2027, 3, 15)) is MARCH
    assert tariff_in_force([MARCH, BASE, JANUARY], date(2027, 6, 1)) is MARCH  # order of the list does not matter


def test_a_packed_lunch_first_then_booked_or_not():
    assert day_kind(JANUARY, booked=True, basket=False) is LineKind.MEAL
    assert day_kind(JANUARY, booked=False, basket=False) is LineKind.UNBOOKED
    assert day_kind(JANUARY, booked=True, basket=True) is LineKind.BASKET
    assert day_kind(JANUARY, booked=False, basket=True) is LineKind.BASKET
    # Without a price of its own, a packed lunch is a meal (as before the town sets one).
    assert day_kind(BASE, booked=True, basket=True) is LineKind.MEAL
    assert day_kind(BASE, booked=False, basket=True) is LineKind.UNBOOKED


@pytest.mark.parametrize(
    "tariff, kind, qf, outside, price",
    [
        (BASE, LineKind.MEAL, 500, False, 200),  # the QF grid
        (BASE, LineKind.MEAL, None, False, 450),  # no known QF: the top bracket
        (BASE, LineKind.MEAL, 500, True, 200),  # no non-resident price: the QF grid for all
        (BASE, LineKind.UNBOOKED, 500, False, 500),  # its own price, whatever the QF
        (BASE, LineKind.BASKET, 500, False, 200),  # no basket price of its own: a meal's
        (JANUARY, LineKind.MEAL, 500, False, 380),  # no grid: the unit price
        (JANUARY, LineKind.MEAL, 500, True, 700),  # hors commune: instead of the QF
        (JANUARY, LineKind.UNBOOKED, 500, True, 600),
        (JANUARY, LineKind.BASKET, 500, True, 150),
        (MARCH, LineKind.UNBOOKED, 500, False, None),  # no unbooked price: not billed
    ],
)
def test_the_price_of_a_day(tariff, kind, qf, outside, price):
    assert day_price(tariff, kind, qf, outside) == price


def test_a_decision_applies_after_the_months_already_invoiced():
    assert check_decision(date(2026, 12, 1), "  Délibération n° 12  ", date(2026, 12, 1), []) == "Délibération n° 12"
    assert check_decision(date(2027, 1, 1), None, None, []) == ""
    with pytest.raises(InvalidInput, match="qu'à partir du mardi 1 décembre 2026 : les mois d'avant sont déjà"):
        check_decision(date(2026, 11, 30), "", date(2026, 12, 1), [])
    with pytest.raises(InvalidInput, match="s'applique déjà à partir du"):
        check_decision(date(2027, 1, 1), "", date(2026, 12, 1), [date(2027, 1, 1)])
    with pytest.raises(InvalidInput, match="Date d'effet illisible"):
        check_decision("2027-01-01", "", None, [])
    with pytest.raises(InvalidInput, match="trop longue"):
        check_decision(date(2027, 1, 1), "x" * 201, None, [])
    with pytest.raises(InvalidInput, match="illisible"):
        check_decision(date(2027, 1, 1), 12, None, [])


def test_below_the_minimum_an_invoice_is_held_back_never_a_credit_note():
    assert held_back(1499, 1500)
    assert not held_back(1500, 1500)
    assert not held_back(-200, 1500)  # a credit note is always issued
    assert not held_back(0, 1500)
    assert not held_back(300, 0)  # no minimum: everything issued
    assert recovery_minimum(None) == 1500  # 15 € (art. D1611-1 CGCT) unless the town says otherwise
    assert recovery_minimum("0") == 0
    assert check_recovery_minimum(2000) == 2000
    for wrong in (-1, 10_001, "15", True, 15.0):
        with pytest.raises(InvalidInput, match="Seuil de mise en recouvrement impossible"):
            check_recovery_minimum(wrong)
