"""Importing the roster of representatives: update who is there, add who is new, never duplicate.

A person is found again by the strongest key the file gives: its own id column, else the
phone number (by its keyed digest: bot/sealing.py), else name and body. The key is remembered, so a later file that adds an id
column still finds the same people; and a row whose phone changed finds the one person of
that name and body whose key no other row of the file claims.

Each unit imports its own roster (issue 17). A roster's id column and a name are the unit's own (two counties
may each have a 张华, or number their deputies from 1): for units other than unit 1 those keys carry the unit
(`u2:id:17`, `u2:name:npc:张华`; unit 1's are as they were before units). A phone number is one human's wherever
they sit: a row whose phone is on another unit's roster is refused with the file (one person in two units comes
with memberships, docs/design-units.md step 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import normalise_phone
from bot.errors import LiaisonError
from bot.model import FIRST_UNIT, UnitScope
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


class OtherUnitError(LiaisonError):
    """Rows of the file name people on another unit's roster (by their phone): nothing was imported."""

    def __init__(self, lines: list[tuple[int, str, int]]) -> None:
        super().__init__(f"{len(lines)} row(s) on another unit's roster")
        self.lines = lines  # (line of the file, name, the unit whose roster has them)


def keys(row: RosterRow, phone_keys: list[str], unit: int = FIRST_UNIT) -> list[str]:
    """The row's keys, strongest first; `phone_keys` are its phone's keyed digests (the sealing key's
    first), so that no phone number is ever stored in the clear, not even as a key. The id and the name are
    the unit's own: another unit's carry its id."""
    own = "" if unit == FIRST_UNIT else f"u{unit}:"
    found = []
    if row.external_id:
        found.append(f"{own}id:{row.external_id}")
    found += [f"phone:{digest}" for digest in phone_keys]
    found.append(f"{own}name:{row.body}:{row.name}")
    return found


async def upsert(q: Tx, scope: UnitScope, rows: list[RosterRow], now: datetime) -> ImportResult:
    """Import the rows into the scope's own unit's roster; OtherUnitError (nothing written) for rows whose phone
    is on another unit's."""
    added = updated = unchanged = 0
    seen: set[int] = set()
    sealer = q.sealer
    unit = scope.unit
    row_keys = [keys(row, sealer.digests(normalise_phone(row.phone), PHONE) if row.phone else [], unit)
                for row in rows]
    elsewhere = []
    for row in rows:  # by the phone's digest itself: a person stored under an id or a name key has it too
        digests = sealer.digests(normalise_phone(row.phone), PHONE) if row.phone else []
        if not digests:
            continue
        marks = ", ".join("?" for _ in digests)
        found = await q.scalar(f"SELECT MIN(unit_id) FROM persons WHERE phone_hash IN ({marks}) AND body IS NOT NULL"
                               " AND unit_id <> ?", (*digests, unit))
        if found is not None:
            elsewhere.append((row.line, row.name, int(found)))
    if elsewhere:
        raise OtherUnitError(elsewhere)
    claimed = {key for found in row_keys for key in found}
    for row, candidates in zip(rows, row_keys):
        marks = ", ".join("?" for _ in candidates)
        existing = await q.all(f"SELECT * FROM persons WHERE roster_key IN ({marks}) AND unit_id = ?",
                               (*candidates, unit))
        if not existing:
            # A changed phone number: the same name and body, once, and no row of this file claims it.
            same = await q.all("SELECT * FROM persons WHERE name = ? AND body = ? AND unit_id = ?",
                               (row.name, row.body, unit))
            if len(same) == 1 and same[0]["roster_key"] not in claimed:
                existing = same
                candidates = [*candidates, same[0]["roster_key"]]
        phone, phone_hash = people.sealed_phone(q, row.phone)
        plain = (row.name, row.body, row.sector, row.organization, row.phone, int(row.supervisor), candidates[0])
        if not existing:
            new_id = await q.insert(
                "INSERT INTO persons (name, body, sector, organization, phone, phone_hash, supervisor, roster_key,"
                " created_at, updated_at, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (row.name, row.body, row.sector, row.organization, phone, phone_hash, int(row.supervisor),
                 candidates[0], ts(now), ts(now), unit),
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
