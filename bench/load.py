"""`make load`: many families at once, then a check that nothing was lost, doubled or overbooked.

Two phases on one city database (built in a temporary directory, like `make bench`):

1. **Threads** (`--threads`, default 200): the registration-opening morning. Each thread is a
   different family and does what a parent does, through the same service functions the pages
   call and the same process-wide connection (a cursor per thread), as in the server: log in,
   open the child's month calendar, book one day that every thread wants (its site's capacity
   for that day is set so that only half of them fit: the rest must land on the waiting list),
   cancel another day, open the invoices; a quarter of them then cancel the contested day again,
   which must promote the waiting list. Every acknowledged action is kept and compared with the
   database afterwards: each acknowledged state is stored (a waiting child may have been promoted),
   the contested day holds exactly the threads that asked for it, no day is over capacity, nobody
   waits while a place is free.
2. **Browsers** (`--browsers`, default 20; 0 to skip): the real server (`streamlit run server.py`)
   on the same file, and that many headless Chromium sessions at once (Playwright, one browser,
   one context per family), each logging in through the login form and opening « Mes inscriptions »
   and « Mes factures ». It reports page latencies and the server's memory per session.

    python -m bench.load [--scale town|city|paris] [--threads 200] [--browsers 20] [--url http://127.0.0.1:PORT]

`--url` drives an already running server instead of starting one; it must be a loopback address
(this test logs in as real families and books: never point it at a live portal).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from bench.city import BadScale, build_city, family_email, scale_named
from bench.run import BENCH_NOW, check_data_free, machine
from lib.domain.clock import PARIS
from lib.domain.errors import DatabaseUnavailable
from lib.store import bookings as booking_store
from lib.store.db import close_database, open_database
from lib.tools.processes import CHROMIUM, CHROMIUM_ARGS

CANTEEN = 1


class BadTarget(ValueError):
    """A load test aimed somewhere it must not go (the message is in French)."""


def check_loopback(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise BadTarget(f"Adresse illisible : « {url} » (attendu : http://127.0.0.1:PORT).")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise BadTarget(
            f"Refusé : « {host} » n'est pas une adresse locale (127.0.0.1, ::1, localhost). Le test de "
            "charge se connecte comme de vraies familles et réserve : jamais contre un portail réel."
        )
    return url.rstrip("/")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, name: str, fn):
        started = time.perf_counter()
        try:
            return fn()
        finally:
            with self.lock:
                self.latencies[name].append((time.perf_counter() - started) * 1000)

    def table(self) -> list[str]:
        lines = ["| action | count | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"]
        for name, values in self.latencies.items():
            lines.append(
                f"| {name} | {len(values)} | {percentile(values, 0.5):.0f} | {percentile(values, 0.95):.0f} | "
                f"{max(values):.0f} |"
            )
        return lines


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy so far (every core, every process)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- phase 1: threads -------------------------------------------------------------------------


def pick_families(db, n: int, today: date) -> tuple[list[tuple[int, int, int]], int, date]:
    """n families (family, child, site), each with a child at the canteen of the busiest site, and
    the contested day (the first canteen day open for booking). The chosen children's bookings of
    that day are set aside first (cancelled, before the clock starts), so that all n want it."""
    year = ctx_year(today)
    day = today + timedelta(days=10)
    while day.isoweekday() not in (1, 2, 4, 5):
        day += timedelta(days=1)
    site = db.value(
        """SELECT r.site_id FROM registrations r JOIN registration_services rs ON rs.registration_id = r.id
                       WHERE r.school_year_id = ? AND rs.service_id = 1 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""",
        [year],
    )
    rows = db.rows(
        """
        SELECT min(r.child_id), c.family_id
        FROM registrations r JOIN registration_services rs ON rs.registration_id = r.id AND rs.service_id = 1
        JOIN children c ON c.id = r.child_id
        WHERE r.school_year_id = ? AND r.site_id = ?
        GROUP BY c.family_id ORDER BY c.family_id LIMIT ?""",
        [year, site, n],
    )
    if len(rows) < n:
        raise RuntimeError(f"only {len(rows)} families at the busiest site at this scale: lower --threads")
    children = [child for child, _ in rows]
    db.write(
        lambda cur: cur.execute(
            "UPDATE bookings SET state = 'cancelled' WHERE service_id = 1 AND day = ? "
            "AND child_id IN (SELECT unnest(?))",
            [day, children],
        )
    )
    return [(family, child, site) for child, family in rows], site, day


def run_threads(path: Path, n: int, out) -> dict:
    from lib.services import auth, invoicing, reservations

    db = open_database(path)
    now, today = BENCH_NOW, BENCH_NOW.date()
    families, site, day = pick_families(db, n, today)
    booked_before = db.value(
        "SELECT count(*) FROM bookings WHERE site_id = ? AND service_id = 1 AND day = ? AND state = 'booked'",
        [site, day],
    )
    capacity = booked_before + n // 2
    old_capacity = db.value("SELECT capacity FROM site_services WHERE site_id = ? AND service_id = 1", [site])
    # Lowering the site's capacity for the contest leaves other days above it from the start: those
    # may not grow, the contested day may not pass it.
    before = dict(
        db.rows(
            "SELECT day, count(*) FROM bookings WHERE site_id = ? AND service_id = 1 AND state = 'booked' GROUP BY day",
            [site],
        )
    )
    db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = ? WHERE site_id = ? AND service_id = 1", [capacity, site]
        )
    )
    print(
        f"Threads: {n} families of site {site} want {day} ({booked_before} children booked, capacity set to "
        f"{capacity}: {n // 2} places for {n} requests).",
        file=out,
        flush=True,
    )
    stats = Stats()
    acks: list[tuple[int, date, str, int]] = []  # (child, day, acknowledged state, order)
    order = iter(range(10**9))
    ack_lock = threading.Lock()
    start = threading.Barrier(n)
    rss_before = rss_mb()

    def ack(child: int, result) -> None:
        with ack_lock:
            for state, keys in (
                ("booked", result.booked),
                ("waiting", result.waiting),
                ("cancelled", result.cancelled),
            ):
                for service_id, when in keys:
                    if service_id == CANTEEN:
                        acks.append((child, when, state, next(order)))

    def family(index: int, family_id: int, child: int) -> None:
        try:
            # each family from its own home address, as the login throttle sees real parents
            address = f"10.{family_id >> 16 & 255}.{family_id >> 8 & 255}.{family_id & 255}"
            _token, actor = stats.timed("login", lambda: auth.login(db, family_email(family_id), "demo", now, address))
            ctx = reservations.booking_context(db, actor, child, ctx_year(today))
            stats.timed("calendar (month)", lambda: reservations.month_cells(db, actor, ctx, day.replace(day=1), now))
            start.wait(timeout=600)  # everyone clicks « Réserver » at the same moment
            ack(
                child,
                stats.timed("book contested day", lambda: reservations.set_day(db, actor, ctx, 1, day, True, now)),
            )
            later = booking_store.states(db.cursor(), child, day + timedelta(days=1), day + timedelta(days=60))
            booked = sorted(
                d for (service_id, d), state in later.items() if service_id == CANTEEN and state == "booked"
            )
            if booked:  # (an occasional eater may have nothing booked in the next two months)
                ack(
                    child,
                    stats.timed("cancel a day", lambda: reservations.set_day(db, actor, ctx, 1, booked[0], False, now)),
                )
            stats.timed("invoices", lambda: invoicing.family_invoices(db, actor, now))
            if index % 4 == 0:  # changed their mind: the place goes to the waiting list
                ack(
                    child,
                    stats.timed(
                        "cancel contested day", lambda: reservations.set_day(db, actor, ctx, 1, day, False, now)
                    ),
                )
        except Exception as exc:
            with stats.lock:
                stats.errors.append(f"family {family_id}: {type(exc).__name__}: {exc}")

    started = time.perf_counter()
    threads = [threading.Thread(target=family, args=(i, f, c)) for i, (f, c, _) in enumerate(families)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    rss_after = rss_mb()
    problems = verify(db, acks, site, day, capacity, before)
    db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = ? WHERE site_id = ? AND service_id = 1", [old_capacity, site]
        )
    )
    close_database(path)
    booked_on_day = [a for a in acks if a[1] == day]
    summary = {
        "threads": n,
        "elapsed_s": elapsed,
        "errors": stats.errors,
        "problems": problems,
        "stats": stats,
        "acks": len(acks),
        "contested": (
            sum(1 for a in booked_on_day if a[2] == "booked"),
            sum(1 for a in booked_on_day if a[2] == "waiting"),
        ),
        "rss_per_session_mb": max(0.0, rss_after - rss_before) / n,
    }
    return summary


def ctx_year(today: date) -> int:
    return today.year if today.month >= 8 else today.year - 1


def verify(db, acks: list[tuple], site: int, day: date, capacity: int, before: dict[date, int]) -> list[str]:
    """Compare every acknowledged action with the database; returns what does not hold."""
    problems = []
    last: dict[tuple[int, date], str] = {}
    for child, when, state, _ in sorted(acks, key=lambda a: a[3]):
        last[(child, when)] = state
    stored = {
        (c, d): s
        for c, d, s in db.rows(
            "SELECT child_id, day, state FROM bookings WHERE service_id = 1 AND child_id IN (SELECT unnest(?))",
            [sorted({a[0] for a in acks})],
        )
    }
    for key, state in last.items():
        found = stored.get(key)
        allowed = {"waiting", "booked"} if state == "waiting" else {state}  # a waiting child may have been promoted
        if found not in allowed:
            problems.append(f"child {key[0]} on {key[1]}: acknowledged {state}, stored {found}")
    duplicates = db.value(
        "SELECT count(*) FROM (SELECT child_id, service_id, day FROM bookings GROUP BY ALL HAVING count(*) > 1)"
    )
    if duplicates:
        problems.append(f"{duplicates} bookings stored twice")
    booked, waiting = db.row(
        """SELECT count(*) FILTER (WHERE state = 'booked'), count(*) FILTER (WHERE state = 'waiting')
                                FROM bookings WHERE site_id = ? AND service_id = 1 AND day = ?""",
        [site, day],
    )
    if booked > capacity:
        problems.append(f"{day}: {booked} booked for {capacity} places")
    if waiting and booked < capacity:
        problems.append(f"{day}: {waiting} waiting while {capacity - booked} places are free")
    wanted = {c for c, d, s, _ in acks if d == day and s in ("booked", "waiting")}
    kept = {c for (c, d), s in last.items() if d == day and s != "cancelled"}
    on_day = {c for (c, d), s in stored.items() if d == day and s in ("booked", "waiting")}
    if kept != on_day & wanted:
        problems.append(f"{day}: {len(kept)} children should hold a place or a waiting rank, {len(on_day & wanted)} do")
    # Every (site, service, day) the load touched (each change bumps its lock row).
    over = db.rows("""SELECT b.site_id, b.service_id, b.day, count(*) AS n, any_value(ss.capacity) FROM bookings b
                      JOIN site_services ss USING (site_id, service_id)
                      JOIN booking_day_locks l USING (site_id, service_id, day)
                      WHERE b.state = 'booked' GROUP BY b.site_id, b.service_id, b.day
                      HAVING count(*) > any_value(ss.capacity)""")
    for row in over:
        if (row[0], row[1]) != (site, CANTEEN) or row[2] == day or row[3] > before.get(row[2], 0):
            problems.append(f"over capacity: site {row[0]} service {row[1]} {row[2]}: {row[3]} > {row[4]}")
    return problems


# --- phase 2: browsers ------------------------------------------------------------------------


async def _browser_sessions(base: str, emails: list[str], stats: Stats, prefix: str = "browser", all_open=None) -> None:
    """Each email logs in in its own browser context and opens its pages; `all_open()` is
    called once every session has finished, before any is closed (their sessions still held)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        async def session(email: str):
            context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
            page = await context.new_page()
            page.set_default_timeout(120_000)
            try:
                started = time.perf_counter()
                await page.goto(base + "/")
                await page.get_by_label("Adresse e-mail").fill(email)
                await page.get_by_label("Mot de passe").fill("demo")
                await page.get_by_role("button", name="Se connecter").click()
                await page.get_by_text("Bonjour").first.wait_for()
                stats.latencies[f"{prefix}: log in → home shown"].append((time.perf_counter() - started) * 1000)
                for title, path, marker in (
                    ("Mes inscriptions", "mes-inscriptions", "Mes inscriptions"),
                    ("Mes factures", "mes-factures", "Mes factures"),
                ):
                    started = time.perf_counter()
                    await page.goto(f"{base}/{path}")
                    await page.get_by_role("heading", name=marker).first.wait_for()
                    # a locator, not wait_for_function (eval, which the portal's CSP refuses)
                    await page.locator(
                        '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]'
                    ).first.wait_for(state="detached")
                    stats.latencies[f"{prefix}: {title}"].append((time.perf_counter() - started) * 1000)
            except Exception as exc:
                stats.errors.append(f"{email}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            return context

        contexts = await asyncio.gather(*(session(e) for e in emails))
        if all_open:
            await asyncio.sleep(2)  # the last scripts' runs end
            all_open()
        for context in contexts:
            await context.close()
        await browser.close()


def run_browsers(path: Path, n: int, url: str | None, out) -> dict:
    from tests.serve import start_server, stop

    db = open_database(path)
    emails = [family_email(r[0]) for r in db.rows("SELECT id FROM families ORDER BY id DESC LIMIT ?", [n])]
    close_database(path)
    proc = None
    if url is None:
        log = path.with_suffix(".server.log")
        proc, url = start_server(path, log, frozen_now=BENCH_NOW.isoformat(), timeout_s=300)
    stats = Stats()
    # One session alone first: what a family waits for when the server is quiet (and the warm-up).
    asyncio.run(_browser_sessions(url, emails[:1], stats, prefix="one browser alone"))
    idle = rss_mb(proc.pid) if proc else 0.0
    peak = [idle]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() and proc:
            peak[0] = max(peak[0], rss_mb(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.perf_counter()
    server_cpu, busy = (cpu_s(proc.pid) if proc else 0.0), machine_busy_s()
    held = [idle]

    def all_open() -> None:
        held[0] = rss_mb(proc.pid) if proc else 0.0

    try:
        asyncio.run(_browser_sessions(url, emails, stats, all_open=all_open))
        server_cpu = (cpu_s(proc.pid) if proc else 0.0) - server_cpu
        busy = machine_busy_s() - busy
    finally:
        done.set()
        watcher.join()
        if proc:
            stop(proc)
    elapsed = time.perf_counter() - started
    print(f"Browsers: {n} sessions in {elapsed:.1f} s.", file=out, flush=True)
    return {
        "browsers": n,
        "stats": stats,
        "errors": stats.errors,
        "server_idle_mb": idle,
        "server_peak_mb": peak[0],
        "per_session_mb": (held[0] - idle) / n if n and proc else 0.0,
        "held_mb": held[0],
        "elapsed_s": elapsed,
        "server_cpu_s": server_cpu,
        "machine_busy_s": busy,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Test de charge du Portail Famille (familles simultanées).")
    parser.add_argument("--scale", default=os.environ.get("SCALE") or None, help="échelle : town, city, paris")
    parser.add_argument("--threads", type=int, default=200, help="familles simultanées (appels de services)")
    parser.add_argument("--browsers", type=int, default=20, help="sessions Chromium simultanées (0 : aucune)")
    parser.add_argument("--url", default=None, help="serveur déjà lancé (adresse locale uniquement)")
    parser.add_argument("--output", type=Path, default=None, help="écrire le résumé dans ce fichier Markdown")
    args = parser.parse_args(argv)
    try:
        scale = scale_named(args.scale)
        if not 2 <= args.threads <= 2000 or not 0 <= args.browsers <= 200:
            raise BadScale("Nombre de familles hors limites (fils : 2 à 2000, navigateurs : 0 à 200).")
        url = check_loopback(args.url) if args.url else None
        if args.browsers and not Path(CHROMIUM).exists():
            raise BadScale(f"Chromium est absent ({CHROMIUM}) : installez-le ou lancez avec --browsers 0.")
        check_data_free()
    except (BadScale, BadTarget, DatabaseUnavailable) as exc:
        print(f"Erreur : {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    out = sys.stdout
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="portail-load-") as tmp:
        path = Path(tmp) / f"{scale.name}.duckdb"
        print(f"Construction de la ville « {scale.name} » …", flush=True)
        build_city(path, scale, BENCH_NOW.date())
        threads = run_threads(path, args.threads, out)
        browsers = run_browsers(path, args.browsers, url, out) if args.browsers else None
    lines = report(scale.name, threads, browsers, load_before)
    print("\n".join(lines))
    if args.output:
        # The sections below this phase's summary (`## …`: bench/wsload.py's, the notes) stay.
        kept = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        kept = kept[kept.index("\n## ") :] if "\n## " in kept else ""
        args.output.write_text("\n".join(lines).rstrip("\n") + "\n" + kept, encoding="utf-8")
        print(f"Résultats écrits dans {args.output}")
    failed = threads["problems"] or threads["errors"] or (browsers and browsers["errors"])
    return 1 if failed else 0


def report(scale: str, threads: dict, browsers: dict | None, load_before: float) -> list[str]:
    booked, waiting = threads["contested"]
    lines = [
        f"# Load test — scale `{scale}`",
        "",
        f"- Date: {datetime.now(PARIS):%Y-%m-%d %H:%M} (Paris); machine: {machine()}; load average before the "
        f"run: {load_before:.2f}",
        f"- Threads: {threads['threads']} families at once through the services, {threads['elapsed_s']:.1f} s in all; "
        f"{threads['acks']} acknowledged booking changes; contested day: {booked} booked, {waiting} on the waiting "
        f"list; errors: {len(threads['errors'])}; memory: {threads['rss_per_session_mb']:.1f} MiB per family",
        f"- Check against the database: {'every acknowledged action stored, nothing doubled, no day over capacity, nobody waiting while a place is free' if not threads['problems'] else '; '.join(threads['problems'][:5])}",
    ]
    if browsers:
        lines.append(
            f"- Browsers: {browsers['browsers']} Chromium sessions at once on the real server; errors: "
            f"{len(browsers['errors'])}; server memory {browsers['server_idle_mb']:.0f} MiB before them, "
            f"{browsers['server_peak_mb']:.0f} MiB at peak while they ran, {browsers['held_mb']:.0f} MiB with "
            f"the {browsers['browsers']} sessions open and idle: {browsers['per_session_mb']:.1f} MiB per session"
        )
        lines.append(
            f"- Where the CPU went while the {browsers['browsers']} browsers ran ({browsers['elapsed_s']:.0f} s, "
            f"{os.cpu_count()} cores): the portal's server {browsers['server_cpu_s']:.0f} s, the whole machine "
            f"{browsers['machine_busy_s']:.0f} s (Chromium and the rest: "
            f"{browsers['machine_busy_s'] - browsers['server_cpu_s']:.0f} s)"
        )
    lines += ["", *threads["stats"].table()]
    if browsers:
        lines += browsers["stats"].table()[2:]
    errors = threads["errors"] + (browsers["errors"] if browsers else [])
    if errors:
        lines += ["", "Errors (first 10):", *[f"- {e}" for e in errors[:10]]]
    return [*lines, ""]


if __name__ == "__main__":
    sys.exit(main())
