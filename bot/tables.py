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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from bot.text import normalise


Kind = TypeVar("Kind", bound=str, covariant=True)
FileProblemKind = Literal["too_large", "unknown_format", "empty", "no_header", "missing_column"]


@dataclass(frozen=True)
class RowProblem(Generic[Kind]):
    """One thing wrong with an imported file; `column` is a canonical key or "" for the whole row/file, and
    `problem` one of the kinds the file's reader names (bot/roster_file.py, bot/contacts_file.py)."""

    line: int
    column: str
    problem: Kind
    value: str = ""  # the offending cell text, trimmed, at most 50 characters


class TableRefusedError(Exception):
    """The file cannot be read as rows under a header (`read_table`): `problems` say why."""

    def __init__(self, problems: Sequence[RowProblem[FileProblemKind]]) -> None:
        self.problems: tuple[RowProblem[FileProblemKind], ...] = tuple(problems)
        super().__init__("; ".join(f"line {p.line} {p.column or '-'}: {p.problem}" for p in self.problems[:5]))


class UnreadableTableError(Exception):
    """Not a CSV or XLSX file, or not decodable as the one its suffix claims."""


class TableTooLargeError(UnreadableTableError):
    """Beyond one of the limits below; `reason` says which, for the operator (the file is refused whole)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Limits far above any roster or contact log of a county (a few hundred people, a few thousand contacts a
# year), and low enough that a hostile file is refused in well under a second and a few megabytes: a
# crafted 868 KB workbook once took 1 min 51 s and 688 MB to be found to have no header.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_EXPANDED_BYTES = 20 * 1024 * 1024  # the workbook's parts, unpacked (zipfile never inflates past the
MAX_PARTS = 200                        # declared size, so the declared sizes bound the work)
MAX_LINES = 20000
MAX_COLUMNS = 50
MAX_CELL_CHARS = 2000


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
    """Every row of a .csv (UTF-8, BOM optional, or GB18030) or .xlsx (first sheet) file, as text.

    A workbook is checked before it is opened (its size, its parts and their unpacked size) and read in
    openpyxl's streaming read-only mode; in both formats a file past `MAX_LINES` lines, a cell in a column
    past `MAX_COLUMNS`, or a cell longer than `MAX_CELL_CHARS` raises `TableTooLargeError` at once."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UnreadableTableError(path.suffix)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise TableTooLargeError(f"{size // (1024 * 1024)} MB, more than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if suffix == ".csv":
        data = path.read_bytes()
        try:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
            return _limited(csv.reader(io.StringIO(text, newline="")))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnreadableTableError(path.suffix) from exc
    _check_archive(path)
    # openpyxl (and numpy under it: a quarter of a second) imported when a workbook is read, not whenever the
    # bot starts: a roster or a contacts file comes a few times a year
    import openpyxl  # untyped; pyproject's mypy override covers openpyxl.*
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, InvalidFileException) as exc:
        raise UnreadableTableError(path.suffix) from exc  # not a zip, or a zip that is not a workbook
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # do not trust the stored dimension; read every row
        # openpyxl fills a row with empty cells up to its last one (a cell in column XFD makes 16 384 of
        # them): the first such row is refused, never thousands.
        rows = sheet.iter_rows(values_only=True)
        try:
            return _limited(rows)
        finally:
            rows.close()  # a refusal stops early: the generator still holds the sheet's stream open
    except zipfile.BadZipFile as exc:  # a part that does not inflate to its declared size
        raise UnreadableTableError(path.suffix) from exc
    finally:
        book.close()


def _check_archive(path: pathlib.Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableTableError(path.suffix) from exc
    if len(parts) > MAX_PARTS:
        raise TableTooLargeError(f"{len(parts)} parts in the workbook, more than {MAX_PARTS}")
    expanded = sum(part.file_size for part in parts)
    if expanded > MAX_EXPANDED_BYTES:
        raise TableTooLargeError(f"{expanded // (1024 * 1024)} MB unpacked, more than "
                                 f"{MAX_EXPANDED_BYTES // (1024 * 1024)} MB")


def _limited(rows: Iterator[Sequence[object]]) -> list[list[str]]:
    out: list[list[str]] = []
    for line, row in enumerate(rows, start=1):
        if line > MAX_LINES:
            raise TableTooLargeError(f"more than {MAX_LINES} lines")
        cells = [cell_text(c) for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) > MAX_COLUMNS:
            raise TableTooLargeError(f"line {line}: more than {MAX_COLUMNS} columns")
        if any(len(c) > MAX_CELL_CHARS for c in cells):
            raise TableTooLargeError(f"line {line}: a cell longer than {MAX_CELL_CHARS} characters")
        out.append(cells)
    return out


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


def read_table(path: pathlib.Path, aliases: dict[str, str], required: tuple[str, ...]
               ) -> tuple[Header, Iterator[tuple[int, list[str]]]]:
    """The header of a .csv or .xlsx file and its numbered data rows; `TableRefusedError` when the file is
    too large or not one of these (`read_rows`), is empty, has no header row, or lacks a required column
    (each one named)."""
    try:
        rows = read_rows(path)
    except TableTooLargeError as exc:
        raise TableRefusedError([RowProblem(0, "", "too_large", exc.reason)]) from exc
    except UnreadableTableError as exc:
        raise TableRefusedError([RowProblem(0, "", "unknown_format", clip(path.suffix))]) from exc
    header, numbered = split_header(rows, aliases)
    if header is None:
        raise TableRefusedError([RowProblem(0, "", "empty")])
    if not header.columns:
        raise TableRefusedError([RowProblem(header.line, "", "no_header", clip(" ".join(header.cells)))])
    missing = header.missing(required)
    if missing:
        raise TableRefusedError([RowProblem(header.line, k, "missing_column") for k in missing])
    return header, numbered
