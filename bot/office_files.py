"""The model of a report — paragraphs, headings, notes and tables — and its two files: a Word document
in the layout of a Chinese official document (bot/official_docx.py) and a workbook of its tables
(bot/workbook.py), so that the workbook holds exactly the document's tables.

What a report says is decided in handlers/reports/report_text.py and assessment_text.py; nothing here
knows a matter or a person.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Final

from docx.enum.text import WD_ALIGN_PARAGRAPH

from bot import workbook
from bot.official_docx import BODY_FONT, BODY_PT, SUBHEADING_FONT, OfficialDocument
from bot.workbook import Column, Sheet, write_workbook

Cell = str | int | float | date | None

NONE: Final = "无"
NO_RATE: Final = "—"


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def percent(value: float | None) -> str:
    """A rate as every paper and the chat show it: one decimal, "—" without a base; never 100.0% while
    something is missing, nor 0.0% when something is there."""
    if value is None:
        return NO_RATE
    shown = math.floor(value * 1000 + 0.5)  # halves up, as people round
    if value < 1 and shown == 1000:
        shown = 999
    elif value > 0 and shown == 0:
        shown = 1
    return f"{shown // 10}.{shown % 10}%"

# -- the blocks of a document ----------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    sheet: str  # a short name for the workbook's sheet
    title: str
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    percent: frozenset[int] = frozenset()  # columns of rates: 0..1, or None when there is no base
    doc_limit: int | None = None  # rows shown in the document (the workbook holds them all)
    wrap: frozenset[int] = frozenset()  # columns of long names, which may wrap in the document

    def body(self) -> list[tuple[Cell, ...]]:
        """The rows as shown: an empty list reads 无."""
        return self.rows or [(NONE, *("" for _ in self.header[1:]))]

    def text(self, row: int, column: int) -> str:
        value = self.body()[row][column]
        if column in self.percent and isinstance(value, int | float | None):
            return percent(value)
        if value is None:
            return NO_RATE
        if isinstance(value, float):
            return f"{value:.1f}"
        if isinstance(value, date):
            return zh_date(value)
        return str(value)

    def column_kind(self, column: int) -> str:
        """What the workbook stores in a column: rates, dates, whole numbers, decimals, or text."""
        if column in self.percent:
            return workbook.PERCENT
        values = [r[column] for r in self.rows if r[column] is not None and r[column] != ""]
        if values and all(isinstance(v, date) for v in values):
            return workbook.DATE
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return workbook.INTEGER
        if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return workbook.DECIMAL
        return workbook.TEXT


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1: 一、 (黑体); 2: （一） (楷体)


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Note:
    """What the figures just above count, where two could be confused: 注：…, in smaller type."""

    text: str


Block = Heading | Paragraph | Table | Note


@dataclass
class Report:
    title_parts: tuple[str, ...]  # the title, in the parts it may be broken between (never inside one)
    subtitle_parts: tuple[str, ...]  # the line under it (the period), likewise
    unit: str
    drawn_on: date
    drawn_at: datetime
    addressee: str | None = None  # 主送机关
    document_number: str | None = None  # 发文字号: with it, the 版头 of an upward document
    signer: str = ""  # 签发人 (empty: a blank the office fills by hand)
    copy_to: str = ""  # 抄送机关 in the 版记 (empty: none)
    issuer: str = ""  # 印发机关 in the 版记 (empty: no 版记)
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines for the workbook's first sheet, after the period

    @property
    def title(self) -> str:
        return "".join(self.title_parts)

    @property
    def subtitle(self) -> str:
        return "".join(self.subtitle_parts)

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


# -- the document ---------------------------------------------------------------------------------


def write_docx(report: Report) -> bytes:
    doc = OfficialDocument(report.title, report.unit, report.drawn_at, subject="报告")
    if report.document_number is not None:
        doc.letterhead(report.unit, report.document_number, report.signer)
    doc.title(report.title_parts)
    if report.subtitle_parts:
        doc.title(report.subtitle_parts, SUBHEADING_FONT, BODY_PT)
    if report.addressee:
        doc.addressee(report.addressee)
    for block in report.blocks:
        if isinstance(block, Heading):
            doc.heading(block.text, block.level)
        elif isinstance(block, Paragraph):
            doc.paragraph(block.text)
        elif isinstance(block, Note):
            doc.note(block.text)
        else:
            body = block.body()
            shown = body if block.doc_limit is None else body[:block.doc_limit]
            rows = [list(block.header), *([block.text(r, c) for c in range(len(block.header))]
                                          for r in range(len(shown)))]
            doc.table(block.title, rows, wrap=block.wrap)
            if len(shown) < len(body):
                doc.paragraph(f"（表中列出前{len(shown)}件，共{len(body)}件，全部见同名电子表格。）", BODY_FONT, 12,
                              align=WD_ALIGN_PARAGRAPH.CENTER, indent=None)
            doc.paragraph(indent=None, exact=False)
    doc.signature(report.unit, zh_date(report.drawn_on))
    if report.issuer:
        doc.imprint(report.copy_to, report.issuer, zh_date(report.drawn_on))
    return doc.bytes()


# -- the workbook ---------------------------------------------------------------------------------


def write_xlsx(title: str, lines: Sequence[str], tables: Sequence[Table], *, author: str, created: datetime) -> bytes:
    """A first sheet 说明 (the title, `lines`, the list of tables), then one sheet per table: its header
    row, then its rows; rates as numbers shown as percentages, dates as dates, nothing as an empty cell."""
    about = [title, *lines, "", *(f"表{n}　{t.title}" for n, t in enumerate(tables, 1))]
    sheets = [Sheet("说明", title, [Column("说明", workbook.NOTE, width=72)], ([line] for line in about),
                    header=False)]
    for n, table in enumerate(tables, 1):
        columns = [Column(name, table.column_kind(c)) for c, name in enumerate(table.header)]
        sheets.append(Sheet(f"表{n} {table.sheet}"[:31], f"表{n}　{table.title}", columns, table.body()))
    return write_workbook(sheets, title=title, author=author, created=created)


def save(path: Path, data: bytes) -> None:
    """Write a file whole: to a temporary name beside it, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
