"""SQL fragments that more than one query needs: one wording per rule."""

from enum import StrEnum

from lib.domain.families import BillingMode
from lib.domain.invoicing import PaymentRight
from lib.domain.planning import ACTIVE, BookingState

# A booking `b` whose day the town closed afterwards (for every site, or for its site) is neither
# cooked nor billed.
OPEN_DAY = """NOT EXISTS (SELECT 1 FROM closures k WHERE b.day BETWEEN k.start_date AND k.end_date
                          AND (k.site_id IS NULL OR k.site_id = b.site_id))"""

# Booking states and payment rights as SQL literals, written from the domain's enums (the schema's
# CHECK constraints list the same values: tests/store/test_states.py). Constants, not parameters:
# the queries stay the statements the benchmarks timed, and no value of a person ever goes here.


def quoted(*values: StrEnum) -> str:
    """`'booked', 'waiting'`: enum values as SQL string literals."""
    return ", ".join(f"'{value.value}'" for value in values)


BOOKED = quoted(BookingState.BOOKED)
WAITING = quoted(BookingState.WAITING)
ACTIVE_STATES = f"({quoted(*ACTIVE)})"  # booked or waiting: holds (or waits for) a place
RIGHT_NONE = quoted(PaymentRight.NONE)
RIGHT_REQUESTED = quoted(PaymentRight.REQUESTED)

# The e-mail address of a family `f`: its billed guardian's (responsable 2 when the family's bill
# goes to guardian 2, else responsable 1; a split bill's first share is guardian 1's), then the
# family's own legacy address (kept on families made before 009 without one).
FAMILY_EMAIL = f"""coalesce((SELECT g.email FROM guardians g WHERE g.family_id = f.id AND g.archived_at IS NULL
                         AND g.rank = CASE WHEN f.billing = {quoted(BillingMode.GUARDIAN2)} THEN 2 ELSE 1 END),
                        f.email)"""

# A child `c` still in the town's files (an archived child is neither booked nor found).
CHILD_KEPT = "c.archived_at IS NULL"
