"""A service's deadline rules in the store: written and read as the domain's objects, with the
schema's defaults as the seed's rules."""

from dataclasses import fields
from datetime import time

from lib.domain.deadlines import DeadlineRule, ServiceDeadlines
from lib.store import settings as store
from lib.store.kitchen import meal_rules


def _service(db) -> None:
    """One meal service given by one site, every deadline column left to its default."""

    def work(cur):
        cur.execute("INSERT INTO sites (id, name, kind, capacity) VALUES (1, 'École', 'elementaire', 100)")
        cur.execute(
            "INSERT INTO services (id, code, name, short_name, weekdays, unit_price_cents, is_meal)"
            " VALUES (1, 'cantine', 'Restauration scolaire', 'Cantine', '1,2,4,5', 350, TRUE)"
        )
        cur.execute("INSERT INTO site_services VALUES (1, 1, 100)")

    db.write(work)


def test_a_new_service_gets_the_seed_rules_from_the_schema(fresh_db):
    _service(fresh_db)
    (service,) = store.services_with_capacities(fresh_db)
    assert service.deadlines == ServiceDeadlines(
        book=DeadlineRule(7, False, time(23, 59)), cancel=DeadlineRule(2, True, time(23, 59))
    )


def test_rules_written_are_read_back_equal(fresh_db):
    _service(fresh_db)
    written = ServiceDeadlines(book=DeadlineRule(0, True, time(8, 0)), cancel=DeadlineRule(60, False, time(18, 30)))
    fresh_db.write(lambda cur: store.update_service(cur, 1, unit_price_cents=420, deadlines=written))
    (service,) = store.services_with_capacities(fresh_db)
    assert (service.unit_price_cents, service.deadlines) == (420, written)
    assert [s["deadlines"] for s in meal_rules(fresh_db)] == [written]  # the kitchen reads the same rules
    assert not set(store.DEADLINE_COLUMNS) & {
        f.name for f in fields(service)
    }  # no flat copy of the rules beside the object
