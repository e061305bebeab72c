"""Matters, their attachments and their timeline; the yearly number sequence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.matter.model import Matter as Matter  # the core's types; named here too for branches in flight
from bot.matter.model import NewMatter as NewMatter
from bot.matter.states import State
from bot.model import UnitScope
from bot.sealing import COMPLAINANT_CONTACT, COMPLAINANT_NAME
from storage.db import Row, Tx, ts
from storage.units import matter_reads, within


@dataclass(frozen=True)
class StoredFile:
    kind: str
    name: str
    size: int
    mime: str | None
    sha256: str
    path: str


@dataclass(frozen=True)
class Event:
    at: str
    actor_id: int | None
    event: str
    public: bool
    detail: dict[str, Any]


def matter_from_row(row: Row) -> Matter:
    return Matter(
        id=row["id"],
        number=row["number"],
        kind=row["kind"],
        representative_id=row["representative_id"],
        subject=row["subject"],
        body=row["body"],
        received_via=row["received_via"],
        complainant_name=row["complainant_name"],
        complainant_contact=row["complainant_contact"],
        disputes_own_handling=bool(row["disputes_own_handling"]),
        original_department_id=row["original_department_id"],
        state=State(row["state"]),
        major=bool(row["major"]),
        department_id=row["department_id"],
        urger_id=row["urger_id"],
        registered_at=row["registered_at"],
        due_date=date.fromisoformat(row["due_date"]),
        outcome=row["outcome"],
        owes_final_reply=bool(row["owes_final_reply"]),
        reopened=row["reopened"],
        transferred_to=row["transferred_to"],
        unit_id=int(row["unit_id"]),
        handling_unit_id=None if row["handling_unit_id"] is None else int(row["handling_unit_id"]),
        transferred_from_id=row["transferred_from_id"],
    )


async def next_sequence(q: Tx, name: str, year: int) -> int:
    """Take the next number of a yearly sequence; inside the registering transaction, so never reused."""
    row = await q.one(
        "INSERT INTO counters (name, year, value) VALUES (?, ?, 1)"
        " ON CONFLICT (name, year) DO UPDATE SET value = counters.value + 1 RETURNING value",
        (name, year),
    )
    assert row is not None
    return int(row[0])


async def insert(q: Tx, scope: UnitScope, new: NewMatter, number: str, state: str, now: datetime,
                 due: date) -> int:
    """Register a matter of the unit `scope` acts in."""
    return await q.insert(
        "INSERT INTO matters (unit_id, number, kind, representative_id, subject, body, received_via, registered_by,"
        " complainant_name, complainant_contact, disputes_own_handling, original_department_id, state,"
        " registered_at, due_date, updated_at, transferred_from_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            scope.unit, number, new.kind, new.representative_id, new.subject, new.body, new.received_via,
            new.registered_by, q.sealer.seal_opt(new.complainant_name, COMPLAINANT_NAME),
            q.sealer.seal_opt(new.complainant_contact, COMPLAINANT_CONTACT), int(new.disputes_own_handling),
            new.original_department_id, state, ts(now), due.isoformat(), ts(now), new.transferred_from_id,
        ),
    )


@dataclass(frozen=True)
class Complainant:
    name: str
    contact: str
    erased: bool  # kept no longer (storage.keep_complainant_days): both are ""


async def complainant(q: Tx, matter: Matter) -> Complainant:
    """A referred case's complainant, opened (only for those who may see it: bot/permissions.py)."""
    if matter.complainant_name is None and matter.complainant_contact is None:
        erased = await q.scalar("SELECT complainant_erased_at FROM matters WHERE id = ? AND unit_id = ?",
                                (matter.id, matter.unit_id))
        return Complainant("", "", erased is not None)
    return Complainant(q.sealer.open_opt(matter.complainant_name, COMPLAINANT_NAME) or "",
                       q.sealer.open_opt(matter.complainant_contact, COMPLAINANT_CONTACT) or "", False)


async def add_files(q: Tx, matter_id: int, files: list[StoredFile], now: datetime,
                    reply_id: int | None = None) -> None:
    await q.executemany(
        "INSERT INTO attachments (matter_id, kind, name, size, mime, sha256, path, created_at, reply_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(matter_id, f.kind, f.name, f.size, f.mime, f.sha256, f.path, ts(now), reply_id) for f in files],
    )


async def files(q: Tx, matter_id: int, reply_id: int | None = None) -> list[StoredFile]:
    """The representative's files of a matter, or with `reply_id` the files of that reply."""
    where = "reply_id = ?" if reply_id is not None else "reply_id IS NULL"
    rows = await q.all(
        f"SELECT kind, name, size, mime, sha256, path FROM attachments WHERE matter_id = ? AND {where} ORDER BY id",
        (matter_id, reply_id) if reply_id is not None else (matter_id,),
    )
    return [StoredFile(r["kind"], r["name"], r["size"], r["mime"], r["sha256"], r["path"]) for r in rows]


async def add_event(
    q: Tx, matter_id: int, event: str, *, actor_id: int | None, public: bool, now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    await q.execute(
        "INSERT INTO timeline (matter_id, at, actor_id, event, public, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (matter_id, ts(now), actor_id, event, int(public), json.dumps(detail or {}, ensure_ascii=False)),
    )


async def events(q: Tx, matter_id: int, *, public_only: bool) -> list[Event]:
    sql = "SELECT at, actor_id, event, public, detail FROM timeline WHERE matter_id = ?"
    if public_only:
        sql += " AND public = 1"
    rows = await q.all(sql + " ORDER BY id", (matter_id,))
    return [Event(r["at"], r["actor_id"], r["event"], bool(r["public"]), json.loads(r["detail"])) for r in rows]


async def by_number(q: Tx, scope: UnitScope, number: str, *, own: bool = False) -> Matter | None:
    """The matter with this number among the units `scope` reads (or handles for the unit above: 交办; `own`: the
    units' own matters only, for what a unit does of its own with a matter: a case discussion, its NPC register);
    None for another unit's (as for no matter)."""
    row = await q.one(f"SELECT * FROM matters WHERE number = ? AND {within(scope) if own else matter_reads(scope)}",
                      (number.strip().upper(),))
    return None if row is None else matter_from_row(row)


async def get(q: Tx, scope: UnitScope, matter_id: int, *, own: bool = False) -> Matter | None:
    """The matter with this id among the units `scope` reads (or handles for the unit above; `own`: as in
    `by_number`): a button naming another unit's matter finds none."""
    row = await q.one(f"SELECT * FROM matters WHERE id = ? AND {within(scope) if own else matter_reads(scope)}",
                      (matter_id,))
    return None if row is None else matter_from_row(row)


async def number_and_unit(q: Tx, matter_id: int) -> tuple[str, int]:
    """The number of a matter and its unit, whichever unit's (a transferred matter names the one it came from)."""
    row = await q.one("SELECT number, unit_id FROM matters WHERE id = ?", (matter_id,))
    if row is None:
        raise LookupError(f"no matter {matter_id}")
    return str(row["number"]), int(row["unit_id"])


async def of_representative(q: Tx, scope: UnitScope, person_id: int, limit: int, offset: int = 0) -> list[Matter]:
    rows = await q.all(
        f"SELECT * FROM matters WHERE representative_id = ? AND {matter_reads(scope)} ORDER BY id DESC LIMIT ? OFFSET ?",
        (person_id, limit, offset),
    )
    return [matter_from_row(r) for r in rows]


async def count_of_representative(q: Tx, scope: UnitScope, person_id: int) -> int:
    return int(await q.scalar(f"SELECT COUNT(*) FROM matters WHERE representative_id = ? AND {matter_reads(scope)}",
                              (person_id,)))
