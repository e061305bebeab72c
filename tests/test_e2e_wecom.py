"""End to end over real HTTP, in Chinese and English: the bot's WeCom channel (its callback server
and API client) against the strict fake WeCom (tests/fakewecom.py) — binding by code, the six kinds
of intake with a picture, the files the office draws, a matter from assignment to 不满意 → reopened →
满意, an event invitation answered by card, a briefing to 2 000 members with none dropped, a callback
resent after WeCom's timeout handled once, distinct events kept apart, a token expired mid-run, and
long Chinese text split by bytes (issue 14)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from handlers.people.binding import create_invite
from storage import people
from tests.fakewecom import FakeWeCom, Received
from tests.cast import at
from tests.wecom_env import (
    Chat,
    FastMonotonic,
    RunningBot,
    TickingClock,
    bot_in_process,
    outbox_sent,
    wecom_config,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"site-photo" * 300

L = {
    "zh": {"suggestion": "建议", "criticism": "批评", "opinion": "意见", "report": "举报", "accusation": "控告",
           "appeal": "申诉", "done": "完成", "no_files": "无附件", "no_more_files": "附件已发完", "submit": "确认提交",
           "yes": "是", "no": "否", "not_sure": "不清楚", "english": "English", "registered": "已登记", "files": "附件",
           "bound": "绑定成功"},
    "en": {"suggestion": "Suggestion", "criticism": "Criticism", "opinion": "Opinion", "report": "Report",
           "accusation": "Accusation", "appeal": "Appeal", "done": "Done", "no_files": "No files",
           "no_more_files": "No more files", "submit": "Submit", "yes": "Yes", "no": "No", "not_sure": "Not sure",
           "english": "English", "registered": "registered", "files": "Files", "bound": "bound"},
}
NUMBER = re.compile(r"LS-\d{4}-\d{4}")
# What a deputy must never see in the Chinese interface (SPEC §10): English words. Matter numbers,
# file names and the typed commands ("/my", which WeCom members may type too) are not English words.
ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9/-])[A-Za-z]{3,}(?![A-Za-z0-9-])")


def english_in(items: list[Received]) -> list[str]:
    found = []
    for item in items:
        if item.kind not in ("text", "markdown", "template_card"):
            continue  # a file's name is the file's
        text = NUMBER.sub("", item.text)
        found += [f"{w!r} in {item.text[:80]!r}" for w in ENGLISH_WORD.findall(text)]
    return found


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
async def fake(clock: TickingClock) -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom(clock=clock) as server:
        yield server
    assert not server.internal_errors


async def add_representative(running: RunningBot, name: str, key: str, body: str = "npc") -> int:
    async with running.app.db.transaction() as tx:
        sealed, digest = people.sealed_phone(tx, "13800000001")  # phones are sealed at rest (bot/sealing.py)
        return await tx.insert("INSERT INTO persons (name, body, phone, phone_hash, roster_key, created_at, updated_at)"
                               " VALUES (?, ?, ?, ?, ?, '2026-01-01', '2026-01-01') RETURNING id",
                               (name, body, sealed, digest, f"id:{key}"))


async def invite(running: RunningBot, person_id: int) -> str:
    async with running.app.db.transaction() as tx:
        return await create_invite(tx, person_id, running.app.clock.now(), 14)


async def bind(fake: FakeWeCom, running: RunningBot, person_id: int, userid: str, name: str, lang: str,
               **member: Any) -> Chat:
    """The member types 绑定 and the invite code (as the office's invitation tells them); then, for
    English, chooses the language."""
    chat = Chat(fake, fake.member(userid, name, **member))
    code = await invite(running, person_id)
    await chat.say(f"绑定 {code}", "绑定成功")
    if lang == "en":
        await chat.say("语言")
        await chat.press("English", "The language is now English.")
    return chat


def intake_steps(kind: str, lang: str) -> list[tuple[str, str]]:
    """(action, argument) to submit one matter of this kind: ("say", text) or ("press", label)."""
    t = L[lang]
    steps = [("say", "/submit"), ("press", t[kind]), ("say", f"关于{t[kind]}的事由"),
             ("say", f"{t[kind]}的具体内容：村民反映情况属实，请依法处理。"), ("press", t["done"])]
    return steps


async def submit(chat: Chat, kind: str, lang: str, *, image: bytes | None = None) -> str:
    t = L[lang]
    for action, arg in intake_steps(kind, lang):
        await (chat.say(arg) if action == "say" else chat.press(arg))
    if image is not None:
        start = len(chat.messages)
        delivery = await chat.member.send_image(image)
        assert delivery.answered
        await chat.wait_for("", since=start)
        await chat.press(t["no_more_files"])
    else:
        await chat.press(t["no_files"])
    if kind in ("report", "accusation", "appeal"):
        await chat.say("张三")
        await chat.say("13900001111")
    if kind == "appeal":
        await chat.press(t["no"])
    receipt = await chat.press(t["submit"], "LS-")
    found = NUMBER.search(receipt.text)
    assert found, receipt.text
    return found.group(0)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_binding_and_the_six_kinds_of_intake_with_a_picture(fake: FakeWeCom, clock: TickingClock,
                                                                 tmp_path: Path, lang: str) -> None:
    config = wecom_config(tmp_path, fake)
    async with bot_in_process(config, fake, clock, FastMonotonic()) as running:
        app = running.app
        async with app.db.transaction() as tx:
            office_id = await people.add_staff(tx, "陈静", None, ["office"], "", app.clock.now())
        deputies = [await add_representative(running, name, key, body) for name, key, body in
                    (("王建国", "D001", "npc"), ("李秀梅", "D002", "cppcc"), ("张伟", "D003", "npc"))]
        office = await bind(fake, running, office_id, "chenjing", "陈静", lang)
        chats = [await bind(fake, running, pid, f"deputy{n}", name, lang, via_wechat=True)
                 for n, (pid, name) in enumerate(zip(deputies, ("王建国", "李秀梅", "张伟"), strict=True))]
        async with app.db.snapshot() as q:
            bound = await people.by_identity(q, "wecom", "deputy0")
        assert bound is not None and bound.id == deputies[0]

        # three deputies at once, two kinds each; the first suggestion carries a picture
        plans = [[("suggestion", PNG), ("criticism", None)], [("opinion", None), ("report", None)],
                 [("accusation", None), ("appeal", None)]]

        async def one_deputy(chat: Chat, plan: list[tuple[str, bytes | None]]) -> list[str]:
            return [await submit(chat, kind, lang, image=image) for kind, image in plan]

        numbers = await asyncio.gather(*(one_deputy(c, p) for c, p in zip(chats, plans, strict=True)))
        assert len({n for ns in numbers for n in ns}) == 6

        # the office opens the matter with the picture, and asks for its files: the picture reaches its phone
        first = numbers[0][0]
        await office.say(f"/case {first}", first)
        start = len(office.messages)
        await office.press(L[lang]["files"])
        await fake.wait_until(lambda: any(m.kind == "image" for m in office.messages[start:]), timeout=30)
        picture = next(m for m in office.messages[start:] if m.kind == "image")
        assert picture.data == PNG

        # the office draws the half-year report: two files, their Chinese names intact
        start = len(office.messages)
        await office.say("/report 2026H2")
        await fake.wait_until(lambda: len([m for m in office.messages[start:] if m.kind == "file"]) == 2, timeout=60)
        files = sorted((m.filename or "", m.data or b"") for m in office.messages[start:] if m.kind == "file")
        assert [name for name, _ in files] == ["2026年下半年联系人大代表政协委员工作情况报告.docx", "2026年下半年联系人大代表政协委员工作情况报告.xlsx"]
        assert all(data.startswith(b"PK") for _, data in files)
        await outbox_sent(running, fake)

    with sqlite3.connect(config.storage.database) as conn:
        kinds = sorted(r[0] for r in conn.execute("SELECT kind FROM matters"))
        stored = conn.execute("SELECT sha256 FROM attachments").fetchall()
        unsent = conn.execute("SELECT COUNT(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
        undone = conn.execute("SELECT COUNT(*) FROM inbox WHERE state != 'done'").fetchone()[0]
    assert kinds == sorted(["suggestion", "criticism", "opinion", "report", "accusation", "appeal"])
    assert stored == [(hashlib.sha256(PNG).hexdigest(),)]
    assert (unsent, undone) == (0, 0)
    everyone = [office, *chats]
    assert not fake.errors and not fake.dropped and not fake.truncated and not fake.callback_errors
    assert all(m.visible for c in chats for m in c.messages)  # deputies in WeChat got text, never a card
    if lang == "zh":
        assert not [w for c in everyone for w in english_in(c.messages)]


BODY = {
    "zh": "经审查，您转交的举报反映的非法占用耕地问题属实。我院已向县自然资源局发出检察建议，督促其依法处理，"
          "涉事公司已停止施工并恢复耕地原状。",
    "en": "We examined the report you passed on: the illegal occupation of farmland it describes is confirmed. We sent "
          "a procuratorial recommendation to the county natural resources bureau; the company has stopped building.",
}
GROUNDS = {
    "zh": "依据《中华人民共和国土地管理法》第七十五条、《人民检察院检察建议工作规定》第十一条。",
    "en": "Land Administration Law of the PRC, art. 75; Rules on Procuratorial Recommendations, art. 11.",
}
# A second reply too long for one WeCom message: about 2 700 characters of Chinese (7 800 bytes, four
# messages), and 3 200 of English (two); the bot takes at most 4 000 characters.
LONG = {
    "zh": "".join(f"第{i}项：经复查，涉事地块的测绘结论、责任人员的处理情况和整改落实情况均已核实，现一并答复如下。\n"
                  for i in range(1, 61)),
    "en": "".join(f"Point {i}: on review, the survey of the plot, the action taken against those responsible and the "
                  f"remedial work have all been verified, and are answered here together.\n" for i in range(1, 21)),
}
CASE = {
    "zh": {"assign": "交办", "progress": "进展", "public": "是，发送", "extend": "申请延期", "decide": "延期审批",
           "conclude": "办结", "A": "A类：已解决或基本解决", "draft": "起草答复", "in_chat": "网上答复",
           "confirm": "确认", "approve": "审批通过", "dissatisfied": "不满意", "satisfied": "满意",
           "no_comment": "不补充意见", "thanks": "感谢您的评价和监督。"},
    "en": {"assign": "Assign", "progress": "Progress note", "public": "Yes, send it", "extend": "Ask for extension",
           "decide": "Decide extension", "conclude": "Conclude", "A": "A: resolved or basically resolved",
           "draft": "Draft reply", "in_chat": "in writing, here", "confirm": "Confirm", "approve": "Approve reply",
           "dissatisfied": "Dissatisfied", "satisfied": "Satisfied", "no_comment": "No comment",
           "thanks": "Thank you for your rating and your supervision."},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.slow(9)
async def test_a_matter_from_assignment_to_dissatisfied_reopened_and_satisfied(fake: FakeWeCom, clock: TickingClock,
                                                                              tmp_path: Path, lang: str) -> None:
    """Staff on cards, the deputy in personal WeChat on numbered text; a reply too long for one WeCom
    message arrives whole, in parts of at most 2 048 bytes, none cut (90236)."""
    C = CASE[lang]
    config = wecom_config(tmp_path, fake)
    async with bot_in_process(config, fake, clock, FastMonotonic()) as running:
        app = running.app
        async with app.db.transaction() as tx:
            now = app.clock.now()
            d1 = await people.add_department(tx, "第一检察部", now)
            d2 = await people.add_department(tx, "第二检察部", now)
            staff = {"office": await people.add_staff(tx, "陈静", None, ["office"], "", now),
                     "h1": await people.add_staff(tx, "刘洋", d1, ["handler"], "", now),
                     "h2": await people.add_staff(tx, "王芳", d2, ["handler"], "", now),
                     "discipline": await people.add_staff(tx, "孙磊", None, ["discipline"], "", now)}
        rep = await add_representative(running, "王建国", "D001")
        deputy = await bind(fake, running, rep, "wangjianguo", "王建国", lang, via_wechat=True)
        chats = {name: await bind(fake, running, pid, name, name, lang) for name, pid in staff.items()}
        office, h1, h2 = chats["office"], chats["h1"], chats["h2"]

        number = await submit(deputy, "report", lang)
        await office.wait_for(number)

        async def assign(department: str) -> None:
            await office.say(f"/case {number}", number)
            await office.press(C["assign"])
            await office.press(department)
            await office.press("陈静", number)

        async def conclude_and_reply(handler: Chat, body: str) -> None:
            await handler.say(f"/case {number}", number)
            await handler.press(C["conclude"])
            await handler.press(C["A"], number)
            await handler.say(f"/case {number}", number)
            await handler.press(C["draft"])
            await handler.press(C["in_chat"])
            await handler.say(body)
            await handler.say(GROUNDS[lang], GROUNDS[lang][:20])
            await handler.press(C["confirm"], number)
            await office.say(f"/case {number}", number)
            await office.press(C["approve"], number)

        await assign("第一检察部")
        await h1.wait_for(number)
        await deputy.wait_for("第一检察部")

        # a public progress note reaches the deputy
        await h1.say(f"/case {number}", number)
        await h1.press(C["progress"])
        await h1.say("已调阅案卷，正在核实。")
        await h1.press(C["public"], number)
        await deputy.wait_for("已调阅案卷，正在核实。")

        await conclude_and_reply(h1, BODY[lang])
        await deputy.wait_for(BODY[lang][:30])

        # 不满意: reopened, alerts to discipline and the office, handled again by the second department
        await deputy.press(C["dissatisfied"])
        await deputy.say("答复没有说明对责任人的处理。")
        await chats["discipline"].wait_for("答复没有说明对责任人的处理。")
        await office.wait_for("答复没有说明对责任人的处理。")
        await assign("第二检察部")
        await h2.wait_for(number)
        start = len(deputy.messages)
        await conclude_and_reply(h2, LONG[lang])
        await deputy.wait_for(GROUNDS[lang][:20], since=start)
        await deputy.press(C["satisfied"])
        await deputy.press(C["no_comment"], C["thanks"])
        await outbox_sent(running, fake)

    # the long reply arrived whole, in several messages of at most 2 048 bytes, none cut
    parts = [m.text for m in deputy.messages[start:] if m.kind == "text"]
    whole = "".join(p.replace("\n", "") for p in parts)
    assert LONG[lang].replace("\n", "") in whole
    long_parts = [p for p in parts if any(line and line in p for line in LONG[lang].splitlines()[:60])]
    assert len(long_parts) >= (3 if lang == "zh" else 2) and all(len(p.encode()) <= 2048 for p in parts)
    with sqlite3.connect(config.storage.database) as conn:
        state, reopened, dept = conn.execute("SELECT state, reopened, department_id FROM matters").fetchone()
        ratings = [r[0] for r in conn.execute("SELECT rating FROM replies ORDER BY id")]
        unsent = conn.execute("SELECT COUNT(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
    assert (state, reopened, dept, ratings, unsent) == ("closed", 1, d2, ["dissatisfied", "satisfied"], 0)
    assert not fake.errors and not fake.dropped and not fake.truncated and not fake.callback_errors
    assert all(m.visible for m in deputy.messages)
    if lang == "zh":
        assert not [w for c in [deputy, *chats.values()] for w in english_in(c.messages)]


async def test_an_event_invitation_answered_by_card_which_cannot_be_pressed_twice(fake: FakeWeCom,
                                                                                   tmp_path: Path) -> None:
    """A deputy on cards (WeCom itself, not personal WeChat) answers the invitation by its button; the
    card is then updated to show the answer (update_template_card, single-use response_code), so a
    phone cannot press it again — and a forged second press changes nothing."""
    clock = TickingClock(at(date(2026, 11, 27), 10))
    fake.clock = clock
    config = wecom_config(tmp_path, fake)
    async with bot_in_process(config, fake, clock, FastMonotonic()) as running:
        app = running.app
        async with app.db.transaction() as tx:
            now = app.clock.now()
            dept = await people.add_department(tx, "第一检察部", now)
            office_id = await people.add_staff(tx, "陈静", None, ["office"], "", now)
        wang_id = await add_representative(running, "王建国", "D001")
        li_id = await add_representative(running, "李秀梅", "D002", "cppcc")
        async with app.db.transaction() as tx:
            await tx.execute("UPDATE persons SET presentation = 'cards' WHERE id = ?", (wang_id,))
        office = await bind(fake, running, office_id, "chenjing", "陈静", "zh")
        wang = await bind(fake, running, wang_id, "wangjianguo", "王建国", "zh")
        li = await bind(fake, running, li_id, "lixiumei", "李秀梅", "zh", via_wechat=True)

        await office.say("/event", "请选择活动类型")
        await office.press("座谈会", "活动名称")
        await office.say("2026年度代表委员座谈会", "何时开始")
        await office.say("2026-12-04 09:30", "何处举行")
        await office.say("本院第一会议室", "提前准备")
        await office.press("无需部门准备", "邀请哪些人员")
        await office.press("全体人大代表、政协委员", "共 2 人")
        await office.press("确认", "活动已创建")

        await wang.wait_for("诚挚邀请您参加：2026年度代表委员座谈会")
        await li.wait_for("诚挚邀请您参加：2026年度代表委员座谈会")
        invitation = next(m for m in reversed(wang.messages) if m.kind == "template_card"
                          and "参加" in [t for _, t in m.buttons])
        await wang.press("参加", "您将参加")
        await fake.wait_until(lambda: invitation.disabled, timeout=30)
        assert invitation.chosen and "参加" in invitation.chosen and len(invitation.updates) == 1
        decline = next(k for k, t in invitation.buttons if t == "不参加")
        before = len(wang.messages)
        forged = await wang.member.press(str(invitation.task_id), decline, force=True)
        assert forged.answered
        await wang.wait_for("", since=before)  # a polite word that the card is no longer valid
        await li.press("参加", "您将参加")  # personal WeChat: the card is text with numbers
        await outbox_sent(running, fake)

    with sqlite3.connect(config.storage.database) as conn:
        answers = dict(conn.execute("SELECT person_id, state FROM invitations"))
    assert answers == {wang_id: "accepted", li_id: "accepted"}
    assert not fake.errors and not fake.dropped and not fake.callback_errors
    assert not [m for m in li.messages if m.kind == "template_card"]


@pytest.mark.slow(20)
async def test_a_briefing_to_2000_members_with_none_dropped(fake: FakeWeCom, clock: TickingClock,
                                                            tmp_path: Path) -> None:
    """WeCom drops without a word what passes 30 a minute or 1 000 an hour to one member (90236): the
    outbox paces per member; 2 000 members get the briefing once each, none is dropped. (At 30 a second
    (wecom.global_rate as tests/wecom_env.py sets it), this is a minute of sending: here on a time base ten times faster, shared by the
    outbox's pacing and the fake's windows.)"""
    config = wecom_config(tmp_path, fake)  # at most 30 sends a second (wecom.global_rate)
    members = 2000
    async with bot_in_process(config, fake, clock, FastMonotonic(10)) as running:
        app = running.app
        async with app.db.transaction() as tx:
            now = app.clock.now()
            office_id = await people.add_staff(tx, "陈静", None, ["office"], "", now)
            for n in range(members):
                pid = await tx.insert("INSERT INTO persons (name, body, roster_key, created_at, updated_at)"
                                      " VALUES (?, ?, ?, '2026-01-01', '2026-01-01') RETURNING id",
                                      (f"代表{n:04d}", "npc" if n % 2 else "cppcc", f"id:R{n:04d}"))
                await people.bind_identity(tx, "wecom", f"rep{n:04d}", f"rep{n:04d}", pid, now)
        reps = [fake.member(f"rep{n:04d}", f"代表{n:04d}", via_wechat=True) for n in range(members)]
        office = await bind(fake, running, office_id, "chenjing", "陈静", "zh")
        await office.say("/brief", "标题")
        await office.say("本院2026年工作情况通报", "正文")
        await office.say("今年以来，本院依法履行法律监督职责，现将主要工作情况通报如下，敬请各位代表委员监督指导。")
        await office.press("完成")
        await office.press("全体人大代表、政协委员", "共 2000 名")
        await office.press("发送", "")
        await fake.wait_until(lambda: all(m.received for m in reps), timeout=120,
                              what=lambda: f"{sum(1 for m in reps if m.received)} of {members} reached")
        await outbox_sent(running, fake, timeout=120)

    assert [len(m.received) for m in reps] == [1] * members
    assert all("本院2026年工作情况通报" in m.received[0].text and m.received[0].visible for m in reps)
    assert fake.dropped_count == 0 and not fake.errors
    with sqlite3.connect(config.storage.database) as conn:
        contacts = conn.execute("SELECT COUNT(*) FROM contacts").fetchone()[0]
    assert contacts == members


async def test_callbacks_resent_after_the_timeout_are_handled_once_and_distinct_events_are_not_merged(
        fake: FakeWeCom, clock: TickingClock, tmp_path: Path) -> None:
    """90930: WeCom posts a callback again when the answer takes over 5 s, three times in all; a bot that
    handles each post does everything twice. Events have no MsgId: two different clicks in the same
    second are two events (deduplicating on FromUserName + CreateTime alone would lose one)."""
    config = wecom_config(tmp_path, fake)
    async with bot_in_process(config, fake, clock, FastMonotonic()) as running:
        app = running.app
        rep = await add_representative(running, "王建国", "D001")
        wang = await bind(fake, running, rep, "wangjianguo", "王建国", "zh")

        # the same message posted three times (WeCom's resends): one answer
        before = len(wang.messages)
        delivery = await wang.member.send_text("/my", repeat=3)
        assert delivery.statuses == [200, 200, 200]
        await outbox_sent(running, fake)
        assert len(wang.messages) == before + 1

        # a slow bot: the first post times out while the database is busy, WeCom posts it again
        fake.callback_timeout = 0.5
        before = len(wang.messages)
        async with app.db.transaction():  # the writer is held: the callback cannot be stored yet
            task = await wang.member.send_text("/help", wait=False)
            await fake.wait_until(lambda: len(fake.callbacks) >= 2 and fake.callbacks[-1].attempt == 2, timeout=10)
        delivery = await task
        assert delivery.statuses[0] == 0 and delivery.answered
        await outbox_sent(running, fake)
        assert len(wang.messages) == before + 1 and "“提交”" in wang.messages[-1].text
        fake.callback_timeout = 5.0

        # two different menu clicks in the same second are two events, both answered
        await wang.member.click_menu("my")
        await wang.member.click_menu("help")
        created = [c for c in fake.callbacks[-2:]]
        assert len(created) == 2
        await outbox_sent(running, fake)
        assert len(wang.messages) == before + 3

    with sqlite3.connect(config.storage.database) as conn:
        stored = [r[0] for r in conn.execute("SELECT payload FROM inbox ORDER BY id")]
    assert sum('"Content": "/my"' in p for p in stored) == 1
    assert sum('"Content": "/help"' in p for p in stored) == 1
    assert sum('"Event": "click"' in p for p in stored) == 2


async def test_a_token_expired_or_invalidated_mid_run_is_refreshed_once_and_nothing_is_lost(
        fake: FakeWeCom, clock: TickingClock, tmp_path: Path) -> None:
    """91039: a token lives 7 200 s and WeCom may end it early; the bot fetches a new one once and
    sends again — from the configured api_base (政务微信 and private deployments), never elsewhere."""
    config = wecom_config(tmp_path, fake)
    async with bot_in_process(config, fake, clock, FastMonotonic()) as running:
        rep = await add_representative(running, "王建国", "D001")
        wang = await bind(fake, running, rep, "wangjianguo", "王建国", "zh")
        issued = fake.tokens_issued
        clock.advance(hours=2, minutes=1)  # the token has expired: the bot knows its lifetime
        await wang.say("/help", "“提交”")
        assert fake.tokens_issued == issued + 1 and not fake.errors
        fake.expire_tokens()  # WeCom ends it early: 42001
        await wang.say("/my")
        fake.faults.queue.append("40014")  # or declares it invalid
        await wang.say("/help", "“提交”")
        fake.faults.queue.extend(["busy", "500"])  # and two passing faults: sent again, once
        await wang.say("/my")
        await outbox_sent(running, fake)
        assert fake.tokens_issued == issued + 3
        assert [e[1] for e in fake.errors] == [42001, 40014, -1, -500]
        assert fake.requests.count("/cgi-bin/gettoken") == fake.tokens_issued  # token requests too go to api_base

    with sqlite3.connect(config.storage.database) as conn:
        unsent = conn.execute("SELECT COUNT(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
    texts = [m.text for m in wang.messages]
    assert unsent == 0 and len(texts) == len(set(texts)) + 2  # /help twice and /my twice, alike; nothing else twice
