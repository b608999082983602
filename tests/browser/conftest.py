"""The real server (streamlit run server.py) on a free port with a temporary demo database,
and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from lib.store.db import close_database, open_database
from lib.tools.processes import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import DEMO_NOW
from tests.serve import start_server, stop


@pytest.fixture(scope="session")
def server(demo_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "portail.duckdb"
    shutil.copyfile(demo_template, path)
    proc, base = start_server(path, path.with_suffix(".log"), frozen_now=DEMO_NOW.isoformat(), timeout_s=90)
    yield base
    stop(proc)


@contextmanager
def private_server(demo_template: Path, tmp_path_factory, name: str, prepare=None, env: dict | None = None):
    """A server of a module's own, on a private copy of the demo (for a module that pays an invoice
    or changes names): `prepare(db)` changes the copy first. Yields the base URL."""
    path = tmp_path_factory.mktemp(name) / "portail.duckdb"
    shutil.copyfile(demo_template, path)
    if prepare:
        db = open_database(path)
        try:
            prepare(db)
        finally:
            close_database(path)
    proc, base = start_server(path, path.with_suffix(".log"), frozen_now=DEMO_NOW.isoformat(), timeout_s=90, env=env)
    try:
        yield base
    finally:
        stop(proc)


def open_my_invoices(page, base: str) -> None:
    """The Martin parent logs in and opens « Mes factures »."""
    login(page, base, "parent@demo.fr")
    page.get_by_text("Bonjour Camille Martin").wait_for()
    page.goto(base + "/mes-factures")
    page.get_by_role("heading", name="Mes factures").wait_for()
    settle(page)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does it)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


CSP_MARK = "CSP violation:"
_REPORT_CSP = (
    "document.addEventListener('securitypolicyviolation', e => console.error("
    f"'{CSP_MARK} ' + e.effectiveDirective + ' blocked ' + e.blockedURI + ' at ' + e.sourceFile + ':' "
    "+ e.lineNumber));"
)


def watch_csp(context, seen: list[str]) -> None:
    """Collect in `seen` the Content-Security-Policy violations the browser reports in the
    context's pages and their frames (the calendar's too)."""
    context.add_init_script(_REPORT_CSP)
    context.on("console", lambda message: seen.append(message.text) if message.text.startswith(CSP_MARK) else None)


def no_csp_violations(seen: list[str]) -> None:
    assert not seen, "the Content-Security-Policy blocked something the portal uses:\n" + "\n".join(seen)


@pytest.fixture
def csp_violations() -> list[str]:
    """What the `page` and `desk` tabs' policy blocked: a test ends with nothing there."""
    return []


def _tab(browser, width: int, height: int, csp_violations: list[str]):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    watch_csp(context, csp_violations)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    return context, tab


@pytest.fixture
def page(browser, csp_violations):
    """A phone: 390 × 844, as families use the portal."""
    context, tab = _tab(browser, 390, 844, csp_violations)
    yield tab
    context.close()
    no_csp_violations(csp_violations)


@pytest.fixture
def desk(browser, csp_violations):
    """A computer screen, sidebar open: staff at their desk, keyboard users."""
    context, tab = _tab(browser, 1280, 900, csp_violations)
    yield tab
    context.close()
    no_csp_violations(csp_violations)


def login(page, base: str, email: str, password: str = "demo") -> None:
    page.goto(base + "/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


TEST_BANKS = re.compile(r".*/paiement/(sandbox|payfip\?idop=\w+)$")
TEST_BANK_HEADINGS = re.compile("^(Banque de test|PayFiP \\(test\\))$")


def pay_at_the_test_bank(page, amount: str, on_bank=None) -> None:
    """From an invoice's « Payer » (`amount` as shown, e.g. "83,50"): the warning, « Confirmer et
    payer », the test bank's « Payer » (the demo's PayFiP, or the Systempay sandbox, whichever the
    town uses), then back on « Mes factures » with the transaction."""
    page.get_by_role("button", name=re.compile(f"^Payer {amount}")).first.click()
    settle(page)
    page.get_by_text("il ne sera pas possible de revenir en arrière").wait_for()
    page.get_by_role("link", name=re.compile(f"Confirmer et payer {amount}")).click()
    page.wait_for_url(TEST_BANKS)
    page.get_by_role("heading", name=TEST_BANK_HEADINGS).wait_for()
    if on_bank:
        on_bank(page)
    page.get_by_role("button", name=re.compile(f"^Payer {amount}")).click()
    page.wait_for_url(re.compile(r".*/mes-factures\?transaction=.*"))


RUNNING = '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"], [data-stale="true"]'


def settle(page) -> None:
    """Wait for Streamlit's script run to finish (its running indicator gone), so the next click
    lands on the widgets of the new run, not on those of the run being replaced."""
    page.wait_for_timeout(250)
    # While a run goes on, the last run's elements stay on the page marked stale (a second list
    # with the same label, a button about to go): wait for them to be replaced too. (A locator, not
    # wait_for_function: Playwright runs that through eval(), which the portal's CSP refuses.)
    page.locator(RUNNING).first.wait_for(state="detached", timeout=30_000)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed browser test, keep a screenshot of the page next to the test's temp files."""
    outcome = yield
    report = outcome.get_result()
    tabs = [v for v in getattr(item, "funcargs", {}).values() if hasattr(v, "screenshot") and hasattr(v, "goto")]
    page = tabs[-1] if tabs else None
    if report.when == "call" and report.failed and page is not None:
        target = Path(os.environ.get("BROWSER_FAILURES", "/tmp")) / f"failed-{item.name}.png"
        try:
            page.screenshot(path=str(target), full_page=True)
            report.sections.append(("screenshot", str(target)))
        except Exception:  # the page may be gone; the failure itself is what matters
            pass
