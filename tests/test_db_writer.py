"""storage/db.py: the writer's gate (one writer at a time, urgent bookkeeping first, nobody starved), and one trip to
the connection's thread per query."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

import storage.db
from storage.db import Database
from storage.writer_gate import WriterGate


async def test_urgent_goes_first_but_never_twice_in_a_row_while_ordinary_work_waits() -> None:
    gate = WriterGate()
    order: list[str] = []
    await gate.acquire()  # held: everyone below queues

    async def take(name: str, urgent: bool) -> None:
        await gate.acquire(urgent)
        order.append(name)
        await asyncio.sleep(0)
        gate.release()

    tasks = [asyncio.create_task(take(name, urgent))
             for name, urgent in (("o1", False), ("u1", True), ("o2", False), ("u2", True), ("u3", True))]
    await asyncio.sleep(0)  # all queued
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["u1", "o1", "u2", "o2", "u3"]


async def test_a_steady_stream_of_urgent_work_does_not_starve_ordinary_work() -> None:
    gate = WriterGate()
    order: list[str] = []
    await gate.acquire()

    async def urgent_forever() -> None:
        for n in range(5):
            await gate.acquire(urgent=True)
            order.append(f"u{n}")
            gate.release()

    async def ordinary() -> None:
        await gate.acquire()
        order.append("o")
        gate.release()

    stream = asyncio.create_task(urgent_forever())
    waiting = asyncio.create_task(ordinary())
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(stream, waiting)
    assert order.index("o") <= 1  # after at most one urgent holder


async def test_a_waiter_cancelled_after_being_handed_the_gate_passes_it_on() -> None:
    gate = WriterGate()
    await gate.acquire()
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # handed to `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await second  # the gate went on to the next waiter
    gate.release()
    await gate.acquire()  # and is free again afterwards
    gate.release()
    with pytest.raises(RuntimeError):
        gate.release()


async def test_queries_run_on_the_loop_and_only_commit_goes_to_the_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Inside a transaction or a snapshot the connection is ours alone, and a query takes microseconds: it
    runs on the event loop (a trip to aiosqlite's thread cost several times the query). So does BEGIN
    IMMEDIATE while no other process writes (the next test: when one does, it waits on the thread); COMMIT
    (the durable write) goes to the thread, and so does every query of a long read."""
    db = await Database.open(tmp_path / "t.db")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        trips: list[str] = []
        original = aiosqlite.Connection._execute

        async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(str(args[1]) if len(args) > 1 else "")
            return await original(self, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
        async with db.transaction() as tx:
            assert trips == []
            assert await tx.insert("INSERT INTO t (name) VALUES ('a') RETURNING id") == 1
            assert await tx.insert("INSERT INTO t (name) VALUES ('b') RETURNING id") == 2
            assert await tx.execute("UPDATE t SET name = name || '!'") == 2
            row = await tx.one("SELECT id, name FROM t ORDER BY id")  # more rows than it reads: closed anyway
            assert row is not None and (row["id"], row["name"]) == (1, "a!")
            assert [tuple(r) for r in await tx.all("SELECT id, name FROM t ORDER BY id")] == [(1, "a!"), (2, "b!")]
            assert await tx.scalar("SELECT COUNT(*) FROM t") == 2
            assert await tx.one("SELECT id FROM t WHERE id = 99") is None
            await tx.executemany("INSERT INTO t (name) VALUES (?)", [("c",), ("d",)])
            assert trips == []  # none of the queries went to the thread
        assert trips == ["COMMIT"]
        async with db.snapshot() as q:  # committed, nothing left open
            assert await q.scalar("SELECT group_concat(name) FROM t") == "a!,b!,c,d"
        assert trips == ["COMMIT"]
        async with db.long_read() as q:  # a connection of its own; every query on its thread
            assert await q.scalar("SELECT COUNT(*) FROM t") == 4
        assert {"BEGIN", "SELECT COUNT(*) FROM t"} <= set(trips[1:])

        monkeypatch.setattr(storage.db, "SLOW_INLINE", -1.0)  # every query "slow": each is named in the log
        with caplog.at_level(logging.WARNING, logger="storage.db"):
            async with db.snapshot() as q:
                await q.all("SELECT name FROM t WHERE name = ?", ("secret name",))
        named = [r.getMessage() for r in caplog.records if "held the event loop" in r.getMessage()]
        assert any("SELECT name FROM t WHERE name = ?" in m for m in named)
        assert not any("secret" in m for m in named)  # the statement, never its parameters
    finally:
        await db.close()


async def test_a_transaction_waits_on_the_thread_while_another_process_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BEGIN IMMEDIATE is tried on the event loop without waiting; while another connection (a CLI command,
    another process) holds the write lock it goes to the thread and waits there, up to the busy timeout, with
    the event loop free; the busy timeout is the configured one again afterwards."""
    db = await Database.open(tmp_path / "t.db")
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        trips: list[str] = []
        original = aiosqlite.Connection._execute

        async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(str(args[1]) if len(args) > 1 else "")
            return await original(self, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, other.execute, "COMMIT")  # the event loop's timer: it runs while the bot waits

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (2)")

        await asyncio.wait_for(write(), timeout=5)
        assert trips == ["BEGIN IMMEDIATE", "COMMIT"]  # waited on the thread, not on the loop
        async with db.snapshot() as q:
            assert [r[0] for r in await q.all("SELECT x FROM t ORDER BY x")] == [1, 2]
        async with db.transaction() as tx:
            assert await tx.scalar("PRAGMA busy_timeout") == storage.db.BUSY_TIMEOUT_MS
    finally:
        other.close()
        await db.close()


async def test_a_transaction_after_one_cancelled_during_its_commit_begins_after_that_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write cancelled while its COMMIT runs on the thread (the shutdown) does not stop the COMMIT; the next
    transaction's BEGIN waits behind it on the thread instead of running beside it on the event loop ("cannot
    start a transaction within a transaction"), and both writes are kept."""
    db = await Database.open(tmp_path / "t.db")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        loop = asyncio.get_running_loop()
        committing, release = asyncio.Event(), threading.Event()
        original = storage.db._count

        def held_commit(conn: sqlite3.Connection, sql: str, params: Any) -> int:
            if sql == "COMMIT" and not release.is_set():
                loop.call_soon_threadsafe(committing.set)
                release.wait(10)  # on aiosqlite's thread: the test lets it go
            return original(conn, sql, params)

        monkeypatch.setattr(storage.db, "_count", held_commit)

        async def write(x: int) -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (?)", (x,))

        first = asyncio.create_task(write(1))
        await committing.wait()
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        second = asyncio.create_task(write(2))
        for _ in range(3):
            await asyncio.sleep(0)  # (turns of the event loop: the second begins while the first commit is held)
        release.set()
        await asyncio.wait_for(second, timeout=10)
        async with db.snapshot() as q:
            assert [r[0] for r in await q.all("SELECT x FROM t ORDER BY x")] == [1, 2]
    finally:
        release.set()
        await db.close()


@pytest.mark.parametrize("turns", [0, 1, 2])
async def test_a_read_or_a_write_cancelled_as_it_begins_leaves_no_transaction_open(tmp_path: Path, turns: int) -> None:
    """Cancelled during its BEGIN (the shutdown cancels whatever is waiting), a snapshot or a transaction
    still ends what the BEGIN began: the next one starts ("cannot start a transaction within a
    transaction" otherwise), and nothing half-written is committed."""
    db = await Database.open(tmp_path / "cancel.db")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")

        async def read() -> None:
            async with db.snapshot() as q:
                await q.all("SELECT x FROM t")

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")

        for work in (read, write):
            task = asyncio.create_task(work())
            for _ in range(turns):
                await asyncio.sleep(0)  # (a turn of the event loop, not a pause)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        async with db.snapshot() as q:
            rows = await q.all("SELECT x FROM t")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (2)")
        assert [r[0] for r in rows] in ([], [1])  # the write either committed whole or not at all
    finally:
        await db.close()
