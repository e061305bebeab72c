"""Queries of supervision: what the scheduler looks at, and the record of reminders fired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from storage.db import Row, Tx, ts
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


WATCHED_STATES = ("registered", "assigned", "in_progress", "concluded", "reopened")  # DEADLINE ∪ URGED


class Watched:
    """An open matter as the sweep needs it, read in one query with what its rules look at. The
    whole `Matter` is built only when asked for (only for a reminder that is to fire)."""

    def __init__(self, row: Row) -> None:
        self._row = row
        self.id: int = row["id"]
        self.state: str = row["state"]
        self.major = bool(row["major"])
        self.department_id: int | None = row["department_id"]
        self.urger_id: int | None = row["urger_id"]
        self.due_date = date.fromisoformat(row["due_date"])
        self.last_action = str(row["w_last_action"])  # when anyone last acted on it (its registration at the latest)
        self.assigned_at: str | None = row["w_assigned"]  # its latest assignment
        self.since: str | None = row["w_since"]  # major matters only: its latest (re)assignment or registration
        self.notice: str | None = row["w_notice"]  # major matters only: its latest progress notice
        self.urger_name: str | None = row["w_urger_name"]

    @cached_property
    def matter(self) -> Matter:
        return matter_from_row(self._row)


async def watched(q: Tx) -> list[Watched]:
    """Every matter in WATCHED_STATES, by id, with its latest timeline moments (one query: the open
    matters through matters_state_due, each one's events through timeline_event)."""
    marks = ", ".join("?" for _ in WATCHED_STATES)
    progress = ", ".join("?" for _ in PUBLIC_PROGRESS)
    rows = await q.all(
        "SELECT m.*, COALESCE(m.last_action_at, m.registered_at) AS w_last_action, u.name AS w_urger_name,"
        " (SELECT MAX(t.at) FROM timeline t WHERE t.matter_id = m.id AND t.event = 'assigned') AS w_assigned,"
        " CASE WHEN m.major = 1 THEN (SELECT MAX(t.at) FROM timeline t WHERE t.matter_id = m.id"
        "  AND t.event IN ('assigned', 'registered')) END AS w_since,"
        " CASE WHEN m.major = 1 THEN (SELECT MAX(t.at) FROM timeline t WHERE t.matter_id = m.id"
        f"  AND t.event IN ({progress})) END AS w_notice"
        " FROM matters m LEFT JOIN persons u ON u.id = m.urger_id"
        f" WHERE m.state IN ({marks}) ORDER BY m.id",
        (*PUBLIC_PROGRESS, *WATCHED_STATES),
    )
    return [Watched(r) for r in rows]


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


@dataclass(frozen=True)
class UnratedReply:
    """A sent reply not rated, with its matter (replied) and what a second asking repeats of it."""

    item: Unrated
    matter: Matter
    body: str
    grounds: str
    via: str


async def unrated_replies(q: Tx) -> list[UnratedReply]:
    """Sent replies not rated of matters still waiting for a rating, by reply id (through the partial
    index replies_unrated: the few replies waiting, not every reply ever sent)."""
    rows = await q.all(
        "SELECT m.*, r.id AS u_reply_id, r.sent_at AS u_sent_at, r.asked_again_at AS u_asked_again_at,"
        " r.body AS u_body, r.grounds AS u_grounds, r.via AS u_via"
        " FROM replies r JOIN matters m ON m.id = r.matter_id"
        " WHERE r.state = 'sent' AND r.rating IS NULL AND m.state = 'replied' ORDER BY r.id")
    return [UnratedReply(Unrated(r["u_reply_id"], r["id"], r["u_sent_at"], r["u_asked_again_at"]),
                         matter_from_row(r), r["u_body"], r["u_grounds"], r["u_via"]) for r in rows]


async def mark_asked_again(q: Tx, reply_id: int, now: datetime) -> None:
    await q.execute("UPDATE replies SET asked_again_at = ? WHERE id = ?", (ts(now), reply_id))
