"""Seed §12-§14 (issue 16 §3): the assignment slip 交办单 a department receives with a matter, drawn on
request from the matter's card: its number, subject, representative, a summary of its content, the due
date, the urger, the regulation's requirements, space for the office's note and lines to sign; the
complainant of a referred case only for those who may see him (SPEC §1); refused, changing nothing, to
those who may not see the card, and before the matter has a department."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import docx

from bot.model import UnitScope
from handlers.reports.measures import Satisfaction, satisfaction
from storage import reports
from tests.cast import GROUNDS, REPLY_BODY, TABLES, Cast
from tests.fakes import Harness, Sent


def slip_of(sent: list[Sent]) -> tuple[str, list[str], list[list[str]]]:
    """The slip's file name, its paragraphs and the rows of its form (merged cells read once)."""
    files = [f for s in sent for f in s.payload.get("files") or []]
    assert len(files) == 1
    document = docx.Document(io.BytesIO(Path(files[0][0]).read_bytes()))
    rows = [list(dict.fromkeys(c.text for c in row.cells)) for row in document.tables[0].rows]
    return files[0][1], [p.text for p in document.paragraphs if p.text], rows


async def test_the_office_and_the_department_draw_the_assignment_slip_from_the_card(harness: Harness) -> None:
    """§12-§14: the slip of an assigned appeal, from the card's 交办单 button, to whoever pressed it; the
    complainant named for the office and the handling department."""
    cast = await Cast.assigned(harness)
    for user in (cast.office, cast.handler2):
        await user.say("/case LS-2026-0001")
        assert "交办单" in user.last_buttons()
        sent = await user.press("交办单")
        assert [s.text for s in sent if s.op == "message"] == ["LS-2026-0001的交办单，请打印后签字交办。"]
        name, paragraphs, rows = slip_of(sent)
        assert name == "LS-2026-0001交办单.docx"
        assert paragraphs[0] == "卢氏县人民检察院\n代表委员建议、批评、意见及转交案件交办单"  # broken between words
        assert rows[0] == ["编号", "LS-2026-0001", "登记日期", "2026年11月27日"]
        assert rows[1] == ["代表委员", "王建国（人大代表）", "类别", "申诉"]
        assert rows[2] == ["事由", "不服不起诉决定"] and rows[3] == ["内容摘要", "当事人认为不起诉决定认定事实有误。"]
        assert rows[4] == ["当事人", "李四　13900002222"]
        assert rows[5] == ["承办部门", "第二检察部", "催办人", "陈静"]
        assert rows[6] == ["办理期限", "2027年2月27日", "重大疑难复杂", "否"]
        assert rows[7][0] == "办理要求" and \
            "（《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十二条、第十四条）" in rows[7][1]
        assert rows[8][0] == "交办意见"
        assert rows[9:] == [["交办人", "", "交办日期", "　　　年　　月　　日"],
                            ["承办部门\n签收人", "", "签收日期", "　　　年　　月　　日"]]  # to sign by hand
        assert paragraphs[-1] == "（卢氏县人民检察院办公室2026年11月27日制）"
    async with harness.db.snapshot() as q:
        drawn = await q.all("SELECT action FROM audit_log WHERE action = 'slip_drawn'")
    assert len(drawn) == 2


async def test_a_leader_gets_the_slip_without_the_complainant(harness: Harness) -> None:
    """SPEC §1: a leader sees the card but not the complainant of a referred case: nor on the slip."""
    cast = await Cast.assigned(harness)
    await cast.leader.say("/case LS-2026-0001")
    _name, _paragraphs, rows = slip_of(await cast.leader.press("交办单"))
    assert rows[4] == ["当事人", "（依规定仅办公室、承办部门和纪检监察部门可见，请在案件卡片中查看）"]
    assert "李四" not in str(rows) and "13900002222" not in str(rows)


async def test_no_slip_before_assignment_nor_for_those_who_may_not_see_the_card(harness: Harness) -> None:
    """Refusals change nothing: a registered matter has no slip (no button, and a forged press is refused);
    another department's handler is answered as for a matter that does not exist."""
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    assert "交办单" not in cast.office.last_buttons()
    before = await harness.dump(*TABLES)
    sent = await cast.office.press_data("case:1:slip")
    assert [s.text for s in sent if s.op == "message"] == ["LS-2026-0001 尚未交办，暂无交办单。"]
    assert await harness.dump(*TABLES) == before
    await cast.assign()
    before = await harness.dump("matters", "replies", "timeline", "dialogs")
    sent = await cast.handler1.press_data("case:1:slip")
    assert [s.text for s in sent if s.op == "message"] == ["未找到该事项。"]
    assert not [f for s in sent for f in s.payload.get("files") or []]
    assert await harness.dump("matters", "replies", "timeline", "dialogs") == before
    stale = await cast.office.press_data("case:1:print")
    assert [s.payload["text"] for s in stale if s.op == "answer"] == ["此选项已失效。"]


async def replied_on_paper(harness: Harness) -> Cast:
    """The appeal, concluded by the second department, answered on paper, approved by the office."""
    cast = await Cast.assigned(harness)
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("办结")
    await h.press("A类：已解决或基本解决")
    await h.press("起草答复")
    await h.press("书面答复")
    await h.say(REPLY_BODY)
    await h.say(GROUNDS)
    await h.press("确认")
    await cast.approve()
    return cast


async def test_the_reply_letter_and_its_feedback_form_for_a_reply_on_paper(harness: Harness) -> None:
    """Seed §7 (feedback in writing), SPEC §4: the office prints the letter answering the deputy — the outcome,
    its grounds, the unit centred over the date — and, on its own page, the 征询意见表 to return."""
    cast = await replied_on_paper(harness)
    await cast.office.say("/case LS-2026-0001")
    assert "答复函" in cast.office.last_buttons()
    sent = await cast.office.press("答复函")
    assert [s.text for s in sent if s.op == "message"] == ["LS-2026-0001的答复函及意见征询表，请打印、盖章后送达代表委员。"]
    files = [f for s in sent for f in s.payload.get("files") or []]
    assert [f[1] for f in files] == ["LS-2026-0001答复函.docx"]
    document = docx.Document(io.BytesIO(Path(files[0][0]).read_bytes()))
    paragraphs = [p for p in document.paragraphs if p.text]
    texts = [p.text for p in paragraphs]
    assert texts[0] == "卢氏县人民检察院关于对\n王建国代表转交的申诉的答复"
    assert texts[1] == "王建国代表："
    assert texts[2] == ("您转交的申诉“不服不起诉决定”（编号LS-2026-0001）收悉。我院高度重视，交由第二检察部承办，"
                        "现将办理情况答复如下：")
    assert REPLY_BODY in texts and "理由和依据：" + GROUNDS in texts
    assert texts[texts.index("卢氏县人民检察院"):texts.index("卢氏县人民检察院") + 2] == ["卢氏县人民检察院", "2026年11月27日"]
    form_title = next(p for p in paragraphs if p.text.startswith("代表委员对办理答复的"))
    assert form_title.paragraph_format.page_break_before  # the form on a page of its own
    rows = [list(dict.fromkeys(c.text for c in row.cells)) for row in document.tables[0].rows]
    assert rows[0] == ["编号", "LS-2026-0001", "答复日期", "2026年11月27日"]
    assert rows[3] == ["办理结果\n评价", "□ 满意　　　　□ 基本满意　　　　□ 不满意"]
    assert rows[4][0] == "意见和建议" and rows[5][0] == "代表委员\n签名"
    assert "李四" not in "\n".join(texts)  # no complainant on what goes to the deputy


async def test_no_letter_for_a_reply_given_here_and_none_for_the_department(harness: Harness) -> None:
    """The letter is the office's, and only for a reply given on paper; refusals change nothing."""
    cast = await Cast.replied(harness)  # answered here, in chat
    await cast.office.say("/case LS-2026-0001")
    assert "答复函" not in cast.office.last_buttons()
    before = await harness.dump(*TABLES)
    sent = await cast.office.press_data("case:1:letter")
    assert [s.text for s in sent if s.op == "message"] == ["LS-2026-0001没有书面答复，无需打印答复函。"]
    assert await harness.dump(*TABLES) == before


async def test_the_department_may_not_draw_the_reply_letter(harness: Harness) -> None:
    cast = await replied_on_paper(harness)
    await cast.handler2.say("/case LS-2026-0001")
    assert "答复函" not in cast.handler2.last_buttons()
    before = await harness.dump("matters", "replies", "timeline", "dialogs")
    sent = await cast.handler2.press_data("case:1:letter")
    assert [s.text for s in sent if s.op == "message"] == ["您无权对该事项进行此项操作。"]
    assert not [f for s in sent for f in s.payload.get("files") or []]
    assert await harness.dump("matters", "replies", "timeline", "dialogs") == before


# -- the returned 征询意见表 -------------------------------------------------------------------------


async def rating_figures(harness: Harness) -> tuple[Satisfaction, dict[int | None, int]]:
    """The satisfaction of the replies sent, and the 不满意 given, this year: as every paper counts them."""
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    async with harness.db.snapshot() as q:
        return satisfaction(await reports.ratings(q, UnitScope.of(1), start, end)), await reports.dissatisfied(q, UnitScope.of(1), start, end)


async def test_the_returned_feedback_form_counts_as_the_deputys_rating_and_dissatisfied_reopens(
        harness: Harness) -> None:
    """§14, seed §7: the office records the 征询意见表 returned for a reply on paper, from the card; 不满意 reopens
    the matter exactly as the button would (a new due date, office and discipline alerted, the department told),
    the deputy is told as for a rating by button, and the figures count it."""
    cast = await replied_on_paper(harness)
    assert (await rating_figures(harness))[0].unrated == 1
    office = cast.office
    await office.say("/case LS-2026-0001")
    assert "录入意见征询表" in office.last_buttons()
    await office.press("录入意见征询表")
    assert office.last == "LS-2026-0001寄回的意见征询表中，勾选的评价是："
    assert office.last_buttons()[:3] == ["满意", "基本满意", "不满意"]
    await office.press("不满意")
    assert "未填写意见" in office.last_buttons()
    await office.say("认为不起诉决定的理由未予说明。")
    assert "意见和建议：\n认为不起诉决定的理由未予说明。" in office.last
    before = len(cast.deputy.received)
    await office.press("确认")
    assert "已完成。" in [s.text for s in office.received[-3:]]
    async with harness.db.snapshot() as q:
        matter = await q.one("SELECT state, reopened, due_date FROM matters WHERE number = 'LS-2026-0001'")
        reply = await q.one("SELECT rating, rating_note FROM replies WHERE matter_id = 1")
        event = await q.one("SELECT actor_id, detail FROM timeline WHERE event = 'rated_dissatisfied'")
    assert (matter["state"], matter["reopened"], matter["due_date"]) == ("reopened", 1, "2026-12-27")
    assert (reply["rating"], reply["rating_note"]) == ("dissatisfied", "认为不起诉决定的理由未予说明。")
    assert '"on_paper": true' in event["detail"]
    told = [s.text for s in cast.deputy.received[before:]]
    assert told == ["办公室已登记您寄回的LS-2026-0001答复意见征询表，评价为：不满意。\n"
                    "您的事项（LS-2026-0001）将在办公室和纪检监察部门的监督下重新办理，于2026年12月27日前办结，我们将再次答复您。"]
    assert any("不满意" in s.text and "认为不起诉决定的理由未予说明。" in s.text for s in cast.discipline.received)
    assert any("2026年12月27日" in s.text for s in cast.handler2.received[-2:])
    figures, dissatisfied = await rating_figures(harness)
    assert (figures.dissatisfied, figures.unrated, figures.rated) == (1, 0, 1)
    assert sum(dissatisfied.values()) == 1  # 因不满意重新办理
    await office.say("/case LS-2026-0001")
    assert "录入意见征询表" not in office.last_buttons()


async def test_an_english_speaking_office_records_a_satisfied_form_without_comment(harness: Harness) -> None:
    """§14: 满意 on the returned form closes the matter as the button would; the office works in English, the
    deputy is told in Chinese."""
    cast = Cast(harness, lang="en")
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("Assign")
    await cast.office.press("第二检察部")
    await cast.office.press("陈静")
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("Conclude")
    await h.press("A: resolved or basically resolved")
    await h.press("Draft reply")
    await h.press("on paper")
    await h.say(REPLY_BODY)
    await h.say(GROUNDS)
    await h.press("Confirm")
    await cast.approve(label="Approve reply")
    office = cast.office
    await office.say("/case LS-2026-0001")
    await office.press("Record the returned form")
    assert office.last == "The feedback form returned for LS-2026-0001: which rating is ticked?"
    await office.press("Satisfied")
    await office.press("No comments on the form")
    assert "Comments on the form:\n(none)" in office.last
    before = len(cast.deputy.received)
    await office.press("Confirm")
    async with harness.db.snapshot() as q:
        state = await q.scalar("SELECT state FROM matters WHERE id = 1")
        reply = await q.one("SELECT rating, rating_note FROM replies WHERE matter_id = 1")
    assert state == "closed" and (reply["rating"], reply["rating_note"]) == ("satisfied", None)
    assert [s.text for s in cast.deputy.received[before:]] == [
        "办公室已登记您寄回的LS-2026-0001答复意见征询表，评价为：满意。\n感谢您的评价和监督。"]
    assert (await rating_figures(harness))[0].satisfied == 1


async def test_a_form_is_refused_when_rated_already_not_on_paper_or_not_the_office(harness: Harness) -> None:
    """§14: refusals change nothing — a reply given here (its rating is the deputy's button), a reply rated
    already, and anyone but the office."""
    cast = await Cast.replied(harness)  # answered here, in chat
    await cast.office.say("/case LS-2026-0001")
    assert "录入意见征询表" not in cast.office.last_buttons()
    before = await harness.dump(*TABLES)
    sent = await cast.office.press_data("act:1:record_rating")
    assert [s.text for s in sent if s.op == "message"] == ["LS-2026-0001没有书面答复，无需录入意见征询表。"]
    assert await harness.dump(*TABLES) == before


async def test_a_form_is_refused_once_rated_and_for_the_department(harness: Harness) -> None:
    cast = await replied_on_paper(harness)
    before = await harness.dump("matters", "replies", "timeline", "dialogs")
    sent = await cast.handler2.press_data("act:1:record_rating")
    assert [s.text for s in sent if s.op == "message"] == ["您无权对该事项进行此项操作。"]
    assert await harness.dump("matters", "replies", "timeline", "dialogs") == before  # the refusal only audited
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("录入意见征询表")
    await cast.office.press("满意")
    await cast.deputy.press("基本满意")  # the deputy rates by button meanwhile (the letter's reply came here too)
    await cast.deputy.press("不补充意见")
    await cast.office.press("未填写意见")
    before = await harness.dump(*TABLES)
    sent = await cast.office.press("确认")
    assert "LS-2026-0001的最近一次答复已评价，不能再录入意见征询表。" in [s.text for s in sent if s.op == "message"]
    after = await harness.dump(*TABLES)
    assert {t: after[t] for t in TABLES if t != "dialogs"} == {t: before[t] for t in TABLES if t != "dialogs"}
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT rating FROM replies WHERE matter_id = 1") == "basically"
    await cast.office.say("/case LS-2026-0001")
    assert "录入意见征询表" not in cast.office.last_buttons()
    before = await harness.dump(*TABLES)
    sent = await cast.office.press_data("act:1:record_rating")
    assert [s.text for s in sent if s.op == "message"] == ["LS-2026-0001的最近一次答复已评价，不能再录入意见征询表。"]
    assert await harness.dump(*TABLES) == before


# -- the 交办单 sent with an assignment -----------------------------------------------------------


def slip_files(sent: list[Sent]) -> list[tuple[str, str]]:
    return [(f[0], f[1]) for s in sent for f in s.payload.get("files") or []]


async def test_the_department_receives_the_slip_with_the_assignment_and_the_reassignment(harness: Harness) -> None:
    """§12-§14: on assignment the department's handler receives the 交办单 with the notice, in the same message
    (queued in the assignment's transaction); the urger and other departments have the notice alone or
    nothing. On re-assignment the new department receives the slip naming itself; the old one, none."""
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    h1, h2 = len(cast.handler1.received), len(cast.handler2.received)
    await cast.assign()
    notice = [s for s in cast.handler2.received[h2:] if s.op == "message"]
    assert len(notice) == 1 and notice[0].text.endswith("随附交办单，请打印后签收。")
    assert notice[0].text.startswith("已交办\nLS-2026-0001（申诉）已交由第二检察部承办")
    name, _paragraphs, rows = slip_of(notice)
    assert name == "LS-2026-0001交办单.docx"
    assert rows[4] == ["当事人", "李四　13900002222"]  # the department may see the complainant (SPEC §1)
    assert rows[5] == ["承办部门", "第二检察部", "催办人", "陈静"]
    assert not slip_files(cast.handler1.received[h1:]) and not slip_files(cast.office.received[-3:])
    async with harness.db.snapshot() as q:
        queued = await q.all("SELECT payload, matter_id FROM outbox WHERE person_id = (SELECT person_id FROM"
                             " identities WHERE external_id = '4002')")
    files = [(f[1], r["matter_id"]) for r in queued for f in json.loads(r["payload"]).get("files") or []]
    assert files == [("LS-2026-0001交办单.docx", 1)]
    h1, h2 = len(cast.handler1.received), len(cast.handler2.received)
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("改派")
    await cast.office.press("第一检察部")
    await cast.office.press("陈静")
    await cast.office.say("经审查，该申诉涉及的原案由第一检察部办理更为适宜。")
    await cast.office.press("确认")
    _name, _paragraphs, rows = slip_of([s for s in cast.handler1.received[h1:] if s.op == "message"])
    assert rows[5] == ["承办部门", "第一检察部", "催办人", "陈静"]
    assert not slip_files(cast.handler2.received[h2:])


async def test_a_refused_assignment_sends_no_slip(harness: Harness) -> None:
    """§14: an appeal disputing the second department's handling is refused to it: nothing changes, no slip."""
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal(disputed_dept="第二检察部")
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("交办")
    before = await harness.dump(*TABLES, "outbox")
    await cast.office.press("第二检察部")
    after = await harness.dump(*TABLES, "outbox")
    assert after["matters"] == before["matters"] and after["audit_log"] == before["audit_log"]
    assert not [row for row in after["outbox"] if "交办单" in str(row)]
