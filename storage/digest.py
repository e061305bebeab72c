"""What the leadership digest (SPEC §7) shows of matters and events, and the events it lists.

Its figures are the measures of handlers/reports/measures.py, counted from storage/reports.py `facts` like the
half-year report's. What leaves here names a matter only by its number, kind, department and dates: no
subject, no text, no representative and never a complainant, so that nothing of it can leak into a digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.model import UnitScope
from storage.db import Tx, ts
from storage.units import within


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


async def upcoming_events(q: Tx, scope: UnitScope, start: datetime, end: datetime, tz: ZoneInfo
                          ) -> list[UpcomingEvent]:
    """The scope's planned events starting in [start, end), by time, each with its local day (SPEC §6, Events)."""
    rows = await q.all(
        "SELECT kind, title, starts_at FROM events WHERE state = 'planned' AND starts_at >= ? AND starts_at < ?"
        f" AND {within(scope)} ORDER BY starts_at", (ts(start), ts(end)))
    return [UpcomingEvent(datetime.fromisoformat(r["starts_at"]).astimezone(tz).date(), r["kind"], r["title"])
            for r in rows]
