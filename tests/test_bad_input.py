"""SPEC §9: never crash, or change state, on bad input; the user gets a clear message.

Over-long text, unknown commands, stale, forged and malformed buttons, files too large or
lost in download, the wrong kind of message for a step, people asking for what their role
does not allow, and commands in the middle of a dialogue. Each case checks the exact reply
in the user's language, that no inbox entry failed, and that the database is as it was
(except where a dialogue legitimately saves its step).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes import Harness, Sent, User

TABLES = ("matters", "dialogs", "identities", "invites", "attachments", "counters")
MB = 1024 * 1024

STALE = "此选项已失效。"
STALE_EN = "This button is no longer valid."
UNKNOWN = "无法识别该命令。发送 /help 查看可用功能。"
UNKNOWN_EN = "Unknown command. Send /help to see what you can do."
NOT_UNDERSTOOD = "抱歉，未能理解您的消息。请在下方选择，或发送 /help 查看帮助。"
UNBOUND = ("本平台面向与卢氏县人民检察院联系的人大代表、政协委员及本院工作人员。"
           "如需使用，请向本院办公室索取您的专属邀请链接，然后打开该链接。")
IN_DIALOGUE = "您还有一项操作尚未完成：提交事项。请先完成，或发送 /cancel 退出。"
KIND_PROMPT = "提交事项\n请选择事项类别：您本人的建议、批评、意见，或群众委托您转交的举报、控告、申诉。"
SUBJECT_PROMPT = "请发送简要事由（不超过 100 个字）。"
TEXT_PROMPT = "请填写具体内容（总共不超过 10000 个字），可分多条发送；写完后请选择“完成”。"
FILES_PROMPT = "您可以发送图片或文件作为附件（最多 10 个，每个不超过 20 MB）。没有或已发完时，请选择下方选项。"
NOT_FOUND = "未找到该事项。"


# -- helpers ----------------------------------------------------------------------------------


async def bound_deputy(harness: Harness, name: str = "王建国", user_id: str = "1001", lang: str = "zh-hans") -> User:
    rep = await harness.add_representative(name, phone=f"1380000{user_id[-4:]}")
    user = harness.user(user_id, language_code=lang)
    await user.say(f"/start {await harness.invite(rep)}")
    return user


async def bound_staff(harness: Harness, name: str = "陈静", user_id: str = "3001", lang: str = "zh-hans") -> User:
    staff = await harness.add_staff(name, ["office"])
    user = harness.user(user_id, language_code=lang)
    await user.say(f"/start {await harness.invite(staff)}")
    return user


async def at_step(deputy: User, step: str, kind: str = "举报") -> None:
    """Walk a deputy's /submit dialogue up to `step` (kind, subject, text, files, complainant_name, confirm)."""
    await deputy.say("/submit")
    if step == "kind":
        return
    await deputy.press(kind)
    if step == "subject":
        return
    await deputy.say("有人非法占用耕地")
    if step == "text":
        return
    await deputy.say("村民反映某公司占用基本农田建厂。")
    await deputy.press("完成")
    if step == "files":
        return
    await deputy.press("无附件")
    if step == "complainant_name":
        return
    await deputy.say("张三")
    await deputy.say("13900001111")
    assert step == "confirm"


async def submit_suggestion(deputy: User, subject: str) -> None:
    await deputy.say("/submit")
    await deputy.press("建议")
    await deputy.say(subject)
    await deputy.say("建议在村口增设减速带。")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.press("确认提交")


def shown(replies: list[Sent]) -> list[tuple[str, str]]:
    """What the user saw: (op, text) of every delivery, in order.

    Where a button answer and a message go out for one press the tests compare them sorted: they
    are separate outbox queues, and their relative order is not promised.
    """
    return [(r.op, r.text) for r in replies]


def alert(replies: list[Sent]) -> list[dict[str, Any]]:
    return [{"text": r.payload["text"], "alert": r.payload["alert"]} for r in replies if r.op == "answer"]


async def no_failures(harness: Harness) -> bool:
    return await harness.count("inbox", "state = 'failed'") == 0


async def dialog_data(harness: Harness, user_id: str = "1001") -> dict[str, Any]:
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT step, data FROM dialogs WHERE actor = ?", (f"test:{user_id}",))
    assert row is not None
    return {"step": row["step"], **json.loads(row["data"])}


# -- over-long text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh-hans", "事由过长（101 个字），最多 100 个字。"), ("en", "The subject is too long: 101 characters, at most 100.")],
)
async def test_an_over_long_subject_is_refused(harness: Harness, lang: str, expected: str) -> None:
    deputy = await bound_deputy(harness, lang=lang)
    await deputy.say("/submit")
    await deputy.press("建议" if lang == "zh-hans" else "Suggestion")
    before = await harness.dump(*TABLES)
    replies = await deputy.say("路" * 101)
    assert shown(replies) == [("message", expected)]
    assert await harness.dump(*TABLES) == before
    assert await no_failures(harness)
    # a subject of exactly the limit is taken
    await deputy.say("路" * 100)
    assert (await dialog_data(harness))["step"] == "text"


async def test_content_over_the_limit_refuses_only_the_message_that_crosses_it(harness: Harness) -> None:
    """Issue 12 §2.11: the limit (intake.max_text_chars, 10 000 by default) is named when the content is asked
    for, and a message that would pass it is refused whole, naming what is kept and what room is left."""
    deputy = await bound_deputy(harness)
    await at_step(deputy, "text", kind="建议")
    limit = harness.app.config.intake.max_text_chars
    assert limit == 10000
    assert deputy.last == TEXT_PROMPT
    for n in range(1, 3):
        replies = await deputy.say("字" * 4000)
        assert shown(replies)[0] == ("message", f"已收到（目前共 {n * 4000} 字）。可继续发送，或选择“完成”。")
    before = await harness.dump(*TABLES)
    replies = await deputy.say("多" * 2001)
    assert shown(replies) == [("message", "内容总共不能超过 10000 个字，加上本条消息将达 10001 个字。本条消息未被采用，"
                                          "此前已收到的 8000 个字均已保留。请精简后重新发送（最多还可发送 2000 个字），"
                                          "或选择“完成”。")]
    assert await harness.dump(*TABLES) == before
    assert (await dialog_data(harness))["text"] == ["字" * 4000] * 2
    assert await no_failures(harness)
    # exactly the limit is taken, and what was kept is submitted whole
    await deputy.say("多" * 2000)
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT body FROM matters") == "\n\n".join(["字" * 4000] * 2 + ["多" * 2000])


async def test_one_over_long_message_is_refused_in_english(harness: Harness) -> None:
    deputy = await bound_deputy(harness, name="Wang", lang="en")
    await deputy.say("/submit")
    await deputy.press("Opinion")
    await deputy.say("Roads")
    assert deputy.last.startswith("Please write the content (at most 10000 characters in all).")
    before = await harness.dump(*TABLES)
    replies = await deputy.say("x" * 10001)
    assert shown(replies) == [
        ("message", "The content may have at most 10000 characters in all: with this message it would have 10001. "
                    "This message was not added; the 0 characters received before are kept. Please send it shorter "
                    "(at most 10000 more characters), or choose Done.")]
    assert await harness.dump(*TABLES) == before


async def test_an_over_long_complainant_name_and_contact_are_refused(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "complainant_name")
    before = await harness.dump(*TABLES)
    replies = await deputy.say("欧" * 51)
    assert shown(replies) == [("message", "姓名过长，最多 50 个字。")]
    assert await harness.dump(*TABLES) == before
    await deputy.say("欧" * 50)
    before = await harness.dump(*TABLES)
    replies = await deputy.say("县" * 101)
    assert shown(replies) == [("message", "联系方式过长，最多 100 个字。")]
    assert await harness.dump(*TABLES) == before
    assert (await dialog_data(harness))["complainant_name"] == "欧" * 50
    assert await no_failures(harness)


# -- unknown commands ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "expected"), [("zh-hans", UNKNOWN), ("en", UNKNOWN_EN)])
async def test_an_unknown_command_is_answered_and_changes_nothing(harness: Harness, lang: str, expected: str) -> None:
    deputy = await bound_deputy(harness, lang=lang)
    before = await harness.dump(*TABLES)
    for text in ("/foo", "/foo bar baz", "/", "/提交"):
        replies = await deputy.say(text)
        assert shown(replies) == [("message", expected)]
    assert await harness.dump(*TABLES) == before
    assert await no_failures(harness)


async def test_an_unknown_command_in_a_dialogue_leaves_the_dialogue_alone(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "subject")
    before = await harness.dump(*TABLES)
    assert shown(await deputy.say("/foo")) == [("message", UNKNOWN)]
    assert await harness.dump(*TABLES) == before


async def test_an_unbound_user_gets_only_the_explanation_for_an_unknown_command(harness: Harness) -> None:
    stranger = harness.user("6666")
    before = await harness.dump(*TABLES)
    assert shown(await stranger.say("/foo")) == [("message", UNBOUND)]
    assert await harness.dump(*TABLES) == before


# -- stale, forged and malformed buttons --------------------------------------------------------


async def test_a_button_of_a_step_that_is_over_is_stale(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("建议")
    before = await harness.dump(*TABLES)
    replies = await deputy.press("批评")  # on the kind message, whose step is over
    assert shown(replies) == [("answer", STALE)]
    assert alert(replies) == [{"text": STALE, "alert": True}]
    assert await harness.dump(*TABLES) == before
    assert (await dialog_data(harness))["step"] == "subject"
    assert await no_failures(harness)


async def test_a_button_of_a_cancelled_dialogue_is_stale_in_english(harness: Harness) -> None:
    deputy = await bound_deputy(harness, name="Wang", lang="en")
    await deputy.say("/submit")
    await deputy.press("Cancel")
    before = await harness.dump(*TABLES)
    replies = await deputy.press("Report")
    assert shown(replies) == [("answer", STALE_EN)]
    assert alert(replies) == [{"text": STALE_EN, "alert": True}]
    assert await harness.dump(*TABLES) == before
    assert await harness.count("dialogs") == 0


async def test_submit_pressed_twice_registers_once(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "confirm")
    await deputy.press("确认提交")
    before = await harness.dump(*TABLES)
    replies = await deputy.press("确认提交")
    assert shown(replies) == [("answer", STALE)]
    assert await harness.dump(*TABLES) == before
    assert await harness.count("matters") == 1


async def test_a_forged_dialogue_button_is_stale(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "confirm")
    before = await harness.dump(*TABLES)
    for data in ("d:zzzzzz:submit", "d:zzzzzz", "d:zzzzzz:submit:again"):
        replies = await deputy.press_data(data)
        assert shown(replies) == [("answer", STALE)]
    assert await harness.dump(*TABLES) == before
    assert await harness.count("matters") == 0
    assert await no_failures(harness)


async def test_a_forged_choice_with_the_right_nonce_is_stale(harness: Harness) -> None:
    await harness.add_department("第一检察部")
    deputy = await bound_deputy(harness)
    await at_step(deputy, "subject")
    nonce = deputy.received[-1].buttons[0][1].split(":")[1]
    before = await harness.dump(*TABLES)
    for choice in ("submit", "next", "suggestion", "dept1", "yes", "x"):
        replies = await deputy.press_data(f"d:{nonce}:{choice}")
        assert shown(replies) == [("answer", STALE)]
    assert await harness.dump(*TABLES) == before


@pytest.mark.parametrize(
    "data",
    [
        "::",
        "",
        "a" * 65,
        "menu:" + "a" * 59,  # 64 bytes and well formed, but no such action
        "菜单:帮助",
        "menu:help\u00e9",
        "my:open:abc",
        "my:open:-1",
        "my:open:" + "9" * 13,
        "my:open",
        "my:open:1:2",
        "my:delete:1",
        "my:page:x",
        "menu:",
        "menu:foo",
        "menu:help:extra",
        "lang:xx",
        "lang:en:zh_Hans",
        "nosuchns:1",
        "d:",
    ],
)
async def test_malformed_button_data_is_answered_once_and_changes_nothing(harness: Harness, data: str) -> None:
    deputy = await bound_deputy(harness)
    before = await harness.dump(*TABLES)
    replies = await deputy.press_data(data)
    assert shown(replies) == [("answer", STALE)]
    assert alert(replies) == [{"text": STALE, "alert": True}]
    assert await harness.dump(*TABLES) == before
    assert await no_failures(harness)


async def test_someone_elses_matter_answers_like_a_missing_one(harness: Harness) -> None:
    owner = await bound_deputy(harness, "王建国", "1001")
    await submit_suggestion(owner, "王建国的事项")
    async with harness.db.snapshot() as q:
        matter_id = int(await q.scalar("SELECT id FROM matters"))
    other = await bound_deputy(harness, "李秀梅", "1002")
    before = await harness.dump(*TABLES)

    theirs = await other.press_data(f"my:open:{matter_id}")
    missing = await other.press_data(f"my:open:{matter_id + 1000}")
    assert sorted(shown(theirs)) == sorted(shown(missing)) == [("answer", NOT_FOUND), ("message", NOT_FOUND)]
    assert alert(theirs) == [{"text": NOT_FOUND, "alert": True}]
    assert all("王建国" not in r.text and "LS-2026-0001" not in r.text for r in theirs)
    assert await harness.dump(*TABLES) == before
    assert await no_failures(harness)


async def test_on_a_channel_without_popups_a_refused_press_is_said_once(harness: Harness,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """On WeCom an alert is a text message (no pop-up): a refusal the chat is told anyway goes as the message alone,
    the press answered without text (the card still shows it was not valid); a stale press, which gets no message,
    keeps its alert's text."""
    from dataclasses import replace

    from bot import messages

    monkeypatch.setitem(messages._TRAITS, "test", replace(messages.TELEGRAM_TRAITS, popups=False))
    deputy = await bound_deputy(harness)
    await submit_suggestion(deputy, "王建国的事项")
    refused = await deputy.press_data("my:open:1000")
    assert sorted(shown(refused)) == [("answer", ""), ("message", NOT_FOUND)]
    assert alert(refused) == [{"text": "", "alert": True}]
    stale = await deputy.press_data("my:page:100")
    assert shown(stale) == [("answer", STALE)]


async def test_a_staff_member_opening_a_matter_by_forged_button_sees_nothing(harness: Harness) -> None:
    owner = await bound_deputy(harness)
    await submit_suggestion(owner, "王建国的事项")
    clerk = await bound_staff(harness)
    replies = await clerk.press_data("my:open:1")
    assert sorted(shown(replies)) == [("answer", NOT_FOUND), ("message", NOT_FOUND)]


async def test_a_page_past_the_end_is_stale(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await submit_suggestion(deputy, "唯一的事项")
    replies = await deputy.press_data("my:page:100")
    assert shown(replies) == [("answer", STALE)]


async def test_an_unbound_user_pressing_a_button_gets_the_explanation(harness: Harness) -> None:
    stranger = harness.user("6666")
    for data in ("menu:submit", "my:open:1", "lang:en"):
        replies = await stranger.press_data(data)
        assert sorted(shown(replies)) == [("answer", ""), ("message", UNBOUND)]
    assert await harness.count("identities") == 0


# -- files --------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["text", "files"])
@pytest.mark.parametrize(
    ("size", "error", "expected"),
    [
        (21 * MB, None, "文件“scan.pdf”过大，每个文件不能超过 20 MB。"),
        (20 * MB + 1, None, "文件“scan.pdf”过大，每个文件不能超过 20 MB。"),
        (1000, "too_large", "文件“scan.pdf”过大，每个文件不能超过 20 MB。"),
        (1000, "download_failed", "文件“scan.pdf”接收失败，请重新发送。"),
    ],
)
async def test_a_file_that_cannot_be_kept_is_refused_by_name(harness: Harness, step: str, size: int,
                                                            error: str | None, expected: str) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, step)
    before = await harness.dump(*TABLES)
    replies = await deputy.send_file(b"%PDF-1.4", "scan.pdf", size=size, error=error)
    assert shown(replies) == [("message", expected)]
    assert await harness.dump(*TABLES) == before
    assert (await dialog_data(harness))["files"] == []
    assert await no_failures(harness)


async def test_a_file_of_exactly_the_limit_is_taken(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "files")
    replies = await deputy.send_file(b"%PDF-1.4", "scan.pdf", size=20 * MB)
    assert shown(replies) == [("message", "已收到附件（共 1 个）。")]
    assert [f["name"] for f in (await dialog_data(harness))["files"]] == ["scan.pdf"]


async def test_a_file_too_large_in_english(harness: Harness) -> None:
    deputy = await bound_deputy(harness, name="Wang", lang="en")
    await deputy.say("/submit")
    await deputy.press("Opinion")
    await deputy.say("Roads")
    await deputy.say("Text")
    await deputy.press("Done")
    replies = await deputy.send_file(b"x", "big.zip", size=50 * MB)
    assert shown(replies) == [("message", "The file big.zip is too large: at most 20 MB.")]


async def test_more_files_than_allowed_are_refused(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "files")
    for n in range(10):
        await deputy.send_file(f"file {n}".encode(), f"{n}.pdf")
    before = await harness.dump(*TABLES)
    replies = await deputy.send_file(b"one too many", "11.pdf")
    assert shown(replies) == [("message", "最多可附 10 个文件。")]
    assert await harness.dump(*TABLES) == before
    assert len((await dialog_data(harness))["files"]) == 10


async def test_a_staff_members_file_outside_a_dialogue_is_never_downloaded(harness: Harness) -> None:
    """Nothing takes a staff member's file sent outside a dialogue (a reply's or a briefing's comes inside one): it is
    not fetched (no download, nothing on disk), and they are told so. (A representative's is offered to be submitted
    with a matter: tests/test_offer.py.)"""
    clerk_id = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    before = await harness.dump(*TABLES)
    fetched = harness.channel.fetched
    replies = await clerk.send_file(b"%PDF", "a.pdf")
    assert [op for op, _ in shown(replies)] == ["message"]
    assert await harness.dump(*TABLES) == before
    assert harness.channel.fetched == fetched
    assert not [p for p in harness.app.files.root.rglob("*") if p.is_file()]


# -- the wrong kind of message for the step ------------------------------------------------------


async def test_text_at_a_button_step_asks_for_the_buttons_and_prompts_again(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "kind")
    before = await harness.dump(*TABLES)
    replies = await deputy.say("我想提个建议")
    assert shown(replies) == [("message", "请在下方选项中选择。"), ("message", KIND_PROMPT)]
    assert await harness.dump(*TABLES) == before
    await deputy.press("建议")  # the re-prompted buttons work: the step is intact
    assert deputy.last == SUBJECT_PROMPT


async def test_text_at_the_confirm_step_asks_for_the_buttons(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "confirm")
    before = await harness.dump(*TABLES)
    replies = await deputy.say("确认")
    assert shown(replies)[0] == ("message", "请在下方选项中选择。")
    assert replies[1].text.startswith("请核对\n类别：举报\n事由：有人非法占用耕地")
    assert await harness.dump(*TABLES) == before
    assert await harness.count("matters") == 0


async def test_text_at_the_files_step_asks_for_a_file_or_the_button(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "files")
    before = await harness.dump(*TABLES)
    assert shown(await deputy.say("没有附件")) == [("message", "请在下方选项中选择。"), ("message", FILES_PROMPT)]
    assert shown(await deputy.share_contact("13800001001")) == [
        ("message", "请发送图片或文件，或选择下方选项。"), ("message", FILES_PROMPT)]
    assert await harness.dump(*TABLES) == before


async def test_on_a_channel_that_cannot_carry_documents_the_files_step_asks_for_photos(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """WeCom members cannot send an app documents (90239): the prompt and the refusal ask for photos only,
    and say what to do with a document; nothing changes."""
    from bot import messages
    from bot.channels.wecom import TRAITS

    monkeypatch.setitem(messages._TRAITS, harness.channel.name, TRAITS)
    deputy = await bound_deputy(harness)
    await at_step(deputy, "files")
    photos_prompt = ("您可以发送图片作为附件（最多 10 个，每个不超过 20 MB）；文件材料可逐页拍照发送，或交给本院办公室。"
                     "没有或已发完时，请选择下方选项。")
    assert harness.channel.sent[-1].text == photos_prompt
    before = await harness.dump(*TABLES)
    assert shown(await deputy.share_contact("13800001001")) == [
        ("message", "请发送图片，或选择下方选项。"), ("message", photos_prompt)]
    assert await harness.dump(*TABLES) == before


async def test_a_photo_at_the_subject_step_asks_for_text(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "subject")
    before = await harness.dump(*TABLES)
    replies = await deputy.send_file(b"\x89PNG", "photo.jpg", kind="photo", caption="这是事由")
    assert shown(replies) == [("message", "请以文字回复。"), ("message", SUBJECT_PROMPT)]
    assert await harness.dump(*TABLES) == before
    assert await harness.count("attachments") == 0


@pytest.mark.parametrize("step", ["subject", "complainant_name"])
async def test_a_contact_in_the_intake_dialogue_asks_for_text(harness: Harness, step: str) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, step)
    before = await harness.dump(*TABLES)
    replies = await deputy.share_contact("13900001111", own=False)
    prompt = SUBJECT_PROMPT if step == "subject" else "请发送委托您转交的群众（举报人、控告人或申诉人）的姓名。"
    assert shown(replies) == [("message", "请以文字回复。"), ("message", prompt)]
    assert await harness.dump(*TABLES) == before


async def test_a_contact_outside_the_binding_flow(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    stranger = harness.user("6666")
    before = await harness.dump(*TABLES)
    assert shown(await deputy.share_contact("13800001001")) == [("message", NOT_UNDERSTOOD)]
    assert shown(await stranger.share_contact("13800006666")) == [("message", UNBOUND)]
    assert await harness.dump(*TABLES) == before
    assert await no_failures(harness)


# -- what a role does not allow -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "submit", "mine"),
    [
        ("zh-hans", "只有人大代表、政协委员可以在此提交事项。", "只有人大代表、政协委员在此有提交的事项。"),
        ("en", "Only NPC deputies and CPPCC members can submit matters here.",
         "Only NPC deputies and CPPCC members have matters here."),
    ],
)
async def test_a_staff_member_cannot_submit_or_list_matters(harness: Harness, lang: str, submit: str,
                                                            mine: str) -> None:
    clerk = await bound_staff(harness, lang=lang)
    before = await harness.dump(*TABLES)
    assert shown(await clerk.say("/submit")) == [("message", submit)]
    assert shown(await clerk.say("/my")) == [("message", mine)]
    # the same through forged menu buttons (the staff menu has none): refused, answered once
    assert sorted(shown(await clerk.press_data("menu:submit"))) == [("answer", submit), ("message", submit)]
    assert sorted(shown(await clerk.press_data("menu:my"))) == [("answer", mine), ("message", mine)]
    assert await harness.dump(*TABLES) == before
    assert await no_failures(harness)


# -- commands in the middle of a dialogue --------------------------------------------------------


@pytest.mark.parametrize("command", ["/submit", "/start", "/menu", "/start abcdef", "/inbox"])
async def test_a_command_in_a_dialogue_is_deferred_and_the_step_prompted_again(harness: Harness,
                                                                               command: str) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "subject")
    before = await harness.dump(*TABLES)
    replies = await deputy.say(command)
    assert shown(replies) == [("message", IN_DIALOGUE), ("message", SUBJECT_PROMPT)]
    assert await harness.dump(*TABLES) == before
    await deputy.say("事由照常")  # the dialogue goes on where it was
    assert deputy.last == TEXT_PROMPT
    assert await no_failures(harness)


async def test_a_matter_number_in_the_content_is_the_content(harness: Harness) -> None:
    """A deputy's content may name an earlier matter on a line of its own: a number sent alone at the content step,
    with no notice offering it since, is taken as content (a notice's number waits: tests/test_casework.py)."""
    deputy = await bound_deputy(harness)
    await at_step(deputy, "text")
    await deputy.say("此事与我去年提交的事项有关，编号为：")
    replies = await deputy.say("“ls-2026-0001”")
    assert shown(replies)[0][1].startswith("已收到（目前共 ")
    async with harness.db.snapshot() as q:
        data = await q.scalar("SELECT data FROM dialogs")
    assert "ls-2026-0001" in data
    assert await no_failures(harness)


async def test_a_command_in_a_dialogue_in_english(harness: Harness) -> None:
    deputy = await bound_deputy(harness, name="Wang", lang="en")
    await deputy.say("/submit")
    await deputy.press("Opinion")
    await deputy.say("Roads")
    replies = await deputy.say("/submit")
    assert shown(replies) == [
        ("message", "You have not finished submitting a matter. Please finish it first, or send /cancel to leave it."),
        ("message", "Please write the content (at most 10000 characters in all). You may send several messages; "
                    "choose Done when you have finished."),
    ]


async def test_the_submit_menu_button_in_a_dialogue_says_which_dialogue_and_how_to_leave(harness: Harness) -> None:
    """Issue 12 §2.4: a menu button a dialogue blocks is answered like a command: which dialogue is open,
    how to leave it, and its step again — the press answered once, nothing changed."""
    deputy = await bound_deputy(harness)
    await at_step(deputy, "text")
    before = await harness.dump(*TABLES)
    replies = await deputy.press_data("menu:submit")
    assert sorted(shown(replies)) == [("answer", ""), ("message", IN_DIALOGUE), ("message", TEXT_PROMPT)]
    assert [t for op, t in shown(replies) if op == "message"] == [IN_DIALOGUE, TEXT_PROMPT]
    assert await harness.dump(*TABLES) == before


async def test_the_help_menus_reading_buttons_work_in_a_dialogue_and_it_waits(harness: Harness) -> None:
    """Issue 12 §2.4: /help's buttons work during a dialogue; /my and /help only read, and say the dialogue
    is still open and how to leave it; what is typed next goes on with the dialogue."""
    deputy = await bound_deputy(harness)
    await at_step(deputy, "subject")
    before = await harness.dump(*TABLES)
    still = "您的操作尚未完成：提交事项。请接着完成，或发送 /cancel 退出。"
    helped = await deputy.say("/help")
    assert [s.text for s in helped if s.op == "message"][-2] == still
    assert "我的事项" in [label for label, _ in helped[0].buttons]  # the help, with the main menu under it
    assert helped[-1].text.startswith("请发送简要事由")  # then the step again: a number typed next answers it (WeCom)
    listed = await deputy.press("我的事项")
    assert [t for op, t in shown(listed) if op == "message"] == ["您还没有提交过事项。发送 /submit 即可开始。"]
    mine = await deputy.say("/my")
    assert [t for op, t in shown(mine) if op == "message"][-1] == still
    assert await harness.dump(*TABLES) == before
    await deputy.say("事由照常")  # the dialogue goes on where it was
    assert deputy.last == TEXT_PROMPT


async def test_help_and_cancel_work_in_a_dialogue(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await at_step(deputy, "subject")
    before = await harness.dump(*TABLES)
    replies = await deputy.say("/help")
    assert replies[0].text.startswith("帮助\n您的身份：王建国（人大代表）。")
    assert await harness.dump(*TABLES) == before
    assert shown(await deputy.say("/cancel")) == [("message", "已取消，未提交任何内容。")]
    assert await harness.count("dialogs") == 0


# -- found by the fuzz (tests/test_fuzz.py, benchmarks/fuzz.py) ---------------------------------


@pytest.mark.parametrize("when", ["0001-01-01 00:00", "0001/1/1 0:00"])
async def test_fuzz_an_event_time_in_year_one_is_not_a_date_rather_than_a_crash(harness: Harness, when: str) -> None:
    """handlers/liaison/event_details.parse_when: year 1 at midnight local is before what UTC can hold (OverflowError)."""
    clerk = await bound_staff(harness)
    await clerk.say("/event")
    await clerk.press("座谈会")
    await clerk.say("座谈会")
    before = await harness.dump(*TABLES, "events")
    replies = await clerk.say(when)
    assert shown(replies) == [("message", "抱歉，无法识别该日期和时间。请按 2026-12-05 09:30 的格式发送。")]
    assert await harness.dump(*TABLES, "events") == before
    assert await no_failures(harness)


async def test_fuzz_a_lone_surrogate_in_text_is_stored_as_a_replacement_character(harness: Harness) -> None:
    """bot/router.clean: JSON such as "\\ud83d" without its pair decodes to a lone surrogate, which SQLite
    cannot encode as UTF-8; it crashed every handler that stored the text (here the subject of a matter)."""
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("建议")
    replies = await deputy.say("路口\ud83d减速带")
    assert shown(replies) == [("message", TEXT_PROMPT)]
    assert (await dialog_data(harness))["subject"] == "路口\ufffd减速带"
    assert await no_failures(harness)


async def test_fuzz_a_lone_surrogate_in_an_invite_code_is_an_invalid_code(harness: Harness) -> None:
    """handlers/binding.hash_code encoded the code as UTF-8: a surrogate in it crashed /start."""
    stranger = harness.user("9001")
    replies = await stranger.say("/start abc\udfff")
    assert shown(replies) == [("message", "此邀请链接无效，或已过期、已被使用。请向本院办公室索取新的链接。")]
    assert await no_failures(harness)


async def test_fuzz_a_surrogate_pair_split_in_two_escapes_is_joined(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("建议")
    await deputy.say("好\ud83d\ude00")
    assert (await dialog_data(harness))["subject"] == "好😀"
