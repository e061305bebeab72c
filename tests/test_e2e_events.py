"""End to end over real HTTP: the office creates a forum in chat; the invitations reach the deputies and
members, who answer by button (one declines, with a reason); the department marks its preparation done;
the forum takes place; the office records attendance; /quota shows the contacts it produced — every
person on their own chat with the strict fake Bot API."""

from __future__ import annotations

import asyncio
import time
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.config import Config
from handlers.people.binding import create_invite
from storage import people
from tests.cast import at
from tests.fakebotapi import FakeBotAPI
from tests.telegram_env import Chat, telegram_config


pytestmark = pytest.mark.slow(3)  # a child process or a real-time fake: started first


class ShiftedClock:
    """The real clock moved to a chosen moment: time still flows (the outbox's retries need it), and the
    test can jump ahead to after the event."""

    def __init__(self, start: datetime) -> None:
        self.start, self.origin = start, time.monotonic()  # flows as the real clock does, on any day

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.origin)

    def jump_to(self, moment: datetime) -> None:
        self.start += moment - self.now()


@asynccontextmanager
async def bot_at(config: Config, clock: ShiftedClock) -> AsyncIterator[App]:
    """The whole bot with its Telegram channel on this loop, on the given clock, without the scheduler's ticks."""
    app = await App.open(config, clock)
    channel = TelegramChannel(config.telegram, app.files, config.intake.max_file_mb)
    app.add_channel(channel)
    await channel.start()
    stop = asyncio.Event()
    task = asyncio.create_task(app.run([channel], stop, scheduler=False))
    try:
        yield app
    finally:
        stop.set()
        await task
        await channel.stop()
        await app.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    # Telegram allows a chat about a message a second: here a tenth of that on both sides, the bot's
    # interval a little longer than the fake's flood limit (what is proved), without a dialogue's waiting.
    async with FakeBotAPI(per_chat_interval=0.02) as server:
        yield server


async def test_an_event_from_creation_to_attendance_and_its_contacts_in_quota(fake: FakeBotAPI,
                                                                              tmp_path: Path) -> None:
    config = telegram_config(tmp_path, fake, per_chat_interval=0.025)
    clock = ShiftedClock(at(date(2026, 11, 27), 10))
    async with bot_at(config, clock) as app:
        async with app.db.transaction() as tx:
            now = app.clock.now()
            dept = await people.add_department(tx, "第一检察部", now)
            ids = {"office": await people.add_staff(tx, "陈静", None, ["office"], "", now),
                   "handler": await people.add_staff(tx, "刘洋", dept, ["handler"], "", now)}
            for key, name, body, sector in (("wang", "王建国", "npc", "农业界"), ("li", "李秀梅", "cppcc", "教育界"),
                                            ("zhang", "张伟", "npc", "教育界")):
                ids[key] = await tx.insert(
                    "INSERT INTO persons (name, body, sector, roster_key, created_at, updated_at) VALUES"
                    " (?, ?, ?, ?, '2026-01-01', '2026-01-01') RETURNING id", (name, body, sector, f"id:{key}"))
            codes = {key: await create_invite(tx, pid, now, 14) for key, pid in ids.items()}
        chats = {}
        for n, key in enumerate(ids):
            chats[key] = Chat(fake, fake.user(8000 + n, language_code="zh-hans"))
            await chats[key].expect(lambda c=codes[key], u=chats[key]: u.user.send_text(f"/start {c}"), "/help")
        office, handler, wang, li, zhang = (chats[k] for k in ("office", "handler", "wang", "li", "zhang"))

        # the office creates the forum, step by step
        await office.say("/event", "请选择活动类型")
        await office.press("座谈会", "活动名称")
        await office.say("2026年度代表委员座谈会", "何时开始")
        await office.say("2026-12-04 09:30", "何处举行")
        await office.say("本院第一会议室", "提前准备")
        await office.press("第一检察部", "提前准备")  # the same question, the department now ticked
        await office.press("完成", "邀请哪些人员")
        await office.press("全体人大代表、政协委员", "共 3 人")
        created = await office.press("确认", "活动已创建")
        assert "活动已创建，邀请已发送给全部 3 名受邀人员。" in created.text

        # the invitations arrive; two accept, one declines with a reason; the department prepares
        for deputy in (wang, li, zhang):
            await deputy.wait_for("诚挚邀请您参加：2026年度代表委员座谈会")
        await wang.press("参加", "您将参加")
        await li.press("不参加", "如方便")
        await li.say("当天在外地出差", "办公室将看到您说明的原因")
        await zhang.press("参加", "您将参加")
        await handler.wait_for("准备任务")
        await handler.press("准备完毕", "已标记完成")
        await office.wait_for("第一检察部已完成")

        # the forum takes place; the office records who came
        clock.jump_to(at(date(2026, 12, 4), 11))
        await office.say("/events", "确认参加 2 人")
        card = await office.press("2026年12月4日 2026年度代表委员座谈会", "已邀请 3 人")
        assert "不参加：李秀梅（当天在外地出差）" in card.text
        await office.press("登记出席", "已标记：2 人")
        saved = await office.press("保存", "出席情况已登记")
        assert "出席 2 人，本次新登记 2 人，均计入联系次数" in saved.text
        quota = await office.say("/quota", "联系情况")
        assert quota.text.split("\n")[1] == "已联系 2/3 名代表委员（66%）"
        assert "李秀梅 · 政协委员 · 教育界" in quota.text.split("尚未联系")[1]

    with sqlite3.connect(config.storage.database) as conn:
        contacts = conn.execute("SELECT representative_id, method, contacted_on, staff_id, source, source_ref"
                                " FROM contacts ORDER BY representative_id").fetchall()
        unsent = conn.execute("SELECT COUNT(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
    assert contacts == [(ids[k], "forum", "2026-12-04", ids["office"], "event", "1") for k in ("wang", "zhang")]
    assert unsent == 0
    assert all(len(a) == 1 for a in fake.callback_answers.values())
    assert not [e for e in fake.errors if e[1] not in (429,)]
