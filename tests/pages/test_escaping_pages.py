"""What people type stays text on the pages: « Mes factures » with a family named in markup, its
PDF built only when asked for; names written as markdown links and images shown as typed on every
page a family or the staff see."""

import io
import re
from datetime import date
from html import unescape

import pytest
from markdown_it import MarkdownIt
from pypdf import PdfReader
from streamlit.runtime.media_file_manager import MediaFileManager

from lib.domain.markup import WORD_JOINER
from lib.services import invoice_pdf, kitchen, reservations
from tests.conftest import DEMO_NOW, DEMO_TODAY, login
from tests.helpers import app_test, texts

MARKUP_NAME = "<b>O'Brien & <Fils>"
MARKUP_ADDRESS = "3 rue <Basse> & <i>Haute"


@pytest.fixture
def deferred(monkeypatch) -> dict:
    """The download buttons' deferred callables, by file name: what a click would run."""
    found = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        found[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return found


@pytest.fixture
def built(monkeypatch) -> list:
    """Every invoice PDF rendered."""
    calls = []
    render = invoice_pdf.render
    monkeypatch.setattr(invoice_pdf, "render", lambda *args: calls.append(args) or render(*args))
    return calls


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_the_invoice_pdf_is_built_on_the_click_not_when_the_page_is_viewed(demo_db, deferred, built):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    at.button(key="invoices_pay").click().run()  # a second run of the page builds nothing either
    assert not at.exception and built == []
    pdf = deferred["F-2026-000267.pdf"]()  # the click on « Télécharger la facture (PDF) »
    assert len(built) == 1 and "FACTURE N° F-2026-000267" in pdf_text(pdf)


def test_a_family_named_in_markup_sees_its_invoices_and_gets_a_readable_pdf(demo_db, deferred, built):
    def work(cur):
        cur.execute("UPDATE families SET name = ? WHERE id = 1", [MARKUP_NAME])
        # The invoice is addressed to its payer, guardian 1: his name and address are the ones printed.
        cur.execute(
            "UPDATE guardians SET last_name = ?, address = ? WHERE family_id = 1 AND rank = 1",
            [MARKUP_NAME, MARKUP_ADDRESS],
        )

    demo_db.write(work)
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    assert "Facture F-2026-000267" in texts(at) and not at.error
    text = pdf_text(deferred["F-2026-000267.pdf"]())
    assert MARKUP_NAME in text and MARKUP_ADDRESS in text


def test_only_the_kitchen_pages_buttons_count_as_printing(demo_db, deferred):
    at = app_test("pages/cuisine.py", demo_db, "cuisine@demo.fr").run()
    assert not at.exception and demo_db.value("SELECT count(*) FROM kitchen_prints") == 0
    assert deferred["repas-2026-11-27.csv"]().decode("utf-8-sig").startswith("Jour;Structure")  # the click
    assert demo_db.value("SELECT count(*) FROM kitchen_prints WHERE day = DATE '2026-11-27'") == 1
    assert "Aucun changement depuis la dernière impression" in texts(at.run())


# --- markdown: names that try to be links and images -------------------------------------------

PAYLOAD = "![x](https://evil.example/p.png) [clic](https://evil.example)"
RENDERER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@pytest.fixture
def poisoned(demo_db):
    """Every name people type, set to the payload: family, parent, child, sites, services, diets,
    invoice lines, a closure, the town; an agent's late cancellation with the payload as reason;
    the sheet printed before the sites were renamed (so « Cuisine » lists changes by name)."""
    cook, agent = login(demo_db, "cuisine@demo.fr"), login(demo_db, "agent@demo.fr")
    kitchen.sheet_file(demo_db, cook, DEMO_TODAY, DEMO_NOW, "csv", count_as_printed=True)
    _, year = reservations.school_years(demo_db, DEMO_TODAY)
    lea = reservations.booking_context(demo_db, agent, 1, year.id)
    reservations.set_day(
        demo_db, agent, lea, lea.services[0].id, date(2026, 11, 30), False, DEMO_NOW, late=True, reason=PAYLOAD
    )

    def poison(cur):
        cur.execute("UPDATE families SET name = ?, payment_right = 'requested' WHERE id = 1", [PAYLOAD])
        cur.execute("UPDATE users SET display_name = ? WHERE email = 'parent@demo.fr'", [PAYLOAD])
        cur.execute("UPDATE children SET first_name = ? WHERE id = 1", [PAYLOAD])
        for i in (1, 2, 3):
            cur.execute("UPDATE sites SET name = ? WHERE id = ?", [f"{PAYLOAD} {i}", i])
            cur.execute("UPDATE services SET name = ?, short_name = ? WHERE id = ?", [f"{PAYLOAD} s{i}", PAYLOAD, i])
        cur.execute("UPDATE diets SET label = ? WHERE code = 'standard'", [PAYLOAD])
        cur.execute("UPDATE invoice_lines SET label = ?", [PAYLOAD])
        cur.execute(
            "INSERT INTO closures (site_id, start_date, end_date, reason) VALUES (NULL, ?, ?, ?)",
            [date(2026, 11, 30), date(2026, 11, 30), PAYLOAD],
        )
        cur.execute("UPDATE settings SET value = ? WHERE key = 'town_name'", [PAYLOAD])

    demo_db.write(poison)
    return demo_db


def markdown_sources(at) -> list[str]:
    """Everything Streamlit renders as markdown: texts, alerts, and the labels of widgets."""
    sources = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "success", "error"):
        sources += [e.value for e in getattr(at, kind)]
    for kind in (
        "button",
        "checkbox",
        "toggle",
        "text_input",
        "number_input",
        "selectbox",
        "radio",
        "expander",
        "metric",
    ):
        sources += [e.label for e in getattr(at, kind)]
    sources += [e.proto.label for e in at.get("download_button")]
    return [str(s) for s in sources]


def text_nodes(source: str) -> list[str]:
    """The markdown text nodes (not our own raw HTML): where Streamlit's GFM looks for bare addresses."""
    return [
        child.content
        for token in RENDERER.parse(source)
        if token.type == "inline"
        for child in token.children
        if child.type == "text"
    ]


def assert_shown_as_text(at) -> None:
    sources = markdown_sources(at)
    html = "\n".join(RENDERER.render(source) for source in sources)
    assert not re.search(r"""(href|src)=["']?[^"'>]*evil\.example""", html), html
    nodes = [node for source in sources for node in text_nodes(source)]
    assert not [n for n in nodes if re.search(r"https?://evil|www\.evil|@evil", n)]  # nothing GFM would link
    assert PAYLOAD in unescape(re.sub(r"<[^>]+>", "", html)).replace(WORD_JOINER, "")


# The town's name (the footer) is the payload too, so every page must show it as typed.
@pytest.mark.parametrize(
    "script, email, widgets",
    [
        ("app.py", "parent@demo.fr", {}),
        ("pages/famille_accueil.py", "parent@demo.fr", {}),
        ("pages/mes_inscriptions.py", "parent@demo.fr", {}),
        ("pages/mes_factures.py", "parent@demo.fr", {}),
        ("pages/agent_accueil.py", "agent@demo.fr", {}),
        ("pages/agent_reservations.py", "agent@demo.fr", {"staff_search": "Martin"}),
        ("pages/pointage.py", "agent@demo.fr", {}),
        ("pages/cuisine.py", "cuisine@demo.fr", {}),
        ("pages/admin_accueil.py", "admin@demo.fr", {}),
        ("pages/admin_journal.py", "admin@demo.fr", {}),
        ("pages/admin_facturation.py", "admin@demo.fr", {}),
        ("pages/admin_prestations.py", "admin@demo.fr", {}),
        ("pages/admin_fermetures.py", "admin@demo.fr", {}),
        ("pages/elu_accueil.py", "maire@demo.fr", {}),
        ("pages/tendances.py", "maire@demo.fr", {}),
    ],
)
def test_names_that_look_like_links_and_images_are_shown_as_text(poisoned, script, email, widgets):
    at = app_test(script, poisoned, email)
    for key, value in widgets.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    assert_shown_as_text(at)


def test_a_closure_reason_is_text_in_the_day_panel_and_the_month_grid(poisoned):
    at = app_test("pages/mes_inscriptions.py", poisoned, "parent@demo.fr").run()
    at.session_state["resa_day"] = date(2026, 11, 30)  # a click on the closed Monday
    at.run()
    assert [m for m in at.markdown if m.value.startswith("⛔") and "Fermeture" in m.value]  # the day panel
    assert_shown_as_text(at)
    at.button(key="resa_modify").click().run()
    at.radio(key="resa_mode").set_value("Jours occasionnels").run()
    assert not at.exception, at.exception
    assert [m for m in at.markdown if "Fermeture" in m.value and "pf-sr" in m.value]  # the grid's spoken day
    assert_shown_as_text(at)
