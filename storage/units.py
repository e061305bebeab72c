"""Units (单位): the procuratorates one deployment serves (issue 17, docs/design-units.md).

Unit 1 is the one the configuration's [unit] section describes (its name, matter prefix and time zone are
written over the table's at every start: `follow_config`); `python -m bot unit add` adds the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import LiaisonError
from bot.model import FIRST_UNIT, UnitScope
from storage.db import Tx, ts

def within(scope: UnitScope, column: str = "unit_id") -> str:
    """The condition that keeps a query to the units `scope` may read: `unit_id IN (1, 3)`. The ids are the
    scope's integers, written into the SQL (never text from a person), so one statement serves any number of units
    on both engines."""
    return f"{column} IN ({', '.join(str(int(unit)) for unit in sorted(scope.reads))})"


def matter_reads(scope: UnitScope) -> str:
    """`within` for matters: the scope's units' own, those a county of the scope handles for the unit above it
    (交办: its department's handlers find and act on the city's matter; permissions decide who may do what), and a
    representative's own in any unit."""
    own = "" if scope.representative is None else f" OR representative_id = {int(scope.representative)}"
    return f"({within(scope)} OR {within(scope, 'handling_unit_id')}{own})"


def matter_acts(scope: UnitScope) -> str:
    """`acting_in` for matters, with the matters the scope's unit handles for the unit above it and a
    representative's own."""
    own = "" if scope.representative is None else f" OR representative_id = {int(scope.representative)}"
    return f"({acting_in(scope)} OR {acting_in(scope, 'handling_unit_id')}{own})"


def acting_in(scope: UnitScope, column: str = "unit_id") -> str:
    """The condition that keeps a change, or a row found by id to be acted on, to the units `scope` acts in: the
    own unit (staff: a unit only read, a city's view of its counties, is never acted in), and for a
    representative each unit they are a member of."""
    return f"{column} IN ({', '.join(str(int(unit)) for unit in sorted(scope.acting))})"


class UnitError(LiaisonError):
    """A unit cannot be added or described so; the message (for the operator's command line) says why."""


PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,9}")  # as [unit] matter_prefix: LS, LB, SMX


PAPERS = ("document_number", "addressee", "issuer", "signer", "copy_to", "regulation")
"""What a unit's papers carry of their own (migration 0024); None: the configuration's [report] and [terms]."""


@dataclass(frozen=True)
class Unit:
    id: int
    name: str
    prefix: str
    parent_id: int | None
    timezone: str
    papers: dict[str, str] = field(default_factory=dict)  # those of PAPERS it has its own value for


_COLUMNS = "id, name, prefix, parent_id, timezone, " + ", ".join(PAPERS)


def _unit(row: object) -> Unit:
    r = row  # a Row of the units table
    papers = {name: str(r[name]) for name in PAPERS if r[name] is not None}  # type: ignore[index]
    return Unit(int(r["id"]), str(r["name"]), str(r["prefix"]),  # type: ignore[index]
                None if r["parent_id"] is None else int(r["parent_id"]), str(r["timezone"]),  # type: ignore[index]
                papers)


async def listed(q: Tx) -> list[Unit]:
    return [_unit(r) for r in await q.all(f"SELECT {_COLUMNS} FROM units ORDER BY id")]


async def set_papers(q: Tx, unit_id: int, values: Mapping[str, str | None]) -> None:
    """Set some of a unit's own paper settings (None: back to the configuration's); unit 1's are the
    configuration's alone, refused."""
    unknown = set(values) - set(PAPERS)
    if unknown:
        raise ValueError(f"not a paper setting: {sorted(unknown)}")
    if unit_id == FIRST_UNIT:
        raise UnitError("unit 1's papers follow the [report] and [terms] sections of the configuration")
    for name, value in values.items():  # the names are PAPERS', never a person's text
        await q.execute(f"UPDATE units SET {name} = ? WHERE id = ?", (value, unit_id))


async def get(q: Tx, unit_id: int) -> Unit:
    row = await q.one(f"SELECT {_COLUMNS} FROM units WHERE id = ?", (unit_id,))
    if row is None:
        raise LookupError(f"no unit {unit_id}")
    return _unit(row)


async def roll_up(q: Tx, unit_id: int) -> tuple[UnitScope, list[Unit]]:
    """The unit with every unit below it (a city's counties, theirs in turn): the scope that writes in the unit
    and reads them all (its leaders' and office's read-only roll-ups), and the units, the unit first, then by id."""
    every = await listed(q)
    below: dict[int | None, list[Unit]] = {}
    for unit in every:
        below.setdefault(unit.parent_id, []).append(unit)
    found = [u for u in every if u.id == unit_id]
    for unit in found:  # grows as it goes: breadth first
        found += [child for child in below.get(unit.id, []) if child not in found]
    family = found[:1] + sorted(found[1:], key=lambda u: u.id)
    return UnitScope(unit_id, frozenset(u.id for u in family) or frozenset({unit_id})), family


async def by_name(q: Tx, name: str) -> Unit | None:
    """The unit of that name (its full name, as the office writes a competent authority)."""
    row = await q.one(f"SELECT {_COLUMNS} FROM units WHERE name = ?", (name.strip(),))
    return None if row is None else _unit(row)


async def children(q: Tx, unit_id: int) -> list[Unit]:
    """The units directly below this one (a city's counties), by id."""
    return [_unit(r) for r in await q.all(f"SELECT {_COLUMNS} FROM units WHERE parent_id = ? ORDER BY id", (unit_id,))]


async def by_prefix(q: Tx, prefix: str) -> Unit | None:
    row = await q.one(f"SELECT {_COLUMNS} FROM units WHERE prefix = ?", (prefix,))
    return None if row is None else _unit(row)


async def follow_config(q: Tx, name: str, prefix: str, timezone: str) -> bool:
    """Unit 1 as the [unit] section says; True if anything changed. Another unit with that prefix: refused."""
    other = await by_prefix(q, prefix)
    if other is not None and other.id != 1:
        raise UnitError(f"unit.matter_prefix {prefix} is the prefix of another unit ({other.name})")
    return await q.execute("UPDATE units SET name = ?, prefix = ?, timezone = ? WHERE id = 1"
                           " AND (name <> ? OR prefix <> ? OR timezone <> ?)",
                           (name, prefix, timezone, name, prefix, timezone)) == 1


NEW_DOCUMENT_NUMBER = "〔{year}〕　号"  # a new unit's until it sets its own: its abbreviation left blank, not unit 1's


async def add(q: Tx, name: str, prefix: str, parent: str | None, timezone: str, now: datetime,
              papers: dict[str, str] | None = None) -> Unit:
    """A new unit; refused (nothing written) for a name or prefix already taken, a bad prefix, an unknown parent
    or time zone. Its papers: those given, else a document number with the abbreviation left blank and, under a
    parent, the parent as the addressee (the procuratorate it reports to)."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise UnitError("a unit needs a name of 1 to 100 characters")
    if not PREFIX.fullmatch(prefix):
        raise UnitError(f"prefix {prefix!r}: 1 to 10 capital letters or digits, starting with a letter (LS, SMX)")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnitError(f"unknown time zone {timezone!r}") from None
    for unit in await listed(q):
        if unit.prefix == prefix:
            raise UnitError(f"the prefix {prefix} is {unit.name}'s already")
        if unit.name == name:
            raise UnitError(f"there is a unit named {name} already ({unit.prefix})")
    parent_id = None
    # its own from the start, never unit 1's [report]: the abbreviation of its number left blank, no signer (a
    # blank to sign by hand), its own office as the issuer, no copies, and the unit above it as the addressee (none
    # for a unit at the top: the report then names none, or `report half-year --to`)
    own = {"document_number": NEW_DOCUMENT_NUMBER, "signer": "", "issuer": "", "copy_to": "", "addressee": "",
           **(papers or {})}
    if parent is not None:
        found = await by_prefix(q, parent)
        if found is None:
            raise UnitError(f"no unit has the prefix {parent} (`unit list` shows them)")
        parent_id = found.id
        if not (papers or {}).get("addressee"):
            own["addressee"] = found.name
    unit_id = await q.insert("INSERT INTO units (name, prefix, parent_id, timezone, created_at) VALUES (?, ?, ?, ?, ?)"
                             " RETURNING id", (name, prefix, parent_id, timezone, ts(now)))
    await set_papers(q, unit_id, dict(own))
    return await get(q, unit_id)
