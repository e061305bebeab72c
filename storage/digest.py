"""Queries of the leadership digest (SPEC §7): counts and deadline lists, never personal data.

What leaves this module names a matter only by its number, kind, department and dates: no
subject, no text, no representative and never a complainant, so that nothing of it can leak
into a digest. Moments are stored as ISO 8601 text written in more than one way over the
project's history (with milliseconds by `ts`, with microseconds by `datetime.isoformat`),
so a period is selected in SQL with a day's slack either side and then cut exactly here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from storage.db import Tx, parse_ts, ts
from storage.supervision import DEADLINE_STATES, PUBLIC_PROGRESS

OPEN_STATES: Final = ("registered", "assigned", "in_progress", "concluded", "reopened")  # 在办, as the bulletin counts
SLACK: Final = timedelta(days=1)


@dataclass(frozen=True)
class DueItem:
    """A matter not yet concluded, as a digest may show it."""

    number: str
    kind: str
    department: str | None  # None: not yet assigned
    due_date: date
    major: bool


@dataclass(frozen=True)
class DepartmentLoad:
    """A department's matters not yet concluded, by where they stand against their due date."""

    department: str | None  # None: not yet assigned
    on_time: int
    due_soon: int
    overdue: int


@dataclass(frozen=True)
class UpcomingEvent:
    """An event (forum, inspection, case discussion...) as a digest lists it."""

    day: date
    kind: str
    title: str


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _items(rows: Sequence[Any]) -> list[DueItem]:
    return [DueItem(r["number"], r["kind"], r["name"], date.fromisoformat(r["due_date"]), bool(r["major"]))
            for r in rows]


_DUE_SELECT = ("SELECT m.number, m.kind, d.name, m.due_date, m.major FROM matters m"
               " LEFT JOIN departments d ON d.id = m.department_id")


async def due_between(q: Tx, first: date | None, last: date) -> list[DueItem]:
    """Matters not yet concluded due from `first` (None: any day) to `last`, both included; earliest first."""
    sql = f"{_DUE_SELECT} WHERE m.state IN ({_marks(DEADLINE_STATES)}) AND m.due_date <= ?"
    params: list[object] = [*DEADLINE_STATES, last.isoformat()]
    if first is not None:
        sql += " AND m.due_date >= ?"
        params.append(first.isoformat())
    return _items(await q.all(sql + " ORDER BY m.due_date, m.id", params))


async def owing_progress_notice(q: Tx) -> list[DueItem]:
    """Major matters not yet concluded whose representative has had no progress notice since the matter was
    last (re)assigned (seed §12; the same test as the scheduler's reminder)."""
    sql = (f"{_DUE_SELECT} WHERE m.major = 1 AND m.state IN ({_marks(DEADLINE_STATES)}) AND NOT EXISTS ("
           f" SELECT 1 FROM timeline t WHERE t.matter_id = m.id AND t.event IN ({_marks(PUBLIC_PROGRESS)})"
           "  AND t.at >= COALESCE((SELECT MAX(s.at) FROM timeline s WHERE s.matter_id = m.id"
           "   AND s.event IN ('assigned', 'registered')), ''))"
           " ORDER BY m.due_date, m.id")
    return _items(await q.all(sql, (*DEADLINE_STATES, *PUBLIC_PROGRESS)))


async def load_by_department(q: Tx, today: date, soon_until: date) -> list[DepartmentLoad]:
    """Per department (by name; the unassigned last), matters not yet concluded: on time, due by
    `soon_until`, overdue (due before `today`). Departments with none are left out."""
    rows = await q.all(
        "SELECT d.name,"
        " SUM(CASE WHEN m.due_date < ? THEN 1 ELSE 0 END) AS overdue,"
        " SUM(CASE WHEN m.due_date >= ? AND m.due_date <= ? THEN 1 ELSE 0 END) AS soon,"
        " COUNT(*) AS n"
        f" FROM matters m LEFT JOIN departments d ON d.id = m.department_id WHERE m.state IN ({_marks(DEADLINE_STATES)})"
        " GROUP BY m.department_id, d.name ORDER BY CASE WHEN d.name IS NULL THEN 1 ELSE 0 END, m.department_id",
        (today.isoformat(), today.isoformat(), soon_until.isoformat(), *DEADLINE_STATES),
    )
    return [DepartmentLoad(r["name"], int(r["n"]) - int(r["overdue"]) - int(r["soon"]), int(r["soon"]),
                           int(r["overdue"])) for r in rows]


async def count_in(q: Tx, states: Sequence[str]) -> int:
    return int(await q.scalar(f"SELECT COUNT(*) FROM matters WHERE state IN ({_marks(states)})", tuple(states)))


async def _within(q: Tx, sql: str, start: datetime, end: datetime, params: Sequence[object] = ()) -> list[Any]:
    """Rows whose first column, a moment, is in [start, end): `sql` selects it between two bounds, given last."""
    rows = await q.all(sql, (*params, ts(start - SLACK), ts(end + SLACK)))
    return [r for r in rows if start <= parse_ts(str(r[0])) < end]


async def registered_in(q: Tx, start: datetime, end: datetime) -> int:
    """Matters registered in [start, end)."""
    return len(await _within(q, "SELECT registered_at FROM matters WHERE registered_at BETWEEN ? AND ?", start, end))


async def concluded_in(q: Tx, start: datetime, end: datetime) -> list[tuple[datetime, date]]:
    """(when concluded, due date) of the matters whose latest conclusion falls in [start, end)."""
    rows = await _within(q, "SELECT concluded_at, due_date FROM matters WHERE concluded_at IS NOT NULL"
                            " AND concluded_at BETWEEN ? AND ?", start, end)
    return [(parse_ts(str(r[0])), date.fromisoformat(r[1])) for r in rows]


async def dissatisfied_in(q: Tx, start: datetime, end: datetime) -> int:
    """Replies rated 不满意 in [start, end): each sent its matter back to be handled again (§14)."""
    return len(await _within(q, "SELECT rated_at FROM replies WHERE rating = 'dissatisfied' AND rated_at IS NOT NULL"
                                " AND rated_at BETWEEN ? AND ?", start, end))


async def ratings_of_replies_sent(q: Tx, start: datetime, end: datetime) -> list[str | None]:
    """The rating of every reply sent in [start, end): satisfied, basically, dissatisfied, unrated, or None."""
    rows = await _within(q, "SELECT sent_at, rating FROM replies WHERE state = 'sent' AND sent_at IS NOT NULL"
                            " AND sent_at BETWEEN ? AND ?", start, end)
    return [None if r[1] is None else str(r[1]) for r in rows]


async def upcoming_events(q: Tx, start: datetime, end: datetime, tz: ZoneInfo) -> list[UpcomingEvent]:
    """Planned events starting in [start, end), by time, each with its local day (SPEC §6, Events)."""
    rows = await q.all(
        "SELECT kind, title, starts_at FROM events WHERE state = 'planned' AND starts_at >= ? AND starts_at < ?"
        " ORDER BY starts_at", (ts(start), ts(end)))
    return [UpcomingEvent(datetime.fromisoformat(r["starts_at"]).astimezone(tz).date(), r["kind"], r["title"])
            for r in rows]
