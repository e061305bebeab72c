"""Word documents in the layout of a Chinese official document (GB/T 9704-2012 《党政机关公文格式》), as
a procuratorate sends one upward or to a representative: `OfficialDocument` lays out the parts, the
callers (bot/office_files.py, the report; handlers/reports/papers.py, the slip and the letter) say what is in them.

- A4, 天头 37 mm, 订口 28 mm, text block 156 × 225 mm (§5.2.1); body 3号仿宋 at a fixed 28 pt line,
  each paragraph indented two characters (§7.3.3);
- 版头 of an upward document (§7.2): the unit's mark in red 小标宋, then 发文字号 one character in from
  the left and 签发人 (楷体 name) one in from the right on one line, then the red rule as wide as the text;
- the title in 2号小标宋, centred, broken only between its parts — never inside a word — into as few
  lines as fit, as even as can be (§7.3.1); the addressee 主送机关 flush left after it, with a colon
  (§7.3.2); headings 一、 in 黑体 and （一） in 楷体, each kept with what follows (§7.3.3);
- tables captioned and kept with their first rows, their header row repeated on every page, rows never
  split, columns sized to their content so that a number or a case number never wraps;
- the unit centred over the date, the date four characters in from the right (§7.3.5, as under a seal);
- page numbers "— 1 —" in 4号宋体, one character in from the right on odd pages, from the left on even
  pages (§7.5);
- document properties: the title, the unit as author, the moment it was drawn;
- every text through `bot.text.printable` (what XML cannot hold is dropped: a writer never fails on it).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from bot.text import printable

TITLE_FONT: Final = "方正小标宋简体"
HEADING_FONT: Final = "黑体"
SUBHEADING_FONT: Final = "楷体_GB2312"
BODY_FONT: Final = "仿宋_GB2312"
NUMBER_FONT: Final = "宋体"
RED: Final = RGBColor(0xFF, 0x00, 0x00)
TEXT_WIDTH_PT: Final = Mm(156).pt
BODY_PT: Final = 16.0  # 3号
TITLE_PT: Final = 22.0  # 2号
TABLE_PT: Final = 12.0  # 小4号
TABLE_SMALL_PT: Final = 10.5  # 5号: a table too wide in 小4号
CELL_MARGIN_TWIPS: Final = "57"  # 0.1 cm either side of a cell's text
CELL_PAD_EM: Final = 1.0  # those margins and a little room, in characters
TITLE_SLACK_EM: Final = 0.5  # room left on every title line
IMPRINT_ROW_PT: Final = 28.0  # a line of the 版记


def em_width(text: str) -> float:
    """Width in characters of a Chinese font: a Chinese character or full-width sign is one, a Latin
    letter, digit or half-width sign about half of one (0.65: the widest of the fonts an office may lack
    and a renderer put in their place, DejaVu Sans, is 0.64); and a quarter where Chinese meets Latin,
    which Word and LibreOffice space apart by default (2026年7月13日: five such places)."""
    wide = [ord(ch) >= 0x2E80 or ch in "—…" for ch in text]
    meets = sum(1 for a, b in zip(wide, wide[1:]) if a != b)
    return sum(1.0 if w else 0.65 for w in wide) + 0.25 * meets


def title_lines(parts: Sequence[str], width: float) -> list[str]:
    """Break a title between its parts (each a word or phrase never to be split) into as few lines as
    fit `width` characters, the longest line as short as can be; a part wider than a line stands alone."""
    n = len(parts)
    widths = [em_width(p) for p in parts]
    for lines in range(1, n + 1):
        best: tuple[float, list[int]] | None = None
        for cuts in _cuts(n, lines):
            spans = list(zip([0, *cuts], [*cuts, n]))
            longest = max(sum(widths[a:b]) for a, b in spans)
            if longest <= width and (best is None or longest < best[0]):
                best = (longest, list(cuts))
        if best is not None:
            return ["".join(parts[a:b]) for a, b in zip([0, *best[1]], [*best[1], n])]
    return list(parts)


def _cuts(n: int, lines: int) -> list[tuple[int, ...]]:
    from itertools import combinations

    return list(combinations(range(1, n), lines - 1))


def column_widths(rows: Sequence[Sequence[str]], total: float, *, wrap: frozenset[int] = frozenset()) -> list[float]:
    """Widths in characters of each column of a table whose first row is its header: each as wide as its
    longest text (a header of more than four characters may take two lines). When that is wider than
    `total`, the columns of long texts — those in `wrap`, or wider than twelve characters — give way,
    the widest first, down to four characters; numbers, dates and case numbers never wrap. What is left
    of `total` is shared out in proportion."""
    columns = len(rows[0])
    need, floor = [], []
    for c in range(columns):
        header = em_width(rows[0][c])
        head = header if header <= 4 else math.ceil(header / 2)
        body = max((em_width(r[c]) for r in rows[1:] if c < len(r)), default=0.0)
        need.append(max(body, head, 1.0) + CELL_PAD_EM)
        floor.append(max(head, 4.0) + CELL_PAD_EM if c in wrap or body > 12 else need[-1])
    while sum(need) > total:
        give = [c for c in range(columns) if need[c] > floor[c]]
        if not give:
            break
        widest = max(give, key=lambda c: need[c])
        need[widest] = max(floor[widest], need[widest] - min(0.5, sum(need) - total))
    if sum(need) > total:  # even so: everything in proportion (some text wraps)
        need = [w * total / sum(need) for w in need]
    spare = total - sum(need)
    return [w + spare * w / sum(need) for w in need]


def fits(rows: Sequence[Sequence[str]], total: float, wrap: frozenset[int] = frozenset()) -> bool:
    """Whether every column but those of long names can be as wide as its longest text within `total`."""
    widths = column_widths(rows, total, wrap=wrap)
    for c, width in enumerate(widths):
        body = max((em_width(r[c]) for r in rows[1:] if c < len(r)), default=0.0)
        if c not in wrap and body <= 12 and width + 1e-6 < body + CELL_PAD_EM:
            return False
    return True


def _fonts(run: Any, name: str, size: float, *, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:hAnsi"), name)


# What follows w:pBdr in a paragraph's properties (ECMA-376 CT_PPrBase): it goes before the first of them.
_AFTER_BORDERS: Final = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
    "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)


def _element(tag: str, **attributes: str) -> Any:
    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    return element


class OfficialDocument:
    """An A4 document in the GB/T 9704 layout, written part by part, top to bottom."""

    def __init__(self, title: str, author: str, created: datetime, *, subject: str = "") -> None:
        self.doc = Document()
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(21)
        props = self.doc.core_properties
        props.title, props.author = printable(title), printable(author)
        props.last_modified_by = props.author
        props.created = props.modified = created.astimezone(UTC)  # python-docx writes the time as UTC, zone unread
        props.subject, props.comments, props.keywords, props.category = subject, "", "", subject
        props.language, props.revision = "zh-CN", 1
        normal = self.doc.styles["Normal"]
        normal.font.name, normal.font.size = BODY_FONT, Pt(BODY_PT)
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
        self.doc.settings.odd_and_even_pages_header_footer = True
        self._page_number(section.footer.paragraphs[0], odd=True)
        self._page_number(section.even_page_footer.paragraphs[0], odd=False)
        self.tables = 0
        self._after_heading = False

    # -- the parts ------------------------------------------------------------------------------

    def paragraph(self, text: str = "", font: str = BODY_FONT, size: float = BODY_PT, *, bold: bool = False,
                  align: Any = None, indent: float | None = 2, exact: bool = True, keep: bool = False) -> Any:
        """A paragraph; `indent` in characters of its own size (None: flush left)."""
        para = self.doc.add_paragraph()
        fmt = para.paragraph_format
        if exact:  # 22 lines to a page in 3号; smaller type in proportion
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(28.0 if size >= BODY_PT else round(size * 1.6))
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.widow_control = True
        fmt.keep_with_next = keep
        if self._after_heading:  # a heading's first paragraph moves whole, and the heading with it
            fmt.keep_together = True
        self._after_heading = keep
        if indent:
            fmt.first_line_indent = Pt(size * indent)
        if align is not None:
            para.alignment = align
        if text:
            _fonts(para.add_run(printable(text)), font, size, bold=bold)
        return para

    def letterhead(self, unit: str, number: str, signer: str) -> None:
        """版头 of an upward document: the unit's mark, 发文字号 and 签发人 on one line, the red rule."""
        mark = self.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, indent=None, exact=False)
        size = min(36.0, TEXT_WIDTH_PT / max(em_width(unit + "文件"), 1) * 0.9)
        _fonts(mark.add_run(printable(unit) + "文件"), TITLE_FONT, size, color=RED)
        self.paragraph(indent=None)
        self.paragraph(indent=None)
        line = self.paragraph(indent=None)
        line.paragraph_format.left_indent = Pt(BODY_PT)
        line.paragraph_format.tab_stops.add_tab_stop(Pt(TEXT_WIDTH_PT - 2 * BODY_PT), WD_TAB_ALIGNMENT.RIGHT)
        _fonts(line.add_run(printable(number)), BODY_FONT, BODY_PT)
        _fonts(line.add_run("\t签发人："), BODY_FONT, BODY_PT)
        _fonts(line.add_run(printable(signer) or "　　　"), SUBHEADING_FONT, BODY_PT)
        rule = self.paragraph(indent=None, exact=False)
        rule.paragraph_format.space_before = Pt(4)
        borders = _element("w:pBdr")
        borders.append(_element("w:bottom", val="single", sz="12", space="1", color="FF0000"))
        rule._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_BORDERS)
        self.paragraph(indent=None)
        self.paragraph(indent=None)

    def title(self, parts: Sequence[str], font: str = TITLE_FONT, size: float = TITLE_PT, *,
              new_page: bool = False) -> None:
        """The title, broken between its parts only (GB/T 9704 §7.3.1); also a line under it (the period);
        `new_page`: it starts a page (a form that goes with a letter)."""
        lines = title_lines(parts, TEXT_WIDTH_PT / size - TITLE_SLACK_EM)
        para = self.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, indent=None, exact=False, keep=True)
        para.paragraph_format.page_break_before = new_page
        para.paragraph_format.line_spacing = Pt(round(size * 1.5))
        for n, line in enumerate(lines):
            run = para.add_run(printable(line))
            _fonts(run, font, size)
            if n < len(lines) - 1:
                run.add_break()

    def addressee(self, name: str) -> None:
        self.paragraph(indent=None)
        self.paragraph(f"{name}：", indent=None)

    def heading(self, text: str, level: int = 1) -> None:
        self.paragraph(text, HEADING_FONT if level == 1 else SUBHEADING_FONT, keep=True)

    def note(self, text: str) -> None:
        self.paragraph(f"注：{text}", BODY_FONT, 14)

    def table(self, caption: str, rows: Sequence[Sequence[str]], *, wrap: frozenset[int] = frozenset()) -> None:
        """A captioned table (the first row its header): the caption kept with the header and the first
        row — with the whole table when it is short —, rows never split, the header repeated on each page."""
        self.tables += 1
        self.paragraph(f"表{self.tables}　{caption}", HEADING_FONT, 14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=None,
                       keep=True)
        size = TABLE_PT
        widths = column_widths(rows, TEXT_WIDTH_PT / size, wrap=wrap)
        if not fits(rows, TEXT_WIDTH_PT / size, wrap):
            size = TABLE_SMALL_PT
            widths = column_widths(rows, TEXT_WIDTH_PT / size, wrap=wrap)
        grid = self.doc.add_table(rows=0, cols=len(rows[0]))
        grid.style = "Table Grid"
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        grid.autofit = False
        margins = _element("w:tblCellMar")
        for side in ("left", "right"):
            margins.append(_element(f"w:{side}", w=CELL_MARGIN_TWIPS, type="dxa"))
        grid._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription",
                                              "w:tblPrChange")
        for column, width in zip(grid.columns, widths):
            column.width = Pt(width * size)
        together = len(rows) <= 8
        for r, texts in enumerate(rows):
            row = grid.add_row()
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(_element("w:cantSplit"))
            if r == 0:
                tr_pr.append(_element("w:tblHeader", val="true"))
            for cell, text, width in zip(row.cells, texts, widths):
                cell.width = Pt(width * size)
                para = cell.paragraphs[0]
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
                para.paragraph_format.keep_with_next = r < len(rows) - 1 and (together or r < 2)
                para.paragraph_format.widow_control = True
                _fonts(para.add_run(printable(text)), BODY_FONT, size, bold=r == 0)

    def form(self, rows: Sequence[tuple[str, ...]], *, label_width: float = 6.0) -> None:
        """A form of four columns — label, value, label, value — in 仿宋 小4号: a row of two cells spans the
        whole width with its value; a value's lines are kept as given; rows never split across pages."""
        size = TABLE_PT
        total = TEXT_WIDTH_PT / size
        value = (total - 2 * label_width) / 2
        widths = [label_width, value, label_width, value]
        grid = self.doc.add_table(rows=0, cols=4)
        grid.style = "Table Grid"
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        grid.autofit = False
        for column, width in zip(grid.columns, widths):
            column.width = Pt(width * size)
        for texts in rows:
            row = grid.add_row()
            row._tr.get_or_add_trPr().append(_element("w:cantSplit"))
            cells = list(row.cells)
            for cell, width in zip(cells, widths):
                cell.width = Pt(width * size)
            if len(texts) == 2:
                cells = [cells[0], cells[1].merge(cells[3])]
            for n, (cell, text) in enumerate(zip(cells, texts)):
                para = cell.paragraphs[0]
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER if n % 2 == 0 else WD_ALIGN_PARAGRAPH.LEFT
                para.paragraph_format.line_spacing = Pt(round(size * 1.6))
                for k, line in enumerate(text.split("\n")):
                    run = para.add_run(printable(line))
                    _fonts(run, BODY_FONT, size, bold=n % 2 == 0)
                    if k < len(text.split("\n")) - 1:
                        run.add_break()

    def signature(self, unit: str, day: str) -> None:
        """The unit centred over the date, the date four characters in from the right (§7.3.5); the last lines
        of the text go with them (a page holding only the unit and the date is not filed: §7.3.5 has the text
        moved, never the signature left alone)."""
        if self.doc.paragraphs:
            last = self.doc.paragraphs[-1].paragraph_format
            last.keep_with_next = last.keep_together = True
        self.paragraph(indent=None, keep=True)
        self.paragraph(indent=None, keep=True)
        inset = 4 * BODY_PT
        name = self.paragraph(unit, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=None, keep=True)
        name.paragraph_format.right_indent = Pt(max(0.0, inset + (em_width(day) - em_width(unit)) / 2 * BODY_PT))
        date_line = self.paragraph(day, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=None)
        date_line.paragraph_format.right_indent = Pt(inset)

    def imprint(self, copy_to: str, issuer: str, day: str) -> None:
        """版记 (§7.4): 抄送机关 (when any) and 印发机关 with 印发日期, in 4号仿宋, between rules the width of the text
        (the first and the last thick, the one between thin), kept together on the last page. §7.4 sets it at
        the page's foot: it follows the signature after a blank line instead, since LibreOffice 7.4 ignores the
        position of a floating table (the office may move it down; it need not retype it)."""
        rows = ([(f"抄送：{copy_to.rstrip('。')}。", "")] if copy_to else []) + [(issuer, f"{day}印发")]
        if self.doc.paragraphs:  # with the signature above it
            self.doc.paragraphs[-1].paragraph_format.keep_with_next = True
        self.paragraph(indent=None, keep=True)
        grid = self.doc.add_table(rows=0, cols=2)
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        grid.autofit = False
        props = grid._tbl.tblPr
        borders = _element("w:tblBorders")
        for side, size in (("top", "8"), ("left", "0"), ("bottom", "8"), ("right", "0"), ("insideH", "4"),
                           ("insideV", "0")):
            borders.append(_element(f"w:{side}", val="single" if size != "0" else "nil", sz=size, space="0",
                                    color="000000"))
        props.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                    "w:tblDescription", "w:tblPrChange")
        half = TEXT_WIDTH_PT / 2
        for column in grid.columns:
            column.width = Pt(half)
        for left, right in rows:
            row = grid.add_row()
            row._tr.get_or_add_trPr().append(_element("w:cantSplit"))
            cells = list(row.cells)
            for cell in cells:
                cell.width = Pt(half)
            if not right:
                cells = [cells[0].merge(cells[1])]
            for cell, text, align in zip(cells, (left, right), (WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT)):
                para = cell.paragraphs[0]
                para.alignment = align
                fmt = para.paragraph_format
                fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                fmt.line_spacing = Pt(IMPRINT_ROW_PT)
                fmt.left_indent = fmt.right_indent = Pt(14)  # one character in from either end (§7.4.2, §7.4.3)
                fmt.keep_with_next = True
                _fonts(para.add_run(printable(text)), BODY_FONT, 14)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()

    # -- page numbers (§7.5) --------------------------------------------------------------------

    def _page_number(self, para: Any, *, odd: bool) -> None:
        """— 1 — in 4号宋体, one character in from the right (odd pages) or the left (even pages)."""
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
        if odd:
            para.paragraph_format.right_indent = Pt(14)
        else:
            para.paragraph_format.left_indent = Pt(14)
        _fonts(para.add_run("— "), NUMBER_FONT, 14)
        for piece in ("begin", "PAGE", "separate", "1", "end"):
            run = para.add_run()
            _fonts(run, NUMBER_FONT, 14)
            if piece in ("begin", "separate", "end"):
                run._r.append(_element("w:fldChar", fldCharType=piece))
            elif piece == "PAGE":
                instruction = OxmlElement("w:instrText")
                instruction.set(qn("xml:space"), "preserve")
                instruction.text = " PAGE "
                run._r.append(instruction)
            else:
                run.text = piece
        _fonts(para.add_run(" —"), NUMBER_FONT, 14)
