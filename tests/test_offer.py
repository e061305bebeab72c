"""A representative's words sent outside any dialogue are offered to be submitted (handlers/matters/offer.py): found
walking the WeCom flow as a deputy, who wrote the matter straight into the chat, was told "not understood", and had to
type it again after 提交."""

from __future__ import annotations

from tests.cast import TABLES, bound_deputy, messages, refuses_forged_choices
from tests.fakes import Harness

WORDS = "我们村附近的河道有人非法采砂，已经持续两个多月，河堤受损严重，希望检察院关注。"
OFFER = (f"已收到（共 {len(WORDS)} 字）。您是否要将这段内容作为事项提交——您本人的建议、批评、意见，或您转交的举报、控告、申诉？"
         "每一件事项我们都将逐一登记、逐一办理、逐一答复。如是询问您此前提交的事项，请查看“我的事项”。")


async def test_s3_a_deputys_words_become_the_content_of_the_matter_they_submit(harness: Harness) -> None:
    """§3, every matter registered one by one: the words are kept, the kind and the subject asked, nothing typed
    twice; more words sent while the offer waits go with them."""
    deputy = await bound_deputy(harness)
    offered = await deputy.say(WORDS)
    assert messages(offered) == [OFFER]
    assert [label for label, _ in offered[-1].buttons] == ["作为事项提交", "我的事项", "不用了"]
    more = await deputy.say("附近村民都很担心安全问题。")
    assert messages(more)[0].startswith(f"已收到（共 {len(WORDS) + 13} 字）。")
    await deputy.press("作为事项提交")
    await deputy.press("控告")
    asked = await deputy.say("关于河道非法采砂的控告")
    assert messages(asked) == [f"您发送的内容已作为正文（目前共 {len(WORDS) + 13} 字）。可继续补充，或选择“完成”。"]
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.say("张三")
    await deputy.say("13900001111")
    confirm = messages(await deputy.press("确认提交"))
    assert any("LS-2026-0001" in m for m in confirm)
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT kind, subject, body FROM matters")
    assert row is not None and (row["kind"], row["subject"]) == ("accusation", "关于河道非法采砂的控告")
    assert WORDS in row["body"] and "附近村民都很担心安全问题。" in row["body"]
    assert await harness.count("dialogs") == 0


async def test_no_thank_you_keeps_nothing_and_my_matters_lists_them(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    before = await harness.dump(*TABLES)
    await deputy.say(WORDS)
    assert messages(await deputy.press("不用了")) == ["已取消，未提交任何内容。"]
    assert await harness.dump(*TABLES) == before  # the words are gone with the dialogue
    await deputy.say("请问我上个月提的建议办得怎么样了？")
    assert messages(await deputy.press("我的事项")) == ["您还没有提交过事项。发送 /submit 即可开始。"]
    assert await harness.dump(*TABLES) == before


async def test_a_command_or_another_button_ends_the_offer_and_short_words_are_not_offered(harness: Harness) -> None:
    """The offer only holds the words: /submit starts afresh (not refused as "finish what you are doing"); a short
    greeting, a staff member's words and a file are answered as before."""
    deputy = await bound_deputy(harness)
    await deputy.say(WORDS)
    started = messages(await deputy.say("/submit"))
    assert started[0].startswith("提交事项\n请选择事项类别") and "尚未完成" not in " ".join(started)
    await deputy.say("/cancel")
    assert messages(await deputy.say("你好，在吗？"))[0].startswith("抱歉，未能理解您的消息。")
    await deputy.say(WORDS)
    await deputy.say("/help")  # a dialogue command: the offer waits, and is shown again
    assert deputy.last == OFFER
    office = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(office)}")
    assert messages(await clerk.say(WORDS))[0].startswith("抱歉，未能理解您的消息。")


async def test_forged_choices_of_the_offer_change_nothing(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await deputy.say(WORDS)
    await refuses_forged_choices(harness, deputy, ("send", "submit:1", "../x"), TABLES)
    assert deputy.last_buttons() == ["作为事项提交", "我的事项", "不用了"]
