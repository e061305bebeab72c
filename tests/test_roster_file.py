"""Tests for bot.roster_file: reading a roster of deputies/members from CSV and XLSX."""

from __future__ import annotations

import csv
import io
import pathlib
from collections.abc import Sequence

import openpyxl
import pytest

from bot.roster_file import RosterFileError, RosterRow, RowProblem, read_roster

Cell = str | int | float | bool | None

ZH_HEADER = ["编号", "姓名", "类别", "界别", "单位职务", "电话", "执法监督员"]


def write_csv(path: pathlib.Path, rows: list[list[str]], encoding: str = "utf-8") -> pathlib.Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: pathlib.Path, rows: Sequence[Sequence[Cell]]) -> pathlib.Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    book.create_sheet("ignored").cell(row=1, column=1, value="姓名")
    book.save(path)
    return path


def problems_of(path: pathlib.Path) -> tuple[RowProblem, ...]:
    with pytest.raises(RosterFileError) as info:
        read_roster(path)
    return info.value.problems


def one_column(tmp_path: pathlib.Path, header: str, value: str) -> RosterRow:
    """Read a one-row file whose only extra column is `header` holding `value`."""
    path = write_csv(tmp_path / "r.csv", [["姓名", "类别", header], ["张三", "人大代表", value]])
    [row] = read_roster(path)
    return row


# --- headers and encodings ---------------------------------------------------------------


def test_chinese_header_utf8(tmp_path: pathlib.Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [
        ZH_HEADER,
        ["A01", "张三", "人大代表", "工商联", "某某公司 总经理", "13800138000", "是"],
        ["", "李四", "政协委员", "", "", "", ""],
    ])
    assert read_roster(path) == [
        RosterRow(line=2, external_id="A01", name="张三", body="npc", sector="工商联",
                  organization="某某公司 总经理", phone="13800138000", supervisor=True),
        RosterRow(line=3, external_id=None, name="李四", body="cppcc", sector="",
                  organization="", phone="", supervisor=False),
    ]


def test_english_header_reordered_with_bom_and_unknown_column(tmp_path: pathlib.Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [
        [" PHONE ", "Notes", "supervisor", "Body", "  Name", "ORGANISATION", "Sector", "ID"],
        ["139 0000 1111", "ignore me", "yes", "CPPCC member", " Wang Wu ", "Org", "Law", " 7 "],
    ], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_roster(path) == [
        RosterRow(line=2, external_id="7", name="Wang Wu", body="cppcc", sector="Law",
                  organization="Org", phone="13900001111", supervisor=True),
    ]


def test_gb18030_csv_with_alternative_chinese_headers(tmp_path: pathlib.Path) -> None:
    path = write_csv(tmp_path / "名单.csv", [
        ["手机", "单位", "界别/行业", "类别", "姓名"],
        ["13800138000", "县第一中学 校长", "教育界", "政协", "赵六"],
    ], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert read_roster(path) == [
        RosterRow(line=2, external_id=None, name="赵六", body="cppcc", sector="教育界",
                  organization="县第一中学 校长", phone="13800138000", supervisor=False),
    ]


@pytest.mark.parametrize(("header", "field"), [
    ("界别", "sector"), ("行业", "sector"), ("界别/行业", "sector"), (" 界别 / 行业 ", "sector"),
    ("sector", "sector"), ("单位职务", "organization"), ("单位", "organization"),
    ("organization", "organization"), ("Organisation", "organization"),
    ("编号", "external_id"), ("id", "external_id"), ("Id", "external_id"),
])
def test_text_column_aliases(tmp_path: pathlib.Path, header: str, field: str) -> None:
    assert getattr(one_column(tmp_path, header, "X9"), field) == "X9"


@pytest.mark.parametrize("header", ["电话", "手机", "phone", "Phone"])
def test_phone_column_aliases(tmp_path: pathlib.Path, header: str) -> None:
    assert one_column(tmp_path, header, "13800138000").phone == "13800138000"


@pytest.mark.parametrize("header", ["执法监督员", "supervisor", "SUPERVISOR"])
def test_supervisor_column_aliases(tmp_path: pathlib.Path, header: str) -> None:
    assert one_column(tmp_path, header, "是").supervisor is True


def test_quoted_fields_and_short_rows(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('姓名,类别,单位职务,电话\n"Li, Si",npc,"第一行\n第二行"\n张三,政协\n',
                    encoding="utf-8")
    rows = read_roster(path)
    assert [(r.line, r.name, r.organization, r.phone) for r in rows] == [
        (2, "Li, Si", "第一行\n第二行", ""), (3, "张三", "", ""),
    ]


def test_uppercase_suffixes(tmp_path: pathlib.Path) -> None:
    data = [["name", "body"], ["张三", "npc"]]
    assert read_roster(write_csv(tmp_path / "A.CSV", data))[0].name == "张三"
    assert read_roster(write_xlsx(tmp_path / "B.XLSX", data))[0].name == "张三"


# --- value spellings -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "body"), [
    ("人大代表", "npc"), ("人大", "npc"), ("npc", "npc"), ("NPC", "npc"), ("NPC deputy", "npc"),
    ("  npc   Deputy ", "npc"), ("政协委员", "cppcc"), ("政协", "cppcc"), ("cppcc", "cppcc"),
    ("CPPCC", "cppcc"), ("CPPCC member", "cppcc"), (" cppcc MEMBER ", "cppcc"),
])
def test_body_spellings(tmp_path: pathlib.Path, text: str, body: str) -> None:
    path = write_csv(tmp_path / "r.csv", [["姓名", "类别"], ["张三", text]])
    assert read_roster(path)[0].body == body


@pytest.mark.parametrize(("text", "expected"), [
    ("是", True), ("yes", True), ("YES", True), ("y", True), ("Y", True), ("true", True),
    ("True", True), ("1", True), ("✓", True), (" 是 ", True),
    ("否", False), ("no", False), ("No", False), ("n", False), ("N", False), ("false", False),
    ("FALSE", False), ("0", False), ("", False), ("  ", False),
])
def test_supervisor_spellings(tmp_path: pathlib.Path, text: str, expected: bool) -> None:
    assert one_column(tmp_path, "执法监督员", text).supervisor is expected


@pytest.mark.parametrize(("text", "phone"), [
    ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"), ("+86 138 0013 8000", "13800138000"),
    ("+86-13800138000", "13800138000"), ("8613800138000", "13800138000"),
    ("(+86) 138-0013-8000", "13800138000"), ("０５７１－８７６５４３２１", "057187654321"),
    ("(0571) 8765-4321", "057187654321"), ("0571-87654321", "057187654321"),
    ("010 1234 5678", "01012345678"), ("87654321", "87654321"), ("2345678", "2345678"),
    ("", ""),
])
def test_phone_normalisation(tmp_path: pathlib.Path, text: str, phone: str) -> None:
    assert one_column(tmp_path, "电话", text).phone == phone


@pytest.mark.parametrize("text", [
    "12345", "123456", "1380013800a", "138001380", "1380013800", "138001380001",
    "+1 555 123 4567", "+8687654321", "+", "86138001380001", "0571-8765432100",
    "电话未知", "1380013800０x",
])
def test_invalid_phones(tmp_path: pathlib.Path, text: str) -> None:
    path = write_csv(tmp_path / "r.csv", [["姓名", "类别", "电话"], ["张三", "npc", text]])
    assert problems_of(path) == (RowProblem(2, "phone", "invalid_phone", text.strip()),)


def test_xlsx_numbers_and_blank_rows(tmp_path: pathlib.Path) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", [
        [None],
        ["姓名", "类别", "电话", "执法监督员", "编号", "界别"],
        ["张三", "人大代表", 13800138000, 1, 101, None],
        [None, None, None, None],
        ["李四", "政协委员", 13900001111.0, True, 102.0, "  "],
        ["王五", "NPC", "+86 137 0000 0000", 0, None, 2024],
        ["", "  ", None],
        [None], [None], [None],
    ])
    assert read_roster(path) == [
        RosterRow(line=3, external_id="101", name="张三", body="npc", sector="",
                  organization="", phone="13800138000", supervisor=True),
        RosterRow(line=5, external_id="102", name="李四", body="cppcc", sector="",
                  organization="", phone="13900001111", supervisor=True),
        RosterRow(line=6, external_id=None, name="王五", body="npc", sector="2024",
                  organization="", phone="13700000000", supervisor=False),
    ]


def test_xlsx_trailing_formatted_empty_rows(tmp_path: pathlib.Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "类别"])
    sheet.append(["张三", "政协"])
    for r in range(3, 40):
        sheet.cell(row=r, column=1).number_format = "@"  # styled but empty cells
    book.save(tmp_path / "r.xlsx")
    assert [(r.line, r.name) for r in read_roster(tmp_path / "r.xlsx")] == [(2, "张三")]


def test_csv_blank_rows_are_skipped_but_counted(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\n , \n姓名,类别\n\n张三,npc\n,,\n李四,cppcc\n\n\n", encoding="utf-8")
    assert [(r.line, r.name) for r in read_roster(path)] == [(5, "张三"), (7, "李四")]


# --- problems ----------------------------------------------------------------------------


def test_every_row_problem_reported_together_in_line_order(tmp_path: pathlib.Path) -> None:
    long_name = "名" * 51
    path = write_csv(tmp_path / "r.csv", [
        ZH_HEADER,
        ["", "", "人大代表", "", "", "", ""],                      # 2 missing name
        ["", "张三", "", "", "", "", ""],                           # 3 missing body
        ["", "李四", "区人大", "", "", "", ""],                     # 4 invalid body
        ["", "王五", "npc", "", "", "", "也许"],                    # 5 invalid supervisor
        ["", "赵六", "npc", "", "", "1380013800", ""],              # 6 invalid phone
        ["", long_name, "npc", "界" * 201, "单" * 201, "", ""],     # 7 three too_long
        [],                                                          # 8 blank
        ["", "", "人大常委", "", "", "abc", "x"],                   # 9 four problems
        ["", "钱七", "npc", "界" * 200, "单" * 200, "", ""],        # 10 fine (limits)
        ["", "钱七", "人大代表", "", "", "", ""],                   # 11 duplicate name+body
    ])
    assert problems_of(path) == (
        RowProblem(2, "name", "missing", ""),
        RowProblem(3, "body", "missing", ""),
        RowProblem(4, "body", "invalid_body", "区人大"),
        RowProblem(5, "supervisor", "invalid_supervisor", "也许"),
        RowProblem(6, "phone", "invalid_phone", "1380013800"),
        RowProblem(7, "name", "too_long", "名" * 50),
        RowProblem(7, "sector", "too_long", "界" * 50),
        RowProblem(7, "organization", "too_long", "单" * 50),
        RowProblem(9, "name", "missing", ""),
        RowProblem(9, "body", "invalid_body", "人大常委"),
        RowProblem(9, "phone", "invalid_phone", "abc"),
        RowProblem(9, "supervisor", "invalid_supervisor", "x"),
        RowProblem(11, "name", "duplicate", "钱七"),
    )


def test_name_of_exactly_fifty_characters_is_accepted(tmp_path: pathlib.Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["name", "body"], ["名" * 50, "npc"]])
    assert read_roster(path)[0].name == "名" * 50


def test_problems_in_xlsx_use_spreadsheet_row_numbers(tmp_path: pathlib.Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "类别", "电话"],
        ["张三", "npc", 13800138000],
        [None, None, None],
        ["李四", "npc", 12345],
        ["王五", "npc", 13800138000],
    ])
    assert problems_of(path) == (
        RowProblem(4, "phone", "invalid_phone", "12345"),
        RowProblem(5, "phone", "duplicate", "13800138000"),
    )


def test_duplicates_by_id_phone_and_name(tmp_path: pathlib.Path) -> None:
    path = write_csv(tmp_path / "r.csv", [
        ["编号", "姓名", "类别", "电话"],
        ["A1", "张三", "npc", "13800138000"],
        ["A1", "张三丰", "cppcc", "13900000000"],         # 3 same id
        ["A2", "李四", "npc", "13800138000"],             # different id, same phone: fine
        ["", "王五", "npc", "13700000000"],
        ["", "王六", "cppcc", "+86 137-0000-0000"],       # 6 same phone (normalised)
        ["", "赵六", "npc", ""],
        ["", "赵六", "cppcc", ""],                        # other body: fine
        ["", "赵六", "npc", "13600000000"],               # has a phone: fine
        ["", "赵六", "人大代表", ""],                     # 10 same name+body
        ["A2", "李四", "npc", "13800138000"],             # 11 same id again
    ])
    assert problems_of(path) == (
        RowProblem(3, "external_id", "duplicate", "A1"),
        RowProblem(6, "phone", "duplicate", "13700000000"),
        RowProblem(10, "name", "duplicate", "赵六"),
        RowProblem(11, "external_id", "duplicate", "A2"),
    )


def test_long_value_is_clipped_to_fifty_characters(tmp_path: pathlib.Path) -> None:
    bad = "x" * 80
    path = write_csv(tmp_path / "r.csv", [["name", "body"], ["张三", bad]])
    assert problems_of(path) == (RowProblem(2, "body", "invalid_body", "x" * 50),)


@pytest.mark.parametrize(("header", "missing"), [
    (["姓名", "电话"], ("body",)),
    (["类别", "电话"], ("name",)),
    (["电话", "编号", "备注"], ("name", "body")),
])
def test_missing_required_columns(tmp_path: pathlib.Path, header: list[str],
                                  missing: tuple[str, ...]) -> None:
    path = write_csv(tmp_path / "r.csv", [header, ["a", "b", "c"]])
    assert problems_of(path) == tuple(RowProblem(1, k, "missing_column") for k in missing)


def test_no_recognisable_header(tmp_path: pathlib.Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["张三", "人大代表", "13800138000"]])
    assert problems_of(path) == (RowProblem(1, "", "no_header", "张三 人大代表 13800138000"),)


def test_no_header_in_xlsx_reports_first_non_empty_row(tmp_path: pathlib.Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [[None], ["某县人大代表名单"], ["姓名", "类别"]])
    assert problems_of(path) == (RowProblem(2, "", "no_header", "某县人大代表名单"),)


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n , \n",
                                     "姓名,类别\n".encode(), "姓名,类别\n,\n\n".encode("gb18030")])
def test_empty_csv(tmp_path: pathlib.Path, content: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    assert problems_of(path) == (RowProblem(0, "", "empty"),)


@pytest.mark.parametrize("rows", [[], [["姓名", "类别"]], [["姓名", "类别"], [None], [None]]])
def test_empty_xlsx(tmp_path: pathlib.Path, rows: list[list[Cell]]) -> None:
    assert problems_of(write_xlsx(tmp_path / "r.xlsx", rows)) == (RowProblem(0, "", "empty"),)


@pytest.mark.parametrize(("name", "suffix"), [
    ("r.xls", ".xls"), ("r.txt", ".txt"), ("roster", ""), ("r.XLS", ".XLS"), ("r.csv.bak", ".bak"),
])
def test_unknown_suffix(tmp_path: pathlib.Path, name: str, suffix: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"name,body\n")
    assert problems_of(path) == (RowProblem(0, "", "unknown_format", suffix),)


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04broken"])
def test_unreadable_xlsx(tmp_path: pathlib.Path, content: bytes) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(content)
    assert problems_of(path) == (RowProblem(0, "", "unknown_format", ".xlsx"),)


def test_zip_that_is_not_a_workbook(tmp_path: pathlib.Path) -> None:
    import zipfile

    path = tmp_path / "r.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert problems_of(path) == (RowProblem(0, "", "unknown_format", ".xlsx"),)


def test_undecodable_csv(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"name,body\n\xff\xff,npc\n")
    assert problems_of(path) == (RowProblem(0, "", "unknown_format", ".csv"),)


def test_error_object(tmp_path: pathlib.Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["name", "body"], ["", "npc"]])
    with pytest.raises(RosterFileError) as info:
        read_roster(path)
    assert isinstance(info.value.problems, tuple)
    assert "line 2 name: missing" in str(info.value)
    assert RosterFileError([RowProblem(0, "", "empty")]).problems == (RowProblem(0, "", "empty"),)


def test_missing_file_raises_os_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_roster(tmp_path / "absent.csv")
