"""SPEC §7, seed §8, §17: the leadership digest — its figures computed from a seeded database and checked
number by number against counts this test derives itself from the seed, in plain Python; the schedule
(weekly and monthly, once each, in working time, holidays respected); /digest on demand for leaders and
the office only; long lists cut to fit one Telegram message with the whole list attached; the chart,
with a font and without one; and never a complainant's (nor anyone's) personal data."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot import charts
from bot.config import DigestConfig
from bot.i18n import Translator
from bot.model import UnitScope
from handlers.reports import digest, digest_figures, digest_text
from storage import contacts
from storage.digest import DepartmentLoad
from tests.fakes import Harness, Sent, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 30)  # a Monday: the weekly digest covers 23-29 November
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
KINDS_ZH = {"suggestion": "建议", "criticism": "批评", "opinion": "意见", "report": "举报", "accusation": "控告",
            "appeal": "申诉"}
NOT_CONCLUDED = {"registered", "assigned", "in_progress", "reopened"}
OPEN = NOT_CONCLUDED | {"concluded"}
COMPLAINANT, COMPLAINANT_PHONE, SECRET_SUBJECT = "赵某某", "13912345678", "关于赵某某被羁押一案"
BODY, REPLY_BODY = "事项正文乙", "答复正文甲"
PNG = b"\x89PNG\r\n\x1a\n"


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def stamp(moment: datetime, micro: bool = False) -> str:
    """As storage writes it: UTC, milliseconds (ts) — or microseconds, as `concluded_at` is written."""
    utc = moment.astimezone(UTC)
    return utc.isoformat() if micro else utc.isoformat(timespec="milliseconds")


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def pct(part: int, whole: int) -> str:
    """One decimal, halves up (no seed here reaches 0 < rate < 0.05% or 99.95% <= rate < 100%)."""
    if whole == 0:
        return "—"
    tenths = int(Fraction(1000 * part, whole) + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"


@dataclass
class ReplySpec:
    sent: datetime
    rating: str | None = None
    rated: datetime | None = None
    state: str = "sent"


@dataclass
class Spec:
    """One seeded matter, as the test knows it."""

    registered: datetime
    state: str
    dept: str | None
    due: date
    kind: str = "report"
    major: bool = False
    concluded: datetime | None = None
    notice: datetime | None = None  # a public progress notice
    reassigned: datetime | None = None  # assigned again after the first assignment
    replies: list[ReplySpec] = field(default_factory=list)
    number: str = ""


def seed_specs() -> list[Spec]:
    d = date
    return [
        Spec(local(d(2026, 11, 23), 0, 30), "registered", None, d(2027, 2, 23)),  # new: 23 Nov, just after midnight
        Spec(local(d(2026, 11, 22), 23, 30), "assigned", "一部", d(2027, 2, 22)),  # not new: the evening before
        Spec(local(d(2026, 11, 29), 23, 59), "assigned", "二部", d(2027, 2, 28), kind="suggestion"),  # new
        Spec(local(d(2026, 11, 30), 9, 0), "assigned", "二部", d(2027, 2, 28), kind="opinion"),  # today: after the week
        Spec(local(d(2026, 8, 20)), "in_progress", "一部", d(2026, 11, 20),  # overdue 10 days
             replies=[ReplySpec(local(d(2026, 11, 10)), "dissatisfied", local(d(2026, 11, 20)))]),
        Spec(local(d(2026, 8, 28)), "assigned", "二部", d(2026, 11, 28), major=True),  # overdue, owes a notice
        Spec(local(d(2026, 9, 1)), "in_progress", "一部", d(2026, 12, 1), major=True,  # due soon; notice given
             notice=local(d(2026, 11, 10))),
        Spec(local(d(2026, 9, 7)), "reopened", "二部", d(2026, 12, 7), kind="appeal", major=True,  # due in 7 days
             notice=local(d(2026, 9, 20)), reassigned=local(d(2026, 11, 5)),  # notice before the reassignment: owes
             replies=[ReplySpec(local(d(2026, 11, 20)), "dissatisfied", local(d(2026, 11, 24)))]),
        Spec(local(d(2026, 9, 8)), "assigned", "一部", d(2026, 12, 8),  # 8 days: on time, not "due soon"
             replies=[ReplySpec(local(d(2026, 11, 25)), state="draft")]),
        Spec(local(d(2026, 8, 30)), "registered", None, d(2026, 11, 30), kind="accusation"),  # due today, unassigned
        Spec(local(d(2026, 8, 1)), "concluded", "一部", d(2026, 11, 1),  # concluded in the week, late
             concluded=local(d(2026, 11, 25))),
        Spec(local(d(2026, 8, 24)), "replied", "二部", d(2026, 11, 24),  # concluded 23 Nov 00:10: in the week, on time
             concluded=local(d(2026, 11, 23), 0, 10), replies=[ReplySpec(local(d(2026, 11, 26)))]),
        Spec(local(d(2026, 8, 29)), "closed", "一部", d(2026, 11, 29),  # concluded on its due date, late evening
             concluded=local(d(2026, 11, 29), 23, 50),
             replies=[ReplySpec(local(d(2026, 11, 29), 23, 55), "satisfied", local(d(2026, 11, 29), 23, 58))]),
        Spec(local(d(2026, 7, 1)), "closed", "二部", d(2026, 10, 1),  # concluded the evening before the week
             concluded=local(d(2026, 11, 22), 23, 0),
             replies=[ReplySpec(local(d(2026, 9, 30)), "basically", local(d(2026, 10, 2)))]),
        Spec(local(d(2026, 6, 1)), "rated", "一部", d(2026, 9, 1), concluded=local(d(2026, 8, 30)),
             replies=[ReplySpec(local(d(2026, 8, 31)), "satisfied", local(d(2026, 9, 2)))]),
        Spec(local(d(2026, 5, 1)), "closed", "一部", d(2026, 8, 1), concluded=local(d(2026, 5, 30)),
             replies=[ReplySpec(local(d(2026, 6, 1)), "unrated", local(d(2026, 6, 21)))]),
        Spec(local(d(2025, 10, 1)), "closed", "二部", d(2026, 1, 1), concluded=local(d(2025, 12, 30)),
             replies=[ReplySpec(local(d(2025, 12, 31), 23, 30), "dissatisfied", local(d(2026, 1, 1), 0, 5)),
                      ReplySpec(local(d(2026, 1, 1), 0, 10), "satisfied", local(d(2026, 1, 2)))]),
        Spec(local(d(2026, 11, 24)), "transferred", None, d(2027, 2, 24)),  # new, and not open
        Spec(local(d(2026, 9, 24)), "assigned", "一部", d(2026, 12, 24),  # reopened in the week, reassigned since
             replies=[ReplySpec(local(d(2026, 11, 21)), "dissatisfied", local(d(2026, 11, 23), 0, 5))]),
    ]


class Office:
    """Departments, staff (two leaders, the office, a handler, discipline) and four representatives."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness

    async def setup(self, departments: tuple[str, str] = ("第一检察部", "第二检察部")) -> None:
        h = self.h
        self.names = {"一部": departments[0], "二部": departments[1]}
        self.depts = {key: await h.add_department(name) for key, name in self.names.items()}
        self.office_id = await h.add_staff("陈静", ["office"])
        self.leader_id = await h.add_staff("周明", ["leader"])
        self.handler_id = await h.add_staff("刘洋", ["handler"], departments[0])
        self.discipline_id = await h.add_staff("孙磊", ["discipline"])
        self.wang = await h.add_representative("王建国", phone="13800000001")
        self.li = await h.add_representative("李秀梅", body="cppcc", phone="13800000002")
        self.zhang = await h.add_representative("张伟", body="cppcc", phone="13800000003")
        self.liu = await h.add_representative("刘芳", phone="13800000004")
        self.office = await self.bind(self.office_id, "3001")
        self.leader = await self.bind(self.leader_id, "6001")
        self.handler = await self.bind(self.handler_id, "4001")
        self.discipline = await self.bind(self.discipline_id, "5001")
        self.deputy = await self.bind(self.wang, "1001")

    async def bind(self, person_id: int, user_id: str, lang: str = "zh-hans") -> User:
        user = self.h.user(user_id, language_code=lang)
        await user.say(f"/start {await self.h.invite(person_id)}")
        return user

    async def seed(self, specs: list[Spec]) -> None:
        async with self.h.db.transaction() as tx:
            for n, s in enumerate(specs, start=1):
                s.number = f"LS-{s.registered.year}-{n:04d}"
                dept = self.depts[s.dept] if s.dept else None
                referred = s.kind in ("report", "accusation", "appeal")
                matter = await tx.insert(
                    "INSERT INTO matters (number, kind, representative_id, subject, body, complainant_name,"
                    " complainant_contact, state, major, department_id, urger_id, registered_at, due_date, updated_at,"
                    " last_action_at, concluded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING id",
                    (s.number, s.kind, self.wang, SECRET_SUBJECT, BODY, COMPLAINANT if referred else None,
                     COMPLAINANT_PHONE if referred else None, s.state, int(s.major), dept,
                     self.office_id if dept else None, stamp(s.registered), s.due.isoformat(), stamp(s.registered),
                     stamp(s.registered), stamp(s.concluded, micro=True) if s.concluded else None))
                events = [("registered", s.registered)]
                if dept:
                    events.append(("assigned", s.registered))
                if s.notice:
                    events.append(("progress_public", s.notice))
                if s.reassigned:
                    events.append(("assigned", s.reassigned))
                for event, when in events:
                    await tx.execute("INSERT INTO timeline (matter_id, at, event, public, detail) VALUES"
                                     " (?, ?, ?, 1, '{}')", (matter, stamp(when), event))
                for r in s.replies:
                    await tx.execute(
                        "INSERT INTO replies (matter_id, round, kind, body, grounds, via, state, drafted_by,"
                        " drafted_at, sent_at, rating, rated_at) VALUES (?, 1, 'reply', ?, '依据', 'chat', ?, ?,"
                        " ?, ?, ?, ?)",
                        (matter, REPLY_BODY, r.state, self.handler_id, stamp(r.sent), stamp(r.sent) if r.state == "sent" else None,
                         r.rating, stamp(r.rated) if r.rated else None))
            for rep, day in ((self.wang, date(2026, 3, 3)), (self.li, date(2026, 11, 2)), (self.zhang, date(2025, 12, 1))):
                await contacts.add(tx, 1, rep, "forum", day, self.office_id, "", "chat", NOW)


@pytest.fixture
async def office(harness: Harness) -> Office:
    world = Office(harness)
    await world.setup()
    return world


@pytest.fixture
def no_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a server without a CJK font, whatever this machine has installed."""
    monkeypatch.setattr(charts, "font_for", lambda text, candidates=(): None)


# -- what the test expects, derived from the seed alone ------------------------------------------------


@dataclass
class Expected:
    registered: int
    handled: int
    due: int
    on_time: int
    late: int
    due_open: int
    not_concluded: int
    awaiting: int
    soon: list[Spec]
    late_now: list[Spec]
    owing: list[Spec]
    reopened: int
    reopened_now: int
    replies: int
    satisfied: int
    basically: int
    dissatisfied: int


def handled_day(s: Spec) -> date | None:
    """As the measures define it: concluded, else first replied to, else (the transferred matter, seeded
    without its closing moment) registered; never while not concluded."""
    if s.state in NOT_CONCLUDED:
        return None
    sent = [r.sent for r in s.replies if r.state == "sent"]
    return (s.concluded or (min(sent) if sent else s.registered)).astimezone(SHANGHAI).date()


def expect(specs: list[Spec], first: date, last: date, today: date = TODAY) -> Expected:
    in_period = lambda moment: first <= moment.astimezone(SHANGHAI).date() <= last  # noqa: E731
    pending = [s for s in specs if s.state in NOT_CONCLUDED]
    sent = [r for s in specs for r in s.replies if r.state == "sent" and r.sent.year == last.year]
    key = lambda s: (s.due, specs.index(s))  # noqa: E731
    as_of = min(last, today)
    due = [s for s in specs if first <= s.due <= last]
    decided = [(s, h) for s in due if (h := handled_day(s)) is not None and h <= as_of]
    return Expected(
        registered=sum(1 for s in specs if in_period(s.registered)),
        handled=sum(1 for s in specs if (h := handled_day(s)) is not None and first <= h <= as_of),
        due=len(decided) + sum(1 for s in due if (handled_day(s) is None or handled_day(s) > as_of)  # type: ignore[operator]
                               and s.due < as_of),
        on_time=sum(1 for s, h in decided if h <= s.due),
        late=sum(1 for s, h in decided if h > s.due),
        due_open=sum(1 for s in due if (handled_day(s) is None or handled_day(s) > as_of)  # type: ignore[operator]
                     and s.due < as_of),
        not_concluded=len(pending),
        awaiting=sum(1 for s in specs if s.state == "concluded"),
        soon=sorted((s for s in pending if 0 <= (s.due - today).days <= 7), key=key),
        late_now=sorted((s for s in pending if s.due < today), key=key),
        owing=sorted((s for s in pending if s.major and s.state in ("assigned", "in_progress")
                      and (s.due - today).days <= 7
                      and (s.notice is None or (s.reassigned or s.registered) > s.notice)), key=key),
        reopened=sum(1 for s in specs for r in s.replies if r.rating == "dissatisfied" and r.rated and in_period(r.rated)),
        reopened_now=sum(1 for s in specs if s.state == "reopened"),
        replies=len(sent),
        satisfied=sum(1 for r in sent if r.rating == "satisfied"),
        basically=sum(1 for r in sent if r.rating == "basically"),
        dissatisfied=sum(1 for r in sent if r.rating == "dissatisfied"),
    )


def expected_text(world: Office, specs: list[Spec], first: date, last: date, kind: str = "周报") -> str:
    e = expect(specs, first, last)
    rated = e.satisfied + e.basically + e.dissatisfied

    def prefix(s: Spec) -> str:
        dept = world.names[s.dept] if s.dept else "尚未交办"
        return f"{'⚠' if s.major else ''}{s.number} · {KINDS_ZH[s.kind]} · {dept}"

    def soon(s: Spec) -> str:
        left = (s.due - TODAY).days
        return f"{prefix(s)} · 今日到期" if left == 0 else f"{prefix(s)} · {zh_date(s.due)}到期，还剩 {left} 天"

    lines = [
        f"联络工作{kind}（{zh_date(first)}至{zh_date(last)}）",
        f"登记：{e.registered} 件；办结：{e.handled} 件",
        f"到期应办结：{e.due} 件（按期办结 {e.on_time} 件、超期办结 {e.late} 件、到期未办结 {e.due_open} 件），"
        f"按期办结率 {pct(e.on_time, e.due)}",
        f"未办结：{e.not_concluded} 件（逾期未办结 {len(e.late_now)} 件、7日内到期 {len(e.soon)} 件）；"
        f"已办结待答复：{e.awaiting} 件",
        f"应通报而未通报进展（重大疑难复杂事项）：{len(e.owing)} 件",
        f"因不满意重新办理：{e.reopened} 次；目前重新办理中：{e.reopened_now} 件",
        f"2026年满意度：答复 {e.replies} 件，已评价 {rated} 件，参评率 {pct(rated, e.replies)}；满意 {e.satisfied} 件、"
        f"基本满意 {e.basically} 件、不满意 {e.dissatisfied} 件，满意率 {pct(e.satisfied + e.basically, rated)}",
        "2026年联系情况：已联系代表委员 2/4 名，联系覆盖率 50.0%",  # 王建国, 李秀梅 this year; 张伟 last year; 刘芳 never
        "近期活动：无",
        "下次半年联系代表委员工作情况报告报送期限：2026年12月31日",
        "", f"逾期未办结（{len(e.late_now)} 件）：",
        *(f"{prefix(s)} · {zh_date(s.due)}到期，已逾期 {(TODAY - s.due).days} 天" for s in e.late_now),
        "", f"7日内到期（{len(e.soon)} 件）：", *(soon(s) for s in e.soon),
        "", f"应通报而未通报进展（{len(e.owing)} 件）：", *(f"{prefix(s)} · {zh_date(s.due)}到期" for s in e.owing),
    ]
    return "\n".join(lines)


def messages(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.op == "message"]


# -- the figures ------------------------------------------------------------------------------------


async def test_the_weekly_figures_number_by_number(office: Office, no_font: None) -> None:
    specs = seed_specs()
    await office.seed(specs)
    period = digest_figures.scheduled(DigestConfig(), TODAY)[0]
    assert (period.first, period.last, period.key) == (date(2026, 11, 23), date(2026, 11, 29), "digest:week:2026-W49")
    async with office.h.db.snapshot() as q:
        d = await digest_figures.compute(q, UnitScope.of(1), office.h.app.config, period, TODAY)
    e = expect(specs, period.first, period.last)
    # the seed was built so that every figure is something, and the edges of the days count
    assert (e.registered, e.not_concluded, len(e.soon), len(e.late_now), len(e.owing)) == (3, 11, 3, 2, 1)
    assert (e.handled, e.due, e.on_time, e.late, e.due_open, e.awaiting) == (4, 3, 2, 0, 1, 1)
    assert (e.reopened, e.reopened_now) == (2, 1)
    assert (e.replies, e.satisfied, e.basically, e.dissatisfied) == (9, 3, 1, 3)
    assert (d.registered, d.handled, d.not_concluded, d.awaiting_reply) == (e.registered, e.handled, e.not_concluded,
                                                                           e.awaiting)
    t = d.timeliness
    assert (t.due, t.on_time, t.late, t.due_open) == (e.due, e.on_time, e.late, e.due_open)
    assert [m.number for m in d.due_soon] == [s.number for s in e.soon]
    assert [m.number for m in d.overdue] == [s.number for s in e.late_now]
    assert [m.number for m in d.owing_notice] == [s.number for s in e.owing]
    assert (d.reopened, d.reopened_now) == (e.reopened, e.reopened_now)
    s = d.satisfaction
    assert (s.replies, s.satisfied, s.basically, s.dissatisfied) == (e.replies, e.satisfied, e.basically, e.dissatisfied)
    assert (d.year, d.contacted, d.representatives) == (2026, 2, 4)
    assert d.events == [] and d.half_year_due == date(2026, 12, 31)
    assert sum(r.on_time + r.due_soon + r.overdue for r in d.departments) == d.not_concluded  # the chart's bars
    pending = [sp for sp in specs if sp.state in NOT_CONCLUDED]
    for row in d.departments:
        mine = [sp for sp in pending if (office.names[sp.dept] if sp.dept else None) == row.department]
        assert row.overdue == sum(1 for sp in mine if sp.due < TODAY)
        assert row.due_soon == sum(1 for sp in mine if 0 <= (sp.due - TODAY).days <= 7)
        assert row.on_time == sum(1 for sp in mine if (sp.due - TODAY).days > 7)
    assert [r.department for r in d.departments] == ["第一检察部", "第二检察部", None]
    title, text, cut = digest_text.render(Translator("zh_Hans", SHANGHAI), d)
    assert f"{title}\n{text}" == expected_text(office, specs, period.first, period.last)
    assert not cut


async def test_the_half_year_report_date(office: Office) -> None:
    assert digest_figures.half_year_due(date(2026, 1, 1)) == date(2026, 6, 30)
    assert digest_figures.half_year_due(date(2026, 6, 30)) == date(2026, 6, 30)
    assert digest_figures.half_year_due(date(2026, 7, 1)) == date(2026, 12, 31)
    assert digest_figures.half_year_due(date(2026, 12, 31)) == date(2026, 12, 31)


async def test_an_empty_database_gives_a_digest_of_zeros(office: Office, no_font: None) -> None:
    office.h.clock.set(NOW.astimezone(UTC))
    got = messages(await office.leader.say("/digest"))
    assert len(got) == 1 and not got[0].payload["files"]
    assert got[0].text.split("\n")[1:11] == [
        "登记：0 件；办结：0 件", "到期应办结：0 件（按期办结 0 件、超期办结 0 件、到期未办结 0 件），按期办结率 —",
        "未办结：0 件（逾期未办结 0 件、7日内到期 0 件）；已办结待答复：0 件",
        "应通报而未通报进展（重大疑难复杂事项）：0 件", "因不满意重新办理：0 次；目前重新办理中：0 件", "2026年满意度：尚无答复",
        "2026年联系情况：已联系代表委员 0/4 名，联系覆盖率 0.0%", "近期活动：无", "下次半年联系代表委员工作情况报告报送期限：2026年12月31日"]


# -- on demand --------------------------------------------------------------------------------------


async def test_digest_on_demand_for_a_leader_and_the_office(office: Office, no_font: None) -> None:
    specs = seed_specs()
    await office.seed(specs)
    office.h.clock.set(NOW.astimezone(UTC))
    first = TODAY - timedelta(days=6)  # the last seven days, today included
    expected = expected_text(office, specs, first, TODAY)
    assert expect(specs, first, TODAY).registered == 3  # 24-30 Nov: today's matter in, 23 Nov's out
    for user in (office.leader, office.office):
        got = messages(await user.say("/digest"))
        assert [s.text for s in got] == [expected]
    english = await office.bind(await office.h.add_staff("Li Ming", ["leader"]), "6002", "en")
    text = messages(await english.say("/digest"))[0].text
    assert text.startswith("Weekly digest, November 24, 2026 to November 30, 2026\nRegistered: 3; concluded: ")
    assert "Upcoming events: none" in text and "Next half-year report due: December 31, 2026" in text


@pytest.mark.parametrize("who", ["deputy", "handler", "discipline"])
async def test_digest_is_refused_to_others_and_changes_nothing(office: Office, who: str) -> None:
    await office.seed(seed_specs())
    user: User = getattr(office, who)
    tables = ("matters", "replies", "timeline", "dialogs", "reminders", "contacts", "outbox")
    before = await office.h.dump(*tables)
    got = messages(await user.say("/digest"))
    assert [s.text for s in got] == ["此功能仅供院领导和办公室使用。"]
    after = await office.h.dump(*tables)
    assert {t: rows for t, rows in after.items() if t != "outbox"} == {t: r for t, r in before.items() if t != "outbox"}
    assert len(after["outbox"]) == len(before["outbox"]) + 1  # the refusal, and nothing else
    async with office.h.db.snapshot() as q:
        row = await q.one("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")
    assert row["action"] == "refused:digest"


async def test_help_names_digest_for_leaders_and_the_office_only(office: Office) -> None:
    line = "/digest — 近7日工作摘要：登记、办结、未办结、逾期未办结和7日内到期事项，满意度，联系情况，附图表"
    assert line in messages(await office.leader.say("/help"))[0].text
    assert line in messages(await office.office.say("/help"))[0].text
    assert "/digest" not in messages(await office.handler.say("/help"))[0].text
    assert "/digest" not in messages(await office.deputy.say("/help"))[0].text


# -- the schedule ------------------------------------------------------------------------------------


async def tick(h: Harness, moment: datetime) -> dict[str, int]:
    h.clock.set(moment.astimezone(UTC))
    result = await h.app.supervise()
    await h.app.settle()
    return {rule: n for rule, n in result.fired.items() if rule.startswith("digest")}


async def digest_rows(h: Harness) -> list[tuple[str, date]]:
    async with h.db.snapshot() as q:
        rows = await q.all("SELECT key, fired_at FROM reminders WHERE rule LIKE 'digest%' ORDER BY fired_at, key")
    return [(r["key"], datetime.fromisoformat(r["fired_at"]).astimezone(SHANGHAI)) for r in rows]


def titles(user: User) -> list[str]:
    return [s.text.split("\n", 1)[0] for s in messages(user.received) if s.text.startswith("联络工作")]


async def test_weekly_on_monday_and_monthly_on_the_first_once_each_in_working_time(office: Office, no_font: None) -> None:
    h = office.h
    await office.seed(seed_specs())
    # the first tick after installation sends the digests due before it: this week's and this month's
    assert await tick(h, local(date(2026, 11, 27), 9)) == {"digest_week": 1, "digest_month": 1}
    assert await tick(h, local(date(2026, 11, 27), 10)) == {}
    assert await tick(h, local(date(2026, 11, 30), 8, 0)) == {}  # Monday, before working time
    assert await tick(h, local(date(2026, 11, 30), 8, 29)) == {}
    assert await tick(h, local(date(2026, 11, 30), 8, 30)) == {"digest_week": 1}
    assert await tick(h, local(date(2026, 11, 30), 15)) == {}
    assert await tick(h, local(date(2026, 12, 1), 8, 30)) == {"digest_month": 1}  # Tuesday the 1st
    assert await tick(h, local(date(2026, 12, 2), 9)) == {}
    assert await tick(h, local(date(2026, 12, 7), 8, 30)) == {"digest_week": 1}
    assert titles(office.leader) == [
        "联络工作周报（2026年11月16日至2026年11月22日）", "联络工作月报（2026年10月1日至2026年10月31日）",
        "联络工作周报（2026年11月23日至2026年11月29日）", "联络工作月报（2026年11月1日至2026年11月30日）",
        "联络工作周报（2026年11月30日至2026年12月6日）"]
    # to leaders only
    for user in (office.office, office.handler, office.discipline, office.deputy):
        assert titles(user) == []
    # the scheduled weekly digest is the figures of its week
    week = [s for s in messages(office.leader.received) if s.text.startswith("联络工作周报（2026年11月23日")][0]
    assert week.text == expected_text(office, seed_specs_numbered(), date(2026, 11, 23), date(2026, 11, 29))


def seed_specs_numbered() -> list[Spec]:
    specs = seed_specs()
    for n, s in enumerate(specs, start=1):
        s.number = f"LS-{s.registered.year}-{n:04d}"
    return specs


async def test_a_holiday_monday_and_a_holiday_first_wait_for_the_next_working_day(office: Office,
                                                                                   no_font: None) -> None:
    """National Day 2026: 1-7 October off, so Thursday 1 October's monthly and Monday 5 October's weekly digest
    go out on Thursday 8 October at 08:30; and nothing twice, ticking every hour at half past."""
    h = office.h
    moment = local(date(2026, 9, 28), 0, 30)
    while moment < local(date(2026, 10, 13), 0, 0):
        await tick(h, moment)
        moment += timedelta(hours=1)
    got = [(key, when.strftime("%m-%d %H:%M")) for key, when in await digest_rows(h)]
    assert got == [("digest:month:2026-09", "09-28 08:30"), ("digest:week:2026-W40", "09-28 08:30"),
                   ("digest:month:2026-10", "10-08 08:30"), ("digest:week:2026-W41", "10-08 08:30"),
                   ("digest:week:2026-W42", "10-12 08:30")]
    assert titles(office.leader)[2:] == [
        "联络工作周报（2026年9月28日至2026年10月4日）", "联络工作月报（2026年9月1日至2026年9月30日）",
        "联络工作周报（2026年10月5日至2026年10月11日）"]


async def test_the_days_of_the_schedule_are_configurable(office: Office) -> None:
    friday = DigestConfig(weekly_day=5, monthly_day=15)
    week, month = digest_figures.scheduled(friday, date(2026, 11, 30))  # a Monday: the latest Friday was 27 November
    assert (week.sent, week.first, week.last, week.key) == (date(2026, 11, 27), date(2026, 11, 20),
                                                             date(2026, 11, 26), "digest:week:2026-W48")
    assert (month.sent, month.first, month.last, month.key) == (date(2026, 11, 15), date(2026, 10, 15),
                                                                 date(2026, 11, 14), "digest:month:2026-11")
    week, month = digest_figures.scheduled(DigestConfig(weekly_day=7, monthly_day=28), date(2027, 3, 1))  # Sunday, 28 Feb
    assert (week.sent, month.sent, month.first) == (date(2027, 2, 28), date(2027, 2, 28), date(2027, 1, 28))


# -- Telegram's limits ----------------------------------------------------------------------------------


async def test_long_lists_are_cut_to_ten_with_the_whole_list_attached(office: Office, no_font: None) -> None:
    specs = [Spec(local(date(2026, 8, 1) + timedelta(days=i)), "assigned", "一部" if i % 2 else "二部",
                  date(2026, 11, 1) + timedelta(days=i), major=i % 3 == 0) for i in range(25)]
    specs += [Spec(local(date(2026, 9, 1)), "in_progress", "一部", TODAY + timedelta(days=i)) for i in (1, 2, 3)]
    await office.seed(specs)
    office.h.clock.set(NOW.astimezone(UTC))
    got = messages(await office.leader.say("/digest"))
    assert len(got) == 1
    lines = got[0].text.split("\n")
    late = sorted((s for s in specs if s.due < TODAY), key=lambda s: s.due)
    start = lines.index(f"逾期未办结（{len(late)} 件）：")
    assert lines[start + 1:start + 12] == [
        *(f"{'⚠' if s.major else ''}{s.number} · 举报 · {office.names[s.dept or '']} · {zh_date(s.due)}到期，已逾期 "
          f"{(TODAY - s.due).days} 天" for s in late[:10]), "……另有 15 件"]
    assert lines[-1] == "完整清单见附件。"
    files = got[0].payload["files"]
    assert [(name, kind) for _path, name, kind in files] == [("工作摘要事项清单（2026年11月30日）.csv", "document")]
    rows = list(csv.reader(io.StringIO(Path(files[0][0]).read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["清单", "编号", "类别", "重大疑难复杂", "承办部门", "办理期限", "距办理期限天数（负数为已逾期天数）"]
    owing = sorted((s for s in specs if s.major and (s.due - TODAY).days <= 7), key=lambda s: s.due)
    assert [r[1] for r in rows[1:] if r[0] == "逾期未办结"] == [s.number for s in late]
    assert [r[1] for r in rows[1:] if r[0] == "7日内到期"] == [s.number for s in specs[25:]]
    assert [r[1] for r in rows[1:] if r[0] == "应通报而未通报进展"] == [s.number for s in owing]
    assert all(int(r[6]) == (date.fromisoformat(r[5]) - TODAY).days for r in rows[1:])
    assert rows[1][4] in office.names.values() and rows[1][3] in ("是", "")


async def test_the_digest_fits_one_message_however_long_the_names(harness: Harness, no_font: None) -> None:
    world = Office(harness)
    await world.setup(("第一检察部" * 20, "第二检察部" * 20))  # 100-character department names
    specs = [Spec(local(date(2026, 8, 1)), "assigned", "一部" if i % 2 else "二部", date(2026, 11, 1) + timedelta(days=i % 28),
                  major=True) for i in range(60)]
    specs += [Spec(local(date(2026, 9, 1)), "assigned", "二部", TODAY + timedelta(days=i % 7)) for i in range(30)]
    await world.seed(specs)
    harness.clock.set(NOW.astimezone(UTC))
    sent = messages(await world.leader.say("/digest"))[0]
    whole = f"{sent.payload['title']}\n{sent.payload['text']}"
    assert len(whole.encode("utf-16-le")) // 2 <= 4000  # one Telegram message (4096), with room for the markup
    assert "……另有" in whole and whole.endswith("完整清单见附件。")
    rows = list(csv.reader(io.StringIO(Path(sent.payload["files"][0][0]).read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 1 + 60 + 30 + 60  # overdue, due soon and owing a notice, every one of them


# -- the chart --------------------------------------------------------------------------------------


def test_the_chart_is_drawn_with_the_font_it_is_given() -> None:
    """Always exercised: matplotlib's own DejaVu Sans, on labels it has every glyph of."""
    png = charts.stacked_bars("Matters not yet concluded, by department", ["First", "Second", "Not yet assigned"],
                              [charts.Series("Within the time limit", [3, 1, 0], "#4c9a2a"),
                               charts.Series("Due within 7 days", [1, 0, 2], "#e8a317"),
                               charts.Series("Overdue", [2, 5, 0], "#c0392b")], "DejaVu Sans", "Number of matters")
    assert png.startswith(PNG)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.width >= 600 and image.height >= 200
    with pytest.raises(ValueError):
        charts.stacked_bars("x", ["a"], [charts.Series("s", [1], "#000000")], "No Such Font At All")


def test_a_font_is_chosen_only_when_it_has_every_character() -> None:
    assert charts.font_for("Dept 1 0123456789", ("DejaVu Sans",)) == "DejaVu Sans"
    assert charts.font_for("第一检察部", ("DejaVu Sans",)) is None  # no boxes instead of characters
    assert charts.font_for("第一检察部", ("Last Resort High-Efficiency", "DejaVu Sans")) is None  # boxes for all
    assert charts.font_for("第一检察部", ("No Such Font",)) is None


def test_the_chart_keeps_to_twenty_bars_and_short_labels() -> None:
    rows = [DepartmentLoad(f"Department number {i}", i % 4, i % 3, i % 5) for i in range(25)]
    rows.append(DepartmentLoad(None, 2, 1, 0))
    title, categories, series, axis = digest.chart_labels(Translator("en", SHANGHAI), TODAY, rows)
    assert 20 <= len(categories) <= 30 and categories[-1] == "Other departments"
    assert all(len(c) <= 16 for c in categories[:-1]) and categories[0] == "Department numb…"
    for stack, field_ in zip(series, ("on_time", "due_soon", "overdue"), strict=True):
        assert sum(stack.values) == sum(getattr(r, field_) for r in rows)  # nothing lost in "other"
    # the most pressing first: by overdue, then due soon, then size — not by size alone
    overdue = series[2].values[:-1]
    assert list(overdue) == sorted(overdue, reverse=True) and overdue[0] == 4
    assert min(overdue) >= max(r.overdue for r in rows if f"{r.department}"[:15] + "…" not in categories)
    totals = [sum(v) for v in zip(*(s.values for s in series), strict=True)]
    assert totals[-1] <= max(totals[:-1])  # 其他 never longer than the busiest department's
    assert title == "Matters not yet concluded, by department, November 30, 2026" and axis == "Number of matters"
    assert charts.stacked_bars(title, categories, series, "DejaVu Sans", axis).startswith(PNG)


def test_more_departments_get_a_bar_rather_than_other_outgrow_the_busiest() -> None:
    """A province: fifty departments of about the same size. Folding thirty-one of them would make 其他部门
    the longest bar by far; as many more get their own bar as CHART_MAX allows, and the rest is said below."""
    from handlers.reports import digest_chart

    even = [DepartmentLoad(f"部门{i}", 10, 2, 1 if i < 5 else 0) for i in range(50)]
    own, other, left_out = digest_chart.fold(even)
    assert other is None and len(own) == digest_chart.CHART_MAX - 1 and len(left_out) == 50 - len(own)
    assert {r.department for r in own[:5]} == {f"部门{i}" for i in range(5)}  # the overdue first
    _title, categories, _series, axis = digest.chart_labels(Translator("zh_Hans", SHANGHAI), TODAY, even)
    assert len(categories) == digest_chart.CHART_MAX - 1
    assert axis == "事项数（件）\n另有21个部门共252件未列出，其逾期未办结件数均不多于图中所列部门"
    few_big = [DepartmentLoad("大部", 200, 0, 0)] + [DepartmentLoad(f"小部{i}", 3, 0, 0) for i in range(30)]
    own, other, left_out = digest_chart.fold(few_big)
    assert len(own) == digest_chart.CHART_ROWS - 1 and other is not None and not left_out
    assert digest_chart.size(other) == 3 * 12 <= 200


def test_a_segment_too_thin_for_its_number_carries_none() -> None:
    """4 beside 19 on a bar of 3 000 must not read as 419: the thin segments carry no number, the bar its total."""
    from matplotlib.figure import Figure  # what bot/charts.py draws on (imported there when a chart is drawn)

    series = [charts.Series("a", [3000, 5], "#4c9a2a"), charts.Series("b", [4, 5], "#e8a317"),
              charts.Series("c", [19, 5], "#c0392b")]
    texts: list[str] = []
    original = Figure.savefig

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        texts.extend(t.get_text().strip() for ax in self.axes for t in ax.texts)
        original(self, *args, **kwargs)

    Figure.savefig = spy  # type: ignore[method-assign]
    try:
        charts.stacked_bars("t", ["x", "y"], series, "DejaVu Sans")
    finally:
        Figure.savefig = original  # type: ignore[method-assign]
    assert "3000" in texts and "3023" in texts and "15" in texts  # the wide segment, and each total
    assert "4" not in texts and "19" not in texts  # too thin beside 3 000


async def test_without_a_cjk_font_the_digest_goes_without_its_chart_and_one_warning(
        office: Office, no_font: None, caplog: pytest.LogCaptureFixture) -> None:
    await office.seed(seed_specs())
    office.h.clock.set(NOW.astimezone(UTC))
    with caplog.at_level(logging.WARNING, logger="handlers.reports.digest"):
        got = messages(await office.leader.say("/digest"))
    assert len(got) == 1 and got[0].payload["files"] == [] and got[0].text.startswith("联络工作周报")
    warnings = [r for r in caplog.records if r.name == "handlers.reports.digest"]
    assert len(warnings) == 1 and "fonts-noto-cjk" in warnings[0].getMessage()


async def test_with_a_font_the_chart_goes_with_the_digest_as_a_photo(
        harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The font lookup forced to matplotlib's DejaVu Sans, so English labels and departments are drawn here
    whatever fonts this machine has."""
    monkeypatch.setattr(charts, "font_for", lambda text, candidates=(): "DejaVu Sans")
    world = Office(harness)
    await world.setup(("First Department", "Second Department"))
    await world.seed(seed_specs())
    leader = await world.bind(await harness.add_staff("Li Ming", ["leader"]), "6002", "en")
    harness.clock.set(NOW.astimezone(UTC))
    with caplog.at_level(logging.WARNING, logger="handlers.reports.digest"):
        got = messages(await leader.say("/digest"))
    assert [(name, kind) for _path, name, kind in got[0].payload["files"]] == [("Digest chart, November 30, 2026.png", "photo")]
    path = Path(got[0].payload["files"][0][0])
    assert path.is_relative_to(harness.app.config.storage.files_dir / "cache" / "digest")
    data = path.read_bytes()
    assert data.startswith(PNG)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
    assert not [r for r in caplog.records if r.name == "handlers.reports.digest"]


@pytest.mark.skipif(charts.font_for("第一检察部未办结事项") is None, reason="no CJK font installed (fonts-noto-cjk)")
async def test_with_a_cjk_font_installed_the_chinese_chart_is_drawn(office: Office) -> None:
    await office.seed(seed_specs())
    office.h.clock.set(NOW.astimezone(UTC))
    got = messages(await office.leader.say("/digest"))
    files = got[0].payload["files"]
    assert [(name, kind) for _path, name, kind in files] == [("工作摘要图表（2026年11月30日）.png", "photo")]
    assert Path(files[0][0]).read_bytes().startswith(PNG)


# -- no personal data --------------------------------------------------------------------------------


async def test_no_complainant_nor_anyone_else_in_the_digest(office: Office, no_font: None) -> None:
    specs = seed_specs() + [Spec(local(date(2026, 8, 1) + timedelta(days=i)), "assigned", "一部",
                                 date(2026, 11, 1) + timedelta(days=i)) for i in range(15)]
    await office.seed(specs)
    await tick(office.h, local(TODAY, 9))
    office.h.clock.set(NOW.astimezone(UTC))
    await office.leader.say("/digest")
    sent = [s for s in messages(office.leader.received) if s.text.startswith("联络工作")]
    assert len(sent) == 3  # weekly and monthly by the schedule, and on demand
    contents = [s.text for s in sent]
    contents += [Path(f[0]).read_bytes().decode("utf-8-sig") for s in sent for f in s.payload["files"]]
    assert any(f[2] == "document" for s in sent for f in s.payload["files"])  # the list, checked too
    for text in contents:
        for secret in (COMPLAINANT, COMPLAINANT_PHONE, SECRET_SUBJECT, BODY, REPLY_BODY, "王建国", "13800000001"):
            assert secret not in text


async def test_upcoming_events_are_listed_in_the_digest(harness: Harness) -> None:
    """SPEC §7: the digest names the events coming (from the events table), in the unit's time zone."""
    from storage import digest as queries

    async with harness.db.transaction() as tx:
        for title, starts, state in (("代表座谈会", "2026-12-03T01:30:00.000+00:00", "planned"),
                                     ("已取消的视察", "2026-12-04T01:30:00.000+00:00", "cancelled"),
                                     ("年底工作汇报会", "2026-12-31T16:30:00.000+00:00", "planned")):
            await tx.execute("INSERT INTO events (kind, title, starts_at, place, audience, created_at, state)"
                             " VALUES ('forum', ?, ?, '本院', 'all', '2026-11-27', ?)", (title, starts, state))
    tz = harness.app.config.unit.tz
    async with harness.db.snapshot() as q:
        found = await queries.upcoming_events(q, UnitScope.of(1), datetime(2026, 12, 1, tzinfo=tz), datetime(2027, 1, 1, tzinfo=tz), tz)
    assert [(e.day, e.title) for e in found] == [(date(2026, 12, 3), "代表座谈会")]  # 1 Jan in Shanghai: outside


async def test_on_wecom_the_digest_uses_wecoms_budget_and_arrives_whole_in_line_split_parts(
        harness: Harness, no_font: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: the length budget is the reader's channel's, not Telegram's constant. On WeCom (2 048 bytes
    a message, split at lines into at most 6, bot/channels/wecom.py TRAITS) the same digest lists more than
    one Telegram message holds, and the channel's split gives every line whole, in order."""
    from bot import messages as channel_messages
    from bot.channels.wecom import TRAITS
    from bot.channels.wecom_text import MAX_TEXT_BYTES, split_bytes

    world = Office(harness)
    await world.setup(("第一检察部" * 20, "第二检察部" * 20))
    specs = [Spec(local(date(2026, 8, 1)), "assigned", "一部" if i % 2 else "二部", date(2026, 11, 1) + timedelta(days=i % 28),
                  major=True) for i in range(60)]
    specs += [Spec(local(date(2026, 9, 1)), "assigned", "二部", TODAY + timedelta(days=i % 7)) for i in range(30)]
    await world.seed(specs)
    harness.clock.set(NOW.astimezone(UTC))
    on_telegram = messages(await world.leader.say("/digest"))[0]
    monkeypatch.setitem(channel_messages._TRAITS, harness.channel.name, TRAITS)  # the leader's chat is on WeCom
    on_wecom = messages(await world.leader.say("/digest"))[0]
    whole = f"{on_wecom.payload['title']}\n{on_wecom.payload['text']}"
    telegram_whole = f"{on_telegram.payload['title']}\n{on_telegram.payload['text']}"
    assert len(telegram_whole.encode("utf-16-le")) // 2 <= 4000 < len(whole.encode("utf-8"))
    assert whole.count("\n") > telegram_whole.count("\n")  # more listed: WeCom delivers it in parts
    parts = split_bytes(whole)
    assert 1 < len(parts) <= 6 and all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)
    assert "\n".join(parts) == whole  # split at line boundaries only, every line whole, in order
    assert whole.endswith("完整清单见附件。")
