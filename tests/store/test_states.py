"""The domain's enums (booking states, payment rights, e-mail kinds and states…) are the values the
migrated schema's CHECK constraints allow, and no store query spells a booking state or a right."""

import re
from pathlib import Path

import pytest

from lib.domain.account_links import LinkPurpose
from lib.domain.calendar import ClosureKind
from lib.domain.changes import ChangeKind, ChangeState
from lib.domain.families import BillingMode, ConsentKind, QfSource
from lib.domain.invoicing import PaymentMethod, PaymentRight
from lib.domain.letters import MailKind, MailState
from lib.domain.planning import BookingState
from lib.domain.sepa import SequenceType
from lib.domain.structures import SiteKind

STORE = Path(__file__).resolve().parents[2] / "lib" / "store"


def checks(db, table: str) -> list[tuple[list[str], str]]:
    """The CHECK constraints of `table` in the migrated database, as each engine's catalog shows
    them: (the columns each one reads, its text)."""
    if db.engine == "postgresql":
        return db.rows(
            """SELECT array(SELECT a.attname::text FROM pg_attribute a
                            WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) ORDER BY a.attnum),
                      pg_get_constraintdef(c.oid)
               FROM pg_constraint c WHERE c.contype = 'c' AND c.conrelid = ?::regclass""",
            [table],
        )
    return db.rows(
        "SELECT constraint_column_names, expression FROM duckdb_constraints()"
        " WHERE constraint_type = 'CHECK' AND table_name = ?",
        [table],
    )


# `column IN ('a', 'b')` as DuckDB shows it (a keyword column comes quoted: "source"), or
# `((column)::text = ANY ((ARRAY['a'::character varying, …])::text[]))` as PostgreSQL does.
_VALUE_LIST = r"\(*\"?{column}\"?\)?(::text)? (IN \(|= ANY \(+ARRAY\[)"


def check_values(db, table: str, column: str) -> set[str]:
    """The values the CHECK constraint of the migrated database allows for `table.column`."""
    expressions = [
        text
        for columns, text in checks(db, table)
        if list(columns) == [column] and re.search(_VALUE_LIST.format(column=column), text)
    ]
    assert len(expressions) == 1, f"{table}.{column} has no CHECK (or several)"
    return set(re.findall(r"'([^']*)'", expressions[0]))


# Kinds of proposed change the schema already allows for a slice still to come: 'pai' is the child
# health slice's (it adds its ChangeKind member without copying the table).
RESERVED_CHANGE_KINDS = {"pai"}


@pytest.mark.parametrize(
    "table, column, enum",
    [
        ("bookings", "state", BookingState),
        ("families", "payment_right", PaymentRight),
        ("outbox", "kind", MailKind),
        ("outbox", "state", MailState),
        ("sites", "kind", SiteKind),
        ("link_tokens", "purpose", LinkPurpose),
        ("families", "billing", BillingMode),
        ("family_quotients", "source", QfSource),
        ("consents", "kind", ConsentKind),
        ("pending_changes", "state", ChangeState),
        ("payments", "method", PaymentMethod),
        ("sepa_debits", "sequence_type", SequenceType),
    ],
)
def test_the_schema_allows_exactly_the_values_of_the_enum(fresh_db, table, column, enum):
    assert check_values(fresh_db, table, column) == {member.value for member in enum}


def test_the_schema_allows_the_change_kinds_and_the_reserved_ones(fresh_db):
    assert check_values(fresh_db, "pending_changes", "kind") == {k.value for k in ChangeKind} | RESERVED_CHANGE_KINDS
    assert not RESERVED_CHANGE_KINDS & {k.value for k in ChangeKind}


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
    [check] = [text for columns, text in checks(fresh_db, "closures") if "kind" in columns]
    assert set(re.findall(r"'([^']*)'", check)) == {kind.value for kind in ClosureKind}
