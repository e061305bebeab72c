"""The figures of the half-year report to the higher procuratorate (seed §17) and of the yearly
performance assessment (seed §19), as plain dataclasses; handlers/reports/report_text.py and
assessment_text.py word them and bot/office_files.py writes them out.

Every period is a span of the unit's local days (Asia/Shanghai by default): a matter registered at
23:30 on 30 June belongs to the first half. Every figure is a measure of handlers/reports/measures.py, counted
by its rule there — the same rule the leadership digest uses — over the span, as of the period's last
day or today if earlier (`as_of`).

No figure carries a matter's text or a complainant's personal data (SPEC §1).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.contacts_file import METHODS
from bot.domain import KINDS, OUTCOMES, days_overdue
from bot.matter.states import STATES, State
from bot.model import UnitScope
from handlers.reports import measures
from handlers.reports.measures import Rate, Satisfaction, Span, Timeliness, local_day
from storage import audit, contacts, people, reports
from storage.contacts import Coverage
from storage.db import Tx
from storage.reports import MatterFacts, RegisterEntry
from storage.units import Unit

__all__ = ["AssessmentFigures", "DepartmentFigures", "Disposition", "EventRow", "HalfYear", "HalfYearFigures",
           "OverdueMatter", "PeriodError", "Rate", "Satisfaction", "StaffFigures", "Timeliness", "assessment",
           "half_year", "parse_year", "window"]

_PERIOD = re.compile(r"^(\d{4})H([12])$")


class PeriodError(ValueError):
    """Not a half-year (2026H1, 2026H2) or a year the reports can cover."""


@dataclass(frozen=True, order=True)
class HalfYear:
    year: int
    half: int  # 1: January to June, 2: July to December

    @classmethod
    def parse(cls, text: str) -> HalfYear:
        match = _PERIOD.match(text.strip().upper())
        if not match or not 2000 <= int(match.group(1)) <= 2099:
            raise PeriodError(text)
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> HalfYear:
        return cls(day.year, 1 if day.month <= 6 else 2)

    @property
    def code(self) -> str:
        return f"{self.year}H{self.half}"

    @property
    def first(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last(self) -> date:
        """The period's last day, which is also the day its report is due (§17)."""
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)


def parse_year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text.strip()) or not 2000 <= int(text) <= 2099:
        raise PeriodError(text)
    return int(text)


def window(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local days first..last as the moments [start, end)."""
    return (datetime.combine(first, time(), tzinfo=tz), datetime.combine(last + timedelta(days=1), time(), tzinfo=tz))


# -- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disposition:
    """What became of the matters registered in the period, as of the report's day: 办结 (transfers
    included, and counted apart too) and 未办结; the two add up to those registered."""

    handled: int = 0
    transferred: int = 0
    not_concluded: int = 0


@dataclass(frozen=True)
class UnitRow:
    """One unit's line in a roll-up's half-year report (a city's, with its counties): the same measures over its
    own matters and representatives; the lines add up to the report's figures."""

    name: str
    registered: int
    handled: int
    due: int
    on_time: int
    not_concluded: int
    overdue: int
    representatives: int
    contacted: int


@dataclass(frozen=True)
class OverdueMatter:
    number: str
    kind: str
    department: str  # "" when not assigned
    due_date: date
    days: int  # overdue by, at the report's day


@dataclass(frozen=True)
class EventRow:
    """An event held with representatives (§5, §15), once events are recorded."""

    day: date
    name: str
    kind: str
    representatives: int
    supervisors: int


@dataclass(frozen=True)
class HalfYearFigures:
    period: HalfYear
    as_of: date
    unit: str
    contacts_by_method: dict[str, int]  # every method, in METHODS order
    coverage: Coverage  # in the period
    year_coverage: Coverage | None  # the second half: the whole calendar year (§11)
    by_kind: dict[str, int]  # 登记 (registered-in), every kind
    disposition: Disposition  # of those, as of the report's day
    by_state: dict[str, int]  # of those, their state when the report is drawn, every state
    by_outcome: dict[str, int]  # of those, their outcome class; "" for none yet
    handled: int  # 办结 (handled-in), whenever registered
    timeliness: Timeliness  # 到期应办结 (due-in)
    satisfaction: Satisfaction  # 答复 (sent-in)
    reopened: int  # 因不满意重新办理 (rated-in)
    extensions: dict[str, int]  # requested in the period: approved, refused, pending
    transfers: list[tuple[str, int]]  # 移送 (transferred-in), by competent authority
    not_concluded: int  # 未办结 as of the report's day, whenever registered
    overdue: list[OverdueMatter]  # 逾期未办结 as of the report's day, whenever due
    urgings: tuple[int, int]  # (urgings, matters urged) in the period
    stale: tuple[int, int]  # (flags, matters flagged) in the period
    major_cases: list[RegisterEntry]
    protests: list[RegisterEntry]
    supervisors: int
    events: list[EventRow] = field(default_factory=list)  # held in the period, with attendance
    audit_head: tuple[int, str] | None = None  # (entries, newest hash) when drawn: anchors the log (storage/audit.py)
    units: list[UnitRow] = field(default_factory=list)  # a roll-up's line per unit (the unit first); empty for one

    @property
    def registered(self) -> int:
        return sum(self.by_kind.values())

    @property
    def contacts(self) -> int:
        return sum(self.contacts_by_method.values())

    @property
    def transferred(self) -> int:
        return sum(n for _authority, n in self.transfers)


@dataclass(frozen=True)
class DepartmentFigures:
    name: str
    registered: int  # 登记 in the year, with this department now
    handled: int  # 办结 in the year
    average_days: float | None  # from registration to handling, over those handled in the year
    timeliness: Timeliness  # 到期应办结 in the year
    satisfaction: Satisfaction  # 答复 sent in the year
    reopened: int  # 因不满意重新办理: 不满意 ratings of its matters in the year
    stale_flags: int


@dataclass(frozen=True)
class StaffFigures:
    name: str
    department: str
    roles: tuple[str, ...]
    contacts: int
    urgings: int
    urged_matters: int


@dataclass(frozen=True)
class AssessmentFigures:
    year: int
    as_of: date
    unit: str
    departments: list[DepartmentFigures]  # each department, then "" for matters with none, when any
    total: DepartmentFigures
    staff: list[StaffFigures]


# -- the rules: handlers/reports/measures.py ------------------------------------------------------------


def _events_of(found: dict[int | None, tuple[int, int]], department: int | None, everything: bool = False) -> int:
    if everything:
        return sum(n for n, _matters in found.values())
    return found.get(department, (0, 0))[0]


async def span_facts(q: Tx, scope: UnitScope, span: Span) -> list[MatterFacts]:
    """The facts every measure of the span may need, of the scope's matters (storage/reports.py `facts`)."""
    start, end = window(span.first, span.last, span.tz)
    return await reports.facts(q, scope, start, end, span.first, span.last)


async def half_year(q: Tx, scope: UnitScope, period: HalfYear, today: date, tz: ZoneInfo, unit: str,
                    family: Sequence[Unit] = ()) -> HalfYearFigures:
    """Compute the half-year report's figures as of `today` (a period not begun yet: PeriodError); with a
    `family` of several units (a roll-up: `scope` reads them all), a line per unit too."""
    if today < period.first:
        raise PeriodError(period.code)
    first, last = period.first, period.last
    span = Span(first, last, min(last, today), tz)
    start, end = window(first, last, tz)
    facts = await span_facts(q, scope, span)
    departments = await people.department_names(q, scope)
    cohort = measures.registered(facts, span)
    moved = Counter(m.transferred_to or "" for m in measures.transferred(facts, span))
    cohort_handled = [m for m in cohort if measures.handled_by(m, span.as_of, tz)]
    overdue = [OverdueMatter(m.number, m.kind, departments.get(m.department_id or 0, ""), m.due_date,
                             days_overdue(m.due_date, span.as_of)) for m in measures.overdue(facts, span.as_of, tz)]
    by_method = await reports.contacts_by_method(q, scope, first, last)
    entries = await reports.entries_between(q, scope, first, last)
    return HalfYearFigures(
        period=period, as_of=span.as_of, unit=unit,
        contacts_by_method={m: by_method.get(m, 0) for m in METHODS},
        coverage=await contacts.coverage_between(q, scope, first, last),
        year_coverage=await contacts.coverage_between(q, scope, date(period.year, 1, 1), last) if period.half == 2 else None,
        by_kind={k: sum(1 for m in cohort if m.kind == k) for k in KINDS},
        disposition=Disposition(len(cohort_handled), sum(1 for m in cohort_handled if m.state == State.TRANSFERRED),
                                len(cohort) - len(cohort_handled)),
        by_state={s: sum(1 for m in cohort if m.state == s) for s in STATES},
        by_outcome={o: sum(1 for m in cohort if (m.outcome or "") == o) for o in (*OUTCOMES, "")},
        handled=len(measures.handled(facts, span)),
        timeliness=measures.timeliness(facts, span),
        satisfaction=measures.satisfaction(await reports.ratings(q, scope, start, end)),
        reopened=sum((await reports.dissatisfied(q, scope, start, end)).values()),
        extensions=await reports.extensions_by_state(q, scope, start, end),
        transfers=sorted(moved.items(), key=lambda item: (-item[1], item[0])),
        not_concluded=len(measures.not_concluded(facts, span.as_of, tz)),
        overdue=overdue,
        urgings=await reports.event_totals(q, scope, "urged", start, end),
        stale=await reports.event_totals(q, scope, "stale", start, end),
        major_cases=[e for e in entries if e.kind == "major_case_report"],
        protests=[e for e in entries if e.kind == "protest"],
        supervisors=await reports.supervisors(q, scope),
        events=[EventRow(local_day(at, tz), title, EVENT_KINDS_ZH.get(kind, kind), attended, supervisors)
                for at, title, kind, attended, supervisors in await reports.events_held(q, scope, start, end)],
        audit_head=await audit.head(q),
        units=[await _unit_row(q, u, facts, span, first, last) for u in family] if len(family) > 1 else [],
    )


async def _unit_row(q: Tx, unit: Unit, facts: list[MatterFacts], span: Span, first: date, last: date) -> UnitRow:
    mine = [m for m in facts if m.unit_id == unit.id]
    timeliness = measures.timeliness(mine, span)
    coverage = await contacts.coverage_between(q, UnitScope.of(unit.id), first, last)
    return UnitRow(unit.name, len(measures.registered(mine, span)), len(measures.handled(mine, span)),
                   timeliness.due, timeliness.on_time, len(measures.not_concluded(mine, span.as_of, span.tz)),
                   len(measures.overdue(mine, span.as_of, span.tz)), coverage.total, coverage.contacted)


# The report is written in Chinese to the higher procuratorate (SPEC §10 terms).
EVENT_KINDS_ZH = {"forum": "座谈会", "work_report": "工作汇报会", "inspection": "邀请视察", "open_day": "检察开放日",
                  "visit": "登门走访", "case_discussion": "案件研讨", "other": "其他"}


async def assessment(q: Tx, scope: UnitScope, year: int, today: date, tz: ZoneInfo, unit: str) -> AssessmentFigures:
    """Compute the yearly assessment per department and per staff member (a year not begun: PeriodError)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    if today < first:
        raise PeriodError(str(year))
    span = Span(first, last, min(last, today), tz)
    start, end = window(first, last, tz)
    facts = await span_facts(q, scope, span)
    found = await reports.ratings(q, scope, start, end)
    reopened = await reports.dissatisfied(q, scope, start, end)
    stale = await reports.events_by_department(q, scope, "stale", start, end)

    def figures(name: str, mine: list[MatterFacts], department: int | None, everything: bool = False
                ) -> DepartmentFigures:
        done = measures.handled(mine, span)
        days = [(h - local_day(m.registered_at, tz)).days for m in done if (h := measures.handled_on(m, tz))]
        return DepartmentFigures(
            name=name,
            registered=len(measures.registered(mine, span)),
            handled=len(done),
            average_days=round(sum(days) / len(days), 1) if days else None,
            timeliness=measures.timeliness(mine, span),
            satisfaction=measures.satisfaction(found, "all" if everything else department),
            reopened=sum(reopened.values()) if everything else reopened.get(department, 0),
            stale_flags=_events_of(stale, department, everything),
        )

    rows = [figures(name, [m for m in facts if m.department_id == dept_id], dept_id)  # a roll-up: every unit's
            for dept_id, name in (await people.department_names(q, scope)).items()]
    unassigned = figures("", [m for m in facts if m.department_id is None], None)
    if unassigned != DepartmentFigures("", 0, 0, None, Timeliness(), Satisfaction(), 0, 0):
        rows.append(unassigned)
    made = await contacts.contacts_by_staff(q, scope, year)
    urged = await reports.events_by_actor(q, scope, "urged", start, end)
    staff = [StaffFigures(s.name, s.department, s.roles, made.get(s.id, 0), *urged.get(s.id, (0, 0)))
             for s in await reports.staff(q, scope)]
    return AssessmentFigures(year=year, as_of=span.as_of, unit=unit, departments=rows,
                             total=figures("", facts, None, everything=True), staff=staff)
