"""Issue 15 item 10, SPEC §9 "never lose ...": a full disk does not end the bot.

The store is made to refuse writes with SQLite's own error (`sqlite3.OperationalError: database or disk is
full`) or `OSError(ENOSPC)`, injected where it would be raised — never a real full disk. The bot keeps
running, confirms nothing it could not store (Telegram keeps it), retries with back-off (0 s here, so that
nothing sleeps), tells the administrators once, and resumes by itself when space returns.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.health import is_disk_full
from storage import inbox, outbox, people
from tests.fakebotapi import FakeBotAPI
from tests.fakes import Harness
from tests.telegram_env import telegram_config
from tests.cast import bound_deputy

FULL = "本平台所在服务器的磁盘已满：代表委员发送的内容暂不确认接收，留待稍后处理，不会丢失。请清理数据文件夹所在磁盘的空间，服务将自行恢复。"
BACK = "本平台所在服务器的磁盘已恢复写入，服务已自行恢复。"


class Refusals:
    """Makes a storage function raise "database or disk is full" while `full`, or for its next `times` calls."""

    def __init__(self, real: Callable[..., Awaitable[Any]], times: int = 0, full: bool = False) -> None:
        self.real, self.times, self.full, self.calls = real, times, full, 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.full or self.times > 0:
            self.times -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return await self.real(*args, **kwargs)


def test_what_counts_as_a_full_disk() -> None:
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))


async def add_admin(harness: Harness, user_id: str = "5001") -> None:
    admin = await harness.add_staff("李管", ["admin"])
    await harness.user(user_id).say(f"/start {await harness.invite(admin)}")


async def test_an_update_the_store_refuses_is_handled_once_there_is_space(harness: Harness,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 10: a handler's transaction refused three times for want of space: the update is neither
    failed nor apologised for; it is handled, once, when the disk takes writes again; the administrator is told
    once that the disk is full and once that it is over."""
    await add_admin(harness)
    deputy = await bound_deputy(harness)
    harness.app.health.first_wait = 0.0
    refusals = Refusals(inbox.finish, times=3)
    monkeypatch.setattr(inbox, "finish", refusals)
    got = await deputy.say("/help")
    await harness.app.health.settled()
    assert refusals.calls == 4
    assert len([s for s in got if s.op == "message"]) == 1 and "/submit" in got[0].text
    assert await harness.count("inbox", "state = 'failed'") == 0
    admin = [s.text for s in harness.channel.sent if s.chat_id == "5001"]
    assert admin[-2:] == [FULL, BACK]
    assert harness.app.health.episodes == 1 and not harness.app.health.full


async def test_an_update_tried_again_for_want_of_space_counts_once_against_its_chats_minute(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 items 4 and 10 together: a deputy's message refused five times by a full disk counts once against
    the two messages a minute their chat may send: it is handled, and the chat is not asked to wait."""
    deputy = await bound_deputy(harness)
    app = harness.app
    app.config = replace(app.config, intake=replace(app.config.intake, max_messages_per_minute=2))
    app.processor.config = app.config
    app.processor.monotonic = lambda: 0.0  # the whole test within one minute
    app.health.first_wait = 0.0
    refusals = Refusals(inbox.finish, times=5)
    monkeypatch.setattr(inbox, "finish", refusals)
    got = await deputy.say("/help")
    await app.health.settled()
    assert refusals.calls == 6
    assert [s.text for s in got if s.op == "message"][0].startswith("帮助")
    assert "超出本平台的接收限度" not in "".join(s.text for s in harness.channel.sent)
    assert await harness.count("inbox", "state = 'failed'") == 0


async def test_a_send_whose_record_the_store_refuses_is_recorded_later_and_never_sent_twice(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 10: the outbox cannot record a send (disk full): it is recorded when it can, the chat waits
    meanwhile, nothing is sent twice, and the dispatcher goes on."""
    deputy = await bound_deputy(harness)
    harness.app.health.first_wait = 0.0
    refusals = Refusals(outbox.mark_sent_many, times=2)
    monkeypatch.setattr(outbox, "mark_sent_many", refusals)
    sent_before = len(harness.channel.sent)
    await deputy.say("/help")
    assert refusals.calls == 3
    assert len(harness.channel.sent) == sent_before + 1
    assert await harness.count("outbox", "state = 'sent'") == await harness.count("outbox")


async def test_a_file_the_disk_cannot_hold_leaves_nothing_half_written(harness: Harness,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 10: OSError(ENOSPC) while a deputy's file is written: no partial file is left, and the file is
    stored once there is space (the update is handled again)."""
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("建议")
    await deputy.say("关于乡村道路安全")
    await deputy.say("建议在村口增设减速带。")
    await deputy.press("完成")
    harness.app.health.first_wait = 0.0
    real_fsync, failures = os.fsync, [OSError(errno.ENOSPC, "No space left on device")]

    def fsync(fd: int) -> None:
        if failures:
            raise failures.pop()
        real_fsync(fd)

    monkeypatch.setattr("bot.files.os.fsync", fsync)
    await deputy.send_file(b"%PDF-1.4 evidence", "evidence.pdf")
    assert failures == []  # the disk refused once
    async with harness.db.snapshot() as q:
        assert "evidence.pdf" in await q.scalar("SELECT data FROM dialogs WHERE actor = 'test:1001'")
    files = [p for p in Path(harness.app.config.storage.files_dir).rglob("*") if p.is_file()]
    assert len(files) == 1 and not files[0].name.endswith(".tmp")


async def test_telegram_updates_are_not_confirmed_while_the_disk_is_full_and_the_bot_runs_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 10: before, `database or disk is full` while storing an update ended the bot (exit 1). Now the
    poller keeps running and does not confirm the update (Telegram keeps it), the administrator is told once,
    and when the disk takes writes again the update is stored and confirmed, without a restart."""
    async with FakeBotAPI(per_chat_interval=0) as fake:
        config = telegram_config(tmp_path, fake)
        app = await App.open(config)
        tg = TelegramChannel(config.telegram, app.files, 20)
        receiving: asyncio.Task[None] | None = None
        try:
            app.health.first_wait = 0.01  # back-off on the event loop's timer
            app.add_channel(tg)
            await tg.start()
            admin_chat = fake.user(7002).chat_id
            async with app.db.transaction() as tx:
                admin = await people.add_staff(tx, "李管", None, ["admin"], "", app.clock.now())
                await people.bind_identity(tx, "telegram", str(admin_chat), str(admin_chat), admin, app.clock.now())
            refusals = Refusals(inbox.store, full=True)
            monkeypatch.setattr(inbox, "store", refusals)
            receiving = asyncio.create_task(tg.receive(app))
            fake.user(7001).send_text("您好")
            await fake.wait_until(lambda: refusals.calls >= 4 or receiving.done())
            assert not receiving.done()
            assert fake.pending_updates == 1  # not confirmed: Telegram keeps it
            messages = await fake.wait_for_messages(admin_chat, 1)
            assert [m.text for m in messages] == [FULL]
            refusals.full = False
            await fake.wait_until(lambda: fake.pending_updates == 0)
            async with app.db.snapshot() as q:
                assert await q.scalar("SELECT COUNT(*) FROM inbox") == 1
            messages = await fake.wait_for_messages(admin_chat, 2)
            assert [m.text for m in messages] == [FULL, BACK]  # told once, whatever the number of refusals
            assert not receiving.done()
        finally:
            if receiving is not None:
                receiving.cancel()
                await asyncio.gather(receiving, return_exceptions=True)
            await tg.stop()
            await app.close()


async def test_a_send_the_channels_own_store_refuses_is_tried_again_not_failed(harness: Harness) -> None:
    """Issue 15 item 10: a channel that writes before sending (WeCom stores a card first) and finds the disk full:
    the item is kept pending and sent later, never marked failed."""
    deputy = await bound_deputy(harness)
    sent_before = len(harness.channel.sent)
    harness.channel.failures.append(sqlite3.OperationalError("database or disk is full"))  # type: ignore[arg-type]
    await deputy.say("/help")
    assert len(harness.channel.sent) == sent_before
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT state, attempts, last_error FROM outbox ORDER BY id DESC LIMIT 1")
    assert tuple(row) == ("pending", 0, "disk full")
    harness.clock.advance(seconds=5)
    await harness.app.dispatcher.flush()
    assert len(harness.channel.sent) == sent_before + 1 and "/submit" in harness.channel.sent[-1].text
