"""`make bench`: build a city in a temporary directory, time what the pages ask of the services,
and compare each figure with the bare SQL of the same question on the same connection.

Each operation runs once to warm up, then RUNS times, taking turns with its bare SQL (one run of
each, then again); the median is kept. The ratio is the
service's median over the bare SQL's median: what the use case (access checks, domain rules,
Python) costs above the engine's own limit for that question. Writes alternate between two
states (a template then another, a cancel then a re-booking) or take a new month / a new invoice
each run, so every timed run does the same amount of work. The bare SQL of a write commits, as
the service does (writing the change to disk is part of the engine's limit for a write); where
the next run needs the data back, it is put back untimed after each run.

On PostgreSQL (`--engine postgresql`, `make bench ENGINE=postgresql`) the same city is copied into
a database `portail_bench_<scale>` of a PostgreSQL server: the one `PORTAIL_DB` names when it is a
`postgresql://` URL (the bench's own database beside the town's, dropped at the end), else a local
server started in the temporary directory, stopped at the end: the city is copied with fsync off
(the setup is not measured), then the server is restarted durable, fsync on, before anything is
timed (a benchmark measures a real configuration). The bare SQL then runs on PostgreSQL too, and the results
file sets each figure beside DuckDB's from `bench/RESULTS.md` (same scale, same machine).

    python -m bench.run [--scale town|city|paris] [--engine duckdb|postgresql] [--runs 9] [--output FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import bench as bench_package
from bench.city import SCALES, BadScale, build_city, build_city_on_server, family_email, scale_named
from lib.domain.clock import PARIS
from lib.domain.errors import DatabaseUnavailable
from lib.store.db import close_database, connect_file, is_url, open_database
from lib.store.sql import OPEN_DAY  # a closed day is neither cooked nor billed: the bare SQL asks that too

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
ENGINES = ("duckdb", "postgresql")
BENCH_NOW = datetime(2026, 11, 27, 9, 30, tzinfo=PARIS)  # a Friday of term: the same figures every run
TARGETS_MS = {
    "family_month": 50,
    "day_cancel": 50,
    "year_template": 100,
    "kitchen_counts": 100,
    "invoicing_draft": 5000,
    "invoicing_publish": 5000,
}
PAGE_TARGET_MS = 500
RATIO_TARGET = 2.0
PAYMENT_PORT = 8501  # the portal served on 127.0.0.1:8501: the payment addresses without public_url


@dataclass
class Result:
    key: str
    label: str
    runs_ms: list[float]
    bare_ms: list[float] = field(default_factory=list)
    error: str | None = None  # the operation failed: why (the table says so instead of a figure)

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def bare(self) -> float | None:
        return statistics.median(self.bare_ms) if self.bare_ms else None

    @property
    def ratio(self) -> float | None:
        return self.median / self.bare if self.bare else None

    def verdict(self) -> str:
        if self.error:
            return "FAILED"
        target = TARGETS_MS.get(self.key, PAGE_TARGET_MS if self.key.startswith("page:") else None)
        misses = []
        if target is not None and self.median > target:
            misses.append(f"> {target} ms")
        if self.ratio is not None and self.ratio > RATIO_TARGET:
            misses.append(f"ratio > {RATIO_TARGET:g}")
        return "MISSED " + ", ".join(misses) if misses else ("ok" if target or self.ratio else "—")

    def line(self, duckdb: tuple[float, float | None] | None = None, beside: bool = False) -> str:
        """The table's row; `beside`: with DuckDB's median and bare SQL median (`duckdb`) after it."""
        if self.error:
            bare = f"{self.bare:9.1f}" if self.bare is not None else "        —"
            cells = f"| {self.label:<58} | {'—':>9} | {bare} | {'—':>6} | {self.verdict():<18} |"
        else:
            bare = f"{self.bare:9.1f}" if self.bare is not None else "        —"
            ratio = f"{self.ratio:6.2f}" if self.ratio is not None else "     —"
            cells = f"| {self.label:<58} | {self.median:9.1f} | {bare} | {ratio} | {self.verdict():<18} |"
        if not beside:
            return cells
        theirs = f"{duckdb[0]:9.1f}" if duckdb else "        —"
        theirs_bare = f"{duckdb[1]:9.1f}" if duckdb and duckdb[1] is not None else "        —"
        return f"{cells} {theirs} | {theirs_bare} |"


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class Undone:
    """A write timed with `run`, then put back with `undo` (not timed) so the next run does the
    same work again."""

    run: Callable[[], object]
    undo: Callable[[], object]


def once(fn: Callable[[], object] | Undone) -> float:
    if isinstance(fn, Undone):
        took = timed(fn.run)
        fn.undo()
        return took
    return timed(fn)


def measure(fns: list[Callable[[], object] | Undone], runs: int) -> list[float]:
    """Warm up on fns[0], then time each of the next `runs` calls (cycling through fns)."""
    once(fns[0])
    return [once(fns[(i + 1) % len(fns)]) for i in range(runs)]


def measure_pairs(service: list, bare: list, runs: int) -> tuple[list[float], list[float]]:
    """`measure` for the service and its bare SQL taking turns, run after run: on these shared
    cores a busy minute then slows both sides of the ratio, not one (see bench/NOTES.md)."""
    once(service[0]), once(bare[0])
    pairs = [(once(service[(i + 1) % len(service)]), once(bare[(i + 1) % len(bare)])) for i in range(runs)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


class Bench:
    def __init__(self, path: Path | str, runs: int, out=sys.stdout):
        from lib.services import auth

        self.path, self.runs, self.out = path, runs, out
        self.db = open_database(path)
        self.now = BENCH_NOW
        self.today = BENCH_NOW.date()
        self.results: list[Result] = []

        def login(email):
            return auth.login(self.db, email, "demo", self.now)

        self.family_id, self.child_id = self._sample_family()
        self.family_token, self.family = login(family_email(self.family_id))
        self.tokens = {"famille": self.family_token}
        self.actors = {}
        for email, role in (
            ("agent@demo.fr", "agent"),
            ("cuisine@demo.fr", "cuisine"),
            ("maire@demo.fr", "elu"),
            ("admin@demo.fr", "admin"),
        ):
            self.tokens[role], self.actors[role] = login(email)
        self._login = login

    def _sample_family(self) -> tuple[int, int]:
        """The first family allowed to pay online whose child eats at the canteen and goes on Wednesdays."""
        return self.db.row(
            """
            SELECT c.family_id, c.id FROM children c JOIN families f ON f.id = c.family_id
            JOIN registrations r ON r.child_id = c.id AND r.school_year_id = ?
            JOIN registration_services rs ON rs.registration_id = r.id
            WHERE f.payment_right = 'granted' GROUP BY c.family_id, c.id HAVING count(DISTINCT rs.service_id) = 3
            ORDER BY c.family_id, c.id LIMIT 1""",
            [self.today.year if self.today.month >= 8 else self.today.year - 1],
        )

    def record(
        self,
        key: str,
        label: str,
        service: list[Callable],
        bare: list[Callable] | None = None,
        runs: int | None = None,
        in_turn: bool = True,
    ) -> Result:
        """Time `service` and its `bare` SQL, taking turns unless `in_turn` is False (for a bare
        write that would change what the next service run has to do)."""
        runs = runs or self.runs
        service, bare = [side("service", fn) for fn in service], [side("bare SQL", fn) for fn in bare or []]
        try:
            if bare and in_turn:
                result = Result(key, label, *measure_pairs(service, bare, runs))
            else:
                result = Result(key, label, measure(service, runs), measure(bare, runs) if bare else [])
        except Exception as exc:  # one failed operation is a row of the table, not the end of the run
            result = Result(key, label, [], error=failure(exc))
            if bare and result.error.startswith("service"):
                try:  # the bare SQL's figure all the same: what the service will be measured against
                    result.bare_ms = measure(bare, runs)
                except Exception as again:
                    result.error += f"; {failure(again)}"
        self.results.append(result)
        print(result.line(), file=self.out, flush=True)
        return result

    # --- bare SQL helpers ----------------------------------------------------------------------
    def sql(self, text: str, params=()) -> Callable[[], list]:
        return lambda: self.db.cursor().execute(text, params).fetchall()

    def commit(self, *statements: tuple[str, object]) -> None:
        """Run statements in one transaction and commit it (the services' own `Database.write`)."""
        self.db.write(lambda cur: [cur.execute(text, params).fetchall() for text, params in statements])

    def committed(
        self, *statements: tuple[str, object], undo: tuple[tuple[str, object], ...] = ()
    ) -> Callable[[], None] | Undone:
        """The bare SQL of a write, committed; `undo` puts the data back, untimed, after each run."""

        def run():
            return self.commit(*statements)

        return Undone(run, lambda: self.commit(*undo)) if undo else run

    # --- the operations ------------------------------------------------------------------------
    def all(self) -> None:
        """Every operation; one that fails (its setup included) is reported as such, and the others run."""
        steps = (self.family_month, self.writes, self.kitchen, self.trends, self.invoicing, self.payment, self.pages)
        for step in steps:
            try:
                step()
            except Exception as exc:  # see record()
                result = Result(step.__name__, f"{step.__name__} (its setup)", [], error=failure(exc))
                self.results.append(result)
                print(result.line(), file=self.out, flush=True)

    def _context(self):
        from lib.services import reservations

        year = self.today.year if self.today.month >= 8 else self.today.year - 1
        return reservations.booking_context(self.db, self.family, self.child_id, year)

    def family_month(self) -> None:
        from lib.services import reservations

        month = date(2027, 1, 1)
        last = date(2027, 1, 31)

        def service():
            ctx = self._context()
            return reservations.month_cells(self.db, self.family, ctx, month, self.now)

        bare = self.sql(
            """
            SELECT s.id, s.weekdays, r.site_id, b.day, b.state, a.status
            FROM registrations r JOIN registration_services rs ON rs.registration_id = r.id
            JOIN services s ON s.id = rs.service_id
            LEFT JOIN bookings b ON b.child_id = r.child_id AND b.service_id = s.id AND b.day BETWEEN $first AND $last
            LEFT JOIN attendance a ON a.child_id = b.child_id AND a.service_id = b.service_id AND a.day = b.day
            WHERE r.child_id = $child AND r.school_year_id = $year""",
            {"child": self.child_id, "year": 2026, "first": month, "last": last},
        )
        self.record("family_month", "Family month calendar (one child, one month)", [service], [bare])

    def writes(self) -> None:
        from lib.services import reservations

        ctx = self._context()
        end = ctx.year.end_date
        full, light = {1: [1, 2, 4, 5], 2: [3], 3: [3]}, {1: [1, 2], 2: [3], 3: []}

        def apply(template):
            return lambda: reservations.apply_template(self.db, self.family, ctx, template, self.today, end, self.now)

        year_rows = """
            INSERT INTO bookings (child_id, service_id, day, site_id, state, origin, created_by, created_at,
                                  updated_by, updated_at)
            SELECT $child, 1, d::DATE, $site, 'booked', 'template', 0, now()::TIMESTAMP, 0, now()::TIMESTAMP
            FROM generate_series($from::DATE, $to::DATE, INTERVAL '1 day') g(d)
            WHERE extract(isodow FROM d) IN (1, 2, 4, 5)
            ON CONFLICT (child_id, service_id, day) DO UPDATE SET state = excluded.state,
                updated_at = excluded.updated_at"""
        site = next(s.site_id for s in ctx.services if s.id == 1)
        capacity = """SELECT b.day, count(*) FROM bookings b WHERE b.site_id = $site AND b.service_id = $service
                      AND b.day BETWEEN $from AND $to AND b.state IN ('booked', 'waiting') GROUP BY b.day"""
        params = {"child": self.child_id, "site": site, "from": self.today + timedelta(days=7), "to": end}
        counts = [
            (capacity, {"site": s.site_id, "service": s.id, "from": params["from"], "to": end}) for s in ctx.services
        ]
        self.record(
            "year_template",
            "Apply a full-year weekly template (one child)",
            [apply(full), apply(light)],
            [self.committed(*counts, (year_rows, params))],
            in_turn=False,
        )  # the bare SQL books the whole year: the next template would find it done
        day = self.today + timedelta(days=14)
        while day.isoweekday() not in (1, 2, 4, 5) or not ctx.calendar.is_school_day(day):
            day += timedelta(days=1)
        reservations.apply_template(self.db, self.family, ctx, full, self.today, end, self.now)

        def flip(booked):
            return lambda: reservations.set_day(self.db, self.family, ctx, 1, day, booked, self.now)

        # What any correct cancel must do: bump the day's lock row (two writers of a day conflict
        # there), update the booking, look for a waiting list to promote, keep the audit entry.
        cancel = """UPDATE bookings SET state = 'cancelled', updated_at = now()::TIMESTAMP
                    WHERE child_id = $child AND service_id = 1 AND day = $day"""
        site = next(s.site_id for s in ctx.services if s.id == 1)
        lock = """INSERT INTO booking_day_locks VALUES ($site, 1, $day, 1)
                  ON CONFLICT (site_id, service_id, day) DO UPDATE SET version = booking_day_locks.version + 1"""
        rebook = "UPDATE bookings SET state = 'booked' WHERE child_id = $child AND service_id = 1 AND day = $day"
        waiting = "SELECT count(*) FROM bookings WHERE site_id = $site AND service_id = 1 AND day = $day AND state = 'waiting'"
        trail = """INSERT INTO audit_log (logged_at, user_id, action, entity, entity_id, after)
                   VALUES (now()::TIMESTAMP, 0, 'booking.days', 'child', $child, '{}')"""
        # Each timed run cancels a booked day, booked again afterwards (not timed).
        self.record(
            "day_cancel",
            "Cancel one day (one child)",
            [Undone(flip(False), flip(True))],
            [
                self.committed(
                    (lock, {"site": site, "day": day}),
                    (cancel, {"child": self.child_id, "day": day}),
                    (waiting, {"site": site, "day": day}),
                    (trail, {"child": str(self.child_id)}),
                    undo=((rebook, {"child": self.child_id, "day": day}),),
                )
            ],
        )

    def kitchen(self) -> None:
        from lib.services import kitchen

        cook = self.actors["cuisine"]
        tomorrow = self.today + timedelta(days=1)
        while tomorrow.isoweekday() > 5:
            tomorrow += timedelta(days=1)
        day = tomorrow
        self.record(
            "kitchen_counts",
            f"Kitchen counts site × service × diet ({day:%d/%m})",
            [lambda: kitchen.sheet(self.db, cook, day, self.now)],
            [
                self.sql(
                    f"""SELECT si.name, s.name, d.label, count(*) FROM bookings b
                                 JOIN children c ON c.id = b.child_id JOIN services s ON s.id = b.service_id
                                 JOIN sites si ON si.id = b.site_id JOIN diets d ON d.code = c.diet_code
                                 WHERE b.day = ? AND b.state = 'booked' AND s.is_meal AND {OPEN_DAY}
                                 GROUP BY si.name, s.name, d.label""",
                    [day],
                )
            ],
        )
        first, last = date(2026, 10, 1), date(2026, 10, 31)
        self.record(
            "daily_meals",
            "Daily meal counts chart data (one month)",
            [lambda: kitchen.daily_series(self.db, cook, first, last)],
            [
                self.sql(
                    f"""SELECT b.day, si.name, d.label, count(*), count(a.status) FILTER (WHERE
                                  a.status = 'present'), count(a.status)
                                 FROM bookings b JOIN children c ON c.id = b.child_id
                                 JOIN services s ON s.id = b.service_id JOIN sites si ON si.id = b.site_id
                                 JOIN diets d ON d.code = c.diet_code
                                 LEFT JOIN attendance a USING (child_id, service_id, day)
                                 WHERE b.day BETWEEN ? AND ? AND b.state = 'booked' AND s.is_meal AND {OPEN_DAY}
                                 GROUP BY b.day, si.name, d.label""",
                    [first, last],
                )
            ],
        )

    def trends(self) -> None:
        from lib.services import trends

        mayor = self.actors["elu"]
        self.record(
            "trends",
            "Mayor's trends (school year vs previous)",
            [lambda: trends.trends(self.db, mayor, self.today)],
            [
                self.sql(
                    """SELECT date_trunc('month', b.day), count(*), count(a.status),
                                        count(*) FILTER (WHERE a.status = 'present'),
                                        count(*) FILTER (WHERE s.is_meal)
                                 FROM bookings b JOIN services s ON s.id = b.service_id
                                 LEFT JOIN attendance a USING (child_id, service_id, day)
                                 WHERE b.state = 'booked' AND b.day BETWEEN ? AND ? GROUP BY 1""",
                    [date(2025, 9, 1), self.today],
                )
            ],
        )

    def invoicing(self) -> None:
        from lib.services import invoicing

        admin = self.actors["admin"]
        months = [date(2025, m, 1) for m in range(9, 13)] + [date(2026, m, 1) for m in range(1, 7)]
        months += [date(2026, 9, 1), date(2026, 10, 1)]
        # The same question as the draft: what to bill per family × child × service, with the
        # family's quotient, the names for the line labels, closed days left out.
        billable = f"""
            SELECT c.family_id, b.child_id, b.service_id, count(*) AS quantity, f.quotient_familial, f.name,
                   c.first_name, s.name AS service_name, s.unit_price_cents
            FROM bookings b JOIN children c ON c.id = b.child_id JOIN families f ON f.id = c.family_id
            JOIN services s ON s.id = b.service_id
            WHERE b.state = 'booked' AND b.day >= $first AND b.day < $after AND {OPEN_DAY}
            GROUP BY c.family_id, b.child_id, b.service_id, f.quotient_familial, f.name, c.first_name, s.name,
                     s.unit_price_cents"""
        month = months[-1]
        after = date(2026, 11, 1)
        self.record(
            "invoicing_draft",
            "Monthly invoicing, draft (all families)",
            [lambda: invoicing.draft_month(self.db, admin, month, self.now)],
            [self.sql(billable, {"first": month, "after": after})],
            runs=3,
        )
        queue = iter(months[:-1])  # the last month stays a draft (below)

        def publish():
            return invoicing.publish_month(self.db, admin, next(queue), self.now)

        insert = f"""
            INSERT INTO invoices (id, number, year, seq, family_id, period_month, issue_date, due_date, total_cents,
                                  created_at)
            SELECT 10000000 + family_id, 'X-' || family_id, 2026, 10000000 + family_id, family_id, $first, $first,
                   $first, sum(quantity * 350), now()::TIMESTAMP
            FROM ({billable}) q GROUP BY family_id"""
        lines = f"""
            INSERT INTO invoice_lines (invoice_id, line_no, child_id, service_id, label, quantity, unit_price_cents,
                                       amount_cents)
            SELECT 10000000 + family_id, row_number() OVER (PARTITION BY family_id), child_id, service_id,
                   first_name || ' — ' || service_name, quantity, unit_price_cents, quantity * unit_price_cents
            FROM ({billable}) q"""
        p = {"first": month, "after": after}
        self.record(
            "invoicing_publish",
            "Monthly invoicing, publish (all families)",
            [publish],
            [
                self.committed(
                    (insert, p),
                    (lines, p),
                    undo=(
                        ("DELETE FROM invoice_lines WHERE invoice_id >= 10000000", []),
                        ("DELETE FROM invoices WHERE id >= 10000000", []),
                    ),
                )
            ],
            runs=min(self.runs, len(months) - 2),
        )
        # The remaining completed months, so every page has its invoices; all but the last, whose
        # draft (30,000 documents at city scale) is what « Facturation » shows when the pages are
        # timed, as on the morning the town invoices it.
        for rest in queue:
            invoicing.publish_month(self.db, admin, rest, self.now)

    def payment(self) -> None:
        from lib.payments.sandbox import BANK
        from lib.services import payments

        # Each timed run records the bank's answer for an attempt of its own: the service's runs
        # take the first half of the attempts, the bare SQL's runs the second.
        count = self.runs + 1
        rows = self.db.rows(
            """
            SELECT i.id, u.email FROM invoices i JOIN families f ON f.id = i.family_id AND f.payment_right = 'granted'
            JOIN users u ON u.family_id = f.id
            WHERE i.kind = 'invoice' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = i.id)
            ORDER BY i.id LIMIT ?""",
            [2 * count],
        )
        if len(rows) < 2 * count:
            raise RuntimeError(
                f"{len(rows)} factures à payer en ligne, {2 * count} attendues (la facturation a-t-elle échoué ?)"
            )
        answers, attempts = [], []
        cfg = payments.config(self.db)
        for n, (invoice_id, email) in enumerate(rows):
            actor = self._login(email)[1]
            started = payments.start_payment(
                self.db, actor, invoice_id, f"bench-payment-key-{n:06d}", PAYMENT_PORT, self.now
            )
            if n < count:
                request_id = BANK.receive(cfg, {f["name"]: f["value"] for f in started.fields})
                answers.append(BANK.decide(cfg, request_id, "pay")[1])
            else:
                attempts.append(
                    self.db.row(
                        "SELECT transaction_ref, id, invoice_id, amount_cents FROM payment_transactions "
                        "WHERE transaction_ref = ?",
                        [started.transaction_ref],
                    )
                )
        queue, bare_queue = iter(answers), iter(attempts)

        def bare():
            # What any correct recording must do: find the attempt by the bank's reference, mark
            # it paid, record the payment, see whether the invoice is now overpaid (money received
            # twice is kept and flagged), keep the audit entry; then commit.
            ref, tx_id, invoice_id, amount = next(bare_queue)
            self.commit(
                (
                    "SELECT id, invoice_id, order_ref, amount_cents, state FROM payment_transactions "
                    "WHERE transaction_ref = ?",
                    [ref],
                ),
                ("UPDATE payment_transactions SET state = 'paid', updated_at = now()::TIMESTAMP WHERE id = ?", [tx_id]),
                (
                    "INSERT INTO payments (invoice_id, amount_cents, paid_at, method, transaction_id) "
                    "VALUES (?, ?, now()::TIMESTAMP, 'online', ?)",
                    [invoice_id, amount, tx_id],
                ),
                (
                    "SELECT i.total_cents, (SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id), "
                    "(SELECT sum(k.total_cents) FROM invoices k WHERE k.corrects_invoice_id = i.id) "
                    "FROM invoices i WHERE i.id = ?",
                    [invoice_id],
                ),
                (
                    "INSERT INTO audit_log (logged_at, action, entity, entity_id, after) "
                    "VALUES (now()::TIMESTAMP, 'payment.paid', 'invoice', ?, '{}')",
                    [str(invoice_id)],
                ),
            )

        self.record(
            "payment",
            "One payment notification recorded",
            [lambda: payments.record_answer(self.db, next(queue), "notification", self.now, address="bench")],
            [bare],
        )

    def pages(self) -> None:
        from streamlit import config as st_config
        from streamlit.testing.v1 import AppTest

        from lib.ui.session import TEST_TOKEN_KEY

        os.environ["PORTAIL_DB"] = str(self.path)
        os.environ["PORTAIL_FROZEN_NOW"] = self.now.isoformat()
        pages = [
            ("famille", "famille_accueil"),
            ("famille", "mes_inscriptions"),
            ("famille", "mes_factures"),
            ("agent", "agent_accueil"),
            ("agent", "agent_reservations"),
            ("agent", "pointage"),
            ("cuisine", "cuisine"),
            ("elu", "elu_accueil"),
            ("elu", "tendances"),
            ("admin", "admin_accueil"),
            ("admin", "admin_facturation"),
            ("admin", "admin_prestations"),
            ("admin", "admin_journal"),
        ]
        # AppTest spends time of its own on every run (it scans the installed packages for
        # components, parses the messages: ~0.2–0.6 s here, whatever the page). The page runs
        # inside a wrapper script that times its own execution: that is the server-side render
        # (the page's service calls and Streamlit building its elements), AppTest's cost aside.
        # Setting AppTest's session state from this thread warns of a "missing ScriptRunContext"
        # (Streamlit puts its log level back on every run, so the logger is switched off instead).
        logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True
        st_config.set_option("client.showErrorDetails", "full")  # a page that fails says why, in the table
        for role, page in pages:
            script = _TIMED_PAGE.format(path=str(ROOT / "pages" / f"{page}.py"))

            def render(role=role, page=page, script=script):
                at = AppTest.from_string(script, default_timeout=120)
                at.session_state[TEST_TOKEN_KEY] = self.tokens[role]
                at.run()
                if at.exception:
                    shown = at.exception[0]
                    raise RuntimeError(f"{shown.message}".strip() or " ".join(shown.stack_trace[-1:]))
                return bench_package.PAGE_MS.pop()

            label = f"Page {page} ({role}), server-side render"
            try:
                render()
                result = Result(f"page:{page}", label, [render() for _ in range(self.runs)])
            except Exception as exc:  # see record()
                result = Result(f"page:{page}", label, [], error=failure(exc))
            self.results.append(result)
            print(result.line(), file=self.out, flush=True)


class SideFailed(Exception):
    """The service or its bare SQL failed: which one, and why."""


def side(name: str, fn: Callable[[], object] | Undone) -> Callable[[], object] | Undone:
    """`fn`, its failure named after its side (the service or the bare SQL)."""
    if isinstance(fn, Undone):
        return Undone(side(name, fn.run), fn.undo)  # type: ignore[arg-type]

    def run() -> object:
        try:
            return fn()
        except SideFailed:
            raise
        except Exception as exc:
            raise SideFailed(f"{name}: {failure(exc)}") from exc

    return run


def failure(exc: BaseException) -> str:
    """An operation's failure in one short line, for the table."""
    first = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, SideFailed):
        return first
    return f"{type(exc).__name__}: {first[:200]}".replace("|", "/")


_TIMED_PAGE = """
import runpy
import time

import bench

_started = time.perf_counter()
try:
    runpy.run_path({path!r}, run_name="__main__")
finally:
    bench.PAGE_MS.append((time.perf_counter() - _started) * 1000)
"""


def header(beside: bool = False) -> str:
    if beside:
        return (
            "| operation | median ms | bare SQL ms | ratio | target | DuckDB ms | DuckDB bare SQL ms |\n"
            "|---|---:|---:|---:|---|---:|---:|"
        )
    return "| operation | median ms | bare SQL ms | ratio | target |\n|---|---:|---:|---:|---|"


def machine() -> str:
    cpus = os.cpu_count()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "?"
    try:
        mem = (
            next(
                int(line.split()[1])
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
            // 1024
        )
    except (OSError, StopIteration):
        mem = 0
    return f"{platform.node()}: {cpus} CPU ({model}), {mem} MiB RAM, Python {platform.python_version()}"


@dataclass
class Run:
    """What one engine's run gives the report."""

    counts: dict
    built_s: float
    size_mb: float
    size_after: float
    results: list[Result]
    engine: str  # the line saying which engine and configuration


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Banc d'essai du Portail Famille à l'échelle d'une ville.")
    parser.add_argument("--scale", default=os.environ.get("SCALE") or None, help=f"échelle : {', '.join(SCALES)}")
    parser.add_argument(
        "--engine",
        default=os.environ.get("ENGINE") or "duckdb",
        help="moteur : duckdb (défaut) ou postgresql (serveur de PORTAIL_DB s'il est une adresse postgresql://, "
        "sinon un serveur local temporaire)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("BENCH_PG_PORT") or 0) or None,
        help="port du serveur PostgreSQL local (défaut : un port libre)",
    )
    parser.add_argument("--runs", type=int, default=9, help="mesures par opération (médiane), après un échauffement")
    parser.add_argument("--output", type=Path, default=None, help="fichier Markdown des résultats (défaut : aucun)")
    parser.add_argument(
        "--keep", type=Path, default=None, help="garder la base construite dans ce dossier (pour l'examiner ensuite)"
    )
    args = parser.parse_args(argv)
    try:
        scale = scale_named(args.scale)
        engine = engine_named(args.engine)
        if args.port is not None and not 1024 < args.port < 65536:
            raise BadScale(f"Port invalide : {args.port}.")
        if args.runs < 1 or args.runs > 50:
            raise BadScale("Le nombre de mesures doit être compris entre 1 et 50.")
        kept = f"{scale.name}.duckdb" if engine == "duckdb" else "postgresql"
        if args.keep and (args.keep / kept).exists():
            raise BadScale(f"{args.keep / kept} existe déjà : choisissez un autre dossier.")
        check_data_free()
    except (BadScale, DatabaseUnavailable) as exc:
        print(f"Erreur : {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    # Stopped with SIGTERM, the run still stops its server and removes its temporary directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before = os.getloadavg()[0]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    folder = contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="portail-bench-")
    try:
        with folder as tmp:
            if engine == "duckdb":
                run = on_duckdb(Path(tmp), scale, args.runs)
            else:
                run = on_postgresql(Path(tmp), scale, args.runs, keep=args.keep is not None, port=args.port)
    except DatabaseUnavailable as exc:
        print(f"Erreur : {exc.message if hasattr(exc, 'message') else exc}", file=sys.stderr)
        return 2
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    duckdb_side = duckdb_results(scale.name) if engine == "postgresql" else None
    summary = report(
        scale.name,
        run.counts,
        run.built_s,
        run.size_mb,
        run.size_after,
        peak_mb,
        run.results,
        args.runs,
        load_before,
        engine=run.engine,
        duckdb_side=duckdb_side,
    )
    print("\n" + summary)
    if args.output:
        args.output.write_text(summary, encoding="utf-8")
        print(f"Résultats écrits dans {args.output}")
    return 0  # a missed target is a finding for the table, not a failed run


def engine_named(name: str | None) -> str:
    key = (name or "duckdb").strip().lower()
    if key not in ENGINES:
        raise BadScale(f"Moteur inconnu : « {name} ». Choisissez parmi : {', '.join(ENGINES)}.")
    return key


def on_duckdb(tmp: Path, scale, runs: int) -> Run:
    path = tmp / f"{scale.name}.duckdb"
    print(f"Construction de la ville « {scale.name} » dans {path} …", flush=True)
    started = time.perf_counter()
    counts = build_city(path, scale, BENCH_NOW.date())
    built_s = time.perf_counter() - started
    size_mb = path.stat().st_size / 2**20
    built(counts, built_s, size_mb)
    bench = Bench(path, runs)
    try:
        bench.all()
    finally:
        close_database(path)
    import duckdb

    return Run(
        counts, built_s, size_mb, path.stat().st_size / 2**20, bench.results, f"DuckDB {duckdb.__version__} (embedded)"
    )


def on_postgresql(tmp: Path, scale, runs: int, *, keep: bool, port: int | None = None) -> Run:
    """The city copied into `portail_bench_<scale>` on PORTAIL_DB's server, or on a local server
    started in `tmp` (copied with fsync off, then restarted with fsync on before timing); the bench's database dropped at the end unless `keep`."""
    from lib.store.postgres import shown
    from lib.store.server import create_database, drop_database, with_database
    from lib.tools import postgresql_local

    live = os.environ.get("PORTAIL_DB", "")
    local = tmp / "postgresql"
    if is_url(live):
        server, where = live, f"the server of PORTAIL_DB ({shown(with_database(live, ''))})"
    else:
        port = port or postgresql_local.free_port()
        tmp.chmod(tmp.stat().st_mode | 0o001)  # the server's account (postgres, when root) must reach its folder
        # The setup is not measured: the city is copied into a server started without fsync, then
        # the server is restarted durable (fsync on) before anything is timed.
        server = postgresql_local.start(local, port, durable=False)
        where = (
            "a local server started for the bench in its temporary directory (the city copied with fsync off, "
            "then the server restarted durable, fsync on, before anything was timed)"
        )
    try:
        target = with_database(server, f"portail_bench_{scale.name}")
        drop_database(target)  # the bench's own database: a leftover of an interrupted run
        create_database(target)
        print(f"Construction de la ville « {scale.name} » dans {shown(target)} …", flush=True)
        started = time.perf_counter()
        counts = build_city_on_server(target, scale, BENCH_NOW.date(), tmp)
        if not is_url(live):
            restart_durable(local, port)
        built_s = time.perf_counter() - started
        bench = Bench(target, runs)
        size_mb = _server_size(bench)
        engine = f"PostgreSQL {_server_settings(bench)}, {where}"
        built(counts, built_s, size_mb)
        try:
            bench.all()
            size_after = _server_size(bench)
        finally:
            close_database(target)
        if not keep:
            drop_database(target)
    finally:
        if not is_url(live) and not keep:
            postgresql_local.stop(local)
    if keep and not is_url(live):
        postgresql_local.stop(local)
        print(f"Serveur arrêté ; ses données sont gardées dans {local} (python -m lib.tools.postgresql_local start).")
    return Run(counts, built_s, size_mb, size_after, bench.results, engine)


def restart_durable(local: Path, port: int) -> None:
    """Stop the bench's server (its shutdown checkpoint writes every page), flush the machine's
    caches to disk, and start it again with fsync on: the configuration the figures are about."""
    from lib.tools import postgresql_local

    print("Redémarrage du serveur en mode durable (fsync on) …", flush=True)
    postgresql_local.stop(local)
    os.sync()
    postgresql_local.start(local, port, durable=True)
    postgresql_local.wait_ready(port)


def _server_size(bench: Bench) -> float:
    return bench.db.value("SELECT pg_database_size(current_database())") / 2**20


def _server_settings(bench: Bench) -> str:
    """The server's version and the settings that weigh on these figures."""
    version = bench.db.value("SHOW server_version").split()[0]
    settings = dict(
        bench.db.rows(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('fsync', 'synchronous_commit', 'shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit')"
        )
    )
    return f"{version} ({', '.join(f'{k} {v}' for k, v in sorted(settings.items()))})"


def built(counts: dict, built_s: float, size_mb: float) -> None:
    print(
        f"… {counts['families']} familles, {counts['children']} enfants, {counts['bookings']} réservations, "
        f"{counts['attendance']} pointages en {built_s:.1f} s ({size_mb:.0f} Mio).",
        flush=True,
    )
    print(header(), flush=True)


@dataclass(frozen=True)
class Published:
    """DuckDB's figures for the same scale, read back from its results file."""

    source: str  # the file and the date of its run
    figures: dict[str, tuple[float, float | None]]  # label → (median, bare SQL median)


def duckdb_results(scale: str) -> Published | None:
    path = RESULTS if scale == "city" else RESULTS.with_name(f"RESULTS-{scale}.md")
    if not path.exists():
        return None
    return published(path.read_text(encoding="utf-8"), f"`{path.relative_to(ROOT)}`")


def published(text: str, name: str) -> Published:
    """The figures of a results file's table, by operation label."""
    figures = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("operation", "---"):
            continue
        try:
            figures[cells[0]] = (float(cells[1]), float(cells[2]) if cells[2] != "—" else None)
        except ValueError:
            continue
    dated = next((line[len("- Date: ") :] for line in text.splitlines() if line.startswith("- Date: ")), "?")
    return Published(f"{name}, run of {dated.split(';')[0]}", figures)


def check_data_free() -> None:
    """Refuse while a server holds the project's database: the bench would compete with it for
    the two cores and the figures would mean nothing. (The bench never writes to data/.)"""
    from lib.services.config import db_path

    live = db_path()
    if isinstance(live, Path) and live.exists():
        connect_file(live).close()


def report(
    scale: str,
    counts: dict,
    built_s: float,
    size_mb: float,
    size_after: float,
    peak_mb: float,
    results: list[Result],
    runs: int,
    load_before: float,
    *,
    engine: str = "",
    duckdb_side: Published | None = None,
) -> str:
    missed = [r for r in results if r.verdict().startswith("MISSED")]
    failed = [r for r in results if r.error]
    on_server = engine.startswith("PostgreSQL")
    title = f"# Benchmark on PostgreSQL — scale `{scale}`" if on_server else f"# Benchmark — scale `{scale}`"
    lines = [
        title,
        "",
        f"- Date: {datetime.now(PARIS):%Y-%m-%d %H:%M} (Paris); data built for {BENCH_NOW:%Y-%m-%d %H:%M}",
        f"- Machine: {machine()}; load average before the run: {load_before:.2f}",
        f"- Engine: {engine}",
        f"- City: {counts['families']} families, {counts['children']} children, {counts['bookings']} bookings, "
        f"{counts['attendance']} attendance rows; built in {built_s:.0f} s"
        + (" (built in DuckDB, then copied into the server with COPY, then VACUUM ANALYZE)" if on_server else ""),
        f"- Database {'on the server' if on_server else 'file'}: {size_mb:.0f} MiB after the build, "
        f"{size_after:.0f} MiB after the bench",
        f"- Peak memory of the bench process (build + bench{'; the server is another process' if on_server else ''}): "
        f"{peak_mb:.0f} MiB",
        f"- Each figure: median of {runs} runs after one warm-up (the invoicing draft: 3), taking turns with the bare SQL "
        "(the weekly template: after it); ratio = service ÷ bare SQL of "
        "the same question on the same connection; the bare SQL of a write commits, like the service",
        "- Pages: time of the page script's own run inside AppTest (its service calls and Streamlit building the "
        "elements), without AppTest's fixed cost per run; « Facturation » shows the draft of the last completed "
        "month, not yet published (one document per family)",
    ]
    if duckdb_side is not None:
        lines.append(f"- DuckDB's figures beside them: {duckdb_side.source}, same scale, same machine")
    lines += ["", header(duckdb_side is not None)]
    lines += [
        r.line(duckdb_side.figures.get(r.label) if duckdb_side else None, duckdb_side is not None) for r in results
    ]
    lines += [
        "",
        f"Targets missed: {len(missed)}" + (" — " + ", ".join(r.key for r in missed) if missed else ""),
    ]
    if failed:
        lines.append(f"Operations failed: {len(failed)} — " + "; ".join(f"{r.key}: {r.error}" for r in failed))
    if duckdb_side is not None:
        lines += ["", *faster_on_duckdb(results, duckdb_side)]
    lines.append("")
    return "\n".join(lines)


def faster_on_duckdb(results: list[Result], side: Published) -> list[str]:
    """Where DuckDB answers faster, said plainly: the service's figure and the bare SQL's, both engines."""
    found = []
    for r in results:
        theirs = side.figures.get(r.label)
        if theirs is None:
            continue
        if r.error:  # the service failed here: the bare SQL of the same question still compares the engines
            if r.bare is not None and theirs[1] is not None and theirs[1] < r.bare:
                found.append(
                    f"- {r.label} (the service failed here): the bare SQL of the same question {r.bare:.1f} ms here, "
                    f"{theirs[1]:.1f} ms on DuckDB (×{r.bare / theirs[1]:.1f})"
                )
            continue
        if theirs[0] >= r.median:
            continue
        bare = ""
        if r.bare is not None and theirs[1] is not None:
            bare = f"; the bare SQL of the same question {r.bare:.1f} ms here, {theirs[1]:.1f} ms on DuckDB"
        found.append(
            f"- {r.label}: {r.median:.1f} ms here, {theirs[0]:.1f} ms on DuckDB (×{r.median / theirs[0]:.1f}){bare}"
        )
    if not found:
        return ["DuckDB is faster for none of these operations."]
    return ["**Where DuckDB is faster** (service medians, then the bare SQL of each engine):", "", *found]


if __name__ == "__main__":
    sys.exit(main())
