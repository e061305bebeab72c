"""Seed §2, §5, §11; SPEC §6: briefings — the office sends text and documents to all or some
representatives; each delivery counts as a contact by documents 赠送资料, those with no chat are
named as not reached, and a representative's opinion in reply is registered as a matter."""

from __future__ import annotations

import pytest

from tests.cast import People, answers, messages
from tests.fakes import Harness, Sent

TITLE = "卢氏县人民检察院2026年工作报告"
TEXT = "现将我院2026年工作报告送上，请各位代表审阅。"
TABLES = ("briefings", "briefing_files", "briefing_recipients", "briefing_opinions", "matters", "timeline", "counters",
          "contacts", "dialogs")


class Office(People):
    async def setup(self) -> None:
        h = self.h
        self.clerk_id = await h.add_staff("陈静", ["office"])
        self.clerk = await self.bind(self.clerk_id, "3001")
        self.handler = await self.bind(await h.add_staff("刘洋", ["handler"], "第一检察部"), "4001")
        self.wang_id = await h.add_representative("王建国", phone="13800000001", sector="教育界")
        self.wang = await self.bind(self.wang_id, "1001")
        self.zhao_id = await h.add_representative("赵丽", phone="13800000004", sector="农业界")
        self.zhao = await self.bind(self.zhao_id, "1004")
        self.li_id = await h.add_representative("李秀梅", body="cppcc", phone="13800000002")
        self.li = await self.bind(self.li_id, "1002")
        self.zhang_id = await h.add_representative("张伟", phone="13800000003")  # an NPC deputy with no chat

    async def send_to_npc(self) -> list[Sent]:
        clerk = self.clerk
        await clerk.say("/brief")
        await clerk.say(TITLE)
        await clerk.say(TEXT)
        await clerk.send_file(b"%PDF-1.4 work report", "2026年工作报告.pdf")
        await clerk.press("完成")
        await clerk.press("人大代表")
        return await clerk.press("发送")


@pytest.fixture
async def office(harness: Harness) -> Office:
    o = Office(harness)
    await o.setup()
    return o


async def test_a_briefing_with_a_document_is_delivered_to_a_body_and_counted_as_contacts(
        harness: Harness, office: Office) -> None:
    clerk = office.clerk
    assert messages(await clerk.say("/brief")) == ["发送工作简报\n请发送工作简报的标题（不超过 100 字）。"]
    assert messages(await clerk.say(TITLE)) == ["请用一条消息发送工作简报正文（不超过 3500 字）。"]
    assert messages(await clerk.say(TEXT)) == [
        "请发送随简报附送的文件资料（如检察工作报告），每份不超过 20 MB；发送完毕或没有资料时，请选择“完成”。"]
    assert messages(await clerk.send_file(b"%PDF-1.4 work report", "2026年工作报告.pdf")) == ["已收到附件（共 1 个）。"]
    assert messages(await clerk.press("完成")) == ["请选择发送对象："]
    preview = await clerk.press("人大代表")
    assert messages(preview) == ["\n".join([
        "请核对", f"名称：{TITLE}", TEXT, "", "附送资料（1 份）：2026年工作报告.pdf",
        "发送对象：人大代表，共 3 名", "未绑定账号，无法送达（1 名）：张伟"])]
    assert await harness.count("briefings") == 0

    sent = await clerk.press("发送")
    assert messages(sent) == ["\n".join([
        "工作简报已发送",
        f"工作简报《{TITLE}》将发送给 2 名代表委员，消息将在几分钟内陆续送达。每次送达均记为一次联系（赠送资料）。",
        "未绑定账号，未能送达（1 名）：张伟。请通过其他方式向其送达工作简报。"])]
    for deputy in (office.wang, office.zhao):
        delivered = [s for s in deputy.received if s.op == "message"][-1]
        assert delivered.text == f"{TITLE}\n{TEXT}\n\n如有意见建议，请选择“提出意见”。感谢您对检察工作的监督和支持。"
        assert delivered.buttons == [("提出意见", "brief:o:1")]
        files = delivered.payload["files"]
        assert [(f[1], f[2]) for f in files] == [("2026年工作报告.pdf", "document")]
    assert not [s for s in office.li.received if TITLE in s.text]  # a CPPCC member: not in the body chosen

    async with harness.db.snapshot() as q:
        briefing = await q.one("SELECT title, text, created_by, audience FROM briefings")
        files = [tuple(r) for r in await q.all("SELECT briefing_id, kind, name, size FROM briefing_files")]
        recipients = [tuple(r) for r in await q.all(
            "SELECT person_id, delivered_at IS NOT NULL FROM briefing_recipients ORDER BY person_id")]
        contacts = [tuple(r) for r in await q.all(
            "SELECT representative_id, method, contacted_on, staff_id, note, source, source_ref FROM contacts"
            " ORDER BY representative_id")]
    assert tuple(briefing) == (TITLE, TEXT, office.clerk_id, '{"kind": "npc"}')
    assert files == [(1, "document", "2026年工作报告.pdf", 20)]
    assert recipients == [(office.wang_id, 1), (office.zhao_id, 1), (office.zhang_id, 0)]
    assert contacts == [(rep, "documents", "2026-11-27", office.clerk_id, TITLE, "card", "briefing:1")
                        for rep in (office.wang_id, office.zhao_id)]
    quota = messages(await clerk.say("/quota"))[0].splitlines()
    assert quota[1] == "已联系 2/4 名代表委员（50%）"
    assert await harness.count("dialogs") == 0


async def test_on_wecom_the_office_is_asked_for_pictures_since_documents_cannot_reach_the_bot(
        harness: Harness, office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """A WeCom member cannot send an app documents (90239): the step asks for pictures and says why; a contact
    sent there is refused and changes nothing."""
    from bot import messages as channel_traits
    from bot.channels.wecom import TRAITS

    monkeypatch.setitem(channel_traits._TRAITS, harness.channel.name, TRAITS)
    clerk = office.clerk
    await clerk.say("/brief")
    await clerk.say(TITLE)
    ask = ("请发送随简报附送的图片（如检察工作报告各页的照片），每张不超过 20 MB（企业微信无法向本平台发送文件）。"
           "发送完毕或没有图片时，请选择“完成”。")
    assert messages(await clerk.say(TEXT)) == [ask]
    before = await harness.dump("briefings", "contacts")  # (the outbox holds the answers)
    assert messages(await clerk.share_contact("13800001001")) == ["请发送图片，或选择下方选项。", ask]
    assert await harness.dump("briefings", "contacts") == before


async def test_an_opinion_in_reply_to_a_briefing_is_registered_as_a_matter(harness: Harness, office: Office) -> None:
    await office.send_to_npc()
    wang = office.wang
    assert messages(await wang.press("提出意见")) == [f"提出意见\n请写下您对工作简报《{TITLE}》的意见。"]
    check = await wang.say("报告对未成年人检察工作着墨不多，建议补充。")
    assert messages(check) == [f"请核对\n关于工作简报《{TITLE}》的意见\n报告对未成年人检察工作着墨不多，建议补充。"]
    assert wang.last_buttons() == ["确认提交", "取消"]
    receipt = await wang.press("确认提交")
    assert messages(receipt)[0].splitlines()[:3] == ["已登记", "感谢您的监督，您提出的意见已登记。", "编号：LS-2026-0001"]
    assert office.clerk.last == f"新事项\n新意见 LS-2026-0001，提出人：王建国代表，事由：关于工作简报《{TITLE}》的意见"
    async with harness.db.snapshot() as q:
        matter = await q.one("SELECT * FROM matters")
        link = await q.one("SELECT matter_id, briefing_id, person_id FROM briefing_opinions")
    assert (matter["number"], matter["kind"], matter["subject"], matter["body"], matter["received_via"]) == (
        "LS-2026-0001", "opinion", f"关于工作简报《{TITLE}》的意见", "报告对未成年人检察工作着墨不多，建议补充。", "briefing")
    assert (matter["representative_id"], matter["registered_by"]) == (office.wang_id, office.wang_id)
    assert tuple(link) == (matter["id"], 1, office.wang_id)
    # a second opinion on the same briefing is a matter of its own
    await wang.press("提出意见")
    await wang.say("另建议公开典型案例。")
    assert "编号：LS-2026-0002" in messages(await wang.press("确认提交"))[0]


async def test_a_long_title_is_shortened_to_fit_the_subject(harness: Harness, office: Office) -> None:
    clerk = office.clerk
    long_title = "关于" + "检察" * 48  # 98 characters: the subject would be 108
    await clerk.say("/brief")
    await clerk.say(long_title)
    await clerk.say(TEXT)
    await clerk.press("完成")
    await clerk.press("全体人大代表、政协委员")
    await clerk.press("发送")
    await office.li.press("提出意见")
    await office.li.say("意见。")
    await office.li.press("确认提交")
    async with harness.db.snapshot() as q:
        subject = await q.scalar("SELECT subject FROM matters")
    assert len(subject) == 100 and subject.startswith("关于工作简报《关于检察") and subject.endswith("…》的意见")


async def test_only_the_office_sends_briefings_and_only_recipients_reply(harness: Harness, office: Office) -> None:
    before = await harness.dump(*TABLES)
    for user in (office.handler, office.wang):
        assert messages(await user.say("/brief")) == ["抱歉，只有办公室可以发送工作简报。"]
    assert await harness.dump(*TABLES) == before

    await office.send_to_npc()
    before = await harness.dump(*TABLES)
    for data in ("brief:o:1", "brief:o:2"):  # a CPPCC member it was not sent to; a briefing that does not exist
        refused = await office.li.press_data(data)
        assert answers(refused) == messages(refused) == ["此工作简报并未发送给您。"]
    assert answers(await office.li.press_data("brief:x:1")) == ["此选项已失效。"]
    # cancelling an opinion leaves nothing behind
    await office.wang.press("提出意见")
    assert messages(await office.wang.press("取消")) == ["已取消，未提交任何内容。"]
    assert await harness.dump(*TABLES) == before


async def test_a_group_with_nobody_in_it_is_refused_and_the_choice_stays_open(harness: Harness) -> None:
    """The audience step (handlers/liaison/audience.py, shared with opinion cards) refuses a group with nobody
    on the roster in it, changes nothing, and lets the office choose again."""
    clerk_id = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    await harness.add_representative("王建国", phone="13800000001")  # the roster has no CPPCC member
    await clerk.say("/brief")
    await clerk.say(TITLE)
    await clerk.say(TEXT)
    await clerk.press("完成")
    before = await harness.dump(*TABLES)
    refused = await clerk.press("政协委员")
    assert "名册中没有符合该范围的代表委员，请重新选择。" in messages(refused) + answers(refused)
    assert await harness.dump(*TABLES) == before
    preview = await clerk.press("人大代表")  # the same buttons still work
    assert any("发送对象：人大代表，共 1 名" in m for m in messages(preview))
