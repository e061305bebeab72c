"""Every .xlsx the bot writes, through one function: `write_workbook`.

A workbook here is a few sheets of a header row and rows, written as SpreadsheetML straight into the
zip archive, row by row, so a ledger of a hundred thousand matters streams through without holding a
cell object per value (openpyxl's writer spent most of a 1 000 000-matter ledger's time on those).
What it writes is what an office prints and files:

- text is always a string cell (`inlineStr`), never a formula, whatever it starts with (= + - @); one that
  looks like a formula carries Excel's quote prefix, as bot/export.py's cells do, so that editing it keeps
  it text; characters XML cannot hold are dropped (`bot.text.printable`);
- numbers are numbers, rates are numbers shown as percentages, dates are dates shown as 2026年1月5日,
  and a value that does not exist (a rate of nothing) is an empty cell, never "—";
- every sheet prints on A4, landscape when it is wide, fitted to the page's width, its header row
  repeated on every page, its title at the head of each page and "第 1 页，共 3 页" at the foot; the
  header row is frozen and filters the columns.

The fixed parts of the package (styles, relationships, content types, properties) are bot/xlsx_package.py.
"""

from __future__ import annotations

import itertools
import math
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from bot import xlsx_package as package
from bot.export import FORMULA_XLSX
from bot.text import printable

Value = str | int | float | date | None

TEXT: Final = "text"
INTEGER: Final = "integer"
DECIMAL: Final = "decimal"  # one decimal place
PERCENT: Final = "percent"  # a rate 0..1, shown as 12.5%
DATE: Final = "date"
NOTE: Final = "note"  # a line of a sheet of notes: no border, wrapped
# the cellXfs of xlsx_package.STYLESHEET; the header's is 1
STYLES: Final = {TEXT: 2, INTEGER: 3, DECIMAL: 4, PERCENT: 5, DATE: 6, NOTE: 7}
QUOTED: Final = 8  # text that looks like a formula: Excel's quote prefix, so that editing it keeps it text
LINE_HEIGHT: Final = 14.25  # points: a line of the default font
WIDE: Final = 110  # characters: a sheet wider than this prints landscape
SAMPLE: Final = 500  # rows looked at to size the columns of a sheet
MAX_WIDTH: Final = 50  # characters: longer texts wrap

_EPOCH: Final = date(1899, 12, 30)


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: float | None = None  # in characters of the default font; None: from the header and the rows


@dataclass
class Sheet:
    name: str  # at most 31 characters, none of []:*?/\
    title: str  # printed at the head of every page
    columns: Sequence[Column]
    rows: Iterable[Sequence[Value]]  # may be a generator: it is read once, as it is written
    landscape: bool | None = None  # None: when the columns are wider than a portrait page
    header: bool = True  # False: a sheet of notes, one text per row, no header row
    count: int = field(default=0, init=False)  # rows written, once written


def text_width(text: str) -> float:
    """Width in characters of the default font: a Chinese character or full-width sign counts two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def clean(text: str) -> str:
    """The text without what XML cannot hold (bot/text.py, the writers' one guard)."""
    return printable(text)


def _letter(n: int) -> str:
    name = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(ref: str, value: Value, kind: str) -> str:
    style = STYLES[kind]
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, str):
        text = clean(value)
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        style = STYLES[NOTE] if kind == NOTE else QUOTED if text.startswith(FORMULA_XLSX) else STYLES[TEXT]
        return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f'<c r="{ref}" s="{STYLES[DATE]}"><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, bool):
        value = int(value)
    return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'


def _lines(value: Value, width: float) -> int:
    """Lines a text takes in a column `width` characters wide (spreadsheets do not grow a row by themselves
    when they open a file: the height is written)."""
    if not isinstance(value, str) or len(value) * 2 < width - 1 and "\n" not in value:
        return 1
    return sum(max(1, math.ceil(text_width(line) / max(width - 1.5, 1))) for line in value.split("\n"))


def _row(number: int, cells: str, lines: int) -> str:
    height = f' ht="{LINE_HEIGHT * lines:.2f}" customHeight="1"' if lines > 1 else ""
    return f'<row r="{number}"{height}>{cells}</row>'


def _width(column: Column, sample: list[Sequence[Value]], index: int) -> float:
    if column.width is not None:
        return column.width
    # a header on one line: wrapped, LibreOffice broke it where its glyphs ran out, inside a word (到期应办/结)
    longest = text_width(column.header) + 1
    for row in sample:
        value = row[index] if index < len(row) else None
        if isinstance(value, str):
            shown = max((text_width(line) for line in value.split("\n")), default=0)
        elif isinstance(value, date):
            shown = 12
        elif isinstance(value, float):
            shown = 7 if column.kind == PERCENT else len(f"{value:.1f}")
        elif value is None:
            shown = 0
        else:
            shown = len(str(value))
        longest = max(longest, shown)
    return min(MAX_WIDTH, max(4.0, longest + 2))


def _sheet_xml(sheet: Sheet, rows: Iterator[Sequence[Value]], sample: list[Sequence[Value]],
               widths: list[float]) -> Iterator[str]:
    ncols = len(sheet.columns)
    last = _letter(ncols - 1)
    landscape = sheet.landscape if sheet.landscape is not None else sum(widths) > WIDE
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
           ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><sheetViews><sheetView workbookViewId="0">')
    if sheet.header:
        yield '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    yield '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>'
    for n, width in enumerate(widths, 1):
        yield f'<col min="{n}" max="{n}" width="{width:.1f}" customWidth="1"/>'
    yield "</cols><sheetData>"
    number = 0
    if sheet.header:
        number = 1
        cells = "".join(f'<c r="{_letter(c)}1" s="1" t="inlineStr"><is><t>{escape(clean(col.header))}</t></is></c>'
                        for c, col in enumerate(sheet.columns))
        yield _row(1, cells, max(_lines(col.header, w) for col, w in zip(sheet.columns, widths)))
    letters = [_letter(c) for c in range(ncols)]
    kinds = [col.kind for col in sheet.columns]
    texts = [c for c, kind in enumerate(kinds) if kind in (TEXT, NOTE)]
    for row in itertools.chain(sample, rows):
        number += 1
        sheet.count += 1
        values = [row[c] if c < len(row) else None for c in range(ncols)]
        cells = "".join(_cell(f"{letters[c]}{number}", values[c], kinds[c]) for c in range(ncols))
        yield _row(number, cells, max((_lines(values[c], widths[c]) for c in texts), default=1))
    yield "</sheetData>"
    if sheet.header:
        yield f'<autoFilter ref="A1:{last}{max(number, 1)}"/>'
    yield ('<printOptions horizontalCentered="1"/>'
           '<pageMargins left="0.5" right="0.5" top="0.8" bottom="0.8" header="0.3" footer="0.3"/>'
           f'<pageSetup paperSize="9" orientation="{"landscape" if landscape else "portrait"}"'
           ' fitToWidth="1" fitToHeight="0"/>'
           f'<headerFooter><oddHeader>{escape("&C&12" + _header_text(sheet.title))}</oddHeader>'
           f'<oddFooter>{escape("&C第 &P 页，共 &N 页")}</oddFooter></headerFooter></worksheet>')


def _header_text(title: str) -> str:
    return clean(title).replace("&", "&&")  # & starts a code in a page header


def write_workbook(sheets: Sequence[Sheet], *, title: str, author: str, created: datetime) -> bytes:
    """The sheets as an .xlsx file (its document properties: the title, the author — the unit — and when)."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for n, sheet in enumerate(sheets, 1):
            rows = iter(sheet.rows)
            sample = list(itertools.islice(rows, SAMPLE))
            widths = [_width(col, sample, c) for c, col in enumerate(sheet.columns)]
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w") as handle:
                chunk: list[str] = []
                for piece in _sheet_xml(sheet, rows, sample, widths):
                    chunk.append(piece)
                    if len(chunk) >= 2000:
                        handle.write("".join(chunk).encode("utf-8"))
                        chunk = []
                handle.write("".join(chunk).encode("utf-8"))
        archive.writestr("xl/styles.xml", package.STYLESHEET)
        archive.writestr("xl/workbook.xml", _workbook_xml(sheets))
        archive.writestr("xl/_rels/workbook.xml.rels", package.workbook_rels(len(sheets)))
        archive.writestr("[Content_Types].xml", package.content_types(len(sheets)))
        archive.writestr("_rels/.rels", package.ROOT_RELS)
        archive.writestr("docProps/core.xml", package.core(title, author, created))
    return out.getvalue()


def _workbook_xml(sheets: Sequence[Sheet]) -> str:
    entries = "".join(f'<sheet name={quoteattr(clean(s.name)[:31])} sheetId="{n}" r:id="rId{n}"/>'
                      for n, s in enumerate(sheets, 1))
    names = []
    for n, s in enumerate(sheets):
        if s.header:
            quoted = "'" + clean(s.name)[:31].replace("'", "''") + "'"
            last = _letter(len(s.columns) - 1)
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
                         f"{escape(quoted)}!$A$1:${last}${s.count + 1}</definedName>")
            names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{n}">{escape(quoted)}!$1:$1'
                         "</definedName>")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<bookViews><workbookView/></bookViews><sheets>{entries}</sheets>'
            + (f"<definedNames>{''.join(names)}</definedNames>" if names else "") + "</workbook>")
