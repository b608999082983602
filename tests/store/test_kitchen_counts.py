"""Known bookings give known counts: a tiny town built by hand in a fresh database."""

from datetime import date, datetime, time

import pandas as pd
import pytest

from lib.domain.actor import Actor
from lib.domain.clock import PARIS
from lib.domain.planning import BookingChange, BookingState
from lib.domain.roles import Role
from lib.services import kitchen, trends
from lib.store import attendance as attendance_store
from lib.store import bookings as bookings_store
from lib.store import kitchen as store
from lib.store import trends as trends_store
from lib.store.bulk import insert_frame
from lib.store.sql import Dialects, dialects

COOK = Actor(1, "cuisine@x.fr", Role.KITCHEN, "Cuisine")
MAYOR = Actor(2, "maire@x.fr", Role.ELECTED, "Maire")
FRIDAY, MONDAY = date(2026, 11, 27), date(2026, 11, 30)


@pytest.fixture
def town(fresh_db):
    def load(cur):
        cur.execute("INSERT INTO settings VALUES ('holiday_zone', 'C'), ('town_name', 'Testville')")
        cur.execute(
            "INSERT INTO school_years VALUES (2025, '2025/2026', DATE '2025-09-01', DATE '2026-07-03'),"
            " (2026, '2026/2027', DATE '2026-09-01', DATE '2027-07-02')"
        )
        cur.execute(
            "INSERT INTO sites (id, name, kind, capacity) VALUES (1, 'École A', 'maternelle', 50),"
            " (2, 'École B', 'elementaire', 50)"
        )
        cur.execute(
            "INSERT INTO services (id, code, name, short_name, weekdays, unit_price_cents, is_meal, sort_order)"
            " VALUES (1, 'cantine', 'Restauration scolaire', 'Cantine', '1,2,4,5', 350, TRUE, 1),"
            " (2, 'garderie', 'Garderie', 'Garderie', '1,2,4,5', 100, FALSE, 2)"
        )
        cur.execute("INSERT INTO site_services VALUES (1, 1, 50), (2, 1, 50), (1, 2, 50)")
        cur.execute(
            "INSERT INTO diets VALUES ('standard', 'Standard', 1), ('sans_porc', 'Sans porc', 2),"
            " ('pai_panier', 'PAI panier-repas', 3)"
        )
        cur.execute("INSERT INTO families (id, name, created_at) VALUES (1, 'Famille Test', now()::TIMESTAMP)")
        kids = [
            (1, "standard", None),
            (2, "standard", None),
            (3, "sans_porc", None),
            (4, "pai_panier", "PAI : allergie arachide"),
            (5, "standard", None),
        ]
        for kid, diet, notes in kids:
            cur.execute(
                "INSERT INTO children (id, family_id, first_name, last_name, birth_date, school_class, diet_code,"
                " health_notes) VALUES (?, 1, ?, 'Test', DATE '2020-01-01', 'MS', ?, ?)",
                [kid, f"Enfant{kid}", diet, notes],
            )
        rows = []
        for day in (FRIDAY, MONDAY):
            rows += [(1, 1, day, 1), (2, 1, day, 1), (3, 1, day, 1), (4, 1, day, 2), (1, 2, day, 1)]
        rows.append((5, 1, FRIDAY, 2))
        frame = pd.DataFrame(rows, columns=["child_id", "service_id", "day", "site_id"])
        frame["state"], frame["origin"], frame["created_at"], frame["updated_at"] = (
            "booked",
            "template",
            datetime(2026, 9, 1),
            datetime(2026, 9, 1),
        )
        insert_frame(cur, "bookings", frame)
        cur.execute(
            "INSERT INTO bookings VALUES (5, 1, ?, 2, 'cancelled', 'template', NULL, now()::TIMESTAMP, NULL,"
            " now()::TIMESTAMP)",
            [MONDAY],
        )
        cur.execute(
            "INSERT INTO attendance VALUES (1, 1, ?, 1, 'present', NULL, now()::TIMESTAMP),"
            " (2, 1, ?, 1, 'absent', NULL, now()::TIMESTAMP)",
            [FRIDAY, FRIDAY],
        )

    fresh_db.write(load)
    return fresh_db


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), PARIS)


def test_counts_per_site_service_and_diet(town):
    counts = {(r["site"], r["diet"]): r["meals"] for r in store.meal_counts(town, MONDAY)}
    # Monday: children 1, 2 (standard) and 3 (sans porc) at École A, 4 (PAI) at École B; 5 cancelled;
    # the after-school service (garderie) is not a meal.
    assert counts == {("École A", "Standard"): 2, ("École A", "Sans porc"): 1, ("École B", "PAI panier-repas"): 1}
    assert sum(r["meals"] for r in store.meal_counts(town, FRIDAY)) == 5


def test_friday_afternoon_prepares_monday_and_a_holiday_is_skipped(town):
    assert kitchen.default_day(town, COOK, at(FRIDAY, 7)) == FRIDAY  # before lunch: today's sheet
    assert kitchen.default_day(town, COOK, at(FRIDAY, 15)) == MONDAY  # after lunch: the next service day
    assert kitchen.default_day(town, COOK, at(date(2026, 11, 10), 15)) == date(2026, 11, 12)  # 11 Nov skipped
    assert kitchen.default_day(town, COOK, at(date(2026, 12, 18), 15)) == date(2027, 1, 4)  # Christmas skipped


def test_firm_once_every_deadline_has_passed(town):
    # Monday 30 November: cancelling closes Thursday 26 at 23:59; booking closed on Monday 23.
    provisional = kitchen.sheet(town, COOK, MONDAY, at(date(2026, 11, 26), 18))
    assert not provisional.firm and "jusqu'au jeudi 26 novembre 2026 à 23 h 59" in provisional.status_text
    firm = kitchen.sheet(town, COOK, MONDAY, at(date(2026, 11, 27), 0, 1))
    assert firm.firm and firm.status_text.startswith("✅ Chiffres définitifs")


def test_changes_since_the_last_print(town):
    sheet = kitchen.sheet(town, COOK, MONDAY, at(FRIDAY, 8))
    assert sheet.printed_at is None
    csv = kitchen.sheet_file(town, COOK, MONDAY, at(FRIDAY, 8), "csv", count_as_printed=True).decode("utf-8-sig")
    assert "École A;Restauration scolaire;Standard;2" in csv and "TOTAL;;;4" in csv
    assert "arachide" not in csv
    town.write(
        lambda cur: cur.execute("UPDATE bookings SET state = 'cancelled' WHERE child_id = 3 AND day = ?", [MONDAY])
    )
    again = kitchen.sheet(town, COOK, MONDAY, at(FRIDAY, 9))
    assert again.printed_at is not None
    assert again.changes == [("École A — Restauration scolaire — Sans porc", 1, 0)]


def test_daily_series_booked_and_present(town):
    rows = kitchen.daily_series(town, COOK, FRIDAY, MONDAY)
    friday = [r for r in rows if r["day"] == FRIDAY]
    assert sum(r["booked"] for r in friday) == 5
    assert sum(r["present"] for r in friday) == 1 and sum(r["absent"] for r in friday) == 1


def test_the_sheet_per_site_and_service_as_the_kitchen_page_shows_it(town):
    groups = kitchen.sheet(town, COOK, FRIDAY, at(FRIDAY, 8)).groups()
    # Friday: children 1, 2 (standard) and 3 (sans porc) at École A; 4 (PAI) and 5 (standard) at École B.
    assert groups == [
        kitchen.MealGroup("École A", "Restauration scolaire", [("Standard", 2), ("Sans porc", 1)]),
        kitchen.MealGroup("École B", "Restauration scolaire", [("Standard", 1), ("PAI panier-repas", 1)]),
    ]
    assert [g.meals for g in groups] == [3, 2]


def test_the_chart_table_sums_sites_and_diets_per_day(town):
    assert kitchen.meals_per_day(kitchen.daily_series(town, COOK, FRIDAY, MONDAY)) == [
        kitchen.DayMeals(FRIDAY, booked=5, present=1, absent=1),
        kitchen.DayMeals(MONDAY, booked=4, present=0, absent=0),
    ]
    assert kitchen.meals_per_day([]) == []


def test_the_mayors_meals_are_the_kitchens_meals(town):
    november = sum(
        r["meals"] for r in store.meals_per_period(town, date(2026, 11, 1), date(2026, 11, 30), "month", None, None)
    )
    kitchen_days = sum(r["meals"] for d in (FRIDAY, MONDAY) for r in store.meal_counts(town, d))
    assert november == kitchen_days == 9
    data = trends.trends(town, MAYOR, date(2026, 12, 1), grain="month")
    assert next(r for r in data.rows if r["label"] == "Novembre")["current_meals"] == kitchen_days


def test_a_day_closed_afterwards_is_not_cooked(town):
    town.write(
        lambda cur: cur.execute(
            "INSERT INTO closures (site_id, start_date, end_date, reason) VALUES (2, ?, ?, 'grève')", [MONDAY, MONDAY]
        )
    )
    counts = {(r["site"], r["diet"]): r["meals"] for r in store.meal_counts(town, MONDAY)}
    assert counts == {("École A", "Standard"): 2, ("École A", "Sans porc"): 1}


def _over(text: str, relation: Dialects) -> Dialects:
    """`text` read over `relation`, in each engine's wording."""
    return dialects(duckdb=text.format(relation=relation), postgresql=text.format(relation=relation.postgresql))


def _live(town, first, last):
    """The figures straight from the one relation of meals, `_meals()`, booking by booking."""
    daily = town.dicts(
        _over(
            """SELECT day, site, diet, count(*) AS booked, count(*) FILTER (WHERE status = 'present') AS present,
                   count(*) FILTER (WHERE status IN ('absent', 'justified')) AS absent, count(status) AS checked
            FROM ({relation}) m GROUP BY day, site, site_id, diet, diet_order
            ORDER BY day, site_id, diet_order""",
            store._meals(attendance=True),
        ),
        {"first": first, "last": last, "site": None, "service": None},
    )
    meals = town.dicts(
        _over(
            "SELECT date_trunc('month', day)::DATE AS period, count(*) AS meals "
            "FROM ({relation}) m GROUP BY 1 ORDER BY period",
            store._meals(attendance=False),
        ),
        {"first": first, "last": last, "site": None, "service": None},
    )
    attendance = town.dicts(
        """SELECT date_trunc('month', b.day)::DATE AS period, count(*) AS booked, count(a.child_id) AS checked,
                  count(*) FILTER (WHERE a.status = 'present') AS present,
                  count(*) FILTER (WHERE a.status IN ('absent', 'justified')) AS absent
           FROM bookings b LEFT JOIN attendance a USING (child_id, service_id, day)
           WHERE b.state = 'booked' AND b.day BETWEEN ? AND ? GROUP BY 1 ORDER BY period""",
        [first, last],
    )
    return daily, meals, attendance


def _counted(town, first, last):
    """The same figures as the pages read them, from the counts per day (lib/store/day_counts.py)."""
    return (
        store.daily_meals(town, first, last),
        store.meals_per_period(town, first, last, "month", None, None),
        trends_store.attendance_per_period(town, first, last, "month", None, None),
    )


def test_the_counts_per_day_agree_with_the_meals_relation_after_every_write(town):
    first, last = date(2026, 11, 1), date(2026, 12, 31)
    assert _counted(town, first, last) == _live(town, first, last)
    assert town.value("SELECT count(*) FROM day_counts_done") == 61  # every day of the period counted

    # A cancel, a new booking and a waiting list promoted, through the store's writes.
    def book(cur):
        bookings_store.upsert_bookings(
            cur,
            1,
            [BookingChange(1, FRIDAY, 1, BookingState.CANCELLED), BookingChange(1, MONDAY, 1, BookingState.CANCELLED)],
            "occasional",
            1,
            datetime(2026, 11, 20),
        )
        bookings_store.upsert_bookings(
            cur,
            5,
            [BookingChange(1, MONDAY, 1, BookingState.WAITING), BookingChange(2, FRIDAY, 1, BookingState.BOOKED)],
            "occasional",
            1,
            datetime(2026, 11, 20),
        )
        bookings_store.promote_waiting(cur, [(1, 1, MONDAY)], 1, datetime(2026, 11, 20))

    town.write(book)
    assert town.value("SELECT count(*) FROM day_counts_done WHERE day IN (?, ?)", [FRIDAY, MONDAY]) == 0
    assert _counted(town, first, last) == _live(town, first, last)
    monday = next(
        r for r in store.daily_meals(town, MONDAY, MONDAY) if r["site"] == "École A" and r["diet"] == "Standard"
    )
    assert monday["booked"] == 2  # child 1 out, child 5 promoted in

    # Attendance recorded, then corrected.
    def point(status):
        frame = pd.DataFrame(
            [
                {
                    "child_id": 5,
                    "service_id": 1,
                    "day": MONDAY,
                    "site_id": 1,
                    "status": status,
                    "recorded_by": 1,
                    "recorded_at": datetime(2026, 11, 30, 12),
                }
            ]
        )
        town.write(lambda cur: attendance_store.upsert(cur, frame))

    point("present")
    assert _counted(town, first, last) == _live(town, first, last)
    point("justified")
    assert _counted(town, first, last) == _live(town, first, last)
    assert sum(r["absent"] for r in store.daily_meals(town, MONDAY, MONDAY)) == 1

    # A closure is read with the counts, not counted into them: nothing to strike off.
    town.write(
        lambda cur: cur.execute(
            "INSERT INTO closures (site_id, start_date, end_date, reason) VALUES (1, ?, ?, 'grève')", [FRIDAY, FRIDAY]
        )
    )
    assert _counted(town, first, last) == _live(town, first, last)
    assert not [r for r in store.daily_meals(town, FRIDAY, FRIDAY) if r["site"] == "École A"]
