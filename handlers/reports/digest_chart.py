"""The digest's chart (SPEC §7): the matters not yet concluded (未办结) by department, each bar split into
within the time limit, 7日内到期 and 逾期未办结 — legible at a province's size as at a county's.

The departments most pressed come first: by matters overdue, then due within seven days, then size; a
small unit sees every department. A large one sees the first nineteen and, folded into one bar 其他部门,
the rest — as many more departments get their own bar as it takes for that bar never to be longer than
the busiest department's (up to CHART_MAX bars); beyond that the rest is not drawn but said under the
chart. The numbers on the bars are drawn by bot/charts.py only where a segment is wide enough for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from bot import charts
from bot.i18n import Translator
from bot.text import clip
from handlers.reports import measures
from storage.digest import DepartmentLoad

COLORS: Final = ("#4c9a2a", "#e8a317", "#c0392b")  # within the time limit, due soon, overdue
CHART_ROWS: Final = 20  # bars in the chart before departments are folded into 其他部门
CHART_MAX: Final = 30  # bars at most, 其他部门 included
CHART_LABEL: Final = 16  # characters of a department's name beside its bar


def size(row: DepartmentLoad) -> int:
    return row.on_time + row.due_soon + row.overdue


def pressing(rows: Sequence[DepartmentLoad]) -> list[DepartmentLoad]:
    """Departments by what presses most: overdue, then due soon, then size (then as given)."""
    return sorted(rows, key=lambda r: (-r.overdue, -r.due_soon, -size(r)))


def fold(rows: Sequence[DepartmentLoad]) -> tuple[list[DepartmentLoad], DepartmentLoad | None, list[DepartmentLoad]]:
    """(the departments with a bar of their own, most pressing first; the 其他部门 bar or None; the departments
    neither shows, when even CHART_MAX bars would leave a 其他部门 longer than the busiest department's)."""
    ordered = pressing(rows)
    if len(ordered) <= CHART_ROWS:
        return ordered, None, []
    shown = CHART_ROWS - 1
    while True:
        own, rest = ordered[:shown], ordered[shown:]
        other = DepartmentLoad(None, sum(r.on_time for r in rest), sum(r.due_soon for r in rest),
                               sum(r.overdue for r in rest))
        if size(other) <= max(size(r) for r in own):
            return own, other, []
        if shown + 1 >= CHART_MAX:
            return own, None, rest
        shown += 1


def chart_labels(_: Translator, today: date, departments: Sequence[DepartmentLoad]
                 ) -> tuple[str, list[str], list[charts.Series], str]:
    """The chart: title, bars (top to bottom), stacks, axis label (with what is left out, if anything)."""
    title = _("Matters not yet concluded, by department, {day}", day=_.date(today))
    own, other, left_out = fold(departments)
    rows = own + ([other] if other is not None else [])
    categories = [_bar_label(r.department if r.department is not None else _("not yet assigned")) for r in own]
    if other is not None:
        categories.append(_("Other departments"))
    series = [
        charts.Series(_("Within the time limit"), [r.on_time for r in rows], COLORS[0]),
        charts.Series(_(measures.DUE_SOON.msgid), [r.due_soon for r in rows], COLORS[1]),
        charts.Series(_(measures.OVERDUE.msgid), [r.overdue for r in rows], COLORS[2]),
    ]
    axis = _("Number of matters")
    if left_out:
        axis += "\n" + _("{n} more departments, {matters} matters in all, are not shown: none has more overdue than "
                         "those shown",
                         n=len(left_out), matters=sum(size(r) for r in left_out))
    return title, categories, series, axis


def _bar_label(name: str) -> str:
    return clip(name, CHART_LABEL)
