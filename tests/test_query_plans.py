"""The hot queries use indexes (issue 6, benchmark 3): a guard that times nothing.

The queries the supervision sweep runs every few minutes, and those of /digest, /my and /inbox, are
planned by SQLite on the migrated schema without statistics (a deployment never runs ANALYZE, and
without statistics SQLite's plans do not depend on how many rows there are), and no plan may read a
whole big table. benchmarks/scale.py measures the same paths on a million matters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.model import UnitScope
from storage import casework, digest, ledger, matters, oversight, reports, supervision
from storage.db import Database, Params, Row, SqliteTx, Tx
from storage.migrate import migrate

pytestmark = pytest.mark.sqlite_only(
    "SQLite's query planner: the plans guarded are SQLite's (PostgreSQL plans by table statistics)")

BIG = ("matters", "timeline", "replies", "reminders", "contacts", "extensions", "audit_log", "outbox")
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


class Recording(SqliteTx):
    """A transaction that notes every query it runs."""

    def __init__(self, tx: Tx, seen: list[tuple[str, Any]]) -> None:
        assert isinstance(tx, SqliteTx)
        super().__init__(tx._conn)
        self.seen = seen

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        self.seen.append((sql, params))
        return await super().one(sql, params)

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        self.seen.append((sql, params))
        return await super().all(sql, params)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "plans.db")
    await migrate(database, NOW)
    try:
        yield database
    finally:
        await database.close()


async def plans_of(db: Database, run: Any) -> list[tuple[str, list[str]]]:
    seen: list[tuple[str, Any]] = []
    async with db.snapshot() as q:
        await run(Recording(q, seen))
        found = []
        for sql, params in seen:
            rows = await q.all(f"EXPLAIN QUERY PLAN {sql}", params)
            found.append((" ".join(sql.split()), [str(r[3]) for r in rows]))
    return found


def full_scans(plan: list[str]) -> list[str]:
    return [line for line in plan if line.startswith("SCAN ") and line.split()[1] in BIG]


async def sweep_queries(q: Tx) -> None:
    await supervision.watched(q)
    await supervision.staff_by_department(q)
    await supervision.unrated(q)
    await supervision.reply_texts(q, [1, 2])
    await supervision.matters_by_id(q, [1, 2])
    await supervision.urgings_since_assignment(q, [1, 2])
    await supervision.fired(q, ["due:30:1:2026-12-01", "urge:1:x:1"])


async def screen_queries(q: Tx) -> None:
    today = date(2026, 11, 24)
    start, end = NOW, datetime(2026, 12, 1, tzinfo=UTC)
    await reports.facts(q, UnitScope.of(1), start, end, today, date(2026, 12, 1))  # the digest's and the reports' measures
    await reports.ratings(q, UnitScope.of(1), start, end)
    await reports.dissatisfied(q, UnitScope.of(1), start, end)
    await digest.upcoming_events(q, UnitScope.of(1), start, end, ZoneInfo("UTC"))
    async for _row in ledger.rows(q, UnitScope.of(1), start, end, kinds=("suggestion",), departments=(1, 0), states=("assigned",)):
        pass  # the register ledger of a period, filtered
    await matters.count_of_representative(q, UnitScope.of(1), 1)
    await matters.of_representative(q, UnitScope.of(1), 1, 8, 0)
    await matters.by_number(q, UnitScope.of(1), "LS-2026-0001")
    await matters.get(q, UnitScope.of(1), 1)
    await matters.events(q, 1, public_only=True)
    await casework.sent_replies(q, 1)
    await casework.matters_in(q, UnitScope.of(1), ("assigned", "in_progress", "concluded", "rated"), department_id=1)
    await casework.matters_in(q, UnitScope.of(1), ("registered", "reopened"))
    await oversight.idle_since(q, UnitScope.of(1), NOW, 20)
    await oversight.overdue(q, UnitScope.of(1), date(2026, 11, 24), 20)
    await oversight.disputed_appeals(q, UnitScope.of(1), 20)
    await oversight.under_onsite_supervision(q, UnitScope.of(1), 20)
    await casework.awaiting_approval(q, "draft")
    await casework.pending_extensions(q)


@pytest.mark.parametrize("paths", [sweep_queries, screen_queries], ids=["sweep", "digest-my-inbox"])
async def test_no_hot_query_reads_a_whole_big_table(db: Database, paths: Any) -> None:
    plans = await plans_of(db, paths)
    assert plans
    scans = {sql: full_scans(plan) for sql, plan in plans if full_scans(plan)}
    assert scans == {}


async def test_the_sweep_reads_only_the_open_work_through_its_indexes(db: Database) -> None:
    plans = dict(await plans_of(db, sweep_queries))
    watched = next(plan for sql, plan in plans.items() if "w_last_action" in sql)
    assert any("matters_state_due" in line for line in watched)
    assert sum("COVERING INDEX timeline_event_at" in line for line in watched) == 3  # the index alone, no rows
    urgings = next(plan for sql, plan in plans.items() if "t.event = 'urged'" in sql)
    assert sum("COVERING INDEX timeline_event_at" in line for line in urgings) == 2  # read only for those to urge now
    unrated = next(plan for sql, plan in plans.items() if "r.asked_again_at FROM replies" in sql)
    assert any("replies_unrated" in line for line in unrated)  # the partial index of replies waiting


async def test_the_digest_finds_a_periods_replies_by_the_day_they_were_sent(db: Database) -> None:
    plans = dict(await plans_of(db, screen_queries))
    sent = next(plan for sql, plan in plans.items() if "SELECT matter_id, rating FROM replies" in sql)
    assert any("replies_state_sent (state=? AND sent_at>? AND sent_at<?)" in line for line in sent)


async def test_the_ledger_reads_a_period_along_the_index_of_registration(db: Database) -> None:
    plans = dict(await plans_of(db, screen_queries))
    rows = next(plan for sql, plan in plans.items() if "AS representative" in sql)
    assert any("matters_registered" in line for line in rows) and not any("TEMP B-TREE" in line for line in rows)


async def test_a_periods_measures_read_only_the_matters_they_may_count(db: Database) -> None:
    """storage/reports.py `facts`: each part of its union through its own index, the closed ones included."""
    plans = dict(await plans_of(db, screen_queries))
    facts = next(plan for sql, plan in plans.items() if sql.startswith("WITH c(id) AS"))
    for index in ("matters_registered", "matters_state_due", "matters_concluded", "matters_closed",
                  "replies_state_sent"):
        assert any(index in line for line in facts), (index, facts)


async def test_forgetting_old_messages_walks_only_the_rows_still_kept(db: Database) -> None:
    """storage/retention.py runs on every tick: it must not read the years of rows forgotten already."""
    from storage import retention
    from storage.db import ts

    async with db.snapshot() as q:
        for sql, index in ((retention._INBOX, "inbox_kept"), (retention._OUTBOX, "outbox_kept")):
            plan = [str(r[3]) for r in await q.all(f"EXPLAIN QUERY PLAN {sql}", (ts(NOW), 500))]
            assert any(f"USING INDEX {index} (received_at<?)" in line or f"USING INDEX {index} (created_at<?)" in line
                       for line in plan), plan
            assert not [line for line in plan if line.startswith("SCAN ")], plan
