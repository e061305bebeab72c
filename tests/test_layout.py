"""Issue 16 §2: the papers in the layout a Chinese office files and a higher procuratorate accepts —
GB/T 9704-2012 for the half-year report (.docx), and workbooks that print (.xlsx).

What can be read back from the files is checked here: page and margins, the 版头 (the unit's mark,
发文字号 and 签发人, the red rule), the title broken only between its words, the addressee, fonts and
sizes, headings and captions kept with what follows, tables' header rows repeated and rows never split,
columns sized to their content, the unit centred over the date four characters in from the right, page
numbers right on odd pages and left on even ones, document properties; and for the workbooks: A4,
landscape when wide, fitted to the width, header row repeated and frozen, dates stored as dates, empty
cells where there is no value, text never a formula. tests/test_render.py renders them through
LibreOffice and reads the pages.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
from docx.shared import Mm, Pt

from bot import official_docx as layout
from bot.config import ReportConfig
from bot.model import UnitScope
from bot.office_files import Heading, Note, Paragraph, Report, Table, write_docx, write_xlsx
from bot.workbook import Column, Sheet, write_workbook
from handlers.reports import report_text, figures as reports
from tests.fakes import Harness
from tests.reports_world import seed

SH = ZoneInfo("Asia/Shanghai")
DRAWN_AT = datetime(2026, 7, 3, 9, 30, tzinfo=SH)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


async def drawn_report(h: Harness, paper: ReportConfig = ReportConfig()) -> Report:
    await seed(h.db, h.clock.now())
    async with h.db.snapshot() as q:
        figures = await reports.half_year(q, UnitScope.of(1), reports.HalfYear(2026, 1), DRAWN_AT.date(), SH, "卢氏县人民检察院")
    return report_text.half_year_report(figures, DRAWN_AT, SH, paper)


def open_docx(data: bytes) -> Any:
    return docx.Document(io.BytesIO(data))


def fonts(para: Any) -> set[tuple[str | None, float | None]]:
    return {(r._element.rPr.rFonts.get(f"{W}eastAsia"), r.font.size.pt if r.font.size else None)
            for r in para.runs if r.text.strip()}


async def test_the_page_the_properties_and_the_letterhead(harness: Harness) -> None:
    """GB/T 9704 §5.2, §7.2, §7.3.1-2: A4 with its margins; the 版头 of an upward document; the title in
    2号小标宋 broken only between its words; the addressee from the configuration; the properties."""
    report = await drawn_report(harness, ReportConfig(signer="张检察长"))
    document = open_docx(write_docx(report))
    section = document.sections[0]
    mm = [round(length.mm, 1) for length in (section.page_width, section.page_height, section.top_margin,
                                             section.left_margin, section.right_margin, section.bottom_margin)]
    assert mm == [210, 297, 37, 28, 26, 35]  # A4; 天头 37 mm, 订口 28 mm: a text block of 156 × 225 mm
    props = document.core_properties
    assert props.title == report.title == "卢氏县人民检察院关于2026年上半年联系人大代表政协委员工作情况的报告"
    assert (props.author, props.last_modified_by) == ("卢氏县人民检察院", "卢氏县人民检察院")
    assert props.created == DRAWN_AT and props.modified == DRAWN_AT and props.revision == 1
    paras = [p for p in document.paragraphs]
    mark = paras[0]
    assert mark.text == "卢氏县人民检察院文件" and mark.runs[0].font.color.rgb == layout.RED
    assert fonts(mark) == {(layout.TITLE_FONT, 36.0)}
    number = next(p for p in paras if "签发人：" in p.text)
    assert number.text == "卢检〔2026〕　号\t签发人：张检察长"
    assert number.paragraph_format.left_indent == Pt(16)  # one character in
    assert [s.alignment for s in number.paragraph_format.tab_stops] == [2]  # right-aligned: one character in
    rule = paras[paras.index(number) + 1]
    assert rule._p.pPr.find(f"{W}pBdr/{W}bottom").get(f"{W}color") == "FF0000"
    title = next(p for p in paras if p.text.startswith("卢氏县人民检察院关于"))
    assert paras.index(title) - paras.index(rule) == 3  # 空二行 below the red rule
    assert title.text == "卢氏县人民检察院关于2026年上半年\n联系人大代表政协委员工作情况的报告"
    assert fonts(title) == {(layout.TITLE_FONT, 22.0)} and title.alignment == 1 and title.paragraph_format.keep_with_next
    addressee = paras[paras.index(title) + 3]
    assert addressee.text == "三门峡市人民检察院：" and not addressee.paragraph_format.first_line_indent


def test_a_title_is_broken_between_its_words_never_inside_one() -> None:
    """§7.3.1 (词意完整，排列对称): as few lines as fit, the longest as short as can be."""
    parts = ("卢氏县人民检察院", "关于2026年下半年", "联系人大代表政协委员", "工作情况的报告")
    lines = layout.title_lines(parts, 19.5)
    assert lines == ["卢氏县人民检察院关于2026年下半年", "联系人大代表政协委员工作情况的报告"]
    narrow = layout.title_lines(parts, 14)
    assert narrow == ["卢氏县人民检察院", "关于2026年下半年", "联系人大代表政协委员", "工作情况的报告"]
    assert layout.title_lines(("某某县人民检察院", "关于", "工作情况的报告"), 30) == ["某某县人民检察院关于工作情况的报告"]
    for line in lines + narrow:
        assert "人大代表" in line or "人大" not in line  # 人大代表 never split


async def test_headings_captions_tables_and_the_signature(harness: Harness) -> None:
    """§7.3.3: 一、 in 黑体, （一） in 楷体, body in 3号仿宋 indented two characters at a fixed 28 pt; headings
    and captions kept with what follows; tables: header repeated, rows never split, the first rows kept with
    the caption; columns sized to content; §7.3.5: the unit centred over the date, four characters in."""
    report = await drawn_report(harness)
    document = open_docx(write_docx(report))
    paras = document.paragraphs
    headings = [p for p in paras if p.text[:2] in ("一、", "二、", "三、", "四、", "五、", "六、", "七、")]
    assert len(headings) == 7
    for p in headings:
        assert fonts(p) == {(layout.HEADING_FONT, 16.0)} and p.paragraph_format.keep_with_next
    subheadings = [p for p in paras if p.text.startswith("（") and p.text[1] in "一二三四"]
    assert len(subheadings) == 4
    for p in subheadings:
        assert fonts(p) == {(layout.SUBHEADING_FONT, 16.0)} and p.paragraph_format.keep_with_next
    body = next(p for p in paras if p.text.startswith("根据《"))
    assert fonts(body) == {(layout.BODY_FONT, 16.0)}
    assert body.paragraph_format.first_line_indent == Pt(32) and body.paragraph_format.line_spacing == Pt(28)
    captions = [p for p in paras if p.text.startswith("表") and "　" in p.text[:4]]
    tables = document.tables[:-1]  # the last is the 版记 (below)
    assert len(captions) == len(tables) == len(report.tables)
    for p in captions:
        assert p.paragraph_format.keep_with_next and p.alignment == 1
    width = 0
    for table in tables:
        rows = table.rows
        assert all(r._tr.trPr.find(f"{W}cantSplit") is not None for r in rows)
        assert rows[0]._tr.trPr.find(f"{W}tblHeader") is not None
        assert all(c.paragraphs[0].paragraph_format.keep_with_next for c in rows[0].cells)
        assert table._tbl.tblPr.find(f"{W}tblLayout").get(f"{W}type") == "fixed"
        widths = [int(g.get(f"{W}w")) for g in table._tbl.tblGrid.findall(f"{W}gridCol")]
        width = max(width, sum(widths))
    assert width <= Mm(156).twips + len(widths)  # never wider than the text block
    protests = document.tables[report.tables.index(next(t for t in report.tables if t.sheet == "抗诉备案"))]
    grid = [int(g.get(f"{W}w")) for g in protests._tbl.tblGrid.findall(f"{W}gridCol")]
    assert grid[0] < grid[2] / 2  # 序号 narrow, 案号 as wide as "卢检刑抗〔2026〕1号"
    name, day = paras[-3], paras[-2]  # then a blank line and the 版记
    assert (name.text, day.text) == ("卢氏县人民检察院", "2026年7月3日")
    assert day.paragraph_format.right_indent == Pt(64) and day.alignment == name.alignment == 2
    # the name's centre is the date's: right indent = 4 characters + half the difference of their widths
    assert name.paragraph_format.right_indent == Pt(64 + (layout.em_width("2026年7月3日") - 8) / 2 * 16)


async def test_the_imprint_and_the_signature_kept_with_the_text(harness: Harness) -> None:
    """§7.4: the 版记 closes the report — 抄送机关 (configured) and 印发机关 with 印发日期 in 4号仿宋 between
    rules, thick outside and thin between; §7.3.5: the signature is never left alone on a page: the last
    lines of the text, the signature and the 版记 move together."""
    report = await drawn_report(harness, ReportConfig(copy_to="本院检察长、副检察长"))
    document = open_docx(write_docx(report))
    imprint = document.tables[-1]
    assert [list(dict.fromkeys(c.text for c in row.cells)) for row in imprint.rows] == [
        ["抄送：本院检察长、副检察长。"], ["卢氏县人民检察院办公室", "2026年7月3日印发"]]
    assert all(fonts(c.paragraphs[0]) == {(layout.BODY_FONT, 14.0)} for row in imprint.rows for c in row.cells)
    borders = {b.tag.removeprefix(W): (b.get(f"{W}val"), b.get(f"{W}sz"))
               for b in imprint._tbl.tblPr.find(f"{W}tblBorders")}
    assert borders["top"] == borders["bottom"] == ("single", "8") and borders["insideH"] == ("single", "4")
    assert borders["left"][0] == borders["right"][0] == borders["insideV"][0] == "nil"
    paras = document.paragraphs
    closing = paras.index(next(p for p in paras if p.text == "卢氏县人民检察院")) - 3  # 附：…, two blank lines
    assert paras[closing].text.startswith("附：")
    assert all(p.paragraph_format.keep_with_next for p in paras[closing:])
    without = open_docx(write_docx(replace(report, copy_to="", issuer="卢氏县人民检察院政治部")))  # no 抄送
    assert [c.text for c in without.tables[-1].rows[0].cells] == ["卢氏县人民检察院政治部", "2026年7月3日印发"]
    assert len(without.tables[-1].rows) == 1


async def test_page_numbers_right_on_odd_pages_left_on_even(harness: Harness) -> None:
    """§7.5: 4号宋体 "— 1 —", one character in from the right on odd pages and from the left on even."""
    document = open_docx(write_docx(await drawn_report(harness)))
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert (odd.alignment, odd.paragraph_format.right_indent) == (2, Pt(14))
    assert (even.alignment, even.paragraph_format.left_indent) == (0, Pt(14))
    for para in (odd, even):
        assert para.text.startswith("— ") and para.text.endswith(" —")
        assert "PAGE" in "".join(t.text for t in para._p.iter(f"{W}instrText"))
        assert {(r._element.rPr.rFonts.get(f"{W}eastAsia"), r.font.size.pt) for r in para.runs} == {("宋体", 14.0)}


def test_columns_are_as_wide_as_their_content() -> None:
    """A case number or a date never wraps; 序号 takes the room of two digits; long names give way first."""
    rows = [["序号", "案件名称", "案号", "抗诉日期"],
            *([str(n), "某某某涉嫌组织领导黑社会性质组织、寻衅滋事、敲诈勒索案", f"卢检刑抗〔2026〕{n}号", "2026年10月12日"]
              for n in range(1, 30))]
    widths = layout.column_widths(rows, layout.TEXT_WIDTH_PT / layout.TABLE_PT, wrap=frozenset({1}))
    assert abs(sum(widths) - layout.TEXT_WIDTH_PT / layout.TABLE_PT) < 1e-6
    assert widths[2] >= layout.em_width("卢检刑抗〔2026〕29号") + layout.CELL_PAD_EM
    assert widths[3] >= layout.em_width("2026年10月12日") + layout.CELL_PAD_EM
    assert widths[0] < 4 < widths[1]
    assert layout.fits(rows, layout.TEXT_WIDTH_PT / layout.TABLE_PT, frozenset({1}))


async def test_the_cppcc_sectors_in_the_committees_order_without_npc_deputies(harness: Harness) -> None:
    """The 界别 table counts CPPCC members only, in the order the CPPCC lists its sectors (report.sectors;
    either spelling of one), then sectors it does not name in roster order, then those with none."""
    for name, body, sector in (("甲", "cppcc", "教育界"), ("乙", "cppcc", "中国民主同盟"), ("丙", "cppcc", "中共"),
                               ("丁", "cppcc", "自定义界"), ("戊", "cppcc", ""), ("己", "npc", "农业界"),
                               ("庚", "cppcc", "农工党"), ("辛", "cppcc", "另一界")):
        await harness.add_representative(name, body=body, phone=f"139{len(name):08d}{ord(name) % 10}")
        async with harness.db.transaction() as tx:
            await tx.execute("UPDATE persons SET sector = ? WHERE name = ?", (sector, name))
    async with harness.db.snapshot() as q:
        figures = await reports.half_year(q, UnitScope.of(1), reports.HalfYear(2026, 1), DRAWN_AT.date(), SH, "卢氏县人民检察院")
    table = next(t for t in report_text.half_year_report(figures, DRAWN_AT, SH).tables if t.sheet == "覆盖情况（界别）")
    assert [r[0] for r in table.rows] == ["中共", "中国民主同盟", "农工党", "教育界", "自定义界", "另一界", "未填界别"]
    assert table.title == "政协委员联系覆盖情况（按界别）"
    mine = ReportConfig(sectors=("教育界", "另一界"))
    table = next(t for t in report_text.half_year_report(figures, DRAWN_AT, SH, mine).tables
                 if t.sheet == "覆盖情况（界别）")
    assert [r[0] for r in table.rows] == ["教育界", "另一界", "中国民主同盟", "中共", "自定义界", "农工党", "未填界别"]
    assert sum(int(r[1]) for r in table.rows) == 7  # the NPC deputy is not among them


def read_book(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


async def test_the_report_workbook_prints(harness: Harness) -> None:
    report = await drawn_report(harness)
    _document, data = report_text.half_year_files(report)
    book = read_book(data)
    assert book.properties.title == report.title and book.properties.creator == "卢氏县人民检察院"
    assert book.properties.created == DRAWN_AT.astimezone(UTC).replace(tzinfo=None)
    for sheet in book.worksheets[1:]:
        setup = sheet.page_setup
        assert (setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("9", 1, 0) or (
            setup.paperSize, setup.fitToWidth, setup.fitToHeight) == (9, 1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == "$1:$1" or sheet.print_title_rows == "1:1"
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        assert sheet.oddHeader.center.text and "&P" in sheet.oddFooter.center.text
        assert all(cell.font.b for cell in sheet[1])
    overdue = book["表12 逾期未办结"]
    due = [row[3] for row in overdue.iter_rows(min_row=2)]
    assert due and all(c.is_date and "年" in c.number_format for c in due)
    satisfaction = book["表8 满意度"]
    assert [c.number_format for c in satisfaction[2]][5:] == ["0.0%", "0.0%"]


def test_a_workbook_stores_values_as_what_they_are() -> None:
    """Dates as dates, numbers as numbers, no value as an empty cell (never "—"), text as text even when it
    looks like a formula, control characters dropped; landscape when wide."""
    columns = [Column("名称"), Column("日期", "date"), Column("件数", "integer"), Column("比率", "percent")]
    rows = [("=HYPERLINK(\"http://x/?\"&A1)", date(2026, 1, 5), 3, None), ("+1\x0b坏", None, None, 0.5)]
    wide = [Column(f"列{n}", width=12) for n in range(12)]
    data = write_workbook([Sheet("表", "标题", columns, rows), Sheet("宽", "宽表", wide, [])], title="t", author="u",
                          created=datetime(2026, 1, 1, tzinfo=UTC))
    book = read_book(data)
    sheet = book["表"]
    assert [c.value for c in sheet[2]] == ['=HYPERLINK("http://x/?"&A1)', datetime(2026, 1, 5), 3, None]
    assert [c.data_type for c in sheet[2]][:1] == ["s"]  # a string, not a formula ("f")
    assert [c.value for c in sheet[3]] == ["+1坏", None, None, 0.5]
    assert sheet["B2"].is_date and sheet["D3"].number_format == "0.0%"
    assert sheet.page_setup.orientation == "portrait" and book["宽"].page_setup.orientation == "landscape"


@pytest.mark.parametrize("blocks", [[Heading("一、标题"), Paragraph("正文"), Note("说明"),
                                     Table("表", "表题", ("甲", "乙"), [])]])
def test_an_empty_table_reads_none_in_both_files(blocks: list[Any]) -> None:
    report = Report(("标题",), ("（期间）",), "卢氏县人民检察院", date(2026, 7, 3), DRAWN_AT, blocks=blocks)
    document = open_docx(write_docx(report))
    assert [c.text for c in document.tables[0].rows[1].cells] == ["无", ""]
    book = read_book(write_xlsx("标题", [], report.tables, author="u", created=DRAWN_AT))
    assert [c.value for c in book["表1 表"][2]] == ["无", None]
