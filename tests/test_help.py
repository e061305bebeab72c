"""SPEC §1, §10: /help by role — each role's lines say what that role does — and a representative's /events, where
their invitations are found again (seed §5, §6)."""

from __future__ import annotations

from bot.i18n import Translator
from handlers.common import help_text
from storage import people
from tests.cast import INVITATION, Liaison, People, messages
from tests.fakes import Harness, User


async def help_of(user: User) -> list[str]:
    return messages(await user.say("/help"))[0].splitlines()


async def bind(harness: Harness, person_id: int, user_id: str) -> User:
    return await People(harness).bind(person_id, user_id)


async def test_a_deputy_and_a_supervisor_are_told_what_they_can_do(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    zhang = await help_of(cast.zhang)
    assert zhang[:5] == [
        "帮助", "您的身份：张伟（人大代表）。", "/submit — 提出建议、批评、意见，或转交举报、控告、申诉",
        "/my — 查看您提交的事项及其办理进展和答复", "/events — 查看您收到的活动邀请及您的回复"]
    assert not any(line.startswith(("/inbox", "/case", "/overview")) for line in zhang)
    assert zhang[-1] == "您提出或转交的每一件事项，我们都将逐一登记、逐一办理、逐一反馈，做到件件有着落、事事有回音。感谢您的监督。"
    wang = await help_of(cast.wang)  # on the roster as a law-enforcement supervisor (§6)
    assert wang[1] == "您的身份：王建国（人大代表、执法监督员）。"
    assert "作为执法监督员，您将受邀参加案件研讨等活动，并可就案件发表意见；发送 /events 可随时查看您收到的邀请。" in wang


async def test_each_staff_role_reads_what_its_inbox_holds(harness: Harness) -> None:
    h = harness
    handler = await bind(h, await h.add_staff("刘洋", ["handler"], "第一检察部"), "4001")
    head = await bind(h, await h.add_staff("张军", ["head"], "第二检察部"), "4002")
    discipline = await bind(h, await h.add_staff("孙磊", ["discipline"]), "5001")
    leader = await bind(h, await h.add_staff("周明", ["leader"]), "6001")
    both = await bind(h, await h.add_staff("陈静", ["office", "leader"]), "3001")
    lines = await help_of(handler)
    assert lines[1] == "您的身份：刘洋（第一检察部承办人）。"
    assert "/inbox — 第一检察部承办的事项：通报进展、办结、起草答复" in lines
    lines = await help_of(head)
    assert lines[1] == "您的身份：张军（第二检察部负责人）。"
    assert "/inbox — 第二检察部承办的事项（您为部门负责人）：办理进展、办结和答复" in lines
    lines = await help_of(discipline)
    assert "/inbox — 逾期、长期无办理动作、重新办理及对本院处理不服的申诉事项，以及联合现场督办情况，逐件列明待办要求" in lines
    assert "/overview — 按状态查看全部事项" in lines and not any(line.startswith("/submit") for line in lines)
    lines = await help_of(leader)
    assert "/inbox — 待您审批的重大事项答复" in lines and any(line.startswith("/digest — ") for line in lines)
    assert ("/inbox — 待交办的新登记事项和重新办理事项、待审批的答复、待决定的延期申请、未送达的消息；待您审批的重大事项答复"
            in await help_of(both))


async def test_a_deputy_finds_their_invitations_again_with_events(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    assert messages(await cast.zhang.say("/events")) == [
        "我的活动邀请\n您目前没有活动邀请。本院办公室将通过本平台邀请代表委员参加座谈会、视察等活动。"]
    await cast.event()
    again = [s for s in await cast.zhang.say("/events") if s.op == "message"]
    assert [s.text for s in again] == [INVITATION + "\n您的答复：尚未答复"]
    assert [label for label, _data in again[0].buttons] == ["参加", "不参加"]
    await cast.zhang.press("参加")  # the button of the invitation found again
    assert (await cast.invited())[cast.zhang_id] == ("accepted", None)
    assert messages(await cast.zhang.say("/events"))[-1].endswith("\n您的答复：参加")
    harness.clock.advance(days=10)  # the forum of 4 December is past
    assert messages(await cast.zhang.say("/events")) == ["近30日的活动邀请\n2026年12月4日 · 2026年度代表委员座谈会 · 参加"]
    # only their own: a deputy not invited sees none; the office still gets its own list
    late = await bind(harness, await harness.add_representative("钱进", phone="13800000009"), "1009")
    assert "您目前没有活动邀请" in messages(await late.say("/events"))[0]
    assert messages(await cast.clerk.say("/events"))[0].startswith("联络活动\n")


async def test_staff_without_the_office_role_are_refused_events_and_nothing_changes(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    await cast.event()
    before = await harness.dump("events", "invitations", "dialogs")
    assert messages(await cast.handler.say("/events")) == ["抱歉，只有办公室可以组织联络活动。"]
    assert await harness.dump("events", "invitations", "dialogs") == before


async def test_the_office_and_the_administrator_find_access_in_their_help_and_nobody_else(harness: Harness) -> None:
    """SPEC §2 "access can be taken away": /access is listed for those who may use it, in either language."""
    h = harness
    clerk = await bind(h, await h.add_staff("陈静", ["office"]), "3001")
    admin = await People(h).bind(await h.add_staff("李华", ["admin"]), "7001", lang="en")
    handler = await bind(h, await h.add_staff("刘洋", ["handler"], "第一检察部"), "4001")
    deputy = await bind(h, await h.add_representative("王建国"), "1001")
    assert ("/access — 停用或恢复人员的使用权限，解除其某一账号的绑定，或设置工作人员的角色；例如发送 /access 停用 姓名 或 "
            "/access 查看 姓名") in await help_of(clerk)
    assert ("/access — disable a person's access or restore it, unbind one of their chat accounts, or set a staff "
            "member's roles; e.g. /access disable NAME or /access show NAME") in await help_of(admin)
    for user in (handler, deputy):
        assert not any(line.startswith("/access") for line in await help_of(user))


async def test_where_wecom_runs_the_office_finds_wecom_binding_in_its_help(harness: Harness) -> None:
    """/wecom (bind a person to a WeCom account, or set how their choices are shown) is listed for the office
    only where WeCom runs; elsewhere it would name a command with nothing behind it."""
    h = harness
    clerk_id = await h.add_staff("陈静", ["office"])
    async with h.db.snapshot() as q:
        clerk = await people.get(q, clerk_id)
    assert clerk is not None
    _ = Translator("zh_Hans", h.app.config.unit.tz)
    with_wecom = help_text(_, clerk, wecom=True).splitlines()
    assert ("/wecom — 将人员与其企业微信账号绑定，例如发送 /wecom 姓名 账号；或设置其选项的显示方式：/wecom 姓名 卡片、文字或默认"
            in with_wecom)
    assert not any(line.startswith("/wecom") for line in help_text(_, clerk).splitlines())
    assert not any(line.startswith("/wecom") for line in await help_of(await bind(h, clerk_id, "3001")))


async def test_a_commands_words_work_typed_on_every_channel(harness: Harness) -> None:
    """WeCom's messages name commands by their words ("发送“我的”可随时查看"), and a notice written for WeCom may reach
    the same person on their other account: a message that is exactly a command's words — or the words in the
    quotes they were shown in — is that command on every channel. A sentence containing them is still text."""
    rep = await harness.add_representative("王建国")
    deputy = await bind(harness, rep, "1001")
    assert messages(await deputy.say("我的"))[0] == "您还没有提交过事项。发送 /submit 即可开始。"
    assert messages(await deputy.say("“帮助”"))[0].startswith("帮助")
    started = messages(await deputy.say("提交"))[0]
    assert started.startswith("提交事项")
    assert messages(await deputy.say("取消"))[0] == "已取消，未提交任何内容。"
    assert messages(await deputy.say("我的事项在哪里"))[0].startswith("抱歉，未能理解")
