"""The figures of the half-year report to the higher procuratorate (seed §17) and of the yearly
performance assessment (seed §19), as plain dataclasses; bot/office_files.py writes them out.

Every period is a span of the unit's local days (Asia/Shanghai by default): a matter registered at
23:30 on 30 June belongs to the first half. The counting rules, the same everywhere:

- a matter is *handled* on the local day it was concluded (办结), or else first replied to (a
  "cannot be met" explanation), or else transferred (移送); one being handled (again) is not;
- *due in a period*: its due date (as extended, or reset on reopening) falls in the period and it
  is decided by the report's day (`as_of`, the period's last day or today if earlier): handled by
  then, or its due date passed. On time: handled on or before the due date; late: handled after
  it, or still open past it;
- *overdue*: not handled by `as_of` although due before it;
- satisfaction counts the replies sent in the period by their rating; unrated includes those not
  rated yet; the response rate is rated / sent, the satisfaction rate (satisfied + basically) / rated.

No figure carries a matter's text or a complainant's personal data (SPEC §1).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.contacts_file import METHODS
from bot.domain import KINDS, OUTCOMES, STATES, days_overdue
from storage import audit, contacts, people, reports
from storage.contacts import Coverage
from storage.db import Tx, parse_ts
from storage.reports import MatterFacts, RegisterEntry
from storage.supervision import DEADLINE_STATES

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
class Rate:
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        """part / whole, None when there is nothing to divide by."""
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class Timeliness:
    on_time: int = 0
    late: int = 0  # handled after the due date
    overdue_open: int = 0  # not handled, the due date passed

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.overdue_open

    @property
    def overdue(self) -> int:
        return self.late + self.overdue_open

    @property
    def rate(self) -> Rate:
        return Rate(self.on_time, self.due)


@dataclass(frozen=True)
class Satisfaction:
    satisfied: int = 0
    basically: int = 0
    dissatisfied: int = 0
    unrated: int = 0  # recorded as unrated, or not rated yet

    @property
    def replies(self) -> int:
        return self.satisfied + self.basically + self.dissatisfied + self.unrated

    @property
    def rated(self) -> int:
        return self.satisfied + self.basically + self.dissatisfied

    @property
    def response_rate(self) -> Rate:
        return Rate(self.rated, self.replies)

    @property
    def satisfaction_rate(self) -> Rate:
        return Rate(self.satisfied + self.basically, self.rated)


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
    by_kind: dict[str, int]  # registered in the period, every kind
    by_state: dict[str, int]  # of those, their state now, every state
    by_outcome: dict[str, int]  # of those, their outcome class; "" for none yet
    timeliness: Timeliness
    satisfaction: Satisfaction
    extensions: dict[str, int]  # requested in the period: approved, refused, pending
    transfers: list[tuple[str, int]]  # transferred out in the period, by competent authority
    overdue: list[OverdueMatter]
    urgings: tuple[int, int]  # (urgings, matters urged) in the period
    stale: tuple[int, int]  # (flags, matters flagged) in the period
    major_cases: list[RegisterEntry]
    protests: list[RegisterEntry]
    supervisors: int
    events: list[EventRow] = field(default_factory=list)  # held in the period, with attendance
    audit_head: tuple[int, str] | None = None  # (entries, newest hash) when drawn: anchors the log (storage/audit.py)

    @property
    def registered(self) -> int:
        return sum(self.by_kind.values())

    @property
    def contacts(self) -> int:
        return sum(self.contacts_by_method.values())


@dataclass(frozen=True)
class DepartmentFigures:
    name: str
    received: int  # registered in the year, with this department now
    concluded: int  # handled in the year
    average_days: float | None  # from registration to handling, over those handled in the year
    timeliness: Timeliness
    satisfaction: Satisfaction
    reopened: int  # 不满意 ratings that reopened its matters in the year
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


# -- the rules ---------------------------------------------------------------------------------


def local_day(stamp: str, tz: ZoneInfo) -> date:
    return parse_ts(stamp).astimezone(tz).date()


def handled_on(m: MatterFacts, tz: ZoneInfo) -> date | None:
    """The local day the matter was handled (concluded, else replied to, else transferred); None while open."""
    if m.state in DEADLINE_STATES:
        return None
    stamp = m.concluded_at or m.first_reply_at or (m.closed_at if m.state == "transferred" else None)
    return None if stamp is None else local_day(stamp, tz)


def timeliness(facts: list[MatterFacts], first: date, last: date, as_of: date, tz: ZoneInfo) -> Timeliness:
    on_time = late = still_open = 0
    for m in facts:
        if not first <= m.due_date <= last:
            continue
        handled = handled_on(m, tz)
        if handled is not None and handled <= as_of:
            on_time += handled <= m.due_date
            late += handled > m.due_date
        elif m.due_date < as_of:
            still_open += 1
    return Timeliness(on_time, late, still_open)


def satisfaction(counts: dict[str | None, int]) -> Satisfaction:
    return Satisfaction(counts.get("satisfied", 0), counts.get("basically", 0), counts.get("dissatisfied", 0),
                        counts.get("unrated", 0) + counts.get(None, 0))


def _ratings_of(found: dict[tuple[int | None, str | None], int], department: int | None, everything: bool = False
                ) -> dict[str | None, int]:
    """Sum the (department, rating) counts over one department (None: matters with none), or all of them."""
    out: Counter[str | None] = Counter()
    for (dept, rating), n in found.items():
        if everything or dept == department:
            out[rating] += n
    return dict(out)


def _events_of(found: dict[int | None, tuple[int, int]], department: int | None, everything: bool = False) -> int:
    if everything:
        return sum(n for n, _matters in found.values())
    return found.get(department, (0, 0))[0]


def _in_span(stamp: str | None, first: date, last: date, tz: ZoneInfo) -> bool:
    return stamp is not None and first <= local_day(stamp, tz) <= last


async def half_year(q: Tx, period: HalfYear, today: date, tz: ZoneInfo, unit: str) -> HalfYearFigures:
    """Compute the half-year report's figures as of `today` (a period not begun yet: PeriodError)."""
    if today < period.first:
        raise PeriodError(period.code)
    first, last, as_of = period.first, period.last, min(period.last, today)
    start, end = window(first, last, tz)
    facts = await reports.matter_facts(q, start, end, first)
    departments = dict(await people.departments(q))
    cohort = [m for m in facts if first <= local_day(m.registered_at, tz) <= last]
    transferred = Counter(m.transferred_to or "" for m in facts
                          if m.state == "transferred" and _in_span(m.closed_at, first, last, tz))
    overdue = []
    for m in facts:
        handled = handled_on(m, tz)
        if days_overdue(m.due_date, as_of) and (handled is None or handled > as_of):
            overdue.append(OverdueMatter(m.number, m.kind, departments.get(m.department_id or 0, ""), m.due_date,
                                         days_overdue(m.due_date, as_of)))
    by_method = await reports.contacts_by_method(q, first, last)
    entries = await reports.entries_between(q, first, last)
    return HalfYearFigures(
        period=period, as_of=as_of, unit=unit,
        contacts_by_method={m: by_method.get(m, 0) for m in METHODS},
        coverage=await contacts.coverage_between(q, first, last),
        year_coverage=await contacts.coverage_between(q, date(period.year, 1, 1), last) if period.half == 2 else None,
        by_kind={k: sum(1 for m in cohort if m.kind == k) for k in KINDS},
        by_state={s: sum(1 for m in cohort if m.state == s) for s in STATES},
        by_outcome={o: sum(1 for m in cohort if (m.outcome or "") == o) for o in (*OUTCOMES, "")},
        timeliness=timeliness(facts, first, last, as_of, tz),
        satisfaction=satisfaction(_ratings_of(await reports.ratings(q, start, end), None, everything=True)),
        extensions=await reports.extensions_by_state(q, start, end),
        transfers=sorted(transferred.items(), key=lambda item: (-item[1], item[0])),
        overdue=sorted(overdue, key=lambda o: (o.due_date, o.number)),
        urgings=await reports.event_totals(q, "urged", start, end),
        stale=await reports.event_totals(q, "stale", start, end),
        major_cases=[e for e in entries if e.kind == "major_case_report"],
        protests=[e for e in entries if e.kind == "protest"],
        supervisors=await reports.supervisors(q),
        events=[EventRow(local_day(at, tz), title, EVENT_KINDS_ZH.get(kind, kind), attended, supervisors)
                for at, title, kind, attended, supervisors in await reports.events_held(q, start, end)],
        audit_head=await audit.head(q),
    )


# The report is written in Chinese to the higher procuratorate (SPEC §10 terms).
EVENT_KINDS_ZH = {"forum": "座谈会", "work_report": "工作汇报会", "inspection": "邀请视察", "open_day": "检察开放日",
                  "visit": "登门走访", "case_discussion": "案件研讨", "other": "其他"}


async def assessment(q: Tx, year: int, today: date, tz: ZoneInfo, unit: str) -> AssessmentFigures:
    """Compute the yearly assessment per department and per staff member (a year not begun: PeriodError)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    if today < first:
        raise PeriodError(str(year))
    as_of = min(last, today)
    start, end = window(first, last, tz)
    facts = await reports.matter_facts(q, start, end, first)
    found = await reports.ratings(q, start, end)
    reopened = await reports.events_by_department(q, "rated_dissatisfied", start, end)
    stale = await reports.events_by_department(q, "stale", start, end)

    def figures(name: str, mine: list[MatterFacts], department: int | None, everything: bool = False
                ) -> DepartmentFigures:
        days = [(h - local_day(m.registered_at, tz)).days for m in mine
                if (h := handled_on(m, tz)) is not None and first <= h <= as_of]
        return DepartmentFigures(
            name=name,
            received=sum(1 for m in mine if first <= local_day(m.registered_at, tz) <= last),
            concluded=len(days),
            average_days=round(sum(days) / len(days), 1) if days else None,
            timeliness=timeliness(mine, first, last, as_of, tz),
            satisfaction=satisfaction(_ratings_of(found, department, everything)),
            reopened=_events_of(reopened, department, everything),
            stale_flags=_events_of(stale, department, everything),
        )

    rows = [figures(name, [m for m in facts if m.department_id == dept_id], dept_id)
            for dept_id, name in await people.departments(q)]
    unassigned = figures("", [m for m in facts if m.department_id is None], None)
    if unassigned != DepartmentFigures("", 0, 0, None, Timeliness(), Satisfaction(), 0, 0):
        rows.append(unassigned)
    made = await contacts.contacts_by_staff(q, year)
    urged = await reports.events_by_actor(q, "urged", start, end)
    staff = [StaffFigures(s.name, s.department, s.roles, made.get(s.id, 0), *urged.get(s.id, (0, 0)))
             for s in await reports.staff(q)]
    return AssessmentFigures(year=year, as_of=as_of, unit=unit, departments=rows,
                             total=figures("", facts, None, everything=True), staff=staff)
