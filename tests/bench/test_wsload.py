"""The protocol-level load client (bench/wsload.py) against the real server on the demo town: two
families log in over HTTP, open « Mes inscriptions », change a day through the calendar and the
day's button, open « Mes factures »; each acknowledged change is in the database, and the check
would catch one that is not. The timings themselves are never asserted."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bench import wsload
from lib.store.db import connect
from lib.tools.processes import free_port, stop

pytestmark = pytest.mark.slow


def _check(target, acks, before) -> list[str]:
    db = connect(str(target))
    try:
        return wsload.verify(db, acks, before)
    finally:
        db.close()


def test_families_book_through_the_pages_and_the_database_holds_what_was_acknowledged(demo_path, tmp_path):
    families = wsload.families_of(str(demo_path), 2)  # before the server holds a DuckDB file
    db = connect(str(demo_path))
    before = wsload.over_capacity(db)
    db.close()
    proc, base = wsload.start_server(str(demo_path), free_port(), tmp_path / "server.log", gc_after_runs=False)
    try:
        results = asyncio.run(wsload.run_families(base, families, seconds=1))
    finally:
        stop(proc)
    assert results.errors == []
    numbers = wsload.summary(results)
    assert numbers["sessions"] == 2
    # every family went round at least once: its page views, and one acknowledged change each
    for name in (wsload.BOOKINGS, "calendar: day chosen", "book or cancel the day", wsload.INVOICES):
        assert len(results.latencies[name]) >= 2, name
    assert {a.family_id for a in results.acks} == {f for f, _, _ in families}
    assert {a.state for a in results.acks} <= {"booked", "waiting", "cancelled"}
    assert numbers["runs"] > numbers["interactions"]  # the booking click ends in st.rerun(): two runs
    assert _check(demo_path, results.acks, before) == []

    # the check catches an acknowledged change the database does not hold
    last = max(results.acks, key=lambda a: a.order)
    flipped = "cancelled" if last.state != "cancelled" else "booked"
    lie = replace(last, state=flipped, order=last.order + 1)
    problems = _check(demo_path, [*results.acks, lie], before)
    assert problems == [f"child {last.child_id} on {last.day}: acknowledged {flipped}, stored {last.state}"]


def test_the_acknowledgement_is_read_from_the_page_confirmation():
    def run(*texts: str) -> wsload.Run:
        return wsload.Run([wsload.Element("alert", text=t) for t in texts], 2, 0.1)

    assert wsload._acknowledged(run("Réservations enregistrées : 1 jour(s) réservé(s) (lun. 7 déc.)."), True) == (
        "booked"
    )
    assert wsload._acknowledged(
        run("Réservations enregistrées : 1 jour(s) complet(s) : en liste d'attente."), True
    ) == ("waiting")
    assert wsload._acknowledged(run("Réservations enregistrées : 1 jour(s) annulé(s)."), False) == "cancelled"
    assert wsload._acknowledged(run("Aucun changement : les réservations étaient déjà celles-ci."), True) is None
    assert wsload._acknowledged(run("Ce jour ne peut plus être réservé en ligne."), True) is None


def test_a_load_test_is_refused_away_from_this_machine():
    with pytest.raises(wsload.BadTarget):
        wsload.check_loopback("http://portail.example.fr")


def test_the_section_replaces_its_previous_one_and_keeps_the_others(tmp_path):
    path = tmp_path / "LOAD.md"
    path.write_text(
        "# Load test\n\nthreads\n\n## Protocol level: old\n\nold\n\n### old line\n\n## One process\n\nkept\n"
    )
    wsload.write_section(path, ["## Protocol level: new", "", "new"])
    assert path.read_text() == "# Load test\n\nthreads\n\n## Protocol level: new\n\nnew\n\n## One process\n\nkept\n"
    fresh = tmp_path / "fresh.md"
    fresh.write_text("# Load test\n")
    wsload.write_section(fresh, ["## Protocol level: new"])
    assert fresh.read_text() == "# Load test\n\n## Protocol level: new\n"
