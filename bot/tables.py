"""Reading the office's spreadsheets (CSV or XLSX) as rows of text, and finding their header.

Shared by the roster (bot/roster_file.py) and the contact log (bot/contacts_file.py): both
accept a header in Chinese or English in any column order, skip blank rows, and report
problems by the line number a spreadsheet user sees.
"""

from __future__ import annotations

import csv
import io
import pathlib
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import openpyxl  # untyped; pyproject's mypy override covers openpyxl.*
from openpyxl.utils.exceptions import InvalidFileException

from bot.text import normalise


class UnreadableTableError(Exception):
    """Not a CSV or XLSX file, or not decodable as the one its suffix claims."""


def fold(text: str) -> str:
    """Compare-form of a header or keyword: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def clip(text: str) -> str:
    return text[:50]  # problem values are for a message, not for storage


def cell_text(value: object) -> str:
    """A cell as text: None is "", whole floats lose their ".0", strings are normalised (bot/text.py) and
    stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return normalise(str(value)).strip()


def read_rows(path: pathlib.Path) -> list[list[str]]:
    """Every row of a .csv (UTF-8, BOM optional, or GB18030) or .xlsx (first sheet) file, as text."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = path.read_bytes()
        try:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
            return [[cell_text(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnreadableTableError(path.suffix) from exc
    if suffix == ".xlsx":
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, InvalidFileException) as exc:
            raise UnreadableTableError(path.suffix) from exc  # not a zip, or a zip that is not a workbook
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # do not trust the stored dimension; read every row
            return [[cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    raise UnreadableTableError(path.suffix)


@dataclass(frozen=True)
class Header:
    line: int
    cells: list[str]
    columns: dict[str, int]  # canonical column key -> index, the first matching column wins

    def missing(self, required: tuple[str, ...]) -> list[str]:
        return [key for key in required if key not in self.columns]

    def cells_of(self, row: list[str]) -> dict[str, str]:
        return {key: (row[i] if i < len(row) else "") for key, i in self.columns.items()}


def split_header(rows: list[list[str]], aliases: dict[str, str]) -> tuple[Header | None, Iterator[tuple[int, list[str]]]]:
    """The first non-blank row as a Header (None for an empty file), and the numbered data rows after it."""
    numbered = ((line, row) for line, row in enumerate(rows, start=1) if any(row))
    first = next(numbered, None)
    if first is None:
        return None, numbered
    line, cells = first
    columns: dict[str, int] = {}
    for index, title in enumerate(cells):
        key = aliases.get(fold(title).replace(" ", ""))
        if key is not None and key not in columns:
            columns[key] = index
    return Header(line, cells, columns), numbered
