"""Queries of handling: a matter's changes, its replies and extensions, and the staff's lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.matter.life import Step
from bot.matter.states import WAITING_REPLY_STATES, ExtensionState, ReplyState, State
from bot.model import FIRST_UNIT, UnitScope
from storage import outbox
from storage.access import WITHDRAWN
from storage.db import Row, Tx, ts
from storage.matters import Matter, matter_from_row
from storage.units import matter_acts, matter_reads, within

SENT = ReplyState.SENT

MATTER_FIELDS = frozenset({
    "state", "major", "department_id", "urger_id", "due_date", "outcome", "owes_final_reply", "reopened",
    "transferred_to", "concluded_at", "closed_at", "handling_unit_id",
})


async def update(q: Tx, scope: UnitScope, matter_id: int, now: datetime, **fields: Any) -> None:
    """Change a matter's fields (a fixed list of them); every change counts as an action on it. Only a matter of
    the unit `scope` acts in: another unit's is never written (LookupError, a defect of the caller's)."""
    unknown = set(fields) - MATTER_FIELDS
    if unknown:
        raise ValueError(f"not a matter field: {unknown}")
    values = [ts(v) if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v
              for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    changed = await q.execute(
        f"UPDATE matters SET {assignments}, updated_at = ?, last_action_at = ? WHERE id = ? AND {matter_acts(scope)}",
        (*values, ts(now), ts(now), matter_id),
    )
    _written(changed, scope, matter_id)


def _written(changed: int, scope: UnitScope, matter_id: int) -> None:
    if changed != 1:
        raise LookupError(f"matter {matter_id} is not a matter of the units {sorted(scope.acting)}")


async def save(q: Tx, scope: UnitScope, matter_id: int, now: datetime, step: Step) -> None:
    """Store what the matter's rules decided (`bot.matter.life`); an empty step still counts as an action."""
    fields = step.changes()
    if step.concluded:
        fields["concluded_at"] = now
    if step.closed:
        fields["closed_at"] = now
    if fields:
        await update(q, scope, matter_id, now, **fields)
    else:
        await touch(q, scope, matter_id, now)


async def touch(q: Tx, scope: UnitScope, matter_id: int, now: datetime) -> None:
    """Record that someone acted on the matter (a progress note, a draft)."""
    changed = await q.execute("UPDATE matters SET updated_at = ?, last_action_at = ? WHERE id = ?"
                              f" AND {matter_acts(scope)}", (ts(now), ts(now), matter_id))
    _written(changed, scope, matter_id)


# -- replies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyRecord:
    id: int
    matter_id: int
    round: int
    kind: str
    body: str
    grounds: str
    via: str
    state: str
    drafted_by: int
    return_note: str | None
    rating: str | None


def _reply(row: Row) -> ReplyRecord:
    return ReplyRecord(row["id"], row["matter_id"], row["round"], row["kind"], row["body"], row["grounds"],
                       row["via"], row["state"], row["drafted_by"], row["return_note"], row["rating"])


async def add_reply(q: Tx, matter_id: int, kind: str, body: str, grounds: str, via: str, state: ReplyState,
                    drafted_by: int, now: datetime) -> int:
    rounds = int(await q.scalar("SELECT COUNT(*) FROM replies WHERE matter_id = ? AND state = ?", (matter_id, SENT)))
    return await q.insert(
        "INSERT INTO replies (matter_id, round, kind, body, grounds, via, state, drafted_by, drafted_at, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (matter_id, rounds + 1, kind, body, grounds, via, state, drafted_by, ts(now),
         ts(now) if state == SENT else None),  # a reply given at once (cannot be met) is sent when written
    )


async def sent_on(q: Tx, reply_id: int) -> str | None:
    """When a reply went out (a moment, as stored); None if it has not."""
    value = await q.scalar("SELECT COALESCE(sent_at, drafted_at) FROM replies WHERE id = ? AND state = ?",
                           (reply_id, SENT))
    return None if value is None else str(value)


async def reply(q: Tx, reply_id: int) -> ReplyRecord | None:
    row = await q.one("SELECT * FROM replies WHERE id = ?", (reply_id,))
    return None if row is None else _reply(row)


async def open_reply(q: Tx, matter_id: int) -> ReplyRecord | None:
    """The reply waiting for approval (draft, or awaiting a leader), if any."""
    row = await q.one("SELECT * FROM replies WHERE matter_id = ? AND state IN (?, ?) ORDER BY id DESC LIMIT 1",
                      (matter_id, *WAITING_REPLY_STATES))
    return None if row is None else _reply(row)


async def last_sent_reply(q: Tx, matter_id: int) -> ReplyRecord | None:
    row = await q.one("SELECT * FROM replies WHERE matter_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
                      (matter_id, SENT))
    return None if row is None else _reply(row)


@dataclass(frozen=True)
class SentReply:
    """A reply as its representative received it, with the rating they gave."""

    id: int
    round: int
    kind: str
    body: str
    grounds: str
    via: str
    rating: str | None
    rating_note: str | None


async def sent_replies(q: Tx, matter_id: int) -> dict[int, SentReply]:
    """The replies of a matter that went to its representative, by id; drafts and returned ones are not here."""
    rows = await q.all("SELECT id, round, kind, body, grounds, via, rating, rating_note FROM replies"
                       " WHERE matter_id = ? AND state = ? ORDER BY id", (matter_id, SENT))
    return {r["id"]: SentReply(r["id"], r["round"], r["kind"], r["body"], r["grounds"], r["via"], r["rating"],
                               r["rating_note"]) for r in rows}


async def set_reply(q: Tx, reply_id: int, now: datetime, **fields: Any) -> None:
    allowed = {"state", "approved_by", "leader_by", "return_note", "rating", "rating_note"}
    if set(fields) - allowed:
        raise ValueError(f"not a reply field: {set(fields) - allowed}")
    extra = {"sent_at": ts(now)} if fields.get("state") == SENT else {}
    if "rating" in fields:
        extra["rated_at"] = ts(now)
    merged = {**fields, **extra}
    assignments = ", ".join(f"{name} = ?" for name in merged)
    await q.execute(f"UPDATE replies SET {assignments} WHERE id = ?", (*merged.values(), reply_id))


# -- extensions ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtensionRecord:
    id: int
    matter_id: int
    reason: str
    requested_by: int
    state: str
    old_due: date


async def add_extension(q: Tx, matter_id: int, reason: str, requested_by: int, old_due: date,
                        now: datetime) -> int:
    return await q.insert(
        "INSERT INTO extensions (matter_id, reason, requested_by, requested_at, state, old_due)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (matter_id, reason, requested_by, ts(now), ExtensionState.PENDING, old_due.isoformat()),
    )


async def pending_extension(q: Tx, matter_id: int) -> ExtensionRecord | None:
    row = await q.one("SELECT * FROM extensions WHERE matter_id = ? AND state = ?",
                     (matter_id, ExtensionState.PENDING))
    if row is None:
        return None
    return ExtensionRecord(row["id"], row["matter_id"], row["reason"], row["requested_by"], row["state"],
                           date.fromisoformat(row["old_due"]))


async def decide_extension(q: Tx, extension_id: int, state: ExtensionState, decided_by: int, now: datetime,
                           new_due: date | None, note: str | None) -> None:
    await q.execute(
        "UPDATE extensions SET state = ?, decided_by = ?, decided_at = ?, new_due = ?, note = ? WHERE id = ?",
        (state, decided_by, ts(now), new_due.isoformat() if new_due else None, note, extension_id),
    )


# -- lists -----------------------------------------------------------------------------


async def matters_in(q: Tx, scope: UnitScope, states: tuple[State, ...], department_id: int | None = None,
                     limit: int = 30) -> list[Matter]:
    """The scope's matters in these states, or a department's (with those it handles for the unit above: 交办)."""
    marks = ", ".join("?" for _ in states)
    sql = f"SELECT * FROM matters WHERE {within(scope) if department_id is None else matter_reads(scope)}" \
          f" AND state IN ({marks})"
    params: list[Any] = list(states)
    if department_id is not None:
        sql += " AND department_id = ?"
        params.append(department_id)
    rows = await q.all(sql + " ORDER BY due_date, id LIMIT ?", (*params, limit))
    return [matter_from_row(r) for r in rows]


async def awaiting_approval(q: Tx, state: ReplyState) -> list[tuple[int, int]]:
    """(reply id, matter id) of replies in a state of approval."""
    rows = await q.all("SELECT id, matter_id FROM replies WHERE state = ? ORDER BY id", (state,))
    return [(r["id"], r["matter_id"]) for r in rows]


async def pending_extensions(q: Tx) -> list[int]:
    return [r["matter_id"] for r in await q.all("SELECT matter_id FROM extensions WHERE state = ? ORDER BY id",
                                                           (ExtensionState.PENDING,))]


async def count_by_state(q: Tx, scope: UnitScope) -> dict[str, int]:
    return {r["state"]: r["n"]
            for r in await q.all(f"SELECT state, COUNT(*) AS n FROM matters WHERE {within(scope)} GROUP BY state")}


@dataclass(frozen=True)
class Unreached:
    """A person messages did not reach, and how many: their account could not be reached (blocked the bot, left the
    corp or the app's range), the send failed, or it was held after an uncertain send (it may have arrived)."""

    person_id: int
    name: str
    blocked: int
    failed: int
    held: int
    latest: str  # when the latest of them was written (stored time)

    @property
    def count(self) -> int:
        return self.blocked + self.failed + self.held


@dataclass(frozen=True)
class Missed:
    """One message a person did not receive: when, why, about which matter, and what it said ('' once forgotten)."""

    id: int
    created_at: str
    state: str
    matter_number: str | None
    payload: str


def _undelivered(scope: UnitScope) -> str:
    """FROM and WHERE of the messages that did not reach their person and that the office of `scope`'s unit has not
    yet seen to: about one of its matters, or about no matter to one of its people (its staff, a representative on
    its roster: one who sits in two units' congresses concerns both). A blocked notice whose copy reached the
    person's other account (`outbox.send_elsewhere`) did reach them: the office has nobody to call; one whose copy
    failed too is one notice, counted once. A message to nobody on the roster (an unbound visitor) is nobody's to
    reach."""
    own = UnitScope(scope.unit, scope.acting)  # each unit's office reaches its own people (a city's, not its counties')
    return (
        " FROM outbox o JOIN persons p ON p.id = o.person_id LEFT JOIN matters m ON m.id = o.matter_id"
        " WHERE o.op = 'message' AND o.state IN ('blocked', 'failed', 'held') AND o.settled_at IS NULL"
        f" AND COALESCE(o.last_error, '') <> '{WITHDRAWN}'"  # the office withdrew the account: not a miss to call about
        f" AND NOT EXISTS (SELECT 1 FROM outbox c WHERE c.dedup_key = '{outbox.ELSEWHERE}' || o.id AND c.state = 'sent')"
        f" AND COALESCE(o.dedup_key, '') NOT LIKE '{outbox.ELSEWHERE}%'"  # a copy that failed too: the notice once
        f" AND ({within(own, 'm.unit_id')} OR (o.matter_id IS NULL AND ({within(own, 'p.unit_id')} OR EXISTS"
        f" (SELECT 1 FROM memberships s WHERE s.person_id = o.person_id AND {within(own, 's.unit_id')}))))")


async def undelivered(q: Tx, scope: UnitScope) -> list[Unreached]:
    """The people messages did not reach (`_undelivered`), the latest first."""
    rows = await q.all(
        "SELECT o.person_id, p.name, SUM(CASE WHEN o.state = 'blocked' THEN 1 ELSE 0 END) AS blocked,"
        " SUM(CASE WHEN o.state = 'failed' THEN 1 ELSE 0 END) AS failed,"
        " SUM(CASE WHEN o.state = 'held' THEN 1 ELSE 0 END) AS held, MAX(o.created_at) AS latest"
        f"{_undelivered(scope)} GROUP BY o.person_id, p.name ORDER BY MAX(o.created_at) DESC, o.person_id")
    return [Unreached(int(r["person_id"]), str(r["name"]), int(r["blocked"]), int(r["failed"]), int(r["held"]),
                      str(r["latest"])) for r in rows]


async def undelivered_to(q: Tx, scope: UnitScope, person_id: int, limit: int) -> tuple[int, list[Missed]]:
    """How many messages did not reach this person (`_undelivered`), and the latest `limit` of them."""
    count = int(await q.scalar(f"SELECT COUNT(*){_undelivered(scope)} AND o.person_id = ?", (person_id,)) or 0)
    rows = await q.all(
        f"SELECT o.id, o.created_at, o.state, m.number, o.payload{_undelivered(scope)} AND o.person_id = ?"
        " ORDER BY o.id DESC LIMIT ?", (person_id, limit))
    return count, [Missed(int(r["id"]), str(r["created_at"]), str(r["state"]), r["number"], str(r["payload"]))
                   for r in rows]


async def settle_undelivered(q: Tx, scope: UnitScope, person_id: int, up_to: int, now: datetime) -> int:
    """The office reached this person another way about the messages it was shown (those up to outbox id `up_to`):
    they are no longer shown (kept, and still counted as not sent); one that missed them since is shown still.
    Returns how many."""
    return await q.execute(
        "UPDATE outbox SET settled_at = ? WHERE id IN"
        f" (SELECT o.id{_undelivered(scope)} AND o.person_id = ? AND o.id <= ?)", (ts(now), person_id, up_to))


async def department_staff(q: Tx, department_id: int) -> list[int]:
    rows = await q.all(
        "SELECT DISTINCT p.id FROM persons p JOIN person_roles r ON r.person_id = p.id"
        " WHERE p.department_id = ? AND r.role IN ('handler', 'head') ORDER BY p.id", (department_id,))
    return [int(r["id"]) for r in rows]


async def staffed_departments(q: Tx, scope: UnitScope) -> set[int]:
    """The scope's own unit's departments with a handler or head bound to a chat: someone who is told of a matter
    and can act on it."""
    rows = await q.all(
        "SELECT DISTINCT p.department_id FROM persons p JOIN person_roles r ON r.person_id = p.id"
        " WHERE p.department_id IS NOT NULL AND r.role IN ('handler', 'head') AND p.disabled_at IS NULL"
        " AND p.unit_id = ? AND EXISTS (SELECT 1 FROM identities i WHERE i.person_id = p.id)", (scope.unit,))
    return {int(r["department_id"]) for r in rows}
