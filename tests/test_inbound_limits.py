"""Issue 15 item 4, SPEC §2 "unbound users get a polite explanation and nothing else", §9 "files too large":
nothing is downloaded from a stranger, and one chat may send only so much a minute.

The channel's `prepare` only describes an update; `fetch` downloads its files, and the inbox calls it for a
bound sender within their chat's limit (bot/inbox.py). The limit runs on the processor's monotonic clock,
moved here by hand.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.fakes import Harness, User
from tests.cast import bound_deputy

MIB = 2 ** 20
WAIT = "您在一分钟内发送的内容已超出本平台的接收限度。请稍候一分钟再发送；此间发送的内容未予保存。"
TABLES = ("matters", "attachments", "dialogs", "persons", "identities")


class Hand:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def limits(harness: Harness, messages: int = 30, mb: int = 50) -> Hand:
    app = harness.app
    app.config = replace(app.config, intake=replace(app.config.intake, max_messages_per_minute=messages,
                                                    max_mb_per_minute=mb))
    app.processor.config = app.config
    hand = Hand()
    app.processor.monotonic = hand
    return hand


def stored_files(harness: Harness) -> list[Path]:
    root = Path(harness.app.config.storage.files_dir)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def at_the_attachment_step(deputy: User) -> None:
    await deputy.say("/submit")
    await deputy.press("举报")
    await deputy.say("有人非法占用耕地")
    await deputy.say("村民反映某公司占用基本农田建厂。")
    await deputy.press("完成")


async def test_a_strangers_files_are_never_downloaded(harness: Harness) -> None:
    """Issue 15 item 4: an unbound user's five 1 MiB documents were downloaded and kept 30 days; now none is
    fetched, nothing is stored, and the stranger gets the polite explanation."""
    stranger = harness.user("9001")
    for n in range(5):
        got = await stranger.send_file(b"x" * MIB, f"doc{n}.pdf")
        assert got[0].text.startswith("本平台面向")
    assert harness.channel.fetched == 0
    assert stored_files(harness) == []
    assert await harness.count("attachments") == 0


async def test_a_bound_deputys_files_are_fetched(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_the_attachment_step(deputy)
    await deputy.send_file(b"%PDF-1.4 evidence", "evidence.pdf")
    assert harness.channel.fetched == 1 and len(stored_files(harness)) == 1


async def test_one_chat_beyond_its_messages_a_minute_is_asked_once_to_wait_and_nothing_is_kept(
        harness: Harness) -> None:
    """Issue 15 item 4: past `max_messages_per_minute`, an update is not handled (no dialogue step, nothing
    stored, its payload erased), the chat is told once; a minute later it is served again. Another chat is not
    held back, and staff are not limited."""
    hand = limits(harness, messages=5)
    deputy = await bound_deputy(harness)  # 1 of 5
    await deputy.say("/submit")
    await deputy.press("建议")  # 3 of 5
    await deputy.say("关于乡村道路安全")  # 3
    await deputy.say("第一段。")  # 4
    before = await harness.dump(*TABLES)
    inbox_before = await harness.count("inbox")
    over = await deputy.say("第二段。")
    assert [s.text for s in over] == [WAIT]
    assert await deputy.say("第三段。") == [] and await deputy.press("完成") == []  # told once a minute, not more
    assert await harness.dump(*TABLES) == before
    assert await harness.count("inbox", "id > ? AND payload = ''", (inbox_before,)) == 3

    other = await bound_deputy(harness, "李秀梅", "1002")  # another chat is served meanwhile
    assert "绑定成功" in other.last
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(await harness.add_staff('陈静', ['office']))}")
    for _ in range(6):
        assert (await clerk.say("/help"))[0].text != WAIT

    hand.now += 60.0
    assert (await deputy.say("第二段。"))[0].text.startswith("已收到")  # served again
    async with harness.db.snapshot() as q:
        data = await q.scalar("SELECT data FROM dialogs WHERE actor = 'test:1001'")
    assert "第二段。" in data and "第三段。" not in data


async def test_one_chat_beyond_its_megabytes_a_minute_is_not_downloaded(harness: Harness) -> None:
    """Issue 15 item 4: past `max_mb_per_minute` the file is neither fetched nor stored."""
    hand = limits(harness, mb=2)
    deputy = await bound_deputy(harness)
    await at_the_attachment_step(deputy)
    await deputy.send_file(b"a" * MIB, "one.pdf")
    await deputy.send_file(b"b" * MIB, "two.pdf")
    before = await harness.dump(*TABLES)
    assert [s.text for s in await deputy.send_file(b"c" * MIB, "three.pdf")] == [WAIT]
    assert harness.channel.fetched == 2 and len(stored_files(harness)) == 2
    assert await harness.dump(*TABLES) == before
    hand.now += 60.0
    await deputy.send_file(b"c" * MIB, "three.pdf")
    assert harness.channel.fetched == 3
