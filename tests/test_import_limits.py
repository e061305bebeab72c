"""Imported spreadsheets have limits (issue 15, item 8): a crafted workbook is refused at once with a clear
message, never read for minutes into hundreds of megabytes."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from bot import tables
from bot.__main__ import main
from bot.contacts_file import ContactsFileError, describe, read_contacts
from bot.roster_file import RosterFileError, read_roster

SHEET = "xl/worksheets/sheet1.xml"
HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
TAIL = b"</sheetData></worksheet>"


def workbook_with_sheet(path: Path, rows: list[bytes]) -> Path:
    """A real workbook whose first sheet is replaced by the given row elements, deflated hard."""
    book = openpyxl.Workbook()
    book.active.append(["姓名", "类别"])
    plain = io.BytesIO()
    book.save(plain)
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, HEAD + b"".join(rows) + TAIL if item.filename == SHEET
                         else src.read(item.filename))
    return path


def row(n: int, *cells: tuple[str, str]) -> bytes:
    inner = b"".join(b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (col.encode(), n, text.encode())
                     for col, text in cells)
    return b'<row r="%d">%s</row>' % (n, inner)


def refusal(path: Path) -> str:
    with pytest.raises(RosterFileError) as caught:
        read_roster(path)
    [problem] = caught.value.problems
    assert problem.problem == "too_large"
    return problem.value


def test_a_cell_in_the_last_column_is_refused_without_padding_every_row(tmp_path: Path) -> None:
    """The review's file: rows with a cell in column XFD, which openpyxl padded to 16 384 cells each."""
    path = workbook_with_sheet(tmp_path / "wide.xlsx",
                               [row(1, ("A", "姓名"), ("B", "类别"))]
                               + [row(n, ("A", "x"), ("XFD", "y")) for n in range(2, 60000)])
    assert path.stat().st_size < 900_000
    tracemalloc.start()
    try:
        assert refusal(path) == "line 2: more than 50 columns"
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_too_many_lines_too_long_a_cell(tmp_path: Path) -> None:
    many = workbook_with_sheet(tmp_path / "many.xlsx", [row(n, ("A", "王"), ("B", "人大代表")) for n in range(1, 20002)])
    assert refusal(many) == "more than 20000 lines"
    long = workbook_with_sheet(tmp_path / "long.xlsx", [row(1, ("A", "姓名"), ("B", "类别")), row(2, ("A", "王" * 2001))])
    assert refusal(long) == "line 2: a cell longer than 2000 characters"
    csv = tmp_path / "many.csv"
    csv.write_text("姓名,类别\n" + "王,人大代表\n" * 20000, "utf-8")
    assert refusal(csv) == "more than 20000 lines"
    wide = tmp_path / "wide.csv"
    wide.write_text("姓名,类别" + ",x" * 60 + "\n", "utf-8")
    assert refusal(wide) == "line 1: more than 50 columns"


def test_an_archive_that_unpacks_too_large_or_a_file_too_large_is_refused_before_it_is_opened(tmp_path: Path,
                                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = workbook_with_sheet(tmp_path / "bomb.xlsx", [row(1, ("A", "姓名"))])
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (21 * 1024 * 1024))
    assert bomb.stat().st_size < 100_000
    opened: list[Path] = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a[0]))  # as bot/tables.py imports it
    assert refusal(bomb) == "21 MB unpacked, more than 20 MB"
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:
        handle.truncate(11 * 1024 * 1024)
    assert refusal(big) == "11 MB, more than 10 MB"
    assert opened == []


def test_the_contact_log_has_the_same_limits(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("姓名,方式,日期\n" + "王,座谈会,2026-01-01\n" * 20000, "utf-8")
    with pytest.raises(ContactsFileError) as caught:
        read_contacts(path, date(2026, 11, 27))
    assert [describe(p) for p in caught.value.problems] == [
        "the file is refused, too large to import: more than 20000 lines; split it into smaller files"]


def test_the_command_line_says_why_and_imports_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "db.sqlite"}"\nfiles_dir = "{tmp_path / "files"}"\n',
                      "utf-8")
    path = workbook_with_sheet(tmp_path / "wide.xlsx", [row(1, ("A", "姓名"), ("B", "类别"), ("XFD", "x"))])
    assert main(["--config", str(config), "import-roster", str(path)]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "nothing imported; the file has problems:",
        "the file is refused, too large to import: line 1: more than 50 columns; split it into smaller files"]
