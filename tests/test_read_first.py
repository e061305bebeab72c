"""Commands that read much at a large unit read first (bot/inbox.py `_read_first`, handlers/routes.py `prepared`):
on a read-only connection of their own, on aiosqlite's thread, before the command's transaction. A snapshot's
queries run on the event loop (storage/db.py), which is right for a handler's few lookups but not for a
second of figures over a province's million matters: meanwhile the writer every other chat waits for is
free and the event loop serves them. /ledger was the first (tests/test_ledger.py); /digest and /report too."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from handlers.reports import digest, figures
from tests.fakes import Harness


@pytest.mark.parametrize("command, module, name, answered", [
    ("/digest", digest, "compute", "联络工作周报"),
    ("/report 2026H2", figures, "half_year", "2026年下半年联系代表委员工作情况报告"),
])
async def test_the_figures_are_read_before_the_commands_transaction(
        harness: Harness, monkeypatch: pytest.MonkeyPatch, command: str, module: Any, name: str,
        answered: str) -> None:
    clerk_id = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    reads: list[bool] = []
    real = getattr(module, name)

    async def watched(q: Any, *args: Any) -> Any:
        async def write() -> None:
            async with harness.db.transaction() as tx:
                await tx.execute("UPDATE matters SET subject = subject WHERE id = 0")
        await asyncio.wait_for(write(), timeout=5)  # the writer is free: another chat's update commits meanwhile
        reads.append(True)
        read = await real(q, *args)
        # and this read cannot write (last: on PostgreSQL a refused statement ends the transaction it was in)
        with pytest.raises(Exception, match="readonly|read-only"):  # SQLite's words, PostgreSQL's
            await q.execute("UPDATE matters SET subject = subject WHERE id = 0")
        return read

    monkeypatch.setattr(module, name, watched)
    sent = await clerk.say(command)
    assert reads == [True]  # read once, before the transaction; not again in it
    texts = [s.text for s in sent if s.op == "message"]
    assert any(answered in text for text in texts), texts


async def test_a_refused_command_reads_nothing_first(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deputy's /digest is refused by the command, as before; the figures are never read for them."""
    rep_id = await harness.add_representative("王建国")
    deputy = harness.user("4001")
    await deputy.say(f"/start {await harness.invite(rep_id)}")
    reads: list[bool] = []

    async def watched(q: Any, *args: Any) -> Any:
        reads.append(True)
        raise AssertionError("read for someone who may not see it")

    monkeypatch.setattr(digest, "compute", watched)
    before = await harness.dump("matters", "dialogs", "reminders")
    sent = await deputy.say("/digest")
    assert reads == []
    assert [s.text for s in sent if s.op == "message"] == ["此功能仅供院领导和办公室使用。"]
    assert await harness.dump("matters", "dialogs", "reminders") == before
