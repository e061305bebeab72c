"""Units, green step 1 (issue 17, docs/design-units.md): every query of a unit's matters names its unit.

A matter of another unit is not found, listed, counted or written from this one, by command, by a button shown
before, or by storage itself; a person of another unit registers with that unit's prefix. Until memberships and
`--unit` (step 2) a person's unit is their row's `unit_id`: these tests move rows to a second unit with SQL, as
the units of one deployment will have them. And the grep test: SQL on `matters` in storage/ and bot/ names its
unit, but for the deployment-wide work listed below, and a shrinking list of queries not yet converted."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.model import UnitScope
from storage import casework, matters, units
from tests.cast import TABLES, Cast
from tests.fakes import Harness

ROOT = Path(__file__).resolve().parent.parent
ON_MATTERS = re.compile(r"\b(FROM|JOIN|UPDATE|INTO)\s+matters\b", re.IGNORECASE)

DEPLOYMENT_WIDE = {
    "bot/data_key.py": "sealing personal data again under a new key: every unit's rows",
    "storage/retention.py": "erasing complainants' data after the kept period: every unit's rows",
    "storage/supervision.py": "the sweep: every unit's open matters, each urged within its own unit",
    "storage/access.py": "a person's access taken away (one person, in every unit they belong to): their open "
                         "matters in each, for the operator to hand on",
}
NOT_YET = {  # queries on matters without their unit, per file: converted in the next green steps, never more
    "storage/cards.py": 1,
}


async def _another_unit(harness: Harness) -> int:
    async with harness.db.transaction() as tx:
        return (await units.add(tx, "灵宝市人民检察院", "LB", "LS", "Asia/Shanghai",
                                datetime(2026, 12, 1, tzinfo=UTC))).id


async def _move(harness: Harness, sql: str, *params: object) -> None:
    async with harness.db.transaction() as tx:
        assert await tx.execute(sql, params) >= 1


async def test_another_units_matter_is_not_found_listed_or_acted_on(harness: Harness) -> None:
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal(disputed_dept="第一检察部")  # §14: discipline inspection watches it
    assert "LS-2026-0001" in " ".join(r.text for r in await cast.discipline.say("/inbox"))
    shown = await cast.office.say("/case LS-2026-0001")  # its buttons, shown while it was this unit's
    assert any(r.buttons for r in shown)
    lb = await _another_unit(harness)
    await _move(harness, "UPDATE matters SET unit_id = ? WHERE number = 'LS-2026-0001'", lb)
    before = await harness.dump(*TABLES[:-1])

    assert (await cast.office.say("/case LS-2026-0001"))[0].text.startswith("没有该事项。")
    assert "LS-2026-0001" not in " ".join(r.text for r in await cast.office.say("/inbox"))
    assert "LS-2026-0001" not in " ".join(r.text for r in await cast.office.say("/overview"))
    assert "LS-2026-0001" in " ".join(r.text for r in await cast.deputy.say("/my"))  # theirs in any unit
    assert "LS-2026-0001" not in " ".join(r.text for r in await cast.discipline.say("/inbox"))
    refused = await cast.office.press("交办")  # a button shown before: user input, checked again
    assert refused and all(r.text == "未找到该事项。" for r in refused)  # as if there were none
    assert await harness.dump(*TABLES[:-1]) == before

    # a clerk of that unit sees it, and not this unit's
    await _move(harness, "UPDATE persons SET unit_id = ? WHERE name = '陈静'", lb)
    assert "LS-2026-0001" in (await cast.office.say("/case LS-2026-0001"))[0].text
    await cast.submit_appeal()  # the deputy is still this unit's: LS-2026-0002
    assert (await cast.office.say("/case LS-2026-0002"))[0].text.startswith("没有该事项。")
    async with harness.db.snapshot() as q:
        assert [tuple(r) for r in await q.all("SELECT number, unit_id FROM matters ORDER BY id")] == \
            [("LS-2026-0001", lb), ("LS-2026-0002", 1)]


async def test_a_representative_of_another_unit_registers_with_its_prefix(harness: Harness) -> None:
    cast = Cast(harness)
    await cast.setup()
    lb = await _another_unit(harness)
    await _move(harness, "UPDATE persons SET unit_id = ? WHERE name = '王建国'", lb)
    await cast.submit_appeal()
    async with harness.db.snapshot() as q:
        assert [tuple(r) for r in await q.all("SELECT number, unit_id FROM matters")] == [("LB-2026-0001", lb)]
    assert "LB-2026-0001" in " ".join(r.text for r in await cast.deputy.say("/my"))
    assert "LB-2026-0001" not in " ".join(r.text for r in await cast.office.say("/inbox"))  # LS's office


async def test_storage_never_writes_another_units_matter(harness: Harness) -> None:
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    lb = await _another_unit(harness)
    before = await harness.dump(*TABLES)
    now = datetime(2026, 12, 2, tzinfo=UTC)
    async with harness.db.transaction() as tx:
        with pytest.raises(LookupError):
            await casework.touch(tx, UnitScope.of(lb), 1, now)
        with pytest.raises(LookupError):
            await casework.update(tx, UnitScope.of(lb), 1, now, major=1)
        assert await matters.get(tx, UnitScope.of(lb), 1) is None
        assert await matters.by_number(tx, UnitScope.of(lb), "LS-2026-0001") is None
        assert await matters.count_of_representative(tx, UnitScope.of(lb), 1) == 0
        assert await casework.count_by_state(tx, UnitScope.of(lb)) == {}
        both = UnitScope(lb, frozenset({1, lb}))  # a city's read of its counties (step 3): reads, never writes
        found = await matters.get(tx, both, 1)
        assert found is not None and found.unit_id == 1
        with pytest.raises(LookupError):
            await casework.touch(tx, both, 1, now)
    assert await harness.dump(*TABLES) == before


def _unscoped(path: Path, on: re.Pattern[str] = ON_MATTERS) -> list[int]:
    """Lines of the SQL texts in `path` that read or write `matters` (or the table `on` finds) without naming the
    unit."""
    source = path.read_text("utf-8")
    tree = ast.parse(source)
    inner = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    found = []
    for node in ast.walk(tree):
        if id(node) in inner or not isinstance(node, ast.Constant | ast.JoinedStr):
            continue
        text = ast.get_source_segment(source, node) or ""
        if isinstance(node, ast.Constant) and not isinstance(node.value, str):
            continue
        if on.search(text) and "unit_id" not in text and not re.search(r"\b(within|acting_in|matter_reads|matter_acts)\(", text):
            found.append(node.lineno)
    return found


def test_every_query_of_matters_names_its_unit() -> None:
    files = sorted([*ROOT.glob("storage/*.py"), *ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")])
    found = {str(p.relative_to(ROOT)): lines for p in files if (lines := _unscoped(p))}
    assert "storage/matters.py" not in found and "storage/casework.py" not in found
    counted = {path: len(lines) for path, lines in found.items() if path not in DEPLOYMENT_WIDE}
    assert counted == NOT_YET, f"queries of matters without their unit (file: lines): {found}"
    assert set(DEPLOYMENT_WIDE) <= set(found)  # each exemption still has what it exempts


# A unit's own tables besides matters (session 10): every query names its unit, but for these, each a row reached
# through one already scoped or a person's own (counted per file: a new query without its unit fails the test).
OWN_TABLES = ("events", "cards", "briefings", "npc_register", "halfyear_reports", "supervisor_terms", "departments")
BY_WAY_OF_A_SCOPED_ROW = {
    ("events", "storage/events.py"): 3,  # a person's own invitations (invited_to, invited); held, by the id of a
    # scoped event
    ("cards", "storage/cards.py"): 2,  # the tally's SELECT, its WHERE (with the unit) added by each caller; closing
    # a card by the id of a scoped one
    ("supervisor_terms", "storage/events.py"): 1,  # ending a term by the id of the scoped unit's latest
    ("departments", "storage/events.py"): 1,  # a scoped event's preparing departments
}


def test_every_query_of_a_units_own_tables_names_its_unit() -> None:
    files = sorted([*ROOT.glob("storage/*.py"), *ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")])
    found = {}
    for table in OWN_TABLES:
        on = re.compile(rf"\b(FROM|JOIN|UPDATE|INTO)\s+{table}\b", re.IGNORECASE)
        for path in files:
            if lines := _unscoped(path, on):
                found[(table, str(path.relative_to(ROOT)))] = len(lines)
    assert found == BY_WAY_OF_A_SCOPED_ROW
