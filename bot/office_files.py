"""Office documents written from a small model of a report: paragraphs, headings and tables, as a
Word document in the layout of a Chinese official report and as an Excel workbook of its tables.

The layout follows the usual one for a 报告 (GB/T 9704 in spirit): A4, the title centred in 小标宋,
the period and date below it, numbered sections 一、二、三… in 黑体, sub-sections （一）（二） in 楷体,
the body in 仿宋 三号 with a two-character first-line indent, tables captioned 表1, 表2… with a bold
header row that repeats on every page, the unit and the date at the end, page numbers "— 1 —".
What a report says is decided in handlers/report_text.py; nothing here knows a matter or a person.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import openpyxl
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl.styles import Alignment, Font

Cell = str | int | float | None

TITLE_FONT: Final = "方正小标宋简体"
HEADING_FONT: Final = "黑体"
SUBHEADING_FONT: Final = "楷体_GB2312"
BODY_FONT: Final = "仿宋_GB2312"
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

    def body(self) -> list[tuple[Cell, ...]]:
        """The rows as shown: an empty list reads 无."""
        return self.rows or [(NONE, *("" for _ in self.header[1:]))]

    def text(self, row: int, column: int) -> str:
        value = self.body()[row][column]
        if column in self.percent and not isinstance(value, str):
            return percent(value)
        if value is None:
            return NO_RATE
        if isinstance(value, float):
            return f"{value:.1f}"
        return str(value)


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
    title: str
    subtitle: str
    unit: str
    drawn_on: date
    addressee: str | None = None
    blocks: list[Block] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

# -- writing .docx --------------------------------------------------------------------------------


def _font(run: Any, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(doc: Any, text: str, font: str = BODY_FONT, size: float = 16, *, bold: bool = False,
               align: Any = None, indent: bool = True, exact: bool = True) -> Any:
    para = doc.add_paragraph()
    fmt = para.paragraph_format
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(28)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        para.alignment = align
    _font(para.add_run(text), font, size, bold)
    return para


def _page_numbers(section: Any) -> None:
    """— 1 — centred in the footer."""
    para = section.footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(para.add_run("— "), BODY_FONT, 14)
    field_ = OxmlElement("w:fldSimple")
    field_.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field_.append(run)
    para._p.append(field_)
    _font(para.add_run(" —"), BODY_FONT, 14)


def _table(doc: Any, table: Table) -> None:
    """The table with its header row repeated on every page; at most `doc_limit` rows, then a note."""
    body = table.body()
    shown = body if table.doc_limit is None else body[:table.doc_limit]
    grid = doc.add_table(rows=1, cols=len(table.header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    # row by row: Table.cell(r, c) rebuilds the list of every cell on each call, quadratic in a long table
    for r, texts in enumerate([list(table.header), *([table.text(i, c) for c in range(len(table.header))]
                                                     for i in range(len(shown)))]):
        cells = grid.rows[0].cells if r == 0 else grid.add_row().cells
        for cell, text in zip(cells, texts):
            para = cell.paragraphs[0]
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(para.add_run(text), BODY_FONT, 12, bold=r == 0)
    header = grid.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    if len(shown) < len(body):
        _paragraph(doc, f"（表中列出前{len(shown)}件，共{len(body)}件，全部见同名电子表格。）", BODY_FONT, 12,
                   align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)


def write_docx(report: Report) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    doc.core_properties.title = report.title
    doc.core_properties.author = report.unit
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    _page_numbers(section)
    title = _paragraph(doc, report.title, TITLE_FONT, 22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=False)
    title.paragraph_format.space_after = Pt(12)
    _paragraph(doc, report.subtitle, SUBHEADING_FONT, 16, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(doc, "", indent=False)
    if report.addressee:
        _paragraph(doc, f"{report.addressee}：", indent=False)
    number = 0
    for block in report.blocks:
        if isinstance(block, Heading):
            _paragraph(doc, block.text, HEADING_FONT if block.level == 1 else SUBHEADING_FONT, 16)
        elif isinstance(block, Paragraph):
            _paragraph(doc, block.text)
        elif isinstance(block, Note):
            _paragraph(doc, f"注：{block.text}", BODY_FONT, 14)
        else:
            number += 1
            _paragraph(doc, f"表{number}　{block.title}", BODY_FONT, 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                       indent=False)
            _table(doc, block)
            _paragraph(doc, "", indent=False, exact=False)
    _paragraph(doc, "", indent=False)
    _paragraph(doc, report.unit, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph(doc, zh_date(report.drawn_on), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# -- writing .xlsx --------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_xlsx(title: str, lines: Sequence[str], tables: Sequence[Table]) -> bytes:
    """A first sheet 说明 (the title, `lines`, the list of tables), then one sheet per table: its header
    row, then its rows; rates as numbers formatted as percentages."""
    book = openpyxl.Workbook()
    about = book.active
    about.title = "说明"
    about.append([title])
    about["A1"].font = Font(bold=True, size=14)
    for line in lines:
        about.append([line])
    about.append([])
    for n, table in enumerate(tables, 1):
        about.append([f"表{n}　{table.title}"])
    about.column_dimensions["A"].width = min(100, max(_width(title), 40))
    for n, table in enumerate(tables, 1):
        sheet = book.create_sheet(f"表{n} {table.sheet}"[:31])
        sheet.append(list(table.header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for r, values in enumerate(table.body()):
            sheet.append(list(values))  # a figure with no value (a rate of nothing) stays an empty cell
            for c, value in enumerate(values):
                if c in table.percent and isinstance(value, float):
                    sheet.cell(row=r + 2, column=c + 1).number_format = "0.0%"
        sheet.freeze_panes = "A2"
        for c, name in enumerate(table.header):
            texts = [name] + [table.text(r, c) for r in range(len(table.body()))]
            letter = sheet.cell(row=1, column=c + 1).column_letter
            sheet.column_dimensions[letter].width = min(60, max(_width(t) for t in texts) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

def save(path: Path, data: bytes) -> None:
    """Write a file whole: to a temporary name beside it, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
