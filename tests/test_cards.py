"""Seed §5, §11; SPEC §6: opinion cards 征求意见卡 — the office writes a card in chat and sends it to
all or some representatives; each answers question by question (or skips, or declines), and each
non-empty answer set is registered as an opinion matter, counts as a contact by opinion card, and
is answered once only. The office follows the response rate and is reminded of non-respondents once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.config import CardsConfig, load
from bot.errors import ConfigError
from tests.cast import People, answers, at, messages, refuses_forged_choices
from tests.fakes import Harness, Sent, User

TITLE = "2026年度检察工作征求意见"
Q1 = "您对我院今年的工作有何意见建议？"
Q2 = "您对我院办案工作的总体评价？"
CARD_TABLES = ("cards", "card_questions", "card_recipients", "card_answers")
TABLES = (*CARD_TABLES, "matters", "timeline", "counters", "contacts", "dialogs")


class Office(People):
    """A liaison office member, a handler, two bound representatives and one without a chat."""

    async def setup(self) -> None:
        h = self.h
        self.clerk_id = await h.add_staff("陈静", ["office"])
        self.clerk = await self.bind(self.clerk_id, "3001")
        self.handler = await self.bind(await h.add_staff("刘洋", ["handler"], "第一检察部"), "4001")
        self.wang_id = await h.add_representative("王建国", phone="13800000001", sector="教育界")
        self.wang = await self.bind(self.wang_id, "1001")
        self.li_id = await h.add_representative("李秀梅", body="cppcc", phone="13800000002", sector="医药卫生界")
        self.li = await self.bind(self.li_id, "1002")
        self.zhang_id = await h.add_representative("张伟", phone="13800000003", sector="教育界")  # no chat bound

    async def write_card(self, audience: str = "全体人大代表、政协委员") -> list[Sent]:
        clerk = self.clerk
        await clerk.say("/card")
        await clerk.say(TITLE)
        await clerk.say(Q1)
        await clerk.press("文字回答")
        await clerk.say(Q2)
        await clerk.press("选择题")
        await clerk.say("满意／基本满意/ 不满意 ")
        await clerk.press("完成")
        return await clerk.press(audience)

    async def send_card(self) -> None:
        await self.write_card()
        await self.clerk.press("发送")


@pytest.fixture
async def office(harness: Harness) -> Office:
    o = Office(harness)
    await o.setup()
    return o


async def answer_both(deputy: User, text: str = "建议加强公益诉讼宣传。", choice: str = "满意") -> list[Sent]:
    await deputy.press("填写")
    await deputy.say(text)
    await deputy.press(choice)
    return await deputy.press("确认提交")


async def test_the_office_writes_a_card_with_a_free_text_and_a_choice_question_and_sends_it(
        harness: Harness, office: Office) -> None:
    clerk = office.clerk
    assert messages(await clerk.say("/card")) == ["撰写征求意见卡\n请发送征求意见卡的标题（不超过 100 字）。"]
    assert messages(await clerk.say(TITLE)) == ["请发送第 1 个问题。"]
    assert messages(await clerk.say(Q1)) == ["第 1 个问题如何作答？"]
    assert clerk.last_buttons() == ["文字回答", "选择题", "取消"]
    assert messages(await clerk.press("文字回答")) == [
        "第 1 个问题已添加。请发送第 2 个问题；问题已全部添加的，请选择“完成”。"]
    await clerk.say(Q2)
    assert messages(await clerk.press("选择题")) == [
        "请发送各选项，用“/”隔开，例如：满意/基本满意/不满意（2 至 8 个选项）。"]
    assert messages(await clerk.say("满意")) == ["请发送 2 至 8 个选项，用“/”隔开，例如：满意/基本满意/不满意。"]
    assert messages(await clerk.say("满意／基本满意/ 不满意 ")) == [
        "第 2 个问题已添加。请发送第 3 个问题；问题已全部添加的，请选择“完成”。"]
    assert messages(await clerk.press("完成")) == ["请选择发送对象："]
    assert clerk.last_buttons() == ["全体人大代表、政协委员", "人大代表", "政协委员", "按界别", "指定人员", "取消"]
    preview = await clerk.press("全体人大代表、政协委员")
    assert messages(preview) == ["\n".join([
        "请核对", f"名称：{TITLE}", f"1. {Q1}", f"2. {Q2}", "选项：满意 / 基本满意 / 不满意", "",
        "发送对象：全体人大代表、政协委员，共 3 名", "未绑定账号，无法送达（1 名）：张伟"])]
    assert clerk.last_buttons() == ["发送", "取消"]
    assert await harness.count("cards") == 0  # nothing is stored before Send

    sent = await clerk.press("发送")
    assert messages(sent) == ["\n".join([
        "征求意见卡已发送",
        f"征求意见卡《{TITLE}》将发送给 2 名代表委员，消息将在几分钟内陆续送达。",
        "未绑定账号，未能送达（1 名）：张伟。请通过其他方式向其送达征求意见卡。",
        "发送 /cards 可查看填写情况。"])]
    card = "\n".join([
        "征求意见卡",
        f"卢氏县人民检察院诚挚征求您的意见：《{TITLE}》。",
        "共 2 个问题：", f"1. {Q1}", f"2. {Q2}", "选项：满意 / 基本满意 / 不满意", "",
        "请选择“填写”逐题作答；如不便填写，请选择“不填写”。感谢您对检察工作的监督和支持。"])
    for deputy in (office.wang, office.li):
        assert deputy.last == card
        assert deputy.last_buttons() == ["填写", "不填写"]

    async with harness.db.snapshot() as q:
        row = await q.one("SELECT title, created_by, audience, state FROM cards")
        questions = [tuple(r) for r in await q.all("SELECT card_id, position, text, kind, choices FROM card_questions")]
        recipients = [tuple(r) for r in await q.all(
            "SELECT person_id, sent_at IS NOT NULL, answered_at, declined_at, matter_id FROM card_recipients"
            " ORDER BY person_id")]
        queued = await q.scalar("SELECT COUNT(*) FROM outbox WHERE dedup_key LIKE 'card:1>%' AND policy = 'retry'")
        action = await q.scalar("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")
    assert tuple(row) == (TITLE, office.clerk_id, '{"kind": "all"}', "sent")
    assert questions == [(1, 1, Q1, "free_text", "[]"), (1, 2, Q2, "choice", '["满意", "基本满意", "不满意"]')]
    assert recipients == [(office.wang_id, 1, None, None, None), (office.li_id, 1, None, None, None),
                          (office.zhang_id, 0, None, None, None)]
    assert (queued, action) == (2, "card_sent")
    assert await harness.count("dialogs") == 0


async def test_a_card_to_a_sector_and_to_named_people(harness: Harness, office: Office) -> None:
    clerk = office.clerk
    await office.write_card("按界别")
    assert clerk.last_buttons() == ["医药卫生界", "教育界", "取消"]
    preview = await clerk.press("教育界")
    assert "发送对象：教育界代表委员，共 2 名" in messages(preview)[0]
    await clerk.press("取消")
    await office.write_card("指定人员")
    await clerk.say("秀梅")
    await clerk.press("李秀梅 · 政协委员 · 医药卫生界")
    await clerk.say("13800000001")
    await clerk.press("王建国 · 人大代表 · 教育界")
    assert clerk.last == "已选择：李秀梅、王建国。如需添加其他人员，请继续发送姓名；全部选好后，请选择“完成”。"
    preview = await clerk.press("完成")
    assert messages(preview)[0].endswith("发送对象：指定人员，共 2 名")
    await clerk.press("发送")
    async with harness.db.snapshot() as q:
        rows = [tuple(r) for r in await q.all("SELECT person_id FROM card_recipients ORDER BY person_id")]
    assert rows == [(office.wang_id,), (office.li_id,)]


async def test_answering_question_by_question_registers_an_opinion_matter(harness: Harness, office: Office) -> None:
    await office.send_card()
    wang = office.wang
    assert messages(await wang.press("填写")) == [f"第 1 题（共 2 题）：{Q1}\n请输入您的回答。"]
    assert wang.last_buttons() == ["跳过", "取消"]
    assert messages(await wang.say("建议加强公益诉讼宣传。")) == [f"第 2 题（共 2 题）：{Q2}\n请选择："]
    assert wang.last_buttons() == ["满意", "基本满意", "不满意", "跳过", "取消"]
    assert messages(await wang.say("满意")) == ["请在下方选项中选择。", f"第 2 题（共 2 题）：{Q2}\n请选择："]
    check = await wang.press("满意")
    assert messages(check) == [f"请核对\n《{TITLE}》\n\n1. {Q1}\n答：建议加强公益诉讼宣传。\n\n2. {Q2}\n答：满意"]
    assert wang.last_buttons() == ["确认提交", "取消"]
    receipt = await wang.press("确认提交")
    assert messages(receipt) == ["\n".join([
        "已登记",
        f"您对征求意见卡《{TITLE}》的回答已收到。",
        "感谢您的监督，您提出的意见已登记。",
        "编号：LS-2026-0001",
        "登记时间：2026年11月27日 10:00",
        "办理期限：2027年2月27日",
        "办理进展和答复将在此告知您。发送 /my 可随时查看。"])]
    assert office.clerk.last == f"新事项\n新意见 LS-2026-0001，提出人：王建国代表，事由：{TITLE}"

    async with harness.db.snapshot() as q:
        matter = await q.one("SELECT * FROM matters")
        recipient = await q.one("SELECT * FROM card_recipients WHERE person_id = ?", (office.wang_id,))
        answers = [tuple(r) for r in await q.all("SELECT question_id, answer FROM card_answers ORDER BY question_id")]
        contact = await q.one("SELECT representative_id, method, contacted_on, staff_id, note, source, source_ref"
                              " FROM contacts")
        event = await q.one("SELECT event, actor_id, public, detail FROM timeline")
    assert (matter["number"], matter["kind"], matter["state"], matter["subject"], matter["received_via"]) == (
        "LS-2026-0001", "opinion", "registered", TITLE, "card")
    assert (matter["representative_id"], matter["registered_by"], matter["due_date"]) == (
        office.wang_id, office.wang_id, "2027-02-27")
    assert matter["body"] == f"征求意见卡《{TITLE}》的回答：\n\n1. {Q1}\n答：建议加强公益诉讼宣传。\n\n2. {Q2}\n答：满意"
    assert (recipient["answered_at"] is not None, recipient["declined_at"], recipient["matter_id"]) == (
        True, None, matter["id"])
    assert answers == [(1, "建议加强公益诉讼宣传。"), (2, "满意")]
    assert tuple(contact) == (office.wang_id, "opinion_card", "2026-11-27", office.clerk_id, TITLE, "card", "card:1")
    assert tuple(event) == ("registered", office.wang_id, 1, '{"via": "card"}')
    assert await harness.count("dialogs") == 0


async def test_a_skipped_question_is_left_out_and_each_answer_set_gets_its_number(
        harness: Harness, office: Office) -> None:
    await office.send_card()
    await answer_both(office.wang)
    li = office.li
    await li.press("填写")
    await li.press("跳过")
    assert messages(await li.press("基本满意")) == [
        f"请核对\n《{TITLE}》\n\n1. {Q1}\n（未作答）\n\n2. {Q2}\n答：基本满意"]
    receipt = await li.press("确认提交")
    assert "编号：LS-2026-0002" in messages(receipt)[0]
    async with harness.db.snapshot() as q:
        numbers = [tuple(r) for r in await q.all("SELECT number, representative_id FROM matters ORDER BY id")]
        li_answers = [tuple(r) for r in await q.all(
            "SELECT a.question_id, a.answer FROM card_answers a JOIN card_recipients r ON r.id = a.recipient_id"
            " WHERE r.person_id = ?", (office.li_id,))]
        body = await q.scalar("SELECT body FROM matters WHERE number = 'LS-2026-0002'")
    assert numbers == [("LS-2026-0001", office.wang_id), ("LS-2026-0002", office.li_id)]
    assert li_answers == [(2, "基本满意")]
    assert f"1. {Q1}\n（未作答）" in body


async def test_skipping_every_question_registers_nothing(harness: Harness, office: Office) -> None:
    await office.send_card()
    li = office.li
    await li.press("填写")
    await li.press("跳过")
    assert messages(await li.press("跳过")) == ["您跳过了全部问题，没有可提交的内容。您可以重新填写，或选择不填写。"]
    assert li.last_buttons() == ["重新填写", "不填写", "取消"]
    assert messages(await li.press("重新填写")) == [f"第 1 题（共 2 题）：{Q1}\n请输入您的回答。"]
    await li.press("跳过")
    await li.press("跳过")
    declined = await li.press("不填写")
    assert messages(declined)[0].startswith(f"已记录您不填写征求意见卡《{TITLE}》")
    assert await harness.count("matters") == 0 and await harness.count("contacts") == 0
    assert await harness.count("card_recipients", "declined_at IS NOT NULL") == 1


async def test_declining_and_then_answering_after_all(harness: Harness, office: Office) -> None:
    await office.send_card()
    li = office.li
    declined = await li.press("不填写")
    assert messages(declined) == [f"已记录您不填写征求意见卡《{TITLE}》，感谢您的支持。如改变主意，仍可选择征求意见卡下方的“填写”。"]
    assert li.last_buttons() == ["填写"]  # given again: a member typing numbers answers only the latest list
    assert await harness.count("card_recipients", "person_id = ? AND declined_at IS NOT NULL", (office.li_id,)) == 1

    before = await harness.dump(*TABLES)
    again = await li.press("不填写")
    refusal = f"您已表示不填写征求意见卡《{TITLE}》。如改变主意，仍可选择征求意见卡下方的“填写”。"
    assert answers(again) == [refusal] and messages(again) == [refusal]
    assert await harness.dump(*TABLES) == before

    # A decline is not final: the card still takes her answers, and the answer replaces the decline.
    await answer_both(li, "希望多组织检察开放日活动。", "基本满意")
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT answered_at IS NOT NULL, declined_at, matter_id FROM card_recipients"
                          " WHERE person_id = ?", (office.li_id,))
    assert tuple(row) == (1, None, 1)


async def test_answering_cancelled_gives_the_cards_choices_again(harness: Harness, office: Office) -> None:
    """Cancel in the middle of answering: nothing is submitted, and 填写/不填写 come with the message that says they
    can still be chosen (in personal WeChat a typed number answers only the latest list, which was the question's)."""
    await office.send_card()
    li = office.li
    await li.press("填写")
    cancelled = await li.press("取消")
    assert messages(cancelled)[0].startswith("已取消")
    assert li.last_buttons() == ["填写", "不填写"]
    assert await harness.count("matters") == 0
    await li.press("填写")  # and it works from there
    assert li.last_buttons()[-1] == "取消"


async def test_answering_twice_is_refused_and_changes_nothing(harness: Harness, office: Office) -> None:
    await office.send_card()
    wang = office.wang
    await answer_both(wang)
    before = await harness.dump(*TABLES)
    refusal = f"您已填写过征求意见卡《{TITLE}》，您的意见已登记，编号：LS-2026-0001。感谢您的支持。"
    for label in ("填写", "不填写"):
        again = await wang.press(label)
        assert answers(again) == [refusal] and messages(again) == [refusal]
    assert await harness.dump(*TABLES) == before


async def test_answers_in_a_dialogue_left_open_cannot_be_submitted_twice(harness: Harness, office: Office) -> None:
    """Two chat accounts of one deputy: the second submission finds the card answered and registers nothing."""
    await office.send_card()
    other_chat = harness.user("1001b")
    async with harness.db.transaction() as tx:
        await tx.execute("INSERT INTO identities (channel, external_id, person_id, chat_id, bound_at) VALUES"
                         " ('test', '1001b', ?, '1001b', '2026-11-27T01:00:00.000+00:00')", (office.wang_id,))
    card_data = next(data for text, data in office.wang.received[-1].buttons if text == "填写")
    await other_chat.press_data(card_data)
    await other_chat.say("第二个账号的回答")
    await other_chat.press("满意")
    await answer_both(office.wang)
    before = await harness.dump(*TABLES)
    refused = await other_chat.press("确认提交")
    assert messages(refused)[0].startswith(f"您已填写过征求意见卡《{TITLE}》")
    assert await harness.dump(*TABLES) == before


async def test_only_the_office_writes_cards_and_only_recipients_answer(harness: Harness, office: Office) -> None:
    handler = office.handler
    before = await harness.dump(*TABLES)
    refused = await handler.say("/card")
    assert messages(refused) == ["抱歉，只有办公室可以发送征求意见卡。"]
    assert messages(await handler.say("/cards")) == ["抱歉，只有办公室可以发送征求意见卡。"]
    assert messages(await office.wang.say("/card")) == ["抱歉，只有办公室可以发送征求意见卡。"]
    assert await harness.dump(*TABLES) == before
    async with harness.db.snapshot() as q:
        actions = [r[0] for r in await q.all("SELECT action FROM audit_log WHERE action LIKE 'refused:%' ORDER BY id")]
    assert actions == ["refused:manage_cards"] * 3

    # a card to the NPC deputies only: the CPPCC member forging its buttons is refused
    await office.write_card("人大代表")
    await office.clerk.press("发送")
    before = await harness.dump(*TABLES)
    for data in ("card:a:1", "card:x:1", "card:a:99", "card:v:1", "card:c:1"):
        refused = await office.li.press_data(data)
        assert answers(refused) == ["此征求意见卡并未发送给您。" if data[5] in "ax" else "抱歉，只有办公室可以发送征求意见卡。"]
    for data in ("card:a:x", "card:a", "card:z:1"):
        assert answers(await office.li.press_data(data)) == ["此选项已失效。"]
    assert await harness.dump(*TABLES) == before


async def test_the_response_rate_and_who_has_answered(harness: Harness, office: Office) -> None:
    clerk = office.clerk
    assert messages(await clerk.say("/cards")) == ["征求意见卡\n尚未发送过征求意见卡。发送 /card 可撰写征求意见卡。"]
    await office.send_card()
    await answer_both(office.wang)
    await office.li.press("不填写")
    listing = await clerk.say("/cards")
    assert messages(listing) == [f"征求意见卡\n《{TITLE}》，2026年11月27日发出：已填写 1/2（50%）"]
    assert clerk.last_buttons() == [TITLE]
    card = await clerk.press(TITLE)
    assert messages(card) == ["\n".join([
        f"征求意见卡《{TITLE}》",
        "2026年11月27日 10:00由陈静发出，发送对象：全体人大代表、政协委员",
        "应发 3 名，送达 2 名：已填写 1 名（50%），不填写 1 名，尚未填写 0 名。",
        "已填写（1 名）：", "王建国（LS-2026-0001）",
        "不填写（1 名）：", "李秀梅",
        "未绑定账号，未能送达（1 名）：", "张伟"])]
    assert clerk.last_buttons() == ["结束征求"]

    closed = await clerk.press("结束征求")
    assert messages(closed) == [f"征求意见卡《{TITLE}》已结束征求，不再接受填写。"]
    assert messages(await clerk.say("/cards")) == [f"征求意见卡\n《{TITLE}》，2026年11月27日发出：已填写 1/2（50%）（已结束）"]
    before = await harness.dump(*TABLES)
    late = await office.li.press("填写")
    assert messages(late) == [f"征求意见卡《{TITLE}》已结束征求，不再接受填写。感谢您的支持。"]
    assert await harness.dump(*TABLES) == before


async def test_the_office_is_reminded_of_non_respondents_once_after_seven_days(
        harness: Harness, office: Office) -> None:
    await office.send_card()  # Friday 27 November 2026, 10:00
    await answer_both(office.wang)

    async def tick(day: date, hour: int = 9) -> int:
        harness.clock.set(at(day, hour))
        fired = (await harness.app.supervise()).fired
        await harness.app.settle()
        return fired.get("card_remind", 0)

    def reminders() -> list[Sent]:
        return [s for s in office.clerk.received if s.op == "message" and s.text.startswith("征求意见卡未填写提醒")]

    assert await tick(date(2026, 12, 3)) == 0  # six days
    assert await tick(date(2026, 12, 4), 7) == 0  # seven days, but before working hours
    assert await tick(date(2026, 12, 4), 9) == 1
    assert await tick(date(2026, 12, 4), 10) == 0  # once
    assert await tick(date(2026, 12, 11), 10) == 0  # and never again
    assert [s.text for s in reminders()] == ["\n".join([
        "征求意见卡未填写提醒",
        f"征求意见卡《{TITLE}》已发出 7 天：送达 2 名，已填写 1 名（50%），不填写 0 名。",
        "尚未填写（1 名）：", "李秀梅"])]
    assert reminders()[0].buttons == [("查看填写情况", "card:v:1")]
    async with harness.db.snapshot() as q:
        marked = [tuple(r) for r in await q.all(
            "SELECT person_id, reminded_at IS NOT NULL FROM card_recipients ORDER BY person_id")]
        keys = [r[0] for r in await q.all("SELECT key FROM reminders WHERE rule = 'card_remind'")]
    assert marked == [(office.wang_id, 0), (office.li_id, 1), (office.zhang_id, 0)]
    assert keys == ["card_remind:1"]


async def test_no_reminder_when_everyone_answered_and_the_days_are_configurable(
        harness: Harness, office: Office) -> None:
    harness.app.config = replace(harness.app.config, cards=CardsConfig(remind_after_days=3))
    await office.send_card()
    harness.clock.set(at(date(2026, 11, 30), 10))  # Monday, three days on
    assert (await harness.app.supervise()).fired.get("card_remind") == 1
    await office.send_card()  # a second card, answered by both
    await answer_both(office.wang)
    await answer_both(office.li)
    harness.clock.set(at(date(2026, 12, 4), 10))
    assert "card_remind" not in (await harness.app.supervise()).fired


async def test_answers_count_as_contacts_toward_the_yearly_quota(harness: Harness, office: Office) -> None:
    await office.send_card()
    await answer_both(office.wang)
    quota = messages(await office.clerk.say("/quota"))[0].splitlines()
    assert quota[1] == "已联系 1/3 名代表委员（33%）"
    assert "张伟 · 人大代表 · 教育界" in quota and "王建国 · 人大代表 · 教育界" not in quota


def test_the_cards_section_of_the_configuration(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[cards]\nremind_after_days = 14\n", "utf-8")
    assert load(path, environ={}).cards == CardsConfig(remind_after_days=14)
    for bad in ("0", "91", "7.5", '"7"', "true"):
        path.write_text(f"[cards]\nremind_after_days = {bad}\n", "utf-8")
        with pytest.raises(ConfigError) as caught:
            load(path, environ={})
        assert caught.value.key == "cards.remind_after_days"
    path.write_text("[cards]\nremind_after = 7\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert caught.value.key == "cards.remind_after"


async def test_a_forged_option_or_sector_is_stale_and_changes_nothing(harness: Harness, office: Office) -> None:
    """An option past the question's options, or a sector past the list shown, or data naming no number,
    pressed with the dialogue's own nonce: the stale answer, the answers and the card unchanged."""
    clerk = office.clerk
    await office.write_card("按界别")
    assert clerk.last_buttons() == ["医药卫生界", "教育界", "取消"]
    await refuses_forged_choices(harness, clerk, ("s2", "s99", "s", "sx", "s-1", "o0"), TABLES)
    await clerk.press("教育界")
    await clerk.press("取消")
    await office.send_card()
    wang = office.wang
    await wang.press("填写")
    await wang.say("建议加强公益诉讼宣传。")
    assert wang.last_buttons() == ["满意", "基本满意", "不满意", "跳过", "取消"]
    await refuses_forged_choices(harness, wang, ("o3", "o99", "o", "ox", "o-1", "o１", "s0"), TABLES)
    await wang.press("不满意")
    assert wang.last.endswith(f"2. {Q2}\n答：不满意")
