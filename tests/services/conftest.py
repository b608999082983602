"""Fixtures the payment tests share, on the small town (tests/helpers.build_town)."""

import pytest

from tests.helpers import TownInvoice, town_invoice


@pytest.fixture
def october(town) -> TownInvoice:
    """Family A's unpaid October invoice (family A may pay online)."""
    return town_invoice(town, town.family_a, 10)


@pytest.fixture
def unpaid(october) -> int:
    return october.id


@pytest.fixture
def db(town):
    return town.db
