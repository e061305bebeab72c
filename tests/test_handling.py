"""Issue 12 §2: the handling gaps a walk through the console found, each as a dialogue (seed §7, §12-§14).

Re-assignment 改派 and departments nobody uses (§13, §14); cannot-be-met takes a reply's approvals
(§12, §14); a value is checked when it is given and only it is asked again; a refused action leaves
nothing open; §14's outcome and grounds each against its own minimum; reopening after 不满意 announced
(§14); everyone the matter was assigned to hears of what ends their work; a reply's files at any step
(§7). Every refusal is checked to change nothing.
"""

from __future__ import annotations

from dataclasses import replace

from storage import dialogs
from tests.cast import GROUNDS, REPLY_BODY, TABLES, Cast, concluded_and_drafting_a_reply, matter_row, messages
from tests.fakes import Harness, Sent

EXPLANATION = "该事项属于公安机关管辖范围，我院已依法移送卢氏县公安局处理，请您理解。"


def labels(sent: Sent) -> list[str]:
    return [label for label, _ in sent.buttons]


async def timeline(harness: Harness) -> list[tuple[str, int]]:
    async with harness.db.snapshot() as q:
        return [(r["event"], r["public"]) for r in await q.all("SELECT event, public FROM timeline ORDER BY id")]


async def open_dialogs(harness: Harness) -> int:
    return await harness.count("dialogs")


def casework_config(harness: Harness, **changes: object) -> None:
    """Run on with [casework] keys changed, as a config.toml would set them."""
    app = harness.app
    app.config = replace(app.config, casework=replace(app.config.casework, **changes))  # type: ignore[arg-type]
    app.processor.config = app.config


async def submitted(harness: Harness, disputed_dept: str | None = None) -> Cast:
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal(disputed_dept)
    return cast


# -- 1. a department nobody uses; re-assignment 改派 -------------------------------------------


async def test_a_department_nobody_uses_is_marked_and_refused_with_the_reason(harness: Harness) -> None:
    """§13: a matter assigned where no handler uses the service would wait in silence (nobody told, nobody
    able to act): the department is marked in the list and refused with the reason; the office chooses again."""
    cast = await submitted(harness)
    await harness.add_staff("赵强", ["handler"], "第三检察部")  # on the staff list, never bound to a chat
    await cast.office.say("/case LS-2026-0001")
    offer = await cast.office.press("交办")
    assert labels(offer[-1]) == ["第一检察部", "第二检察部", "第三检察部（暂无承办人）", "取消"]
    before = await harness.dump(*TABLES)
    refused = messages(await cast.office.press("第三检察部（暂无承办人）"))
    assert refused[0] == ("第三检察部目前没有使用本平台的承办人：交办后无人收到 LS-2026-0001 的通知，也无人能够办理。"
                          "请另选部门，或联系系统管理员为第三检察部添加承办人并发送邀请。")
    assert refused[1] == "请选择 LS-2026-0001 的承办部门："  # asked again, where it was
    assert await harness.dump(*TABLES) == before
    await cast.office.press("第一检察部")
    await cast.office.press("陈静")
    row = await matter_row(harness)
    assert (row["state"], row["department_id"]) == ("assigned", cast.dept1)


async def test_assigning_is_refused_on_the_press_when_no_department_may_take_it(harness: Harness) -> None:
    clerk_id = await harness.add_staff("陈静", ["office"])
    await harness.add_staff("赵强", ["handler"], "第三检察部")  # the only department, and nobody bound there
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(await harness.add_representative('王建国'))}")
    await deputy.say("/submit")
    await deputy.press("建议")
    await deputy.say("村口增设减速带")
    await deputy.say("建议在村口增设减速带。")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.press("确认提交")
    await clerk.say("/case LS-2026-0001")
    before = await harness.dump(*TABLES)
    refused = messages(await clerk.press("交办"))
    assert refused == ["目前没有可以承办 LS-2026-0001 的部门：各部门均没有使用本平台的承办人，或依《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条不能承办。"
                       "请联系系统管理员为部门添加承办人并发送邀请。"]
    assert await harness.dump(*TABLES) == before
    assert await open_dialogs(harness) == 0


async def test_the_office_reassigns_an_unconcluded_matter_and_everyone_concerned_is_told(harness: Harness) -> None:
    """改派 (§13): the old and the new department, the urger and the deputy are told; the timeline records it;
    the due date runs on unchanged; the old department no longer sees the matter."""
    cast = await Cast.assigned(harness)  # to the second department
    await cast.handler2.say("/case LS-2026-0001")
    await cast.handler2.press("进展")
    await cast.handler2.say("已调阅案卷。")
    await cast.handler2.press("否，仅内部记录")
    due = (await matter_row(harness))["due_date"]
    card = await cast.office.say("/case LS-2026-0001")
    assert "改派" in labels(card[0])
    offer = await cast.office.press("改派")
    assert messages(offer) == ["LS-2026-0001 现由第二检察部承办，请选择改派的部门。办理期限仍为2027年2月27日，不重新计算。"]
    assert labels(offer[-1]) == ["第一检察部", "取消"]  # not the department that has it
    await cast.office.press("第一检察部")
    await cast.office.press("陈静")
    screen = await cast.office.say("经审查，该申诉涉及的原案由第一检察部办理更为适宜。")
    assert screen[-1].text == ("请核对\n改派 · LS-2026-0001\n承办部门：第一检察部\n催办人：陈静\n\n理由：\n"
                               "经审查，该申诉涉及的原案由第一检察部办理更为适宜。")
    await cast.office.press("确认")
    row = await matter_row(harness)
    assert (row["state"], row["department_id"], row["due_date"]) == ("assigned", cast.dept1, due)
    assert ("reassigned", 1) in await timeline(harness)
    assert cast.deputy.last == "进展\n您转交的申诉（LS-2026-0001）已改由第一检察部承办，办理期限不变。"
    assert cast.handler1.last == ("已改派\nLS-2026-0001（申诉）已由第二检察部改派第一检察部承办；催办人：陈静。"
                                  "理由：经审查，该申诉涉及的原案由第一检察部办理更为适宜。\n办理期限不变，仍为2027年2月27日。\n"
                                  "随附交办单，请打印后签收。")
    assert cast.handler2.last == ("已改派\n办公室已将 LS-2026-0001 由第二检察部改派第一检察部承办。"
                                  "理由：经审查，该申诉涉及的原案由第一检察部办理更为适宜。\n"
                                  "你部门对该事项的办理工作到此结束，如有相关材料请及时移交。")
    assert messages(await cast.handler2.say("/case LS-2026-0001")) == ["未找到该事项。"]
    card = await cast.handler1.say("/case LS-2026-0001")
    assert "已改派其他部门承办：经审查" in card[0].text and "进展" in labels(card[0])


async def test_s14_applies_again_on_reassignment(harness: Harness) -> None:
    """§14: an appeal disputing the first department's handling cannot be re-assigned to it either."""
    cast = await submitted(harness, disputed_dept="第一检察部")
    third = harness.user("4003")
    await third.say(f"/start {await harness.invite(await harness.add_staff('赵强', ['handler'], '第三检察部'))}")
    await cast.assign(dept="第二检察部")
    await cast.office.say("/case LS-2026-0001")
    offer = await cast.office.press("改派")
    assert labels(offer[-1]) == ["第一检察部", "第三检察部", "取消"]
    before = await harness.dump(*TABLES)
    refused = messages(await cast.office.press("第一检察部"))
    assert refused[0].startswith("根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条，该申诉系对第一检察部的处理不服")
    assert refused[1].startswith("LS-2026-0001 现由第二检察部承办")  # asked again
    assert await harness.dump(*TABLES) == before


async def test_a_concluded_matter_is_not_reassigned(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    await cast.handler2.say("/case LS-2026-0001")
    await cast.handler2.press("办结")
    await cast.handler2.press("A类：已解决或基本解决")
    card = await cast.office.say("/case LS-2026-0001")
    assert "改派" not in labels(card[0])
    before = await harness.dump(*TABLES)
    refused = await cast.office.press_data("act:1:reassign")
    assert [r.payload["text"] for r in refused if r.op == "answer"] == [
        "事项 LS-2026-0001 当前状态为“已办结待答复”，此阶段不能进行该操作。"]
    assert await harness.dump(*TABLES) == before


async def test_reassignment_in_english(harness: Harness) -> None:
    cast = Cast(harness, lang="en")
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("Assign")
    await cast.office.press("第二检察部")
    await cast.office.press("陈静")
    await cast.office.say("/case LS-2026-0001")
    offer = await cast.office.press("Re-assign")
    assert messages(offer) == ["Re-assign LS-2026-0001, now with 第二检察部, to which department? Its due date, "
                               "February 27, 2027, stays as it is."]
    await cast.office.press("第一检察部")
    await cast.office.press("陈静")
    screen = await cast.office.say("The first department handled the original case more closely.")
    assert screen[-1].text.startswith("Please check\nRe-assign · LS-2026-0001\nDepartment: 第一检察部\nUrger: 陈静")
    assert labels(screen[-1]) == ["Confirm", "Cancel", "Change: Department", "Change: Urger", "Change: Reason"]
    await cast.office.press("Confirm")
    assert cast.handler2.last.startswith("Re-assigned\nThe office has re-assigned LS-2026-0001 from 第二检察部 to "
                                         "第一检察部.")


# -- 2. cannot be met: a reply, with a reply's approvals ----------------------------------------


async def test_cannot_be_met_on_a_major_matter_waits_for_a_leader_like_a_reply(harness: Harness) -> None:
    """§12, §14: the explanation is the reply; with leader_approves_major a major matter's goes to a leader
    first, and only then to the deputy; the department hears that its work ends when it is sent."""
    cast = await submitted(harness)
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("标记重大疑难复杂")
    await cast.assign()
    received = len(cast.deputy.received)
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("无法满足")
    await cast.office.say(REPLY_BODY)
    await cast.office.say(GROUNDS)
    done = await cast.office.press("确认")
    assert messages(done)[0] == "该事项为重大疑难复杂事项：说明须经院领导审批，审批通过后再发送给代表委员。"
    assert len(cast.deputy.received) == received  # nothing yet
    assert (await matter_row(harness))["state"] == "assigned"
    async with harness.db.snapshot() as q:
        assert tuple(await q.one("SELECT kind, state FROM replies")) == ("cannot_meet", "awaiting_leader")
    assert cast.leader.last.startswith("待审批的答复\nLS-2026-0001")
    # a second explanation, or a draft, while this one waits: refused on the press, nothing changed
    before = await harness.dump(*TABLES)
    await cast.office.say("/case LS-2026-0001")
    assert messages(await cast.office.press("无法满足")) == ["该事项已有答复正在等待审批。"]
    assert await harness.dump(*TABLES) == before
    await cast.approve(cast.leader)
    assert cast.deputy.last.startswith("答复\n关于您转交的申诉“不服不起诉决定”（LS-2026-0001）的答复")
    assert cast.deputy.last_buttons() == ["满意", "基本满意", "不满意"]
    assert (await matter_row(harness))["state"] == "replied"
    assert cast.handler2.last == ("无法满足\n办公室已向代表委员说明 LS-2026-0001 的要求无法满足，该说明即为答复。"
                                  "你部门对该事项的办理工作到此结束。")
    assert "已审批通过" in cast.office.last  # the clerk who wrote it (and urges it) hears it went out, once
    assert [e for e, _ in await timeline(harness)][-2:] == ["reply_to_leader", "cannot_meet"]


async def test_cannot_be_met_goes_straight_out_when_leaders_need_not_approve(harness: Harness) -> None:
    casework_config(harness, leader_approves_major=False)
    cast = await submitted(harness)
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("标记重大疑难复杂")
    await cast.office.press("无法满足")
    await cast.office.say(REPLY_BODY)
    await cast.office.say(GROUNDS)
    await cast.office.press("确认")
    assert cast.deputy.last.startswith("答复\n")
    assert (await matter_row(harness))["state"] == "replied"


# -- 3, 8. each value checked when given; a confirm that cannot succeed is not kept ---------------


async def test_a_too_short_transfer_explanation_is_asked_for_again_alone(harness: Harness) -> None:
    """Issue 12 §2.3: "太短" is refused when it is typed, naming the minimum; only the explanation is asked
    again (the authority is kept); the confirm screen offers to change either; the department and the urger
    hear that their work ends (§2.8)."""
    cast = await submitted(harness)
    clerk_id = await harness.add_staff("李娜", ["office"])
    clerk = harness.user("3002")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("交办")
    await cast.office.press("第二检察部")
    await cast.office.press("李娜")  # another clerk urges it
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("移送")
    await cast.office.say("卢氏县公安局")
    before = await harness.dump(*TABLES)
    refused = await cast.office.say("太短")
    assert messages(refused)[0] == "请向代表委员说明不属于本院管辖的原因，不少于 20 个字；现有 2 个字。"
    assert messages(refused)[1].startswith("请填写向代表委员的说明：为何不属于本院管辖，将移送何处（不少于 20 个字）。")
    assert labels(refused[-1]) == ["修改主管机关", "取消"]
    assert await harness.dump(*TABLES) == before
    first = "该事项属于公安机关管辖，不属于本院管辖范围。"
    screen = await cast.office.say(first)
    assert screen[-1].text == ("请核对\n移送 · LS-2026-0001\n\n主管机关：\n卢氏县公安局\n\n向代表委员的说明：\n"
                               + first)
    changing = await cast.office.press("修改向代表委员的说明")
    assert changing[-1].text.endswith("当前内容：\n" + first)
    screen = await cast.office.say(EXPLANATION)
    assert screen[-1].text.endswith("向代表委员的说明：\n" + EXPLANATION)
    await cast.office.press("确认")
    row = await matter_row(harness)
    assert (row["state"], row["transferred_to"]) == ("transferred", "卢氏县公安局")
    assert EXPLANATION in cast.deputy.last
    ended = ("已移送\nLS-2026-0001 不属于本院管辖，办公室已将其移送卢氏县公安局，并已向代表委员说明。"
             "你部门对该事项的办理工作到此结束。")
    assert cast.handler2.last == ended and clerk.last == ended
    assert not any("卢氏县公安局" in s.text for s in cast.handler1.received)  # the other department hears nothing


async def test_a_confirm_that_can_no_longer_succeed_ends_the_dialogue_with_the_reason(harness: Harness) -> None:
    """The department began handling while the office was writing the transfer: the confirm is refused with
    the reason, nothing changes, and the office is not left on that screen (its next command works)."""
    cast = await Cast.assigned(harness)
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("移送")
    await cast.office.say("卢氏县公安局")
    await cast.office.say(EXPLANATION)
    await cast.handler2.say("/case LS-2026-0001")
    await cast.handler2.press("进展")
    await cast.handler2.say("已调阅案卷。")
    await cast.handler2.press("是，发送")
    kept = tuple(t for t in TABLES if t != "dialogs")
    before = await harness.dump(*kept)
    refused = await cast.office.press("确认")
    assert messages(refused) == ["事项 LS-2026-0001 当前状态为“办理中”，此阶段不能进行该操作。"]
    assert await harness.dump(*kept) == before
    assert await open_dialogs(harness) == 0
    card = await cast.office.say("/case LS-2026-0001")
    assert card[0].text.startswith("LS-2026-0001\n申诉 · 办理中")


# -- 4. refused before anything is asked for ----------------------------------------------------


async def test_a_second_extension_is_refused_on_the_press_and_nothing_stays_open(harness: Harness) -> None:
    """Issue 12 §2.4: refused before the reason is typed; /case works at once after."""
    cast = await Cast.assigned(harness)
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("申请延期")
    before = await harness.dump(*TABLES)
    short = await h.say("太短")
    assert messages(short) == ["申请延期的理由过于简略（2 个字），至少需要 10 个字。", "请填写申请延期的理由（不少于 10 个字）。"]
    assert await harness.dump(*TABLES) == before  # asked again, nothing written
    await h.say("需要等待司法鉴定意见。")
    await h.say("/case LS-2026-0001")
    before = await harness.dump(*TABLES)
    refused = await h.press("申请延期")
    assert messages(refused) == ["该事项已有延期申请正在等待审批。"]
    assert await harness.dump(*TABLES) == before
    card = await h.say("/case LS-2026-0001")
    assert card[0].text.startswith("LS-2026-0001\n")


async def test_an_action_pressed_during_another_dialogue_names_it_and_how_to_leave(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    h = cast.handler2
    card = await h.say("/case LS-2026-0001")
    await h.press("申请延期")
    before = await harness.dump(*TABLES)
    pressed = await h.press_data(dict((b, d) for b, d in card[0].buttons)["进展"])
    assert messages(pressed) == ["您还有一项操作尚未完成：LS-2026-0001 的“申请延期”操作。请先完成，或发送 /cancel 退出。",
                                 "请填写申请延期的理由（不少于 10 个字）。"]
    assert await harness.dump(*TABLES) == before
    async with harness.db.transaction() as tx:  # a dialogue opened before actions kept their matter's number
        dialog = await dialogs.load(tx, f"test:{h.chat_id}")
        assert dialog is not None and dialog.data.pop("number") == "LS-2026-0001"
        await dialogs.save(tx, f"test:{h.chat_id}", dialog, harness.clock.now(), new_step=False)
    pressed = await h.press_data(dict((b, d) for b, d in card[0].buttons)["进展"])
    assert messages(pressed)[0] == "您还有一项操作尚未完成：事项的“申请延期”操作。请先完成，或发送 /cancel 退出。"


# -- 5, 10. a reply: each part its own minimum, either corrected; files at any step -------------


async def drafting(harness: Harness) -> Cast:
    return await concluded_and_drafting_a_reply(harness)


async def test_s14_each_part_has_its_configured_minimum_and_either_is_corrected_at_the_confirm(
        harness: Harness) -> None:
    """§14 (casework.min_outcome_chars, min_grounds_chars): the message names the part's minimum; at the
    confirm screen either part is changed alone, without starting over."""
    casework_config(harness, min_outcome_chars=60, min_grounds_chars=30)
    cast = await drafting(harness)
    h = cast.handler2
    await h.press("网上答复")
    before = await harness.dump(*TABLES)
    brief = messages(await h.say("经审查，您反映的问题属实，已督促整改。"))
    assert brief[0] == "根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条，办理结果过于简略（19 个字），至少需要 60 个字。请写明做了哪些工作、结果如何。"
    assert brief[1].startswith("请填写答复：办理结果（不少于 60 个字；连同理由和依据，全文不少于 ")
    assert await harness.dump(*TABLES) == before
    await h.say(REPLY_BODY + "相关整改情况已于十一月底复查确认。")
    grounds = messages(await h.say("依据《土地管理法》办理。"))
    assert grounds[0] == ("根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十四条，答复须写明理由和依据，不少于 30 个字；现有 12 个字。"
                          "请写明所依据的法律、规定或事实。")
    screen = await h.say(GROUNDS)
    assert labels(screen[-1]) == ["确认", "取消", "修改答复方式", "修改办理结果", "修改理由和依据"]
    await h.press("修改理由和依据")
    better = GROUNDS + "整改情况经现场复查属实。"
    screen = await h.say(better)
    assert screen[-1].text.endswith("理由和依据：\n" + better + "\n\n无附件")
    await h.press("确认")
    async with harness.db.snapshot() as q:
        assert tuple(await q.one("SELECT body, grounds, state FROM replies")) == (
            REPLY_BODY + "相关整改情况已于十一月底复查确认。", better, "draft")


async def test_s14_the_outcome_minimum_is_named_in_english(harness: Harness) -> None:
    cast = Cast(harness, lang="en")
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("Cannot be met")
    refused = messages(await cast.office.say("Cannot be done."))
    assert refused[0] == ("Under Article 14 of the Measures of the Lushi County Procuratorate for Strengthening Liaison with NPC Deputies and CPPCC Members (Provisional), the statement of the outcome is too brief: 15 characters, at least 20 are needed. "
                          "Please say what was done, and with what result.")
    assert refused[1].startswith("Please write the explanation for the representative: what cannot be done, patiently "
                                 "and clearly (at least 20 characters; with the grounds, at least 80 in all).")


async def test_a_replys_files_are_taken_at_any_step_and_shown_on_the_confirm_screen(harness: Harness) -> None:
    """§7: every reply can carry attachments: before choosing how it is given, at the grounds, at the confirm."""
    cast = await drafting(harness)
    h = cast.handler2
    first = await h.send_file(b"%PDF-1.4 decision", "复查决定书.pdf")
    assert messages(first) == ["已收到附件（共 1 个）。", "请选择答复方式："]
    await h.press("网上答复")
    await h.say(REPLY_BODY)
    assert messages(await h.send_file(b"%PDF-1.4 receipt", "送达回证.pdf")) == ["已收到附件（共 2 个）。"]
    screen = await h.say(GROUNDS)
    assert screen[-1].text.endswith("附件：复查决定书.pdf、送达回证.pdf")
    again = await h.send_file(b"\x89PNG photo", "现场照片.png", kind="photo")
    assert messages(again)[0] == "已收到附件（共 3 个）。"
    assert again[-1].text.endswith("附件：复查决定书.pdf、送达回证.pdf、现场照片.png")
    await h.press("确认")
    await cast.approve()
    reply = [s for s in cast.deputy.received if s.op == "message"][-1]
    assert [f[1] for f in reply.payload["files"]] == ["复查决定书.pdf", "送达回证.pdf", "现场照片.png"]


# -- 7. reopening, announced --------------------------------------------------------------------


async def test_s14_reopening_tells_the_deputy_the_new_due_date_and_the_department_and_urger(
        harness: Harness) -> None:
    cast = await Cast.replied(harness)
    harness.clock.advance(days=10)
    await cast.deputy.press("不满意")
    told = await cast.deputy.say("答复没有回应我提出的问题。")
    assert messages(told) == ["您的事项（LS-2026-0001）将在办公室和纪检监察部门的监督下重新办理，于2027年1月7日前办结，"
                              "我们将再次答复您。"]
    # the department that handled it hears why: what handling it again has to answer
    assert cast.handler2.last == ("重新办理\n王建国代表对 LS-2026-0001 的答复不满意，该事项须重新办理，于2027年1月7日前办结。"
                                  "办公室将重新交办。\n其意见：答复没有回应我提出的问题。")
    assert "答复没有回应我提出的问题。" in cast.office.last  # the urger, in the office, is alerted with it
    assert [e for e, _ in await timeline(harness)][-2:] == ["rated_dissatisfied", "reopened"]
    card = await cast.office.say("/case LS-2026-0001")
    assert "重新办理，办理期限重新确定：2027年1月7日" in card[0].text
    assert "评价：不满意，重新办理：其意见为“答复没有回应我提出的问题。”" in card[0].text  # on the matter's card, for whoever takes it
    handler_card = await cast.handler2.say("/case LS-2026-0001")
    assert "其意见为“答复没有回应我提出的问题。”" in handler_card[0].text
    listing = await cast.deputy.say("/my")
    opened = await cast.deputy.press_data(listing[-1].buttons[0][1])
    assert "办理期限：2027年1月7日" in opened[-1].text
    assert "重新办理，于2027年1月7日前办结" in opened[-1].text  # their history says by when, as the staff's card does
    # the department that takes it next hears the new due date from the assignment
    await cast.assign(dept="第一检察部")
    assert "办理期限：2027年1月7日" in cast.handler1.last


async def test_the_urger_outside_the_office_alerts_hears_of_the_reopening(harness: Harness) -> None:
    """The urger is told even when no longer among those the office alert reaches (roles change)."""
    cast = await Cast.replied(harness)
    async with harness.db.transaction() as tx:
        urger = await tx.scalar("SELECT urger_id FROM matters")
        await tx.execute("DELETE FROM person_roles WHERE person_id = ? AND role = 'office'", (urger,))
        await tx.execute("INSERT INTO person_roles (person_id, role) VALUES (?, 'leader')", (urger,))
    await cast.deputy.press("不满意")
    await cast.deputy.say("答复没有回应我提出的问题。")
    assert cast.office.last.startswith("重新办理\n王建国代表对 LS-2026-0001 的答复不满意")
