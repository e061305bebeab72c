"""SPEC §4, §7 (issue 12, gap 6): a deputy reads again, under /my, every message the procuratorate sent about
their matter — progress notices, the transfer's explanation, each reply with its grounds and its files (sent
again by a button) — and the rating they gave; never an internal note, a draft, or another deputy's matter."""

from __future__ import annotations

from tests.cast import GROUNDS, REPLY_BODY, Cast, concluded_and_drafting_a_reply
from tests.fakes import Harness, Sent, User

WATCHED = ("matters", "replies", "timeline", "dialogs", "attachments")


def messages(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.op == "message"]


async def open_matter(deputy: User, number: str = "LS-2026-0001") -> Sent:
    await deputy.say("/my")
    return messages(await deputy.press(number))[-1]


async def progress(handler: User, note: str, public: bool) -> None:
    await handler.say("/case LS-2026-0001")
    await handler.press("进展")
    await handler.say(note)
    await handler.press("是，发送" if public else "否，仅内部记录")


async def reply_with_a_file(cast: Cast, handler: User) -> None:
    await handler.say("/case LS-2026-0001")
    await handler.press("办结")
    await handler.press("A类：已解决或基本解决")
    await handler.say("/case LS-2026-0001")
    await handler.press("起草答复")
    await handler.press("书面答复")
    await handler.send_file(b"%PDF-1.4 decision", "复查决定书.pdf")
    await handler.say(REPLY_BODY)
    await handler.say(GROUNDS)
    await handler.press("确认")
    await cast.approve()


async def test_the_deputy_reads_every_notice_reply_and_rating_again(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    await progress(cast.handler2, "已调阅案卷，正在审查。", public=True)
    await progress(cast.handler2, "内部：需补充询问笔录。", public=False)
    await reply_with_a_file(cast, cast.handler2)
    view = await open_matter(cast.deputy)
    text = view.text
    assert text.startswith("LS-2026-0001\n类别：申诉\n事由：不服不起诉决定\n状态：已答复\n")
    for line in ("交由第二检察部承办", "进展情况通报：已调阅案卷，正在审查。", "答复：", REPLY_BODY, "理由和依据：", GROUNDS,
                 "此答复同时以书面答复形式作出。", "您对办理结果是否满意？"):
        assert line in text, line
    assert "需补充询问笔录" not in text and "（内部）" not in text  # internal notes stay with the staff
    assert [label for label, _data in view.buttons] == ["第1次答复的附件", "满意", "基本满意", "不满意", "我的事项"]
    again = messages(await cast.deputy.press("第1次答复的附件"))
    assert [(s.text, [f[1] for f in s.payload["files"]]) for s in again] == [("LS-2026-0001 的附件：", ["复查决定书.pdf"])]
    # the rating, given from the matter's view, is shown there afterwards with its comment
    await cast.deputy.press("基本满意")
    await cast.deputy.say("希望今后及时通报。")
    text = (await open_matter(cast.deputy)).text
    assert "您的评价：基本满意\n您的意见：希望今后及时通报。" in text and "您对办理结果是否满意？" not in text


async def test_the_transfer_explanation_can_be_read_again(harness: Harness) -> None:
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("移送")
    await cast.office.say("卢氏县公安局")
    await cast.office.say("该案系治安案件，依法由公安机关管辖，本院无权处理。")
    await cast.office.press("确认")
    text = (await open_matter(cast.deputy)).text
    assert "已移送卢氏县公安局\n说明：该案系治安案件，依法由公安机关管辖，本院无权处理。" in text
    assert "状态：已移送" in text


async def test_another_deputys_matter_and_its_reply_files_are_refused_and_nothing_changes(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    await reply_with_a_file(cast, cast.handler2)
    async with harness.db.snapshot() as q:
        reply_id = int(await q.scalar("SELECT id FROM replies"))
    other = harness.user("1002")
    await other.say(f"/start {await harness.invite(await harness.add_representative('李秀梅', body='cppcc'))}")
    before, outbox, answered = await harness.dump(*WATCHED), await harness.count("outbox"), 0
    for data in ("my:open:1", f"my:files:1:{reply_id}", "my:files:1:0", "my:files:2:0"):
        refused = await other.press_data(data)
        assert [s.text for s in messages(refused)] == ["未找到该事项。"], data  # as if it did not exist
        assert not any(s.payload.get("files") for s in refused)
        answered += len(refused)
    assert await harness.dump(*WATCHED) == before
    assert await harness.count("outbox") == outbox + answered  # the refusals, nothing else


async def test_a_draft_reply_is_not_shown_nor_its_files_sent_before_approval(harness: Harness) -> None:
    cast = await concluded_and_drafting_a_reply(harness, "网上答复")
    h = cast.handler2
    await h.send_file(b"%PDF-1.4 draft", "草稿.pdf")
    await h.say(REPLY_BODY)
    await h.say(GROUNDS)
    await h.press("确认")  # drafted, waiting for the office's approval
    view = await open_matter(cast.deputy)
    assert REPLY_BODY not in view.text and "第1次答复的附件" not in [label for label, _ in view.buttons]
    async with harness.db.snapshot() as q:
        reply_id = int(await q.scalar("SELECT id FROM replies"))
    before = await harness.dump(*WATCHED)
    refused = await cast.deputy.press_data(f"my:files:1:{reply_id}")
    assert [s.text for s in messages(refused)] == ["未找到该事项。"]
    assert not any(s.payload.get("files") for s in refused)
    assert await harness.dump(*WATCHED) == before


async def test_a_matters_number_sent_alone_opens_it_for_its_deputy_and_for_staff(harness: Harness) -> None:
    """On a phone (WeCom in personal WeChat) "/case" is awkward to type: a matter's number sent alone — typed, or
    copied from a receipt with its quotes — opens it, as /my's button does for its deputy and /case for staff."""
    cast = await Cast.assigned(harness)
    shown = await open_matter(cast.deputy)
    for typed in ("LS-2026-0001", "ls-2026-0001", "“LS-2026-0001”"):
        assert messages(await cast.deputy.say(typed))[-1].text == shown.text, typed
    card = messages(await cast.handler2.say("/case LS-2026-0001"))[-1]
    buttons = cast.handler2.last_buttons()
    assert messages(await cast.handler2.say("LS-2026-0001"))[-1].text == card.text
    assert cast.handler2.last_buttons() == buttons and "进展" in buttons  # the card, with its buttons


async def test_another_deputys_number_sent_alone_is_no_matter_and_changes_nothing(harness: Harness) -> None:
    """The number of someone else's matter, or of none, is answered as no matter at all; other text is not
    understood as before; a handler of another department is refused as by /case (and it is audited)."""
    cast = await Cast.assigned(harness)
    other = harness.user("1002")
    await other.say(f"/start {await harness.invite(await harness.add_representative('李秀梅', body='cppcc'))}")
    before, outbox = await harness.dump(*WATCHED), await harness.count("outbox")
    for typed in ("LS-2026-0001", "LS-2026-0099"):
        assert [s.text for s in messages(await other.say(typed))] == ["未找到该事项。"], typed
    assert await harness.dump(*WATCHED) == before and await harness.count("outbox") == outbox + 2
    assert messages(await other.say("LS-2026"))[-1].text.startswith("抱歉，")  # not a number: not understood
    refused = messages(await cast.handler1.say("LS-2026-0001"))  # 第一检察部: not theirs
    assert [s.text for s in refused] == ["未找到该事项。"]
    assert [s.text for s in messages(await cast.handler1.say("LS-2026-0099"))] == ["未找到该事项。"]  # none such
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == "refused:view"
    assert await harness.dump(*WATCHED) == before
