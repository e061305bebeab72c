"""One definition per figure (SPEC §7; seed §12-§14, §17, §19): every count that the leadership digest,
the half-year report (.docx and .xlsx), the assessment and the ledger show is one of the measures below,
counted here by one rule from the same facts (storage/reports.py `facts`) and named by the same words
wherever it appears: the papers print `Measure.words`, the chat translates `Measure.msgid`, whose
Chinese is those very words (tests/test_figures.py holds them to it).

Every measure has a period rule, and two measures with different rules never share a name:

- registered-in: matters registered on a local day of the period (the unit's time zone);
- handled-in: matters handled on a local day of the period. A matter is *handled* (办结) on the day it
  was concluded, or else first replied to (a "cannot be met" explanation is a reply), or else
  transferred to the competent authority (移送); one being handled again after 不满意 is not handled;
- due-in: matters whose due date (as extended, or reset on reopening) falls in the period, decided by
  the span's `as_of` day: handled by then, on or before the due date (按期) or after it (超期), or
  not handled although the due date has passed (到期未办结); those neither handled nor past due yet
  are not counted;
- sent-in, rated-in, transferred-in: replies sent, ratings 不满意 given, matters transferred in the period;
- as-of: the state of things at the end of the `as_of` day — not handled (未办结), and of those the
  overdue (逾期未办结: the due date passed, whichever period it fell in).

The overdue day count of a listed matter is bot/domain.py's `days_overdue`, which the reminders, the
digest, the report and the card all say; the lists here keep the due date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal
from zoneinfo import ZoneInfo

from bot.i18n import N_
from bot.office_files import percent
from bot.matter.states import BEING_HANDLED, State
from storage.db import parse_ts
from storage.reports import MatterFacts
from storage.supervision import DEADLINE_STATES

REGISTERED_IN: Final = "registered-in"
HANDLED_IN: Final = "handled-in"
DUE_IN: Final = "due-in"
SENT_IN: Final = "sent-in"
RATED_IN: Final = "rated-in"
TRANSFERRED_IN: Final = "transferred-in"
CONTACTED_IN: Final = "contacted-in"
AS_OF: Final = "as-of"
__all__ = ["percent"]  # the one format of a rate, re-exported for the chat's figures
NOTICE_STATES: Final = BEING_HANDLED  # a department handles it now: a progress notice is its duty


@dataclass(frozen=True)
class Measure:
    """A figure: its words in every paper, the chat's msgid for them, its period rule, what it counts."""

    key: str
    words: str  # Chinese, as printed in the report, the workbooks and the assessment
    msgid: str  # English; its Simplified Chinese in the catalog is `words`
    rule: str
    counts: str  # Chinese: what it counts, printed in the papers' notes where two could be confused
    unit: str = "件"


REGISTERED = Measure("registered", "登记", N_("Matters registered"), REGISTERED_IN,
                     "统计期间内登记的事项，按登记日期统计")
HANDLED = Measure("handled", "办结", N_("Matters concluded"), HANDLED_IN,
                  "统计期间内办结的事项，按办结日期统计；以无法满足作出答复、移送有关主管机关的，均计为办结")
DUE = Measure("due", "到期应办结", N_("Due in the period"), DUE_IN,
              "办理期限（延期或重新办理的，以新期限为准）在统计期间内的事项中，截至统计截止日已办结或已过期限的")
ON_TIME = Measure("on_time", "按期办结", N_("Concluded on time"), DUE_IN,
                  "到期应办结事项中，在办理期限当日或之前办结的")
LATE = Measure("late", "超期办结", N_("Concluded late"), DUE_IN, "到期应办结事项中，超过办理期限才办结的")
DUE_OPEN = Measure("due_open", "到期未办结", N_("Due and not concluded"), DUE_IN,
                   "到期应办结事项中，截至统计截止日仍未办结的")
ON_TIME_RATE = Measure("on_time_rate", "按期办结率", N_("On-time rate"), DUE_IN, "按期办结件数除以到期应办结件数", "")
NOT_CONCLUDED = Measure("not_concluded", "未办结", N_("Not yet concluded"), AS_OF,
                        "截至统计截止日尚未办结的全部事项（待交办、已交办、办理中、重新办理中）")
OVERDUE = Measure("overdue", "逾期未办结", N_("Overdue, not concluded"), AS_OF,
                  "截至统计截止日已过办理期限仍未办结的全部事项，不论办理期限在哪一期")
DUE_SOON = Measure("due_soon", "7日内到期", N_("Due within the next 7 days"), AS_OF,
                   "未办结事项中，办理期限在今后7日内（含当日）的")
AWAITING_REPLY = Measure("awaiting_reply", "已办结待答复", N_("Concluded, reply not yet sent"), AS_OF,
                         "承办部门已办结、答复尚未发出的事项")
OWING_NOTICE = Measure("owing_notice", "应通报而未通报进展", N_("Owing a progress notice"), AS_OF,
                       "已交承办部门办理的重大疑难复杂事项中，距办理期限不足规定天数或已过期限，"
                       "自最近一次交办后尚未向代表委员通报进展情况的")
REPLIES = Measure("replies", "答复", N_("Replies sent"), SENT_IN,
                  "统计期间内发出的答复，含无法满足的说明和最终答复，每次答复计一件")
RATED = Measure("rated", "已评价", N_("Rated"), SENT_IN, "统计期间内发出的答复中，代表委员已评价的")
SATISFIED = Measure("satisfied", "满意", N_("Satisfied"), SENT_IN, "评价为满意的答复")
BASICALLY = Measure("basically", "基本满意", N_("Basically satisfied"), SENT_IN, "评价为基本满意的答复")
DISSATISFIED = Measure("dissatisfied", "不满意", N_("Dissatisfied"), SENT_IN, "评价为不满意的答复")
UNRATED = Measure("unrated", "未评价", N_("Not rated"), SENT_IN, "尚未评价或逾期未评价的答复")
RESPONSE_RATE = Measure("response_rate", "参评率", N_("Response rate"), SENT_IN, "已评价件数除以答复件数", "")
SATISFACTION_RATE = Measure("satisfaction_rate", "满意率", N_("Satisfaction rate"), SENT_IN,
                            "满意和基本满意件数之和除以已评价件数", "")
REOPENED = Measure("reopened", "因不满意重新办理", N_("Handled again after a dissatisfied rating"), RATED_IN,
                   "统计期间内代表委员评价为不满意、因而重新办理的次数", "次")
TRANSFERRED = Measure("transferred", "移送", N_("Transferred out"), TRANSFERRED_IN,
                      "统计期间内移送有关主管机关的事项，按移送日期统计，含此前登记的事项")
CONTACTED = Measure("contacted", "已联系代表委员", N_("Representatives contacted"), CONTACTED_IN,
                    "统计期间内至少联系过一次的人大代表、政协委员人数", "名")
COVERAGE_RATE = Measure("coverage_rate", "联系覆盖率", N_("Contact coverage"), CONTACTED_IN,
                        "已联系代表委员人数除以名册现有人数", "")

ALL: Final = (REGISTERED, HANDLED, DUE, ON_TIME, LATE, DUE_OPEN, ON_TIME_RATE, NOT_CONCLUDED, OVERDUE, DUE_SOON,
              AWAITING_REPLY, OWING_NOTICE, REPLIES, RATED, SATISFIED, BASICALLY, DISSATISFIED, UNRATED,
              RESPONSE_RATE, SATISFACTION_RATE, REOPENED, TRANSFERRED, CONTACTED, COVERAGE_RATE)


def note(*measures: Measure) -> str:
    """The papers' explanation of these measures: 「到期应办结」指……；「逾期未办结」指……。"""
    return "；".join(f"“{m.words}”指{m.counts}" for m in measures) + "。"


# -- the span a figure is counted over ----------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """The local days first..last (both included) and the day `as_of` whose end the as-of measures
    and the due-in decision look at (the last day, or today when the period is not over)."""

    first: date
    last: date
    as_of: date
    tz: ZoneInfo

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


def local_day(stamp: str, tz: ZoneInfo) -> date:
    return parse_ts(stamp).astimezone(tz).date()


def handled_on(m: MatterFacts, tz: ZoneInfo) -> date | None:
    """The local day the matter was handled (concluded, else first replied to, else transferred); None
    while it is not (being handled again included). A record past those states without any of these
    moments (written by hand, or before they were kept) counts from its closing, or else its registration."""
    if m.state in DEADLINE_STATES:
        return None
    return local_day(m.concluded_at or m.first_reply_at or m.closed_at or m.registered_at, tz)


def handled_by(m: MatterFacts, day: date, tz: ZoneInfo) -> bool:
    handled = handled_on(m, tz)
    return handled is not None and handled <= day


# -- the rules -----------------------------------------------------------------------------------


def registered(facts: Iterable[MatterFacts], span: Span) -> list[MatterFacts]:
    """登记 (registered-in)."""
    return [m for m in facts if local_day(m.registered_at, span.tz) in span]


def handled(facts: Iterable[MatterFacts], span: Span) -> list[MatterFacts]:
    """办结 (handled-in): handled on a day of the span, and by its as-of day."""
    found = []
    for m in facts:
        day = handled_on(m, span.tz)
        if day is not None and day in span and day <= span.as_of:
            found.append(m)
    return found


def transferred(facts: Iterable[MatterFacts], span: Span) -> list[MatterFacts]:
    """移送 (transferred-in), by the day of the transfer."""
    return [m for m in facts if m.state == State.TRANSFERRED and m.closed_at is not None
            and local_day(m.closed_at, span.tz) in span]


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
    """到期应办结, split into 按期办结, 超期办结 and 到期未办结 (due-in)."""

    on_time: int = 0
    late: int = 0
    due_open: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.due_open

    @property
    def rate(self) -> Rate:
        return Rate(self.on_time, self.due)


def timeliness(facts: Iterable[MatterFacts], span: Span) -> Timeliness:
    on_time = late = due_open = 0
    for m in facts:
        if m.due_date not in span:
            continue
        day = handled_on(m, span.tz)
        if day is not None and day <= span.as_of:
            on_time += day <= m.due_date
            late += day > m.due_date
        elif m.due_date < span.as_of:
            due_open += 1
    return Timeliness(on_time, late, due_open)


def not_concluded(facts: Iterable[MatterFacts], day: date, tz: ZoneInfo) -> list[MatterFacts]:
    """未办结 (as of the end of `day`): registered by then and not handled by then."""
    return [m for m in facts if local_day(m.registered_at, tz) <= day and not handled_by(m, day, tz)]


def overdue(facts: Iterable[MatterFacts], day: date, tz: ZoneInfo) -> list[MatterFacts]:
    """逾期未办结 (as of the end of `day`): not handled by then although due before it; by due date."""
    found = [m for m in not_concluded(facts, day, tz) if m.due_date < day]
    return sorted(found, key=lambda m: (m.due_date, m.number))


def due_soon(facts: Iterable[MatterFacts], day: date, days: int, tz: ZoneInfo) -> list[MatterFacts]:
    """7日内到期 (as of `day`): not handled, due from `day` to `days` days later; by due date."""
    found = [m for m in not_concluded(facts, day, tz) if 0 <= (m.due_date - day).days <= days]
    return sorted(found, key=lambda m: (m.due_date, m.number))


def owing_notice(facts: Iterable[MatterFacts], day: date, notice_days: int) -> list[MatterFacts]:
    """应通报而未通报进展 (as of `day`, seed §12): a major matter a department handles, due within
    `notice_days` or past due, with no progress notice since it was last assigned — the test of the
    reminder that prompts for one (supervision.major_notice_days)."""
    found = [m for m in facts if m.major and m.state in NOTICE_STATES and (m.due_date - day).days <= notice_days
             and (m.notice_at is None or (m.since_at is not None and m.notice_at < m.since_at))]
    return sorted(found, key=lambda m: (m.due_date, m.number))


@dataclass(frozen=True)
class Satisfaction:
    """答复 (sent-in) by their rating; 未评价 includes those not rated yet."""

    satisfied: int = 0
    basically: int = 0
    dissatisfied: int = 0
    unrated: int = 0

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


def satisfaction(found: dict[tuple[int | None, str | None], int], department: int | None | Literal["all"] = "all"
                 ) -> Satisfaction:
    """答复 by rating, from the count of replies sent by (department, rating) (storage/reports.py `ratings`;
    None: not rated yet), of one department (None: matters with none) or of all."""
    counts: Counter[str | None] = Counter()
    for (dept, rating), n in found.items():
        if department == "all" or dept == department:
            counts[rating] += n
    return Satisfaction(counts["satisfied"], counts["basically"], counts["dissatisfied"],
                        counts["unrated"] + counts[None])
