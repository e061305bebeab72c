"""SPEC §3 / seed §3, §12, §14: at the confirmation a representative may change what they wrote (修改) instead of
cancelling and writing it all again; what the change makes necessary is asked, nothing else, and the confirmation
comes back. Each refusal changes nothing."""

from __future__ import annotations

import pytest

from tests.cast import STALE, appeal_up_to_the_dispute, bound_deputy, refuses_forged_choices, up_to_the_confirmation
from tests.fakes import Harness, User

TABLES = ("matters", "attachments", "timeline", "counters", "dialogs")


async def up_to_the_attachments(deputy: User) -> None:
    await deputy.say("/submit")
    await deputy.press("建议")
    await deputy.say("路灯")
    await deputy.say("村东头没有路灯。")
    await deputy.press("完成")


async def test_the_confirmation_offers_a_change_and_lists_what_can_be_changed(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    assert deputy.last_buttons() == ["确认提交", "修改", "取消"]
    await deputy.press("修改")
    assert deputy.last == "请选择要修改的内容。"
    # a suggestion has no complainant and disputes nothing: neither is offered
    assert deputy.last_buttons() == ["类别", "事由", "内容", "附件", "返回核对"]
    await deputy.press("返回核对")
    assert deputy.last.startswith("请核对\n类别：建议") and deputy.last_buttons() == ["确认提交", "修改", "取消"]


async def test_a_changed_subject_is_registered(harness: Harness) -> None:
    """§3: what is registered is what the summary showed last."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    await deputy.press("修改")
    await deputy.press("事由")
    assert deputy.last.splitlines()[0] == "现在的事由：关于村道路灯"
    assert deputy.last_buttons() == ["不修改"]  # no Cancel, that would drop the whole matter
    await deputy.say("关于村东头道路照明的建议")
    assert "事由：关于村道路灯维修" not in deputy.last and "事由：关于村东头道路照明的建议" in deputy.last
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT subject, body FROM matters")
    assert (row["subject"], row["body"]) == ("关于村东头道路照明的建议", "村东头没有路灯。")


async def test_keep_as_it_was_returns_to_the_confirmation_unchanged(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    summary = deputy.last
    for item in ("事由", "类别"):
        await deputy.press("修改")
        await deputy.press(item)
        await deputy.press("不修改")
        assert deputy.last == summary, item


async def test_new_content_replaces_the_old_and_keep_brings_the_old_back(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy, text="原来的内容。")
    await deputy.press("修改")
    await deputy.press("内容")
    assert "它将替换原来的内容" in deputy.last and deputy.last_buttons() == ["完成", "不修改"]
    replies = await deputy.say("新的内容，")
    assert "目前共 5 字" in replies[0].text  # counted afresh: the old content is not added to
    await deputy.press("不修改")
    assert "内容：\n原来的内容。\n" in deputy.last
    await deputy.press("修改")
    await deputy.press("内容")
    await deputy.say("新的内容，")
    await deputy.say("分两条发送。")
    await deputy.press("完成")
    assert "内容：\n新的内容，\n分两条发送。\n无附件" in deputy.last  # straight back: the attachments not asked again
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT body FROM matters") == "新的内容，\n\n分两条发送。"


async def test_done_without_new_content_is_refused_and_changes_nothing(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    await deputy.press("修改")
    await deputy.press("内容")
    before = await harness.dump(*TABLES)
    await deputy.press("完成")
    assert deputy.last == "请先填写新的内容，或选择“不修改”。"
    assert await harness.dump(*TABLES) == before


async def test_a_kind_that_no_longer_needs_the_complainant_drops_their_data(harness: Harness) -> None:
    """§12: the complainant's name and contact belong to a referred case; a report changed into a suggestion
    keeps nothing of them, in the dialogue or the matter."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy, kind="举报")
    await deputy.say("张三")
    await deputy.say("13900001111")
    assert "举报人：张三，联系方式：13900001111" in deputy.last
    await deputy.press("修改")
    await deputy.press("类别")
    await deputy.press("建议")
    assert deputy.last.startswith("请核对\n类别：建议") and "当事人" not in deputy.last
    async with harness.db.snapshot() as q:
        assert "13900001111" not in await q.scalar("SELECT data FROM dialogs")
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT kind, complainant_name, complainant_contact FROM matters")
    assert (row["kind"], row["complainant_name"], row["complainant_contact"]) == ("suggestion", None, None)


async def test_a_kind_that_needs_a_complainant_asks_for_one_then_confirms(harness: Harness) -> None:
    """§12: a suggestion changed into an accusation asks whom it is for, and only that."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    await deputy.press("修改")
    await deputy.press("类别")
    await deputy.press("控告")
    assert "姓名" in deputy.last and deputy.last_buttons() == ["取消修改"]  # nothing to keep: the change undone
    await deputy.say("王五")
    await deputy.say("县城关镇")
    assert deputy.last.startswith("请核对\n类别：控告") and "控告人：王五，联系方式：县城关镇" in deputy.last
    await deputy.press("确认提交")
    assert "您转交的控告已登记" in deputy.last


async def test_the_complainant_is_changed_name_and_contact_together(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy, kind="举报")
    await deputy.say("张三")
    await deputy.say("13900001111")
    await deputy.press("修改")
    assert "群众信息" in deputy.last_buttons()
    await deputy.press("群众信息")
    assert deputy.last.splitlines()[0] == "现在填写的姓名：张三"
    await deputy.press("不修改")  # the name stays; the contact is asked next all the same
    assert deputy.last.splitlines()[0] == "现在填写的联系方式：13900001111"
    await deputy.say("13900002222")
    assert "举报人：张三，联系方式：13900002222" in deputy.last


async def test_an_appeal_changed_to_dispute_our_handling_asks_the_department(harness: Harness) -> None:
    """§14: whether an appeal disputes our own handling decides which department may not handle it; a deputy who
    answered it wrongly changes it, and the department that handled it is asked."""
    await harness.add_department("第一检察部")
    await harness.add_department("第二检察部")
    deputy = await bound_deputy(harness)
    await appeal_up_to_the_dispute(deputy)
    await deputy.press("否")
    assert deputy.last.splitlines()[-1] == "申诉人对本院的处理无异议"
    await deputy.press("修改")
    assert deputy.last_buttons() == ["类别", "事由", "内容", "附件", "群众信息", "是否对本院处理不服", "返回核对"]
    await deputy.press("是否对本院处理不服")
    await deputy.press("是")
    await deputy.press("第二检察部")
    assert "对本院处理不服；原承办部门：第二检察部" in deputy.last
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT disputes_own_handling, original_department_id FROM matters")
    assert row["disputes_own_handling"] == 1 and row["original_department_id"] is not None


@pytest.mark.parametrize(("change", "to", "kind"), [("是否对本院处理不服", "否", "appeal"), ("类别", "控告", "accusation")])
async def test_an_appeal_that_no_longer_disputes_our_handling_forgets_the_department(
        harness: Harness, change: str, to: str, kind: str) -> None:
    """§14: an appeal changed to dispute nothing, or changed into another kind, names no original department."""
    await harness.add_department("第一检察部")
    deputy = await bound_deputy(harness)
    await appeal_up_to_the_dispute(deputy)
    await deputy.press("是")
    await deputy.press("第一检察部")
    await deputy.press("修改")
    await deputy.press(change)
    await deputy.press(to)
    assert "原承办部门" not in deputy.last and deputy.last.startswith("请核对\n类别：" + {"appeal": "申诉"}.get(kind, "控告"))
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT kind, disputes_own_handling, original_department_id FROM matters")
    assert (row["kind"], row["disputes_own_handling"], row["original_department_id"]) == (kind, 0, None)


async def test_attachments_can_be_removed_and_sent_again(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await up_to_the_attachments(deputy)
    await deputy.send_file(b"\x89PNG wrong photo", "wrong.jpg", kind="photo")
    await deputy.press("附件已发完")
    assert "附件：1 个" in deputy.last
    await deputy.press("修改")
    await deputy.press("附件")
    assert deputy.last.startswith("已有附件 1 个。")
    assert deputy.last_buttons() == ["附件已发完", "删除全部附件", "取消修改"]
    await deputy.press("删除全部附件")
    assert "已删除全部附件" in deputy.received[-2].text and deputy.last_buttons() == ["无附件", "取消修改"]
    await deputy.send_file(b"\x89PNG right photo", "right.jpg", kind="photo")
    await deputy.press("附件已发完")
    assert "附件：1 个" in deputy.last
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        assert [r["name"] for r in await q.all("SELECT name FROM attachments")] == ["right.jpg"]


async def test_cancel_while_changing_cancels_the_change_not_the_matter(harness: Harness) -> None:
    """SPEC §3: cancel at every step — while a step is changed, what is cancelled is the change: 取消修改, and /cancel
    or 取消 typed, bring the confirmation back as it was before 修改 (a kind change that asked for a complainant
    included); the confirmation's own 取消 still drops the matter."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    summary = deputy.last
    await deputy.press("修改")
    await deputy.press("类别")
    await deputy.press("控告")  # now the complainant is asked
    await deputy.say("王五")
    await deputy.press("取消修改")
    assert deputy.received[-2].text == "已取消修改，内容保持不变。" and deputy.last == summary
    await deputy.press("修改")
    await deputy.press("事由")
    await deputy.say("/cancel")
    assert deputy.last == summary and await harness.count("dialogs") == 1
    async with harness.db.snapshot() as q:
        stored = await q.scalar("SELECT data FROM dialogs")
    assert "before" not in stored and "editing" not in stored and "王五" not in stored
    await deputy.press("取消")
    assert deputy.last.startswith("已取消，未提交任何内容。")
    assert await harness.count("matters") == 0 and await harness.count("dialogs") == 0


async def test_a_change_under_way_is_kept_in_the_stored_dialogue(harness: Harness) -> None:
    """The dialogue is stored after every step (so that it survives a restart): a change under way is too, with
    the old content that 不修改 brings back."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    await deputy.press("修改")
    await deputy.press("内容")
    await deputy.say("半条新内容")
    async with harness.db.snapshot() as q:
        stored = await q.scalar("SELECT data FROM dialogs")
    assert '"editing": true' in stored and "村东头没有路灯" in stored  # the old content kept for 不修改
    await deputy.press("不修改")
    assert "内容：\n村东头没有路灯。\n" in deputy.last


async def test_forged_change_choices_are_stale_and_change_nothing(harness: Harness) -> None:
    """Button data is user input: a change the matter does not have (the complainant of a suggestion), 不修改 where
    nothing is being changed, removing attachments there are none of, each pressed with the dialogue's own nonce."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    await refuses_forged_choices(harness, deputy, ("keep", "clear", "back", "complainant"), TABLES)
    await deputy.press("修改")
    await refuses_forged_choices(harness, deputy, ("complainant", "disputes", "keep", "submit", "nonsense"), TABLES)
    await deputy.press("附件")
    await refuses_forged_choices(harness, deputy, ("clear", "keep"), TABLES)
    assert STALE == "此选项已失效。"


async def test_in_english_the_change_reads_as_the_rest(harness: Harness) -> None:
    deputy = await bound_deputy(harness, lang="en")
    await deputy.say("/submit")
    await deputy.press("Suggestion")
    await deputy.say("Street lights")
    await deputy.say("The east end of the village has none.")
    await deputy.press("Done")
    await deputy.press("No files")
    assert deputy.last_buttons() == ["Submit", "Change", "Cancel"]
    await deputy.press("Change")
    assert deputy.last == "What would you like to change?"
    assert deputy.last_buttons() == ["Kind", "Subject", "Content", "Attachments", "Back to the summary"]
    await deputy.press("Subject")
    assert deputy.last.splitlines()[0] == "The subject now: Street lights"
    assert deputy.last_buttons() == ["No change"]
    await deputy.say("Street lighting in the village")
    assert "Subject: Street lighting in the village" in deputy.last


async def office_at_the_confirmation(harness: Harness) -> tuple[int, User]:
    """An office clerk registering a letter's opinion for 王建国, up to the confirmation."""
    clerk_id = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    await harness.add_representative("王建国", phone="13800000001")
    for step in ("/register", "建国"):
        await clerk.say(step)
    await clerk.press(clerk.last_buttons()[0])
    await clerk.press("信函")
    await clerk.press("意见")
    await clerk.say("关于执法规范化的意见")
    await clerk.say("来信反映执法窗口告知不清。")
    await clerk.press("完成")
    await clerk.press("无附件")
    return clerk_id, clerk


async def test_the_office_changes_a_registration_on_behalf_and_is_checked_on_every_press(harness: Harness) -> None:
    """SPEC §3: the office's registration for a representative is changed the same way; the permission to register
    on their behalf is checked again on each press (roles change between steps): a clerk who lost it is refused
    and nothing changes."""
    clerk_id, clerk = await office_at_the_confirmation(harness)
    assert clerk.last_buttons() == ["确认登记", "修改", "取消"]
    await clerk.press("修改")
    await clerk.press("事由")
    await clerk.say("关于执法窗口告知的意见")
    assert "事由：关于执法窗口告知的意见" in clerk.last and "收到方式：信函" in clerk.last
    await clerk.press("修改")
    async with harness.db.transaction() as tx:
        await tx.execute("DELETE FROM person_roles WHERE person_id = ?", (clerk_id,))
    before = await harness.dump(*TABLES)
    refused = await clerk.press("内容")
    assert "只有办公室可以代为登记" in " ".join(s.text for s in refused)
    assert await harness.dump(*TABLES) == before


async def test_each_step_asked_again_shows_what_it_holds_now(harness: Harness) -> None:
    """A step asked again from 修改 says what it holds now, above the question: the kind, an appeal's answer and the
    department it disputes (kept with 不修改, as every step with a value)."""
    await harness.add_department("第一检察部")
    deputy = await bound_deputy(harness)
    await appeal_up_to_the_dispute(deputy)
    await deputy.press("是")
    await deputy.press("第一检察部")
    summary = deputy.last
    await deputy.press("修改")
    await deputy.press("类别")
    assert "\n现在的类别：申诉\n" in deputy.last and deputy.last_buttons()[-1] == "不修改"
    await deputy.press("不修改")
    await deputy.press("修改")
    await deputy.press("是否对本院处理不服")
    assert deputy.last.startswith("现在的回答：是\n申诉人是否对本院的处理不服？")
    await deputy.press("是")  # the department is asked again, and may be kept
    assert deputy.last.startswith("现在填写的原承办部门：第一检察部\n原案由哪个部门承办？")
    await deputy.press("不修改")
    assert deputy.last == summary


async def test_a_photo_sent_at_the_confirmation_is_kept_and_counted(harness: Harness) -> None:
    """A photo found at the last moment and sent at the confirmation is an attachment, not a refusal ("please
    answer in text") that drops it."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    got = await deputy.send_file(b"\x89PNG late photo", "late.jpg", kind="photo")
    assert [s.text for s in got if s.op == "message"][:1] == ["已收到附件（共 1 个）。"]
    assert "附件：1 个" in deputy.last and deputy.last_buttons() == ["确认提交", "修改", "取消"]
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        assert [r["name"] for r in await q.all("SELECT name FROM attachments")] == ["late.jpg"]


async def test_after_a_photo_the_attachments_can_still_be_removed(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await up_to_the_attachments(deputy)
    got = await deputy.send_file(b"\x89PNG photo", "p.jpg", kind="photo")
    assert [label for s in got for label, _ in s.buttons] == ["附件已发完", "删除全部附件", "取消"]


async def test_cancel_while_changing_is_a_way_out_even_when_the_confirmation_cannot_come_back(
        harness: Harness) -> None:
    """Found in review: /cancel while changing brings the confirmation back, and that needed what could be taken away
    meanwhile (the office's right to register on behalf): the clerk was refused at every way out, and the dialogue
    stayed. A way out always remains: the dialogue ends, nothing submitted."""
    clerk_id, clerk = await office_at_the_confirmation(harness)
    await clerk.press("修改")
    await clerk.press("事由")
    async with harness.db.transaction() as tx:
        await tx.execute("DELETE FROM person_roles WHERE person_id = ?", (clerk_id,))
    await clerk.say("/cancel")
    assert "已取消，未提交任何内容。" in clerk.last
    assert await harness.count("dialogs") == 0 and await harness.count("matters") == 0


async def test_at_the_list_of_changes_cancel_goes_back_to_the_confirmation(harness: Harness) -> None:
    """The list of what to change offers only 返回核对: /cancel (取消 typed) there does the same, and drops nothing."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    summary = deputy.last
    await deputy.press("修改")
    await deputy.say("/cancel")
    assert deputy.last == summary and await harness.count("dialogs") == 1


async def test_no_change_to_the_content_also_drops_photos_sent_meanwhile(harness: Harness) -> None:
    """不修改 leaves the content step as it was: a photo sent while writing new content goes with the new content."""
    deputy = await bound_deputy(harness)
    await up_to_the_confirmation(deputy)
    await deputy.press("修改")
    await deputy.press("内容")
    await deputy.send_file(b"\x89PNG meanwhile", "meanwhile.jpg", kind="photo")
    await deputy.press("不修改")
    assert "无附件" in deputy.last
