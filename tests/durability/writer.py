"""A stream of acknowledged bookings, for the durability drill (tests/durability/test_kill.py).

Opens the database with the portal's own code (`lib.services.config.database`), logs in as the
demo family and books or cancels one canteen day at a time through the reservation service,
alternating days booked and cancelled, then the other way round, forever. After each change has COMMITTED it prints
`ACK <child> <service> <day> <state>` and flushes: a printed line is an acknowledged action, as a
page showing « Réservations enregistrées » would be. The drill SIGKILLs this process mid-stream.
On PostgreSQL the drill kills the database server instead: a change refused because the server is
gone (DatabaseUnavailable) prints `DOWN` and is tried again, as a family clicks again, until the
server is back.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from lib.domain.errors import DatabaseUnavailable
from lib.services import auth, reservations
from lib.services.config import clock_now, database

CHILD, CANTEEN = 1, 1


def main() -> int:
    db = database()
    now = clock_now()
    actor = auth.login(db, "parent@demo.fr", "demo", now)[1]
    year = now.year if now.month >= 8 else now.year - 1
    ctx = reservations.booking_context(db, actor, CHILD, year)
    # Days still open for both booking (7 days ahead) and cancelling: every flip is accepted.
    # (at the canteen's own site: the demo has a canteen strike in January)
    canteen = ctx.service(CANTEEN)
    days = list(
        ctx.calendar.service_days(
            canteen.weekdays, now.date() + timedelta(days=10), ctx.year.end_date, canteen.site_id, CANTEEN
        )
    )
    print(f"READY {len(days)}", flush=True)
    rounds = 0
    while True:  # even days booked, odd ones cancelled, then the other way round
        for index, day in enumerate(days):
            booked = (index + rounds) % 2 == 0
            while True:
                try:
                    result = reservations.set_day(db, actor, ctx, CANTEEN, day, booked, now)
                    break
                except DatabaseUnavailable:
                    print("DOWN", flush=True)
                    time.sleep(0.2)
            for state, keys in (
                ("booked", result.booked),
                ("waiting", result.waiting),
                ("cancelled", result.cancelled),
            ):
                for service_id, done in keys:
                    print(f"ACK {CHILD} {service_id} {done.isoformat()} {state}", flush=True)
        rounds += 1


if __name__ == "__main__":
    sys.exit(main())
