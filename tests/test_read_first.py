"""Commands that read much at a large unit read first (bot/read_first.py, handlers/routes.py `prepared`):
on a read-only connection of their own, on aiosqlite's thread, before the command's transaction. A snapshot's
queries run on the event loop (storage/db.py), which is right for a handler's few lookups but not for a
second of figures over a province's million matters: meanwhile the writer every other chat waits for is
free and the event loop serves them. /ledger was the first (tests/test_ledger.py); /digest and /report too."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from handlers.reports import digest, figures, report_text
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


async def test_the_report_button_reads_and_writes_its_files_before_its_transaction(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """生成报告 (report:draw, under the half-year reminder) draws what /report draws: at a province's scale seconds of
    figures and a second of files. Both are done before the press's transaction, so the writer every chat waits for
    is free meanwhile (a WeCom callback waiting for it more than 5 s is sent again)."""
    clerk_id = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    loop = asyncio.get_running_loop()
    done: list[str] = []

    async def write() -> None:
        async with harness.db.transaction() as tx:
            await tx.execute("UPDATE matters SET subject = subject WHERE id = 0")

    real_read, real_files = figures.half_year, report_text.half_year_files

    async def read(q: Any, *args: Any) -> Any:
        await asyncio.wait_for(write(), timeout=5)
        done.append("figures")
        return await real_read(q, *args)

    def files(report: Any) -> tuple[bytes, bytes]:  # on a thread: another chat's update commits meanwhile
        asyncio.run_coroutine_threadsafe(write(), loop).result(timeout=5)
        done.append("files")
        return real_files(report)

    monkeypatch.setattr(figures, "half_year", read)
    monkeypatch.setattr(report_text, "half_year_files", files)
    sent = await clerk.press_data("report:draw:2026H2")
    assert done == ["figures", "files"]  # once each, before the transaction; not again in it
    drawn = [s for s in sent if s.op == "message" and s.payload.get("files")]
    assert len(drawn) == 1 and [f[1] for f in drawn[0].payload["files"]] == [
        "2026年下半年联系人大代表政协委员工作情况报告.docx", "2026年下半年联系人大代表政协委员工作情况报告.xlsx"]
    assert await harness.count("audit_log") >= 1


async def test_a_stale_or_forbidden_report_button_draws_nothing_first(harness: Harness,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    rep_id = await harness.add_representative("王建国")
    deputy = harness.user("4001")
    await deputy.say(f"/start {await harness.invite(rep_id)}")
    clerk_id = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")

    async def never(q: Any, *args: Any) -> Any:
        raise AssertionError("read for a press that draws nothing")

    monkeypatch.setattr(figures, "half_year", never)
    before = await harness.dump("matters", "audit_log", "reminders")
    refused = await deputy.press_data("report:draw:2026H2")
    stale = await clerk.press_data("report:draw:2026H9")
    assert [s.payload.get("text") for s in refused if s.op == "answer"] == ["抱歉，报告仅供办公室和院领导使用。"]
    assert [s.payload.get("text") for s in stale if s.op == "answer"] == ["此选项已失效。"]
    after = await harness.dump("matters", "audit_log", "reminders")
    assert after["matters"] == before["matters"] and after["reminders"] == before["reminders"]


async def test_the_digests_chart_is_drawn_before_the_commands_transaction(harness: Harness,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart is most of a second of CPU: drawn with the figures, before /digest's transaction."""
    clerk_id = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    drawn: list[bool] = []
    real = digest.prepare

    async def watched(*args: Any) -> Any:
        async def write() -> None:
            async with harness.db.transaction() as tx:
                await tx.execute("UPDATE matters SET subject = subject WHERE id = 0")
        await asyncio.wait_for(write(), timeout=5)  # the writer is free: another chat's update commits meanwhile
        drawn.append(True)
        return await real(*args)

    monkeypatch.setattr(digest, "prepare", watched)
    sent = await clerk.say("/digest")
    assert drawn == [True]  # once, before the transaction; not again in it
    assert any("联络工作周报" in s.text for s in sent if s.op == "message")
