"""Read a roster of people's congress deputies and CPPCC members from CSV or XLSX.

`read_roster` is pure: it reads one file and either returns every row as a
`RosterRow` or raises `RosterFileError` listing every problem it found, in line
order, so the caller can show the uploader a complete list at once. Nothing
here touches the database or prints.

Line numbers are the row numbers a spreadsheet user sees (the header is normally
line 1; blank rows count). Problems about the file as a whole use line 0.
"""

from __future__ import annotations

import pathlib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from bot.domain import member_id, valid_userid
from bot.tables import RowProblem as TableRowProblem
from bot.tables import Header, TableRefusedError, read_table
from bot.tables import clip as _clip
from bot.tables import fold as _fold

Body = Literal["npc", "cppcc"]
ProblemKind = Literal[
    "missing", "invalid_body", "invalid_supervisor", "invalid_phone", "duplicate",
    "too_long", "no_header", "missing_column", "unknown_format", "empty", "too_large", "invalid_userid",
]


@dataclass(frozen=True)
class RosterRow:
    """One representative as read from the file, already validated and normalised."""

    line: int  # 1-based row number as a spreadsheet user sees it (header is line 1)
    external_id: str | None  # the 编号/id column, stripped; None when empty or absent
    name: str
    body: Body
    sector: str  # 界别/行业, may be ""
    organization: str  # 单位职务, may be ""
    phone: str  # digits only, +86/86 dropped from mobiles; may be ""
    supervisor: bool
    wecom: str | None = None  # the WeCom member's account (账号, the userid) to bind them to, lower case; None: none


RowProblem = TableRowProblem[ProblemKind]  # one thing wrong with a roster file


class RosterFileError(Exception):
    """The file cannot be imported; `problems` holds every problem found, in line order."""

    def __init__(self, problems: Iterable[RowProblem]) -> None:
        self.problems: tuple[RowProblem, ...] = tuple(problems)
        shown = "; ".join(f"line {p.line} {p.column or '-'}: {p.problem}"
                          for p in self.problems[:5])
        super().__init__(f"{len(self.problems)} problem(s) in roster file: {shown}")


_HEADERS = {
    "姓名": "name", "name": "name",
    "类别": "body", "body": "body",
    "界别": "sector", "行业": "sector", "界别/行业": "sector", "sector": "sector",
    "单位职务": "organization", "单位": "organization",
    "organization": "organization", "organisation": "organization",
    "电话": "phone", "手机": "phone", "phone": "phone",
    "执法监督员": "supervisor", "supervisor": "supervisor",
    "编号": "external_id", "id": "external_id",
    # the account WeCom's contacts (通讯录) give the member: the column of its own export is 账号
    "企业微信账号": "wecom", "账号": "wecom", "userid": "wecom", "wecom": "wecom", "wecom userid": "wecom",
}
_BODIES: dict[str, Body] = {
    "人大代表": "npc", "人大": "npc", "npc": "npc", "npc deputy": "npc",
    "政协委员": "cppcc", "政协": "cppcc", "cppcc": "cppcc", "cppcc member": "cppcc",
}
_YES = frozenset({"是", "yes", "y", "true", "1", "✓", "✔"})
_NO = frozenset({"否", "no", "n", "false", "0", ""})
_PHONE_JUNK = str.maketrans("", "", " \t\u00a0\u3000-‐‑–—()")
_MAX_LEN = {"name": 50, "sector": 200, "organization": 200}






def _normalise_phone(raw: str) -> str | None:
    """Digits-only phone, "" for empty, None when it is not a plausible phone number."""
    text = unicodedata.normalize("NFKC", raw).translate(_PHONE_JUNK)
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits:
        return None if plus else ""
    if not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits) == 13 and digits.startswith("861"):
        return digits[2:]
    if plus:
        return None  # a "+" is only understood in front of 86 and a mobile number
    if len(digits) == 11 and digits.startswith("1"):
        return digits
    if 7 <= len(digits) <= 12 and not digits.startswith("1"):
        return digits
    return None








def _check_row(line: int, cells: dict[str, str], problems: list[RowProblem]) -> RosterRow | None:
    """Validate one data row; append its problems and return the row only if it has none."""
    found: list[RowProblem] = []
    name = cells.get("name", "")
    if not name:
        found.append(RowProblem(line, "name", "missing"))
    raw_body = cells.get("body", "")
    body = _BODIES.get(_fold(raw_body))
    if body is None:
        found.append(RowProblem(line, "body", "missing" if not raw_body else "invalid_body",
                                _clip(raw_body)))
    for key, limit in _MAX_LEN.items():
        if len(cells.get(key, "")) > limit:
            found.append(RowProblem(line, key, "too_long", _clip(cells[key])))
    phone = _normalise_phone(cells.get("phone", ""))
    if phone is None:
        found.append(RowProblem(line, "phone", "invalid_phone", _clip(cells["phone"])))
    raw_supervisor = _fold(cells.get("supervisor", ""))
    if raw_supervisor not in _YES and raw_supervisor not in _NO:
        found.append(RowProblem(line, "supervisor", "invalid_supervisor",
                                _clip(cells["supervisor"])))
    wecom = cells.get("wecom", "")
    if wecom and not valid_userid(wecom):
        found.append(RowProblem(line, "wecom", "invalid_userid", _clip(wecom)))
    problems.extend(found)
    if found or body is None or phone is None:
        return None
    return RosterRow(line=line, external_id=cells.get("external_id") or None, name=name,
                     body=body, sector=cells.get("sector", ""),
                     organization=cells.get("organization", ""), phone=phone,
                     supervisor=raw_supervisor in _YES, wecom=member_id(wecom) if wecom else None)


def _duplicate_key(row: RosterRow) -> tuple[str, str, str]:
    """What makes a row the same person: its id, else its phone, else name and body."""
    if row.external_id is not None:
        return ("external_id", row.external_id, "")
    if row.phone:
        return ("phone", row.phone, "")
    return ("name", row.name, row.body)




def _parse(header: Header, numbered: Iterator[tuple[int, list[str]]]) -> list[RosterRow]:
    problems: list[RowProblem] = []
    result: list[RosterRow] = []
    seen: set[tuple[str, str, str]] = set()
    accounts: set[str] = set()  # one WeCom member, one person
    for line, row in numbered:
        parsed = _check_row(line, header.cells_of(row), problems)
        if parsed is None:
            continue
        same = _duplicate_key(parsed)
        if same in seen:
            problems.append(RowProblem(line, same[0], "duplicate", _clip(same[1])))
        elif parsed.wecom is not None and parsed.wecom in accounts:
            problems.append(RowProblem(line, "wecom", "duplicate", parsed.wecom))
        else:
            seen.add(same)
            if parsed.wecom is not None:
                accounts.add(parsed.wecom)
            result.append(parsed)
    if problems:
        raise RosterFileError(problems)
    if not result:
        raise RosterFileError([RowProblem(0, "", "empty")])
    return result


def read_roster(path: pathlib.Path) -> list[RosterRow]:
    """Read every row of a .csv or .xlsx roster, or raise `RosterFileError` listing all problems.

    A completely empty file, or one with a header and no data rows, is `empty`; a
    file that cannot be decoded or opened as its suffix claims is `unknown_format`.
    Missing files raise the usual `OSError`.
    """
    try:
        header, numbered = read_table(pathlib.Path(path), _HEADERS, ("name", "body"))
    except TableRefusedError as exc:
        raise RosterFileError(exc.problems) from exc
    return _parse(header, numbered)
