"""Importing the roster of representatives: update who is there, add who is new, never duplicate.

A person is found again by the strongest key the file gives: its own id column, else the
phone number (by its keyed digest: bot/sealing.py), else name and body. The key is remembered, so a later file that adds an id
column still finds the same people; and a row whose phone changed finds the one person of
that name and body whose key no other row of the file claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import normalise_phone
from bot.roster_file import RosterRow
from bot.sealing import PHONE
from storage import people
from storage.db import Tx, ts


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    seen: frozenset[int] = frozenset()  # the persons the file names (a re-import: who is missing from it)


def keys(row: RosterRow, phone_keys: list[str]) -> list[str]:
    """The row's keys, strongest first; `phone_keys` are its phone's keyed digests (the sealing key's
    first), so that no phone number is ever stored in the clear, not even as a key."""
    found = []
    if row.external_id:
        found.append(f"id:{row.external_id}")
    found += [f"phone:{digest}" for digest in phone_keys]
    found.append(f"name:{row.body}:{row.name}")
    return found


async def upsert(q: Tx, rows: list[RosterRow], now: datetime) -> ImportResult:
    added = updated = unchanged = 0
    seen: set[int] = set()
    sealer = q.sealer
    row_keys = [keys(row, sealer.digests(normalise_phone(row.phone), PHONE) if row.phone else []) for row in rows]
    claimed = {key for found in row_keys for key in found}
    for row, candidates in zip(rows, row_keys):
        marks = ", ".join("?" for _ in candidates)
        existing = await q.all(f"SELECT * FROM persons WHERE roster_key IN ({marks})", candidates)
        if not existing:
            # A changed phone number: the same name and body, once, and no row of this file claims it.
            same = await q.all("SELECT * FROM persons WHERE name = ? AND body = ?", (row.name, row.body))
            if len(same) == 1 and same[0]["roster_key"] not in claimed:
                existing = same
                candidates = [*candidates, same[0]["roster_key"]]
        phone, phone_hash = people.sealed_phone(q, row.phone)
        plain = (row.name, row.body, row.sector, row.organization, row.phone, int(row.supervisor), candidates[0])
        if not existing:
            new_id = await q.insert(
                "INSERT INTO persons (name, body, sector, organization, phone, phone_hash, supervisor, roster_key,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (row.name, row.body, row.sector, row.organization, phone, phone_hash, int(row.supervisor),
                 candidates[0], ts(now), ts(now)),
            )
            added += 1
            seen.add(new_id)
            continue
        best = min(existing, key=lambda r: candidates.index(r["roster_key"]))
        seen.add(int(best["id"]))
        current = (best["name"], best["body"], best["sector"], best["organization"],
                   sealer.open(best["phone"], PHONE) if best["phone"] else "", best["supervisor"], best["roster_key"])
        if current == plain:
            unchanged += 1
            continue
        await q.execute(
            "UPDATE persons SET name = ?, body = ?, sector = ?, organization = ?, phone = ?, phone_hash = ?,"
            " supervisor = ?, roster_key = ?, updated_at = ? WHERE id = ?",
            (row.name, row.body, row.sector, row.organization, phone, phone_hash, int(row.supervisor),
             candidates[0], ts(now), best["id"]),
        )
        updated += 1
    return ImportResult(added, updated, unchanged, frozenset(seen))
