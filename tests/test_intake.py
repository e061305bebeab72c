"""SPEC §3 / seed §3, §7, §12, §14: a representative submits a matter and gets a numbered receipt."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App
from tests.cast import bound_deputy, refuses_forged_choices, submit_suggestion
from tests.fakes import Harness, RecordingChannel, User

TABLES = ("matters", "attachments", "timeline", "counters", "dialogs")


async def test_suggestion_from_start_to_receipt(harness: Harness) -> None:
    """§3 registered one by one: number, timestamp, due date in the receipt (Asia/Shanghai)."""
    deputy = await bound_deputy(harness)
    await submit_suggestion(deputy)
    assert deputy.last.splitlines() == [
        "已登记",
        "感谢您的监督，您提出的建议已登记。",
        "编号：LS-2026-0001",
        "登记时间：2026年11月27日 10:00",  # the harness clock stands at 02:00 UTC
        "办理期限：2027年2月27日",
        "办理进展和答复将在此告知您。发送 /my 可随时查看。",
    ]
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT * FROM matters")
    assert (row["number"], row["kind"], row["state"], row["due_date"]) == (
        "LS-2026-0001", "suggestion", "registered", "2027-02-27")
    assert row["subject"] == "关于乡村道路安全" and row["body"] == "建议在村口增设减速带。"
    assert row["complainant_name"] is None
    assert await harness.count("dialogs") == 0


async def test_text_in_several_messages_is_kept_in_order(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("意见")
    await deputy.say("事由")
    for part in ("第一段。", "第二段。", "第三段。"):
        replies = await deputy.say(part)
    assert "目前共 12 字" in replies[0].text
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT body FROM matters") == "第一段。\n\n第二段。\n\n第三段。"


async def test_referred_report_records_the_complainant_and_a_photo_and_document(harness: Harness) -> None:
    """§12: a referred case carries the complainant's name and contact; attachments kept with SHA-256."""
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("举报")
    await deputy.say("有人非法占用耕地")
    await deputy.say("村民反映某公司占用基本农田建厂。")
    await deputy.press("完成")
    await deputy.send_file(b"\x89PNG fake photo", "photo.jpg", kind="photo")
    await deputy.send_file(b"%PDF-1.4 evidence", "evidence.pdf")
    await deputy.press("附件已发完")
    await deputy.say("张三")
    await deputy.say("13900001111")
    summary = deputy.last
    assert "举报人：张三，联系方式：13900001111" in summary and "附件：2 个" in summary
    await deputy.press("确认提交")
    assert "您转交的举报已登记" in deputy.last
    async with harness.db.snapshot() as q:
        matter = await q.one("SELECT * FROM matters")
        files = await q.all("SELECT kind, name, size, sha256, path FROM attachments ORDER BY id")
    assert matter["kind"] == "report"  # the complainant's data sealed at rest (issue 15, item 5)
    assert matter["complainant_name"].startswith("enc1:") and matter["complainant_contact"].startswith("enc1:")
    sealer = harness.db.sealer
    assert sealer is not None
    assert sealer.open(matter["complainant_name"], "matters.complainant_name") == "张三"
    assert sealer.open(matter["complainant_contact"], "matters.complainant_contact") == "13900001111"
    assert [(f["kind"], f["name"]) for f in files] == [("photo", "photo.jpg"), ("document", "evidence.pdf")]
    import hashlib

    assert files[1]["sha256"] == hashlib.sha256(b"%PDF-1.4 evidence").hexdigest()
    assert files[1]["path"] == files[1]["sha256"][:2] + "/" + files[1]["sha256"]  # relative to the files folder
    assert harness.app.files.resolve(files[1]["path"]).read_bytes() == b"%PDF-1.4 evidence"


async def appeal_disputing_our_handling(deputy: User) -> None:
    """A deputy's appeal walked up to the question of which department handled it."""
    await deputy.say("/submit")
    await deputy.press("申诉")
    await deputy.say("不服不起诉决定")
    await deputy.say("当事人认为不起诉决定有误。")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.say("李四")
    await deputy.say("县城关镇")
    await deputy.press("是")


async def test_appeal_disputing_our_handling_records_the_original_department(harness: Harness) -> None:
    """§14: an appeal records whether it disputes our own handling, and which department handled it."""
    await harness.add_department("第一检察部")
    await harness.add_department("第二检察部")
    deputy = await bound_deputy(harness)
    await appeal_disputing_our_handling(deputy)
    await deputy.press("第二检察部")
    assert "对本院处理不服；原承办部门：第二检察部" in deputy.last
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT disputes_own_handling, original_department_id, d.name FROM matters m"
                          " JOIN departments d ON d.id = m.original_department_id")
    assert (row[0], row[2]) == (1, "第二检察部")


async def test_a_forged_original_department_is_stale_and_changes_nothing(harness: Harness) -> None:
    """§14: the department an appeal disputes is one of the list shown; a department that does not exist, or
    data naming no number, pressed with the dialogue's own nonce, gets the stale answer and changes nothing."""
    await harness.add_department("第一检察部")
    deputy = await bound_deputy(harness)
    await appeal_disputing_our_handling(deputy)
    assert deputy.last_buttons() == ["第一检察部", "不清楚", "取消"]
    await refuses_forged_choices(harness, deputy, ("dept99", "dept", "deptx", "dept-1", "dept１", "d1"), TABLES)
    await deputy.press("第一检察部")
    assert "对本院处理不服；原承办部门：第一检察部" in deputy.last


async def test_appeal_not_disputing_skips_the_department(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("申诉")
    await deputy.say("申诉事由")
    await deputy.say("内容")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.say("李四")
    await deputy.say("电话 123")
    await deputy.press("否")
    assert "申诉人对本院的处理无异议" in deputy.last
    await deputy.press("确认提交")
    async with harness.db.snapshot() as q:
        assert tuple(await q.one("SELECT disputes_own_handling, original_department_id FROM matters")) == (0, None)


@pytest.mark.parametrize(
    ("registered", "due"),
    [
        (datetime(2026, 11, 29, 16, 30, tzinfo=UTC), "2027-02-28"),  # 30 Nov in Shanghai → 28 Feb
        (datetime(2027, 11, 29, 16, 30, tzinfo=UTC), "2028-02-29"),  # leap year
        (datetime(2026, 3, 31, 3, 0, tzinfo=UTC), "2026-06-30"),
        (datetime(2026, 12, 31, 17, 0, tzinfo=UTC), "2027-04-01"),  # already 1 Jan 2027 in Shanghai
    ],
)
async def test_due_date_is_three_calendar_months_month_end_clamped(harness: Harness, registered: datetime,
                                                                   due: str) -> None:
    """§12: concluded within three months of registration, counted on the unit's calendar."""
    deputy = await bound_deputy(harness)
    harness.clock.set(registered)
    await submit_suggestion(deputy)
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT due_date FROM matters") == due


async def test_numbers_run_per_year_and_are_never_reused(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    harness.clock.set(datetime(2026, 12, 31, 10, 0, tzinfo=UTC))  # 18:00 in Shanghai
    await submit_suggestion(deputy)
    await submit_suggestion(deputy)
    harness.clock.set(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))  # already 2027 in Shanghai
    await submit_suggestion(deputy)
    async with harness.db.snapshot() as q:
        numbers = [r[0] for r in await q.all("SELECT number FROM matters ORDER BY id")]
    assert numbers == ["LS-2026-0001", "LS-2026-0002", "LS-2027-0001"]


@pytest.mark.parametrize("step", ["kind", "subject", "text", "files", "complainant", "confirm"])
async def test_cancel_at_every_step_registers_nothing(harness: Harness, step: str) -> None:
    deputy = await bound_deputy(harness)
    steps = [
        ("kind", lambda: deputy.say("/submit")),
        ("subject", lambda: deputy.press("控告")),
        ("text", lambda: deputy.say("事由")),
        ("files", lambda: (deputy.say("内容"))),
        ("complainant", lambda: deputy.press("完成")),
    ]
    for name, action in steps:
        await action()
        if name == step:
            break
    if step == "complainant":
        await deputy.press("无附件")
    if step == "confirm":
        await deputy.press("无附件")
        await deputy.say("王五")
        await deputy.say("电话")
    by_button = step in ("kind", "confirm")
    replies = await (deputy.press("取消") if by_button else deputy.say("/cancel"))
    assert "已取消，未提交任何内容。" in [r.text for r in replies if r.op == "message"]
    assert await harness.count("matters") == 0 and await harness.count("dialogs") == 0


async def test_a_dialogue_survives_a_restart(harness: Harness, tmp_path: Path) -> None:
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("批评")
    await deputy.say("办案效率")
    await harness.app.close()
    # a new process on the same database
    app = harness.clock.pace(await App.open(harness.app.config, harness.clock))
    channel = RecordingChannel(app.files)
    app.add_channel(channel)
    harness.app, harness.channel = app, channel
    await deputy.say("某案件拖延较久。")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.press("确认提交")
    assert "您提出的批评已登记" in deputy.last


async def test_receipt_and_dialogue_in_english(harness: Harness) -> None:
    deputy = await bound_deputy(harness, name="Wang", lang="en")
    await deputy.say("/submit")
    await deputy.press("Suggestion")
    await deputy.say("Road safety")
    await deputy.say("Please add speed bumps.")
    await deputy.press("Done")
    await deputy.press("No files")
    await deputy.press("Submit")
    assert deputy.last.splitlines()[1:5] == [
        "Thank you. Your suggestion has been registered.",
        "Number: LS-2026-0001",
        "Registered: November 27, 2026 10:00",
        "To be concluded by: February 27, 2027",
    ]


async def test_office_is_told_of_each_new_matter(harness: Harness) -> None:
    office = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(office)}")
    deputy = await bound_deputy(harness)
    await submit_suggestion(deputy)
    notices = [s for s in harness.channel.sent if s.chat_id == "3001" and s.op == "message"]
    assert notices[-1].text == "新事项\n新建议 LS-2026-0001，提出人：王建国代表，事由：关于乡村道路安全"
    # its button opens the matter; where choices are numbered it is shown as the number to send instead, so that a
    # notice arriving as a number is typed never takes the number (bot.messages.Button.typed)
    assert notices[-1].payload["buttons"] == [[["查看事项", "case:1", "LS-2026-0001"]]]


async def test_my_lists_own_matters_and_opens_the_public_timeline(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    await submit_suggestion(deputy, subject="第一件")
    await submit_suggestion(deputy, subject="第二件")
    listing = await deputy.say("/my")
    assert listing[0].text.splitlines()[0] == "我的事项（共 2 件）"  # one page: not "第 1–2 件，共 2 件"
    assert "LS-2026-0002 · 建议 · 已登记\n第二件" in listing[0].text
    opened = await deputy.press("LS-2026-0001")
    text = [r.text for r in opened if r.op == "message"][0]
    assert "事由：第一件" in text and "状态：已登记" in text and "2026年11月27日 10:00  已登记" in text


async def test_my_pages_through_many_matters(harness: Harness) -> None:
    deputy = await bound_deputy(harness)
    for n in range(10):
        await submit_suggestion(deputy, subject=f"事项{n}")
    first = await deputy.say("/my")
    assert "共 10 件" in first[0].text and [b for b, _ in first[0].buttons][-1] == "较早"
    older = await deputy.press("较早")
    assert "第 9–10 件" in [r.text for r in older if r.op == "message"][0]
