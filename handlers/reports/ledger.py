"""The register ledger 登记台账 (seed §3: every suggestion, criticism, opinion and referred case registered,
handled and answered one by one): one row per matter registered in a period, in the columns a county
office keeps by hand, as a workbook that prints.

- `/ledger [period] [kind] [department] [state]` (the office), in any order, e.g. `/ledger 2026H2 建议
  第一检察部 未办结`: a period is a year (2026), a half-year (2026H1), a month (2026-03) or days
  (2026-01-01..2026-03-31), this year by default; a kind, a department or a state by its name;
- `python -m bot report ledger 2026 --out F.xlsx [--kind K] [--department D] [--state S]` (bot/__main__.py).

Its words are the papers' (handlers/reports/paper_words.py) and its 办结 is the measure's (handlers/reports/measures.py).
It names the representative and the subject, never a complainant (SPEC §1).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot import workbook
from bot.clock import StoppedClock
from bot.context import Context
from bot.domain import KINDS, add_months
from bot.matter.states import STATES, State
from bot.errors import PermissionDeniedError, UserError
from bot.files import FileStore
from bot.i18n import N_
from bot.messages import OutFile, Reply
from bot.office_files import zh_date
from bot.permissions import may
from bot.workbook import Column, Sheet
from handlers.common import unit_name
from handlers.reports import measures
from handlers.labels import KIND_LABELS
from handlers.matters.notices import OUTCOME_LABELS
from handlers.reports.paper_words import BODY_WORDS, STATE_WORDS, zh_words
from handlers.reports.figures import window
from storage import audit, people
from storage.db import Tx
from bot.model import Person, UnitScope
from storage.ledger import NO_DEPARTMENT, LedgerRow, rows
from storage.reports import MatterFacts
from storage.supervision import DEADLINE_STATES

VIA_WORDS: Final = {"chat": "网上提交", "letter": "来信", "meeting": "会议提出", "visit": "走访提出", "phone": "电话",
                    "other": "其他", "card": "征求意见卡", "briefing": "回复工作简报",
                    "transfer": "他院移送"}
REPLY_VIA_WORDS: Final = {"chat": "网上答复", "in_person": "当面答复", "paper": "书面答复"}
RATING_WORDS: Final = {"satisfied": "满意", "basically": "基本满意", "dissatisfied": "不满意", "unrated": "未评价"}
UNASSIGNED: Final = "尚未交办"
GROUPS: Final = {"未办结": DEADLINE_STATES, "办结": tuple(s for s in STATES if s not in DEADLINE_STATES)}
COLUMNS: Final = (
    Column("序号", workbook.INTEGER), Column("编号"), Column("登记日期", workbook.DATE), Column("代表委员"),
    Column("身份"), Column("类别"), Column("事由", width=40), Column("受理方式"), Column("承办部门"), Column("催办人"),
    Column("办理期限", workbook.DATE), Column("延期至", workbook.DATE), Column("重大疑难复杂", width=14),
    Column("办结日期", workbook.DATE), Column("办理结果", width=24), Column("答复日期", workbook.DATE),
    Column("答复方式"), Column("评价"), Column("重新办理次数", workbook.INTEGER, width=14), Column("办理状态"),
)


class FilterError(UserError):
    """A word of /ledger (or an option of the command line) that names no period, kind, department or state."""


@dataclass(frozen=True)
class LedgerFilter:
    first: date
    last: date
    period: str  # in words: 2026年, 2026年上半年, 2026年3月, 2026年1月1日至2026年3月31日
    kinds: tuple[str, ...] = ()
    departments: dict[int, str] = field(default_factory=dict)  # id (NO_DEPARTMENT: none) → name
    states: tuple[str, ...] = ()
    state_words: tuple[str, ...] = ()
    overdue: bool = False  # 逾期未办结 on the day drawn

    def describe(self) -> str:
        parts = [f"登记期间：{zh_date(self.first)}至{zh_date(self.last)}"]
        if self.kinds:
            parts.append("类别：" + "、".join(zh_words(KIND_LABELS[k]) for k in self.kinds))
        if self.departments:
            parts.append("承办部门：" + "、".join(self.departments.values()))
        if self.state_words:
            parts.append("办理状态：" + "、".join(self.state_words))
        return "；".join(parts)


def period(text: str, today: date) -> tuple[date, date, str] | None:
    """A period of registration: 2026, 2026H1/H2, 2026-03, or 2026-01-01..2026-03-31; None if not one."""
    text = text.strip().upper()
    if m := re.fullmatch(r"(20\d\d)", text):
        year = int(m[1])
        return date(year, 1, 1), date(year, 12, 31), f"{year}年"
    if m := re.fullmatch(r"(20\d\d)H([12])", text):
        year, half = int(m[1]), int(m[2])
        return ((date(year, 1, 1), date(year, 6, 30), f"{year}年上半年") if half == 1
                else (date(year, 7, 1), date(year, 12, 31), f"{year}年下半年"))
    if m := re.fullmatch(r"(20\d\d)-(\d\d?)", text):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            first = date(year, month, 1)
            return first, add_months(first, 1) - timedelta(days=1), f"{year}年{month}月"
    if m := re.fullmatch(r"(20\d\d-\d\d-\d\d)\.\.(20\d\d-\d\d-\d\d)", text):
        try:
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError:
            return None
        if first <= last:
            return first, last, f"{zh_date(first)}至{zh_date(last)}"
    return None


def parse(words: list[str], today: date, departments: list[tuple[int, str]]) -> LedgerFilter:
    """The filter a list of words asks for; FilterError naming the first word that is none of them."""
    found = period(str(today.year), today)
    assert found is not None
    kinds: list[str] = []
    depts: dict[int, str] = {}
    states: list[str] = []
    state_words: list[str] = []
    overdue = False
    kind_words = {w: k for k in KINDS for w in (k, zh_words(KIND_LABELS[k]), KIND_LABELS[k].lower())}
    state_names = {w: s for s in STATES for w in (s, STATE_WORDS[s])}
    by_name = {name: dept_id for dept_id, name in departments}
    for word in words:
        if (span := period(word, today)) is not None:
            found = span
        elif (kind := kind_words.get(word.lower())) is not None:
            kinds.append(kind)
        elif word in by_name:
            depts[by_name[word]] = word
        elif word in (UNASSIGNED, "未交办"):
            depts[NO_DEPARTMENT] = UNASSIGNED
        elif (state := state_names.get(word)) is not None:
            states.append(state)
            state_words.append(STATE_WORDS[state])
        elif word in GROUPS:
            states += GROUPS[word]
            state_words.append(word)
        elif word == measures.OVERDUE.words:
            states += DEADLINE_STATES
            state_words.append(word)
            overdue = True
        else:
            raise FilterError(N_("“{word}” is not a period ({year}, {half}, {month}), a kind, a department or a "
                                 "state."), word=word, year="2026", half="2026H1", month="2026-03")
    first, last, words_ = found
    return LedgerFilter(first, last, words_, tuple(dict.fromkeys(kinds)), depts, tuple(dict.fromkeys(states)),
                        tuple(state_words), overdue)


def values(n: int, r: LedgerRow, tz: ZoneInfo) -> tuple[workbook.Value, ...]:
    """One row of the ledger, in the papers' words."""
    facts = MatterFacts(r.id, r.number, r.kind, r.state, r.outcome, None, r.registered_at, r.due_date, r.concluded_at,
                        r.closed_at, r.first_reply_at, r.transferred_to)
    if r.state == State.TRANSFERRED:
        result: str | None = f"移送{r.transferred_to or ''}"
    elif r.reply_kind == "cannot_meet" and not r.outcome:
        result = "无法满足，已说明"
    else:
        result = zh_words(OUTCOME_LABELS[r.outcome]) if r.outcome in OUTCOME_LABELS else None
    rating = RATING_WORDS.get(r.rating or "") or ("待评价" if r.reply_at and r.reply_kind != "final" else None)
    return (n, r.number, measures.local_day(r.registered_at, tz), r.representative, BODY_WORDS.get(r.body, r.body),
            zh_words(KIND_LABELS[r.kind]), r.subject, VIA_WORDS.get(r.received_via, r.received_via),
            r.department or (None if r.state == State.TRANSFERRED else UNASSIGNED), r.urger, r.due_date, r.extended_to,
            "是" if r.major else None, measures.handled_on(facts, tz), result,
            measures.local_day(r.reply_at, tz) if r.reply_at else None,
            REPLY_VIA_WORDS.get(r.reply_via or "") if r.reply_at else None, rating, r.reopened or None,
            STATE_WORDS[r.state])


async def ledger_file(q: Tx, scope: UnitScope, f: LedgerFilter, unit: str, now: datetime, tz: ZoneInfo
                      ) -> tuple[bytes, int]:
    """The scope's ledger as a workbook, and the number of matters in it (`unit`: the name it is headed with)."""
    today = now.astimezone(tz).date()
    start, end = window(f.first, f.last, tz)
    found: list[tuple[workbook.Value, ...]] = []
    async for row in rows(q, scope, start, end, kinds=f.kinds, departments=tuple(f.departments), states=f.states,
                          due_before=today if f.overdue else None):
        if f.first <= measures.local_day(row.registered_at, tz) <= f.last:
            found.append(values(len(found) + 1, row, tz))
    title = f"{unit}代表委员建议、批评、意见及转交案件登记台账（{f.period}）"
    about = [title, f.describe(), f"共{len(found)}件；生成日期：{zh_date(today)}", "",
             "“办结日期”：办结、以无法满足作出答复或移送有关主管机关的日期（与工作情况报告中“办结”口径相同）；",
             "“延期至”：经批准延期后的办理期限；“答复日期”“答复方式”“评价”：最近一次答复及其评价；",
             "“重新办理”：因代表委员不满意而重新办理的次数。"]
    sheets = [Sheet("说明", title, [Column("说明", workbook.NOTE, width=72)], ([line] for line in about), header=False),
              Sheet("登记台账", title, COLUMNS, found, landscape=True)]
    # seconds of CPU for a year of a large unit: on a thread, so that the event loop goes on serving the chats
    data = await asyncio.to_thread(workbook.write_workbook, sheets, title=title, author=unit, created=now)
    return data, len(found)


# -- in chat ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """A ledger read and written before the command's transaction (bot/inbox.py), for the words it was asked by."""

    args: str
    person_id: int
    ledger: LedgerFilter
    file: str  # in the file store
    count: int


def _allowed(ctx: Context) -> Person:
    if not may(ctx.person, "ledger", None):
        raise PermissionDeniedError.of("ledger", None, "Sorry, only the liaison office can do this.")
    assert ctx.person is not None
    return ctx.person


async def _draw(ctx: Context) -> Drawn:
    person = _allowed(ctx)
    tz = ctx.config.unit.tz
    today = ctx.today
    f = parse(ctx.inc.args.split(), today, list((await people.department_names(ctx.tx, ctx.scope)).items()))
    data, count = await ledger_file(ctx.tx, ctx.scope, f, await unit_name(ctx), ctx.now, tz)
    store = FileStore(ctx.config.storage.files_dir, StoppedClock(ctx.now))
    return Drawn(ctx.inc.args, person.id, f, store.put(data)[1], count)


async def prepare(ctx: Context) -> Drawn:
    """/ledger's read, on a read-only connection before the command's transaction (a year of a large unit takes
    seconds: the writer is not held meanwhile); the file is stored, and named by the reply that the command
    queues. What it refuses, the command refuses again in its transaction, and says so."""
    return await _draw(ctx)


async def command(ctx: Context) -> None:
    """/ledger [period] [kind] [department] [state]: the ledger of the matters registered then, as a workbook:
    the one read before this transaction if there was one (`prepare`), else read here."""
    person = _allowed(ctx)
    drawn = ctx.prepared
    if not (isinstance(drawn, Drawn) and drawn.args == ctx.inc.args and drawn.person_id == person.id):
        drawn = await _draw(ctx)
    f = drawn.ledger
    await audit.record(ctx.tx, ctx.now, person.id, "ledger_drawn",
                       detail={"first": f.first.isoformat(), "last": f.last.isoformat(), "matters": drawn.count})
    _ = ctx._
    await ctx.reply(Reply(_("The register ledger: {n} matters registered from {first} to {last}.", n=drawn.count,
                            first=_.date(f.first), last=_.date(f.last)),
                          title=_("Register ledger"), files=(OutFile(drawn.file, f"{f.period}登记台账.xlsx"),)))
