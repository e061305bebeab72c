"""Issue 16 §2: the half-year report and its workbook, rendered through LibreOffice as an office would print
them (`soffice --headless --convert-to pdf`), then read page by page (`pdftotext -layout`): the title is
broken only between its words, no heading or table caption is left alone at the foot of a page, a long
table carries its header row onto every page, and no case number or date is wrapped.

Skipped where LibreOffice or poppler is not installed (.ci/run installs libreoffice-writer-nogui,
libreoffice-calc-nogui and poppler-utils).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from bot.model import UnitScope
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.reports import report_text, figures as reports
from tests.fakes import Harness
from tests.reports_world import seed, stamp

SH = ZoneInfo("Asia/Shanghai")
DRAWN_AT = datetime(2026, 7, 3, 9, 30, tzinfo=SH)
HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|表\d+\s)")
DATE_CUT = re.compile(r"\d{4}年\d{1,2}月\d{0,2}$|^\d{1,2}日|^日$")
REMNANT = re.compile(r"^(?:\d{0,2}日|号|\d+号)$")  # what a wrapped date or case number leaves on a line alone

pytestmark = pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                                reason="LibreOffice (soffice) and poppler (pdftotext) are not installed")


def render(path: Path) -> list[list[str]]:
    """The PDF LibreOffice makes of the file, as the lines of each page (layout kept, blank lines dropped)."""
    profile = path.parent / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(path.parent), str(path)], check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", "-layout", str(path.with_suffix(".pdf")), "-"], check=True,
                          capture_output=True, text=True).stdout
    # one space is the renderer's between Chinese and digits (2026 年 7 月); cells are two or more apart
    return [[re.sub(r"(?<! ) (?! )", "", line.strip()) for line in page.splitlines() if line.strip()]
            for page in text.split("\f") if page.strip()]


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line)


@pytest.mark.slow(8)
async def test_the_half_year_report_as_printed(harness: Harness, tmp_path: Path) -> None:
    await seed(harness.db, harness.clock.now())
    async with harness.db.transaction() as tx:  # 150 matters overdue: a table over several pages
        rep = await tx.scalar("SELECT MIN(id) FROM persons WHERE body IS NOT NULL")
        dept = await tx.scalar("SELECT MIN(id) FROM departments")
        for n in range(150):
            registered = datetime(2025, 9, 1, 10, tzinfo=SH) + timedelta(days=n % 60)
            await tx.execute(
                "INSERT INTO matters (number, kind, representative_id, subject, body, state, department_id,"
                " registered_at, due_date, updated_at) VALUES (?, 'suggestion', ?, 's', 'b', 'in_progress', ?, ?, ?, ?)",
                (f"LS-2025-{1000 + n}", rep, dept, stamp(registered), (registered.date() + timedelta(days=91)).isoformat(),
                 stamp(registered)))
    async with harness.db.snapshot() as q:
        figures = await reports.half_year(q, UnitScope.of(1), reports.HalfYear(2026, 1), date(2026, 7, 3), SH, "卢氏县人民检察院")
    document, workbook = report_text.half_year_files(report_text.half_year_report(figures, DRAWN_AT, SH))
    (tmp_path / "report.docx").write_bytes(document)
    pages = render(tmp_path / "report.docx")
    assert len(pages) >= 5
    first = pages[0]
    assert "卢氏县人民检察院关于2026年上半年" in first and "联系人大代表政协委员工作情况的报告" in first
    for n, page in enumerate(pages, 1):
        assert page[-1] == f"—{n}—"  # the page number, and nothing below it
        foot = page[-2]
        assert not HEADING.match(foot), (n, foot)  # no heading or caption alone at the foot of a page
        for line in page:  # no date wrapped in a table's cell (running text may break a line anywhere)
            row = cells(line)
            assert not any(DATE_CUT.search(cell) for cell in row) if len(row) > 1 else not REMNANT.match(line), (n, line)
    text = "\n".join("\n".join(page) for page in pages)
    assert "卢检刑抗〔2026〕1号" in text and "卢检刑诉〔2026〕12号" in text  # case numbers whole
    overdue = [n for n, page in enumerate(pages) if any(line.startswith("LS-2025-1") for line in page)]
    assert len(overdue) >= 2
    for n in overdue:  # the table's header row on each page it runs over
        assert any(cells(line) == ["编号", "类别", "承办部门", "办理期限", "逾期天数"] for line in pages[n])

    (tmp_path / "report.xlsx").write_bytes(workbook)
    sheets = render(tmp_path / "report.xlsx")
    overdue_pages = [page for page in sheets if any(line.startswith("LS-2025-1") for line in page)]
    assert len(overdue_pages) >= 2
    for page in overdue_pages:  # the header row repeated, the caption at the head, "第 1 页，共 N 页" at the foot
        assert any(cells(line) == ["编号", "类别", "承办部门", "办理期限", "逾期天数"] for line in page)
        assert any("逾期未办结事项" in line for line in page[:2])
        assert re.fullmatch(r"第\d+页，共\d+页", page[-1])
