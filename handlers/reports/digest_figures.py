"""The figures of the leadership digest (SPEC §7, seed §8, §17): the days a digest reports on (`Period`:
the week, the month, or the last seven days on demand) and every figure of it (`Digest`), computed from
the database with the measures of handlers/reports/measures.py. What is said of them is digest_text.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.config import Config, DigestConfig
from bot.domain import add_months
from bot.matter.states import State
from bot.model import UnitScope
from handlers.reports import measures, figures as reports
from handlers.reports.measures import Satisfaction, Span, Timeliness
from storage import contacts, digest as queries, people, reports as report_store, units
from storage.db import Tx
from storage.digest import DepartmentLoad, DueItem, UpcomingEvent
from storage.reports import MatterFacts

LIST_LIMIT: Final = 10  # matters listed per section; the rest are counted and attached
SOON_DAYS: Final = 7


@dataclass(frozen=True)
class Period:
    """The days a digest reports on, both included; `sent` is the day it was scheduled for."""

    kind: str  # "week" | "month"
    first: date
    last: date
    sent: date

    @property
    def key(self) -> str:
        if self.kind == "week":
            iso = self.sent.isocalendar()
            return f"digest:week:{iso.year}-W{iso.week:02d}"
        return f"digest:month:{self.sent:%Y-%m}"


@dataclass(frozen=True)
class Digest:
    """The figures of a digest: measures of handlers/reports/measures.py over the period (as of its last day),
    the state of things `today`, and satisfaction and contacts over the year so far."""

    period: Period
    today: date
    registered: int  # 登记 in the period
    handled: int  # 办结 in the period
    timeliness: Timeliness  # 到期应办结 in the period
    not_concluded: int  # 未办结 now
    awaiting_reply: int  # 已办结待答复 now
    due_soon: list[DueItem]  # 7日内到期
    overdue: list[DueItem]  # 逾期未办结 now
    owing_notice: list[DueItem]  # 应通报而未通报进展 now
    reopened: int  # 因不满意重新办理 in the period
    reopened_now: int  # being handled again now
    year: int  # of the year-so-far figures below
    satisfaction: Satisfaction  # 答复 sent in the year so far
    contacted: int  # 已联系代表委员 in the year so far
    representatives: int
    events: list[UpcomingEvent]
    half_year_due: date
    departments: list[DepartmentLoad]  # 未办结 now, by department: they add up to `not_concluded`
    units: list[UnitLine] = field(default_factory=list)  # a roll-up's (a city's with its counties): a line each


@dataclass(frozen=True)
class UnitLine:
    """One unit's figures in a roll-up: they add up to the digest's own."""

    name: str
    registered: int
    handled: int
    not_concluded: int
    overdue: int


def half_year_due(today: date) -> date:
    """The next half-year work summary is due on 30 June or 31 December (seed §17)."""
    june = date(today.year, 6, 30)
    return june if today <= june else date(today.year, 12, 31)


def scheduled(config: DigestConfig, today: date) -> list[Period]:
    """The latest weekly and monthly digest due on or before today: the seven days, and the month, before it."""
    weekly = today - timedelta(days=(today.isoweekday() - config.weekly_day) % 7)
    monthly = date(today.year, today.month, config.monthly_day)
    if today < monthly:
        monthly = add_months(monthly, -1)
    return [Period("week", weekly - timedelta(days=7), weekly - timedelta(days=1), weekly),
            Period("month", add_months(monthly, -1), monthly - timedelta(days=1), monthly)]


def on_demand(today: date) -> Period:
    """/digest: the last seven days, today included."""
    return Period("week", today - timedelta(days=6), today, today)


async def compute(q: Tx, scope: UnitScope, config: Config, period: Period, today: date) -> Digest:
    """Every figure of the scope's digest for `period`, with the state of the matters as it is `today`."""
    tz = config.unit.tz
    span = Span(period.first, period.last, min(period.last, today), tz)
    facts = await reports.span_facts(q, scope, span)
    names = await people.department_names(q, scope)
    start, end = reports.window(period.first, period.last, tz)
    year = period.last.year
    ratings = await report_store.ratings(q, scope, *reports.window(date(year, 1, 1), date(year, 12, 31), tz))
    coverage = await contacts.coverage(q, scope, year)
    horizon = today + timedelta(days=SOON_DAYS) if period.kind == "week" else add_months(today, 1)
    pending = measures.not_concluded(facts, today, tz)

    def items(found: list[MatterFacts]) -> list[DueItem]:
        return [DueItem(m.number, m.kind, names.get(m.department_id) if m.department_id else None, m.due_date,
                        m.major) for m in found]

    return Digest(
        period=period,
        today=today,
        registered=len(measures.registered(facts, span)),
        handled=len(measures.handled(facts, span)),
        timeliness=measures.timeliness(facts, span),
        not_concluded=len(pending),
        awaiting_reply=sum(1 for m in facts if m.state == State.CONCLUDED),
        due_soon=items(measures.due_soon(pending, today, SOON_DAYS, tz)),
        overdue=items(measures.overdue(pending, today, tz)),
        owing_notice=items(measures.owing_notice(facts, today, config.supervision.major_notice_days)),
        reopened=sum((await report_store.dissatisfied(q, scope, start, end)).values()),
        reopened_now=sum(1 for m in facts if m.state == State.REOPENED),
        year=year,
        satisfaction=measures.satisfaction(ratings),
        contacted=coverage.contacted,
        representatives=coverage.total,
        events=await queries.upcoming_events(q, scope, _local_start(today, tz), _local_start(horizon + timedelta(days=1), tz),
                                             tz),
        half_year_due=half_year_due(today),
        departments=load_by_department(pending, names, today),
        units=await _by_unit(q, scope, facts, span, pending, today) if len(scope.reads) > 1 else [],
    )


async def _by_unit(q: Tx, scope: UnitScope, facts: list[MatterFacts], span: Span, pending: list[MatterFacts],
                   today: date) -> list[UnitLine]:
    """A roll-up's line per unit, the acting unit first: the same measures over each unit's matters."""
    family = [u for u in await units.listed(q) if u.id in scope.reads]
    family.sort(key=lambda u: (u.id != scope.unit, u.id))

    def of(found: list[MatterFacts], unit: int) -> list[MatterFacts]:
        return [m for m in found if m.unit_id == unit]

    return [UnitLine(u.name, len(measures.registered(of(facts, u.id), span)), len(measures.handled(of(facts, u.id), span)),
                     len(of(pending, u.id)), len(measures.overdue(of(pending, u.id), today, span.tz)))
            for u in family]


def load_by_department(pending: list[MatterFacts], names: dict[int, str], today: date) -> list[DepartmentLoad]:
    """未办结 now per department (by id; the unassigned last): within the time limit, 7日内到期, 逾期未办结.
    Departments with none are left out."""
    rows: dict[int | None, list[int]] = {}
    for m in pending:
        row = rows.setdefault(m.department_id, [0, 0, 0])
        left = (m.due_date - today).days
        row[2 if left < 0 else 1 if left <= SOON_DAYS else 0] += 1
    order = sorted(rows, key=lambda d: (d is None, d or 0))
    return [DepartmentLoad(names.get(d) if d is not None else None, *rows[d]) for d in order]


def _local_start(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of a local day, as an aware moment."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)

