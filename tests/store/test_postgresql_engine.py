"""The PostgreSQL engine's own rules: placeholders, per-engine wording, a lost connection, a wrong URL."""

from __future__ import annotations

import psycopg
import pytest

from lib.domain.errors import DatabaseUnavailable
from lib.store.db import INTEGRITY_ERRORS, close_database, is_url, open_database
from lib.store.postgres import postgresql_text, shown, translate
from lib.store.sql import Dialects, dialects


def test_duckdb_placeholders_become_psycopg_ones_outside_literals():
    assert translate("SELECT ? , $name FROM t WHERE a = ?") == "SELECT %s , %(name)s FROM t WHERE a = %s"
    # a `?` or `$x` inside a literal or a quoted name stays; `%` is doubled everywhere (psycopg reads it)
    assert translate("SELECT 'a?b $c', \"d?\" , x % 2, strftime(d, '%d') FROM t WHERE y = ?") == (
        "SELECT 'a?b $c', \"d?\" , x %% 2, strftime(d, '%%d') FROM t WHERE y = %s"
    )
    assert translate("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', %s"


def test_a_statement_without_parameters_is_sent_as_written():
    assert postgresql_text("SELECT 1 % 2; SELECT '?'") == "SELECT 1 % 2; SELECT '?'"


def test_dialects_keep_duckdb_text_untouched_and_give_postgresql_its_own():
    query = dialects(duckdb="SELECT {x} FROM range(?)", postgresql="SELECT {x} FROM generate_series(1, ?)")
    assert isinstance(query, str) and str(query) == "SELECT {x} FROM range(?)"
    formatted = query.format(x="1")
    assert isinstance(formatted, Dialects)
    assert str(formatted) == "SELECT 1 FROM range(?)"
    assert postgresql_text(formatted, [3]) == "SELECT 1 FROM generate_series(1, %s)"


def test_only_postgresql_urls_name_a_server():
    assert is_url("postgresql://u@h/db") and is_url("postgres://h/db")
    assert not is_url("data/portail.duckdb") and not is_url(None)


def test_a_password_is_never_shown():
    assert (
        shown("postgresql://ville:secret@db.ville.fr:5432/portail") == "postgresql://ville:***@db.ville.fr:5432/portail"
    )
    assert shown("postgresql://ville@db/portail") == "postgresql://ville@db/portail"


def test_an_unreachable_server_is_said_in_french(pg_server):
    from lib.store.server import with_database
    from lib.tools.postgresql_local import free_port

    nobody = with_database(pg_server.replace(pg_server.split("@")[1].split("/")[0], f"127.0.0.1:{free_port()}"), "x")
    with pytest.raises(DatabaseUnavailable, match="ne répond pas"):
        open_database(nobody)


def test_a_missing_database_is_said_in_french(pg_server):
    from lib.store.server import with_database

    with pytest.raises(DatabaseUnavailable, match="La base de données « no_such_town » n'existe pas sur le serveur"):
        open_database(with_database(pg_server, "no_such_town"))


def test_connections_cut_by_the_server_are_replaced_for_reads_and_writes(fresh_db, pg_server):
    url = fresh_db.url
    assert fresh_db.value("SELECT max(version) FROM schema_version") >= 18

    def cut() -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

    cut()
    assert fresh_db.value("SELECT count(*) FROM users") == 0
    cut()
    fresh_db.write(lambda cur: cur.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')"))
    assert fresh_db.value("SELECT value FROM settings WHERE key = 'k'") == "v"


def test_a_constraint_is_an_integrity_error_and_the_unit_of_work_leaves_nothing(fresh_db, pg_server):
    fresh_db.write(lambda cur: cur.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')"))

    def twice(cur):
        cur.execute("INSERT INTO settings (key, value) VALUES ('other', 'x')")
        cur.execute("INSERT INTO settings (key, value) VALUES ('k', 'w')")

    with pytest.raises(INTEGRITY_ERRORS):
        fresh_db.write(twice)
    assert fresh_db.rows("SELECT key, value FROM settings ORDER BY key") == [("k", "v")]


def test_whole_numerics_come_back_as_int_and_averages_as_float(fresh_db, pg_server):
    total, average = fresh_db.row("SELECT sum(x::BIGINT), avg(x) FROM (VALUES (1), (2)) t(x)")
    assert (total, type(total)) == (3, int)
    assert (average, type(average)) == (1.5, float)


def test_a_closed_database_refuses_in_french(db_target, pg_server):
    db = open_database(db_target)
    close_database(db_target)
    with pytest.raises(DatabaseUnavailable, match="fermée"):
        db.value("SELECT 1")


def test_replicas_starting_together_migrate_one_after_the_other(db_target, pg_server):
    """Three servers opening an empty database at once: each applies what the others left, none fails."""
    from concurrent.futures import ThreadPoolExecutor

    from lib.store.db import connect
    from lib.store.migrate import available, migrate

    replicas = [connect(db_target) for _ in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            applied = list(pool.map(migrate, replicas))
        versions = [v for (v,) in replicas[0].rows("SELECT version FROM schema_version ORDER BY version")]
    finally:
        for db in replicas:
            db.close()
    assert versions == [v for v, _ in available(engine="postgresql")]
    assert sorted(v for done in applied for v in done) == versions  # each version applied once, by one of them


def test_a_server_down_is_said_within_the_pool_wait_not_twice(fresh_db, pg_server, monkeypatch):
    """No pooled connection comes (the server is gone): the read says so after one wait, not two."""
    from psycopg_pool import PoolTimeout

    from lib.store import postgres

    waits = []

    def no_connection(*args, **kwargs):
        waits.append(kwargs.get("timeout"))
        raise PoolTimeout("couldn't get a connection after 8.00 sec")

    monkeypatch.setattr(fresh_db._pool, "connection", no_connection)
    with pytest.raises(postgres.ServerUnreachable, match="ne répond pas"):
        fresh_db.value("SELECT 1")
    assert waits == [postgres.POOL_WAIT_S]
