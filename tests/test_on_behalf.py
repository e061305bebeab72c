"""SPEC §3: the office registers, on a representative's behalf, a matter received by letter, at a
meeting, on a visit or by phone; its channel is recorded, the representative is told in their chat."""

from __future__ import annotations

import json

import pytest

from bot.sealing import COMPLAINANT_CONTACT, COMPLAINANT_NAME
from tests.cast import People, messages
from tests.fakes import Harness, User

TABLES = ("matters", "attachments", "timeline", "counters", "dialogs", "outbox")
REFUSED = "抱歉，只有办公室可以代为登记代表委员的事项。"


class Office(People):
    """A liaison office of two, a handler, and a deputy bound to their chat."""

    async def setup(self, deputy_lang: str = "zh-hans") -> None:
        h = self.h
        self.clerk_id = await h.add_staff("陈静", ["office"])
        self.clerk = await self.bind(self.clerk_id, "3001")
        self.colleague = await self.bind(await h.add_staff("赵敏", ["office"]), "3002")
        self.handler = await self.bind(await h.add_staff("刘洋", ["handler"], "第一检察部"), "4001")
        self.rep_id = await h.add_representative("王建国", phone="13800000001", sector="教育界")
        self.deputy = await self.bind(self.rep_id, "1001", deputy_lang)


async def choose(clerk: User, search: str, label: str, via: str) -> None:
    await clerk.say("/register")
    await clerk.say(search)
    await clerk.press(label)
    await clerk.press(via)


async def register_suggestion(clerk: User, search: str, label: str, via: str = "会议现场") -> None:
    await choose(clerk, search, label, via)
    await clerk.press("建议")
    await clerk.say("关于加强未成年人保护")
    await clerk.say("建议检察院进校园开展法治宣传。")
    await clerk.press("完成")
    await clerk.press("无附件")
    await clerk.press("确认登记")


async def test_a_letter_with_a_referred_case_and_a_file_is_registered_for_the_deputy(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    clerk = office.clerk
    started = await clerk.say("/register")
    assert messages(started) == ["代为登记\n请问是哪位代表委员的事项？请发送其姓名中的部分文字，或其电话号码。"]
    found = await clerk.say("建国")
    assert messages(found) == ["请选择代表委员，或发送姓名中的其他部分重新查找。"]
    assert [label for label, _ in found[0].buttons] == ["王建国 · 人大代表 · 教育界", "取消"]
    how = await clerk.press("王建国 · 人大代表 · 教育界")
    assert messages(how) == ["王建国的事项是通过何种方式收到的？请选择："]
    assert clerk.last_buttons() == ["信函", "会议现场", "走访", "电话", "其他", "取消"]
    kind = await clerk.press("信函")
    assert messages(kind)[0].startswith("代王建国登记事项\n王建国提出的是哪类事项？")
    await clerk.press("举报")
    await clerk.say("有人非法占用耕地")
    await clerk.say("王建国代表来信反映，某公司占用基本农田建厂。")
    await clerk.press("完成")
    await clerk.send_file(b"%PDF-1.4 letter scan", "letter.pdf")
    asked = await clerk.press("附件已发完")
    assert [s.text for s in asked if s.op == "message"][-1] == (  # the office is not the one asked to pass it on
        "请发送委托代表委员转交的群众（举报人、控告人或申诉人）的姓名。")
    await clerk.say("张三")
    await clerk.say("13900001111")
    summary = clerk.last.splitlines()
    assert summary[:3] == ["请核对", "转交人：王建国 · 人大代表 · 教育界", "收到方式：信函"]
    assert "举报人：张三，联系方式：13900001111" in summary and "附件：1 个" in summary
    assert clerk.last_buttons() == ["确认登记", "修改", "取消"]
    before = len(harness.channel.sent)
    await clerk.press("确认登记")

    assert clerk.last.splitlines() == [
        "已代为登记",
        "已为王建国登记举报，编号：LS-2026-0001。",
        "收到方式：信函",
        "登记时间：2026年11月27日 10:00",
        "办理期限：2027年2月27日",
        "已通过本平台通知王建国。",
    ]
    assert office.deputy.last.splitlines() == [
        "已登记",
        "您通过信函转交的举报已登记，编号：LS-2026-0001。",
        "登记时间：2026年11月27日 10:00",
        "办理期限：2027年2月27日",
        "办理进展和答复将在此告知您。发送 /my 可随时查看。",
    ]
    assert office.colleague.last == "新事项\n新举报 LS-2026-0001，转交人：王建国代表，事由：有人非法占用耕地"
    to_clerk = messages([s for s in harness.channel.sent[before:] if s.chat_id == clerk.chat_id])
    assert len(to_clerk) == 1  # the receipt, not also the notice of a new matter
    assert messages([s for s in harness.channel.sent[before:] if s.chat_id == office.handler.chat_id]) == []

    async with harness.db.snapshot() as q:
        row = await q.one("SELECT * FROM matters")
        files = await q.all("SELECT name, matter_id FROM attachments")
        events = await q.all("SELECT event, actor_id, public, detail FROM timeline")
    assert (row["number"], row["kind"], row["state"], row["due_date"]) == (
        "LS-2026-0001", "report", "registered", "2027-02-27")
    assert (row["representative_id"], row["registered_by"], row["received_via"]) == (
        office.rep_id, office.clerk_id, "letter")
    sealer = harness.db.sealer  # sealed at rest (issue 15, item 5)
    assert sealer is not None and row["complainant_name"].startswith("enc1:")
    assert (sealer.open(row["complainant_name"], COMPLAINANT_NAME),
            sealer.open(row["complainant_contact"], COMPLAINANT_CONTACT)) == ("张三", "13900001111")
    assert row["body"] == "王建国代表来信反映，某公司占用基本农田建厂。"
    assert [tuple(f) for f in files] == [("letter.pdf", row["id"])]
    assert [(e["event"], e["actor_id"], e["public"], json.loads(e["detail"])) for e in events] == [
        ("registered", office.clerk_id, 1, {"via": "letter"})]
    assert await harness.count("dialogs") == 0
    # the deputy follows it as their own
    listing = await office.deputy.say("/my")
    assert "LS-2026-0001 · 举报 · 已登记\n有人非法占用耕地" in listing[0].text


async def test_the_deputy_is_told_in_their_own_language(harness: Harness) -> None:
    office = Office(harness)
    await office.setup(deputy_lang="en")
    await register_suggestion(office.clerk, "王建", "王建国 · 人大代表 · 教育界", via="走访")
    assert office.deputy.last.splitlines()[:2] == [
        "Registered",
        "Your suggestion raised during a visit has been registered as LS-2026-0001.",
    ]
    assert office.clerk.last.splitlines()[1:3] == ["已为王建国登记建议，编号：LS-2026-0001。", "收到方式：走访"]


async def test_a_representative_with_no_chat_is_registered_for_and_not_told(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    unbound = await harness.add_representative("李明", body="cppcc", phone="13911112222", sector="经济界")
    await register_suggestion(office.clerk, "李明", "李明 · 政协委员 · 经济界", via="其他")
    assert office.clerk.last.splitlines()[1] == "已为李明登记建议，编号：LS-2026-0001。"
    assert office.clerk.last.splitlines()[-1] == "李明尚未绑定账号，未能通知，请另行告知其登记编号。"
    assert await harness.count("outbox", "person_id = ?", (unbound,)) == 0
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT representative_id, registered_by, received_via FROM matters")
    assert tuple(row) == (unbound, office.clerk_id, "other")


async def test_search_by_phone_and_by_part_of_a_name(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    await harness.add_representative("王建华", body="cppcc", phone="13900008888", sector="医药卫生界")
    await harness.add_representative("张伟", phone="13700001234")
    clerk = office.clerk
    await clerk.say("/register")
    by_name = await clerk.say("王建")
    assert [label for label, _ in by_name[0].buttons] == [
        "王建华 · 政协委员 · 医药卫生界", "王建国 · 人大代表 · 教育界", "取消"]
    by_phone = await clerk.say("139 0000 8888")
    assert [label for label, _ in by_phone[0].buttons] == ["王建华 · 政协委员 · 医药卫生界", "取消"]
    by_dashes = await clerk.say("+86 137-0000-1234")
    assert [label for label, _ in by_dashes[0].buttons] == ["张伟 · 人大代表", "取消"]
    by_part = await clerk.say("1234")  # phones are sealed at rest: found whole, by their keyed digest
    assert "张伟 · 人大代表" not in [label for label, _ in by_part[0].buttons]
    # a button from an earlier search still works, and is checked again
    await clerk.press("王建国 · 人大代表 · 教育界")
    assert clerk.last == "王建国的事项是通过何种方式收到的？请选择："


async def test_no_match_asks_again_and_staff_are_never_offered(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    clerk = office.clerk
    await clerk.say("/register")
    for text in ("赵", "刘洋", "%", "_"):  # 赵敏 and 刘洋 are staff; wildcards are taken literally
        replies = await clerk.say(text)
        assert messages(replies) == [
            f"未找到与“{text}”相符的人大代表或政协委员。请发送姓名中的其他部分，或其电话号码。"]
        assert replies[0].buttons == [("取消", replies[0].buttons[0][1])]
    long = await clerk.say("王" * 51)
    assert messages(long) == ["请发送较短的姓名片段或电话号码（最多 50 个字符）。"]
    photo = await clerk.send_file(b"img", "a.jpg", kind="photo")
    assert messages(photo)[0] == "请以文字回复。"
    found = await clerk.say("王建国")
    assert [label for label, _ in found[0].buttons][0] == "王建国 · 人大代表 · 教育界"


async def test_more_than_eight_matches_show_the_first_eight(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    for n in range(10):
        await harness.add_representative(f"张{n}", phone=f"1360000000{n}")
    await office.clerk.say("/register")
    replies = await office.clerk.say("张")
    assert messages(replies) == ["相符的人员超过 8 位，以下列出前 8 位。请选择，或发送更完整的姓名以缩小范围。"]
    assert [label for label, _ in replies[0].buttons] == [f"张{n} · 人大代表" for n in range(8)] + ["取消"]


async def test_a_forged_representative_button_is_stale_and_changes_nothing(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    clerk = office.clerk
    await clerk.say("/register")
    found = await clerk.say("王建国")
    nonce = found[0].buttons[0][1].split(":")[1]
    before = await harness.dump(*TABLES[:-1])
    for forged in (f"rep{office.clerk_id}", "rep99999", "repx", "rep", "letter", "suggestion", "submit"):
        pressed = await clerk.press_data(f"d:{nonce}:{forged}")
        assert [r.payload["text"] for r in pressed if r.op == "answer"] == ["此选项已失效。"], forged
        assert messages(pressed) == []
    assert await harness.dump(*TABLES[:-1]) == before
    # an old step's button (the via step's, after going on) is stale too
    await clerk.press("王建国 · 人大代表 · 教育界")
    await clerk.press("电话")
    pressed = await clerk.press_data(f"d:{nonce}:rep{office.rep_id}")
    assert [r.payload["text"] for r in pressed if r.op == "answer"] == ["此选项已失效。"]


@pytest.mark.parametrize("who", ["handler", "deputy"])
async def test_only_the_office_may_register_on_behalf(harness: Harness, who: str) -> None:
    office = Office(harness)
    await office.setup()
    user = office.handler if who == "handler" else office.deputy
    before = await harness.dump(*TABLES)
    refused = await user.say("/register")
    assert messages(refused) == [REFUSED]
    pressed = await user.press_data("register:start")  # the office's menu button, forged
    assert messages(pressed) == [REFUSED]
    after = await harness.dump(*TABLES)
    sent = after["outbox"][len(before["outbox"]):]
    assert {row[2] for row in sent} == {user.chat_id}  # only the refusals, to the one who asked
    after["outbox"] = after["outbox"][:len(before["outbox"])]
    assert after == before
    async with harness.db.snapshot() as q:
        actions = [r[0] for r in await q.all("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-2:] == ["refused:register_on_behalf"] * 2


async def test_an_office_member_who_loses_the_role_cannot_finish(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    clerk = office.clerk
    await choose(clerk, "王建国", "王建国 · 人大代表 · 教育界", "信函")
    await clerk.press("意见")
    await clerk.say("事由")
    await clerk.say("内容")
    await clerk.press("完成")
    await clerk.press("无附件")
    async with harness.db.transaction() as tx:
        await tx.execute("DELETE FROM person_roles WHERE person_id = ?", (office.clerk_id,))
    refused = await clerk.press("确认登记")
    assert REFUSED in messages(refused)
    assert await harness.count("matters") == 0


@pytest.mark.parametrize("step", ["whom", "results", "via", "kind"])
@pytest.mark.parametrize("how", ["button", "command"])
async def test_cancel_at_the_new_steps_registers_nothing(harness: Harness, step: str, how: str) -> None:
    office = Office(harness)
    await office.setup()
    clerk = office.clerk
    await clerk.say("/register")
    if step != "whom":
        await clerk.say("王建国")
    if step in ("via", "kind"):
        await clerk.press("王建国 · 人大代表 · 教育界")
    if step == "kind":
        await clerk.press("走访")
    replies = await (clerk.press("取消") if how == "button" else clerk.say("/cancel"))
    assert "已取消，未提交任何内容。" in messages(replies)
    assert await harness.count("matters") == 0 and await harness.count("dialogs") == 0


async def test_the_office_menu_and_help_offer_it_and_the_deputy_s_do_not(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    await office.clerk.say("/menu")
    assert office.clerk.last_buttons() == ["待办", "代为登记", "记录联系", "语言", "帮助"]
    help_text = (await office.clerk.say("/help"))[0].text
    assert "/register — 代为登记通过信函、会议、走访或电话等方式收到的代表委员事项" in help_text
    await office.deputy.say("/menu")
    assert "代为登记" not in office.deputy.last_buttons()
    assert "/register" not in (await office.deputy.say("/help"))[0].text
    assert "/register" not in (await office.handler.say("/help"))[0].text
    started = await office.clerk.press("代为登记")
    assert messages(started) == ["代为登记\n请问是哪位代表委员的事项？请发送其姓名中的部分文字，或其电话号码。"]
    again = await office.clerk.say("/register")
    assert messages(again)[0] == "您还有一项操作尚未完成：代为登记事项。请先完成，或发送 /cancel 退出。"
    await register_suggestion_from_results(office.clerk)
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT received_via FROM matters") == "phone"


async def register_suggestion_from_results(clerk: User) -> None:
    await clerk.say("王建国")
    await clerk.press("王建国 · 人大代表 · 教育界")
    await clerk.press("电话")
    await clerk.press("建议")
    await clerk.say("事由")
    await clerk.say("内容")
    await clerk.press("完成")
    await clerk.press("无附件")
    await clerk.press("确认登记")


async def test_a_deputy_s_own_submission_is_unchanged_beside_it(harness: Harness) -> None:
    """The office's registration and the deputy's own share one numbering and one dialogue."""
    office = Office(harness)
    await office.setup()
    await register_suggestion(office.clerk, "王建国", "王建国 · 人大代表 · 教育界")
    deputy = office.deputy
    await deputy.say("/submit")
    await deputy.press("意见")
    await deputy.say("本人意见")
    await deputy.say("内容")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.press("确认提交")
    assert deputy.last.splitlines()[1:3] == ["感谢您的监督，您提出的意见已登记。", "编号：LS-2026-0002"]
    async with harness.db.snapshot() as q:
        rows = [tuple(r) for r in await q.all(
            "SELECT number, received_via, registered_by FROM matters ORDER BY id")]
    assert rows == [("LS-2026-0001", "meeting", office.clerk_id), ("LS-2026-0002", "chat", office.rep_id)]
    assert office.clerk.last == "新事项\n新意见 LS-2026-0002，提出人：王建国代表，事由：本人意见"
