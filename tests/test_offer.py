"""A representative's words sent outside any dialogue are offered to be submitted (handlers/matters/offer.py): found
walking the WeCom flow as a deputy, who wrote the matter straight into the chat, was told "not understood", and had to
type it again after 提交."""

from __future__ import annotations

from tests.cast import TABLES, bound_deputy, messages, refuses_forged_choices
from tests.fakes import Harness, User

WORDS = "我们村附近的河道有人非法采砂，已经持续两个多月，河堤受损严重，希望检察院关注。"
OFFER = (f"已收到（共 {len(WORDS)} 字）。您是否要将这段内容作为事项提交——您本人的建议、批评、意见，或您转交的举报、控告、申诉？"
         "每一件事项我们都将逐一登记、逐一办理、逐一答复。如是询问您此前提交的事项，请查看“我的事项”。")


async def kind_subject_and_the_kept_content(deputy: User, kind: str, subject: str, written: int) -> None:
    """The kind and the subject are asked; the content step says it holds what was offered, and is done."""
    await deputy.press(kind)
    asked = await deputy.say(subject)
    assert messages(asked) == [f"您发送的内容已作为正文（目前共 {written} 字）。可继续补充，或选择“完成”。"]
    await deputy.press("完成")


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
    await kind_subject_and_the_kept_content(deputy, "控告", "关于河道非法采砂的控告", len(WORDS) + 13)
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
    greeting and a staff member's words are answered as before."""
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


async def test_typing_submit_while_offered_takes_the_words_and_files_sent_meanwhile_go_with_them(
        harness: Harness) -> None:
    """Found in review: 提交 typed at the offer (the word the bot teaches) started an empty submission and the words
    were gone; a photo sent meanwhile was downloaded and dropped. Both now go into the matter."""
    deputy = await bound_deputy(harness)
    await deputy.say(WORDS)
    offered = messages(await deputy.send_file(b"\xff\xd8\xff photo", "河堤.jpg", kind="photo"))
    assert offered[-1].endswith("随附文件：1 个。")
    await deputy.say("提交")  # a typed command word, as the help teaches
    await kind_subject_and_the_kept_content(deputy, "建议", "关于河道非法采砂的建议", len(WORDS))
    await deputy.press("附件已发完")
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT body FROM matters") == WORDS
        assert [r["name"] for r in await q.all("SELECT name FROM attachments")] == ["河堤.jpg"]


async def test_an_old_offer_takes_no_more_and_a_matters_number_opens_the_matter(harness: Harness) -> None:
    """Found in review: an offer left open for days took whatever was written weeks later; a matter's number, the
    answer to "is it about a matter you submitted?", became words of the offer."""
    deputy = await bound_deputy(harness)
    await deputy.say(WORDS)
    harness.clock.advance(hours=2)
    later = "另外，村里的路灯坏了很久，希望有关部门尽快修理。"
    assert messages(await deputy.say(later))[0].startswith(f"已收到（共 {len(later)} 字）。")  # a new offer, its own
    opened = messages(await deputy.say("LS-2026-0009"))
    assert opened == ["未找到该事项。"]  # looked up, as outside any dialogue; not words of the offer
    async with harness.db.snapshot() as q:
        assert "LS-2026-0009" not in str(await q.scalar("SELECT data FROM dialogs"))
    # nor is a number past its list (as WeCom reads a typed "5" for a list of three: bot/channels/wecom.py settle)
    assert messages(await deputy._send(text="5", beyond=3)) == ["请按上方列表，回复 1 至 3 之间的数字。"]
    assert deputy.last_buttons() == ["作为事项提交", "我的事项", "不用了"]
    async with harness.db.snapshot() as q:
        held = str(await q.scalar("SELECT data FROM dialogs"))
    assert later in held and WORDS not in held and '"5"' not in held


def test_a_list_of_one_is_not_told_from_1_to_1() -> None:
    from zoneinfo import ZoneInfo

    from bot.i18n import Translator
    from handlers.common import beyond_the_list

    _ = Translator("zh_Hans", ZoneInfo("Asia/Shanghai"))
    assert beyond_the_list(_, 1) == "请按上方列表，回复 1。"
    assert beyond_the_list(_, 3) == "请按上方列表，回复 1 至 3 之间的数字。"


async def test_s3_a_photo_sent_first_is_offered_and_goes_with_the_matter(harness: Harness) -> None:
    """Found walking as a deputy in WeChat, where one sends the photo first: it was told "send 提交 first" and thrown
    away, to be sent again. Now it is kept (fetched: a bound representative's), offered like words, the words sent
    after it join it, and the matter carries it; 不用了 keeps nothing of it in the database."""
    deputy = await bound_deputy(harness)
    offered = await deputy.send_file(b"\x89PNG river photo", "river.jpg", kind="photo")
    assert messages(offered)[0].startswith("已收到（共 1 个文件）。您是否要将其随事项一并提交")
    assert [label for label, _ in offered[-1].buttons] == ["作为事项提交", "我的事项", "不用了"]
    more = await deputy.say(WORDS)
    assert messages(more)[0].startswith(f"已收到（共 {len(WORDS)} 字）。") and "随附文件：1 个。" in messages(more)[0]
    await deputy.press("作为事项提交")
    await kind_subject_and_the_kept_content(deputy, "建议", "关于河道保护的建议", len(WORDS))
    files_step = deputy.last
    assert files_step.startswith("已有附件 1 个。")
    await deputy.press("附件已发完")
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        assert [r["name"] for r in await q.all("SELECT name FROM attachments")] == ["river.jpg"]
    before = await harness.dump(*TABLES)
    await deputy.send_file(b"\x89PNG another", "another.jpg", kind="photo")
    assert messages(await deputy.press("不用了")) == ["已取消，未提交任何内容。"]
    assert await harness.dump(*TABLES) == before
