"""Seed §17, §19: the half-year report to the higher procuratorate (.docx, its tables as .xlsx) and the
yearly assessment (.xlsx), from a seeded database.

The expected figures are derived here, in plain Python, from the list of what was seeded (local
Shanghai times, dates as the test wrote them), never through the code under test; then the document is
read back with python-docx (every paragraph, every cell of every table) and the workbooks with openpyxl,
and compared number by number. Also: a half-year with no data at all, the period boundary in Shanghai
time, the office reminded from 1 June until the report is marked sent, refusals, and the command line.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest

from bot.__main__ import main
from bot.app import App
from bot.config import load
from bot.model import UnitScope
from tests.fakes import Harness, MovableClock
from tests.reports_world import (  # config_path is a fixture
    CONTACTS, D1, D2, DRAWN, MATTERS, SH, STAFF, Expected, M, Office, check_files, config_path as config_path,
    events_in, expect, files_of, handled, ratings_in, ratio, read_docx, read_xlsx, seed, timeliness,
)



def test_the_seed_is_what_the_test_says_it_is() -> None:
    """The expectation, checked by hand once, so that the code and the test cannot be wrong together."""
    e = expect(date(2026, 1, 1), date(2026, 6, 30), DRAWN)
    assert [m.number for m in e.registered] == ["LS-2026-0001", "LS-2026-0002", "LS-2026-0003", "LS-2026-0004",
                                                "LS-2026-0005", "LS-2026-0006", "LS-2026-0008", "LS-2026-0010"]
    assert (e.on_time, e.late, e.overdue_open) == (3, 2, 2)
    assert [(m.number, days) for m, days in e.overdue] == [("LS-2025-0104", 241), ("LS-2025-0103", 171),
                                                           ("LS-2026-0003", 15)]
    assert e.ratings == Counter(satisfied=1, basically=1, dissatisfied=1, unrated=3)
    assert (e.urged, e.stale) == ((3, 2), (3, 2))
    assert e.contacted == {"王建国", "李秀梅"} and sum(e.contacts.values()) == 3


async def test_the_first_half_report_number_by_number(harness: Harness) -> None:
    """Seed §17: the office draws the report in chat; both files, every table and every figure; the boundary
    30 June 23:30 in Shanghai belongs to the first half, 1 July 00:10 to the second."""
    office = Office(harness)
    await office.setup()
    sent = await office.clerk.say("/report 2026H1")
    files = files_of(sent)
    assert [name for _path, name in files] == ["2026年上半年联系人大代表政协委员工作情况报告.docx", "2026年上半年联系人大代表政协委员工作情况报告.xlsx"]
    e = expect(date(2026, 1, 1), date(2026, 6, 30), DRAWN)
    paragraphs = check_files(files[0][0], files[1][0], e, DRAWN)
    # GB/T 9704: the 版头 (the unit's mark; 发文字号 and 签发人, a blank to sign by hand), the title broken between
    # its words, the period, the addressee of the configuration (report.addressee)
    assert paragraphs[:6] == ["卢氏县人民检察院文件", "卢检〔2026〕　号\t签发人：　　　",
                              "卢氏县人民检察院关于2026年上半年\n联系人大代表政协委员工作情况的报告",
                              "（2026年1月1日至2026年6月30日，\n数据截至2026年6月30日）", "三门峡市人民检察院：",
                              paragraphs[5]]
    assert paragraphs[5].startswith("根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十七条")
    body = "\n".join(paragraphs)
    for heading in ("一、联系人大代表、政协委员情况", "二、建议、批评、意见及转交案件受理办理情况", "三、办理质效情况",
                    "四、督办催办情况", "五、向县人大报告重大案件及抗诉案件备案情况",
                    "六、邀请代表委员参加活动及执法监督员参与情况", "七、存在的问题和下一步工作"):
        assert heading in paragraphs
    assert ("现有人大代表3名、政协委员2名。本半年共联系代表委员3人次，已联系代表委员2名，联系覆盖率40.0%；其中人大代表1名、"
            "政协委员1名。" in paragraphs)
    assert "全年累计" not in body  # the year's coverage is for the second half's report
    assert ("本半年共登记代表委员提出的建议、批评、意见和转交的举报、控告、申诉8件，其中建议1件、批评2件、意见2件、举报1件、"
            "控告1件、申诉1件。截至2026年6月30日，上述事项办结4件（其中移送有关主管机关1件），未办结4件。") in paragraphs
    # handled in the half-year: 0001, 0002, 0005, 0010, 0101, 0102 (whenever registered)
    assert [m.number for m in e.handled] == ["LS-2026-0001", "LS-2026-0002", "LS-2026-0005", "LS-2025-0101",
                                            "LS-2025-0102", "LS-2026-0010"]
    assert ("本半年办结事项6件（按办结日期统计，含此前登记的事项）。本半年到期应办结7件，其中按期办结3件、超期办结2件、"
            "到期未办结2件，按期办结率42.9%。") in paragraphs
    assert ("注：“办结”指统计期间内办结的事项，按办结日期统计；以无法满足作出答复、移送有关主管机关的，均计为办结；"
            "“到期应办结”指办理期限（延期或重新办理的，以新期限为准）在统计期间内的事项中，截至统计截止日已办结或已过期限的；"
            "“到期未办结”指到期应办结事项中，截至统计截止日仍未办结的。“到期未办结”只计本半年到期的事项，与第四部分"
            "“逾期未办结”（截至2026年6月30日已过期限未办结的全部事项）口径不同。") in paragraphs
    assert ("本半年共答复6件，代表委员已评价3件，参评率50.0%；其中满意1件、基本满意1件、不满意1件，满意率66.7%；未评价3件。"
            "因不满意重新办理1次。") in paragraphs
    assert "本半年承办部门申请延期3件，批准1件，不予批准1件，尚待审批1件。" in paragraphs
    assert ("对不属于本院管辖的事项，先行接访、说明情况后，本半年移送有关主管机关1件（按移送日期统计，含此前登记的事项）。"
            in paragraphs)
    assert [m.number for m in e.not_concluded] == ["LS-2026-0003", "LS-2026-0004", "LS-2026-0006", "LS-2025-0103",
                                                  "LS-2025-0104", "LS-2026-0008"]
    assert ("截至2026年6月30日，全院未办结事项6件，其中逾期未办结3件（见表12）。本半年专人催办3次，涉及事项2件；"
            "因长期未办理被标记3次，涉及事项2件。") in paragraphs
    assert ("本半年向县人民代表大会及其常委会报告重大案件1件；向人民法院提出抗诉2件，已报县人大常委会备案1件，尚未备案1件。"
            in paragraphs)
    assert "现有执法监督员2名。本半年系统中未记录举办的活动及执法监督员参与情况。" in paragraphs
    # the chat message sums it up, and the office may mark it sent
    message = [s for s in sent if s.op == "message"][-1]
    assert message.text.startswith("2026年上半年联系代表委员工作情况报告\n数据截至2026年6月30日：\n")
    assert "登记 8 件；办结 6 件；到期应办结 7 件，其中按期办结 3 件；逾期未办结 3 件" in message.text
    assert message.buttons and message.buttons[0][0] == "已报送"


async def test_the_second_half_so_far_and_the_years_coverage(harness: Harness) -> None:
    """/report with no period: the current half-year, counted as of today (27 November 2026), with the whole
    year's coverage (§11); a leader may draw it too, but not mark it sent."""
    office = Office(harness)
    await office.setup()
    sent = await office.leader.say("/report")
    files = files_of(sent)
    e = expect(date(2026, 7, 1), date(2026, 12, 31), DRAWN)
    assert [m.number for m in e.registered] == ["LS-2026-0007", "LS-2026-0009"]
    paragraphs = check_files(files[0][0], files[1][0], e, DRAWN)
    assert paragraphs[3] == "（2026年7月1日至2026年12月31日，\n数据截至2026年11月27日）"
    year = {rep for rep, _m, day, _s in CONTACTS if day.year == 2026}
    assert ("全年累计已联系代表委员4名，联系覆盖率80.0%，尚有1名未联系。" in paragraphs[7]) and len(year) == 4
    assert not [s for s in sent if s.buttons]  # a leader reads it; only the office marks it sent


async def test_a_half_year_with_no_data_at_all_reads_well(harness: Harness) -> None:
    office = Office(harness)
    await office.setup(seeded=False)
    sent = await office.clerk.say("/report 2026H1")
    files = files_of(sent)
    empty = Expected(date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 30), [], 0, 0, 0, [], [], [], 0, Counter(),
                     Counter(), Counter(), (0, 0), (0, 0), Counter(), set(), None, [], [])
    paragraphs = check_files(files[0][0], files[1][0], empty, DRAWN, roster=[])
    for sentence in ("名册中尚无人大代表、政协委员。", "本半年未登记代表委员提出的建议、批评、意见和转交的案件。",
                     "本半年办结事项0件（按办结日期统计，含此前登记的事项）。本半年无到期应办结的事项。",
                     "本半年未发出答复。因不满意重新办理0次。", "本半年无延期办理申请。",
                     "本半年无移送有关主管机关的事项。",
                     "截至2026年6月30日，全院未办结事项0件，无逾期未办结事项。本半年专人催办0次，涉及事项0件；"
                     "因长期未办理被标记0次，涉及事项0件。",
                     "本半年未向县人大报告重大案件；未向人民法院提出抗诉。",
                     "现有执法监督员0名。本半年系统中未记录举办的活动及执法监督员参与情况。"):
        assert sentence in paragraphs
    assert "None" not in "".join(paragraphs)


async def test_refusals_change_nothing(harness: Harness) -> None:
    office = Office(harness)
    await office.setup()
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(office.ids['王建国'])}")
    tables = ("halfyear_reports", "dialogs", "npc_register")
    before = await harness.dump(*tables)
    for user in (office.handler, deputy):
        assert [s.text for s in await user.say("/report 2026H1")] == ["抱歉，报告仅供办公室和院领导使用。"]
        assert [s.text for s in await user.press_data("report:sent:2026H1") if s.op == "message"] == [
            "抱歉，此操作仅限办公室。"]
    assert [s.text for s in await office.leader.press_data("report:sent:2026H1") if s.op == "message"] == [
        "抱歉，此操作仅限办公室。"]
    bad = await office.clerk.say("/report 2026H3")
    assert [s.text for s in bad] == ["请按 2026H2 的格式写明半年度：年份后接 H1 表示上半年（1月至6月），H2 表示下半年（7月至12月）。"]
    assert [s.text for s in await office.clerk.say("/report 2027H1")] == ["报告期（2027年上半年）尚未开始。"]
    forged = await office.clerk.press_data("report:sent:2026H9")
    assert [s.payload["text"] for s in forged if s.op == "answer"] == ["此选项已失效。"]
    assert await harness.dump(*tables) == before
    assert not files_of(bad)
    async with harness.db.snapshot() as q:
        refused = [r[0] for r in await q.all("SELECT action FROM audit_log WHERE action LIKE 'refused:%'")]
    assert refused.count("refused:report") == 2 and refused.count("refused:report_sent") == 3


# -- the half-year reminder (seed §17) -----------------------------------------------------------------


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH).astimezone(UTC)


async def tick(harness: Harness, moment: datetime) -> dict[str, int]:
    harness.clock.set(moment)
    result = await harness.app.supervise()
    await harness.app.settle()
    return result.fired


async def test_the_office_is_reminded_from_the_first_of_june_until_the_report_is_marked_sent(harness: Harness) -> None:
    office = Office(harness)
    await office.setup(seeded=False)
    async with harness.db.transaction() as tx:  # last year's second half went out in January
        await tx.execute("INSERT INTO halfyear_reports (period, sent_on, marked_at) VALUES ('2025H2', '2026-01-20',"
                         " '2026-01-20T02:00:00.000+00:00')")
    assert "halfyear" not in await tick(harness, at(date(2026, 5, 29)))  # May: nothing yet
    assert (await tick(harness, at(date(2026, 6, 1))))["halfyear"] == 1
    assert "halfyear" not in await tick(harness, at(date(2026, 6, 1), 15))  # once a day
    assert await tick(harness, at(date(2026, 6, 6))) == {}  # a Saturday
    assert await tick(harness, at(date(2026, 6, 19))) == {}  # the Dragon Boat Festival
    assert (await tick(harness, at(date(2026, 6, 22))))["halfyear"] == 1
    reminders = [s for s in office.clerk.received if s.text.startswith("半年工作情况报告")]
    assert len(reminders) == 2
    assert reminders[0].text == ("半年工作情况报告\n根据《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十七条，2026年上半年联系代表委员工作情况报告应于2026年6月30日前报上级人民检察院。"
                                 "请用 /report 2026H1 生成报告，报送后选择“已报送”。")
    assert [label for label, _data in reminders[0].buttons] == ["生成报告", "已报送"]
    drawn = await office.clerk.press("生成报告")
    assert len(files_of(drawn)) == 2
    assert (await tick(harness, at(date(2026, 7, 1))))["halfyear"] == 1  # past due, and still not sent
    assert sum("尚未标记为已报送" in s.text for s in office.clerk.received) == 1
    done = await office.clerk.press("已报送")
    assert [s.text for s in done if s.op == "message"] == ["2026年上半年报告已标记为于2026年7月1日报上级人民检察院，不再提醒。"]
    again = await office.clerk.press_data("report:sent:2026H1")
    assert [s.text for s in again if s.op == "message"] == ["2026年上半年报告已于2026年7月1日标记为已报送。"]
    assert "halfyear" not in await tick(harness, at(date(2026, 7, 2)))
    assert "halfyear" not in await tick(harness, at(date(2026, 11, 30)))
    assert (await tick(harness, at(date(2026, 12, 1))))["halfyear"] == 1  # the second half's, from 1 December
    async with harness.db.snapshot() as q:
        keys = [r[0] for r in await q.all("SELECT key FROM reminders WHERE rule = 'halfyear' ORDER BY fired_at")]
        marked = await q.all("SELECT period, sent_on, marked_by FROM halfyear_reports ORDER BY period")
    assert keys == ["halfyear:2026H1:2026-06-01", "halfyear:2026H1:2026-06-22", "halfyear:2026H1:2026-07-01",
                    "halfyear:2026H2:2026-12-01"]
    assert [tuple(r) for r in marked] == [("2025H2", "2026-01-20", None), ("2026H1", "2026-07-01", office.ids["陈静"])]


# -- the assessment (seed §19) and the command line ---------------------------------------------------------


def expected_assessment(year: int, today: date) -> tuple[list[list[Any]], list[list[Any]]]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    as_of = min(today, last)

    def row(name: str, mine: list[M]) -> list[Any]:
        numbers = {m.number for m in mine}
        days = [(h - m.registered.date()).days for m in mine if (h := handled(m)) and first <= h <= as_of]
        on_time, late, still_open = timeliness(mine, first, last, as_of)
        due = on_time + late + still_open
        r = ratings_in(mine, first, last)
        rated = r["satisfied"] + r["basically"] + r["dissatisfied"]
        return [name, sum(1 for m in mine if m.registered.year == year), len(days),
                round(sum(days) / len(days), 1) if days else None, due, on_time, late, still_open, ratio(on_time, due),
                rated + r["unrated"], r["satisfied"], r["basically"], r["dissatisfied"], r["unrated"],
                ratio(rated, rated + r["unrated"]), ratio(r["satisfied"] + r["basically"], rated),
                sum(1 for m in mine for rep in m.replies if rep.rating == "dissatisfied" and rep.at.year == year),
                len(events_in("stale", first, last, numbers))]

    departments = [row(d, [m for m in MATTERS if m.dept == d]) for d in (D1, D2)]
    departments.append(row("办公室直接处理（移送、无法满足及尚未交办）", [m for m in MATTERS if m.dept is None]))
    departments.append(row("合计", MATTERS))
    roles = {"office": "办公室", "handler": "承办人", "head": "部门负责人", "leader": "院领导"}
    staff = []
    for name, role_list, dept in sorted(STAFF, key=lambda s: (s[2] or "", s[0])):
        urged = events_in("urged", first, last)
        staff.append([name, dept, "、".join(roles[r] for r in role_list),
                      sum(1 for _r, _m, day, s in CONTACTS if s == name and day.year == year),
                      sum(1 for _n, actor in urged if actor == name), len({n for n, actor in urged if actor == name})])
    return departments, staff


def check_assessment(path: str | Path, year: int, today: date) -> None:
    sheets = read_xlsx(path)
    assert list(sheets) == ["说明", "表1 部门", "表2 人员"]
    departments, staff = expected_assessment(year, today)
    got = sheets["表1 部门"]
    assert got[0] == ["承办部门", "登记", "办结", "平均办结天数", "到期应办结", "按期办结", "超期办结", "到期未办结",
                      "按期办结率", "答复", "满意", "基本满意", "不满意", "未评价", "参评率", "满意率", "因不满意重新办理",
                      "长期未办理标记"]
    assert got[1:] == [[pytest.approx(v) if isinstance(v, float) else v for v in row] for row in departments]
    assert sheets["表2 人员"][1:] == staff
    assert sheets["表2 人员"][0] == ["姓名", "部门", "角色", "联系代表委员（人次）", "催办次数", "催办事项"]


def test_the_2026_assessment_by_hand() -> None:
    departments, staff = expected_assessment(2026, DRAWN)
    # handled in 2026: LS-2026-0001 after 50 days, LS-2026-0002 after 98, LS-2025-0101 after 97; LS-2026-0008 reopened
    assert departments[0][:9] == ["第一检察部", 3, 3, 81.7, 4, 1, 2, 1, 0.25]
    assert [s[:1] + s[3:] for s in staff if s[0] in ("陈静", "李娜")] == [["李娜", 1, 1, 1], ["陈静", 3, 3, 2]]


async def test_the_assessment_in_process(harness: Harness, tmp_path: Path) -> None:
    from handlers.reports import assessment_text
    from handlers.reports import figures as reports

    await seed(harness.db, harness.clock.now())
    async with harness.db.snapshot() as q:
        figures = await reports.assessment(q, UnitScope.of(1), 2026, DRAWN, SH, "卢氏县人民检察院")
    path = tmp_path / "a.xlsx"
    path.write_bytes(assessment_text.assessment_file(figures, harness.clock.now(), SH))
    check_assessment(path, 2026, DRAWN)


def test_the_command_line_end_to_end(config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m bot report half-year 2026H1 --out FILE.docx` (FILE.xlsx beside it) and `report assessment 2026`,
    on the real clock: the first half of 2026 is over, so its report no longer depends on the day it is drawn."""

    async def prepare() -> None:
        app = await App.open(load(config_path), MovableClock())
        try:
            await seed(app.db, app.clock.now())
        finally:
            await app.close()

    asyncio.run(prepare())
    clock = MovableClock()
    today = clock.now().astimezone(SH).date()
    out = tmp_path / "out" / "report.docx"
    capsys.readouterr()
    assert main(["--config", str(config_path), "report", "half-year", "2026h1", "--out", str(out), "--to",
                 "三门峡市人民检察院第七检察部"], clock) == 0
    assert capsys.readouterr().out == (f"half-year report 2026H1 (as of 2026-06-30) written to {out} and "
                                       f"{out.with_suffix('.xlsx')}\n")
    paragraphs = check_files(out, out.with_suffix(".xlsx"), expect(date(2026, 1, 1), date(2026, 6, 30), today), today)
    assert paragraphs[4] == "三门峡市人民检察院第七检察部："  # --to, instead of report.addressee
    book = tmp_path / "assessment.xlsx"
    assert main(["--config", str(config_path), "--json", "report", "assessment", "2026", "--out", str(book)], clock) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["ok"], result["xlsx"], result["departments"], result["staff"]) == (True, str(book), 3, 6)
    check_assessment(book, 2026, today)
    for argv, error in (
        (["report", "half-year", "2026H3", "--out", "x.docx"],
         "'2026H3' is not a half-year: write 2026H1 (January-June) or 2026H2 (July-December)\n"),
        (["report", "half-year", "2026H1", "--out", "x.pdf"],
         "--out x.pdf must be a .docx file (the workbook is written beside it)\n"),
        (["report", "half-year", f"{today.year + 1}H1", "--out", "x.docx"],
         f"the half-year {today.year + 1}H1 has not begun\n"),
        (["report", "assessment", "20x6", "--out", "x.xlsx"], "'20x6' is not a year, e.g. 2026\n"),
        (["report", "assessment", "2026", "--out", "x.docx"], "--out x.docx must be an .xlsx file\n"),
    ):
        assert main(["--config", str(config_path), *argv], clock) == 1
        assert capsys.readouterr().err == error
    assert not (tmp_path / "x.docx").exists() and not (tmp_path / "x.xlsx").exists()


def test_a_long_list_is_cut_in_the_document_and_whole_in_the_workbook(tmp_path: Path) -> None:
    """The overdue list of a large unit: the document shows the first 100 (the longest overdue), the workbook all."""
    from bot import office_files
    from handlers.reports import report_text

    rows: list[tuple[Any, ...]] = [(f"LS-2025-{n:04d}", "建议", "第一检察部", "2026年1月1日", 200 - n) for n in range(150)]
    table = office_files.Table("逾期未办结", "逾期未办结事项", ("编号", "类别", "承办部门", "办理期限", "超期天数"), rows,
                               doc_limit=100)
    report = office_files.Report(("标题",), ("（期间）",), "卢氏县人民检察院", DRAWN, datetime(2026, 11, 27, 2, tzinfo=UTC),
                                 blocks=[table])
    document, workbook = report_text.half_year_files(report)
    (tmp_path / "r.docx").write_bytes(document)
    (tmp_path / "r.xlsx").write_bytes(workbook)
    paragraphs, tables = read_docx(tmp_path / "r.docx")
    assert [len(grid) for _caption, grid in tables] == [1 + 100]
    assert tables[0][1][-1] == ["LS-2025-0099", "建议", "第一检察部", "2026年1月1日", "101"]
    assert "（表中列出前100件，共150件，全部见同名电子表格。）" in paragraphs
    sheet = read_xlsx(tmp_path / "r.xlsx")["表1 逾期未办结"]
    assert sheet[1:] == [list(r) for r in rows]


async def test_events_held_and_supervisors_attending_are_reported(harness: Harness) -> None:
    """§5, §6, §15: section 六 counts the events held in the half-year and the supervisors among the attendees."""
    from handlers.reports import figures

    supervisor = await harness.add_representative("王建国", phone="13800000001", supervisor=True)
    deputy = await harness.add_representative("李秀梅", body="cppcc", phone="13800000002")
    async with harness.db.transaction() as tx:
        for title, starts, state, attendees in (
            ("代表座谈会", "2026-05-12T01:30:00.000+00:00", "held", (supervisor, deputy)),
            ("检察开放日", "2026-06-30T16:30:00.000+00:00", "held", (deputy,)),  # 1 July in Shanghai: H2
            ("视察（取消）", "2026-04-02T01:30:00.000+00:00", "cancelled", ()),
        ):
            event = await tx.insert("INSERT INTO events (kind, title, starts_at, place, audience, created_at, state)"
                                    " VALUES ('forum', ?, ?, '本院', 'all', '2026-01-01', ?) RETURNING id",
                                    (title, starts, state))
            for person in attendees:
                await tx.execute("INSERT INTO attendance (event_id, person_id, recorded_at) VALUES (?, ?, ?)",
                                 (event, person, starts))
    tz = ZoneInfo("Asia/Shanghai")
    async with harness.db.snapshot() as q:
        found = await figures.half_year(q, UnitScope.of(1), figures.HalfYear.parse("2026H1"), date(2026, 7, 2), tz, "卢氏县人民检察院")
    assert [(e.day, e.name, e.kind, e.representatives, e.supervisors) for e in found.events] == [
        (date(2026, 5, 12), "代表座谈会", "座谈会", 2, 1)]
