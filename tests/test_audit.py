"""The audit log (storage/audit.py, migration 0003): append-only, hash-chained, verifiable.

Entries are written through `audit.record` on a real migrated SQLite database. The
append-only rules are tried through SQL on that database; tampering is done on a COPY
(made with `Database.backup`) whose triggers are dropped with the stdlib `sqlite3`, as
someone with write access to the file would, and `audit.verify` must name the first
broken entry. `python -m bot audit verify` runs in-process through `bot.__main__.main`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from storage import audit, people
from storage.audit import Broken, Entry
from storage.db import Database
from tests.audit_world import (START, ZEROS, Run, fill, moment, open_db, prepare, query, run,  # noqa: F401
                               tamper)

pytestmark = pytest.mark.sqlite_only(
    "the log is tampered with through the stdlib sqlite3 on the file; on PostgreSQL the triggers and "
    "verify are checked in tests/test_storage_engines.py")

CHAIN_BROKEN = "chain broken (prev_hash does not match the previous row)"

def expected_hash(entry_id: int, at: str, actor_id: int | None, action: str, matter_id: int | None, detail: str,
                  prev_hash: str, unit_id: int | None = 1) -> str:
    """The documented serialisation, written out again here so that a change of format fails a test (the unit
    last; an entry from before units, None, without it)."""
    fields = [entry_id, at, actor_id, action, matter_id, detail, prev_hash, *([] if unit_id is None else [unit_id])]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def audit_rows(db: Path) -> list[tuple[Any, ...]]:
    return query(db, "SELECT * FROM audit_log ORDER BY id") + query(db, "SELECT * FROM audit_head")


async def check(path: Path) -> tuple[int, Broken | None]:
    db = await Database.open(path)
    try:
        async with db.snapshot() as q:
            return await audit.verify(q)
    finally:
        await db.close()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_db(tmp_path / "audit.db")
    yield database
    await database.close()


@pytest.fixture
async def copy(db: Database, tmp_path: Path) -> Path:
    """A copy of a database holding ten intact entries; the original stays open and intact."""
    await fill(db, 10)
    target = tmp_path / "copy.db"
    await db.backup(target)
    assert await check(target) == (10, None)
    return target


# -- appending and verifying ---------------------------------------------------------------------


async def test_an_empty_log_is_intact(db: Database) -> None:
    async with db.snapshot() as q:
        assert await audit.verify(q) == (0, None)
        assert await audit.head(q) == (0, ZEROS)


async def test_record_chains_each_entry_to_the_last(db: Database) -> None:
    async with db.transaction() as tx:
        actor = await people.add_staff(tx, "陈静", None, ["office"], "", START)
        first = await audit.record(tx, moment(0), actor, "matter.assign", matter_id=7,
                                   detail={"to": "assigned", "department_id": 2, "from": "registered"})
        second = await audit.record(tx, moment(1), None, "reminder.overdue")
        third = await audit.record(tx, moment(2), actor, "permission.refused", matter_id=7,
                                   detail={"authority": "卢氏县公安局", "step": 1.5, "ok": True, "ids": [3, 4]})
    assert (first, second, third) == (1, 2, 3)
    detail_1 = '{"department_id":2,"from":"registered","to":"assigned"}'  # sorted keys, compact
    detail_3 = '{"authority":"卢氏县公安局","ids":[3,4],"ok":true,"step":1.5}'  # Chinese kept as is
    hash_1 = expected_hash(1, "2026-11-27T02:00:00.000+00:00", 1, "matter.assign", 7, detail_1, ZEROS)
    hash_2 = expected_hash(2, "2026-11-27T02:01:00.000+00:00", None, "reminder.overdue", None, "{}", hash_1)
    hash_3 = expected_hash(3, "2026-11-27T02:02:00.000+00:00", 1, "permission.refused", 7, detail_3, hash_2)
    assert audit_rows(db.path) == [
        (1, "2026-11-27T02:00:00.000+00:00", 1, "matter.assign", 7, detail_1, ZEROS, hash_1, 1),
        (2, "2026-11-27T02:01:00.000+00:00", None, "reminder.overdue", None, "{}", hash_1, hash_2, 1),
        (3, "2026-11-27T02:02:00.000+00:00", 1, "permission.refused", 7, detail_3, hash_2, hash_3, 1),
        (1, 3, hash_3),  # the head
    ]
    assert len({hash_1, hash_2, hash_3}) == 3 and all(len(h) == 64 for h in (hash_1, hash_2, hash_3))
    async with db.snapshot() as q:
        assert await audit.verify(q) == (3, None)
        assert await audit.head(q) == (3, hash_3)


async def test_many_entries_over_many_transactions_verify(db: Database) -> None:
    await fill(db, 1500)  # more than one batch of the verifier
    for start in range(1501, 2501, 250):
        await fill(db, 250, first=start)
    async with db.snapshot() as q:
        assert await audit.verify(q) == (2500, None)
        count, head = await audit.head(q) or (0, "")
        assert (count, head) == (2500, query(db.path, "SELECT hash FROM audit_log WHERE id = 2500")[0][0])
    ids = [row[0] for row in query(db.path, "SELECT id FROM audit_log ORDER BY id")]
    assert ids == list(range(1, 2501))


async def test_an_entry_rolls_back_with_its_change(db: Database) -> None:
    await fill(db, 2)
    before = audit_rows(db.path)
    with pytest.raises(RuntimeError, match="^the change failed$"):
        async with db.transaction() as tx:
            await audit.record(tx, moment(3), 1, "matter.conclude", matter_id=1)
            raise RuntimeError("the change failed")
    assert audit_rows(db.path) == before
    async with db.transaction() as tx:  # the next entry takes the id the rolled-back one had
        assert await audit.record(tx, moment(4), 1, "matter.conclude", matter_id=1) == 3
    async with db.snapshot() as q:
        assert await audit.verify(q) == (3, None)


NOT_JSON = "audit detail must hold JSON values only (str, int, finite float, bool, None, list, dict)"


@pytest.mark.parametrize(
    ("action", "detail", "error"),
    [
        ("matter.reply", {"matter": 1, "text": "答复内容"},
         "audit detail must not hold text: ids, states and kinds only"),
        ("matter.register", {"complainant_name": "张三", "phone": "13800000001"},
         "audit detail must not hold complainant_name, phone: ids, states and kinds only"),
        ("matter.rate", {"rating": "dissatisfied", "comment": "很不满意"},
         "audit detail must not hold comment: ids, states and kinds only"),
        ("matter.state", {"ratio": float("nan")}, NOT_JSON),
        ("matter.state", {"due": START}, NOT_JSON),
        ("", {}, "an audit entry needs an action"),
    ],
)
async def test_record_refuses_personal_data_and_bad_detail(db: Database, action: str, detail: dict[str, Any],
                                                           error: str) -> None:
    async with db.transaction() as tx:
        with pytest.raises(ValueError) as raised:
            await audit.record(tx, moment(1), None, action, matter_id=1, detail=detail)
    assert str(raised.value) == error
    assert audit_rows(db.path) == [(1, 0, ZEROS)]


async def test_entries_of_a_matter_in_order_with_detail_decoded(db: Database) -> None:
    await fill(db, 7)
    async with db.snapshot() as q:
        found = await audit.entries(q, 2)  # i % 3 + 1 == 2 for i = 1, 4, 7
        assert await audit.entries(q, 99) == []
    rows = {row[0]: row for row in query(db.path, "SELECT id, at, prev_hash, hash FROM audit_log")}
    assert found == [
        Entry(id=i, at=rows[i][1], actor_id=1, action="matter.state", matter_id=2,
              detail={"from": "registered", "to": "assigned", "department_id": i},
              prev_hash=rows[i][2], hash=rows[i][3])
        for i in (1, 4, 7)
    ]
    assert [e.at for e in found] == ["2026-11-27T02:01:00.000+00:00", "2026-11-27T02:04:00.000+00:00",
                                     "2026-11-27T02:07:00.000+00:00"]


# -- append-only through SQL ---------------------------------------------------------------------


LOG_ONLY = "audit_log is append-only"
HEAD_ADVANCE = "audit_head only advances with audit_log"


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("UPDATE audit_log SET detail = '{}' WHERE id = 2", LOG_ONLY),
        ("UPDATE audit_log SET at = at", LOG_ONLY),  # even a no-op
        ("DELETE FROM audit_log WHERE id = 3", LOG_ONLY),
        ("DELETE FROM audit_log", LOG_ONLY),
        # REPLACE deletes the conflicting row without firing the DELETE trigger: the INSERT trigger stops it
        ("INSERT OR REPLACE INTO audit_log SELECT id, at, actor_id, 'forged', matter_id, detail, prev_hash, hash,"
         " unit_id FROM audit_log WHERE id = 2", LOG_ONLY),
        ("REPLACE INTO audit_log SELECT 4, at, actor_id, action, matter_id, detail, prev_hash, hash, unit_id"
         " FROM audit_log WHERE id = 2", LOG_ONLY),  # the next id, but another entry's hash
        ("INSERT INTO audit_log (at, action, detail, prev_hash, hash)"
         " SELECT at, 'forged', '{}', hash, 'x' FROM audit_log WHERE id = 3", LOG_ONLY),  # no id given
        ("INSERT INTO audit_log (id, at, action, detail, prev_hash, hash)"
         " SELECT 4, at, 'forged', '{}', prev_hash, 'x' FROM audit_log WHERE id = 3", LOG_ONLY),  # not chained
        ("INSERT INTO audit_log (id, at, action, detail, prev_hash, hash)"
         " SELECT 5, at, 'forged', '{}', hash, 'x' FROM audit_log WHERE id = 3", LOG_ONLY),  # skips an id
        ("UPDATE audit_head SET count = 2", HEAD_ADVANCE),
        ("UPDATE audit_head SET hash = (SELECT hash FROM audit_log WHERE id = 2)", HEAD_ADVANCE),
        ("UPDATE audit_head SET count = 4, hash = 'x'", HEAD_ADVANCE),
        ("UPDATE audit_head SET count = 4", HEAD_ADVANCE),  # one step, but no entry behind it
        ("DELETE FROM audit_head", "audit_head cannot be deleted"),
        ("INSERT OR REPLACE INTO audit_head (id, count, hash) VALUES (1, 0, 'x')", "audit_head has exactly one row"),
        ("INSERT INTO audit_head (id, count, hash) VALUES (2, 0, 'x')", "audit_head has exactly one row"),
    ],
)
async def test_sql_cannot_change_or_remove_entries(db: Database, sql: str, error: str) -> None:
    await fill(db, 3)
    before = audit_rows(db.path)
    with pytest.raises(sqlite3.IntegrityError) as raised:
        async with db.transaction() as tx:
            await tx.execute(sql)
    assert str(raised.value) == error
    with closing(sqlite3.connect(db.path)) as conn, pytest.raises(sqlite3.IntegrityError) as raised_again:
        conn.execute(sql)  # a plain connection, outside the bot, is refused the same way
    assert str(raised_again.value) == error
    assert audit_rows(db.path) == before
    async with db.snapshot() as q:
        assert await audit.verify(q) == (3, None)


# -- tampering with a copy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("detail", '{"department_id":4,"from":"registered","to":"closed"}'),
        ("detail", '{"from":"registered","to":"assigned","department_id":4}'),  # same JSON, other text
        ("at", "2026-11-27T02:05:00.000+00:00"),
        ("actor_id", None),
        ("actor_id", 2),
        ("actor_id", "one"),  # another type
        ("action", "matter.close"),
        ("matter_id", 3),
        ("prev_hash", ZEROS),
        ("at", b"\x00"),  # a BLOB, which JSON cannot hold
    ],
)
async def test_a_changed_entry_is_found_at_that_entry(db: Database, copy: Path, column: str, value: object) -> None:
    tamper(copy, (f"UPDATE audit_log SET {column} = ? WHERE id = 4", (value,)))
    assert await check(copy) == (3, Broken(4, "hash mismatch"))
    async with db.snapshot() as q:  # the original is untouched
        assert await audit.verify(q) == (10, None)


async def test_an_entry_changed_with_its_hash_breaks_the_chain_at_the_next(copy: Path) -> None:
    entry_id, at, actor, action, matter, _, prev, _, _unit = query(copy, "SELECT * FROM audit_log WHERE id = 4")[0]
    forged = '{"department_id":4,"from":"registered","to":"closed"}'
    rehashed = expected_hash(entry_id, at, actor, action, matter, forged, prev)
    tamper(copy, ("UPDATE audit_log SET detail = ?, hash = ? WHERE id = 4", (forged, rehashed)))
    assert await check(copy) == (4, Broken(5, CHAIN_BROKEN))


async def test_a_rewritten_entry_and_next_prev_hash_still_breaks_there(copy: Path) -> None:
    """Fixing the next entry's prev_hash changes that entry, so its own hash no longer matches."""
    entry_id, at, actor, action, matter, _, prev, _, _unit = query(copy, "SELECT * FROM audit_log WHERE id = 4")[0]
    forged = '{"department_id":4,"from":"registered","to":"closed"}'
    rehashed = expected_hash(entry_id, at, actor, action, matter, forged, prev)
    tamper(copy, ("UPDATE audit_log SET detail = ?, hash = ? WHERE id = 4", (forged, rehashed)),
           ("UPDATE audit_log SET prev_hash = ? WHERE id = 5", (rehashed,)))
    assert await check(copy) == (4, Broken(5, "hash mismatch"))


@pytest.mark.parametrize("deleted", [1, 5, 9])
async def test_a_deleted_entry_is_found_after_the_gap(copy: Path, deleted: int) -> None:
    tamper(copy, f"DELETE FROM audit_log WHERE id = {deleted}")
    assert await check(copy) == (deleted - 1, Broken(deleted + 1, "id gap"))


async def test_deleted_entries_renumbered_break_the_chain(copy: Path) -> None:
    """Closing the gap by renumbering changes the ids, which are part of the hashes."""
    tamper(copy, "DELETE FROM audit_log WHERE id = 5", "UPDATE audit_log SET id = id - 1 WHERE id > 5")
    assert await check(copy) == (4, Broken(5, "hash mismatch"))


async def test_deleting_the_last_entries_is_found_by_the_head(copy: Path) -> None:
    tamper(copy, "DELETE FROM audit_log WHERE id = 10")
    assert await check(copy) == (9, Broken(10, "missing (the head records 10 entries, the log holds 9)"))


async def test_deleting_every_entry_is_found_by_the_head(copy: Path) -> None:
    tamper(copy, "DELETE FROM audit_log")
    assert await check(copy) == (0, Broken(1, "missing (the head records 10 entries, the log holds 0)"))


async def test_an_entry_appended_without_the_head_is_found(copy: Path) -> None:
    (last_hash,) = query(copy, "SELECT hash FROM audit_log WHERE id = 10")[0]
    at = "2026-11-27T03:00:00.000+00:00"
    forged = expected_hash(11, at, None, "matter.close", 1, "{}", last_hash)  # a well-formed, chained entry
    tamper(copy, ("INSERT INTO audit_log VALUES (11, ?, NULL, 'matter.close', 1, '{}', ?, ?, 1)",
                  (at, last_hash, forged)))
    assert await check(copy) == (11, Broken(11, "beyond the head (the head records 10 entries, the log holds 11)"))


async def test_a_last_entry_replaced_is_found_by_the_head(copy: Path) -> None:
    """The last entry swapped for a well-formed one: the count agrees, the head's hash does not."""
    _, at, actor, _, matter, detail, prev, _, _unit = query(copy, "SELECT * FROM audit_log WHERE id = 10")[0]
    forged = expected_hash(10, at, actor, "matter.close", matter, detail, prev)
    tamper(copy, ("UPDATE audit_log SET action = 'matter.close', hash = ? WHERE id = 10", (forged,)))
    assert await check(copy) == (10, Broken(10, "head mismatch (the newest entry is not the one the head records)"))


async def test_a_missing_head_is_found(copy: Path) -> None:
    tamper(copy, "DELETE FROM audit_head")
    assert await check(copy) == (10, Broken(1, "head missing (audit_head has no row)"))


async def test_the_limit_a_consistent_rewrite_passes_but_changes_the_head(copy: Path) -> None:
    """Documented limit: whoever can write the file can cut the tail and the head together.
    Only a head hash published before (as `audit verify` prints it) shows the difference."""
    (published,) = query(copy, "SELECT hash FROM audit_head")[0]
    (ninth,) = query(copy, "SELECT hash FROM audit_log WHERE id = 9")[0]
    tamper(copy, "DELETE FROM audit_log WHERE id = 10", ("UPDATE audit_head SET count = 9, hash = ?", (ninth,)))
    assert await check(copy) == (9, None)
    assert query(copy, "SELECT hash FROM audit_head") == [(ninth,)]
    assert ninth != published
    assert query(copy, "SELECT COUNT(*) FROM audit_log WHERE hash = ?", (published,)) == [(0,)]


# -- python -m bot audit verify ------------------------------------------------------------------


def test_cli_verify_an_intact_log(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "liaison.db"
    head = prepare(path, 12)
    assert run(path, "audit", "verify") == (0, f"audit log intact: 12 entries, head {head}\n", "")
    status, out, err = run(path, "audit", "verify", "--json")
    assert (status, err) == (0, "")
    assert out.count("\n") == 1
    assert json.loads(out) == {"ok": True, "message": f"audit log intact: 12 entries, head {head}",
                               "entries": 12, "broken": None, "reason": None, "head": head}
    assert query(path, "SELECT COUNT(*) FROM audit_log") == [(12,)]  # verifying writes nothing


def test_cli_verify_counts_a_units_entries(run: Run, tmp_path: Path) -> None:
    """`audit verify --unit LS`: the one chain verified whole, the unit's entries counted; an unknown unit refused."""
    path = tmp_path / "liaison.db"
    head = prepare(path, 12)
    assert run(path, "audit", "verify", "--unit", "ls") == (
        0, f"audit log intact: 12 entries, head {head}; 12 of them LS's\n", "")
    status, out, err = run(path, "audit", "verify", "--unit", "XX")
    assert status != 0 and "no unit 'XX': LS" in out + err


def test_cli_verify_an_empty_log(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    assert run(path, "audit", "verify") == (0, f"audit log intact: 0 entries, head {ZEROS}\n", "")


def test_cli_verify_a_tampered_copy(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "liaison.db"
    head = prepare(path, 12)
    copy = tmp_path / "tampered.db"
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # a copy of the file, as someone with access to it would take
    tamper(copy, "UPDATE audit_log SET action = 'matter.close' WHERE id = 7")
    assert run(copy, "audit", "verify") == (1, "", "audit log broken at entry 7: hash mismatch\n")
    status, out, err = run(copy, "--json", "audit", "verify")
    assert (status, out) == (1, "")
    assert err.count("\n") == 1
    assert json.loads(err) == {"ok": False, "error": "audit log broken at entry 7: hash mismatch",
                               "entries": 6, "broken": 7, "reason": "hash mismatch", "head": head}
    assert run(path, "audit", "verify") == (0, f"audit log intact: 12 entries, head {head}\n", "")


def test_cli_verify_names_the_missing_last_entry(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "liaison.db"
    head = prepare(path, 5)
    tamper(path, "DELETE FROM audit_log WHERE id = 5")
    assert run(path, "audit", "verify") == (
        1, "", "audit log broken at entry 5: missing (the head records 5 entries, the log holds 4)\n")
    status, _, err = run(path, "audit", "verify", "--json")
    assert (status, json.loads(err)) == (1, {
        "ok": False, "error": "audit log broken at entry 5: missing (the head records 5 entries, the log holds 4)",
        "entries": 4, "broken": 5, "reason": "missing (the head records 5 entries, the log holds 4)", "head": head})


def test_cli_verify_without_the_action_is_a_usage_error(run: Run, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(tmp_path / "liaison.db", "audit")
    assert exited.value.code == 2
    assert "audit" in capsys.readouterr().err


async def test_each_entry_names_its_unit_under_its_hash(db: Database, tmp_path: Path) -> None:
    """Issue 17: an entry's unit is the matter's, else the acting person's, else unit 1, and is hashed with it: an
    entry moved to another unit breaks the chain there; an entry from before units (no unit) keeps its old hash."""
    from storage import units

    async with db.transaction() as tx:
        lb = (await units.add(tx, "灵宝市人民检察院", "LB", None, "Asia/Shanghai", START)).id
        clerk = await people.add_staff(tx, "李娜", None, ["office"], "", START, unit=lb)
        await audit.record(tx, moment(0), clerk, "access.changed")  # the actor's unit
        await audit.record(tx, moment(1), None, "reminder.bulletin", unit=lb)  # given
        await audit.record(tx, moment(2), None, "reminder.overdue")  # nobody's: unit 1
    assert [r[0] for r in query(db.path, "SELECT unit_id FROM audit_log ORDER BY id")] == [lb, lb, 1]
    async with db.snapshot() as q:
        assert await audit.unit_entries(q, lb) == 2 and await audit.verify(q) == (3, None)
    copy = tmp_path / "copy.db"
    await db.backup(copy)
    tamper(copy, "UPDATE audit_log SET unit_id = 1 WHERE id = 2")
    assert await check(copy) == (1, Broken(2, "hash mismatch"))
    # a log written before units (no unit, the old serialisation; built here as the old code wrote it), with the
    # entries after the upgrade chained on: it verifies whole
    old = tmp_path / "old.db"
    await db.backup(old)
    rows = query(old, "SELECT id, at, actor_id, action, matter_id, detail FROM audit_log ORDER BY id")
    prev, rewritten = ZEROS, []
    for entry_id, at, actor, action, matter, detail in rows:
        unit = None if entry_id == 1 else (lb if entry_id == 2 else 1)
        digest = expected_hash(entry_id, at, actor, action, matter, detail, prev, unit)
        rewritten.append(("UPDATE audit_log SET unit_id = ?, prev_hash = ?, hash = ? WHERE id = ?",
                          (unit, prev, digest, entry_id)))
        prev = digest
    tamper(old, *rewritten, ("UPDATE audit_head SET hash = ?", (prev,)))
    assert await check(old) == (3, None)
