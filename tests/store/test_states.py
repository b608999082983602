"""Booking states and payment rights are the domain's enums in the schema and in every query."""

import re
from pathlib import Path

import pytest

from lib.domain.changes import ChangeKind, ChangeState
from lib.domain.families import BillingMode, ConsentKind, QfSource
from lib.domain.invoicing import PaymentRight
from lib.domain.planning import BookingState

STORE = Path(__file__).resolve().parents[2] / "lib" / "store"


def check_values(table: str, column: str) -> set[str]:
    """The values the schema's CHECK constraint allows for `table.column`, in the table's latest
    definition: schema.sql, or the last migration that created it (or a copy of it, `table_NNN`)."""
    body = None
    for path in [STORE / "schema.sql", *sorted((STORE / "migrations").glob("*.sql"))]:
        found = re.search(rf"CREATE TABLE {table}(_\d+)? \((.*?)\n\);", path.read_text(), re.S)
        body = found.group(2) if found else body
    assert body is not None, table
    found = re.search(rf"\b{column}\b[^,]*?CHECK \({column} IN \(([^)]*)\)\)", body, re.S)
    assert found is not None, f"{table}.{column} has no CHECK"
    return set(re.findall(r"'([^']*)'", found.group(1)))


# Kinds of proposed change the schema already allows for a slice still to come: 'pai' is the child
# health slice's (it adds its ChangeKind member without copying the table).
RESERVED_CHANGE_KINDS = {"pai"}


@pytest.mark.parametrize(
    "table, column, enum",
    [
        ("bookings", "state", BookingState),
        ("families", "payment_right", PaymentRight),
        ("families", "billing", BillingMode),
        ("family_quotients", "source", QfSource),
        ("consents", "kind", ConsentKind),
        ("pending_changes", "state", ChangeState),
    ],
)
def test_the_schema_allows_exactly_the_values_of_the_enum(table, column, enum):
    assert check_values(table, column) == {member.value for member in enum}


def test_the_schema_allows_the_change_kinds_and_the_reserved_ones():
    assert check_values("pending_changes", "kind") == {k.value for k in ChangeKind} | RESERVED_CHANGE_KINDS
    assert not RESERVED_CHANGE_KINDS & {k.value for k in ChangeKind}


def test_no_query_spells_a_booking_state_or_a_payment_right():
    """The store's queries write them from the enums (lib/store/sql.py), never as literals."""
    words = "|".join(sorted({s.value for s in BookingState} | {r.value for r in PaymentRight}))
    literal = re.compile(rf"(state|payment_right)\s*(=|<>|!=|IN)\s*\(?\s*'({words})'", re.I)
    found = [
        f"{path.name}: {m.group(0)}" for path in sorted(STORE.glob("*.py")) for m in literal.finditer(path.read_text())
    ]
    assert found == []
