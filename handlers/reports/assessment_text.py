"""What the performance assessment workbook says (seed §19), in Chinese: the figures per department and
per staff member, and a first sheet that says what each figure counts, in the same words as the half-year
report and the leadership digest (handlers/reports/measures.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.office_files import Cell, Table, write_xlsx, zh_date
from handlers.reports import measures as M
from handlers.reports.figures import AssessmentFigures, DepartmentFigures
from handlers.reports.paper_words import ROLE_WORDS

UNASSIGNED_ROW: Final = "办公室直接处理（移送、无法满足及尚未交办）"
ASSESSMENT_MEASURES: Final = (M.REGISTERED, M.HANDLED, M.DUE, M.ON_TIME, M.LATE, M.DUE_OPEN, M.ON_TIME_RATE,
                              M.REPLIES, M.RESPONSE_RATE, M.SATISFACTION_RATE, M.REOPENED)


def assessment_tables(f: AssessmentFigures) -> list[Table]:
    """Per department and per staff member (§19)."""

    def row(d: DepartmentFigures, name: str) -> tuple[Cell, ...]:
        t, s = d.timeliness, d.satisfaction
        return (name, d.registered, d.handled, d.average_days, t.due, t.on_time, t.late, t.due_open, t.rate.value,
                s.replies, s.satisfied, s.basically, s.dissatisfied, s.unrated, s.response_rate.value,
                s.satisfaction_rate.value, d.reopened, d.stale_flags)

    departments = Table(
        "部门", f"{f.year}年承办部门考核数据",
        ("承办部门", M.REGISTERED.words, M.HANDLED.words, "平均办结天数", M.DUE.words, M.ON_TIME.words, M.LATE.words,
         M.DUE_OPEN.words, M.ON_TIME_RATE.words, M.REPLIES.words, M.SATISFIED.words, M.BASICALLY.words,
         M.DISSATISFIED.words, M.UNRATED.words, M.RESPONSE_RATE.words, M.SATISFACTION_RATE.words, M.REOPENED.words,
         "长期未办理标记"),
        [*(row(d, d.name or UNASSIGNED_ROW) for d in f.departments), row(f.total, "合计")],
        frozenset({8, 14, 15}))
    staff = Table(
        "人员", f"{f.year}年工作人员考核数据", ("姓名", "部门", "角色", "联系代表委员（人次）", "催办次数", "催办事项"),
        [(s.name, s.department or None, "、".join(ROLE_WORDS.get(r, r) for r in s.roles), s.contacts, s.urgings,
          s.urged_matters) for s in f.staff])
    return [departments, staff]


def assessment_file(f: AssessmentFigures, drawn_at: datetime, tz: ZoneInfo) -> bytes:
    drawn_on = drawn_at.astimezone(tz).date()
    title = f"{f.unit}{f.year}年代表委员联络工作绩效考核数据"
    lines = [f"统计期间：{zh_date(date(f.year, 1, 1))}至{zh_date(date(f.year, 12, 31))}，数据截至{zh_date(f.as_of)}",
             f"生成日期：{zh_date(drawn_on)}", "",
             "统计口径（与半年工作情况报告、领导周报月报相同）：",
             f"“{M.REGISTERED.words}”：本年登记、现由该部门承办的事项；“平均办结天数”：本年办结事项自登记至办结的平均天数；",
             *(f"“{m.words}”：{m.counts}。" for m in ASSESSMENT_MEASURES[1:]),
             f"“{UNASSIGNED_ROW}”：未交承办部门的事项，即办公室直接移送、直接以无法满足答复和尚未交办的事项；",
             "“长期未办理标记”：本年因长期无办理动作被标记的次数。"]
    return write_xlsx(title, lines, assessment_tables(f), author=f.unit, created=drawn_at)

