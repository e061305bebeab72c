"""Several bot processes on one PostgreSQL database (issue 17, storage/leadership.py): one leads, the others stand
by and one of them leads within `takeover_seconds` once the leader's session ends; a leader cut off from the
server writes nothing more (the fence) and stops. These run on every suite run: on the run's own cluster on
PostgreSQL, on one this module starts otherwise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.config import DatabaseConfig
from storage import outbox
from storage.db import Database
from storage.leadership import LeadershipLost
from storage.migrate import migrate
from storage.pg import PgDatabase
from tests import pg_cluster
from tests.drills import DrillOptions, run_drill
from tests.fakebotapi import FakeBotAPI
from tests.telegram_env import BotProcess, telegram_config, write_config_file

START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cluster() -> Iterator[pg_cluster.Cluster]:
    yield from pg_cluster.for_a_module()


@pytest.fixture
async def url(cluster: pg_cluster.Cluster, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    name = "l_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:40]
    admin = await asyncpg.connect(cluster.url())
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    first = await Database.open(cluster.url(name))
    await migrate(first, START)
    await first.close()
    try:
        yield cluster.url(name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def queued(db: Database) -> int:
    async with db.transaction() as tx:
        item = await outbox.enqueue(tx, channel="test", chat_id="1001", op="message", payload={"text": "x"},
                                    policy="retry", now=START)
    assert item is not None
    return item


async def test_one_leads_the_other_stands_by_and_takes_over_when_the_leader_is_cut_off(
        url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    one, two = await Database.open(url), await Database.open(url)
    assert isinstance(one, PgDatabase) and isinstance(two, PgDatabase)
    lost: list[str] = []
    stop_two = asyncio.Event()
    try:
        assert await one.lead(asyncio.Event(), 0.05, lambda: lost.append("one"))
        item = await queued(one)  # the leader writes
        standing = asyncio.create_task(two.lead(stop_two, 0.05, lambda: lost.append("two")))
        await asyncio.sleep(0.3)
        assert not standing.done()  # standing by while the first leads
        assert any("standing by: another bot leads on" in r.getMessage() for r in caplog.records)
        # the first is cut off: its lock's session ends on the server (as when its process dies or its network
        # goes); the second leads within its takeover interval
        admin = await asyncpg.connect(url)
        try:
            pid = one._leadership._conn.get_server_pid()  # type: ignore[union-attr]
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        assert await asyncio.wait_for(standing, 5)
        assert any("taking over" in r.getMessage() for r in caplog.records)
        # the first writes nothing more: not even a claim of what it was about to send
        with pytest.raises(LeadershipLost):
            async with one.transaction() as tx:
                await outbox.claim(tx, [item])
        async with two.snapshot() as q:
            assert await q.scalar("SELECT state FROM outbox WHERE id = ?", (item,)) == "pending"
        # and its watch says so, to stop it
        for _ in range(100):
            if lost:
                break
            await asyncio.sleep(0.05)
        assert lost == ["one"]
        async with two.transaction() as tx:  # the new leader works
            assert await outbox.claim(tx, [item]) == {item}
    finally:
        stop_two.set()
        await one.close()
        await two.close()


async def test_a_bot_stopped_while_standing_by_holds_nothing(url: str) -> None:
    one, two = await Database.open(url), await Database.open(url)
    try:
        assert await one.lead(asyncio.Event(), 0.05, lambda: None)
        stop = asyncio.Event()
        standing = asyncio.create_task(two.lead(stop, 0.05, lambda: None))
        await asyncio.sleep(0.15)
        stop.set()
        assert await asyncio.wait_for(standing, 2) is False
        await one.close()  # the leader stops: the lock is free, and the stopped standby did not take it
        three = await Database.open(url)
        try:
            assert await three.lead(asyncio.Event(), 0.05, lambda: None)
        finally:
            await three.close()
    finally:
        await one.close()
        await two.close()


async def test_a_single_bot_leads_at_once_and_its_writes_pass_the_fence(url: str) -> None:
    db = await Database.open(url)
    try:
        assert await db.lead(asyncio.Event(), 0.05, lambda: None)
        item = await queued(db)
        async with db.transaction() as tx:
            assert await outbox.claim(tx, [item]) == {item}
    finally:
        await db.close()


# -- two `python -m bot run` on one database -------------------------------------------------------------------


async def _log_says(path: Path, text: str, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if path.exists() and text in path.read_text("utf-8", "replace"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path.name} never said {text!r}:\n" + path.read_text("utf-8", "replace")[-3000:])


@pytest.mark.slow(20)
async def test_two_bots_on_one_database_one_polls_and_the_other_takes_over_when_it_is_killed(
        url: str, tmp_path: Path) -> None:
    """Exactly one of two `run`s polls the token; when it is killed (SIGKILL), the other leads within its
    takeover interval and answers what was sent meanwhile, once; no 409 reaches the one polling."""
    async with FakeBotAPI() as fake:
        config = replace(telegram_config(tmp_path, fake), database=DatabaseConfig(url, takeover_seconds=0.5))
        path = write_config_file(config, tmp_path / "config.toml")
        first, second = BotProcess(path, tmp_path / "first.log"), BotProcess(path, tmp_path / "second.log")
        first.start()
        try:
            await fake.wait_until(lambda: fake.long_poll_pending, timeout=60)
            second.start()
            await _log_says(tmp_path / "second.log", "standing by: another bot leads on")
            user = fake.user(7001, language_code="en")
            user.send_text("/help")
            await fake.wait_until(lambda: len(user.received) == 1, timeout=30)
            first.kill()
            user.send_text("/help")  # sent while nobody leads
            await fake.wait_until(lambda: len(user.received) == 2, timeout=30)
            await _log_says(tmp_path / "second.log", "taking over: this bot now leads on")
            await asyncio.sleep(1.0)
            assert len(user.received) == 2  # each answered once
            assert [e for e in fake.errors if e[1] == 409] == []  # the one polling never met a conflict
            assert await second.terminate(timeout=15) == 0
        finally:
            for bot in (first, second):
                if bot.proc is not None and bot.proc.poll() is None:
                    await bot.terminate()


@pytest.mark.slow(45)
async def test_kill_drill_with_two_bots_on_one_database_loses_nothing_and_doubles_nothing(url: str,
                                                                                            tmp_path: Path) -> None:
    """Issue 17's drill: the load of the kill drill (tests/drills.py) on PostgreSQL, served by two bot processes;
    each kill (SIGKILL) hits the one leading, the other takes over, the killed one comes back standing by."""
    result = await run_drill(DrillOptions(users=8, kills=4, seed=8, late_waves=1, speed=20.0, database_url=url,
                                          processes=2), tmp_path)
    print("\n".join(["kill drill, two processes on PostgreSQL:", *result.lines()]))
    assert not result.failures(), "\n".join(result.failures())
    assert result.kills == 4 and result.matters == 8
    assert result.messages_twice == result.messages_twice_allowed
    assert result.kills_of_leader == 4  # each kill hit the one leading, and after it one led again
    logs = [path.read_text("utf-8", "replace") for path in sorted(tmp_path.glob("bot*.log"))]
    assert sum(log.count("running on Telegram as") for log in logs) >= 5  # the first leader and one after each kill
