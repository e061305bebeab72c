"""The contact log and the yearly quota (seed §5, §11; SPEC §6).

Every representative is to be contacted at least once a calendar year. A contact's day is
the unit's local day ('YYYY-MM-DD'), so a year is the text range YYYY-01-01..YYYY-12-31 and
"this year" is decided where the contact is recorded, not here. Representatives are the
persons with a body (npc/cppcc); staff (body NULL) are never counted, nor contacted.

`add` is idempotent for everything recorded with a `source_ref` (a file's row, a matter's
reply, an event): recording it again returns False and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, NamedTuple

from bot.contacts_file import METHODS, ContactProblem, ContactRow, ContactsFileError
from bot.model import FIRST_UNIT, UnitScope
from storage.db import Tx, ts
from storage.units import within

SOURCES: Final = ("chat", "import", "reply", "event", "card")
BODIES: Final = ("npc", "cppcc")


@dataclass(frozen=True)
class Contact:
    id: int
    representative_id: int
    method: str
    contacted_on: date
    staff_id: int | None
    note: str
    source: str
    source_ref: str | None
    created_at: str


class Tally(NamedTuple):
    contacted: int
    total: int


class Uncontacted(NamedTuple):
    id: int
    name: str
    body: str
    sector: str


@dataclass(frozen=True)
class Coverage:
    """Who was contacted in one calendar year, out of everyone on the roster now."""

    year: int
    total: int
    contacted: int
    not_contacted: list[Uncontacted]  # NPC deputies first, then by sector ("" last) and name
    by_body: dict[str, Tally]  # "npc" and "cppcc", always both
    by_sector: dict[str, Tally]  # in the order of not_contacted's sectors; "" for no sector
    # per body, per sector: in the order each sector first appears on the roster ("" for no sector)
    by_body_sector: dict[str, dict[str, Tally]] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        """Rounded down: 100 only when nobody is missing."""
        return 100 * self.contacted // self.total if self.total else 100


def _year(year: int) -> tuple[str, str]:
    return f"{year:04d}-01-01", f"{year:04d}-12-31"


async def add(q: Tx, unit: int, rep_id: int, method: str, day: date, staff_id: int | None, note: str, source: str,
              now: datetime, source_ref: str | None = None) -> bool:
    """Record a contact of `unit` (the procuratorate that made it: it counts for that unit's quota, §11); False
    when this very contact (same representative, method, day, source and source_ref) was recorded already. A
    wrong method, source, representative or staff member is a bug of the caller: ValueError."""
    if method not in METHODS:
        raise ValueError(f"unknown contact method {method!r}")
    if source not in SOURCES:
        raise ValueError(f"unknown contact source {source!r}")
    if source != "chat" and source_ref is None:
        raise ValueError("a contact recorded automatically needs a source_ref to be recorded only once")
    # a representative of any unit: one who has left the unit's roster is still owed the reply to their matter,
    # and still attended the event they had accepted
    if await q.scalar("SELECT 1 FROM unit_members WHERE person_id = ?", (rep_id,)) is None:
        raise ValueError(f"person {rep_id} is not a representative")
    if staff_id is not None:
        staff = await q.one("SELECT body FROM persons WHERE id = ?", (staff_id,))
        if staff is None or staff["body"] is not None:
            raise ValueError(f"person {staff_id} is not staff")
    changed = await q.execute(
        "INSERT INTO contacts (representative_id, method, contacted_on, staff_id, note, source, source_ref,"
        " created_at, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (representative_id, method, contacted_on, source, source_ref) DO NOTHING",
        (rep_id, method, day.isoformat(), staff_id, note, source, source_ref, ts(now), unit),
    )
    return changed == 1


async def of_year(q: Tx, year: int) -> list[Contact]:
    """Every contact of one calendar year, by day and then as recorded."""
    rows = await q.all("SELECT * FROM contacts WHERE contacted_on BETWEEN ? AND ? ORDER BY contacted_on, id",
                       _year(year))
    return [Contact(id=r["id"], representative_id=r["representative_id"], method=r["method"],
                    contacted_on=date.fromisoformat(r["contacted_on"]), staff_id=r["staff_id"], note=r["note"],
                    source=r["source"], source_ref=r["source_ref"], created_at=r["created_at"]) for r in rows]


async def coverage(q: Tx, scope: UnitScope, year: int) -> Coverage:
    """The quota of seed §11 for one calendar year: who on the scope's rosters has been contacted, and who not."""
    return await coverage_between(q, scope, date(year, 1, 1), date(year, 12, 31))


async def coverage_between(q: Tx, scope: UnitScope, first: date, last: date) -> Coverage:
    """Who on the scope's rosters now was contacted from `first` to `last` (the half-year report uses any span). A
    representative on two units' rosters is counted by each, contacted when that unit contacted them (§11: each
    procuratorate contacts its own deputies); a roll-up over both counts them twice, as the sum of its units."""
    rows = await q.all(
        "SELECT p.id, p.name, m.body, m.sector, EXISTS (SELECT 1 FROM contacts c WHERE c.representative_id = p.id"
        " AND c.unit_id = m.unit_id AND c.contacted_on BETWEEN ? AND ?) AS contacted"
        f" FROM unit_members m JOIN persons p ON p.id = m.person_id WHERE {within(scope, 'm.unit_id')}"
        " ORDER BY CASE m.body WHEN 'npc' THEN 0 ELSE 1 END, CASE WHEN m.sector = '' THEN 1 ELSE 0 END, m.sector,"
        " p.name, p.id",
        (first.isoformat(), last.isoformat()),
    )
    body_counts = {b: [0, 0] for b in BODIES}
    sectors: dict[str, list[int]] = {}
    per_body: dict[str, dict[str, list[int]]] = {b: {} for b in BODIES}  # [contacted, total, first id]
    missing: list[Uncontacted] = []
    for r in rows:
        done = int(bool(r["contacted"]))
        mine = per_body.setdefault(r["body"], {}).setdefault(r["sector"], [0, 0, int(r["id"])])
        mine[2] = min(mine[2], int(r["id"]))
        for counts in (body_counts.setdefault(r["body"], [0, 0]), sectors.setdefault(r["sector"], [0, 0]), mine):
            counts[0] += done
            counts[1] += 1
        if not done:
            missing.append(Uncontacted(int(r["id"]), str(r["name"]), str(r["body"]), str(r["sector"])))
    order = sorted(sectors, key=lambda s: (s == "", s))
    return Coverage(
        year=last.year,
        total=len(rows),
        contacted=len(rows) - len(missing),
        not_contacted=missing,
        by_body={b: Tally(*c) for b, c in body_counts.items()},
        by_sector={s: Tally(*sectors[s]) for s in order},
        by_body_sector={b: {s: Tally(c[0], c[1]) for s, c in sorted(found.items(), key=lambda item: item[1][2])}
                        for b, found in per_body.items()},
    )


async def contacts_by_staff(q: Tx, scope: UnitScope, year: int) -> dict[int, int]:
    """Contacts recorded with a staff member of the scope's units in one calendar year, per staff member (for
    assessment, §19)."""
    rows = await q.all(
        "SELECT c.staff_id, COUNT(*) AS n FROM contacts c JOIN persons s ON s.id = c.staff_id"
        f" WHERE c.contacted_on BETWEEN ? AND ? AND {within(scope, 's.unit_id')}"
        " GROUP BY c.staff_id ORDER BY c.staff_id",
        _year(year),
    )
    return {int(r["staff_id"]): int(r["n"]) for r in rows}


# -- importing a file ------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    added: int
    unchanged: int  # recorded already: by an earlier import, or the same row twice in the file


async def import_rows(q: Tx, scope: UnitScope, rows: Sequence[ContactRow], now: datetime,
                      problems: Sequence[ContactProblem] = ()) -> ImportResult:
    """Record the rows of a contact file of the scope's own unit, each once (source 'import', source_ref the
    row's hash).

    Every name must be exactly one representative on the unit's roster, every staff name exactly one of its
    staff. When any is not, or `problems` (the file's own) is not empty, nothing is
    written and ContactsFileError lists them all, in line order.
    """
    found = list(problems)
    resolved: list[tuple[ContactRow, int, int | None]] = []
    for row in rows:
        reps = await _ids(q, scope, row.name, representative=True)
        staff: list[int | None] = [*await _ids(q, scope, row.staff, representative=False)] if row.staff else [None]
        if len(reps) != 1:
            found.append(ContactProblem(row.line, "name", "unknown_name" if not reps else "ambiguous_name", row.name))
        if len(staff) != 1:
            found.append(ContactProblem(row.line, "staff", "unknown_staff" if not staff else "ambiguous_staff",
                                        row.staff))
        if len(reps) == 1 and len(staff) == 1:
            resolved.append((row, reps[0], staff[0]))
    if found:
        raise ContactsFileError(found)
    added = 0
    for row, rep_id, staff_id in resolved:
        # the same row in two units' files is each unit's contact (unit 1's references as before units)
        ref = row.digest if scope.unit == FIRST_UNIT else f"u{scope.unit}:{row.digest}"
        added += await add(q, scope.unit, rep_id, row.method, row.day, staff_id, row.note, "import", now,
                           source_ref=ref)
    return ImportResult(added=added, unchanged=len(resolved) - added)


async def _ids(q: Tx, scope: UnitScope, name: str, *, representative: bool) -> list[int]:
    if representative:
        rows = await q.all("SELECT p.id FROM persons p JOIN unit_members m ON m.person_id = p.id"
                           " WHERE p.name = ? AND m.unit_id = ? ORDER BY p.id", (name, scope.unit))
    else:
        rows = await q.all("SELECT id FROM persons WHERE name = ? AND body IS NULL AND unit_id = ? ORDER BY id",
                           (name, scope.unit))
    return [int(r["id"]) for r in rows]
