"""Queries of supervision: what the scheduler looks at, and the record of reminders fired."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.matter.states import NOT_CONCLUDED, SINCE_EVENTS, WATCHED, WITH_DEPARTMENT, Happened, ReplyState, State
from bot.model import FIRST_UNIT
from storage.db import Row, Tx, literals, ts
from storage.matters import Matter, matter_from_row

DEADLINE_STATES = NOT_CONCLUDED  # not yet concluded (§12)
URGED_STATES = WITH_DEPARTMENT  # with a department and an urger (§13)
PUBLIC_PROGRESS = ("progress_public", "extended")  # what counts as a progress notice (§12)


async def fire(q: Tx, key: str, rule: str, matter_id: int | None, now: datetime,
               unit: int = FIRST_UNIT) -> bool:
    """Record that a reminder of `unit` fired; False if it fired before (then nothing is to be sent)."""
    row = await q.one(
        "INSERT INTO reminders (key, rule, matter_id, fired_at, unit_id) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO NOTHING RETURNING key",
        (key, rule, matter_id, ts(now), unit),
    )
    return row is not None


async def fired(q: Tx, keys: list[str]) -> set[str]:
    """Which of these keys have fired already (to skip work before opening a write transaction)."""
    return {r["key"] for r in await _in_chunks(q, "SELECT key FROM reminders WHERE key IN ({marks})", keys)}


async def _in_chunks(q: Tx, sql: str, values: Iterable[Any]) -> list[Row]:
    """`sql` with an `IN ({marks})` list, run for 500 of the values at a time (SQLite's parameter limit)."""
    wanted = sorted(set(values))
    rows: list[Row] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows += await q.all(sql.format(marks=", ".join("?" for _ in chunk)), chunk)
    return rows


WATCHED_STATES = WATCHED  # DEADLINE ∪ URGED


class Watched:
    """An open matter as the sweep's rules look at it: a few columns and its latest timeline moments,
    read in one query. The matter itself is read (`matters_by_id`) only for a reminder that is to
    fire, so a tick where nothing is new reads no subject, body or complainant."""

    __slots__ = ("id", "state", "major", "department_id", "urger_id", "due_date", "last_action", "assigned_at",
                 "since", "notice", "urger_name", "unit_id")

    def __init__(self, row: Row) -> None:
        self.id: int = row[0]
        self.state: str = row[1]
        self.major = bool(row[2])
        self.department_id: int | None = row[3]
        self.urger_id: int | None = row[4]
        self.due_date = date.fromisoformat(row[5])
        self.last_action = str(row[6])  # when anyone last acted on it (its registration at the latest)
        self.urger_name: str | None = row[7]
        self.assigned_at: str | None = row[8]  # its latest assignment
        self.since: str | None = row[9]  # major matters only: its latest (re)assignment or registration
        self.notice: str | None = row[10]  # major matters only: its latest progress notice
        self.unit_id: int = row[11]  # whose staff are reminded of it


async def watched(q: Tx) -> list[Watched]:
    """Every matter in WATCHED_STATES, by id, with its latest timeline moments (one query: the open
    matters through matters_state_due, each one's events through timeline_event_at alone)."""
    marks = ", ".join("?" for _ in WATCHED_STATES)
    progress = ", ".join("?" for _ in PUBLIC_PROGRESS)
    rows = await q.all(
        "SELECT m.id, m.state, m.major, m.department_id, m.urger_id, m.due_date,"
        " COALESCE(m.last_action_at, m.registered_at) AS w_last_action, u.name AS w_urger_name,"
        " (SELECT MAX(t.at) FROM timeline t WHERE t.matter_id = m.id"
        f"  AND t.event = {literals(Happened.ASSIGNED)}) AS w_assigned,"
        " CASE WHEN m.major = 1 THEN (SELECT MAX(t.at) FROM timeline t WHERE t.matter_id = m.id"
        f"  AND t.event IN ({literals(*SINCE_EVENTS)})) END AS w_since,"
        " CASE WHEN m.major = 1 THEN (SELECT MAX(t.at) FROM timeline t WHERE t.matter_id = m.id"
        f"  AND t.event IN ({progress})) END AS w_notice, m.unit_id"
        " FROM matters m LEFT JOIN persons u ON u.id = m.urger_id"
        f" WHERE m.state IN ({marks}) ORDER BY m.id",
        (*PUBLIC_PROGRESS, *WATCHED_STATES),
    )
    return [Watched(r) for r in rows]


async def urgings_since_assignment(q: Tx, ids: Iterable[int]) -> dict[int, int]:
    """How many urgings each of these matters has had since its latest assignment (§13: the rung of the
    next one), by id; a matter with none is missing. Read only for the matters about to be urged."""
    rows = await _in_chunks(
        q, "SELECT t.matter_id, COUNT(*) FROM timeline t WHERE t.event = 'urged' AND t.matter_id IN ({marks})"
        f" AND t.at >= (SELECT MAX(a.at) FROM timeline a WHERE a.event = {literals(Happened.ASSIGNED)}"
        " AND a.matter_id = t.matter_id)"
        " GROUP BY t.matter_id", ids)
    return {int(r[0]): int(r[1]) for r in rows}


async def matters_by_id(q: Tx, ids: Iterable[int]) -> dict[int, Matter]:
    """The matters with these ids (those a reminder is to be built for), by id."""
    return {r["id"]: matter_from_row(r) for r in await _in_chunks(q, "SELECT * FROM matters WHERE id IN ({marks})", ids)}


@dataclass(frozen=True)
class DepartmentStaff:
    """A department's handlers and heads (id, name), each by id; `staff` is both, by id, once each."""

    handlers: list[tuple[int, str]]
    heads: list[tuple[int, str]]

    @property
    def staff(self) -> list[int]:
        return sorted({i for i, _name in self.handlers} | {i for i, _name in self.heads})


async def staff_by_department(q: Tx) -> dict[int, DepartmentStaff]:
    """Every department's handlers and heads (a department without either is missing)."""
    rows = await q.all(
        "SELECT p.id, p.name, p.department_id, r.role FROM persons p JOIN person_roles r ON r.person_id = p.id"
        " WHERE p.department_id IS NOT NULL AND r.role IN ('handler', 'head') ORDER BY p.id")
    found: dict[int, DepartmentStaff] = {}
    for r in rows:
        dept = found.setdefault(int(r["department_id"]), DepartmentStaff([], []))
        (dept.handlers if r["role"] == "handler" else dept.heads).append((int(r["id"]), str(r["name"])))
    return found


@dataclass(frozen=True)
class Unrated:
    reply_id: int
    matter_id: int
    sent_at: str
    asked_again_at: str | None


async def unrated(q: Tx) -> list[Unrated]:
    """Sent replies not rated of matters still waiting for a rating, by reply id (through the partial
    index replies_unrated: the few replies waiting, not every reply ever sent)."""
    rows = await q.all(
        "SELECT r.id, r.matter_id, r.sent_at, r.asked_again_at FROM replies r JOIN matters m ON m.id = r.matter_id"
        f" WHERE r.state = {literals(ReplyState.SENT)} AND r.rating IS NULL"  # a literal: the partial index wants it
        f" AND m.state = {literals(State.REPLIED)} ORDER BY r.id")
    return [Unrated(r[0], r[1], r[2], r[3]) for r in rows]


@dataclass(frozen=True)
class ReplyText:
    """What a second asking repeats of a reply."""

    body: str
    grounds: str
    via: str
    kind: str = "reply"


async def reply_texts(q: Tx, reply_ids: Iterable[int]) -> dict[int, ReplyText]:
    rows = await _in_chunks(q, "SELECT id, body, grounds, via, kind FROM replies WHERE id IN ({marks})", reply_ids)
    return {r["id"]: ReplyText(r["body"], r["grounds"], r["via"], r["kind"]) for r in rows}


async def mark_asked_again(q: Tx, reply_id: int, now: datetime) -> None:
    await q.execute("UPDATE replies SET asked_again_at = ? WHERE id = ?", (ts(now), reply_id))
