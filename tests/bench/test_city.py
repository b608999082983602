"""The city generator at `town` scale (the same code as `city` and `paris`, 400 children), and the
refusals of `make bench` / `make load`: unknown scale, a server holding the database, a load
test aimed at a non-loopback address. The timings themselves are never asserted here."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date

import pytest

from bench.city import SCALES, BadScale, build_city, scale_named
from bench.load import BadTarget, check_loopback
from lib.store.db import close_database, open_database
from lib.store.reference import school_calendar
from tests.serve import ROOT, held

TODAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    path = tmp_path_factory.mktemp("city") / "town.duckdb"
    counts = build_city(path, SCALES["town"], TODAY)
    db = open_database(path)
    yield db, counts, path
    close_database(path)


def test_the_town_has_the_scale_shape(town):
    db, counts, _ = town
    assert counts["children"] == 400 == db.value("SELECT count(*) FROM children")
    assert 200 <= counts["families"] <= 300
    assert db.value("SELECT count(*) FROM sites") == 3
    assert db.value("SELECT count(*) FROM diets") == 6
    assert [r[0] for r in db.rows("SELECT label FROM school_years ORDER BY id")] == ["2025/2026", "2026/2027"]
    # A full school year of bookings per registered child, and attendance only for the past.
    assert 150 <= counts["bookings"] / counts["children"] <= 300
    assert db.value("SELECT max(day) FROM attendance") < TODAY
    assert (
        db.value(
            "SELECT count(*) FROM attendance a JOIN bookings b USING (child_id, service_id, day) "
            "WHERE b.state <> 'booked'"
        )
        == 0
    )
    assert db.value("SELECT count(*) FROM users WHERE role = 'famille'") == counts["families"]


def test_no_booking_on_a_closed_day_a_wrong_weekday_or_over_capacity(town):
    db, _, _ = town
    calendar = school_calendar(db)
    days = db.rows("SELECT DISTINCT day, site_id FROM bookings")
    assert days and all(calendar.is_school_day(day, site) for day, site in days)
    assert (
        db.value(
            "SELECT count(*) FROM bookings b JOIN services s ON s.id = b.service_id "
            "WHERE NOT list_contains(string_split(s.weekdays, ',')::INTEGER[], isodow(b.day))"
        )
        == 0
    )
    assert (
        db.rows("""SELECT b.site_id, b.service_id, b.day FROM bookings b JOIN site_services ss USING (site_id, service_id)
                      WHERE b.state = 'booked' GROUP BY ALL HAVING count(*) > any_value(ss.capacity)""")
        == []
    )


def test_every_booking_belongs_to_a_registration_of_its_year_and_site(town):
    db, _, _ = town
    assert (
        db.value("""SELECT count(*) FROM bookings b JOIN school_years y ON b.day BETWEEN y.start_date AND y.end_date
                       ANTI JOIN (SELECT r.child_id, r.site_id, r.school_year_id, rs.service_id FROM registrations r
                                  JOIN registration_services rs ON rs.registration_id = r.id) x
                       ON x.child_id = b.child_id AND x.site_id = b.site_id AND x.service_id = b.service_id
                          AND x.school_year_id = y.id""")
        == 0
    )
    assert db.value("SELECT count(*) FROM children c ANTI JOIN families f ON f.id = c.family_id") == 0
    kinds = dict(db.rows("SELECT id, kind FROM sites"))
    wrong = db.rows("""SELECT r.site_id, c.school_class FROM registrations r JOIN children c ON c.id = r.child_id
                       JOIN registration_services rs ON rs.registration_id = r.id AND rs.service_id = 1
                       WHERE r.school_year_id = 2026""")
    assert all(kinds[site] == ("maternelle" if cls in ("PS", "MS", "GS") else "elementaire") for site, cls in wrong)


def test_the_services_work_on_the_generated_town(town):
    from lib.services import auth, invoicing, reservations

    db, _, _ = town
    from tests.conftest import DEMO_NOW

    family_id, child_id = db.row(
        "SELECT c.family_id, c.id FROM children c JOIN registrations r ON r.child_id = c.id "
        "WHERE r.school_year_id = 2026 ORDER BY c.id LIMIT 1"
    )
    actor = auth.login(db, f"famille{family_id:06d}@bench.fr", "demo", DEMO_NOW)[1]
    ctx = reservations.booking_context(db, actor, child_id, 2026)
    assert reservations.month_cells(db, actor, ctx, date(2027, 1, 1), DEMO_NOW)
    admin = auth.login(db, "admin@demo.fr", "demo", DEMO_NOW)[1]
    assert invoicing.draft_month(db, admin, date(2026, 10, 1), DEMO_NOW).documents


def test_the_same_date_gives_the_same_city(town, tmp_path):
    db, _, _ = town
    again = tmp_path / "again.duckdb"
    build_city(again, SCALES["town"], TODAY)
    fingerprint = (
        "SELECT md5(string_agg(child_id || service_id || day || state || origin, ',' "
        "ORDER BY child_id, service_id, day)) FROM bookings"
    )
    other = open_database(again)
    try:
        assert other.value(fingerprint) == db.value(fingerprint)
    finally:
        close_database(again)


def test_an_existing_file_is_never_overwritten(town):
    _, _, path = town
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(FileExistsError):
        build_city(path, SCALES["town"], TODAY)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("name", ["mars", "", "1e9", "CITY; rm -rf /"])
def test_an_unknown_scale_is_refused_in_french(name):
    if name == "":
        assert scale_named(name).name == "city"  # empty means the default
        return
    with pytest.raises(BadScale, match="Échelle inconnue"):
        scale_named(name)


def _data_state():
    data = ROOT / "data"
    return sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in data.iterdir()) if data.exists() else []


@pytest.mark.parametrize(
    "module, args, message",
    [
        ("bench.run", ["--scale", "mars"], "Échelle inconnue : « mars »"),
        ("bench.run", ["--scale", "city", "--runs", "0"], "entre 1 et 50"),
        ("bench.load", ["--scale", "mars"], "Échelle inconnue"),
        ("bench.load", ["--scale", "town", "--url", "http://192.168.1.20:8501"], "n'est pas une adresse locale"),
        ("bench.load", ["--scale", "town", "--threads", "100000"], "hors limites"),
        ("bench.city", ["--scale", "paris2", "--path", "/tmp/never.duckdb"], "Échelle inconnue"),
    ],
)
def test_bad_input_exits_non_zero_in_french_and_touches_nothing(module, args, message):
    before = _data_state()
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.startswith("Erreur : ")
    assert _data_state() == before


def test_a_bench_run_is_refused_while_a_server_holds_the_database(tmp_path):
    path = tmp_path / "portail.duckdb"
    with held(path) as pid:
        for module in ("bench.run", "bench.load"):
            result = subprocess.run(
                [sys.executable, "-m", module, "--scale", "town"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "PORTAIL_DB": str(path)},
            )
            assert result.returncode == 2, result.stderr
            assert "est déjà ouverte par le programme" in result.stderr and f"PID {pid}" in result.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:8501", "http://localhost:9000/", "http://[::1]:8501"])
def test_loopback_addresses_are_accepted(url):
    assert check_loopback(url).startswith("http")


@pytest.mark.parametrize("url", ["http://10.0.0.5:8501", "https://famille.ma-ville.fr", "ftp://127.0.0.1", "127.0.0.1"])
def test_other_addresses_are_refused(url):
    with pytest.raises(BadTarget):
        check_loopback(url)


def _result_rows(text: str) -> list[list[str]]:
    """The cells of the results table's rows: the lines after its header and separator, read by
    position (a row's verdict may say « MISSED > 500 ms », so no row is picked by its words)."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| operation |"))
    assert lines[header + 1].startswith("|---")
    rows = []
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 5, line
        rows.append(cells)
    return rows


def test_result_rows_are_read_by_position_whatever_the_verdict():
    table = (
        "intro\n\n| operation | median ms | bare SQL ms | ratio | target |\n|---|---:|---:|---:|---|\n"
        "| Cancel one day (one child) |  12.6 |   8.5 |   1.49 | ok |\n"
        "| Page cuisine (cuisine), server-side render | 612.0 | — | — | MISSED > 500 ms |\n\nTargets missed: 1\n"
    )
    assert _result_rows(table) == [
        ["Cancel one day (one child)", "12.6", "8.5", "1.49", "ok"],
        ["Page cuisine (cuisine), server-side render", "612.0", "—", "—", "MISSED > 500 ms"],
    ]


@pytest.mark.slow
def test_a_town_bench_times_every_operation_and_keeps_its_database(tmp_path):
    """The bench's own code runs end to end (at town scale, one run each): a line per operation,
    a ratio wherever there is a bare SQL, the summary written, the database kept with the payments
    it recorded. Only the shape is checked: timings are never asserted."""
    keep, output = tmp_path / "kept", tmp_path / "results.md"
    before = _data_state()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--scale",
            "town",
            "--runs",
            "1",
            "--keep",
            str(keep),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "ScriptRunContext" not in result.stdout + result.stderr
    rows = _result_rows(output.read_text(encoding="utf-8"))
    labels = [r[0] for r in rows]
    assert labels[:9] == [
        "Family month calendar (one child, one month)",
        "Apply a full-year weekly template (one child)",
        "Cancel one day (one child)",
        "Kitchen counts site × service × diet (30/11)",
        "Daily meal counts chart data (one month)",
        "Mayor's trends (school year vs previous)",
        "Monthly invoicing, draft (all families)",
        "Monthly invoicing, publish (all families)",
        "One payment notification recorded",
    ]
    assert len([label for label in labels if label.startswith("Page ")]) == 13
    for row in rows:
        assert float(row[1].replace(",", ".")) > 0, row  # every operation has a median, whatever its value
        assert row[4] in ("ok", "—") or row[4].startswith("MISSED "), row  # a verdict, never asserted to be "ok"
    for row in rows[:9]:
        assert float(row[3]) > 0, row  # every operation has its bare SQL ratio
    assert "Targets missed:" in output.read_text(encoding="utf-8")
    db = open_database(keep / "town.duckdb")
    try:  # the service's payments and the bare SQL's each recorded one per run (and the warm-up)
        assert db.value("SELECT count(*) FROM payments WHERE method = 'online' AND recorded_by IS NULL") >= 4
        assert db.value("SELECT count(*) FROM invoices WHERE id >= 10000000") == 0  # the bare SQL's put back
    finally:
        close_database(keep / "town.duckdb")
    again = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scale", "town", "--keep", str(keep)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2 and "existe déjà" in again.stderr
    assert _data_state() == before
