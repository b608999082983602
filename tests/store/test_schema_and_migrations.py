from datetime import time
from pathlib import Path

import pytest

from lib.domain.deadlines import DeadlineRule, ServiceDeadlines
from lib.store.db import DATABASE_ERRORS, INTEGRITY_ERRORS, Database, close_database, connect, open_database
from lib.store.kitchen import meal_rules
from lib.store.migrate import available, current_version, migrate

TABLES = {
    "settings",
    "school_years",
    "sites",
    "services",
    "site_services",
    "tariffs",
    "diets",
    "families",
    "users",
    "sessions",
    "login_throttle",
    "children",
    "registrations",
    "registration_services",
    "bookings",
    "attendance",
    "closures",
    "invoices",
    "invoice_lines",
    "payment_transactions",
    "payments",
    "audit_log",
    "schema_version",
    "day_counts",
    "day_counts_done",
    "login_known_addresses",
    "outbox",
    "mail_preferences",
    "calendar_feeds",
    "guardians",
    "family_quotients",
    "contacts",
    "consents",
    "billing_shares",
    "pending_changes",
    "link_tokens",
}


def test_fresh_database_has_every_table_and_every_migration(fresh_db):
    names = {r[0] for r in fresh_db.rows("SELECT table_name FROM information_schema.tables")}
    assert names >= TABLES
    applied = fresh_db.rows("SELECT version, name FROM schema_version ORDER BY version")
    # A migration of the other engine only (NNN_name.<engine>.sql) is recorded with nothing run.
    assert applied == [
        (version, file.name if file else f"{version:03d} (other engine only)")
        for version, file in available(engine=fresh_db.engine)
    ]
    # Numbers run without a gap from the schema (version 1): a migration is never renumbered once landed.
    assert [version for version, _ in applied] == list(range(1, len(applied) + 1))


def test_migrations_run_twice_change_nothing(fresh_db):
    before = fresh_db.rows("SELECT * FROM schema_version")
    assert migrate(fresh_db) == []
    assert fresh_db.rows("SELECT * FROM schema_version") == before


def test_reopening_an_existing_file_keeps_its_data(db_target):
    path = db_target
    db = open_database(path)
    db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('town_name', 'Testville')"))
    close_database(path)
    db = open_database(path)
    assert db.value("SELECT value FROM settings WHERE key = 'town_name'") == "Testville"
    assert current_version(db) == available()[-1][0]
    close_database(path)


@pytest.fixture
def schema_only_db(db_target, tmp_path: Path):
    """A database at version 1 (schema.sql only), for migrations written by the test itself."""
    db = connect(db_target)
    empty = tmp_path / "no-migrations"
    empty.mkdir()
    migrate(db, empty)
    yield db
    db.close()


def test_numbered_migrations_apply_in_order_once(schema_only_db, tmp_path: Path):
    fresh_db = schema_only_db
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "003_second.sql").write_text("ALTER TABLE families ADD COLUMN nickname VARCHAR;")
    (folder / "002_first.sql").write_text("CREATE TABLE extra (id INTEGER);")
    (folder / "notes.txt").write_text("ignored")
    assert [v for v, _ in available(folder)] == [1, 2, 3]
    assert migrate(fresh_db, folder) == [2, 3]
    assert migrate(fresh_db, folder) == []
    assert current_version(fresh_db) == 3
    fresh_db.value("SELECT nickname FROM families")  # the column exists


def test_a_failing_migration_leaves_the_previous_version(schema_only_db, tmp_path: Path):
    fresh_db = schema_only_db
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "002_good.sql").write_text("CREATE TABLE good (id INTEGER);")
    (folder / "003_bad.sql").write_text("CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table;")
    with pytest.raises(DATABASE_ERRORS):
        migrate(fresh_db, folder)
    assert current_version(fresh_db) == 2
    tables = {r[0] for r in fresh_db.rows("SELECT table_name FROM information_schema.tables")}
    assert "good" in tables and "half" not in tables


def migrate_before(db: Database, tmp_path: Path, number: str) -> None:
    """Bring `db` to the version just before migration `number` ("004"), as a town left it then."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    for _version, file in available(engine=db.engine)[1:]:
        if file is not None and file.name < number:
            (folder / file.name).write_text(file.read_text(encoding="utf-8"))
    migrate(db, folder)


def test_attempts_made_before_004_get_their_invoice_number(schema_only_db, tmp_path: Path):
    """An attempt recorded before the order reference was kept on it takes its invoice's number,
    so a late answer for it is still checked against the right invoice."""
    db = schema_only_db
    migrate_before(db, tmp_path, "004")

    def before(cur):
        cur.execute("""INSERT INTO invoices (id, number, year, seq, family_id, period_month, issue_date, due_date,
                       total_cents, created_at) VALUES (7, 'F-2026-000007', 2026, 7, 1, '2026-10-01', '2026-11-03',
                       '2026-11-30', 4250, '2026-11-03 08:00')""")
        for tx_id, invoice_id in ((1, 7), (2, 99)):
            cur.execute(
                """INSERT INTO payment_transactions (id, invoice_id, family_id, provider, transaction_ref,
                           amount_cents, state, created_at, updated_at)
                           VALUES (?, ?, 1, 'systempayv2', ?, 4250, 'pending', '2026-11-04 10:00', '2026-11-04 10:00')""",
                [tx_id, invoice_id, f"REF{tx_id}"],
            )

    db.write(before)
    assert migrate(db)[0] == 4
    assert db.rows("SELECT transaction_ref, order_ref FROM payment_transactions ORDER BY id") == [
        ("REF1", "F-2026-000007"),
        ("REF2", "?"),
    ]


def test_services_made_before_006_keep_their_deadlines(schema_only_db, tmp_path: Path):
    """The one cut-off hour of a service made before each rule had its own goes to both rules: the
    same days stay bookable and cancellable until the same moment."""
    db = schema_only_db
    migrate_before(db, tmp_path, "006")
    db.write(
        lambda cur: cur.execute(
            """INSERT INTO services (code, name, short_name, weekdays, unit_price_cents, is_meal,
                                     book_delay_days, book_delay_working, cancel_delay_days, cancel_delay_working,
                                     cutoff_time)
               VALUES ('cantine', 'Cantine', 'Cantine', '1,2,4,5', 350, TRUE, 5, TRUE, 3, FALSE, '10:00'),
                      ('accueil', 'Accueil', 'Accueil', '3', 800, TRUE, 7, FALSE, 2, TRUE, '23:59')"""
        )
    )
    assert migrate(db)[0] == 6  # and the later ones
    assert {s["id"]: s["deadlines"] for s in meal_rules(db)} == {
        1: ServiceDeadlines(book=DeadlineRule(5, True, time(10, 0)), cancel=DeadlineRule(3, False, time(10, 0))),
        2: ServiceDeadlines(book=DeadlineRule(7, False, time(23, 59)), cancel=DeadlineRule(2, True, time(23, 59))),
    }
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO services (code, name, short_name, weekdays, unit_price_cents, is_meal)"
            " VALUES ('soir', 'Soir', 'Soir', '1', 100, FALSE)"
        )
    )
    assert db.rows("SELECT id, code FROM services ORDER BY id") == [(1, "cantine"), (2, "accueil"), (3, "soir")]


def test_closures_made_before_008_stay_closures_of_every_service(schema_only_db, tmp_path: Path):
    """A closure written before closures had a service, a kind and an author closes every service
    of its site, as it did; the next one declared takes the next id."""
    db = schema_only_db
    migrate_before(db, tmp_path, "008")
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO closures (site_id, start_date, end_date, reason) VALUES (3, '2025-12-03', '2025-12-03', 'x')"
        )
    )
    assert 8 in migrate(db)
    assert db.rows("SELECT id, site_id, service_id, kind, created_by, created_at, withdrawn_at FROM closures") == [
        (1, 3, None, "fermeture", None, None, None)
    ]
    new = db.write(
        lambda cur: cur.execute(
            "INSERT INTO closures (service_id, start_date, end_date, reason, kind) "
            "VALUES (1, '2027-01-21', '2027-01-21', 'grève', 'greve') RETURNING id"
        ).fetchall()
    )
    assert new == [(2,)]
    with pytest.raises(INTEGRITY_ERRORS):
        db.write(
            lambda cur: cur.execute(
                "INSERT INTO closures (start_date, end_date, reason, kind) VALUES ('2027-01-21', '2027-01-21', 'x', 'y')"
            )
        )


def test_families_made_before_009_keep_their_data_as_guardians_and_quotients(schema_only_db, tmp_path: Path):
    """A town's families as 008 left them: their accounts become their guardians (at most two, by
    account id), the family's e-mail, phone and address go to guardian 1, a family with no account
    still gets a guardian 1, the QF becomes the history's first line, and nothing else moves."""
    db = schema_only_db
    migrate_before(db, tmp_path, "009")

    def before(cur):
        cur.execute(
            """INSERT INTO families (id, name, email, phone, address, quotient_familial, payment_right, created_at)
               VALUES (1, 'Famille Martin', 'martin@exemple.fr', '0612345678', '1 rue Haute', 640, 'granted',
                       '2025-08-01 10:00'),
                      (2, 'Famille Dupont', NULL, NULL, NULL, NULL, 'none', '2025-08-02 10:00'),
                      (3, 'Famille Sanscompte', 'sc@exemple.fr', NULL, '3 place Basse', 900, 'none',
                       '2025-08-03 10:00')"""
        )
        cur.execute(
            """INSERT INTO users (id, email, password_hash, role, family_id, display_name, created_at) VALUES
               (10, 'lea.martin@exemple.fr', 'x', 'famille', 1, 'Léa Martin', '2025-08-01 10:00'),
               (11, 'paul@exemple.fr', 'x', 'famille', 1, 'Paul Martin-Roux', '2025-08-01 10:00'),
               (12, 'tiers@exemple.fr', 'x', 'famille', 1, 'Tiers', '2025-08-01 10:00'),
               (13, 'dupont@exemple.fr', 'x', 'famille', 2, 'Dupont', '2025-08-02 10:00'),
               (14, 'agent@exemple.fr', 'x', 'agent', NULL, 'Agent Un', '2025-08-02 10:00')"""
        )
        cur.execute(
            """INSERT INTO children (id, family_id, first_name, last_name, birth_date, school_class, diet_code,
                                     health_notes)
               VALUES (5, 1, 'Hugo', 'Martin', '2019-03-01', 'GS', 'standard', 'PAI arachide')"""
        )

    db.write(before)
    families_before = db.rows("SELECT id, name, email, phone, address, quotient_familial, payment_right FROM families")
    assert migrate(db)[0] == 9  # and the later ones
    assert db.rows("SELECT id, name, email, phone, address, quotient_familial, payment_right FROM families") == (
        families_before
    )
    assert db.rows("SELECT DISTINCT billing, town_ref, archived_at FROM families") == [("guardian1", None, None)]
    assert db.rows(
        "SELECT family_id, rank, first_name, last_name, email, phone, address, user_id FROM guardians"
        " ORDER BY family_id, rank"
    ) == [
        (1, 1, "Léa", "Martin", "martin@exemple.fr", "0612345678", "1 rue Haute", 10),
        (1, 2, "Paul", "Martin-Roux", "paul@exemple.fr", None, None, 11),
        (2, 1, "", "Dupont", "dupont@exemple.fr", None, None, 13),
        (3, 1, "", "Sanscompte", "sc@exemple.fr", None, "3 place Basse", None),
    ]
    assert db.rows("SELECT family_id, qf, valid_from::VARCHAR, source, recorded_by FROM family_quotients") == [
        (1, 640, "2025-08-01", "autre", None),
        (3, 900, "2025-08-03", "autre", None),
    ]
    # (010, applied after it, moves the health notes into the child's PAI)
    assert db.rows("SELECT id, town_ref, archived_at FROM children") == [(5, None, None)]
    assert "seq_families" in db.value(
        "SELECT column_default FROM information_schema.columns WHERE table_name = 'families' AND column_name = 'id'"
    )


def test_town_refs_are_unique_when_given(fresh_db):
    fresh_db.write(
        lambda cur: cur.execute(
            "INSERT INTO families (name, created_at, town_ref) VALUES ('A', now(), NULL), ('B', now(), NULL),"
            " ('C', now(), 'F-1')"
        )
    )
    with pytest.raises(INTEGRITY_ERRORS):
        fresh_db.write(
            lambda cur: cur.execute("INSERT INTO families (name, created_at, town_ref) VALUES ('D', now(), 'F-1')")
        )
    child = "INSERT INTO children (family_id, first_name, last_name, birth_date, school_class, diet_code, town_ref)"
    fresh_db.write(lambda cur: cur.execute(f"{child} VALUES (1, 'a', 'b', '2019-01-01', 'CP', 's', 'E-1')"))
    with pytest.raises(INTEGRITY_ERRORS):
        fresh_db.write(lambda cur: cur.execute(f"{child} VALUES (1, 'c', 'd', '2019-01-01', 'CP', 's', 'E-1')"))


def test_duplicate_migration_numbers_are_refused(tmp_path: Path):
    (tmp_path / "002_a.sql").write_text("SELECT 1;")
    (tmp_path / "002_b.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError):
        available(tmp_path)


def test_money_columns_are_integers(fresh_db):
    money = fresh_db.rows(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE column_name LIKE '%cents'"
    )
    assert money and all(r[2].upper() == "INTEGER" for r in money)


def test_a_booking_is_unique_per_child_service_day(fresh_db):
    row = "(1, 1, DATE '2026-12-01', 1, 'booked', 'template', 1, now()::TIMESTAMP, 1, now()::TIMESTAMP)"
    fresh_db.write(lambda cur: cur.execute(f"INSERT INTO bookings VALUES {row}"))
    with pytest.raises(INTEGRITY_ERRORS):
        fresh_db.write(lambda cur: cur.execute(f"INSERT INTO bookings VALUES {row}"))
    assert fresh_db.value("SELECT count(*) FROM bookings") == 1


def test_010_moves_the_health_notes_into_the_pai_and_empties_the_old_column(schema_only_db, tmp_path: Path):
    db = schema_only_db
    migrate_before(db, tmp_path, "010")
    db.write(
        lambda cur: cur.execute(
            """INSERT INTO children (id, family_id, first_name, last_name, birth_date, school_class, diet_code,
                                     health_notes)
               VALUES (1, 1, 'Lou', 'Arnaud', '2020-05-01', 'MS', 'pai_panier', 'PAI : arachide, trousse au bureau'),
                      (2, 1, 'Noé', 'Arnaud', '2018-05-01', 'CP', 'standard', NULL),
                      (3, 2, 'Zoé', 'Blanc', '2019-05-01', 'GS', 'standard', '   ')"""
        )
    )
    assert 10 in migrate(db)
    assert db.rows("SELECT child_id, has_pai, protocol, allergies, meal_basket, updated_by FROM child_health") == [
        (1, True, "PAI : arachide, trousse au bureau", None, False, None)
    ]
    assert db.rows("SELECT count(*) FROM children WHERE health_notes IS NOT NULL") == [(0,)]
    assert db.rows("SELECT id, first_name FROM children ORDER BY id") == [(1, "Lou"), (2, "Noé"), (3, "Zoé")]


def test_accounts_made_before_011_are_activated_since_their_creation(schema_only_db, tmp_path: Path):
    """Every account that existed has its password: activated when it was created; only accounts
    created afterwards by an invitation wait for their holder."""
    db = schema_only_db
    migrate_before(db, tmp_path, "011")
    db.write(
        lambda cur: cur.execute(
            """INSERT INTO users (id, email, password_hash, role, family_id, display_name, created_at) VALUES
               (1, 'a@exemple.fr', 'x', 'admin', NULL, 'A', '2025-08-01 10:00'),
               (2, 'b@exemple.fr', 'x', 'famille', 1, 'B', '2025-09-02 11:00')"""
        )
    )
    assert migrate(db)[0] == 11
    assert db.rows("SELECT id, activated_at = created_at FROM users ORDER BY id") == [(1, True), (2, True)]
    assert db.value("SELECT count(*) FROM link_tokens") == 0


def test_invoices_published_before_013_are_addressed_to_guardian_1(schema_only_db, tmp_path: Path):
    """Every invoice published before payers existed goes to its family's guardian 1, and each of its
    lines is a whole line that counts its quantity: a later run of the month bills nothing twice."""
    db = schema_only_db
    migrate_before(db, tmp_path, "013")

    def before(cur):
        cur.execute(
            """INSERT INTO families (id, name, created_at) VALUES (1, 'Famille Martin', '2025-08-01 10:00'),
                                                                   (2, 'Famille Dupont', '2025-08-02 10:00')"""
        )
        cur.execute(
            """INSERT INTO guardians (id, family_id, rank, first_name, last_name) VALUES
               (7, 1, 2, 'Paul', 'Martin'), (8, 1, 1, 'Léa', 'Martin'), (9, 2, 1, 'Jean', 'Dupont')"""
        )
        cur.execute(
            """INSERT INTO invoices (id, number, year, seq, family_id, period_month, issue_date, due_date,
                                     total_cents, created_at)
               VALUES (1, 'F-2026-000001', 2026, 1, 1, '2026-10-01', '2026-11-03', '2026-12-03', 700, '2026-11-03'),
                      (2, 'F-2026-000002', 2026, 2, 2, '2026-10-01', '2026-11-03', '2026-12-03', 350, '2026-11-03')"""
        )
        cur.execute(
            """INSERT INTO invoice_lines VALUES (1, 1, 5, 1, 'Hugo — Cantine (octobre 2026)', 2, 350, 700),
                                                (2, 1, 6, 1, 'Zoé — Cantine (octobre 2026)', 1, 350, 350)"""
        )

    db.write(before)
    assert migrate(db)[0] == 13
    assert db.rows("SELECT id, payer_guardian_id FROM invoices ORDER BY id") == [(1, 8), (2, 9)]
    assert db.rows(
        "SELECT invoice_id, counted, share_percent FROM invoice_lines ORDER BY invoice_id, counted, share_percent"
    ) == [
        (1, True, None),
        (2, True, None),
    ]


def test_a_migration_of_one_engine_only_is_run_there_and_recorded_on_the_other(tmp_path: Path):
    (tmp_path / "002_shared.sql").write_text("SELECT 1;")
    (tmp_path / "003_indexes.postgresql.sql").write_text("SELECT 2;")
    (tmp_path / "004_other.duckdb.sql").write_text("SELECT 3;")
    (tmp_path / "004_other.postgresql.sql").write_text("SELECT 4;")
    on_duckdb = {v: (f.name if f else None) for v, f in available(tmp_path, "duckdb")}
    on_postgresql = {v: (f.name if f else None) for v, f in available(tmp_path, "postgresql")}
    assert on_duckdb[2] == on_postgresql[2] == "002_shared.sql"
    assert (on_duckdb[3], on_postgresql[3]) == (None, "003_indexes.postgresql.sql")
    assert (on_duckdb[4], on_postgresql[4]) == ("004_other.duckdb.sql", "004_other.postgresql.sql")


def test_a_shared_migration_and_an_engines_own_cannot_carry_one_number(tmp_path: Path):
    (tmp_path / "002_a.sql").write_text("SELECT 1;")
    (tmp_path / "002_a.postgresql.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="same number"):
        available(tmp_path)


def test_the_session_engine_records_every_version(fresh_db):
    numbers = [v for v, _ in available(engine=fresh_db.engine)]
    assert [v for (v,) in fresh_db.rows("SELECT version FROM schema_version ORDER BY version")] == numbers
