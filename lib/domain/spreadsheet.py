"""Every CSV file the portal writes, for a French spreadsheet (semicolons, decimal comma, UTF-8 with
a BOM), with no cell a spreadsheet could run.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab, a carriage return, a line feed or a NUL
(OWASP's CSV injection rule and ASVS 5.0 requirement 1.2.10), also after leading spaces, is
written with a single quote in front: Excel, LibreOffice and Google Sheets then show it as text
(« '=HYPERLINK(…) ») instead of evaluating it. Numbers are the exception: a value that is a
number in Python (an int, a float, a Decimal — a count, a negative amount of cents) is written as
the number it is (« -1250 », « 93,4 »), since it cannot hold a formula and must stay summable.
So amounts are exported as numbers, never as French text (« -12,50 € » would get the quote)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from decimal import Decimal
from numbers import Number

FORMULA_STARTS = frozenset("=+-@\t\r\n\0")


def cell(value: object) -> str:
    """One cell's text: a number as a French number, None or NaN as empty, any text inert."""
    if isinstance(value, Number) and not isinstance(value, bool):
        if isinstance(value, float) and math.isnan(value):
            return ""
        if isinstance(value, (float, Decimal)):
            return str(value).replace(".", ",")
        return str(value)
    if value is None:
        return ""
    text = str(value)
    if text[:1] in FORMULA_STARTS or text.lstrip(" \u00a0")[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def csv_bytes(header: Iterable[object], rows: Iterable[Iterable[object]]) -> bytes:
    """The file: the header row, then the rows, every cell through `cell`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([cell(v) for v in header])
    writer.writerows([cell(v) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
