"""What people type stays text on the pages: « Mes factures » with a family named in markup, its
PDF built only when asked for."""

import io

import pytest
from pypdf import PdfReader
from streamlit.runtime.media_file_manager import MediaFileManager

from lib.services import invoice_pdf
from tests.pages.test_pages import app_test, texts

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
    at.button(key="invoices_pay").click().run()       # a second run of the page builds nothing either
    assert not at.exception and built == []
    pdf = deferred["F-2026-000267.pdf"]()             # the click on « Télécharger la facture (PDF) »
    assert len(built) == 1 and "FACTURE N° F-2026-000267" in pdf_text(pdf)


def test_a_family_named_in_markup_sees_its_invoices_and_gets_a_readable_pdf(demo_db, deferred, built):
    demo_db.write(lambda cur: cur.execute("UPDATE families SET name = ?, address = ? WHERE id = 1",
                                          [MARKUP_NAME, MARKUP_ADDRESS]))
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    assert "Facture F-2026-000267" in texts(at) and not at.error
    text = pdf_text(deferred["F-2026-000267.pdf"]())
    assert MARKUP_NAME in text and MARKUP_ADDRESS in text
