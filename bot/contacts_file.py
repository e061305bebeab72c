"""Read a log of contacts with representatives from CSV or XLSX, and the contact methods.

`read_contacts` is pure, like `bot.roster_file.read_roster` (whose helpers it uses): it
reads one file and either returns every row as a `ContactRow` or raises
`ContactsFileError` listing every problem it found, in line order. The error also holds
the rows that were good, so that the caller can check those against the roster too and
show the uploader one complete list. Nothing here touches the database or prints.

Columns (Chinese or English header, in any order): 姓名/name, 方式/method (the Chinese
terms of seed §5 or the codes), 日期/date (YYYY-MM-DD, 2026/11/20, 2026年11月20日, or an
Excel date cell), 工作人员/staff (optional), 备注/note (optional). Line numbers are the
row numbers a spreadsheet user sees; problems about the file as a whole use line 0.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal


from bot.tables import Header, RowProblem, TableRefusedError, read_table
from bot.tables import clip as _clip
from bot.tables import fold as _fold

# The ways of keeping contact that seed §5 names, in its order, then "other".
METHODS: Final = ("forum", "work_report", "home_visit", "inspection", "documents", "letter", "opinion_card", "other")
METHOD_TERMS: Final = {  # the procuratorate's own words (SPEC §10)
    "forum": "座谈会", "work_report": "工作汇报会", "home_visit": "登门走访", "inspection": "邀请视察",
    "documents": "赠送资料", "letter": "信函", "opinion_card": "征求意见卡", "other": "其他",
}

ProblemKind = Literal[
    "missing", "invalid_method", "invalid_date", "future_date", "too_long", "no_header", "missing_column",
    "unknown_format", "empty", "too_large", "unknown_name", "ambiguous_name", "unknown_staff", "ambiguous_staff",
]


@dataclass(frozen=True)
class ContactRow:
    """One contact as read from the file, validated and normalised."""

    line: int
    name: str  # the representative's name as written; matched exactly against the roster
    method: str  # one of METHODS
    day: date
    staff: str  # a staff member's name, or ""
    note: str

    @property
    def digest(self) -> str:
        """What makes two rows the same contact, in this file or a later one: every field but the line."""
        fields = [self.name, self.method, self.day.isoformat(), self.staff, self.note]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:32]


ContactProblem = RowProblem[ProblemKind]  # one thing wrong with a contacts file


class ContactsFileError(Exception):
    """The file cannot be imported: `problems` in line order, and the `rows` that had none."""

    def __init__(self, problems: Iterable[ContactProblem], rows: Iterable[ContactRow] = ()) -> None:
        self.problems: tuple[ContactProblem, ...] = tuple(sorted(problems, key=lambda p: p.line))
        self.rows: tuple[ContactRow, ...] = tuple(rows)
        shown = "; ".join(f"line {p.line} {p.column or '-'}: {p.problem}" for p in self.problems[:5])
        super().__init__(f"{len(self.problems)} problem(s) in contacts file: {shown}")


PROBLEMS: Final[dict[str, str]] = {
    "missing": "line {line}: {column} is missing",
    "invalid_method": "line {line}: {value!r} is not a contact method (" + ", ".join(METHOD_TERMS.values()) + ")",
    "invalid_date": "line {line}: {value!r} is not a date (YYYY-MM-DD)",
    "future_date": "line {line}: {value} is in the future",
    "too_long": "line {line}: {column} is too long",
    "no_header": "line {line}: no header row (姓名/name, 方式/method, 日期/date, ...)",
    "missing_column": "the column {column} is missing",
    "unknown_format": "not a CSV or XLSX file ({value})",
    "empty": "the file holds no contacts",
    "too_large": "the file is refused, too large to import: {value}; split it into smaller files",
    "unknown_name": "line {line}: nobody named {value!r} on the roster of representatives",
    "ambiguous_name": "line {line}: more than one representative on the roster is named {value!r}",
    "unknown_staff": "line {line}: no staff member named {value!r}",
    "ambiguous_staff": "line {line}: more than one staff member is named {value!r}",
}


def describe(problem: ContactProblem) -> str:
    """One problem as a line for the operator (the command line speaks English, like import-roster)."""
    return PROBLEMS[problem.problem].format(line=problem.line, column=problem.column, value=problem.value)


_HEADERS = {
    "姓名": "name", "代表姓名": "name", "委员姓名": "name", "name": "name",
    "方式": "method", "联系形式": "method", "联络方式": "method", "method": "method",  # the chat says 联系形式 (§5)
    "日期": "date", "联系日期": "date", "联络日期": "date", "date": "date",
    "工作人员": "staff", "联络人": "staff", "staff": "staff",
    "备注": "note", "note": "note",
}
_METHODS = {
    **{_fold(term): code for code, term in METHOD_TERMS.items()},
    **{_fold(code): code for code in METHODS},
    **{_fold(code.replace("_", " ")): code for code in METHODS},
    "工作汇报": "work_report", "走访": "home_visit", "视察": "inspection", "赠送有关文件资料": "documents",
    "资料": "documents", "发送信函": "letter", "意见卡": "opinion_card",
}
_MAX_LEN = {"name": 50, "staff": 50, "note": 1000}

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_CHINESE = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]$")


def parse_date(text: str, year: int | None = None) -> date | None:
    """A day written as 2026-11-20, 2026/11/20, 2026年11月20日 (an Excel cell reads as 2026-11-20 00:00:00);
    with `year`, also 11月20日 in that year. None when it is not a real day in one of these forms."""
    text = unicodedata.normalize("NFKC", text).strip()
    match = _ISO.match(text)
    if match:
        parts = match.group(1, 2, 3)
    else:
        match = _CHINESE.match(text.replace(" ", ""))
        if match is None or (match.group(1) is None and year is None):
            return None
        parts = (match.group(1) or str(year), match.group(2), match.group(3))
    try:
        return date(*(int(p) for p in parts))
    except ValueError:
        return None


def _check_row(line: int, cells: dict[str, str], today: date, problems: list[ContactProblem]) -> ContactRow | None:
    found: list[ContactProblem] = []
    for key in ("name", "method", "date"):
        if not cells.get(key, ""):
            found.append(ContactProblem(line, key, "missing"))
    raw_method = cells.get("method", "")
    method = _METHODS.get(_fold(raw_method))
    if raw_method and method is None:
        found.append(ContactProblem(line, "method", "invalid_method", _clip(raw_method)))
    raw_date = cells.get("date", "")
    day = parse_date(raw_date)
    if raw_date and day is None:
        found.append(ContactProblem(line, "date", "invalid_date", _clip(raw_date)))
    elif day is not None and day > today:
        found.append(ContactProblem(line, "date", "future_date", day.isoformat()))
    for key, limit in _MAX_LEN.items():
        if len(cells.get(key, "")) > limit:
            found.append(ContactProblem(line, key, "too_long", _clip(cells[key])))
    problems.extend(found)
    if found or method is None or day is None:
        return None
    return ContactRow(line=line, name=cells["name"], method=method, day=day, staff=cells.get("staff", ""),
                      note=cells.get("note", ""))


def _parse(header: Header, numbered: Iterator[tuple[int, list[str]]], today: date) -> list[ContactRow]:
    problems: list[ContactProblem] = []
    result: list[ContactRow] = []
    for line, row in numbered:
        parsed = _check_row(line, header.cells_of(row), today, problems)
        if parsed is not None:
            result.append(parsed)
    if problems:
        raise ContactsFileError(problems, result)
    if not result:
        raise ContactsFileError([ContactProblem(0, "", "empty")])
    return result


def read_contacts(path: pathlib.Path, today: date) -> list[ContactRow]:
    """Read every row of a .csv or .xlsx contact log, or raise `ContactsFileError` listing all problems.

    `today` is the unit's local day: a contact after it is refused. Missing files raise
    the usual `OSError`.
    """
    try:
        header, numbered = read_table(pathlib.Path(path), _HEADERS, ("name", "method", "date"))
    except TableRefusedError as exc:
        raise ContactsFileError(exc.problems) from exc
    return _parse(header, numbered, today)
