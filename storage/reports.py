"""Queries of reporting (seed §4, §17, §19): the facts a half-year report and the yearly assessment are
computed from, the NPC register, and the half-year reports marked as sent.

Nothing here returns a matter's text or a complainant's personal data (SPEC §1): only ids, numbers,
kinds, states, dates and counts. A window is [start, end) in UTC, the unit's local days turned into
moments by the caller; days ('YYYY-MM-DD') are the unit's local days. `facts` returns a superset of
what a span needs (the exact counting, in the unit's time zone, is handlers/reports/measures.py's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from bot.matter.states import SINCE_EVENTS, STATES, ReplyState
from bot.model import FIRST_UNIT, UnitScope
from storage.db import Row, Tx, literals, ts
from storage.units import within
from storage.supervision import DEADLINE_STATES, PUBLIC_PROGRESS

SENT = literals(ReplyState.SENT)  # a literal in the text: the replies' partial indexes want it

REGISTER_KINDS: Final = ("major_case_report", "protest")


@dataclass(frozen=True)
class MatterFacts:
    """What the measures need of a matter (handlers/reports/measures.py). `first_reply_at` is when its first reply
    went out; `since_at` and `notice_at`, for major matters only, its latest (re)assignment or
    registration and its latest progress notice to the representative (seed §12)."""

    id: int
    number: str
    kind: str
    state: str
    outcome: str | None
    department_id: int | None
    registered_at: str
    due_date: date
    concluded_at: str | None
    closed_at: str | None
    first_reply_at: str | None
    transferred_to: str | None
    major: bool = False
    since_at: str | None = None
    notice_at: str | None = None
    unit_id: int = FIRST_UNIT  # whose matter it is (a roll-up counts each unit's apart)


def _loose(moment: datetime) -> str:
    # concluded_at and closed_at are stored by isoformat(), not ts(): select with a day's slack, cut exactly later.
    return ts(moment - timedelta(days=1))


async def facts(q: Tx, scope: UnitScope, start: datetime, end: datetime, first_day: date, last_day: date
                ) -> list[MatterFacts]:
    """Every matter of the scope's units registered before `end` that a span's measures may count — a superset,
    each part read through its own index: registered in [start, end), due from `first_day` to `last_day`, not
    concluded now, or concluded, replied to or closed since `start` (so handled in the span or after its as-of
    day)."""
    every, open_ = ", ".join("?" for _ in STATES), ", ".join("?" for _ in DEADLINE_STATES)
    progress = ", ".join("?" for _ in PUBLIC_PROGRESS)
    loose_start, loose_end = _loose(start), ts(end + timedelta(days=1))
    rows = await q.all(
        "WITH c(id) AS ("
        " SELECT id FROM matters WHERE registered_at >= ? AND registered_at < ?"
        f" UNION SELECT id FROM matters WHERE state IN ({every}) AND due_date BETWEEN ? AND ?"
        f" UNION SELECT id FROM matters WHERE state IN ({open_})"
        " UNION SELECT id FROM matters WHERE concluded_at >= ?"
        " UNION SELECT id FROM matters WHERE closed_at >= ?"
        f" UNION SELECT matter_id FROM replies WHERE state = {SENT} AND sent_at >= ?"
        f" UNION SELECT matter_id FROM replies WHERE state = {SENT} AND sent_at IS NULL AND drafted_at >= ?)"
        " SELECT m.id, m.number, m.kind, m.state, m.outcome, m.department_id, m.registered_at, m.due_date,"
        " m.concluded_at, m.closed_at, m.transferred_to, m.major, m.unit_id,"
        " (SELECT MIN(COALESCE(r.sent_at, r.drafted_at)) FROM replies r WHERE r.matter_id = m.id"
        f"  AND r.state = {SENT}) AS first_reply_at,"
        " CASE WHEN m.major = 1 THEN (SELECT MAX(t.at) FROM timeline t WHERE t.matter_id = m.id"
        f"  AND t.event IN ({literals(*SINCE_EVENTS)})) END AS since_at,"
        " CASE WHEN m.major = 1 THEN (SELECT MAX(t.at) FROM timeline t WHERE t.matter_id = m.id"
        f"  AND t.event IN ({progress})) END AS notice_at"
        f" FROM c JOIN matters m ON m.id = c.id WHERE m.registered_at < ? AND {within(scope, 'm.unit_id')}"
        " ORDER BY m.id",
        (loose_start, loose_end, *STATES, first_day.isoformat(), last_day.isoformat(), *DEADLINE_STATES,
         loose_start, loose_start, loose_start, loose_start, *PUBLIC_PROGRESS, loose_end),
    )
    return [MatterFacts(r["id"], r["number"], r["kind"], r["state"], r["outcome"], r["department_id"],
                        r["registered_at"], date.fromisoformat(r["due_date"]), r["concluded_at"], r["closed_at"],
                        r["first_reply_at"], r["transferred_to"], bool(r["major"]), r["since_at"], r["notice_at"],
                        int(r["unit_id"]))
            for r in rows]


async def ratings(q: Tx, scope: UnitScope, start: datetime, end: datetime) -> dict[tuple[int | None, str | None], int]:
    """Replies sent in the window, by the department of their matter and their rating (None: not rated).
    A reply stored without `sent_at` (an explanation given at once, before it was recorded) counts when drafted."""
    rows = await q.all(
        "SELECT m.department_id, r.rating, COUNT(*) AS n FROM ("
        f" SELECT matter_id, rating FROM replies WHERE state = {SENT} AND sent_at >= ? AND sent_at < ?"
        f" UNION ALL SELECT matter_id, rating FROM replies WHERE state = {SENT} AND sent_at IS NULL"
        "  AND drafted_at >= ? AND drafted_at < ?) r"
        f" JOIN matters m ON m.id = r.matter_id WHERE {within(scope, 'm.unit_id')} GROUP BY m.department_id, r.rating",
        (ts(start), ts(end), ts(start), ts(end)),
    )
    return {(r["department_id"], r["rating"]): int(r["n"]) for r in rows}


async def dissatisfied(q: Tx, scope: UnitScope, start: datetime, end: datetime) -> dict[int | None, int]:
    """Replies rated 不满意 in the window, by the department of their matter: each sent it back to be
    handled again (seed §14)."""
    rows = await q.all(
        "SELECT m.department_id, COUNT(*) AS n FROM replies r JOIN matters m ON m.id = r.matter_id"
        " WHERE r.rating = 'dissatisfied' AND r.rated_at >= ? AND r.rated_at < ?"
        f" AND {within(scope, 'm.unit_id')} GROUP BY m.department_id",
        (ts(start), ts(end)),
    )
    return {r["department_id"]: int(r["n"]) for r in rows}


async def events_by_department(q: Tx, scope: UnitScope, event: str, start: datetime, end: datetime
                               ) -> dict[int | None, tuple[int, int]]:
    """Timeline events of one kind in the window, by the department of their matter: (events, matters)."""
    rows = await q.all(
        "SELECT m.department_id, COUNT(*) AS n, COUNT(DISTINCT t.matter_id) AS matters FROM timeline t"
        " JOIN matters m ON m.id = t.matter_id WHERE t.event = ? AND t.at >= ? AND t.at < ?"
        f" AND {within(scope, 'm.unit_id')} GROUP BY m.department_id",
        (event, ts(start), ts(end)),
    )
    return {r["department_id"]: (int(r["n"]), int(r["matters"])) for r in rows}


async def events_by_actor(q: Tx, scope: UnitScope, event: str, start: datetime, end: datetime
                          ) -> dict[int, tuple[int, int]]:
    """Timeline events of one kind in the window, by who did them (an urging: its urger): (events, matters)."""
    rows = await q.all(
        "SELECT t.actor_id, COUNT(*) AS n, COUNT(DISTINCT t.matter_id) AS matters FROM timeline t"
        " JOIN matters m ON m.id = t.matter_id WHERE t.event = ? AND t.at >= ? AND t.at < ?"
        f" AND t.actor_id IS NOT NULL AND {within(scope, 'm.unit_id')} GROUP BY t.actor_id",
        (event, ts(start), ts(end)),
    )
    return {int(r["actor_id"]): (int(r["n"]), int(r["matters"])) for r in rows}


async def event_totals(q: Tx, scope: UnitScope, event: str, start: datetime, end: datetime) -> tuple[int, int]:
    """Timeline events of one kind in the window: (events, distinct matters)."""
    row = await q.one("SELECT COUNT(*), COUNT(DISTINCT t.matter_id) FROM timeline t"
                      " JOIN matters m ON m.id = t.matter_id"
                      f" WHERE t.event = ? AND t.at >= ? AND t.at < ? AND {within(scope, 'm.unit_id')}",
                      (event, ts(start), ts(end)))
    assert row is not None
    return int(row[0]), int(row[1])


async def extensions_by_state(q: Tx, scope: UnitScope, start: datetime, end: datetime) -> dict[str, int]:
    """Extensions requested in the window, by their state now (pending, approved, refused)."""
    rows = await q.all("SELECT x.state, COUNT(*) AS n FROM extensions x JOIN matters m ON m.id = x.matter_id"
                       f" WHERE x.requested_at >= ? AND x.requested_at < ? AND {within(scope, 'm.unit_id')}"
                       " GROUP BY x.state", (ts(start), ts(end)))
    return {r["state"]: int(r["n"]) for r in rows}


# -- contacts ------------------------------------------------------------------------------


async def contacts_by_method(q: Tx, scope: UnitScope, first: date, last: date) -> dict[str, int]:
    """The scope's units' contacts with their representatives from `first` to `last`, by how they were made."""
    rows = await q.all("SELECT c.method, COUNT(*) AS n FROM contacts c"
                       f" WHERE c.contacted_on BETWEEN ? AND ? AND {within(scope, 'c.unit_id')} GROUP BY c.method",
                       (first.isoformat(), last.isoformat()))
    return {r["method"]: int(r["n"]) for r in rows}


async def supervisors(q: Tx, scope: UnitScope) -> int:
    """Law-enforcement supervisors on the scope's rosters now (seed §6)."""
    return int(await q.scalar(f"SELECT COUNT(*) FROM unit_members WHERE supervisor = 1 AND {within(scope)}"))


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    department: str
    roles: tuple[str, ...]


async def staff(q: Tx, scope: UnitScope) -> list[StaffMember]:
    """Everyone of the scope's units with a staff role, by department (none first) and name."""
    rows = await q.all(
        "SELECT p.id, p.name, COALESCE(d.name, '') AS department, GROUP_CONCAT(r.role) AS roles"
        " FROM persons p JOIN person_roles r ON r.person_id = p.id LEFT JOIN departments d ON d.id = p.department_id"
        f" WHERE p.body IS NULL AND {within(scope, 'p.unit_id')} GROUP BY p.id, p.name, d.name"
        " ORDER BY COALESCE(d.name, ''), p.name, p.id")
    return [StaffMember(int(r["id"]), str(r["name"]), str(r["department"]), tuple(sorted(str(r["roles"]).split(","))))
            for r in rows]


# -- the NPC register (seed §4) ------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterEntry:
    id: int
    kind: str  # "major_case_report" | "protest"
    matter_id: int | None
    case_name: str
    case_number: str
    happened_on: date  # reported (major case) or lodged with the court (protest)
    filed_on: date | None  # protests: filed with the county standing committee
    note: str
    unit_id: int = 1  # the unit whose register it is


def _entry(row: Row) -> RegisterEntry:
    filed = row["filed_on"]
    return RegisterEntry(row["id"], row["kind"], row["matter_id"], row["case_name"], row["case_number"],
                         date.fromisoformat(row["happened_on"]), None if filed is None else date.fromisoformat(filed),
                         row["note"], int(row["unit_id"]))


async def add_entry(q: Tx, scope: UnitScope, kind: str, matter_id: int | None, case_name: str, case_number: str,
                    day: date, note: str, recorded_by: int, now: datetime) -> int:
    """Record in the scope's own unit's register a major case reported or a protest lodged; a wrong kind is a bug
    of the caller: ValueError."""
    if kind not in REGISTER_KINDS:
        raise ValueError(f"unknown register kind {kind!r}")
    return await q.insert(
        "INSERT INTO npc_register (kind, matter_id, case_name, case_number, happened_on, note, recorded_by,"
        " created_at, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (kind, matter_id, case_name, case_number, day.isoformat(), note, recorded_by, ts(now), scope.unit),
    )


async def entry(q: Tx, scope: UnitScope, entry_id: int) -> RegisterEntry | None:
    """The entry, if it is in the scope's own unit's register (it is acted on: filed)."""
    row = await q.one("SELECT * FROM npc_register WHERE id = ? AND unit_id = ?", (entry_id, scope.unit))
    return None if row is None else _entry(row)


async def entries_between(q: Tx, scope: UnitScope, first: date, last: date) -> list[RegisterEntry]:
    """The scope's entries dated in the span, by date and then as recorded."""
    rows = await q.all(f"SELECT * FROM npc_register WHERE happened_on BETWEEN ? AND ? AND {within(scope)}"
                       " ORDER BY happened_on, id", (first.isoformat(), last.isoformat()))
    return [_entry(r) for r in rows]


async def unfiled_protests(q: Tx, scope: UnitScope) -> list[RegisterEntry]:
    rows = await q.all(f"SELECT * FROM npc_register WHERE kind = 'protest' AND filed_on IS NULL AND {within(scope)}"
                       " ORDER BY happened_on, id")
    return [_entry(r) for r in rows]


async def mark_filed(q: Tx, scope: UnitScope, entry_id: int, day: date, filed_by: int) -> bool:
    """Record that a protest of the scope's own unit was filed on `day`; False when it is not an unfiled protest
    (any more)."""
    changed = await q.execute(
        "UPDATE npc_register SET filed_on = ?, filed_by = ? WHERE id = ? AND kind = 'protest' AND filed_on IS NULL"
        " AND unit_id = ?", (day.isoformat(), filed_by, entry_id, scope.unit))
    return changed == 1


# -- half-year reports sent (seed §17) ------------------------------------------------------------


async def halfyear_sent_on(q: Tx, scope: UnitScope, period: str) -> date | None:
    """When the scope's own unit's report of `period` went to the higher procuratorate, if it did."""
    value = await q.scalar("SELECT sent_on FROM halfyear_reports WHERE unit_id = ? AND period = ?",
                           (scope.unit, period))
    return None if value is None else date.fromisoformat(str(value))


async def halfyear_sent_by_unit(q: Tx, scope: UnitScope, period: str) -> dict[int, date]:
    """When each of the units the scope reads sent its report of `period`, for those that did (the sweep asks for
    every unit of the deployment at once)."""
    rows = await q.all(f"SELECT unit_id, sent_on FROM halfyear_reports WHERE period = ? AND {within(scope)}",
                       (period,))
    return {int(r["unit_id"]): date.fromisoformat(str(r["sent_on"])) for r in rows}


async def mark_halfyear_sent(q: Tx, scope: UnitScope, period: str, day: date, marked_by: int, now: datetime) -> bool:
    """Record that the scope's own unit's report of `period` went to the higher procuratorate; False when marked
    already."""
    row = await q.one("INSERT INTO halfyear_reports (unit_id, period, sent_on, marked_by, marked_at)"
                      " VALUES (?, ?, ?, ?, ?) ON CONFLICT (unit_id, period) DO NOTHING RETURNING period",
                      (scope.unit, period, day.isoformat(), marked_by, ts(now)))
    return row is not None


async def events_held(q: Tx, scope: UnitScope, start: datetime, end: datetime) -> list[tuple[str, str, str, int, int]]:
    """Events held in [start, end): (starts_at, title, kind, attendees, of whom supervisors) — seed §5, §6, §15."""
    rows = await q.all(
        "SELECT e.starts_at, e.title, e.kind, COUNT(a.person_id) AS attended,"
        " COALESCE(SUM(CASE WHEN m.supervisor = 1 THEN 1 ELSE 0 END), 0) AS supervisors"
        " FROM events e LEFT JOIN attendance a ON a.event_id = e.id"
        " LEFT JOIN unit_members m ON m.person_id = a.person_id AND m.unit_id = e.unit_id"
        f" WHERE e.state = 'held' AND e.starts_at >= ? AND e.starts_at < ? AND {within(scope, 'e.unit_id')}"
        " GROUP BY e.id, e.starts_at, e.title, e.kind ORDER BY e.starts_at",
        (ts(start), ts(end)),
    )
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4])) for r in rows]
