"""`make bench ENGINE=postgresql`: the city copied into a PostgreSQL server is the same city, row
for row (so the two engines' figures answer the same questions over the same data), and the
results file sets the figures beside DuckDB's and says which operations failed. The timings
themselves are never asserted here."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest

from bench.city import SCALES, build_city, copy_to_server
from bench.run import Result, published, report, restart_durable
from lib.tools import postgresql_local
from tests import engines
from tests.serve import ROOT

TODAY = date(2026, 11, 27)
TABLES = (
    "families",
    "children",
    "users",
    "guardians",
    "registrations",
    "registration_services",
    "bookings",
    "attendance",
    "closures",
    "site_services",
    "child_health",
    "settings",
    "audit_log",
)
# The same bookings, read the same way on both engines.
FINGERPRINT = (
    "SELECT md5(string_agg(CAST(child_id AS VARCHAR) || '/' || service_id || '/' || CAST(day AS VARCHAR) || '/' "
    "|| state || '/' || origin || '/' || CAST(updated_at AS VARCHAR), ',' ORDER BY child_id, service_id, day)) "
    "FROM bookings"
)


@pytest.fixture(scope="module")
def copied(tmp_path_factory):
    try:
        postgresql_local.bin_dir()
    except Exception:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    folder = tmp_path_factory.mktemp("pgcity")
    path = folder / "town.duckdb"
    build_city(path, SCALES["town"], TODAY)
    with engines.local_server() as server:
        url = engines.new_database(server, "bench_town")
        copy_to_server(path, url, folder)
        copy_to_server(path, url, folder)  # a second copy replaces the first: nothing doubled
        yield duckdb.connect(str(path), read_only=True), psycopg.connect(url, autocommit=True)


def test_every_table_has_the_same_rows_on_both_engines(copied):
    source, server = copied
    for table in TABLES:
        expected = source.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert server.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == expected, table
    assert source.execute(FINGERPRINT).fetchone() == server.execute(FINGERPRINT).fetchone()


def test_nulls_stay_nulls_and_empty_texts_stay_empty(copied):
    source, server = copied
    question = "SELECT count(*) FILTER (WHERE {c} IS NULL), count(*) FILTER (WHERE CAST({c} AS VARCHAR) = '') FROM {t}"
    for table, column in (
        ("families", "payment_right_at"),
        ("users", "family_id"),
        ("guardians", "phone"),
        ("closures", "site_id"),
        ("services", "book_cutoff_time"),
    ):
        text = question.format(c=column, t=table)
        assert source.execute(text).fetchone() == server.execute(text).fetchone(), (table, column)


def test_the_id_sequences_continue_after_the_copied_ids(copied):
    source, server = copied
    top = source.execute("SELECT max(id) FROM families").fetchone()[0]
    assert server.execute("SELECT nextval('seq_families')").fetchone()[0] == top + 1


def test_the_report_sets_duckdb_beside_and_names_what_failed():
    duck = published(
        "- Date: 2026-12-01 09:10 (Paris); data built\n\n"
        "| operation | median ms | bare SQL ms | ratio | target |\n|---|---:|---:|---:|---|\n"
        "| Mayor's trends (school year vs previous) | 70.8 | 614.0 | 0.12 | ok |\n"
        "| Page tendances (elu), server-side render | 222.9 | — | — | ok |\n"
        "| Daily meal counts chart data (one month) | 20.5 | 65.4 | 0.31 | ok |\n",
        "`bench/RESULTS.md`",
    )
    assert duck.figures["Mayor's trends (school year vs previous)"] == (70.8, 614.0)
    results = [
        Result("trends", "Mayor's trends (school year vs previous)", [300.0, 310.0, 320.0], [2000.0, 2100.0, 2200.0]),
        Result("page:tendances", "Page tendances (elu), server-side render", [], error="service: boom"),
        Result("daily_meals", "Daily meal counts chart data (one month)", [], [650.0], error="service: boom"),
    ]
    counts = {"families": 1, "children": 1, "bookings": 1, "attendance": 1}
    text = report("town", counts, 1, 1, 1, 1, results, 3, 0.5, engine="PostgreSQL 15", duckdb_side=duck)
    assert "| DuckDB ms | DuckDB bare SQL ms |" in text
    assert "310.0 |    2100.0 |   0.15 | ok                 |      70.8 |     614.0 |" in text
    assert "Operations failed: 2 — page:tendances: service: boom; daily_meals: service: boom" in text
    assert (
        "(the service failed here): the bare SQL of the same question 650.0 ms here, 65.4 ms on DuckDB (×9.9)" in text
    )
    assert "Mayor's trends (school year vs previous): 310.0 ms here, 70.8 ms on DuckDB (×4.4)" in text
    assert "2100.0 ms here, 614.0 ms on DuckDB" in text


def test_an_unknown_engine_is_refused_in_french():
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scale", "town", "--engine", "oracle"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Erreur : Moteur inconnu : « oracle »")


def test_the_server_copied_without_fsync_is_timed_durable():
    """The city is copied into a server started without fsync (the setup is not measured), then the
    server is restarted durable before anything is timed: the figures are about fsync on, and what
    was copied is still there."""
    try:
        postgresql_local.bin_dir()
    except Exception:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="portail-test-pgbench-"))
    directory.chmod(0o755)
    local = directory / "postgresql"
    port = postgresql_local.free_port()
    try:
        url = postgresql_local.start(local, port, durable=False)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
            conn.execute("CREATE TABLE copied (n INTEGER)")
            conn.execute("INSERT INTO copied VALUES (42)")
        restart_durable(local, port)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SHOW fsync").fetchone() == ("on",)
            assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
            assert conn.execute("SELECT n FROM copied").fetchall() == [(42,)]
    finally:
        postgresql_local.stop(local, mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)
