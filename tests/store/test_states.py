"""Booking states and payment rights are the domain's enums in the schema and in every query."""

import re
from pathlib import Path

import pytest

from lib.domain.calendar import ClosureKind
from lib.domain.invoicing import PaymentRight
from lib.domain.planning import BookingState

STORE = Path(__file__).resolve().parents[2] / "lib" / "store"


def check_values(table: str, column: str) -> set[str]:
    """The values the schema's CHECK constraint allows for `table.column`."""
    schema = (STORE / "schema.sql").read_text()
    body = re.search(rf"CREATE TABLE {table} \((.*?)\n\);", schema, re.S)
    assert body is not None, table
    found = re.search(rf"\b{column}\b[^,]*?CHECK \({column} IN \(([^)]*)\)\)", body.group(1), re.S)
    assert found is not None, f"{table}.{column} has no CHECK"
    return set(re.findall(r"'([^']*)'", found.group(1)))


@pytest.mark.parametrize(
    "table, column, enum", [("bookings", "state", BookingState), ("families", "payment_right", PaymentRight)]
)
def test_the_schema_allows_exactly_the_values_of_the_enum(table, column, enum):
    assert check_values(table, column) == {member.value for member in enum}


def test_no_query_spells_a_booking_state_or_a_payment_right():
    """The store's queries write them from the enums (lib/store/sql.py), never as literals."""
    words = "|".join(sorted({s.value for s in BookingState} | {r.value for r in PaymentRight}))
    literal = re.compile(rf"(state|payment_right)\s*(=|<>|!=|IN)\s*\(?\s*'({words})'", re.I)
    found = [
        f"{path.name}: {m.group(0)}" for path in sorted(STORE.glob("*.py")) for m in literal.finditer(path.read_text())
    ]
    assert found == []


def test_the_closure_kinds_are_exactly_those_the_migrated_schema_allows(fresh_db):
    """`closures.kind` has its CHECK in migration 008 (a copied table), read from the database."""
    [check] = [
        text
        for (text,) in fresh_db.rows(
            "SELECT constraint_text FROM duckdb_constraints() WHERE table_name = 'closures' "
            "AND constraint_type = 'CHECK' AND list_contains(constraint_column_names, 'kind')"
        )
    ]
    assert set(re.findall(r"'([^']*)'", check)) == {kind.value for kind in ClosureKind}
