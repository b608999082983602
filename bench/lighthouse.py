"""`make lighthouse`: Lighthouse's default mobile profile (a mid-range phone on simulated slow 4G)
on the login page and the three family pages, logged in, on the real server.

It builds the demo town in a temporary directory (never data/portail.duckdb), starts
`streamlit run server.py` on it, logs in as parent@demo.fr through the HTTP login route, starts
Chromium with that session cookie in its profile, checks (Playwright over CDP) that each family
page is really drawn there, then runs the npm `lighthouse` CLI (bench/node_modules, from
bench/package.json) in that same browser (`--port`) on each page, `--runs` times, twice: straight to
Streamlit's server (HTTP/1.1, as `make run` serves it), and through HAProxy with TLS and HTTP/2 as a
town deploys the portal (lib/tools/haproxy.py; the targets apply there). It writes the median
first contentful paint, largest contentful paint, total blocking time and bytes transferred into
a section of bench/LIGHTHOUSE.md (other sections of that file are kept). Then it times « Se
connecter » → home page drawn on a throttled network, with and without the login page's prefetch.

    .venv/bin/python -m bench.lighthouse --runs 3 --section "Après" --output bench/LIGHTHOUSE.md
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.cookiejar import CookieJar
from pathlib import Path

from bench.run import BENCH_NOW, machine
from lib.tools import haproxy
from lib.tools.processes import CHROMIUM, CHROMIUM_ARGS
from tests.serve import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "bench" / "node_modules" / ".bin" / "lighthouse"
# the HTTPS front's certificate is a self-signed one made for the run
LIGHTHOUSE_CHROMIUM_ARGS = [*CHROMIUM_ARGS, "--ignore-certificate-errors"]
EMAIL, PASSWORD = "parent@demo.fr", "demo"


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    h1: str | None  # the heading that proves the page was drawn (a regex); None: the login form
    lcp_target_ms: float


PAGES = [
    Page("/connexion", "Connexion", r"^Portail Famille$", 1000),
    Page("/", "Accueil (famille)", r"^Bonjour ", 6000),
    Page("/mes-inscriptions", "Mes inscriptions", r"^Mes inscriptions$", 6000),
    Page("/mes-factures", "Mes factures", r"^Mes factures$", 6000),
]


DIRECT = "HTTP/1.1, direct"
DEPLOYED = "HTTPS + HTTP/2 (HAProxy)"


@dataclass(frozen=True)
class Front:
    """How the browser reaches the portal: straight to Streamlit's server as `make run` serves it on
    the town hall's machine, or through HAProxy with TLS and HTTP/2 as a town deploys it
    (lib/tools/haproxy.py). The targets are a phone's on the deployed portal."""

    name: str
    base: str
    target: bool


@dataclass
class Run:
    fcp_ms: float
    lcp_ms: float
    tbt_ms: float
    bytes: float
    final_url: str
    lcp_element: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login_cookie(base: str) -> str:
    """The pf_session token, through the same two requests as the login form (GET, then POST)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with opener.open(f"{base}/connexion", timeout=30) as answer:
        csrf = re.search(r'name="csrf" value="([^"]+)"', answer.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "email": EMAIL, "password": PASSWORD}).encode()
    request = urllib.request.Request(f"{base}/auth/login", data=form, headers={"Origin": base})
    try:
        opener.open(request, timeout=30)
    except urllib.error.HTTPError as answer:  # the 303 to "/", not followed
        if answer.code != 303:
            raise RuntimeError(f"login refused: HTTP {answer.code}") from None
    token = next((c.value for c in jar if c.name == "pf_session"), None)
    if not token:
        raise RuntimeError("login gave no pf_session cookie")
    return token


@contextmanager
def chromium(profile: Path) -> Iterator[int]:
    """Chromium with its debugging port open (Lighthouse's `--port` drives it); yields the port."""
    port = free_port()
    proc = subprocess.Popen(
        [
            CHROMIUM,
            *LIGHTHOUSE_CHROMIUM_ARGS,
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Chromium did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        stop(proc)


def log_in_and_check(port: int, base: str, cookie: str) -> dict[str, str]:
    """Give the browser the session cookie (as the login form's answer would) and open every page
    in it; return the h1 reached per path. Raises if a page ends elsewhere or without its heading.

    The cookie must be the browser's own: Lighthouse's `--extra-headers` (and Playwright's
    `extra_http_headers`) are not sent on the websocket's handshake, where the Streamlit script reads
    the session, so with them a page is drawn as « Connectez-vous … », not as the family's page."""
    from playwright.sync_api import sync_playwright

    reached = {}
    with sync_playwright() as p:
        browser = p.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        context = browser.contexts[0]
        context.add_cookies([{"name": "pf_session", "value": cookie, "url": base, "httpOnly": True, "sameSite": "Lax"}])
        for page in PAGES:
            tab = context.new_page()
            tab.goto(base + page.path)
            heading = tab.locator("h1").filter(has_text=re.compile(page.h1)).first
            heading.wait_for(timeout=60_000)
            final = urllib.parse.urlsplit(tab.url).path
            if final != page.path:
                raise RuntimeError(f"{page.path} ended at {tab.url}")
            reached[page.path] = heading.inner_text().strip()
            tab.close()
    return reached


def lighthouse(url: str, port: int, out: Path) -> Run:
    """One Lighthouse run (default mobile profile) in the browser on `port`, which holds the cookie.
    Lighthouse empties the HTTP cache first (a first visit) but keeps cookies."""
    command = [
        str(LIGHTHOUSE),
        url,
        f"--port={port}",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=performance",
        "--quiet",
    ]
    subprocess.run(command, check=True, env=dict(os.environ, CHROME_PATH=CHROMIUM), timeout=300)
    report = json.loads(out.read_text())
    audits = report["audits"]
    if report.get("runtimeError"):
        raise RuntimeError(f"Lighthouse on {url}: {report['runtimeError']}")
    element = audits.get("largest-contentful-paint-element", {}).get("details", {})
    label = ""
    for item in element.get("items", []):  # a table of tables since Lighthouse 10
        for row in item.get("items", []):
            node = row.get("node") or {}
            if node.get("nodeLabel"):
                label = node["nodeLabel"]
                break
        if label:
            break
    return Run(
        fcp_ms=audits["first-contentful-paint"]["numericValue"],
        lcp_ms=audits["largest-contentful-paint"]["numericValue"],
        tbt_ms=audits["total-blocking-time"]["numericValue"],
        bytes=audits["total-byte-weight"]["numericValue"],
        final_url=report.get("finalDisplayedUrl") or report.get("finalUrl", ""),
        lcp_element=label,
    )


# Lighthouse's slow 4G as DevTools applies it (`--throttling-method=devtools`): 150 ms RTT × 3.75,
# 1.6 Mbit/s down and 750 kbit/s up × 0.9. The CPU is not slowed: this measures the network.
SLOW_4G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1024 * 1024 * 0.9 / 8,
    "uploadThroughput": 750 * 1024 * 0.9 / 8,
}
TYPING_S = 10  # a parent typing an e-mail address and a password on a phone


def login_to_home(base: str, runs: int) -> dict[str, list[tuple[float, float]]]:
    """« Se connecter » clicked → « Bonjour … » drawn, in a fresh browser context each time, on a
    throttled network, after TYPING_S seconds on the login page: with the page's prefetch links
    honoured, and with /static/ blocked while on the login page (so nothing is prefetched; the
    block is lifted before the click). Returns per variant (seconds, KiB received after the click)."""
    from playwright.sync_api import sync_playwright

    timings: dict[str, list[tuple[float, float]]] = {"prefetch": [], "no prefetch": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                for variant in timings:
                    context = browser.new_context(viewport={"width": 412, "height": 823}, locale="fr-FR")
                    tab = context.new_page()
                    cdp = context.new_cdp_session(tab)
                    cdp.send("Network.enable")
                    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
                    received = [0.0]
                    counting = [False]

                    def finished(event, received=received, counting=counting):
                        if counting[0]:
                            received[0] += event.get("encodedDataLength", 0)

                    cdp.on("Network.loadingFinished", finished)
                    if variant == "no prefetch":
                        cdp.send("Network.setBlockedURLs", {"urls": ["*/static/*"]})
                    tab.goto(base + "/connexion")
                    tab.get_by_label("Adresse e-mail").fill(EMAIL)
                    tab.get_by_label("Mot de passe").fill(PASSWORD)
                    tab.wait_for_timeout(TYPING_S * 1000)
                    cdp.send("Network.setBlockedURLs", {"urls": []})
                    counting[0] = True
                    clicked = time.perf_counter()
                    tab.get_by_role("button", name="Se connecter").click()
                    tab.locator("h1").filter(has_text=re.compile(r"^Bonjour ")).first.wait_for(timeout=120_000)
                    timings[variant].append((time.perf_counter() - clicked, received[0] / 1024))
                    print(
                        f"login → home, {variant}: {timings[variant][-1][0]:.1f} s, "
                        f"{timings[variant][-1][1]:,.0f} KiB after the click",
                        flush=True,
                    )
                    context.close()
        finally:
            browser.close()
    return timings


def _login_lines(timings: dict[str, list[tuple[float, float]]]) -> list[str]:
    lines = [
        f"**Login submitted → home drawn** (Chromium, fresh cache, network throttled as Lighthouse's slow 4G "
        f"in DevTools mode, CPU not slowed; {TYPING_S} s on the login page first, as a parent typing; median "
        f"of {len(next(iter(timings.values())))}):",
        "",
        "| variant | seconds | KiB received after the click | runs (s) |",
        "|---|---:|---:|---|",
    ]
    for variant, values in timings.items():
        seconds = statistics.median(v[0] for v in values)
        kib = statistics.median(v[1] for v in values)
        runs = ", ".join(f"{v[0]:.1f}" for v in values)
        name = {
            "prefetch": "with the login page's prefetch links",
            "no prefetch": "prefetch blocked (/static/ unreachable while on the login page)",
        }[variant]
        lines.append(f"| {name} | {seconds:.1f} | {kib:,.0f} | {runs} |")
    return [*lines, ""]


def _median_run(runs: list[Run]) -> Run:
    """The run whose largest paint is the median one (its other figures belong to the same load)."""
    ordered = sorted(runs, key=lambda r: r.lcp_ms)
    return ordered[(len(ordered) - 1) // 2]


def _met(page: Page, runs: list[Run]) -> bool:
    run = _median_run(runs)
    return (urllib.parse.urlsplit(run.final_url).path or "/") == page.path and run.lcp_ms < page.lcp_target_ms


def _section(
    title: str,
    reached: dict[str, dict[str, str]],
    results: list[tuple[Front, Page, list[Run]]],
    runs: int,
    load_before: float,
    seconds: float,
    login_timings: dict[str, list[tuple[float, float]]] | None = None,
) -> str:
    lines = [
        f"## {title}",
        "",
        f"{datetime.now().astimezone():%d/%m/%Y %H:%M %Z}, {machine()}; load average {load_before:.2f} before the "
        f"run; Lighthouse {_lighthouse_version()} default mobile profile (simulated slow 4G, 4× CPU slowdown), "
        f"median of {runs} run(s) by largest paint; {seconds:.0f} s in all. The family pages are loaded logged in "
        f"as {EMAIL} (the pf_session cookie in the browser); Chromium reached each heading first, and the "
        f"LCP element column shows what Lighthouse saw drawn. « {DEPLOYED} » is the portal as a town deploys "
        f"it (lib/tools/haproxy.py, a self-signed certificate here), where the targets apply; « {DIRECT} » is "
        f"Streamlit's own server as `make run` serves it, for comparison.",
        "",
        "| served | page | final URL | heading reached | FCP s | LCP s | TBT ms | bytes KiB | LCP element | target |",
        "|---|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for front, page, page_runs in results:
        run = _median_run(page_runs)
        final = urllib.parse.urlsplit(run.final_url).path or "/"
        goal = f"< {page.lcp_target_ms / 1000:g} s"
        verdict = ("ok" if _met(page, page_runs) else "**missed**") + f" ({goal})" if front.target else "—"
        element = run.lcp_element.replace("|", "\\|")[:40]
        lines.append(
            f"| {front.name} | {page.name} | `{final}` | {reached.get(front.name, {}).get(page.path, '?')} | "
            f"{run.fcp_ms / 1000:.1f} | {run.lcp_ms / 1000:.1f} | {run.tbt_ms:.0f} | {run.bytes / 1024:,.0f} | "
            f"{element} | {verdict} |"
        )
    spread = ", ".join(
        f"{page.name} ({front.name}) {min(r.lcp_ms for r in rs) / 1000:.1f}–{max(r.lcp_ms for r in rs) / 1000:.1f} s"
        for front, page, rs in results
    )
    lines += ["", f"LCP range over the runs: {spread}.", ""]
    if login_timings:
        lines += _login_lines(login_timings)
    return "\n".join(lines)


def _lighthouse_version() -> str:
    try:
        return json.loads((ROOT / "bench" / "node_modules" / "lighthouse" / "package.json").read_text())["version"]
    except OSError:
        return "?"


def write_section(output: Path, title: str, text: str) -> None:
    """Replace the section `## title` of `output` (or append it), keeping every other section."""
    header = (
        "# Lighthouse, mobile profile\n\nWritten by `make lighthouse` (bench/lighthouse.py); each section is one "
        "run of it, kept until a run with the same title replaces it.\n\n"
    )
    current = output.read_text() if output.exists() else header
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        current = pattern.sub(lambda _m: text, current, count=1)
    else:
        current = current.rstrip("\n") + "\n\n" + text
    output.write_text(current.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Lighthouse (profil mobile) sur la page de connexion et les pages famille."
    )
    parser.add_argument("--runs", type=int, default=3, help="passages de Lighthouse par page (médiane)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "LIGHTHOUSE.md")
    parser.add_argument("--section", default="Latest run", help="titre de la section écrite dans le fichier")
    parser.add_argument(
        "--login-runs",
        type=int,
        default=3,
        help="mesures « connexion → accueil » avec et sans préchargement (0 : aucune)",
    )
    parser.add_argument(
        "--reports", type=Path, default=None, help="dossier où garder les rapports JSON de Lighthouse (un par passage)"
    )
    parser.add_argument("--url", default=None, help="un serveur déjà lancé (adresse locale) au lieu d'en démarrer un")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists():
        print("Erreur : Lighthouse n'est pas installé (cd bench && npm ci).", file=sys.stderr)
        return 1
    if not Path(CHROMIUM).exists():
        print(f"Erreur : Chromium est absent ({CHROMIUM}).", file=sys.stderr)
        return 1
    if not 0 <= args.runs <= 20 or not 0 <= args.login_runs <= 20:
        print("Erreur : --runs et --login-runs doivent être compris entre 0 et 20.", file=sys.stderr)
        return 1
    from lib.tools.demo import build_demo
    from lib.web import proxies
    from tests.serve import start_server, stop

    load_before = os.getloadavg()[0]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="portail-lighthouse-") as tmp:
        tmp_dir = Path(tmp)
        proc = None
        reached: dict[str, dict[str, str]] = {}
        if args.url:
            base = args.url.rstrip("/")
            if urllib.parse.urlsplit(base).hostname not in ("127.0.0.1", "localhost", "::1"):
                print("Erreur : --url doit être une adresse locale.", file=sys.stderr)
                return 1
        else:
            db = tmp_dir / "portail.duckdb"
            build_demo(db, BENCH_NOW.date())
            # As a town deploys it: the local HAProxy (the deployed front) is the trusted proxy.
            proc, base = start_server(
                db, tmp_dir / "server.log", frozen_now=BENCH_NOW.isoformat(), env={proxies.TRUSTED_PROXIES: "127.0.0.1"}
            )
        try:
            cookie = login_cookie(base)
            with ExitStack() as stack:
                fronts = [Front(DIRECT, base, target=False)]
                if haproxy.available():
                    host = urllib.parse.urlsplit(base).netloc
                    fronts.append(Front(DEPLOYED, stack.enter_context(haproxy.running([host])), target=True))
                else:
                    print(
                        "HAProxy ou openssl absent : mesure directe seulement (apt-get install haproxy openssl).",
                        file=sys.stderr,
                    )
                port = stack.enter_context(chromium(tmp_dir / "profile"))
                results = []
                for front in fronts:
                    reached[front.name] = log_in_and_check(port, front.base, cookie)
                    print(f"Pages drawn ({front.name}):", reached[front.name], flush=True)
                    for page in PAGES if args.runs else []:
                        page_runs = []
                        for i in range(args.runs):
                            report = tmp_dir / f"lh-{i}.json"
                            run = lighthouse(front.base + page.path, port, report)
                            if args.reports:
                                args.reports.mkdir(parents=True, exist_ok=True)
                                slug = (page.path.strip("/") or "accueil") + ("-h2" if front.target else "")
                                shutil.copyfile(report, args.reports / f"{slug}-{i + 1}.json")
                            print(
                                f"{front.name} · {page.name}: FCP {run.fcp_ms / 1000:.1f} s, "
                                f"LCP {run.lcp_ms / 1000:.1f} s, TBT {run.tbt_ms:.0f} ms, {run.bytes / 1024:,.0f} KiB, "
                                f"final {run.final_url}, LCP element {run.lcp_element!r}",
                                flush=True,
                            )
                            page_runs.append(run)
                        results.append((front, page, page_runs))
            login_timings = login_to_home(base, args.login_runs) if args.login_runs else None
        finally:
            if proc is not None:
                stop(proc)
    text = _section(args.section, reached, results, args.runs, load_before, time.monotonic() - started, login_timings)
    write_section(args.output, args.section, text)
    print(text)
    missed = [f"{page.name} ({front.name})" for front, page, rs in results if front.target and not _met(page, rs)]
    if not any(front.target for front, _page, _rs in results):
        missed.append("aucune mesure HTTPS (HAProxy absent)")
    print(f"Targets missed: {len(missed)}" + (f" ({', '.join(missed)})" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
