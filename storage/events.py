"""Events, their invitations, preparation tasks and attendance; the supervisors' terms (seed §5, §6, §15).

Moments are stored as UTC text (`ts`); deadlines and terms as the unit's local days
('YYYY-MM-DD'), decided by the caller. Who counts as a law-enforcement supervisor on a day:
a representative whose latest term recorded by the office covers that day and was not
removed; or, when the office has recorded no term for them, whose roster flag is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from bot.model import UnitScope
from storage.db import Row, Tx, parse_ts, ts
from storage.units import acting_in, within

KINDS: Final = ("forum", "work_report", "inspection", "open_day", "visit", "case_discussion", "other")
ANSWERS: Final = ("invited", "accepted", "declined")


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    title: str
    starts_at: datetime
    place: str
    matter_id: int | None
    audience: str
    created_by: int | None
    created_at: datetime
    state: str
    held_at: str | None
    unit_id: int = 1  # the unit that holds it (its invitations name that procuratorate)


@dataclass(frozen=True)
class Invitation:
    person_id: int
    name: str
    body: str
    sector: str
    state: str  # invited | accepted | declined
    reason: str | None


@dataclass(frozen=True)
class Preparation:
    department_id: int
    department: str
    deadline: date
    done_at: str | None


def _event(row: Row) -> Event:
    return Event(id=row["id"], kind=row["kind"], title=row["title"], starts_at=parse_ts(row["starts_at"]),
                 place=row["place"], matter_id=row["matter_id"], audience=row["audience"],
                 created_by=row["created_by"], created_at=parse_ts(row["created_at"]), state=row["state"],
                 held_at=row["held_at"], unit_id=int(row["unit_id"]))


async def add(q: Tx, scope: UnitScope, kind: str, title: str, starts_at: datetime, place: str,
              matter_id: int | None, audience: str, created_by: int | None, now: datetime) -> int:
    """A new event of the scope's own unit."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    return await q.insert(
        "INSERT INTO events (kind, title, starts_at, place, matter_id, audience, created_by, created_at, unit_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (kind, title, ts(starts_at), place, matter_id, audience, created_by, ts(now), scope.unit),
    )


async def get(q: Tx, scope: UnitScope, event_id: int) -> Event | None:
    """The event, if it is of a unit the scope acts in: staff's own, a representative's units (an id from a button
    is user input: another's is none; what is found is acted on, so never a unit only read)."""
    row = await q.one(f"SELECT * FROM events WHERE id = ? AND {acting_in(scope)}", (event_id,))
    return None if row is None else _event(row)


async def invited_to(q: Tx, person_id: int, event_id: int) -> Event | None:
    """The event, if this person is invited to it (whichever unit holds it: a representative answers their own
    invitations)."""
    row = await q.one("SELECT e.* FROM events e JOIN invitations i ON i.event_id = e.id"
                      " WHERE e.id = ? AND i.person_id = ?", (event_id, person_id))
    return None if row is None else _event(row)


async def starting_from(q: Tx, scope: UnitScope, since: datetime, limit: int) -> list[Event]:
    """The scope's events that start at or after `since`, soonest first."""
    rows = await q.all(f"SELECT * FROM events WHERE starts_at >= ? AND state != 'cancelled' AND {within(scope)}"
                       " ORDER BY starts_at, id LIMIT ?", (ts(since), limit))
    return [_event(r) for r in rows]


async def invited(q: Tx, person_id: int, since: datetime, limit: int) -> list[tuple[Event, str]]:
    """The events this person is invited to that start at or after `since`, soonest first, each with their answer
    (invited | accepted | declined)."""
    rows = await q.all(
        "SELECT e.*, i.state AS answer FROM invitations i JOIN events e ON e.id = i.event_id"
        " WHERE i.person_id = ? AND e.starts_at >= ? AND e.state != 'cancelled' ORDER BY e.starts_at, e.id LIMIT ?",
        (person_id, ts(since), limit))
    return [(_event(r), str(r["answer"])) for r in rows]


async def planned(q: Tx, scope: UnitScope) -> list[Event]:
    """The scope's events not yet held nor cancelled, soonest first (what the reminders look at)."""
    rows = await q.all(f"SELECT * FROM events WHERE state = 'planned' AND {within(scope)} ORDER BY starts_at, id")
    return [_event(r) for r in rows]


async def mark_held(q: Tx, event_id: int, now: datetime) -> None:
    await q.execute("UPDATE events SET state = 'held', held_at = COALESCE(held_at, ?) WHERE id = ?",
                    (ts(now), event_id))


# -- invitations -------------------------------------------------------------------------


async def invite(q: Tx, event_id: int, person_ids: Iterable[int], now: datetime) -> None:
    await q.executemany(
        "INSERT INTO invitations (event_id, person_id, invited_at) VALUES (?, ?, ?)"
        " ON CONFLICT (event_id, person_id) DO NOTHING",
        [(event_id, person_id, ts(now)) for person_id in person_ids],
    )


_INVITATION = ("SELECT i.person_id, p.name, p.body, p.sector, i.state, i.reason FROM invitations i"
               " JOIN persons p ON p.id = i.person_id")


def _invitation(row: Row) -> Invitation:
    return Invitation(row["person_id"], row["name"], row["body"] or "", row["sector"], row["state"], row["reason"])


async def invitations(q: Tx, event_id: int) -> list[Invitation]:
    """Everyone invited, NPC deputies first, then by name."""
    rows = await q.all(_INVITATION + " WHERE i.event_id = ?"
                       " ORDER BY CASE p.body WHEN 'npc' THEN 0 ELSE 1 END, p.name, p.id", (event_id,))
    return [_invitation(r) for r in rows]


async def invitation(q: Tx, event_id: int, person_id: int) -> Invitation | None:
    row = await q.one(_INVITATION + " WHERE i.event_id = ? AND i.person_id = ?", (event_id, person_id))
    return None if row is None else _invitation(row)


async def answer(q: Tx, event_id: int, person_id: int, state: str, now: datetime) -> None:
    """Record an answer (a new one replaces the old, and clears its reason)."""
    if state not in ("accepted", "declined"):
        raise ValueError(f"unknown answer {state!r}")
    await q.execute("UPDATE invitations SET state = ?, reason = NULL, answered_at = ? WHERE event_id = ?"
                    " AND person_id = ?", (state, ts(now), event_id, person_id))


async def set_reason(q: Tx, event_id: int, person_id: int, reason: str) -> bool:
    """The reason of a decline; False when the invitation is no longer declined."""
    changed = await q.execute("UPDATE invitations SET reason = ? WHERE event_id = ? AND person_id = ?"
                              " AND state = 'declined'", (reason, event_id, person_id))
    return changed == 1


# -- preparation ---------------------------------------------------------------------------


async def add_preparation(q: Tx, event_id: int, department_id: int, deadline: date) -> None:
    await q.execute("INSERT INTO event_departments (event_id, department_id, deadline) VALUES (?, ?, ?)",
                    (event_id, department_id, deadline.isoformat()))


async def preparations(q: Tx, event_id: int) -> list[Preparation]:
    return (await preparations_of(q, [event_id])).get(event_id, [])


async def preparations_of(q: Tx, event_ids: Sequence[int]) -> dict[int, list[Preparation]]:
    """The preparation tasks of each of these events (those with any), in the order of their departments."""
    if not event_ids:
        return {}
    found: dict[int, list[Preparation]] = {}
    for r in await q.all(
            "SELECT e.event_id, e.department_id, d.name, e.deadline, e.done_at FROM event_departments e"
            f" JOIN departments d ON d.id = e.department_id WHERE e.event_id IN ({', '.join('?' * len(event_ids))})"
            " ORDER BY e.event_id, d.id", tuple(event_ids)):
        found.setdefault(int(r["event_id"]), []).append(
            Preparation(r["department_id"], r["name"], date.fromisoformat(r["deadline"]), r["done_at"]))
    return found


async def mark_prepared(q: Tx, event_id: int, department_id: int, person_id: int | None, now: datetime) -> bool:
    """Mark a preparation task done; False when it was done already (or is no task)."""
    changed = await q.execute(
        "UPDATE event_departments SET done_at = ?, done_by = ? WHERE event_id = ? AND department_id = ?"
        " AND done_at IS NULL", (ts(now), person_id, event_id, department_id))
    return changed == 1


# -- attendance ----------------------------------------------------------------------------


async def attendees(q: Tx, event_id: int) -> list[int]:
    rows = await q.all("SELECT a.person_id FROM attendance a JOIN persons p ON p.id = a.person_id"
                       " WHERE a.event_id = ? ORDER BY CASE p.body WHEN 'npc' THEN 0 ELSE 1 END, p.name, p.id",
                       (event_id,))
    return [int(r["person_id"]) for r in rows]


async def record_attendance(q: Tx, event_id: int, person_ids: Iterable[int], by: int | None,
                            now: datetime) -> list[int]:
    """Record who attended; return those not recorded before."""
    added = []
    for person_id in person_ids:
        row = await q.one("INSERT INTO attendance (event_id, person_id, recorded_at, recorded_by) VALUES"
                          " (?, ?, ?, ?) ON CONFLICT (event_id, person_id) DO NOTHING RETURNING person_id",
                          (event_id, person_id, ts(now), by))
        if row is not None:
            added.append(person_id)
    return added


# -- law-enforcement supervisors (seed §6) ---------------------------------------------------


@dataclass(frozen=True)
class Supervisor:
    person_id: int
    name: str
    body: str
    sector: str
    starts_on: date | None  # None: appointed on the roster, no term recorded
    ends_on: date | None


# Each unit appoints its own supervisors (a deputy may be the county's and not the city's): a membership's
# (unit_members m) latest term in that unit, else its roster flag.
_LATEST_TERM = "t.id = (SELECT MAX(id) FROM supervisor_terms WHERE person_id = m.person_id AND unit_id = m.unit_id)"
_IN_OFFICE = (
    "(CASE WHEN t.id IS NULL THEN m.supervisor = 1 ELSE t.starts_on <= ?"
    " AND (t.ends_on IS NULL OR t.ends_on >= ?) AND (t.removed_on IS NULL OR t.removed_on > ?) END)"
)  # takes the day three times


async def supervisors(q: Tx, scope: UnitScope, day: date) -> list[Supervisor]:
    """The scope's own unit's supervisors in office on `day`, NPC deputies first, then by name (an audience)."""
    rows = await q.all(
        "SELECT p.id, p.name, m.body, m.sector, t.starts_on, t.ends_on FROM unit_members m"
        f" JOIN persons p ON p.id = m.person_id LEFT JOIN supervisor_terms t ON {_LATEST_TERM}"
        f" WHERE m.unit_id = ? AND {_IN_OFFICE}"
        " ORDER BY CASE m.body WHEN 'npc' THEN 0 ELSE 1 END, p.name, p.id", (scope.unit, *(day.isoformat(),) * 3))
    return [Supervisor(r["id"], r["name"], r["body"], r["sector"],
                       date.fromisoformat(r["starts_on"]) if r["starts_on"] else None,
                       date.fromisoformat(r["ends_on"]) if r["ends_on"] else None) for r in rows]


async def is_supervisor(q: Tx, scope: UnitScope, person_id: int, day: date) -> bool:
    """Whether the person is a supervisor in office on `day` in a unit the scope acts in (staff: their own; a
    representative: any of theirs)."""
    value = await q.scalar(
        f"SELECT 1 FROM unit_members m LEFT JOIN supervisor_terms t ON {_LATEST_TERM}"
        f" WHERE m.person_id = ? AND {acting_in(scope, 'm.unit_id')} AND {_IN_OFFICE}",
        (person_id, *(day.isoformat(),) * 3))
    return value is not None


async def appoint(q: Tx, scope: UnitScope, person_id: int, starts_on: date, ends_on: date | None, by: int | None,
                  now: datetime) -> None:
    """A term as the scope's unit's law-enforcement supervisor (the caller has checked the person is its)."""
    await q.execute("INSERT INTO supervisor_terms (person_id, starts_on, ends_on, created_by, created_at, unit_id)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (person_id, starts_on.isoformat(), ends_on.isoformat() if ends_on else None, by, ts(now),
                     scope.unit))
    await _flag(q, scope, person_id, 1, now)


async def remove_supervisor(q: Tx, scope: UnitScope, person_id: int, day: date, by: int | None,
                            now: datetime) -> None:
    """End the person's term from `day` (a roster appointment gets a term row that records it)."""
    latest = await q.scalar("SELECT MAX(id) FROM supervisor_terms WHERE person_id = ? AND unit_id = ?",
                            (person_id, scope.unit))
    if latest is None:
        await q.execute("INSERT INTO supervisor_terms (person_id, starts_on, removed_on, created_by, created_at,"
                        " removed_by, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (person_id, day.isoformat(), day.isoformat(), by, ts(now), by, scope.unit))
    else:
        await q.execute("UPDATE supervisor_terms SET removed_on = ?, removed_by = ? WHERE id = ?",
                        (day.isoformat(), by, latest))
    await _flag(q, scope, person_id, 0, now)


async def _flag(q: Tx, scope: UnitScope, person_id: int, supervisor: int, now: datetime) -> None:
    """The roster's supervisor flag of the person's membership of the scope's unit (their first unit's is on their
    persons row, a further one's in memberships)."""
    await q.execute("UPDATE persons SET supervisor = ?, updated_at = ? WHERE id = ? AND unit_id = ?",
                    (supervisor, ts(now), person_id, scope.unit))
    await q.execute("UPDATE memberships SET supervisor = ?, updated_at = ? WHERE person_id = ? AND unit_id = ?",
                    (supervisor, ts(now), person_id, scope.unit))


async def discussion_invitations(q: Tx, scope: UnitScope, first: datetime, last: datetime
                                 ) -> dict[int, tuple[int, int]]:
    """Per person: (the scope's case discussions invited to, attended) among those starting in [first, last)."""
    rows = await q.all(
        "SELECT i.person_id, COUNT(*) AS invited, COUNT(a.person_id) AS attended FROM invitations i"
        " JOIN events e ON e.id = i.event_id"
        " LEFT JOIN attendance a ON a.event_id = i.event_id AND a.person_id = i.person_id"
        " WHERE e.kind = 'case_discussion' AND e.state != 'cancelled' AND e.starts_at >= ? AND e.starts_at < ?"
        f" AND {within(scope, 'e.unit_id')} GROUP BY i.person_id", (ts(first), ts(last)))
    return {int(r["person_id"]): (int(r["invited"]), int(r["attended"])) for r in rows}
