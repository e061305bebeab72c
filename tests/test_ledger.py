"""Seed §3 ("registered one by one, handled one by one, answered one by one"): the register ledger 登记台账 —
every matter registered in a period, one row each, in the columns a county office's ledger has; filtered
by period, kind, department and state; in chat (/ledger, the office only) and on the command line; a
workbook that prints. The expected rows are derived here from the seed of tests/test_reports.py.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.__main__ import main
from tests.fakes import Harness, MovableClock
from tests.reports_world import (
    COMPLAINANT, COMPLAINANT_PHONE, D1, MATTERS, SECRET_BODY, SH, Office, config_path as config_path, files_of, handled,
)

HEADER = ["序号", "编号", "登记日期", "代表委员", "身份", "类别", "事由", "受理方式", "承办部门", "催办人", "办理期限",
          "延期至", "重大疑难复杂", "办结日期", "办理结果", "答复日期", "答复方式", "评价", "重新办理次数", "办理状态"]
KIND_ZH = {"suggestion": "建议", "criticism": "批评", "opinion": "意见", "report": "举报", "accusation": "控告",
           "appeal": "申诉"}
STATE_ZH = {"registered": "已登记待交办", "assigned": "已交办", "in_progress": "办理中", "concluded": "已办结待答复",
            "replied": "已答复待评价", "rated": "已评价待最终答复", "closed": "已完结", "transferred": "已移送",
            "reopened": "重新办理中"}
OPEN = ("registered", "assigned", "in_progress", "reopened")


def sheet_rows(path: str | Path) -> tuple[Any, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()))
    sheet = book["登记台账"]
    return sheet, [[c.value for c in row] for row in sheet.iter_rows()]


def day(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else value


async def office_with_extension(harness: Harness) -> Office:
    office = Office(harness)
    await office.setup()
    async with harness.db.transaction() as tx:  # LS-2026-0001's extension was approved to 10 May
        await tx.execute("UPDATE extensions SET new_due = '2026-05-10' WHERE state = 'approved'"
                         " AND matter_id = (SELECT id FROM matters WHERE number = 'LS-2026-0001')")
    return office


async def test_the_ledger_of_a_year_one_row_per_matter(harness: Harness) -> None:
    """§3: every matter registered in 2026 (Shanghai days), in order of registration, with what the office's
    ledger records of it; no complainant, no matter's text."""
    office = await office_with_extension(harness)
    sent = await office.clerk.say("/ledger")
    files = files_of(sent)
    assert [name for _path, name in files] == ["2026年登记台账.xlsx"]
    message = [s for s in sent if s.op == "message"][-1]
    wanted = sorted((m for m in MATTERS if m.registered.year == 2026), key=lambda m: m.registered)
    assert message.text == f"登记台账\n登记台账：2026年1月1日至2026年12月31日登记的事项共{len(wanted)}件，见附件。"
    sheet, rows = sheet_rows(files[0][0])
    assert rows[0] == HEADER
    assert [r[1] for r in rows[1:]] == [m.number for m in wanted]
    by_number = {r[1]: dict(zip(HEADER, r)) for r in rows[1:]}
    for n, m in enumerate(wanted, 1):
        got = by_number[m.number]
        assert got["序号"] == n and day(got["登记日期"]) == m.registered.date()
        assert (got["代表委员"], got["身份"], got["类别"], got["事由"]) == ("王建国", "人大代表", KIND_ZH[m.kind],
                                                                   "事由" + m.number)
        assert got["受理方式"] == "网上提交" and day(got["办理期限"]) == m.due
        assert got["承办部门"] == (m.dept or (None if m.state == "transferred" else "尚未交办"))
        assert got["催办人"] == ("陈静" if m.dept else None)
        assert day(got["办结日期"]) == handled(m)
        assert got["办理状态"] == STATE_ZH[m.state]
        last = m.replies[-1] if m.replies else None
        assert day(got["答复日期"]) == (last.at.date() if last else None)
        assert got["评价"] == ({"satisfied": "满意", "basically": "基本满意", "dissatisfied": "不满意",
                               "unrated": "未评价", None: "待评价"}[last.rating] if last else None)
    one = by_number["LS-2026-0001"]
    assert (day(one["延期至"]), one["办理结果"], one["答复方式"]) == (date(2026, 5, 10), "A类：已解决或基本解决",
                                                                  "网上答复")
    assert by_number["LS-2026-0005"]["办理结果"] == "移送卢氏县公安局"
    assert by_number["LS-2026-0010"]["办理结果"] == "无法满足，已说明"
    assert by_number["LS-2026-0006"]["登记日期"].date() == date(2026, 6, 30)  # 23:30 in Shanghai
    everything = json.dumps(rows, ensure_ascii=False, default=str)
    for secret in (COMPLAINANT, COMPLAINANT_PHONE, SECRET_BODY):
        assert secret not in everything
    # it prints: A4 landscape, fitted to the width, the header on every page, frozen and filtering
    assert sheet.page_setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (str(sheet.page_setup.paperSize), sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == ("9", 1, 0)
    assert sheet.print_title_rows in ("$1:$1", "1:1") and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:T{len(rows)}"
    assert sheet["C2"].is_date and sheet["N2"].is_date and "年" in sheet["C2"].number_format
    async with harness.db.snapshot() as q:
        drawn = await q.one("SELECT action, detail FROM audit_log WHERE action = 'ledger_drawn'")
    assert drawn is not None and json.loads(drawn["detail"])["matters"] == len(wanted)


@pytest.mark.parametrize(("words", "expected"), [
    ("2026H1 建议", lambda m: m.registered.date() <= date(2026, 6, 30) and m.kind == "suggestion"),
    (f"2026 {D1} 批评", lambda m: m.dept == D1 and m.kind == "criticism"),
    ("2026 未办结", lambda m: m.state in OPEN),
    ("2026 办结", lambda m: m.state not in OPEN),
    ("2026 逾期未办结", lambda m: m.state in OPEN and m.due < date(2026, 11, 27)),
    ("2026 尚未交办", lambda m: m.dept is None),
    ("2026 已移送", lambda m: m.state == "transferred"),
    ("2026-06", lambda m: m.registered.month == 6),
    ("2025-12-01..2026-01-31 意见", lambda m: m.kind == "opinion"),
    ("2025", lambda m: True),
])
async def test_the_ledger_filtered_by_period_kind_department_and_state(harness: Harness, words: str,
                                                                       expected: Any) -> None:
    office = await office_with_extension(harness)
    sent = await office.clerk.say(f"/ledger {words}")
    _sheet, rows = sheet_rows(files_of(sent)[0][0])
    first, last = {"2026H1": (date(2026, 1, 1), date(2026, 6, 30)), "2026-06": (date(2026, 6, 1), date(2026, 6, 30)),
                   "2025-12-01..2026-01-31": (date(2025, 12, 1), date(2026, 1, 31)),
                   "2025": (date(2025, 1, 1), date(2025, 12, 31))}.get(words.split()[0],
                                                                        (date(2026, 1, 1), date(2026, 12, 31)))
    wanted = sorted((m for m in MATTERS if first <= m.registered.date() <= last and expected(m)),
                    key=lambda m: m.registered)
    assert wanted  # each case selects something
    assert [r[1] for r in rows[1:]] == [m.number for m in wanted]


async def test_the_ledger_is_the_offices_and_a_bad_word_is_refused_changing_nothing(harness: Harness) -> None:
    """Refusals: a handler, a leader and a deputy may not draw it; a word that names nothing is refused; and
    nothing changes but the refusal's answer and its audit entry."""
    office = await office_with_extension(harness)
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(office.ids['王建国'])}")
    tables = ("matters", "replies", "dialogs", "reminders", "contacts")
    before = await harness.dump(*tables)
    for user in (office.handler, office.leader, deputy):
        got = await user.say("/ledger 2026")
        assert [s.text for s in got] == ["抱歉，此操作仅限办公室。"] and not files_of(got)
    bad = await office.clerk.say("/ledger 2026 明年")
    assert [s.text for s in bad] == ["“明年”不是期间（如2026、2026H1、2026-03）、事项类别、承办部门或办理状态，请重新输入。"]
    assert not files_of(bad)
    assert await harness.dump(*tables) == before
    async with harness.db.snapshot() as q:
        actions = [r[0] for r in await q.all("SELECT action FROM audit_log WHERE action LIKE '%ledger%'")]
    assert actions.count("refused:ledger") == 3 and "ledger_drawn" not in actions


async def test_help_names_the_ledger_for_the_office(harness: Harness) -> None:
    office = await office_with_extension(harness)
    line = "/ledger — 登记台账：本年登记的事项（也可写明期间，如2026H2、2026-03），可按类别、承办部门或办理状态筛选"
    assert line in [s.text for s in await office.clerk.say("/help")][0]
    assert "/ledger" not in [s.text for s in await office.leader.say("/help")][0]


def test_the_command_line_draws_the_ledger(config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    """`python -m bot report ledger 2026 --out F.xlsx --kind 建议 --state 未办结`, on a snapshot."""
    import asyncio

    from bot.app import App
    from bot.config import load
    from tests.reports_world import seed

    async def prepare() -> None:
        app = await App.open(load(config_path), MovableClock())
        try:
            await seed(app.db, app.clock.now())
        finally:
            await app.close()

    asyncio.run(prepare())
    clock = MovableClock(datetime(2026, 11, 27, 2, tzinfo=UTC))
    out = tmp_path / "台账.xlsx"
    capsys.readouterr()
    assert main(["--config", str(config_path), "--json", "report", "ledger", "2025", "--out", str(out), "--kind",
                 "建议", "--state", "未办结"], clock) == 0
    result = json.loads(capsys.readouterr().out)
    wanted = [m.number for m in sorted(MATTERS, key=lambda m: m.registered)
              if m.registered.astimezone(SH).year == 2025 and m.kind == "suggestion" and m.state in OPEN]
    assert (result["ok"], result["matters"], result["first"], result["last"]) == (True, len(wanted), "2025-01-01",
                                                                                "2025-12-31")
    assert [r[1] for r in sheet_rows(out)[1][1:]] == wanted == ["LS-2025-0104"]
    for argv, error in (
        (["report", "ledger", "明年", "--out", "x.xlsx"],
         "'明年' is not a period: write 2026, 2026H1, 2026-03 or 2026-01-01..2026-03-31\n"),
        (["report", "ledger", "2026", "--out", "x.docx"], "--out x.docx must be an .xlsx file\n"),
        (["report", "ledger", "2026", "--out", "x.xlsx", "--kind", "信访"],
         "'信访' is not a kind, a department or a state\n"),
    ):
        assert main(["--config", str(config_path), *argv], clock) == 1
        assert capsys.readouterr().err == error
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "x.docx").exists()


async def test_the_ledger_is_read_before_the_commands_transaction(harness: Harness,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: a year of a large unit takes seconds to read and write; /ledger reads it on a read-only
    connection of its own before its transaction (bot/inbox.py), so the writer every other chat waits for is
    free meanwhile — here another transaction commits in the middle of the read — and the file read is the
    one answered."""
    from handlers.reports import ledger

    office = await office_with_extension(harness)
    reads: list[bool] = []
    real = ledger.ledger_file

    async def watched(q: Any, *args: Any) -> tuple[bytes, int]:
        async def write() -> None:
            async with harness.db.transaction() as tx:
                await tx.execute("UPDATE matters SET subject = subject WHERE id = 0")
        await asyncio.wait_for(write(), timeout=5)  # the event loop's timer: a held writer fails, never hangs
        reads.append(True)
        read = await real(q, *args)
        # last: on PostgreSQL a refused statement ends the transaction it was in
        with pytest.raises(Exception, match="readonly|read-only"):  # SQLite's words, PostgreSQL's
            await q.execute("UPDATE matters SET subject = subject WHERE id = 0")
        return read

    monkeypatch.setattr(ledger, "ledger_file", watched)
    sent = await office.clerk.say("/ledger 2026")
    assert reads == [True]  # read once: before the transaction, not again in it
    assert [name for _path, name in files_of(sent)] == ["2026年登记台账.xlsx"]
    _sheet, rows = sheet_rows(files_of(sent)[0][0])
    assert f"登记的事项共{len(rows) - 1}件" in [s for s in sent if s.op == "message"][-1].text
