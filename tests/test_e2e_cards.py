"""End to end over real HTTP (seed §5): the office writes an opinion card in its Telegram chat and
sends it to 50 representatives; the outbox paces the 50 messages within the fake Bot API's flood
limits; half of them answer question by question, and each answer set is registered as an opinion
matter with its own number, counted as a contact, and announced to the office."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import OutboxConfig
from handlers.people.binding import create_invite
from storage import people
from tests.fakebotapi import FakeBotAPI
from tests.telegram_env import Chat, bot_in_process, telegram_config

pytestmark = pytest.mark.slow(3)  # a child process or a real-time fake: started first


REPRESENTATIVES = 50
TITLE = "2026年度检察工作征求意见"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(per_chat_interval=0.05, global_rate=500) as server:
        yield server


async def test_a_card_to_fifty_representatives_half_answering(fake: FakeBotAPI, tmp_path: Path) -> None:
    outbox = OutboxConfig(global_rate=200, per_chat_interval=0.06, max_attempts=8)
    config = telegram_config(tmp_path, fake, per_chat_interval=0.06, outbox=outbox)
    async with bot_in_process(config) as running:
        app = running.app
        year = app.clock.now().astimezone(config.unit.tz).year
        async with app.db.transaction() as tx:
            clerk = await tx.insert("INSERT INTO persons (name, created_at, updated_at) VALUES ('陈静', '2026-01-01',"
                                    " '2026-01-01') RETURNING id")
            await tx.execute("INSERT INTO person_roles (person_id, role) VALUES (?, 'office')", (clerk,))
            codes = {"office": await create_invite(tx, clerk, app.clock.now(), 14)}
            for n in range(REPRESENTATIVES):
                body = "npc" if n % 2 == 0 else "cppcc"
                rep = await tx.insert(
                    "INSERT INTO persons (name, body, sector, phone, roster_key, created_at, updated_at) VALUES"
                    " (?, ?, '教育界', ?, ?, '2026-01-01', '2026-01-01') RETURNING id",
                    (f"代表{n:02d}", body, people.sealed_phone(tx, f"1380000{n:04d}")[0], f"id:R{n:03d}"))
                codes[f"rep{n}"] = await create_invite(tx, rep, app.clock.now(), 14)
        office = Chat(fake, fake.user(7000, language_code="zh-hans"))
        reps = [Chat(fake, fake.user(8000 + n, language_code="zh-hans")) for n in range(REPRESENTATIVES)]
        await asyncio.gather(office.say(f"/start {codes['office']}", "/help"),
                             *(r.say(f"/start {codes[f'rep{n}']}", "/help") for n, r in enumerate(reps)))

        # the office writes the card, question by question, and sends it to everyone
        await office.say("/card", "标题")
        await office.say(TITLE, "第 1 个问题")
        await office.say("您对我院今年的工作有何意见建议？", "如何作答")
        await office.press("文字回答", "第 2 个问题")
        await office.say("您对我院办案工作的总体评价？", "如何作答")
        await office.press("选择题", "选项")
        await office.say("满意/基本满意/不满意", "第 3 个问题")
        await office.press("完成", "发送对象")
        await office.press("全体人大代表、政协委员", "共 50 名")
        sent = await office.press("发送", "征求意见卡已发送")
        assert "将发送给 50 名代表委员" in sent.text and "未能送达" not in sent.text
        cards = await asyncio.gather(*(r.wait_for(TITLE) for r in reps))
        assert all(c.buttons() and [label for label, _ in c.buttons()] == ["填写", "不填写"] for c in cards)

        async def answer(n: int, rep: Chat) -> str:
            await rep.press("填写", "第 1 题")
            await rep.say(f"代表{n:02d}的意见：建议加强法治宣传。", "第 2 题")
            await rep.press(("满意", "基本满意", "不满意")[n % 3], "请核对")
            receipt = await rep.press("确认提交", "编号")
            return next(w for w in receipt.text.replace("：", " ").split() if w.startswith("LS-"))

        answering = reps[::2]
        numbers = await asyncio.gather(*(answer(2 * i, rep) for i, rep in enumerate(answering)))
        assert sorted(numbers) == [f"LS-{year}-{k:04d}" for k in range(1, 26)]
        await office.wait_for("新意见")
        await fake.wait_until(lambda: sum("新意见" in m.text for m in office.messages()) == 25, timeout=45)
        rate = await office.say("/cards", "已填写 25/50（50%）")
        assert TITLE in rate.text

    with sqlite3.connect(config.storage.database) as conn:
        matters = conn.execute("SELECT number, kind, received_via, subject, representative_id FROM matters"
                               " ORDER BY number").fetchall()
        answered = conn.execute("SELECT COUNT(*) FROM card_recipients WHERE answered_at IS NOT NULL"
                                " AND matter_id IS NOT NULL").fetchone()[0]
        waiting = conn.execute("SELECT COUNT(*) FROM card_recipients WHERE sent_at IS NOT NULL AND answered_at IS NULL"
                               " AND declined_at IS NULL").fetchone()[0]
        contacts = conn.execute("SELECT COUNT(DISTINCT representative_id) FROM contacts WHERE method = 'opinion_card'"
                                " AND source_ref = 'card:1'").fetchone()[0]
        unsent = conn.execute("SELECT COUNT(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
    assert [m[0] for m in matters] == [f"LS-{year}-{k:04d}" for k in range(1, 26)]
    assert {(m[1], m[2], m[3]) for m in matters} == {("opinion", "card", TITLE)}
    assert len({m[4] for m in matters}) == 25
    assert (answered, waiting, contacts, unsent) == (25, 25, 25, 0)
    assert all(len(a) == 1 for a in fake.callback_answers.values())
    assert not [e for e in fake.errors if e[1] != 429]
    assert not fake.internal_errors
