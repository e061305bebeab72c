"""The reports' world: a county procuratorate's year of matters, contacts, events and register entries,
written into a migrated database (`seed`), and what the half-year report, the assessment and the ledger
must say of it, computed here independently of the code under test (`expect`, `expected_tables`).
Shared by the reports' tests (test_reports, test_ledger, test_render, test_layout)."""

from __future__ import annotations

import io
import json
from collections import Counter
from fractions import Fraction
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from bot.config import TOKEN_ENV
from bot.sealing import COMPLAINANT_CONTACT, COMPLAINANT_NAME
from storage import people
from tests.fakes import Harness, Sent, User


SH = ZoneInfo("Asia/Shanghai")
DRAWN = date(2026, 11, 27)  # the harness clock: 2026-11-27 02:00 UTC, 10:00 in Shanghai
COMPLAINANT, COMPLAINANT_PHONE = "张三丰", "13900002222"
SECRET_BODY = "机密正文内容不得出现在报告中"


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


# -- what is seeded -------------------------------------------------------------------------------


@dataclass
class R:
    """A reply sent (a cannot-be-met explanation is stored with no sent_at, as the code does)."""

    at: datetime
    rating: str | None
    kind: str = "reply"


@dataclass
class M:
    number: str
    kind: str
    registered: datetime
    state: str
    due: date
    dept: str | None = None
    outcome: str | None = None
    concluded: datetime | None = None
    closed: datetime | None = None
    transferred_to: str | None = None
    replies: list[R] = field(default_factory=list)


D1, D2 = "第一检察部", "第二检察部"
MATTERS = [
    M("LS-2026-0001", "suggestion", local(2026, 1, 10), "closed", date(2026, 4, 10), D1, "A", local(2026, 3, 1),
      local(2026, 3, 6), replies=[R(local(2026, 3, 5), "satisfied")]),
    M("LS-2026-0002", "criticism", local(2026, 2, 1), "rated", date(2026, 5, 1), D1, "B", local(2026, 5, 10),
      replies=[R(local(2026, 5, 12), "basically")]),
    M("LS-2026-0003", "opinion", local(2026, 3, 15), "in_progress", date(2026, 6, 15), D2),
    M("LS-2026-0004", "report", local(2026, 4, 1), "assigned", date(2026, 7, 1), D2),
    M("LS-2026-0005", "accusation", local(2026, 5, 20), "transferred", date(2026, 8, 20), None,
      closed=local(2026, 5, 25), transferred_to="卢氏县公安局"),
    M("LS-2026-0006", "appeal", local(2026, 6, 30, 23, 30), "registered", date(2026, 9, 30)),  # H1, in Shanghai
    M("LS-2026-0007", "suggestion", local(2026, 7, 1, 0, 10), "registered", date(2026, 10, 1)),  # H2: 16:10 UTC 30 June
    M("LS-2025-0101", "report", local(2025, 11, 20), "replied", date(2026, 2, 20), D1, "D", local(2026, 2, 25),
      replies=[R(local(2026, 2, 26), None)]),
    M("LS-2025-0102", "appeal", local(2025, 12, 1), "closed", date(2026, 3, 1), D2, closed=local(2026, 2, 5),
      replies=[R(local(2026, 1, 15), "unrated", "cannot_meet")]),
    M("LS-2025-0103", "opinion", local(2025, 10, 10), "in_progress", date(2026, 1, 10), D2),
    M("LS-2025-0104", "suggestion", local(2025, 8, 1), "assigned", date(2025, 11, 1), D1),
    M("LS-2026-0008", "criticism", local(2026, 6, 10), "reopened", date(2026, 7, 20), D1, None, local(2026, 6, 18),
      replies=[R(local(2026, 6, 20), "dissatisfied")]),
    M("LS-2025-0105", "suggestion", local(2025, 5, 1), "closed", date(2025, 8, 1), D1, "A", local(2025, 7, 1),
      local(2025, 7, 6), replies=[R(local(2025, 7, 5), "satisfied")]),
    M("LS-2026-0009", "report", local(2026, 8, 3), "closed", date(2026, 11, 3), D2, "A", local(2026, 9, 1),
      local(2026, 9, 4), replies=[R(local(2026, 9, 3), "satisfied")]),
    M("LS-2026-0010", "opinion", local(2026, 1, 5), "replied", date(2026, 4, 5), None,
      replies=[R(local(2026, 1, 20), None, "cannot_meet")]),
]
# (matter number, requested, state)
EXTENSIONS = [("LS-2026-0001", local(2026, 2, 1), "approved"), ("LS-2026-0002", local(2026, 4, 20), "refused"),
              ("LS-2026-0003", local(2026, 5, 30), "pending"), ("LS-2025-0104", local(2025, 10, 1), "refused"),
              ("LS-2026-0009", local(2026, 10, 1), "approved")]
# (matter number, event, when, actor: "陈静" / "李娜" / None)
EVENTS = [("LS-2026-0003", "urged", local(2026, 4, 1), "陈静"), ("LS-2026-0003", "urged", local(2026, 4, 8), "陈静"),
          ("LS-2025-0103", "urged", local(2026, 1, 5), "李娜"), ("LS-2025-0103", "urged", local(2025, 12, 20), "李娜"),
          ("LS-2026-0009", "urged", local(2026, 8, 10), "陈静"),
          ("LS-2026-0003", "stale", local(2026, 5, 1), None), ("LS-2025-0103", "stale", local(2026, 2, 1), None),
          ("LS-2025-0103", "stale", local(2026, 3, 1), None), ("LS-2026-0004", "stale", local(2026, 7, 5), None),
          ("LS-2026-0008", "rated_dissatisfied", local(2026, 6, 20), None)]
# name, body, sector, supervisor
REPRESENTATIVES = [("王建国", "npc", "农业界", True), ("李秀梅", "cppcc", "教育界", False), ("张伟", "npc", "", False),
                   ("赵敏", "cppcc", "教育界", True), ("钱进", "npc", "农业界", False)]
# representative, method, day, staff
CONTACTS = [("王建国", "forum", date(2026, 1, 5), "陈静"), ("王建国", "letter", date(2026, 3, 1), "李娜"),
            ("李秀梅", "home_visit", date(2026, 6, 30), "陈静"), ("张伟", "forum", date(2026, 7, 1), "陈静"),
            ("赵敏", "letter", date(2025, 12, 31), "陈静"), ("钱进", "other", date(2026, 9, 9), None)]
# kind, case name, case number, day, filed on, note
REGISTER = [("major_case_report", "某涉黑犯罪集团案", "卢检刑诉〔2026〕12号", date(2026, 3, 10), None, "向县人大常委会主任会议报告"),
            ("protest", "张某某故意伤害案", "卢检刑抗〔2026〕1号", date(2026, 4, 15), date(2026, 4, 20), ""),
            ("protest", "李某某盗窃案", "", date(2026, 6, 28), None, ""),
            ("major_case_report", "某非法集资案", "", date(2025, 12, 30), None, ""),
            ("protest", "王某某诈骗案", "卢检刑抗〔2026〕2号", date(2026, 7, 2), None, "")]
STAFF = [("陈静", ["office"], None), ("李娜", ["office"], None), ("刘洋", ["handler"], D1), ("吴刚", ["head"], D1),
         ("王芳", ["handler"], D2), ("周明", ["leader"], None)]


async def seed(db: Any, now: datetime) -> dict[str, int]:
    """Write everything above into a database with the migrations applied; return the ids by name."""
    ids: dict[str, int] = {}
    created = stamp(now)
    async with db.transaction() as tx:
        for name in (D1, D2):
            ids[name] = await tx.insert("INSERT INTO departments (name, created_at) VALUES (?, ?) RETURNING id",
                                        (name, created))
        for name, roles, dept in STAFF:
            ids[name] = await tx.insert("INSERT INTO persons (name, department_id, created_at, updated_at)"
                                        " VALUES (?, ?, ?, ?) RETURNING id", (name, ids.get(dept or ""), created, created))
            for role in roles:
                await tx.execute("INSERT INTO person_roles (person_id, role) VALUES (?, ?)", (ids[name], role))
        for n, (name, body, sector, supervisor) in enumerate(REPRESENTATIVES):
            ids[name] = await tx.insert(
                "INSERT INTO persons (name, body, sector, phone, supervisor, roster_key, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (name, body, sector, people.sealed_phone(tx, f"1380000000{n}")[0], int(supervisor), f"name:{body}:{name}",
                 created, created))
        for m in MATTERS:
            referred = m.kind in ("report", "accusation", "appeal")
            ids[m.number] = await tx.insert(
                "INSERT INTO matters (number, kind, representative_id, subject, body, complainant_name,"
                " complainant_contact, state, department_id, urger_id, registered_at, due_date, updated_at, outcome,"
                " concluded_at, closed_at, transferred_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (m.number, m.kind, ids["王建国"], "事由" + m.number, SECRET_BODY,
                 tx.sealer.seal(COMPLAINANT, COMPLAINANT_NAME) if referred else None,
                 tx.sealer.seal(COMPLAINANT_PHONE, COMPLAINANT_CONTACT) if referred else None, m.state, ids.get(m.dept or ""),
                 ids["陈静"] if m.dept else None, stamp(m.registered), m.due.isoformat(), created, m.outcome,
                 # the code stores these two with isoformat() of a UTC moment, not ts(): so does the seed
                 m.concluded.astimezone(UTC).isoformat() if m.concluded else None,
                 m.closed.astimezone(UTC).isoformat() if m.closed else None, m.transferred_to))
            for number, r in enumerate(m.replies, 1):
                await tx.execute(
                    "INSERT INTO replies (matter_id, round, kind, body, grounds, via, state, drafted_by, drafted_at,"
                    " sent_at, rating, rated_at) VALUES (?, ?, ?, ?, '依据', 'chat', 'sent', ?, ?, ?, ?, ?)",
                    (ids[m.number], number, r.kind, SECRET_BODY, ids["刘洋"],
                     stamp(r.at if r.kind == "cannot_meet" else r.at - timedelta(days=2)),
                     None if r.kind == "cannot_meet" else stamp(r.at), r.rating, stamp(r.at) if r.rating else None))
        for number, requested, state in EXTENSIONS:
            await tx.execute("INSERT INTO extensions (matter_id, reason, requested_by, requested_at, state, old_due)"
                             " VALUES (?, '案情复杂', ?, ?, ?, '2026-01-01')",
                             (ids[number], ids["刘洋"], stamp(requested), state))
        for number, event, at, actor in EVENTS:
            await tx.execute("INSERT INTO timeline (matter_id, at, actor_id, event, public, detail) VALUES"
                             " (?, ?, ?, ?, 0, '{}')", (ids[number], stamp(at), ids.get(actor or ""), event))
        for rep, method, day, staff in CONTACTS:
            await tx.execute("INSERT INTO contacts (representative_id, method, contacted_on, staff_id, source,"
                             " created_at) VALUES (?, ?, ?, ?, 'chat', ?)",
                             (ids[rep], method, day.isoformat(), ids.get(staff or ""), created))
        for kind, name, case_number, day, filed, note in REGISTER:
            await tx.execute("INSERT INTO npc_register (kind, case_name, case_number, happened_on, filed_on, note,"
                             " recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (kind, name, case_number, day.isoformat(), filed.isoformat() if filed else None, note,
                              ids["陈静"], created))
    return ids


# -- what the figures must be, derived from the seed alone -------------------------------------------

OPEN = ("registered", "assigned", "in_progress", "reopened")


def handled(m: M) -> date | None:
    if m.state in OPEN:
        return None
    if m.concluded:
        return m.concluded.date()
    if m.replies:
        return min(r.at for r in m.replies).date()
    return m.closed.date() if m.state == "transferred" and m.closed else None


def pct(part: int, whole: int) -> str:
    """One decimal, halves up: as every paper shows a rate (no seed here comes within 0.05% of 0 or 100%)."""
    if not whole:
        return "—"
    tenths = int(Fraction(1000 * part, whole) + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"


def ratio(part: int, whole: int) -> float | None:
    """As the workbook holds a rate: a number, or an empty cell when there is nothing to divide by."""
    return part / whole if whole else None


@dataclass
class Expected:
    first: date
    last: date
    as_of: date
    registered: list[M]
    on_time: int
    late: int
    overdue_open: int  # 到期未办结
    overdue: list[tuple[M, int]]
    handled: list[M]  # 办结 in the period
    not_concluded: list[M]  # 未办结 as of
    reopened: int
    ratings: Counter[str]
    transfers: Counter[str]
    extensions: Counter[str]
    urged: tuple[int, int]
    stale: tuple[int, int]
    contacts: Counter[str]
    contacted: set[str]
    year_contacted: set[str] | None
    majors: list[tuple[Any, ...]]
    protests: list[tuple[Any, ...]]


def timeliness(matters: list[M], first: date, last: date, as_of: date) -> tuple[int, int, int]:
    on_time = late = still_open = 0
    for m in matters:
        if first <= m.due <= last:
            h = handled(m)
            if h is not None and h <= as_of:
                on_time, late = on_time + (h <= m.due), late + (h > m.due)
            elif m.due < as_of:
                still_open += 1
    return on_time, late, still_open


def ratings_in(matters: list[M], first: date, last: date) -> Counter[str]:
    return Counter(r.rating if r.rating in ("satisfied", "basically", "dissatisfied") else "unrated"
                   for m in matters for r in m.replies if first <= r.at.date() <= last)


def events_in(kind: str, first: date, last: date, numbers: set[str] | None = None) -> list[tuple[str, str | None]]:
    return [(n, actor) for n, e, at, actor in EVENTS
            if e == kind and first <= at.date() <= last and (numbers is None or n in numbers)]


def expect(first: date, last: date, today: date) -> Expected:
    as_of = min(last, today)
    on_time, late, still_open = timeliness(MATTERS, first, last, as_of)
    urged, stale = events_in("urged", first, last), events_in("stale", first, last)
    return Expected(
        first=first, last=last, as_of=as_of,
        registered=[m for m in MATTERS if first <= m.registered.date() <= last],
        on_time=on_time, late=late, overdue_open=still_open,
        handled=[m for m in MATTERS if (h := handled(m)) is not None and first <= h <= as_of],
        not_concluded=[m for m in MATTERS if m.registered.date() <= as_of
                       and ((h := handled(m)) is None or h > as_of)],
        reopened=sum(1 for m in MATTERS for r in m.replies if r.rating == "dissatisfied" and first <= r.at.date() <= last),
        overdue=sorted(((m, (as_of - m.due).days) for m in MATTERS
                        if m.due < as_of and (handled(m) is None or handled(m) > as_of)),  # type: ignore[operator]
                       key=lambda pair: (pair[0].due, pair[0].number)),
        ratings=ratings_in(MATTERS, first, last),
        transfers=Counter(m.transferred_to or "" for m in MATTERS
                          if m.state == "transferred" and m.closed and first <= m.closed.date() <= last),
        extensions=Counter(state for _n, at, state in EXTENSIONS if first <= at.date() <= last),
        urged=(len(urged), len({n for n, _a in urged})), stale=(len(stale), len({n for n, _a in stale})),
        contacts=Counter(method for _r, method, day, _s in CONTACTS if first <= day <= last),
        contacted={rep for rep, _m, day, _s in CONTACTS if first <= day <= last},
        year_contacted={rep for rep, _m, day, _s in CONTACTS if first.year == day.year and day <= last}
        if first.month == 7 else None,
        majors=sorted((r for r in REGISTER if r[0] == "major_case_report" and first <= r[3] <= last),
                      key=lambda r: r[3]),
        protests=sorted((r for r in REGISTER if r[0] == "protest" and first <= r[3] <= last), key=lambda r: r[3]),
    )


KIND_ZH = {"suggestion": "建议", "criticism": "批评", "opinion": "意见", "report": "举报", "accusation": "控告",
           "appeal": "申诉"}
STATE_ZH = {"registered": "已登记待交办", "assigned": "已交办", "in_progress": "办理中", "concluded": "已办结待答复",
            "replied": "已答复待评价", "rated": "已评价待最终答复", "closed": "已完结", "transferred": "已移送",
            "reopened": "重新办理中"}
METHOD_ZH = {"forum": "座谈会", "work_report": "工作汇报会", "home_visit": "登门走访", "inspection": "邀请视察",
             "documents": "赠送资料", "letter": "信函", "opinion_card": "征求意见卡", "other": "其他"}
OUTCOME_ZH = {"A": "A类：已解决或基本解决", "B": "B类：正在解决", "C": "C类：列入计划或受条件限制暂不能解决",
              "D": "D类：留作参考"}


def zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def expected_tables(e: Expected, drawn: date, roster: list[tuple[str, str, str, bool]] = REPRESENTATIVES
                    ) -> list[tuple[str, list[list[str]]]]:
    """Every table of the report, as text: (caption, header row + rows)."""
    none5 = ["无", "", "", "", ""]
    bodies = [("人大代表", "npc"), ("政协委员", "cppcc")]
    by_body = [[label, str(sum(1 for r in roster if r[1] == b)), str(sum(1 for r in roster if r[1] == b and r[0] in e.contacted))]
               for label, b in bodies]
    total_reps, contacted = len(roster), sum(1 for r in roster if r[0] in e.contacted)
    members = [r for r in roster if r[1] == "cppcc"]  # NPC deputies are not in the table of sectors
    order = ("农业界", "教育界")  # as the CPPCC lists them (the default report.sectors): 农业界 before 教育界
    sectors = sorted({r[2] for r in members}, key=lambda s: (s == "", order.index(s) if s in order else 99))
    kinds = Counter(m.kind for m in e.registered)
    n = len(e.registered)
    states = Counter(m.state for m in e.registered)
    outcomes = Counter(m.outcome or "" for m in e.registered)
    due = e.on_time + e.late + e.overdue_open
    rated = e.ratings["satisfied"] + e.ratings["basically"] + e.ratings["dissatisfied"]
    replies = rated + e.ratings["unrated"]
    asked = sum(e.extensions.values())
    moved = sum(e.transfers.values())
    return [
        ("表1　联系代表委员方式统计", [["联系方式", "人次"], *([METHOD_ZH[k], str(e.contacts[k])] for k in METHOD_ZH),
                            ["合计", str(sum(e.contacts.values()))]]),
        ("表2　联系覆盖情况（按类别）", [["类别", "总人数", "已联系", "未联系", "联系覆盖率"],
                             *([label, t, c, str(int(t) - int(c)), pct(int(c), int(t))] for label, t, c in by_body),
                             ["合计", str(total_reps), str(contacted), str(total_reps - contacted),
                              pct(contacted, total_reps)]]),
        ("表3　政协委员联系覆盖情况（按界别）", [["界别", "总人数", "已联系", "联系覆盖率"], *(
            [s or "未填界别", str(t := sum(1 for r in members if r[2] == s)),
             str(c := sum(1 for r in members if r[2] == s and r[0] in e.contacted)), pct(c, t)] for s in sectors)]
         if members else [["界别", "总人数", "已联系", "联系覆盖率"], ["无", "", "", ""]]),
        ("表4　本半年登记事项（按类别）", [["类别", "件数", "占比"], *([KIND_ZH[k], str(kinds[k]), pct(kinds[k], n)] for k in KIND_ZH),
                           ["合计", str(n), "100.0%" if n else "—"]]),
        (f"表5　本半年登记事项目前的办理状态（截至{zh(drawn)}）", [["状态", "件数"], *([STATE_ZH[s], str(states[s])] for s in STATE_ZH), ["合计", str(n)]]),
        ("表6　本半年登记事项办理结果分类", [["结果分类", "件数"], *([OUTCOME_ZH[o], str(outcomes[o])] for o in OUTCOME_ZH),
                        ["尚未定类", str(outcomes[""])], ["合计", str(n)]]),
        ("表7　按期办结情况", [["到期应办结", "按期办结", "超期办结", "到期未办结", "按期办结率"],
                        [str(due), str(e.on_time), str(e.late), str(e.overdue_open), pct(e.on_time, due)]]),
        ("表8　答复满意度", [["答复", "满意", "基本满意", "不满意", "未评价", "参评率", "满意率"],
                       [str(replies), str(e.ratings["satisfied"]), str(e.ratings["basically"]),
                        str(e.ratings["dissatisfied"]), str(e.ratings["unrated"]), pct(rated, replies),
                        pct(e.ratings["satisfied"] + e.ratings["basically"], rated)]]),
        ("表9　延期办理情况", [["申请延期", "批准", "不予批准", "尚待审批"],
                        [str(asked), str(e.extensions["approved"]), str(e.extensions["refused"]),
                         str(e.extensions["pending"])]]),
        ("表10　移送有关主管机关情况", [["主管机关", "件数"], *([a, str(k)] for a, k in sorted(e.transfers.items(), key=lambda i: (-i[1], i[0]))),
                              *([["合计", str(moved)]] if moved else [["无", ""]])]),
        ("表11　督办催办情况", [["催办次数", "催办事项", "长期未办理标记", "涉及事项"],
                         [str(e.urged[0]), str(e.urged[1]), str(e.stale[0]), str(e.stale[1])]]),
        (f"表12　逾期未办结事项（截至{zh(e.as_of)}）", [["编号", "类别", "承办部门", "办理期限", "逾期天数"],
                          *([m.number, KIND_ZH[m.kind], m.dept or "尚未交办", zh(m.due), str(days)]
                            for m, days in e.overdue)] + ([] if e.overdue else [none5])),
        ("表13　向县人大报告重大案件情况", [["序号", "案件名称", "案号", "报告日期", "备注"],
                                *([str(i), r[1], r[2] or "—", zh(r[3]), r[5]] for i, r in enumerate(e.majors, 1))]
         + ([] if e.majors else [none5])),
        ("表14　抗诉案件报县人大常委会备案情况", [["序号", "案件名称", "案号", "抗诉日期", "备案日期"],
                                   *([str(i), r[1], r[2] or "—", zh(r[3]), zh(r[4]) if r[4] else "未备案"]
                                     for i, r in enumerate(e.protests, 1))] + ([] if e.protests else [none5])),
        ("表15　邀请代表委员参加活动情况", [["日期", "活动名称", "类型", "参加代表委员（人次）", "其中执法监督员（人次）"], none5]),
    ]


# -- reading the files back ----------------------------------------------------------------------


def read_docx(path: str | Path) -> tuple[list[str], list[tuple[str, list[list[str]]]]]:
    """The paragraphs' texts (non-empty) and each table with the caption paragraph just before it (not the
    版记 that closes the report: tests/test_layout.py)."""
    document = docx.Document(str(path))
    paragraphs: list[str] = []
    tables: list[tuple[str, list[list[str]]]] = []
    for element in document.element.body.iterchildren():
        if element.tag.endswith("}p"):
            text = DocxParagraph(element, document).text
            if text:
                paragraphs.append(text)
        elif element.tag.endswith("}tbl"):
            grid = DocxTable(element, document)
            rows = [[cell.text for cell in row.cells] for row in grid.rows]
            if rows[-1][-1].endswith("印发"):
                continue
            tables.append((paragraphs[-1], rows))
    return paragraphs, tables


def read_xlsx(path: str | Path) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()))  # stored files have no extension
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def as_text(value: Any, header: str, shown: str = "") -> str:
    """A workbook cell as the document shows it (rates are numbers formatted as percentages; a figure that
    has no value is an empty cell in the workbook, "—" in the document)."""
    if value is None and shown == "—":
        return shown
    if isinstance(value, datetime):  # a date cell reads back as a datetime at midnight
        assert value.time() == datetime.min.time()
        return zh(value.date())
    if isinstance(value, (int, float)) and (header.endswith("率") or header == "占比"):
        return pct(round(value * 10**9), 10**9)  # a rate of 0.0 reads back as the integer 0
    if isinstance(value, float):
        return f"{value:.1f}"
    return "" if value is None else str(value)


def check_files(docx_path: str | Path, xlsx_path: str | Path, e: Expected, drawn: date,
                roster: list[tuple[str, str, str, bool]] = REPRESENTATIVES) -> list[str]:
    """Compare both files with the expectation, every cell; return the document's paragraphs."""
    paragraphs, tables = read_docx(docx_path)
    expected = expected_tables(e, drawn, roster)
    assert [caption for caption, _rows in tables] == [caption for caption, _rows in expected]
    for (caption, rows), (_c, want) in zip(tables, expected):
        assert rows == want, caption
    sheets = read_xlsx(xlsx_path)
    names = list(sheets)
    assert names[0] == "说明" and len(names) == 1 + len(expected)
    assert [row[0] for row in sheets["说明"] if row[0] and str(row[0]).startswith("表")] == [c for c, _r in expected]
    for name, (caption, want) in zip(names[1:], expected):
        assert name.startswith(caption.split("　")[0] + " ")
        got = sheets[name]
        assert [str(v) for v in got[0]] == want[0], caption
        assert [[as_text(v, want[0][i], want[1 + r][i]) for i, v in enumerate(row)]
                for r, row in enumerate(got[1:])] == want[1:], caption
    text = "\n".join(paragraphs) + json.dumps(sheets, ensure_ascii=False, default=str)
    for secret in (COMPLAINANT, COMPLAINANT_PHONE, SECRET_BODY, "事由LS"):  # SPEC §1: no personal data, no texts
        assert secret not in text
    assert paragraphs[-2:] == ["卢氏县人民检察院", zh(drawn)]
    return paragraphs



class Office:
    def __init__(self, harness: Harness) -> None:
        self.h = harness

    async def setup(self, seeded: bool = True) -> None:
        h = self.h
        if seeded:
            self.ids = await seed(h.db, h.clock.now())
        else:
            self.ids = {name: await h.add_staff(name, roles, dept) for name, roles, dept in STAFF}
        self.clerk = await self.bind("陈静", "3001")
        self.leader = await self.bind("周明", "6001")
        self.handler = await self.bind("刘洋", "4001")

    async def bind(self, name: str, user_id: str) -> User:
        user = self.h.user(user_id)
        await user.say(f"/start {await self.h.invite(self.ids[name])}")
        return user


def files_of(sent: list[Sent]) -> list[tuple[str, str]]:
    return [(f[0], f[1]) for s in sent for f in s.payload.get("files") or []]


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "config.toml"
    path.write_text(f"[storage]\ndatabase = {json.dumps((tmp_path / 'liaison.db').as_posix())}\n"
                    f"files_dir = {json.dumps((tmp_path / 'files').as_posix())}\n", encoding="utf-8")
    return path
