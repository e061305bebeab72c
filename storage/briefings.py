"""Briefings (seed §2, §5): text and documents the office sends to representatives, whom they
reached, and the opinions sent in reply (which are matters)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.model import UnitScope
from storage.db import Tx, ts
from storage.matters import StoredFile
from storage.units import acting_in


@dataclass(frozen=True)
class Briefing:
    id: int
    title: str
    text: str
    created_by: int
    sent_at: str
    unit_id: int = 1  # the unit that sent it


async def create(q: Tx, scope: UnitScope, title: str, text: str, created_by: int, audience: dict[str, Any],
                 files: list[StoredFile], now: datetime) -> int:
    """Store a briefing of the scope's own unit as sent now, with its files in order."""
    briefing_id = await q.insert(
        "INSERT INTO briefings (title, text, created_by, audience, sent_at, unit_id) VALUES (?, ?, ?, ?, ?, ?)"
        " RETURNING id", (title, text, created_by, json.dumps(audience, ensure_ascii=False), ts(now), scope.unit),
    )
    await q.executemany(
        "INSERT INTO briefing_files (briefing_id, kind, name, size, mime, sha256, path) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(briefing_id, f.kind, f.name, f.size, f.mime, f.sha256, f.path) for f in files],
    )
    return briefing_id


async def get(q: Tx, scope: UnitScope, briefing_id: int) -> Briefing | None:
    """The briefing, if it is of a unit the scope acts in (its own; a representative's units)."""
    row = await q.one(f"SELECT * FROM briefings WHERE id = ? AND {acting_in(scope)}", (briefing_id,))
    if row is None:
        return None
    return Briefing(row["id"], row["title"], row["text"], row["created_by"], row["sent_at"], int(row["unit_id"]))


async def files(q: Tx, briefing_id: int) -> list[StoredFile]:
    rows = await q.all("SELECT * FROM briefing_files WHERE briefing_id = ? ORDER BY id", (briefing_id,))
    return [StoredFile(r["kind"], r["name"], r["size"], r["mime"], r["sha256"], r["path"]) for r in rows]


async def add_recipient(q: Tx, briefing_id: int, person_id: int, delivered_at: datetime | None) -> None:
    await q.execute("INSERT INTO briefing_recipients (briefing_id, person_id, delivered_at) VALUES (?, ?, ?)",
                    (briefing_id, person_id, ts(delivered_at) if delivered_at else None))


async def was_delivered(q: Tx, briefing_id: int, person_id: int) -> bool:
    """Whether the briefing was sent to this person's chat: who may reply to it."""
    value = await q.scalar(
        "SELECT 1 FROM briefing_recipients WHERE briefing_id = ? AND person_id = ? AND delivered_at IS NOT NULL",
        (briefing_id, person_id),
    )
    return value is not None


async def add_opinion(q: Tx, briefing_id: int, person_id: int, matter_id: int) -> None:
    await q.execute("INSERT INTO briefing_opinions (matter_id, briefing_id, person_id) VALUES (?, ?, ?)",
                    (matter_id, briefing_id, person_id))
