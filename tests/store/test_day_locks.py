"""Two replicas booking the last places of a day (PostgreSQL only): the race is settled by the
database, not by a lock of the process. Each replica is a `PostgresDatabase` of its own (its own
pool of connections, as two Streamlit processes behind HAProxy); `bookings.lock_days` takes the row
locks of the day's `booking_day_locks` rows in the transaction, so the second writer waits for the
first, fails to serialize and runs again seeing its booking."""

import threading
from datetime import date

import pytest

from lib.services import reservations as r
from lib.store.postgres import PostgresDatabase
from tests.conftest import DEMO_NOW
from tests.helpers import fill, newcomers

# Open canteen days of the small town (no Wednesday, no closure), none booked by the newcomers.
DAYS = [date(2026, 12, d) for d in (7, 8, 10, 11, 14, 15, 17, 18)]
RACERS = 6


@pytest.fixture
def replicas(pg_server, town):
    """Two databases on the town's PostgreSQL database: two processes' pools."""
    pair = [PostgresDatabase(town.db.url), PostgresDatabase(town.db.url)]
    yield pair
    for db in pair:
        db.close()


def test_two_replicas_booking_the_last_places_give_exactly_the_capacity(town, replicas):
    children = newcomers(town, RACERS)
    agent = town.login(town.agent)
    contexts = [r.booking_context(town.db, agent, c, town.school_year) for c in children]
    for n, day in enumerate(DAYS):
        free = 1 + n % 2  # the last place, or the last two
        capacity = fill(town.db, town.school, town.canteen, day, free)
        barrier = threading.Barrier(len(contexts))
        errors: list[BaseException] = []

        def book(replica, ctx, day=day, barrier=barrier, errors=errors):
            barrier.wait()
            try:
                r.set_day(replica, agent, ctx, town.canteen, day, True, DEMO_NOW)
            except BaseException as exc:
                errors.append(exc)

        # The children alternate between the two replicas.
        threads = [threading.Thread(target=book, args=(replicas[i % 2], ctx)) for i, ctx in enumerate(contexts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        states = sorted(
            s
            for (s,) in town.db.rows(
                "SELECT state FROM bookings WHERE day = ? AND service_id = ? AND list_contains(?, child_id)",
                [day, town.canteen, children],
            )
        )
        assert states == ["booked"] * free + ["waiting"] * (RACERS - free), day
        booked = town.db.value(
            "SELECT count(*) FROM bookings WHERE site_id = ? AND service_id = ? AND day = ? AND state = 'booked'",
            [town.school, town.canteen, day],
        )
        assert booked == capacity, day
        # Every writer of the day went through its lock row.
        assert (
            town.db.value(
                "SELECT version FROM booking_day_locks WHERE site_id = ? AND service_id = ? AND day = ?",
                [town.school, town.canteen, day],
            )
            >= RACERS
        )


def test_lock_days_holds_the_day_rows_until_the_transaction_ends(town, replicas):
    """While one replica's transaction has locked a day, another replica cannot lock that day (it
    would wait; here it gives up after 50 ms), but it can lock another day."""
    from psycopg import errors as pg_errors

    from lib.store import bookings
    from lib.store.postgres import PgCursor

    first, second = replicas
    locked = (town.school, town.canteen, DAYS[0])
    other = (town.school, town.canteen, DAYS[1])
    holding, release = threading.Event(), threading.Event()

    def hold(cur):
        bookings.lock_days(cur, [locked])
        holding.set()
        assert release.wait(60)

    holder = threading.Thread(target=lambda: first.write(hold))
    holder.start()
    try:
        assert holding.wait(60)
        with second.connection() as conn:
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '50ms'")
                bookings.lock_days(PgCursor(conn), [other])  # another day: free
            with pytest.raises(pg_errors.LockNotAvailable):
                with conn.transaction():
                    conn.execute("SET LOCAL lock_timeout = '50ms'")
                    bookings.lock_days(PgCursor(conn), [other, locked])
    finally:
        release.set()
        holder.join()
    # Once the holder committed, the day is free again.
    second.write(lambda cur: bookings.lock_days(cur, [locked]))
