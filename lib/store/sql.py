"""SQL fragments that more than one query needs: one wording per rule."""

from __future__ import annotations

from enum import StrEnum

from lib.domain.families import BillingMode
from lib.domain.invoicing import LineKind, PaymentRight
from lib.domain.planning import ACTIVE, BookingState


class Dialects(str):
    """A query worded differently for each engine, in one place: the string is DuckDB's text (what
    a DuckDB cursor runs, untouched), `.postgresql` the same question in PostgreSQL's words
    (`lib.store.postgres` sends that one). Write it with `dialects(duckdb=…, postgresql=…)`."""

    postgresql: str

    def __new__(cls, duckdb: str, postgresql: str) -> Dialects:
        made = super().__new__(cls, duckdb)
        made.postgresql = postgresql
        return made

    def format(self, *args: object, **kwargs: object) -> Dialects:
        return Dialects(str(self).format(*args, **kwargs), self.postgresql.format(*args, **kwargs))


def dialects(*, duckdb: str, postgresql: str) -> Dialects:
    """One query, each engine's wording side by side (see `Dialects`)."""
    return Dialects(duckdb, postgresql)


# A booking `b` whose day the town closed afterwards (for every site or its site, for every service
# or its service) is neither cooked nor billed; a withdrawn closure closes nothing.
OPEN_DAY = """NOT EXISTS (SELECT 1 FROM closures k WHERE b.day BETWEEN k.start_date AND k.end_date
                          AND (k.site_id IS NULL OR k.site_id = b.site_id)
                          AND (k.service_id IS NULL OR k.service_id = b.service_id)
                          AND k.withdrawn_at IS NULL)"""

# Booking states and payment rights as SQL literals, written from the domain's enums (the schema's
# CHECK constraints list the same values: tests/store/test_states.py). Constants, not parameters:
# the queries stay the statements the benchmarks timed, and no value of a person ever goes here.


def quoted(*values: StrEnum) -> str:
    """`'booked', 'waiting'`: enum values as SQL string literals."""
    return ", ".join(f"'{value.value}'" for value in values)


BOOKED = quoted(BookingState.BOOKED)
WAITING = quoted(BookingState.WAITING)
CANCELLED = quoted(BookingState.CANCELLED)
ACTIVE_STATES = f"({quoted(*ACTIVE)})"  # booked or waiting: holds (or waits for) a place
RIGHT_NONE = quoted(PaymentRight.NONE)
RIGHT_REQUESTED = quoted(PaymentRight.REQUESTED)
GUARDIAN2 = quoted(BillingMode.GUARDIAN2)
SPLIT = quoted(BillingMode.SPLIT)

# The e-mail address of a family `f`: its billed guardian's (responsable 2 when the family's bill
# goes to guardian 2, else responsable 1; a split bill's first share is guardian 1's), then the
# family's own legacy address (kept on families made before 009 without one).
FAMILY_EMAIL = f"""coalesce((SELECT g.email FROM guardians g WHERE g.family_id = f.id AND g.archived_at IS NULL
                         AND g.rank = CASE WHEN f.billing = {quoted(BillingMode.GUARDIAN2)} THEN 2 ELSE 1 END),
                        f.email)"""

# A child `c` still in the town's files (an archived child is neither booked nor found).
CHILD_KEPT = "c.archived_at IS NULL"

# What an invoice line bills (lib.domain.invoicing.LineKind), and the order of a child's lines for a service.
MEAL_LINE = quoted(LineKind.MEAL)
UNBOOKED_LINE = quoted(LineKind.UNBOOKED)
BASKET_LINE = quoted(LineKind.BASKET)
LINE_KIND_RANK = (
    "CASE {kind} " + " ".join(f"WHEN {quoted(kind)} THEN {rank}" for rank, kind in enumerate(LineKind)) + " END"
)
# A line's words before the service's name: « Repas non réservé — » (nothing for a booked day).
LINE_KIND_WORDS = (
    "CASE {kind} "
    + " ".join(f"WHEN {quoted(kind)} THEN '{kind.label} — '" for kind in LineKind if kind.label)
    + " ELSE '' END"
)
