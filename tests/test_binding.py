"""SPEC §2: binding a chat account to a roster person by a one-time invite code."""

from __future__ import annotations

from dataclasses import replace

from bot.config import BindingConfig
from handlers.people.binding import hash_code
from tests.fakes import Harness

TABLES = ("identities", "invites", "persons", "dialogs", "matters")


async def test_deep_link_binds_and_greets_by_name_and_role(harness: Harness) -> None:
    rep = await harness.add_representative("王建国", body="npc")
    code = await harness.invite(rep)
    deputy = harness.user("1001")
    replies = await deputy.say(f"/start {code}")
    assert "王建国代表，您好！您的账号已绑定成功。" in replies[0].text
    assert "/submit" in replies[0].text
    assert await harness.count("identities", "channel = 'test' AND external_id = '1001' AND person_id = ?", (rep,)) == 1
    # the code is single use and stored only as its hash
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT code_hash, used_by FROM invites")
    assert row["code_hash"] == hash_code(code) and code not in tuple(row)
    assert row["used_by"] == "test:1001"


async def test_cppcc_member_is_greeted_as_member_in_english(harness: Harness) -> None:
    rep = await harness.add_representative("Li Xiumei", body="cppcc")
    code = await harness.invite(rep)
    member = harness.user("1002", language_code="en-US")
    replies = await member.say(f"/start {code}")
    assert replies[0].text.startswith("Welcome, CPPCC member Li Xiumei. Your account is now bound.")


async def test_staff_bind_the_same_way(harness: Harness) -> None:
    staff = await harness.add_staff("陈静", ["office"])
    code = await harness.invite(staff)
    replies = await harness.user("2001").say(f"/start {code}")
    assert "陈静（办公室）" in replies[0].text
    assert "/submit" not in replies[0].text  # staff do not submit matters


async def test_used_code_is_refused_without_saying_whose_it_was(harness: Harness) -> None:
    rep = await harness.add_representative("王建国")
    code = await harness.invite(rep)
    await harness.user("1001").say(f"/start {code}")
    before = await harness.dump(*TABLES)
    stranger = harness.user("6666")
    replies = await stranger.say(f"/start {code}")
    assert replies[0].text == "此邀请链接无效，或已过期、已被使用。请向本院办公室索取新的链接。"
    assert "王建国" not in replies[0].text
    assert await harness.dump(*TABLES) == before


async def test_wrong_and_expired_codes_get_the_same_answer_and_change_nothing(harness: Harness) -> None:
    rep = await harness.add_representative("王建国")
    code = await harness.invite(rep)
    harness.clock.advance(days=14, seconds=1)  # invites expire after 14 days by default
    before = await harness.dump(*TABLES)
    expired = await harness.user("1001").say(f"/start {code}")
    wrong = await harness.user("1002").say("/start not-a-real-code")
    forged = await harness.user("1003").say("/start " + "x" * 5000)
    assert expired[0].text == wrong[0].text == forged[0].text
    assert await harness.dump(*TABLES) == before


async def test_second_start_with_someone_elses_code_changes_nothing(harness: Harness) -> None:
    first = await harness.add_representative("王建国")
    second = await harness.add_representative("张伟", phone="13800000003")
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(first)}")
    other_code = await harness.invite(second)
    before = await harness.dump(*TABLES)
    replies = await deputy.say(f"/start {other_code}")
    assert "此账号已绑定为王建国" in replies[0].text
    assert await harness.dump(*TABLES) == before
    # the other person's code is still good for them
    assert "张伟" in (await harness.user("1003").say(f"/start {other_code}"))[0].text


async def test_unbound_user_gets_an_explanation_and_nothing_else(harness: Harness) -> None:
    stranger = harness.user("9999")
    before = await harness.dump(*TABLES)
    for text in ("你好", "/submit", "/my", "/help", "/start"):
        replies = await stranger.say(text)
        assert len(replies) == 1
        assert "请向本院办公室索取您的专属邀请链接" in replies[0].text
    assert await harness.dump(*TABLES) == before


async def test_unbound_user_pressing_a_button_is_told_the_same(harness: Harness) -> None:
    replies = await harness.user("9999").press_data("menu:submit")
    assert any("邀请链接" in r.text for r in replies if r.op == "message")
    assert len([r for r in replies if r.op == "answer"]) == 1


async def _phone_harness(harness: Harness) -> Harness:
    harness.app.config = replace(harness.app.config, binding=BindingConfig(require_phone=True))
    harness.app.processor.config = harness.app.config
    return harness


async def test_phone_confirmation_binds_when_the_number_matches(harness: Harness) -> None:
    await _phone_harness(harness)
    rep = await harness.add_representative("王建国", phone="13800000001")
    code = await harness.invite(rep)
    deputy = harness.user("1001")
    asked = await deputy.say(f"/start {code}")
    assert asked[0].payload["request_contact"] == "分享我的手机号码"
    assert await harness.count("identities") == 0
    replies = await deputy.share_contact("+86 138-0000-0001")
    assert "您的账号已绑定成功" in replies[0].text
    assert await harness.count("identities") == 1


async def test_an_invite_that_expires_while_the_phone_is_awaited_does_not_bind(harness: Harness) -> None:
    """SPEC §2: the code is single use and expires; both are checked again at the last step of binding,
    so a code shared 25 days after /start binds nothing."""
    await _phone_harness(harness)
    rep = await harness.add_representative("王建国", phone="13800000001")
    code = await harness.invite(rep)
    deputy = harness.user("1001")
    await deputy.say(f"/start {code}")
    harness.clock.advance(days=25)
    before = await harness.dump(*TABLES)
    replies = await deputy.share_contact("13800000001")
    assert replies[0].text == "此邀请链接无效，或已过期、已被使用。请向本院办公室索取新的链接。"
    assert await harness.dump(*TABLES) == before
    assert await harness.count("identities") == 0


async def test_phone_confirmation_refuses_someone_elses_contact_and_a_wrong_number(harness: Harness) -> None:
    await _phone_harness(harness)
    rep = await harness.add_representative("王建国", phone="13800000001")
    code = await harness.invite(rep)
    deputy = harness.user("1001")
    await deputy.say(f"/start {code}")
    before = await harness.dump(*TABLES)
    other = await deputy.share_contact("13800000001", own=False)
    assert other[0].text == "请通过下方按钮分享您本人的手机号码。"
    wrong = await deputy.share_contact("13900000000")
    assert wrong[0].text == "该号码与登记信息不一致，请与本院办公室联系。"
    assert await harness.dump(*TABLES) == before
    # the code was not used up by the failed attempts
    assert "绑定成功" in (await deputy.share_contact("13800000001"))[0].text
