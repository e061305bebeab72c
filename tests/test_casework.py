"""Seed §7, §12-§14: the office, the departments, leaders and the representative carry a matter
from registration to a rated reply, through chat; every rule with its clause, every refusal
changing nothing."""

from __future__ import annotations

import pytest

from tests.cast import (GROUNDS, REPLY_BODY, TABLES, Cast, concluded_and_drafting_a_reply, matter_row, messages,
                        refuses_forged_choices)
from tests.fakes import Harness


async def test_the_office_sees_new_matters_in_its_inbox_and_assigns_with_an_urger(harness: Harness) -> None:
    """§13: a named person urging each case; the department and the urger are told; so is the deputy (§7)."""
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    inbox = await cast.office.say("/inbox")
    assert inbox[0].text.startswith("待交办\nLS-2026-0001 · 申诉 · 已登记")
    await cast.assign(dept="第二检察部")
    row = await matter_row(harness)
    assert (row["state"], row["department_id"]) == ("assigned", cast.dept2)
    assert cast.handler2.last.startswith("已交办\nLS-2026-0001（申诉）已交由第二检察部承办；催办人：陈静。办理期限：2027年2月27日。")
    assert cast.deputy.last == "进展\n您转交的申诉（LS-2026-0001）已交由第二检察部承办，正在办理中。"
    assert cast.handler1.last.startswith("刘洋，您好")  # the other department hears nothing


async def test_s14_a_disputed_appeal_never_goes_to_the_department_that_handled_it(harness: Harness) -> None:
    """§14: not at first, and not on reopening either."""
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal(disputed_dept="第一检察部")
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("交办")
    before = await harness.dump(*TABLES)
    refused = await cast.office.press("第一检察部")
    message = [r.text for r in refused if r.op == "message"][0]
    assert message.startswith("根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条，")
    assert await harness.dump(*TABLES) == before
    await cast.office.press("第二检察部")
    await cast.office.press("陈静")
    await cast.conclude_and_reply(cast.handler2)
    await cast.approve()
    await cast.deputy.press("不满意")
    await cast.deputy.say("理由不充分")
    assert (await matter_row(harness))["state"] == "reopened"
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("交办")
    again = await cast.office.press("第一检察部")
    assert [r.text for r in again if r.op == "message"][0].startswith("根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条，")
    assert (await matter_row(harness))["department_id"] == cast.dept2


async def test_a_handler_sees_only_their_departments_matters(harness: Harness) -> None:
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    await cast.assign(dept="第二检察部")
    before = await harness.dump(*TABLES[:-1])
    other = await cast.handler1.say("/case LS-2026-0001")
    assert other[0].text == "未找到该事项。"  # answered as if it did not exist, but audited
    listing = await cast.handler1.say("/inbox")
    assert listing[-1].text == "本部门承办事项\n本部门暂无在办事项。"
    assert await harness.dump(*TABLES[:-1]) == before
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == "refused:view"
    own = await cast.handler2.say("/inbox")
    assert "LS-2026-0001" in own[-1].text


async def test_a_public_progress_note_reaches_the_deputy_an_internal_one_does_not(harness: Harness) -> None:
    """§7, §12: the representative hears of progress; internal notes stay on the staff timeline."""
    cast = await Cast.assigned(harness)
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("进展")
    await h.say("已调阅案卷，正在审查。")
    await h.press("是，发送")
    assert cast.deputy.last == "进展情况通报\nLS-2026-0001 的进展情况：\n已调阅案卷，正在审查。"
    sent_before = len(cast.deputy.received)
    await h.say("/case LS-2026-0001")
    await h.press("进展")
    await h.say("内部：需补充询问笔录。")
    await h.press("否，仅内部记录")
    assert len(cast.deputy.received) == sent_before
    card = await h.say("/case LS-2026-0001")
    assert "（内部）" in card[0].text and "内部：需补充询问笔录。" in card[0].text
    assert (await matter_row(harness))["state"] == "in_progress"
    listing = await cast.deputy.say("/my")
    opened = await cast.deputy.press("LS-2026-0001")
    assert "需补充询问笔录" not in opened[-1].text


async def test_a_matter_number_sent_in_the_middle_of_a_note_is_not_taken_for_the_note(harness: Harness) -> None:
    """A notice of another matter arrives while the handler writes a progress note, and offers its number to send
    ("[LS-2026-0002] 查看事项" here; "查看事项：发送 LS-2026-0002" on WeCom's numbered text): the number sent is the
    matter asked for, which waits until the note is done; it never becomes the note sent to the deputy. Sent with
    no such notice after the step (the step's prompt came last), a number is the note, as any text is."""
    cast = await Cast.assigned(harness)
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("进展")
    prompt = h.last
    await cast.submit_appeal()
    await cast.assign(number="LS-2026-0002")
    assert h.received[-1].payload["buttons"] == [[["查看事项", "case:2", "LS-2026-0002"]]]
    before = await harness.dump(*TABLES)
    replies = await h.say("LS-2026-0002")
    assert [r.text for r in replies] == ["您还有一项操作尚未完成：LS-2026-0001 的“进展”操作。请先完成，或发送 /cancel 退出。",
                                         prompt]
    assert await harness.dump(*TABLES) == before
    await h.say("已调阅案卷，正在审查。")
    await h.press("是，发送")
    assert cast.deputy.last == "进展情况通报\nLS-2026-0001 的进展情况：\n已调阅案卷，正在审查。"
    await h.say("/case LS-2026-0001")
    await h.press("进展")
    taken = await h.say("LS-2026-0002")  # no notice since the prompt: the note's text
    assert [r.text for r in taken] == ["是否将此进展作为进展情况通报发送给代表委员？"]


async def test_a_file_captioned_with_a_notices_number_is_the_steps_file(harness: Harness) -> None:
    """From a review: a decision sent as a file captioned with a matter's number (Telegram's caption is the text), just
    after a notice offering that number, is the file the reply's step asks for, not the matter asked for."""
    cast = await concluded_and_drafting_a_reply(harness)
    h = cast.handler2
    await cast.submit_appeal()
    await cast.assign(number="LS-2026-0002")
    got = await h.send_file(b"%PDF-1.4 decision", "复查决定书.pdf", caption="LS-2026-0002")
    assert got[0].text == "已收到附件（共 1 个）。"


async def test_s14_a_reply_too_brief_or_without_grounds_is_refused(harness: Harness) -> None:
    """§14: the outcome and the grounds each against its own minimum, and the whole against its own; each
    refusal names the minimum, changes nothing, and asks again for that part only."""
    cast = await Cast.assigned(harness)
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("办结")
    await h.press("A类：已解决或基本解决")
    await h.press("起草答复")
    await h.press("网上答复")
    before = await harness.dump(*TABLES)
    brief = await h.say("已处理。")
    assert brief[0].text == ("根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条，办理结果过于简略（4 个字），至少需要 20 个字。请写明做了哪些工作、结果如何。")
    assert brief[1].text.startswith("请填写答复：办理结果（不少于 20 个字；连同理由和依据，全文不少于 80 个字）。")
    assert await harness.dump(*TABLES) == before
    await h.say("经审查，已责令相关单位限期整改，现已整改完毕。")
    before = await harness.dump(*TABLES)
    no_grounds = await h.say("无")
    assert no_grounds[0].text == ("根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条，答复须写明理由和依据，不少于 10 个字；现有 1 个字。"
                                  "请写明所依据的法律、规定或事实。")
    assert no_grounds[1].text.startswith("请写明理由和依据")
    too_short = await h.say("依据《人民检察院刑事诉讼规则》办理。")
    assert too_short[0].text == ("根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条，答复过于简略：共 41 个字（办理结果 23 个字，理由和依据 18 个字），"
                                 "至少需要 80 个字。请充实理由和依据，或修改办理结果。")
    assert "修改办理结果" in [label for label, _ in too_short[1].buttons]
    assert await harness.dump(*TABLES) == before
    assert await harness.count("replies") == 0


async def test_the_office_approves_and_the_deputy_receives_the_reply_with_rating_buttons(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    await cast.conclude_and_reply(cast.handler2)
    assert "LS-2026-0001" in cast.office.last  # told that a reply waits for approval
    # the handler is told where it went, not only "已完成。" (found walking the flow as a handler)
    assert "答复已提交办公室审批；发出或退回时将通知您。" in messages(cast.handler2.received[-3:])
    assert (await matter_row(harness))["state"] == "concluded"
    approved = await cast.approve()
    assert messages(approved)[0] == "已审批通过，并已发送给代表委员。"
    reply = cast.deputy.last
    assert reply.startswith("答复\n关于您转交的申诉“不服不起诉决定”（LS-2026-0001）的答复\n")
    assert REPLY_BODY in reply and GROUNDS in reply
    assert cast.deputy.last_buttons() == ["满意", "基本满意", "不满意"]
    assert (await matter_row(harness))["state"] == "replied"


async def test_the_office_returns_a_draft_with_a_comment(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    await cast.conclude_and_reply(cast.handler2)
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("退回修改")
    await cast.office.say("请补充法律依据的条文内容。")
    assert "请补充法律依据的条文内容。" in cast.handler2.last
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT state FROM replies") == "returned"
    assert (await matter_row(harness))["state"] == "concluded"


async def test_a_major_matters_reply_also_needs_a_leader(harness: Harness) -> None:
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("标记重大疑难复杂")
    await cast.assign()
    await cast.conclude_and_reply(cast.handler2)
    assert messages(await cast.approve())[0] == "已审批通过，现待院领导审批。"
    assert not cast.deputy.last.startswith("答复")  # not yet
    assert "LS-2026-0001" in cast.leader.last
    assert messages(await cast.approve(cast.leader))[0] == "已审批通过，并已发送给代表委员。"
    assert cast.deputy.last.startswith("答复")


@pytest.mark.parametrize(("label", "state"), [("满意", "closed"), ("基本满意", "closed")])
async def test_a_satisfied_rating_closes_outcome_a(harness: Harness, label: str, state: str) -> None:
    cast = await Cast.replied(harness)
    await cast.deputy.press(label)
    done = await cast.deputy.press("不补充意见")
    assert [r.text for r in done if r.op == "message"] == ["感谢您的评价和监督。"]
    assert (await matter_row(harness))["state"] == state


async def test_s14_dissatisfied_reopens_with_a_new_clock_and_alerts_office_and_discipline(harness: Harness) -> None:
    cast = await Cast.replied(harness)
    harness.clock.advance(days=10)
    await cast.deputy.press("不满意")
    await cast.deputy.say("答复没有回应我提出的问题。")
    row = await matter_row(harness)
    assert (row["state"], row["reopened"], row["due_date"]) == ("reopened", 1, "2027-01-07")  # a month from today (7 December in Shanghai)
    for staff in (cast.office, cast.discipline):
        assert "答复没有回应我提出的问题。" in staff.last and "LS-2026-0001" in staff.last
    # handled again, by another department, and rated again
    await cast.assign(dept="第一检察部")
    await cast.conclude_and_reply(cast.handler1)
    await cast.approve()
    async with harness.db.snapshot() as q:
        rounds = [tuple(r) for r in await q.all("SELECT round, rating FROM replies ORDER BY id")]
    assert rounds == [(1, "dissatisfied"), (2, None)]
    await cast.deputy.press("满意")
    await cast.deputy.press("不补充意见")
    assert (await matter_row(harness))["state"] == "closed"


async def test_outcomes_b_and_c_owe_a_final_reply(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    await cast.conclude_and_reply(cast.handler2, outcome="B类：正在解决")
    await cast.approve()
    interim = "此为阶段性答复：该事项仍在解决中，解决后我们将告知您最终结果。"
    assert interim in cast.deputy.last  # the first reply says it is not the last (found walking as a deputy)
    await cast.deputy.press("基本满意")
    await cast.deputy.press("不补充意见")
    assert (await matter_row(harness))["state"] == "rated"
    # the department answers again once it is resolved
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("起草答复")
    await h.press("网上答复")
    await h.say(REPLY_BODY)
    await h.say(GROUNDS)
    await h.press("确认")
    await cast.approve()
    assert "答复" in cast.deputy.last and interim not in cast.deputy.last  # the final one does not
    await cast.deputy.press("满意")
    await cast.deputy.press("不补充意见")
    async with harness.db.snapshot() as q:
        kinds = [tuple(r) for r in await q.all("SELECT kind, rating FROM replies ORDER BY id")]
    assert kinds == [("reply", "basically"), ("final", "satisfied")]
    assert (await matter_row(harness))["state"] == "closed"


async def test_s12_extension_capped_at_six_months_with_a_progress_notice(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("申请延期")
    await h.say("需要等待司法鉴定意见。")
    assert "需要等待司法鉴定意见。" in cast.office.last
    await cast.office.say("/case LS-2026-0001")
    offer = await cast.office.press("延期审批")
    assert [b for b, _ in offer[-1].buttons] == ["2027年3月27日", "2027年4月27日", "2027年5月27日", "不予延期", "取消"]
    await cast.office.press("2027年5月27日")
    assert (await matter_row(harness))["due_date"] == "2027-05-27"
    assert "2027年5月27日" in cast.deputy.last and cast.deputy.last.startswith("进展情况通报")
    # a second extension cannot pass six months after registration (2027-05-27): refused on the press,
    # before any reason is asked for, and nothing is left open
    await h.say("/case LS-2026-0001")
    before = await harness.dump(*TABLES)
    refused = await h.press("申请延期")
    assert [r.text for r in refused if r.op == "message"] == [
        "LS-2026-0001 的办理期限为2027年5月27日，已是延期所能达到的最晚日期（登记后 6 个月，《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十二条），不能再申请延期。"]
    assert await harness.dump(*TABLES) == before


async def test_transfer_out_of_jurisdiction_explains_to_the_deputy(harness: Harness) -> None:
    """§12: receive first, explain, then transfer."""
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("移送")
    await cast.office.say("卢氏县公安局")
    await cast.office.say("该事项属于公安机关管辖范围，我院已依法移送卢氏县公安局处理，请您理解。")
    await cast.office.press("确认")
    assert (await matter_row(harness))["state"] == "transferred"
    assert "卢氏县公安局" in cast.deputy.last and "请您理解" in cast.deputy.last


async def test_cannot_be_met_is_explained_and_counts_as_the_reply(harness: Harness) -> None:
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("无法满足")
    await cast.office.say(REPLY_BODY)
    await cast.office.say(GROUNDS)
    assert messages(await cast.office.press("确认"))[0] == "说明已发送给代表委员。"
    assert (await matter_row(harness))["state"] == "replied"
    assert cast.deputy.last_buttons() == ["满意", "基本满意", "不满意"]


async def test_state_changes_out_of_order_are_refused_and_change_nothing(harness: Harness) -> None:
    cast = await Cast.replied(harness)
    await cast.deputy.press("满意")
    await cast.deputy.press("不补充意见")
    before = await harness.dump(*TABLES)
    # an old rating button, a second conclusion, an old approval
    again = await cast.deputy.press("不满意")
    assert [r.payload["text"] for r in again if r.op == "answer"] == ["该答复已评价过，或不是最新的答复。"]
    concluded = await cast.handler2.press_data("act:1:conclude")
    assert [r.payload["text"] for r in concluded if r.op == "answer"][0].startswith("事项 LS-2026-0001 当前状态为")
    approve = await cast.office.press_data("act:1:approve_reply")
    assert [r.payload["text"] for r in approve if r.op == "answer"] == ["该事项没有等待您审批的答复。"]
    assert await harness.dump(*TABLES) == before


async def test_a_reply_carries_its_files_and_records_how_it_was_given(harness: Harness) -> None:
    """§7: every reply can carry attachments; a reply given on paper is recorded as such."""
    cast = await concluded_and_drafting_a_reply(harness, "书面答复")
    h = cast.handler2
    await h.send_file(b"%PDF-1.4 decision", "复查决定书.pdf")
    await h.say(REPLY_BODY)
    await h.say(GROUNDS)
    await h.press("确认")
    await cast.approve()
    reply = [s for s in cast.deputy.received if s.op == "message"][-1]
    assert [f[1] for f in reply.payload["files"]] == ["复查决定书.pdf"]
    assert "此答复同时以书面答复形式作出。" in reply.text
    async with harness.db.snapshot() as q:
        assert tuple(await q.one("SELECT via, state FROM replies")) == ("paper", "sent")
        assert await q.scalar("SELECT COUNT(*) FROM attachments WHERE reply_id IS NOT NULL") == 1


async def test_a_reply_refuses_a_file_too_large_or_one_too_many_and_keeps_the_rest(harness: Harness) -> None:
    """The same limits as a deputy's attachments ([intake] max_file_mb, max_attachments), the same words."""
    cast = await concluded_and_drafting_a_reply(harness, "网上答复")
    h = cast.handler2
    await h.send_file(b"%PDF-1.4 decision", "复查决定书.pdf")
    before = await harness.dump(*TABLES)
    refused = await h.send_file(b"big", "录像.mp4", size=21 * 1024 * 1024, error="too_large")
    assert refused[-1].text == "文件“录像.mp4”过大，每个文件不能超过 20 MB。"
    assert await harness.dump(*TABLES) == before
    for n in range(harness.app.config.intake.max_attachments - 1):
        await h.send_file(b"%PDF-1.4 more", f"附件{n}.pdf")
    full = await harness.dump(*TABLES)
    refused = await h.send_file(b"%PDF-1.4 one more", "多余.pdf")
    assert refused[-1].text == "最多可附 10 个文件。"
    assert await harness.dump(*TABLES) == full != before


async def test_s13_joint_on_site_supervision_is_recorded_by_discipline(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    d = cast.discipline
    await d.say("/case LS-2026-0001")
    await d.press("联合现场督办")
    await d.say("孙磊（纪检监察）、陈静（办公室）、王芳（第二检察部）")
    await d.say("案卷材料齐全，要求一周内完成复查。")
    await d.press("确认")
    card = await d.say("/case LS-2026-0001")
    assert "联合现场督办" in card[0].text and "要求一周内完成复查" in card[0].text
    assert "要求一周内完成复查" in cast.handler2.last
    assert not any("要求一周内完成复查" in t.text for t in cast.deputy.received)  # internal
    before = await harness.dump(*TABLES[:-1])
    refused = await cast.handler2.press_data("act:1:onsite")
    assert [r.payload["text"] for r in refused if r.op == "answer"] == ["您无权对该事项进行此项操作。"]
    assert await harness.dump(*TABLES[:-1]) == before


async def test_a_forged_change_of_a_step_is_stale_and_changes_nothing(harness: Harness) -> None:
    """§14: on a reply's check, "change" names one of the dialogue's steps; a step past them, or data naming
    none, pressed with the dialogue's own nonce, gets the stale answer and the draft stays as it was."""
    cast = await concluded_and_drafting_a_reply(harness, via="网上答复")
    h = cast.handler2
    await h.say(REPLY_BODY)
    await h.say(GROUNDS)
    assert "修改办理结果" in h.last_buttons()
    await refuses_forged_choices(harness, h, ("change99", "change", "changex", "change-1", "change１"), TABLES)
    await h.press("确认")
    assert await harness.count("replies") == 1
