"""The real server (streamlit run server.py) on a free port with a temporary demo database,
and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DEMO_NOW

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(demo_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "portail.duckdb"
    shutil.copyfile(demo_template, path)
    port = _free_port()
    env = dict(os.environ, PORTAIL_DB=str(path), PORTAIL_FROZEN_NOW=DEMO_NOW.isoformat())
    log = open(path.with_suffix(".log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.read().decode() == "ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the server did not start: " + path.with_suffix(".log").read_text())
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does it)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def login(page, base: str, email: str, password: str = "demo") -> None:
    page.goto(base + "/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def settle(page) -> None:
    """Wait for Streamlit's script run to finish (its running indicator gone), so the next click
    lands on the widgets of the new run, not on those of the run being replaced."""
    page.wait_for_timeout(250)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"], "
        "[data-testid=\"stStatusWidgetRunningManIcon\"]')", timeout=30_000)


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
