"""Queries of discipline inspection's second line (seed §13, §16): the open matters it watches, each read through
the matters' state index or the timeline's event index, never a whole table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.matter.states import NOT_CONCLUDED as NOT_CONCLUDED
from bot.matter.states import OPEN_STATES as OPEN_STATES
from bot.matter.states import WITH_DEPARTMENT, State
from bot.model import UnitScope
from storage.db import Tx, parse_ts, ts
from storage.matters import Matter, matter_from_row
from storage.units import within



def _marks(values: tuple[State, ...]) -> str:
    return ", ".join("?" for _ in values)


async def overdue(q: Tx, scope: UnitScope, today: date, limit: int) -> list[Matter]:
    """Matters not concluded by their due date, the longest overdue first."""
    rows = await q.all(f"SELECT * FROM matters WHERE state IN ({_marks(NOT_CONCLUDED)}) AND due_date < ?"
                       f" AND {within(scope)}"
                       " ORDER BY due_date, id LIMIT ?", (*NOT_CONCLUDED, today.isoformat(), limit))
    return [matter_from_row(r) for r in rows]


async def idle_since(q: Tx, scope: UnitScope, cutoff: datetime, limit: int) -> list[tuple[Matter, datetime]]:
    """Open matters nobody has acted on since `cutoff` (§16: possibly perfunctory), each with its last action,
    the longest untouched first."""
    rows = await q.all(
        "SELECT *, COALESCE(last_action_at, registered_at) AS last_action FROM matters"
        f" WHERE state IN ({_marks(WITH_DEPARTMENT)}) AND {within(scope)}"
        " AND COALESCE(last_action_at, registered_at) < ? ORDER BY last_action, id LIMIT ?",
        (*WITH_DEPARTMENT, ts(cutoff), limit))
    return [(matter_from_row(r), parse_ts(r["last_action"])) for r in rows]


async def disputed_appeals(q: Tx, scope: UnitScope, limit: int) -> list[Matter]:
    """Open appeals that dispute this procuratorate's own handling (§14: never back to the original department)."""
    rows = await q.all(f"SELECT * FROM matters WHERE state IN ({_marks(OPEN_STATES)}) AND kind = 'appeal'"
                       f" AND {within(scope)}"
                       " AND disputes_own_handling = 1 ORDER BY due_date, id LIMIT ?", (*OPEN_STATES, limit))
    return [matter_from_row(r) for r in rows]


@dataclass(frozen=True)
class OnSite:
    """An open matter under joint on-site supervision, with its latest record."""

    matter: Matter
    at: str
    detail: dict[str, Any]


async def under_onsite_supervision(q: Tx, scope: UnitScope, limit: int) -> list[OnSite]:
    """Open matters with a joint on-site supervision recorded (§13), the latest record of each, newest first."""
    rows = await q.all(
        "SELECT m.*, t.at AS onsite_at, t.detail AS onsite_detail FROM timeline t JOIN matters m ON m.id = t.matter_id"
        f" WHERE t.event = 'onsite' AND m.state IN ({_marks(OPEN_STATES)}) AND {within(scope, 'm.unit_id')}"
        " AND t.id = (SELECT MAX(t2.id) FROM timeline t2 WHERE t2.event = 'onsite' AND t2.matter_id = t.matter_id)"
        " ORDER BY t.at DESC, m.id LIMIT ?",
        (*OPEN_STATES, limit))
    return [OnSite(matter_from_row(r), r["onsite_at"], json.loads(r["onsite_detail"])) for r in rows]
