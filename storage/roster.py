"""Importing the roster of representatives: update who is there, add who is new, never duplicate.

A person is found again by the strongest key the file gives: its own id column, else the
phone number, else name and body. The key is remembered, so a later file that adds an id
column still finds the same people; and a row whose phone changed finds the one person of
that name and body whose key no other row of the file claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.roster_file import RosterRow
from storage.db import Tx, ts


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int


def keys(row: RosterRow) -> list[str]:
    """The row's keys, strongest first."""
    found = []
    if row.external_id:
        found.append(f"id:{row.external_id}")
    if row.phone:
        found.append(f"phone:{row.phone}")
    found.append(f"name:{row.body}:{row.name}")
    return found


async def upsert(q: Tx, rows: list[RosterRow], now: datetime) -> ImportResult:
    added = updated = unchanged = 0
    claimed = {key for row in rows for key in keys(row)}
    for row in rows:
        candidates = keys(row)
        marks = ", ".join("?" for _ in candidates)
        existing = await q.all(f"SELECT * FROM persons WHERE roster_key IN ({marks})", candidates)
        if not existing:
            # A changed phone number: the same name and body, once, and no row of this file claims it.
            same = await q.all("SELECT * FROM persons WHERE name = ? AND body = ?", (row.name, row.body))
            if len(same) == 1 and same[0]["roster_key"] not in claimed:
                existing = same
                candidates = [*candidates, same[0]["roster_key"]]
        values = (row.name, row.body, row.sector, row.organization, row.phone, int(row.supervisor), candidates[0])
        if not existing:
            await q.execute(
                "INSERT INTO persons (name, body, sector, organization, phone, supervisor, roster_key,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, ts(now), ts(now)),
            )
            added += 1
            continue
        best = min(existing, key=lambda r: candidates.index(r["roster_key"]))
        current = (best["name"], best["body"], best["sector"], best["organization"], best["phone"],
                   best["supervisor"], best["roster_key"])
        if current == values:
            unchanged += 1
            continue
        await q.execute(
            "UPDATE persons SET name = ?, body = ?, sector = ?, organization = ?, phone = ?, supervisor = ?,"
            " roster_key = ?, updated_at = ? WHERE id = ?",
            (*values, ts(now), best["id"]),
        )
        updated += 1
    return ImportResult(added, updated, unchanged)
