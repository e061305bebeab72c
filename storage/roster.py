"""Importing the roster of representatives: update who is there, add who is new, never duplicate.

A person is found again by the strongest key the file gives: its own id column, else the
phone number (by its keyed digest: bot/sealing.py), else name and body. The key is remembered, so a later file that adds an id
column still finds the same people; and a row whose phone changed finds the one person of
that name and body whose key no other row of the file claims.

Each unit imports its own roster (issue 17). A roster's id column and a name are the unit's own (two counties
may each have a 张华, or number their deputies from 1): for units other than unit 1 those keys carry the unit
(`u2:id:17`, `u2:name:npc:张华`; unit 1's are as they were before units). A phone number is one human's wherever
they sit: a row whose phone is a representative's of another unit makes them a member of this unit too (a
county's deputy who also sits in the city's congress: one person, one chat, a membership per unit, with that
unit's body, sector and supervisor flag; docs/design-units.md step 2). The person's name, organization and phone
stay those of the roster of their first unit.
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
from storage.db import Row, Tx, ts


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    seen: frozenset[int] = frozenset()  # the persons the file names (a re-import: who is missing from it)
    joined: tuple[str, ...] = ()  # representatives of another unit who became members of this one too (by phone and
    # name), by name
    persons: tuple[int, ...] = ()  # the person each row of the file is, in the file's order


class PhoneElsewhereError(LiaisonError):
    """Rows whose phone number is that of another unit's representative of another name: nothing was imported
    (one phone, one human: either the number or the name is wrong)."""

    def __init__(self, lines: list[tuple[int, str, str, int]]) -> None:
        super().__init__(f"{len(lines)} row(s) with another representative's phone number")
        self.lines = lines  # (line of the file, its name, the name of the person with that phone, their unit)


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
    """Import the rows into the scope's own unit's roster; PhoneElsewhereError (nothing written) for rows whose
    phone is another unit's representative's of another name."""
    added = updated = unchanged = 0
    joined: list[str] = []
    seen: set[int] = set()
    persons: list[int] = []  # each row's person
    sealer = q.sealer
    unit = scope.unit
    digests = [sealer.digests(normalise_phone(row.phone), PHONE) if row.phone else [] for row in rows]
    row_keys = [keys(row, found, unit) for row, found in zip(rows, digests)]
    claimed = {key for found in row_keys for key in found}
    others = [await _elsewhere(q, unit, found) for found in digests]
    wrong = [(row.line, row.name, str(other["name"]), int(other["unit_id"]))
             for row, other in zip(rows, others) if other is not None and other["name"] != row.name]
    if wrong:
        raise PhoneElsewhereError(wrong)
    for row, candidates, phone_digests, other in zip(rows, row_keys, digests, others):
        marks = ", ".join("?" for _ in candidates)
        existing = await q.all(f"{_MEMBER} WHERE m.unit_id = ? AND m.roster_key IN ({marks})", (unit, *candidates))
        if not existing and phone_digests:  # on this roster under another key: the phone is one human's
            existing = (await q.all(f"{_MEMBER} WHERE m.unit_id = ? AND p.phone_hash IN"
                                    f" ({', '.join('?' for _ in phone_digests)}) ORDER BY p.id", (unit, *phone_digests)))[:1]
            candidates = [*candidates, *(r["key"] for r in existing)]
        if not existing:
            # A changed phone number: the same name and body, once, and no row of this file claims it.
            same = await q.all(f"{_MEMBER} WHERE m.unit_id = ? AND p.name = ? AND m.body = ?", (unit, row.name, row.body))
            if len(same) == 1 and same[0]["key"] not in claimed:
                existing = same
                candidates = [*candidates, same[0]["key"]]
        if not existing and other is not None:  # another unit's representative (by phone and name): ours too
            await q.execute("INSERT INTO memberships (person_id, unit_id, body, sector, supervisor, roster_key,"
                            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (int(other["id"]), unit, row.body, row.sector, int(row.supervisor), candidates[0],
                             ts(now), ts(now)))
            joined.append(row.name)
            seen.add(int(other["id"]))
            persons.append(int(other["id"]))
            continue
        phone, phone_hash = people.sealed_phone(q, row.phone)
        if not existing:
            new_id = await q.insert(
                "INSERT INTO persons (name, body, sector, organization, phone, phone_hash, supervisor, roster_key,"
                " created_at, updated_at, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (row.name, row.body, row.sector, row.organization, phone, phone_hash, int(row.supervisor),
                 candidates[0], ts(now), ts(now), unit),
            )
            added += 1
            seen.add(new_id)
            persons.append(new_id)
            continue
        best = min(existing, key=lambda r: candidates.index(r["key"]))
        seen.add(int(best["id"]))
        persons.append(int(best["id"]))
        if int(best["unit_id"]) != unit:  # a further unit's membership: its own fields only
            if (best["body"], best["sector"], bool(best["supervisor"]), best["key"]) == (
                    row.body, row.sector, row.supervisor, candidates[0]):
                unchanged += 1
                continue
            await q.execute("UPDATE memberships SET body = ?, sector = ?, supervisor = ?, roster_key = ?,"
                            " updated_at = ? WHERE person_id = ? AND unit_id = ?",
                            (row.body, row.sector, int(row.supervisor), candidates[0], ts(now), best["id"], unit))
            updated += 1
            continue
        plain = (row.name, row.body, row.sector, row.organization, row.phone, int(row.supervisor), candidates[0])
        current = (best["name"], best["body"], best["sector"], best["organization"],
                   sealer.open(best["phone"], PHONE) if best["phone"] else "", best["supervisor"], best["key"])
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
    return ImportResult(added, updated, unchanged, frozenset(seen), tuple(joined), tuple(persons))


async def _elsewhere(q: Tx, unit: int, phone_digests: list[str]) -> Row | None:
    """The representative of another unit with this phone who is not yet on this unit's roster (id, name, their
    first unit), if any."""
    if not phone_digests:
        return None
    return await q.one(
        f"SELECT p.id, p.name, p.unit_id FROM persons p WHERE p.phone_hash IN ({', '.join('?' for _ in phone_digests)})"
        " AND EXISTS (SELECT 1 FROM unit_members o WHERE o.person_id = p.id)"
        " AND NOT EXISTS (SELECT 1 FROM unit_members o WHERE o.person_id = p.id AND o.unit_id = ?) ORDER BY p.id",
        (*phone_digests, unit))


# A unit's member: the person (their first unit's unit_id on the row), and the membership's own fields.
_MEMBER = ("SELECT p.id, p.name, p.organization, p.phone, p.unit_id, m.body, m.sector, m.supervisor,"
           " m.roster_key AS key FROM unit_members m JOIN persons p ON p.id = m.person_id")


async def leave(q: Tx, scope: UnitScope, person_id: int, now: datetime) -> bool:
    """The person is no longer on the scope's unit's roster: True when they stay on another unit's (the membership
    ended; a first unit's is taken over by a further one), False when this was their only unit (the caller
    disables them)."""
    further = await q.one("SELECT * FROM memberships WHERE person_id = ? AND unit_id <> ? ORDER BY unit_id LIMIT 1",
                          (person_id, scope.unit))
    home = await q.scalar("SELECT unit_id FROM persons WHERE id = ?", (person_id,))
    if int(home) != scope.unit:
        await q.execute("DELETE FROM memberships WHERE person_id = ? AND unit_id = ?", (person_id, scope.unit))
        return True
    if further is None:
        return False
    await q.execute("UPDATE persons SET unit_id = ?, body = ?, sector = ?, supervisor = ?, roster_key = ?,"
                    " updated_at = ? WHERE id = ?", (further["unit_id"], further["body"], further["sector"],
                                                      further["supervisor"], further["roster_key"], ts(now), person_id))
    await q.execute("DELETE FROM memberships WHERE person_id = ? AND unit_id = ?", (person_id, further["unit_id"]))
    return True
