import hashlib
from datetime import date

from lib.store.db import close_database, open_database
from lib.store.reference import school_calendar
from lib.tools.demo import build_demo
from tests import engines
from tests.conftest import DEMO_TODAY


def test_demo_town_has_the_seed_shape(demo_db):
    assert 250 <= demo_db.value("SELECT count(*) FROM families") <= 290
    assert 380 <= demo_db.value("SELECT count(*) FROM children") <= 430
    assert [r[0] for r in demo_db.rows("SELECT name FROM sites ORDER BY id")] == [
        "ALAE Jean Moulin (école maternelle)",
        "ALAE Claude Nougaro (école élémentaire)",
        "ALAE anim'action",
    ]
    assert [r[0] for r in demo_db.rows("SELECT name FROM services ORDER BY sort_order")] == [
        "Restauration scolaire",
        "Mercredi repas",
        "Mercredi après-midi",
    ]
    assert {r[0] for r in demo_db.rows("SELECT DISTINCT diet_code FROM children")} == {
        "standard",
        "sans_porc",
        "vegetarien",
        "pai_panier",
    }
    assert [r[0] for r in demo_db.rows("SELECT label FROM school_years ORDER BY id")] == ["2025/2026", "2026/2027"]


def test_demo_family_matches_the_readme(demo_db):
    kids = demo_db.rows("""SELECT c.first_name, c.school_class, list(DISTINCT s.kind ORDER BY s.kind)
                           FROM children c JOIN registrations r ON r.child_id = c.id AND r.school_year_id = 2026
                           JOIN sites s ON s.id = r.site_id WHERE c.family_id = 1
                           GROUP BY c.first_name, c.school_class ORDER BY 1""")
    assert kids == [("Hugo", "CE2", ["elementaire", "mercredi"]), ("Léa", "MS", ["maternelle"])]
    assert demo_db.value("SELECT payment_right FROM families WHERE id = 1") == "granted"
    assert demo_db.value("SELECT count(*) FROM families WHERE payment_right = 'granted'") == 1
    paid = demo_db.rows("""SELECT i.number, coalesce(sum(p.amount_cents), 0) = i.total_cents FROM invoices i
                           LEFT JOIN payments p ON p.invoice_id = i.id WHERE i.family_id = 1
                           GROUP BY i.number, i.total_cents ORDER BY 1""")
    assert [p[1] for p in paid] == [True, False]
    assert (
        demo_db.value(
            "SELECT count(*) FROM bookings b JOIN children c ON c.id = b.child_id "
            "WHERE c.family_id = 1 AND b.day > ? AND b.state = 'booked'",
            [DEMO_TODAY],
        )
        > 100
    )


def test_no_booking_on_a_closed_day_nor_over_capacity(demo_db):
    calendar = school_calendar(demo_db)
    days = demo_db.rows("SELECT DISTINCT day, site_id, service_id FROM bookings WHERE state <> 'cancelled'")
    assert days and all(calendar.is_school_day(day, site, service) for day, site, service in days)
    over = demo_db.rows("""SELECT b.site_id, b.service_id, b.day, count(*) AS n, max(ss.capacity) AS cap
                           FROM bookings b JOIN site_services ss USING (site_id, service_id)
                           WHERE b.state = 'booked' GROUP BY b.site_id, b.service_id, b.day
                           HAVING count(*) > max(ss.capacity)""")
    assert over == []
    assert (
        demo_db.value(
            "SELECT count(*) FROM bookings b JOIN services s ON s.id = b.service_id "
            "WHERE ',' || s.weekdays || ',' NOT LIKE '%,' || extract(isodow FROM b.day) || ',%'"
        )
        == 0
    )


def test_the_demo_declares_its_closures_through_the_service(demo_db):
    """The training days and the coming strike are the administrator's declarations, with their
    audit entries; the strike cancelled the maternelle's canteen that day, and only it."""
    assert demo_db.rows(
        "SELECT site_id, service_id, start_date, kind, created_by FROM closures WHERE withdrawn_at IS NULL ORDER BY id"
    ) == [
        (3, None, date(2025, 12, 3), "fermeture", 4),
        (3, None, date(2026, 12, 2), "fermeture", 4),
        (1, 1, date(2027, 1, 21), "greve", 4),
    ]
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'closure.declare'") == 3
    states = dict(
        demo_db.rows(
            "SELECT site_id, list(DISTINCT state ORDER BY state) FROM bookings WHERE day = '2027-01-21'"
            " GROUP BY site_id"
        )
    )
    assert states == {1: ["cancelled"], 2: ["booked", "cancelled"]}
    by_the_strike = demo_db.value("SELECT count(*) FROM bookings WHERE day = '2027-01-21' AND updated_by = 4")
    assert by_the_strike > 50
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'closure.cancelled'") == by_the_strike


def test_every_reference_points_at_something(demo_db):
    orphans = {
        "bookings.child": "SELECT count(*) FROM bookings b WHERE NOT EXISTS (SELECT 1 FROM children c WHERE c.id = b.child_id)",
        "bookings.registration": """SELECT count(*) FROM bookings b JOIN school_years y ON b.day BETWEEN y.start_date AND y.end_date
                                    WHERE NOT EXISTS (
                                        SELECT 1 FROM registrations r JOIN registration_services rs ON rs.registration_id = r.id
                                        WHERE r.child_id = b.child_id AND r.site_id = b.site_id
                                          AND rs.service_id = b.service_id AND r.school_year_id = y.id)""",
        "attendance.booking": """SELECT count(*) FROM attendance a WHERE NOT EXISTS (
                                     SELECT 1 FROM bookings b WHERE b.child_id = a.child_id
                                     AND b.service_id = a.service_id AND b.day = a.day)""",
        "children.family": "SELECT count(*) FROM children c WHERE NOT EXISTS (SELECT 1 FROM families f WHERE f.id = c.family_id)",
        "users.family": "SELECT count(*) FROM users u WHERE u.family_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM families f WHERE f.id = u.family_id)",
        "invoice_lines.invoice": "SELECT count(*) FROM invoice_lines l WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = l.invoice_id)",
        "payments.invoice": "SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = p.invoice_id)",
    }
    assert {name: demo_db.value(sql) for name, sql in orphans.items()} == dict.fromkeys(orphans, 0)


def test_history_and_invoices(demo_db):
    previous = demo_db.value("SELECT count(*) FROM attendance WHERE day < DATE '2026-07-04'")
    assert previous > 10_000
    assert demo_db.value("SELECT max(day) FROM attendance") < DEMO_TODAY
    numbers = [r[0] for r in demo_db.rows("SELECT seq FROM invoices WHERE year = 2026 ORDER BY seq")]
    assert numbers == list(range(1, len(numbers) + 1))  # gapless
    assert (
        demo_db.value(
            "SELECT count(*) FROM invoices i WHERE total_cents <> "
            "(SELECT sum(amount_cents) FROM invoice_lines l WHERE l.invoice_id = i.id)"
        )
        == 0
    )


def _fingerprint(path):
    db = open_database(path)
    try:
        rows = db.rows("SELECT child_id, service_id, day, state FROM bookings ORDER BY child_id, service_id, day")
        rows += db.rows("SELECT id, first_name, family_id, diet_code FROM children ORDER BY id")
        return hashlib.sha256(repr(rows).encode()).hexdigest()
    finally:
        close_database(path)


def test_the_demo_is_deterministic_for_a_date_and_follows_the_date(tmp_path, demo_template):
    # built again in a DuckDB file: on a PostgreSQL session, the server's demo is the file's, row for row
    again = tmp_path / "again.duckdb"
    build_demo(again, DEMO_TODAY)
    assert _fingerprint(again) == _fingerprint(demo_template)
    later = tmp_path / "later.duckdb"
    build_demo(later, date(2027, 10, 5))
    db = open_database(later)
    assert [r[0] for r in db.rows("SELECT label FROM school_years ORDER BY id")] == ["2026/2027", "2027/2028"]
    close_database(later)


def test_rebuilding_replaces_the_file(tmp_path, demo_template):
    # the demo of DEMO_TODAY, built once for the session: a file's copy, or a database's on the server
    path = engines.copy(demo_template, tmp_path / "rebuild.duckdb")
    db = open_database(path)
    db.write(lambda cur: cur.execute("DELETE FROM bookings"))
    close_database(path)
    build_demo(path, DEMO_TODAY)
    db = open_database(path)
    assert db.value("SELECT count(*) FROM bookings") > 50_000
    close_database(path)
    engines.drop(path)


def test_on_postgresql_a_half_built_demo_is_built_again_and_a_town_is_kept(demo_path, pg_server):
    """A demo is built in place on a server: one whose build stopped before its last step (still
    marked as being built) is not taken for a town by `--if-missing`; a database holding accounts
    without that mark (a town's own) is never rebuilt."""
    from lib.store import deployment
    from lib.tools.demo import BUILDING, demo_exists

    assert demo_exists(demo_path)
    db = open_database(demo_path)
    db.write(lambda cur: deployment.put_setting(cur, BUILDING, "2026-11-27"))
    close_database(demo_path)
    assert not demo_exists(demo_path)
    db = open_database(demo_path)
    db.write(lambda cur: deployment.drop_setting(cur, BUILDING))
    close_database(demo_path)
    assert demo_exists(demo_path)
