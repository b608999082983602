"""A protocol-level load client: simulated families that drive the real server the way a browser
does, through Streamlit's own WebSocket protocol (BackMsg/ForwardMsg protobufs), with no browser.

A family logs in over HTTP (the login form's POST, as a browser submits it: the CSRF cookie and
field, the Origin), keeps the session cookie, opens the WebSocket `/_stcore/stream` with it and
then asks for script runs exactly as Streamlit's frontend does (`BackMsg.rerun_script` with the
page's script hash and the widget states): the home page, « Mes inscriptions », a day chosen on
the calendar (the calendar component's value sent as its widget state, as the component's
frontend does), the day panel's « Réserver ce jour » / « Annuler ce jour » button (a trigger), and
« Mes factures ». Every interaction is timed from the request sent to the `script_finished`
message that ends the last run it causes (a click that ends in `st.rerun()` gives two runs).

Each acknowledged booking change (the page's green confirmation after the click) is recorded,
so that the caller can compare them with the database afterwards (`verify`).

    python -m bench.wsload --url http://127.0.0.1:PORT --db PATH_OR_URL [--families 10] [--seconds 60]

Only a loopback address is accepted (it logs in as real families and books).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html.parser
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.load import BadTarget, check_loopback, cpu_s, percentile, rss_mb  # noqa: F401 (BadTarget: for the callers)
from lib.tools.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[1]

PASSWORD = "demo"
CANTEEN = 1
HOME, BOOKINGS, INVOICES = "Accueil", "Mes inscriptions", "Mes factures"
DAY_BUTTONS = ("Réserver ce jour", "Annuler ce jour")
RUN_TIMEOUT_S = 120.0


class LoadError(Exception):
    """One family's step that did not go as a browser would see it."""


# --- the login, over HTTP ------------------------------------------------------------------------


class _CsrfField(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.value = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf":
            self.value = found.get("value") or ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the 303 after the login is read, not followed
        return None


def _cookies(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            found[key.strip()] = val.strip()
    return found


def login(base: str, email: str, password: str = PASSWORD, address: str | None = None) -> dict[str, str]:
    """The login form as a browser submits it; the cookies the portal set (its session cookie among them).
    `address`: the family's own address, as a trusted proxy tells it (X-Forwarded-For): the login
    throttle counts per address, and a town's families do not all log in from one."""
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(f"{base}/connexion", timeout=60) as answer:
        page = answer.read().decode("utf-8")
        cookies = _cookies(answer.headers.items())
    parser = _CsrfField()
    parser.feed(page)
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf": parser.value}).encode()
    request = urllib.request.Request(
        f"{base}/auth/login",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": base,
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            **({"X-Forwarded-For": address} if address else {}),
        },
    )
    try:
        with opener.open(request, timeout=60) as answer:
            status, headers = answer.status, answer.headers.items()
    except urllib.error.HTTPError as exc:  # the 303 (not followed) and the refusals land here
        status, headers = exc.code, exc.headers.items()
    if status != 303:
        raise LoadError(f"login {email}: HTTP {status}")
    cookies.update(_cookies(headers))
    return {k: v for k, v in cookies.items() if v}


# --- one browser tab, in protocol messages ------------------------------------------------------


@dataclass
class Element:
    kind: str  # the element's oneof name: "button", "component_instance", "alert", "markdown", ...
    id: str = ""
    label: str = ""
    text: str = ""
    args: dict = field(default_factory=dict)


@dataclass
class Run:
    """What the last interaction brought: its elements (every run it caused), its runs, its time."""

    elements: list[Element]
    runs: int
    seconds: float

    def buttons(self, label: str) -> list[Element]:
        return [e for e in self.elements if e.kind == "button" and e.label == label]

    def texts(self) -> list[str]:
        return [e.text for e in self.elements if e.text]


def _element(delta) -> Element | None:
    if delta.WhichOneof("type") != "new_element":
        return None
    el = delta.new_element
    kind = el.WhichOneof("type") or ""
    inner = getattr(el, kind, None)
    if kind == "component_instance":
        try:
            args = json.loads(inner.json_args or "{}")
        except ValueError:
            args = {}
        return Element(kind, inner.id, inner.component_name, "", args)
    if kind in ("button", "download_button", "selectbox", "checkbox", "toggle", "radio"):
        return Element(kind, inner.id, inner.label)
    if kind == "alert":
        return Element(kind, text=inner.body)
    if kind in ("markdown", "heading"):
        return Element(kind, text=inner.body)
    if kind == "exception":
        return Element(kind, text=f"{inner.type}: {inner.message}")
    return Element(kind)


class Tab:
    """One browser tab connected to the server: it asks for script runs and reads their messages."""

    def __init__(self, base: str, cookies: dict[str, str]):
        self.base = base
        self.cookies = cookies
        self.ws = None
        self.pages: dict[str, tuple[str, str]] = {}  # page title -> (script hash, url path)
        self.page_hash = ""
        self.runs = 0  # script runs finished on this tab (each rerun counted)
        self._queue: asyncio.Queue = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    async def open(self) -> None:
        ws_url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit"],  # type: ignore[list-item]
            additional_headers={
                "Origin": self.base,
                "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            },
            max_size=None,
            open_timeout=60,
            ping_interval=None,
        )
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                await self._queue.put(msg)
        except websockets.ConnectionClosed:
            pass
        await self._queue.put(None)

    def _context(self, path: str) -> ContextInfo:
        return ContextInfo(
            timezone="Europe/Paris",
            timezone_offset=-60,
            locale="fr-FR",
            url=f"{self.base}/{path}",
            is_embedded=False,
            color_scheme="light",
        )

    async def run(self, page: str | None = None, widgets: Iterable[WidgetState] = ()) -> Run:
        """Ask for a script run (on `page`, a title, or the current page) with these widget states;
        wait for the run(s) it causes to finish. The elements of every run come back."""
        assert self.ws is not None
        msg = BackMsg()
        state = msg.rerun_script
        if page is not None and page in self.pages:
            self.page_hash, path = self.pages[page]
        else:
            path = next((p for h, p in self.pages.values() if h == self.page_hash), "")
        state.query_string = ""
        state.page_script_hash = self.page_hash
        state.page_name = path if not self.page_hash else ""
        state.widget_states.widgets.extend(widgets)
        state.context_info.CopyFrom(self._context(path))
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        elements: list[Element] = []
        runs = 0
        deadline = started + RUN_TIMEOUT_S
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise LoadError(f"no script_finished within {RUN_TIMEOUT_S:.0f} s")
            forward = await asyncio.wait_for(self._queue.get(), timeout=left)
            if forward is None:
                raise LoadError("websocket closed by the server")
            kind = forward.WhichOneof("type")
            if kind == "delta":
                found = _element(forward.delta)
                if found is not None:
                    elements.append(found)
            elif kind == "navigation":
                self.pages = {p.page_name: (p.page_script_hash, p.url_pathname) for p in forward.navigation.app_pages}
                self.page_hash = forward.navigation.page_script_hash
            elif kind == "page_not_found":
                raise LoadError("page not found")
            elif kind == "script_finished":
                runs += 1
                self.runs += 1
                status = forward.script_finished
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise LoadError("script compile error")
                if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                    break
                # FINISHED_EARLY_FOR_RERUN: st.rerun() (or a newer request) — the next run follows
        errors = [e.text for e in elements if e.kind == "exception"]
        if errors:
            raise LoadError(f"exception on the page: {errors[0][:200]}")
        return Run(elements, runs, time.perf_counter() - started)


# --- what a family does ----------------------------------------------------------------------------


@dataclass
class Ack:
    family_id: int
    child_id: int
    day: date
    state: str  # "booked", "waiting" or "cancelled": what the page confirmed
    order: int


@dataclass
class Results:
    """Latencies (ms) per interaction while measuring, and what the arrivals (log in, first run) took."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    arrival: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    runs: int = 0
    interactions: int = 0
    sessions: int = 0  # tabs opened (logged in, websocket open)
    failed_sessions: int = 0  # tabs whose family stopped on an error
    measuring: bool = True
    started: float = 0.0
    ended: float = 0.0
    cpu_started: float = 0.0  # the server's CPU seconds when the measured window opened, and when it closed
    cpu_ended: float = 0.0

    def record(self, name: str, run: Run) -> None:
        if not self.measuring:
            self.arrival[name].append(run.seconds * 1000)
            return
        self.latencies[name].append(run.seconds * 1000)
        self.interactions += 1
        self.runs += run.runs

    def table(self) -> list[str]:
        lines = ["| interaction | count | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"]
        for name, values in [*self.arrival.items(), *self.latencies.items()]:
            lines.append(
                f"| {name} | {len(values)} | {percentile(values, 0.5):.0f} | {percentile(values, 0.95):.0f} | "
                f"{max(values):.0f} |"
            )
        return lines


class Gate:
    """Every family logs in and opens its tab first; the measured clicking starts when the last has
    arrived (logging 100 families in is not what the interactions' numbers are about)."""

    def __init__(self, families: int, seconds: float, results: Results, cpu: Callable[[], float] | None = None):
        self.left, self.seconds, self.results, self.cpu = families, seconds, results, cpu
        self.opened = asyncio.Event()
        self.until = 0.0

    def arrived(self) -> None:
        self.left -= 1
        if self.left == 0 and not self.opened.is_set():
            self.until = time.monotonic() + self.seconds
            self.results.measuring = True
            self.results.started = time.perf_counter()
            self.results.cpu_started = self.cpu() if self.cpu else 0.0
            self.opened.set()


_ORDER = itertools.count()


def _canteen_days(run: Run) -> list[tuple[date, str]]:
    """The canteen's days a parent may change in the month shown: (day, state) from the calendar's events."""
    found = []
    for comp in (e for e in run.elements if e.kind == "component_instance"):
        for event in comp.args.get("events", []) if isinstance(comp.args, dict) else []:
            props = event.get("extendedProps") or {}
            if props.get("service_id") != CANTEEN or props.get("state") not in ("booked", "bookable", "waiting"):
                continue
            if "🔒" in event.get("title", ""):
                continue
            found.append((date.fromisoformat(event["start"][:10]), props["state"]))
    return found


def _calendar(run: Run) -> Element:
    for e in run.elements:
        if e.kind == "component_instance" and "calendar" in e.label:
            return e
    raise LoadError("no calendar on « Mes inscriptions »")


def _calendar_click(calendar: Element, day: date) -> WidgetState:
    """The component's value after a click on the day's event, as streamlit-calendar's frontend sends it."""
    value = {
        "callback": "eventClick",
        "eventClick": {
            "event": {"id": f"{CANTEEN}:{day.isoformat()}", "start": day.isoformat(), "allDay": True},
            "view": {"type": "dayGridMonth"},
        },
    }
    return WidgetState(id=calendar.id, json_value=json.dumps(value))


def _trigger(button: Element) -> WidgetState:
    """A button's click, as the frontend sends it: a trigger, true for this one run."""
    return WidgetState(id=button.id, trigger_value=True)


async def family_session(
    base: str,
    family_id: int,
    child_id: int,
    email: str,
    results: Results,
    *,
    until: float = 0.0,
    gate: Gate | None = None,
    rounds: int | None = None,
    pick: Callable[[list[tuple[date, str]]], tuple[date, str] | None] | None = None,
    pause: float = 0.0,
) -> None:
    """One family: log in, open the home page, (wait at the `gate`), then loop « Mes inscriptions »
    → a day chosen on the calendar → its button → « Mes factures » → « Accueil » until `until`
    (monotonic; the gate's when there is one) or `rounds` rounds, then close the tab."""
    pick = pick or (lambda days: days[0] if days else None)
    tab = None
    arrived = False

    async def step(name: str, run: Run) -> Run:
        results.record(name, run)
        if pause:
            await asyncio.sleep(pause)
        return run

    try:
        started = time.perf_counter()
        address = f"10.{family_id >> 16 & 255}.{family_id >> 8 & 255}.{family_id & 255}"  # its home's
        cookies = await asyncio.to_thread(login, base, email, PASSWORD, address)
        results.arrival["login (HTTP)"].append((time.perf_counter() - started) * 1000)
        tab = Tab(base, cookies)
        await tab.open()
        results.sessions += 1
        results.record("home (first run)", await tab.run())
        if BOOKINGS not in tab.pages:
            raise LoadError(f"not logged in (pages: {sorted(tab.pages)})")
        if gate is not None:
            arrived = True
            gate.arrived()
            await gate.opened.wait()
            until = gate.until
        done = 0
        last_day: date | None = None
        while time.monotonic() < until and (rounds is None or done < rounds):
            page = await step(BOOKINGS, await tab.run(BOOKINGS))
            days = _canteen_days(page)
            following = [b for b in page.buttons("▶") if "resa_next" in b.id]
            if not days and following:  # nothing left to change this month: the next one, as a parent would
                page = await step("next month", await tab.run(widgets=[_trigger(following[0])]))
                days = _canteen_days(page)
            # Not the day just changed: the calendar sends the same value for the same day again, and
            # the page takes a repeated value for the component repeating its last click (lib/ui/calendar.py).
            chosen = pick([d for d in days if d[0] != last_day] or days)
            if chosen is not None:
                day, _state = chosen
                click = _calendar_click(_calendar(page), day)
                shown = await step("calendar: day chosen", await tab.run(widgets=[click]))
                buttons = [b for label in DAY_BUTTONS for b in shown.buttons(label) if "resa_day_cantine_" in b.id]
                if not buttons:
                    raise LoadError(f"no day button for {day} (texts: {shown.texts()[:3]})")
                wanted = buttons[0].label == DAY_BUTTONS[0]
                clicked = await tab.run(widgets=[_trigger(buttons[0])])
                await step("book or cancel the day", clicked)
                state = _acknowledged(clicked, wanted)
                if state is None:
                    alerts = [e.text[:160] for e in clicked.elements if e.kind == "alert"]
                    raise LoadError(f"no confirmation for {day}; the page said: {alerts[:3]}")
                results.acks.append(Ack(family_id, child_id, day, state, next(_ORDER)))
                last_day = day
            await step(INVOICES, await tab.run(INVOICES))
            await step(HOME, await tab.run(HOME))
            done += 1
    except Exception as exc:  # every failure is a reported error, the others go on
        results.errors.append(f"family {family_id}: {type(exc).__name__}: {exc}")
        if tab is not None:
            results.failed_sessions += 1
    finally:
        if gate is not None and not arrived:
            gate.arrived()
        if tab is not None:
            await tab.close()


def _acknowledged(run: Run, wanted: bool) -> str | None:
    """The state the page confirmed after the click (its flash message), None without one."""
    for text in (e.text for e in run.elements if e.kind == "alert"):
        if "Réservations enregistrées" not in text:  # « Aucun changement … » or a refusal
            continue
        if wanted and "attente" in text:
            return "waiting"
        if wanted and "réservé" in text:
            return "booked"
        if not wanted and "annulé" in text:
            return "cancelled"
    return None


async def run_families(
    base: str,
    families: list[tuple[int, int, str]],
    seconds: float,
    *,
    seed: int = 17,
    cpu: Callable[[], float] | None = None,
) -> Results:
    """`families` (family id, child id, e-mail) at once, each clicking without pause for `seconds`
    once all have logged in. Each family changes its own days of the month shown (a random one each time)."""
    results = Results(measuring=False)
    rng = random.Random(seed)

    def picker() -> Callable[[list[tuple[date, str]]], tuple[date, str] | None]:
        local = random.Random(rng.randrange(10**9))
        return lambda days: local.choice(days) if days else None

    gate = Gate(len(families), seconds, results, cpu)

    async def close_window() -> None:  # the window closes at `until`; the last clicks end after it
        await gate.opened.wait()
        await asyncio.sleep(max(0.0, gate.until - time.monotonic()))

    async def everyone() -> None:
        await asyncio.gather(
            *(family_session(base, fid, cid, email, results, gate=gate, pick=picker()) for fid, cid, email in families)
        )

    await asyncio.gather(everyone(), close_window())
    results.ended = time.perf_counter()
    results.cpu_ended = cpu() if cpu else 0.0
    return results


def summary(results: Results) -> dict:
    elapsed = max(results.ended - results.started, 1e-9)
    values = [v for vals in results.latencies.values() for v in vals]
    return {
        "sessions": results.sessions - results.failed_sessions,
        "interactions": results.interactions,
        "runs": results.runs,
        "elapsed_s": elapsed,
        "interactions_per_s": results.interactions / elapsed,
        "runs_per_s": results.runs / elapsed,
        "p50_ms": percentile(values, 0.5),
        "p95_ms": percentile(values, 0.95),
        "errors": len(results.errors),
        "acks": len(results.acks),
        "server_cpu_s": results.cpu_ended - results.cpu_started,
    }


# --- the check against the database -----------------------------------------------------------------


def over_capacity(db) -> dict[tuple[int, int, date], int]:
    """(site, service, day) → children booked, where more are booked than the site's capacity."""
    rows = db.rows(
        """SELECT b.site_id, b.service_id, b.day, count(*) FROM bookings b
           JOIN site_services ss ON ss.site_id = b.site_id AND ss.service_id = b.service_id
           WHERE b.state = 'booked' GROUP BY b.site_id, b.service_id, b.day, ss.capacity
           HAVING count(*) > ss.capacity"""
    )
    return {(int(site), int(service), day): int(n) for site, service, day, n in rows}


def verify(db, acks: list[Ack], before: dict[tuple[int, int, date], int]) -> list[str]:
    """What does not hold in the database after the run: an acknowledged change not stored as
    acknowledged (the last one per child and day; a waiting child may have been promoted since),
    a booking stored twice, a day over its capacity that was not (or less) before the run."""
    problems = []
    last: dict[tuple[int, date], str] = {}
    for ack in sorted(acks, key=lambda a: a.order):
        last[(ack.child_id, ack.day)] = ack.state
    if last:
        children = sorted({child for child, _ in last})
        marks = ", ".join("?" for _ in children)
        stored = {
            (int(c), d): state
            for c, d, state in db.rows(
                f"SELECT child_id, day, state FROM bookings WHERE service_id = ? AND child_id IN ({marks})",
                [CANTEEN, *children],
            )
        }
        for (child, day), state in sorted(last.items()):
            found = stored.get((child, day))
            allowed = {"waiting", "booked"} if state == "waiting" else {state}
            if found not in allowed:
                problems.append(f"child {child} on {day}: acknowledged {state}, stored {found}")
    doubled = db.value(
        """SELECT count(*) FROM (SELECT child_id, service_id, day FROM bookings
           GROUP BY child_id, service_id, day HAVING count(*) > 1) AS twice"""
    )
    if doubled:
        problems.append(f"{doubled} bookings stored twice")
    for key, n in over_capacity(db).items():
        if n > before.get(key, 0):
            problems.append(f"over capacity: site {key[0]} service {key[1]} {key[2]}: {n} booked")
    return problems


# --- the server under test ----------------------------------------------------------------------


def start_server(
    db: str, port: int, log: Path, *, gc_after_runs: bool | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """`streamlit run server.py` on 127.0.0.1:`port` serving `db` (a DuckDB path or a PostgreSQL URL),
    once its health check answers; `gc_after_runs` sets Streamlit's runner.postScriptGC for this
    run only (None: as .streamlit/config.toml says)."""
    command = [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    if gc_after_runs is not None:
        command += ["--runner.postScriptGC", "true" if gc_after_runs else "false"]
    with open(log, "a") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            # the families' addresses come in X-Forwarded-For, from this machine (see `login`)
            env=dict(os.environ, PORTAIL_DB=db, PORTAIL_TRUSTED_PROXIES="127.0.0.1", **(env or {})),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return proc, base
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError("the server did not start: " + log.read_text()[-2000:])
        time.sleep(0.3)


def families_of(db: str, n: int, first: int = 0) -> list[tuple[int, int, str]]:
    """n demo families (family id, the child « Mes inscriptions » shows first, e-mail) with a child at
    the canteen this school year, each child's order unambiguous (no twins)."""
    from lib.store.db import connect

    database = connect(db)
    try:
        rows = database.rows(
            """
            SELECT f.family_id, f.child_id, u.email FROM (
                SELECT c.family_id, c.id AS child_id,
                       row_number() OVER (PARTITION BY c.family_id ORDER BY c.birth_date) AS rank,
                       count(*) OVER (PARTITION BY c.family_id, c.birth_date) AS twins
                FROM children c) f
            JOIN users u ON u.family_id = f.family_id AND u.role = 'famille'
            WHERE f.rank = 1 AND f.twins = 1 AND u.email LIKE 'famille%'
              AND EXISTS (SELECT 1 FROM registrations r JOIN registration_services rs ON rs.registration_id = r.id
                          WHERE r.child_id = f.child_id AND rs.service_id = 1)
            ORDER BY f.family_id LIMIT ? OFFSET ?""",
            [n, first],
        )
    finally:
        database.close()
    if len(rows) < n:
        raise LoadError(f"only {len(rows)} demo families fit (asked for {n})")
    return [(int(f), int(c), str(e)) for f, c, e in rows]


# --- the memory soak --------------------------------------------------------------------------------


async def soak(
    base: str,
    families: list[tuple[int, int, str]],
    minutes: float,
    *,
    at_once: int,
    pause: float,
    rounds: int,
    pid: int,
    log: Path,
) -> Results:
    """Sessions coming and going for `minutes`: `at_once` families at a time, each doing `rounds`
    rounds with `pause` seconds between clicks, then leaving (its tab closed) for the next family.
    The server's RSS goes to `log` once a minute (minute, MiB, sessions opened so far, runs so far)."""
    results = Results()
    results.started = time.perf_counter()
    until = time.monotonic() + minutes * 60
    cycle = itertools.cycle(families)

    async def worker() -> None:
        while time.monotonic() < until:
            fid, cid, email = next(cycle)
            await family_session(base, fid, cid, email, results, until=until, rounds=rounds, pause=pause)

    async def watch() -> None:
        with open(log, "a") as out:
            minute = 0
            while time.monotonic() < until:
                out.write(f"{minute}\t{rss_mb(pid):.1f}\t{results.sessions}\t{results.runs}\t{len(results.errors)}\n")
                out.flush()
                minute += 1
                await asyncio.sleep(60)
            out.write(f"{minute}\t{rss_mb(pid):.1f}\t{results.sessions}\t{results.runs}\t{len(results.errors)}\n")

    await asyncio.gather(watch(), *(worker() for _ in range(at_once)))
    results.ended = time.perf_counter()
    return results


# --- `make load`: the setups, the table --------------------------------------------------------------


@dataclass
class Measure:
    setup: str
    families: int
    numbers: dict
    problems: list[str]
    errors: list[str]
    table: list[str]
    cpu_measured: bool = True


def _processes_cpu(pids: list[int]) -> Callable[[], float]:
    return lambda: sum(cpu_s(pid) for pid in pids if Path(f"/proc/{pid}").exists())


def _tree_cpu(root: int) -> Callable[[], float]:
    """CPU seconds of a process and its children (PostgreSQL's postmaster and its backends)."""

    def cpu() -> float:
        total = cpu_s(root) if Path(f"/proc/{root}").exists() else 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    return cpu


def _serving_pids(ports: list[int]) -> list[int]:
    """The `streamlit run` processes listening on these ports (read from their command lines)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(words) and b"--server.port" in words:
            at = words.index(b"--server.port")
            if at + 1 < len(words) and words[at + 1].decode() in {str(p) for p in ports}:
                found.append(int(entry.name))
    return found


def _measure(
    setup: str,
    base: str,
    db: str,
    families: list[tuple[int, int, str]],
    seconds: float,
    pids: list[int],
    db_cpu: Callable[[], float] | None = None,
) -> tuple[Results, dict]:
    """One warm-up family alone (the pages' first runs), then all the families at once."""
    cpu = _processes_cpu(pids) if pids else None
    warm = asyncio.run(run_families(base, families[:1], 3))
    db_started = db_cpu() if db_cpu else 0.0
    results = asyncio.run(run_families(base, families, seconds, cpu=cpu))
    db_used = (db_cpu() - db_started) if db_cpu else None
    results.acks = warm.acks + results.acks
    numbers = summary(results)
    numbers["cpu_measured"] = bool(pids)
    numbers["db_cpu_s"] = db_used  # PostgreSQL's processes, over the whole run (its window and a little more)
    print(
        f"{setup}, {len(families)} familles : {numbers['runs_per_s']:.1f} exécutions/s, p95 {numbers['p95_ms']:.0f} ms, "
        f"{numbers['errors']} erreur(s)",
        flush=True,
    )
    return results, numbers


def _gc_words(gc: bool | None) -> str:
    return "" if gc is None else (" (gc.collect after each run)" if gc else " (no gc.collect after runs)")


def measure_duckdb(demo: Path, n: int, seconds: float, port: int, work: Path, gc: bool | None) -> Measure:
    """One process on a copy of the demo's DuckDB file."""
    from lib.store.db import connect

    copy = work / f"duckdb-{n}.duckdb"
    shutil.copyfile(demo, copy)
    families = families_of(str(copy), n)
    db = connect(str(copy))
    before = over_capacity(db)
    db.close()
    setup = "1 process, DuckDB" + _gc_words(gc)
    proc, base = start_server(str(copy), port, work / f"duckdb-{n}.log", gc_after_runs=gc)
    try:
        results, numbers = _measure(setup, base, str(copy), families, seconds, [proc.pid])
    finally:
        stop(proc)
    db = connect(str(copy))
    try:
        problems = verify(db, results.acks, before)
    finally:
        db.close()
    copy.unlink()
    return Measure(setup, n, numbers, problems, results.errors, results.table())


def measure_postgresql(
    template_url: str,
    n: int,
    seconds: float,
    port: int,
    work: Path,
    gc: bool | None,
    replicas: int,
    db_cpu: Callable[[], float] | None = None,
) -> Measure:
    """`replicas` processes on a copy of the demo's PostgreSQL database: one process alone, or a
    cluster behind HAProxy (lib/tools/cluster.py)."""
    from lib.store import server
    from lib.store.db import connect

    url = server.with_database(template_url, f"load_{replicas}_{n}")
    if server.database_exists(url):
        server.drop_database(url)
    server.create_database(url, template=server.database_name(template_url))
    families = families_of(url, n)
    db = connect(url)
    try:
        before = over_capacity(db)
        if replicas == 1:
            setup = "1 process, PostgreSQL" + _gc_words(gc)
            proc, base = start_server(url, port, work / f"pg1-{n}.log", gc_after_runs=gc)
            try:
                results, numbers = _measure(setup, base, url, families, seconds, [proc.pid], db_cpu)
            finally:
                stop(proc)
        else:
            from lib.tools.cluster import running_cluster  # the other helper's module (make cluster)

            setup = f"{replicas} replicas + HAProxy, PostgreSQL"
            with running_cluster(replicas, url, port) as cluster:
                ports = [int(urllib.parse.urlsplit(u).port or 0) for u in cluster.replica_urls]
                procs = [getattr(r, "proc", None) for r in getattr(cluster, "replicas", [])]
                pids = [proc.pid for proc in procs if proc is not None] or _serving_pids(ports)
                results, numbers = _measure(setup, cluster.url, url, families, seconds, pids, db_cpu)
        problems = verify(db, results.acks, before)
    finally:
        db.close()
    server.drop_database(url)
    return Measure(setup, n, numbers, problems, results.errors, results.table())


def report(measures: list[Measure], seconds: float, notes: list[str]) -> list[str]:
    from bench.run import machine
    from lib.domain.clock import PARIS

    lines = [
        "## Protocol level: the real server driven like browsers, without browsers",
        "",
        f"- Date: {datetime.now(PARIS):%Y-%m-%d %H:%M} (Paris); machine: {machine()}; load average before: "
        f"{os.getloadavg()[0]:.2f}",
        "- `bench/wsload.py`: each family logs in over HTTP (the login form), opens Streamlit's WebSocket and asks "
        "for script runs as the browser does: « Accueil », « Mes inscriptions », a day chosen on the calendar (the "
        "calendar component's value), « Réserver ce jour » / « Annuler ce jour », « Mes factures », again and again "
        f"without pause, for {seconds:.0f} s once all families are in (the demo town, a fresh copy per line).",
        "- An interaction: from the request sent to the `script_finished` message ending the last run it caused "
        "(the booking click ends in `st.rerun()`: two runs). Runs/s counts script runs; CPU ms/run is the server "
        "processes' CPU time per run (what sets the capacity of a core).",
        "- Check: every acknowledged change (the page's « Réservations enregistrées ») is stored as acknowledged, "
        "nothing stored twice, no day over capacity.",
        *[f"- {note}" for note in notes],
        "",
        "| setup | families | sessions sustained | interactions/s | runs/s | CPU ms/run | PostgreSQL CPU ms/run | "
        "p50 ms | p95 ms | errors | acknowledged changes | check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in measures:
        n = m.numbers
        cpu = f"{1000 * n['server_cpu_s'] / n['runs']:.0f}" if n["runs"] and n.get("cpu_measured") else "–"
        db = f"{1000 * n['db_cpu_s'] / n['runs']:.0f}" if n["runs"] and n.get("db_cpu_s") is not None else "–"
        check = "ok" if not m.problems else "; ".join(m.problems[:3])
        lines.append(
            f"| {m.setup} | {m.families} | {n['sessions']} | {n['interactions_per_s']:.1f} | {n['runs_per_s']:.1f} | "
            f"{cpu} | {db} | {n['p50_ms']:.0f} | {n['p95_ms']:.0f} | {n['errors']} | {n['acks']} | {check} |"
        )
    for m in measures:
        lines += ["", f"### {m.setup}, {m.families} families", "", *m.table]
        if m.errors:
            lines += ["", "Errors (first 5):", *[f"- {e}" for e in m.errors[:5]]]
    return [*lines, ""]


SECTION = "## Protocol level"


def write_section(path: Path, lines: list[str]) -> None:
    """Put the protocol-level section in `path` in place of its previous one (up to the next `## `
    heading), keeping the rest: the services' phase above (bench/load.py), the notes below."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    before, after = text, ""
    if SECTION in text:
        start = text.index(SECTION)
        end = text.find("\n## ", start + len(SECTION))
        before, after = text[:start], (text[end + 1 :] if end >= 0 else "")
    body = "\n".join(lines).rstrip("\n") + "\n"
    path.write_text(before.rstrip("\n") + "\n\n" + body + ("\n" + after if after else ""), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Charge au niveau du protocole Streamlit (familles simulées).")
    parser.add_argument("--url", default=None, help="serveur déjà lancé (adresse locale uniquement)")
    parser.add_argument("--db", default=None, help="base du serveur (chemin DuckDB ou URL postgresql://)")
    parser.add_argument("--port", type=int, default=0, help="premier port des serveurs lancés ici (0 : ports libres)")
    parser.add_argument("--gc", choices=("on", "off"), default=None, help="runner.postScriptGC des serveurs lancés ici")
    parser.add_argument("--families", default="10", help="familles simultanées (liste : 10,50,100)")
    parser.add_argument("--seconds", type=float, default=30, help="durée de la mesure, toutes familles connectées")
    parser.add_argument("--setups", default="duckdb", help="duckdb,postgresql,cluster (make load : les trois)")
    parser.add_argument("--output", type=Path, default=None, help="fichier Markdown où écrire la section")
    parser.add_argument("--soak-minutes", type=float, default=0, help="mode endurance : durée en minutes")
    parser.add_argument("--at-once", type=int, default=6, help="endurance : familles connectées à la fois")
    parser.add_argument("--pause", type=float, default=1.0, help="endurance : secondes entre deux clics")
    parser.add_argument("--log", type=Path, default=Path("soak-rss.tsv"), help="endurance : journal de la mémoire")
    args = parser.parse_args(argv)
    gc = None if args.gc is None else args.gc == "on"
    try:
        counts = [int(x) for x in args.families.split(",")]
        setups = [x.strip() for x in args.setups.split(",") if x.strip()]
        if not all(1 <= n <= 200 for n in counts) or not set(setups) <= {"duckdb", "postgresql", "cluster"}:
            raise ValueError
    except ValueError:
        print("Erreur : --families attend des nombres de 1 à 200 (10,50,100), --setups duckdb,postgresql,cluster.")
        return 2
    if args.url or args.soak_minutes:
        return _one_server(args, gc, counts[0])
    return _make_load(args, gc, counts, setups)


def _one_server(args, gc: bool | None, n: int) -> int:
    """A server already running (--url), or the memory soak on a server started here."""
    if not args.db:
        print("Erreur : --db est nécessaire (la base du serveur, pour choisir les familles et vérifier).")
        return 2
    proc = None
    # Before the server starts: it holds a DuckDB file for itself.
    families = families_of(args.db, 100 if args.soak_minutes else n)
    if args.url:
        base = check_loopback(args.url)
    else:
        port = args.port or free_port()
        proc, base = start_server(args.db, port, args.log.with_suffix(".server.log"), gc_after_runs=gc)
    try:
        if args.soak_minutes:
            assert proc is not None
            results = asyncio.run(
                soak(
                    base,
                    families,
                    args.soak_minutes,
                    at_once=args.at_once,
                    pause=args.pause,
                    rounds=2,
                    pid=proc.pid,
                    log=args.log,
                )
            )
        else:
            results = asyncio.run(run_families(base, families, args.seconds))
    finally:
        if proc is not None:
            stop(proc)
    print(json.dumps(summary(results), indent=1))
    print("\n".join(results.table()))
    for e in results.errors[:10]:
        print("ERR", e)
    return 1 if results.errors else 0


def _make_load(args, gc: bool | None, counts: list[int], setups: list[str]) -> int:
    from lib.tools import demo as demo_tool
    from lib.tools import postgresql_local

    measures: list[Measure] = []
    notes: list[str] = []

    def publish() -> None:  # after each line: a long run stopped halfway keeps what it measured
        if args.output:
            write_section(args.output, report(measures, args.seconds, notes))

    with tempfile.TemporaryDirectory(prefix="portail-wsload-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o711)  # PostgreSQL's own account reaches its folder inside
        today = date.today()
        if "duckdb" in setups:
            demo = work / "demo.duckdb"
            demo_tool.build_demo(demo, today)
            for n in counts:
                measures.append(measure_duckdb(demo, n, args.seconds, args.port or free_port(), work, gc))
                publish()
        pg_setups = [s for s in setups if s != "duckdb"]
        if pg_setups:
            pg_dir = work / "pg"
            base_url = postgresql_local.start(pg_dir, args.port + 1 if args.port else free_port())
            try:
                from lib.store import server

                postmaster = postgresql_local.server_pid(pg_dir)
                db_cpu = _tree_cpu(postmaster) if postmaster else None
                template = server.with_database(base_url, "load_demo")
                server.create_database(template)
                try:
                    demo_tool.build_demo(template, today)
                except Exception as exc:  # the PostgreSQL port may not cover every step yet
                    notes.append(f"PostgreSQL not measured: the demo town could not be built there ({exc}).")
                    pg_setups = []
                for name in pg_setups:
                    for n in counts:
                        replicas = 1 if name == "postgresql" else 2
                        try:
                            measures.append(
                                measure_postgresql(
                                    template,
                                    n,
                                    args.seconds,
                                    args.port + 2 if args.port else free_port(),
                                    work,
                                    gc,
                                    replicas,
                                    db_cpu,
                                )
                            )
                            publish()
                        except ImportError as exc:
                            notes.append(f"{name} not measured: {exc}.")
                            break
            finally:
                postgresql_local.stop(pg_dir)
    lines = report(measures, args.seconds, notes)
    print("\n".join(lines))
    if args.output:
        write_section(args.output, lines)
        print(f"Résultats écrits dans {args.output}")
    failed = any(m.problems or m.errors for m in measures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
