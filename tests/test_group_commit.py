"""Group commit (bot/group_commit.py): writes asked for while one is committed share the next commit."""

from __future__ import annotations

import asyncio

import pytest

from bot.group_commit import GroupCommit
from tests.fakes import Harness


async def test_callers_arriving_during_a_commit_share_the_next_and_each_gets_its_own_result() -> None:
    batches: list[list[int]] = []
    gate = asyncio.Event()

    async def write(batch: list[int]) -> list[int]:
        batches.append(batch)
        if len(batches) == 1:
            await gate.wait()  # the first commit is slow: the others queue behind it
        return [n * 10 for n in batch]

    commit: GroupCommit[int, int] = GroupCommit(write)
    first = asyncio.create_task(commit(1))
    await asyncio.sleep(0)
    others = [asyncio.create_task(commit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    gate.set()
    assert await first == 10
    assert await asyncio.gather(*others) == [20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


async def test_a_batch_takes_at_most_its_limit_and_the_rest_follow_in_order() -> None:
    """The inbox's store handles what it stores in the same transaction, at most as many as a group may hold
    (bot/app.py): a batch is cut there, the rest committed next, in the order they came."""
    batches: list[list[int]] = []
    gate = asyncio.Event()

    async def write(batch: list[int]) -> list[int]:
        batches.append(batch)
        if len(batches) == 1:
            await gate.wait()
        return [-n for n in batch]

    commit: GroupCommit[int, int] = GroupCommit(write, max_batch=2)
    first = asyncio.create_task(commit(0))
    await asyncio.sleep(0)
    others = [asyncio.create_task(commit(n)) for n in (1, 2, 3, 4, 5)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(first, *others) == [0, -1, -2, -3, -4, -5]
    assert batches == [[0], [1, 2], [3, 4], [5]]


async def test_a_failed_commit_fails_each_of_its_callers_and_the_next_batch_still_goes() -> None:
    calls = 0

    async def write(batch: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        return batch

    commit: GroupCommit[str, str] = GroupCommit(write)
    failing = [asyncio.create_task(commit(x)) for x in ("a", "b")]
    results = await asyncio.gather(*failing, return_exceptions=True)
    assert [type(r) for r in results] == [OSError, OSError]
    assert await commit("c") == "c"


async def test_concurrent_updates_are_kept_in_fewer_commits_than_updates(harness: Harness,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifty WeCom callbacks at once: each is committed before its caller returns (and so before its 200),
    a resent one is not new, and they took fewer commits than callbacks."""
    app = harness.app
    commits = 0
    original = app._store_batch

    async def counted(batch: list[tuple[str, list[tuple[str, str, str]], object]]) -> list[int]:
        nonlocal commits
        commits += 1
        return await original(batch)  # type: ignore[arg-type]

    monkeypatch.setattr(app._store, "_write", counted)
    items = [[(f"msg:{n}", f"u{n}", '{"MsgType": "text"}')] for n in range(50)]
    added = await asyncio.gather(*(app.store("wecom", batch) for batch in items), app.store("wecom", items[0]))
    assert sorted(added) == [0] + [1] * 50
    assert 1 <= commits < 51
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(*) FROM inbox WHERE channel = 'wecom'") == 50
