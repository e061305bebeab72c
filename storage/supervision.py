"""Queries of supervision: what the scheduler looks at, and the record of reminders fired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Tx, ts
from storage.matters import Matter, matter_from_row

DEADLINE_STATES = ("registered", "assigned", "in_progress", "reopened")  # not yet concluded (§12)
URGED_STATES = ("assigned", "in_progress", "concluded", "reopened")  # with a department and an urger (§13)
PUBLIC_PROGRESS = ("progress_public", "extended")  # what counts as a progress notice (§12)


async def fire(q: Tx, key: str, rule: str, matter_id: int | None, now: datetime) -> bool:
    """Record that a reminder fired; False if it fired before (then nothing is to be sent)."""
    row = await q.one(
        "INSERT INTO reminders (key, rule, matter_id, fired_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO NOTHING RETURNING key",
        (key, rule, matter_id, ts(now)),
    )
    return row is not None


async def fired(q: Tx, keys: list[str]) -> set[str]:
    """Which of these keys have fired already (to skip work before opening a write transaction)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        found |= {r["key"] for r in await q.all(f"SELECT key FROM reminders WHERE key IN ({marks})", chunk)}
    return found


async def matters_in(q: Tx, states: tuple[str, ...]) -> list[Matter]:
    marks = ", ".join("?" for _ in states)
    rows = await q.all(f"SELECT * FROM matters WHERE state IN ({marks}) ORDER BY id", states)
    return [matter_from_row(r) for r in rows]


async def last_event(q: Tx, matter_id: int, events: tuple[str, ...]) -> str | None:
    marks = ", ".join("?" for _ in events)
    value = await q.scalar(
        f"SELECT MAX(at) FROM timeline WHERE matter_id = ? AND event IN ({marks})", (matter_id, *events)
    )
    return None if value is None else str(value)


async def last_action(q: Tx, matter_id: int) -> str:
    """When anyone last acted on the matter (its registration at the latest)."""
    row = await q.one("SELECT COALESCE(last_action_at, registered_at) FROM matters WHERE id = ?", (matter_id,))
    assert row is not None
    return str(row[0])


async def people_in(q: Tx, department_id: int, role: str) -> list[int]:
    rows = await q.all(
        "SELECT p.id FROM persons p JOIN person_roles r ON r.person_id = p.id"
        " WHERE p.department_id = ? AND r.role = ? ORDER BY p.id", (department_id, role))
    return [int(r["id"]) for r in rows]


@dataclass(frozen=True)
class Unrated:
    reply_id: int
    matter_id: int
    sent_at: str
    asked_again_at: str | None


async def unrated_replies(q: Tx) -> list[Unrated]:
    rows = await q.all(
        "SELECT r.id, r.matter_id, r.sent_at, r.asked_again_at FROM replies r JOIN matters m ON m.id = r.matter_id"
        " WHERE r.state = 'sent' AND r.rating IS NULL AND m.state = 'replied' ORDER BY r.id")
    return [Unrated(r["id"], r["matter_id"], r["sent_at"], r["asked_again_at"]) for r in rows]


async def mark_asked_again(q: Tx, reply_id: int, now: datetime) -> None:
    await q.execute("UPDATE replies SET asked_again_at = ? WHERE id = ?", (ts(now), reply_id))
