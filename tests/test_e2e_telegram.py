"""End to end over real HTTP: the real Telegram channel (python-telegram-bot's networking)
against the strict fake Bot API on 127.0.0.1 — bind, submit a referred case with a photo
and a document, receipt, /my."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.people.binding import create_invite
from storage import people
from tests.fakebotapi import FakeBotAPI, FakeUser, SentMessage
from tests.telegram_env import bot_in_process, telegram_config

pytestmark = pytest.mark.slow(3)  # a child process or a real-time fake: started first


PHOTO = b"\x89PNG\r\n\x1a\n" + b"photo-bytes" * 100
PDF = b"%PDF-1.4\n" + b"evidence" * 200


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    # Telegram allows a chat about a message a second: here a tenth of that on both sides, the bot's
    # interval a little longer than the fake's flood limit (what is proved), without a dialogue's waiting.
    async with FakeBotAPI(per_chat_interval=0.02) as server:
        yield server


class Conversation:
    """One user's side of the chat: do something, then wait for the bot's next message."""

    def __init__(self, fake: FakeBotAPI, user: FakeUser) -> None:
        self.fake = fake
        self.user = user
        self.seen = 0

    async def expect(self, action: Callable[[], object]) -> SentMessage:
        action()
        self.seen += 1
        messages = await self.fake.wait_for_messages(self.user.chat_id, self.seen, timeout=15)
        return messages[self.seen - 1]

    async def say(self, text: str) -> SentMessage:
        return await self.expect(lambda: self.user.send_text(text))

    async def press(self, message: SentMessage, label: str) -> SentMessage:
        return await self.expect(lambda: self.user.press_button(message, label))


async def test_bind_submit_referred_case_with_files_receipt_and_my(fake: FakeBotAPI, tmp_path: Path) -> None:
    config = telegram_config(tmp_path, fake, per_chat_interval=0.025)
    async with bot_in_process(config) as running:
        db, clock = running.app.db, running.app.clock
        async with db.transaction() as tx:
            person = await tx.insert(
                "INSERT INTO persons (name, body, phone, roster_key, created_at, updated_at)"
                " VALUES ('王建国', 'npc', ?, 'id:D001', '2026-01-01', '2026-01-01') RETURNING id",
                (people.sealed_phone(tx, "13800000001")[0],))
            code = await create_invite(tx, person, clock.now(), 14)

        # The command menu is set in both languages, Chinese by default.
        assert [c["command"] for c in fake.commands[("default", "")]][:2] == ["submit", "my"]
        assert fake.commands[("default", "zh")][0]["description"] == "提交事项"
        assert fake.commands[("default", "en")][0]["description"] == "Submit a matter"

        chat = Conversation(fake, fake.user(7001, first_name="建国", language_code="zh-hans"))
        greeting = await chat.say(f"/start {code}")
        assert greeting.text.startswith("王建国代表，您好！您的账号已绑定成功。")
        async with db.snapshot() as q:
            bound = await people.by_identity(q, "telegram", "7001")
        assert bound is not None and bound.id == person

        kinds = await chat.say("/submit")
        assert kinds.parse_mode == "HTML" and kinds.text.startswith("提交事项\n")
        subject = await chat.press(kinds, "举报")
        assert subject.text.startswith("请发送简要事由")
        content = await chat.say("有人非法占用耕地 <厂房> & 仓库")  # user text with HTML specials
        await chat.say("村民反映某公司占用基本农田建厂。")
        files = await chat.press(content, "完成")
        await chat.expect(lambda: chat.user.send_photo(PHOTO, caption=None))
        got_doc = await chat.expect(lambda: chat.user.send_document(PDF, "证据.pdf", "application/pdf"))
        assert got_doc.text == "已收到附件（共 2 个）。"
        await chat.press(got_doc, "附件已发完")
        await chat.say("张三")
        summary = await chat.say("13900001111")
        assert "事由：有人非法占用耕地 <厂房> & 仓库" in summary.text  # escaped on the way, intact on arrival
        assert "附件：2 个" in summary.text
        receipt = await chat.press(summary, "确认提交")
        assert receipt.text.splitlines()[1:3] == ["感谢您的监督，您转交的举报已登记。", f"编号：LS-{_year(receipt)}-0001"]

        listing = await chat.say("/my")
        assert f"LS-{_year(receipt)}-0001 · 举报 · 已登记" in listing.text
        opened = await chat.press(listing, f"LS-{_year(receipt)}-0001")
        assert "状态：已登记" in opened.text
        assert files.text.startswith("您可以发送图片或文件作为附件")

        # every button press was answered, once
        presses = [q for q, answers in fake.callback_answers.items()]
        assert len(presses) == 5 and all(len(a) == 1 for a in fake.callback_answers.values())

    # after a clean shutdown: the files are stored with their SHA-256, nothing is left unsent
    with sqlite3.connect(config.storage.database) as conn:
        stored = conn.execute("SELECT kind, name, sha256, path FROM attachments ORDER BY id").fetchall()
        unsent = conn.execute("SELECT COUNT(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
        undone = conn.execute("SELECT COUNT(*) FROM inbox WHERE state != 'done'").fetchone()[0]
    assert [(k, n, h) for k, n, h, _ in stored] == [
        ("photo", stored[0][1], hashlib.sha256(PHOTO).hexdigest()),
        ("document", "证据.pdf", hashlib.sha256(PDF).hexdigest()),
    ]
    assert (config.storage.files_dir / stored[1][3]).read_bytes() == PDF  # relative to the files folder
    assert (unsent, undone, fake.pending_updates) == (0, 0, 0)
    assert not [e for e in fake.errors if e[1] not in (429,)]  # nothing the strict server refused


def _year(message: SentMessage) -> int:
    return datetime.fromtimestamp(message.date, ZoneInfo("Asia/Shanghai")).year
