"""End to end over real HTTP, in both languages: a referred case from submission through
assignment, progress, extension, conclusion, reply approval, 不满意, reopening by another
department, a second reply and 满意 — every person on their own chat with the strict fake Bot API."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.people.binding import create_invite
from storage import people
from tests.fakebotapi import FakeBotAPI
from tests.telegram_env import Chat, bot_in_process, telegram_config

pytestmark = pytest.mark.slow(3)  # a child process or a real-time fake: started first


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
LABELS = {
    "zh": {"report": "举报", "done": "完成", "no_files": "无附件", "submit": "确认提交", "assign": "交办",
           "progress": "进展", "public": "是，发送", "extend": "申请延期", "decide": "延期审批", "conclude": "办结",
           "A": "A类：已解决或基本解决", "draft": "起草答复", "in_chat": "网上答复", "confirm": "确认",
           "approve": "审批通过", "dissatisfied": "不满意", "satisfied": "满意", "no_comment": "不补充意见",
           "receipt": "已登记", "reply": "答复", "thanks": "感谢您的评价和监督。", "files_prompt": "附件"},
    "en": {"report": "Report", "done": "Done", "no_files": "No files", "submit": "Submit", "assign": "Assign",
           "progress": "Progress note", "public": "Yes, send it", "extend": "Ask for extension",
           "decide": "Decide extension", "conclude": "Conclude", "A": "A: resolved or basically resolved",
           "draft": "Draft reply", "in_chat": "in writing, here", "confirm": "Confirm", "approve": "Approve reply",
           "dissatisfied": "Dissatisfied", "satisfied": "Satisfied", "no_comment": "No comment",
           "receipt": "Registered", "reply": "Reply", "thanks": "Thank you for your rating and your supervision.",
           "files_prompt": "photos or documents"},
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    # Telegram allows a chat about a message a second: here a tenth of that on both sides, the bot's
    # interval a little longer than the fake's flood limit (what is proved), without a dialogue's waiting.
    async with FakeBotAPI(per_chat_interval=0.02) as server:
        yield server


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_referred_case_from_submission_to_satisfied(fake: FakeBotAPI, tmp_path: Path, lang: str) -> None:
    L = LABELS[lang]
    code = "zh-hans" if lang == "zh" else "en"
    config = telegram_config(tmp_path, fake, per_chat_interval=0.025)
    async with bot_in_process(config) as running:
        app = running.app
        async with app.db.transaction() as tx:
            d1 = await people.add_department(tx, "第一检察部", app.clock.now())
            d2 = await people.add_department(tx, "第二检察部", app.clock.now())
            staff = {
                "office": await people.add_staff(tx, "陈静", None, ["office"], "", app.clock.now()),
                "h1": await people.add_staff(tx, "刘洋", d1, ["handler"], "", app.clock.now()),
                "h2": await people.add_staff(tx, "王芳", d2, ["handler"], "", app.clock.now()),
                "discipline": await people.add_staff(tx, "孙磊", None, ["discipline"], "", app.clock.now()),
            }
            rep = await tx.insert("INSERT INTO persons (name, body, phone, roster_key, created_at, updated_at)"
                                  " VALUES ('王建国', 'npc', ?, 'id:D001', '2026-01-01', '2026-01-01')"
                                  " RETURNING id", (people.sealed_phone(tx, "13800000001")[0],))
            codes = {name: await create_invite(tx, pid, app.clock.now(), 14) for name, pid in
                     [*staff.items(), ("deputy", rep)]}
        chats = {}
        for n, name in enumerate(["deputy", *staff]):
            chats[name] = Chat(fake, fake.user(7000 + n, language_code=code))
            await chats[name].expect(lambda c=codes[name], u=chats[name]: u.user.send_text(f"/start {c}"), "/help")
        deputy, office, h1, h2 = chats["deputy"], chats["office"], chats["h1"], chats["h2"]

        # the deputy refers a report (each step answers with one message: wait for it)
        await deputy.say("/submit", "")
        await deputy.press(L["report"], "")
        await deputy.say("有人非法占用耕地", "")
        await deputy.say("村民反映某公司占用基本农田建厂。", "")
        await deputy.press(L["done"], "")
        await deputy.press(L["no_files"], "")
        await deputy.say("张三", "")
        summary = await deputy.say("13900001111", "13900001111")
        receipt = await deputy.press(L["submit"], "LS-")
        number = next(w for w in receipt.text.replace("：", " ").replace(":", " ").split() if w.startswith("LS-"))
        await office.wait_for(number)

        async def assign(department: str) -> None:
            await office.say(f"/case {number}", number)
            await office.press(L["assign"], "")
            await office.press(department, "")
            await office.press("陈静", number)  # "done", then the card again

        async def conclude_and_reply(handler: Chat, body: str) -> None:
            await handler.say(f"/case {number}", number)
            await handler.press(L["conclude"], "")
            await handler.press(L["A"], number)
            await handler.say(f"/case {number}", number)
            await handler.press(L["draft"], "")
            await handler.press(L["in_chat"], "")
            await handler.say(body, "")
            await handler.say(GROUNDS[lang], GROUNDS[lang])
            await handler.press(L["confirm"], number)
            await office.say(f"/case {number}", number)
            await office.press(L["approve"], number)

        # the office assigns it to the first department, with itself as urger
        await assign("第一检察部")
        await h1.wait_for(number)
        await deputy.wait_for("第一检察部")

        # a progress notice, an extension, the conclusion and the reply
        await h1.say(f"/case {number}", number)
        await h1.press(L["progress"], "")
        await h1.say("已调阅案卷，正在核实。", "")
        await h1.press(L["public"], number)
        await deputy.wait_for("已调阅案卷，正在核实。")
        await h1.say(f"/case {number}", number)
        await h1.press(L["extend"], "")
        await h1.say("需要等待国土部门的测绘结论。", number)
        await office.wait_for("需要等待国土部门的测绘结论。")
        await office.say(f"/case {number}", number)
        await office.press(L["decide"], "")
        before = len(deputy.messages())
        await office.press_first(number)
        await deputy.wait_for(number, since=before)  # the progress notice with the new due date
        await conclude_and_reply(h1, BODY[lang])
        first_reply = await deputy.wait_for(BODY[lang])
        assert GROUNDS[lang] in first_reply.text and first_reply.parse_mode == "HTML"

        # 不满意: reopened, handled again by the second department, answered again, 满意
        await deputy.press(L["dissatisfied"], "")
        await deputy.say("答复没有说明对责任人的处理。", "")
        await chats["discipline"].wait_for("答复没有说明对责任人的处理。")
        await office.wait_for("答复没有说明对责任人的处理。")
        await assign("第二检察部")
        await h2.wait_for(number)
        await conclude_and_reply(h2, BODY[lang] + "（第二次答复）")
        await deputy.wait_for("（第二次答复）")
        told = len(h2.messages())
        await deputy.press(L["satisfied"], "")
        await deputy.press(L["no_comment"], L["thanks"])
        # the handling department is told of the rating too; the fake's 429 (a flood limit met) may hold its chat
        # for a second, so nothing is left unsent only once it has arrived
        await h2.wait_for(L["satisfied"], since=told)

    with sqlite3.connect(config.storage.database) as conn:
        state, reopened, dept = conn.execute("SELECT state, reopened, department_id FROM matters").fetchone()
        ratings = [r[0] for r in conn.execute("SELECT rating FROM replies ORDER BY id")]
        unsent = conn.execute("SELECT COUNT(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
    assert (state, reopened, dept, ratings, unsent) == ("closed", 1, d2, ["dissatisfied", "satisfied"], 0)
    assert all(len(a) == 1 for a in fake.callback_answers.values())
    assert not [e for e in fake.errors if e[1] not in (429,)]
    assert summary.text and receipt.text.startswith(L["receipt"])
