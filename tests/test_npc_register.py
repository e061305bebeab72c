"""Seed §4; SPEC §6: the NPC register — the office records each major case reported to the county
people's congress and each protest 抗诉 lodged with the court, step by step in chat; a protest not yet
filed 备案 with the standing committee is reminded to the office weekly, in working time only, until it
is; nobody but the office can change the register, and a refusal changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.cast import People
from tests.fakes import Harness, Sent

SH = ZoneInfo("Asia/Shanghai")
TABLES = ("npc_register", "dialogs")
REFUSED = "抱歉，向县人大报告及抗诉备案登记由办公室负责。"
COLUMNS = "kind, matter_id, case_name, case_number, happened_on, filed_on, filed_by, note, recorded_by"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH).astimezone(UTC)


def texts(sent: list[Sent]) -> list[str]:
    return [s.text for s in sent if s.op == "message"]


def answers(sent: list[Sent]) -> list[str]:
    return [str(s.payload["text"]) for s in sent if s.op == "answer"]


class Unit(People):
    async def setup(self) -> None:
        h = self.h
        h.clock.set(at(date(2026, 11, 2)))  # a Monday
        self.office_id = await h.add_staff("陈静", ["office"])
        self.office = await self.bind(self.office_id, "3001")
        self.handler = await self.bind(await h.add_staff("刘洋", ["handler"], "第一检察部"), "4001")
        self.leader = await self.bind(await h.add_staff("周明", ["leader"]), "6001")
        self.deputy_id = await h.add_representative("王建国", phone="13800000001")
        self.deputy = await self.bind(self.deputy_id, "1001")
        async with h.db.transaction() as tx:
            self.matter = await tx.insert(
                "INSERT INTO matters (number, kind, representative_id, subject, body, state, registered_at, due_date,"
                " updated_at) VALUES ('LS-2026-0001', 'report', ?, '事由', '内容', 'registered',"
                " '2026-10-09T02:00:00.000+00:00', '2027-01-09', '2026-10-09') RETURNING id", (self.deputy_id,))

    async def rows(self) -> list[tuple[Any, ...]]:
        async with self.h.db.snapshot() as q:
            return [tuple(r) for r in await q.all(f"SELECT {COLUMNS} FROM npc_register ORDER BY id")]

    async def record_protest(self, name: str = "张某某故意伤害案", number: str = "卢检刑抗〔2026〕1号") -> None:
        o = self.office
        await o.say("/npc")
        await o.press("登记抗诉")
        await o.say(name)
        await o.say(number)
        await o.press("无")
        await o.press("今天")
        await o.press("无备注")
        await o.press("确认")


@pytest.fixture
async def unit(harness: Harness) -> Unit:
    u = Unit(harness)
    await u.setup()
    return u


async def test_the_office_records_a_protest_step_by_step(unit: Unit) -> None:
    o = unit.office
    listing = await o.say("/npc")
    assert texts(listing) == ["向县人大报告及抗诉备案登记（2026年）\n2026年尚无登记。"]
    assert o.last_buttons() == ["登记重大案件报告", "登记抗诉"]
    assert texts(await o.press("登记抗诉")) == ["登记抗诉\n请发送案件名称。"]
    assert texts(await o.say("张某某故意伤害案")) == ["请发送案号，或选择“无”。"]
    assert texts(await o.say("卢检刑抗〔2026〕1号")) == [
        "是否涉及本院已登记的代表委员事项？如是，请发送事项编号（如 LS-2026-0001）；否则请选择“无”。"]
    assert texts(await o.press("无")) == ["向人民法院提出抗诉的日期是哪一天？请在下方选项中选择，或发送日期，如 2026-11-20。"]
    assert texts(await o.press("今天")) == ["请填写备注，或选择“无备注”。"]
    assert texts(await o.say("已送达被告人")) == [
        "请核对\n抗诉：张某某故意伤害案\n案号：卢检刑抗〔2026〕1号\n抗诉日期：2026年11月2日\n备注：已送达被告人"]
    assert await unit.rows() == []  # nothing before the confirmation
    done = await o.press("确认")
    assert texts(done) == ["已登记。", "向县人大报告及抗诉备案登记（2026年）\n"
                                      "2026年11月2日 · 抗诉 · 张某某故意伤害案（卢检刑抗〔2026〕1号） · 尚未备案"]
    assert o.last_buttons() == ["登记重大案件报告", "登记抗诉", "已备案：张某某故意伤害案"]
    assert await unit.rows() == [("protest", None, "张某某故意伤害案", "卢检刑抗〔2026〕1号", "2026-11-02", None, None,
                                  "已送达被告人", unit.office_id)]
    async with unit.h.db.snapshot() as q:
        row = await q.one("SELECT actor_id, action, detail FROM audit_log ORDER BY id DESC LIMIT 1")
    assert tuple(row) == (unit.office_id, "npc_register_added", '{"day":"2026-11-02","entry":1,"kind":"protest"}')


async def test_a_major_case_report_with_its_matter_and_a_typed_date(unit: Unit) -> None:
    o = unit.office
    await o.say("/npc")
    await o.press("登记重大案件报告")
    await o.say("某涉黑犯罪集团案")
    await o.press("无")
    assert texts(await o.say("LS-2026-9999")) == [
        "未找到事项 LS-2026-9999。请发送事项编号（如 LS-2026-0001），或选择“无”。"]
    assert texts(await o.say("“ls-2026-0001”")) == [  # copied from a message, quotes and all
        "向县人大报告的日期是哪一天？请在下方选项中选择，或发送日期，如 2026-11-20。"]
    assert texts(await o.say("2026-11-03")) == ["2026年11月3日尚未到来，请发送已经过去的日期。"]
    assert texts(await o.say("下周")) == ["抱歉，无法识别该日期。请按 2026-11-20 或 11月20日 的格式发送，或在下方选项中选择。"]
    await o.say("10月28日")
    await o.press("无备注")
    assert texts(await o.say("随便说点")) == ["请在下方选项中选择。", "请核对\n重大案件报告：某涉黑犯罪集团案\n案号：无\n"
                                                         "报告日期：2026年10月28日\n涉及事项：LS-2026-0001"]
    await o.press("确认")
    assert await unit.rows() == [("major_case_report", unit.matter, "某涉黑犯罪集团案", "", "2026-10-28", None, None, "",
                                  unit.office_id)]
    assert "确认" not in o.last_buttons()


async def test_cancel_and_too_long_change_nothing(unit: Unit) -> None:
    o = unit.office
    await o.say("/npc")
    await o.press("登记抗诉")
    assert texts(await o.say("案" * 201)) == ["内容过长，最多 200 个字。"]
    assert texts(await o.say("/npc")) == ["您还有一项操作尚未完成：向县人大报告及抗诉备案登记。请先完成，或发送 /cancel 退出。",
                                         "登记抗诉\n请发送案件名称。"]
    await o.say("李某某盗窃案")
    assert texts(await o.press("取消")) == ["已取消，未作任何更改。"]
    assert await unit.rows() == []


async def test_a_protest_is_filed_not_before_it_was_lodged_nor_in_the_future(unit: Unit) -> None:
    await unit.record_protest()
    o = unit.office
    await o.press("已备案：张某某故意伤害案")
    assert texts(await o.say("2026-11-01")) == ["该案于2026年11月2日提出抗诉，备案日期不能早于抗诉日期。"]
    assert texts(await o.say("2026-11-05")) == ["2026年11月5日尚未到来，请发送已经过去的日期。"]
    assert texts(await o.press("今天")) == [
        "请核对\n张某某故意伤害案（卢检刑抗〔2026〕1号）抗诉案件（2026年11月2日提出抗诉）已于2026年11月2日报县人大常委会备案。"]
    done = await o.press("确认")
    assert texts(done)[0] == "已记录张某某故意伤害案（卢检刑抗〔2026〕1号）抗诉案件于2026年11月2日报县人大常委会备案，不再提醒。"
    assert texts(done)[1].endswith("张某某故意伤害案（卢检刑抗〔2026〕1号） · 已于2026年11月2日备案")
    assert o.last_buttons() == ["登记重大案件报告", "登记抗诉"]
    assert (await unit.rows())[0][5:7] == ("2026-11-02", unit.office_id)
    before = await unit.h.dump(*TABLES)
    again = await o.press_data("npc:filed:1")  # the old button
    assert answers(again) == ["该抗诉案件已备案（2026年11月2日）。"]
    assert await unit.h.dump(*TABLES) == before


async def test_nobody_but_the_office_changes_the_register(unit: Unit) -> None:
    await unit.record_protest()
    before = await unit.h.dump(*TABLES)
    for user in (unit.handler, unit.leader, unit.deputy):
        assert texts(await user.say("/npc")) == [REFUSED]
        for data in ("npc:new:protest", "npc:filed:1"):
            assert texts(await user.press_data(data)) == [REFUSED]
    for data in ("npc:new:other", "npc:filed:99", "npc:filed:x", "npc:filed"):  # forged, by the office
        assert answers(await unit.office.press_data(data)) == ["此选项已失效。"]
    assert await unit.h.dump(*TABLES) == before
    async with unit.h.db.snapshot() as q:
        refused = [r[0] for r in await q.all("SELECT action FROM audit_log WHERE action LIKE 'refused:%'")]
    assert refused == ["refused:npc_register"] * 9


async def tick(harness: Harness, moment: datetime) -> dict[str, int]:
    harness.clock.set(moment)
    result = await harness.app.supervise()
    await harness.app.settle()
    return result.fired


async def test_an_unfiled_protest_is_reminded_weekly_in_working_time_until_it_is_filed(unit: Unit) -> None:
    h = unit.h
    await unit.record_protest()
    assert (await tick(h, at(date(2026, 11, 2), 11)))["protest_unfiled"] == 1
    reminder = [s for s in unit.office.received if s.text.startswith("抗诉案件尚未备案")]
    assert [s.text for s in reminder] == [
        "抗诉案件尚未备案\n张某某故意伤害案（卢检刑抗〔2026〕1号）已于2026年11月2日向人民法院提出抗诉，尚未报县人大常委会备案（《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第四条）。"
        "请及时备案，备案后选择“已备案”。"]
    assert reminder[0].buttons == [("已备案", "npc:filed:1")]
    assert "protest_unfiled" not in await tick(h, at(date(2026, 11, 4)))  # the same week
    assert await tick(h, at(date(2026, 11, 8))) == {}  # a Sunday
    assert await tick(h, at(date(2026, 11, 9), 19)) == {}  # Monday evening
    assert (await tick(h, at(date(2026, 11, 10))))["protest_unfiled"] == 1  # the next week
    assert sum(s.text.startswith("抗诉案件尚未备案") for s in unit.office.received) == 2
    assert not [s for s in unit.leader.received if s.text.startswith("抗诉案件尚未备案")]  # the office's duty
    await unit.office.press("已备案")  # on the reminder
    await unit.office.press("昨天")
    await unit.office.press("确认")
    assert (await unit.rows())[0][5] == "2026-11-09"
    assert "protest_unfiled" not in await tick(h, at(date(2026, 11, 16)))
    assert "protest_unfiled" not in await tick(h, at(date(2026, 11, 23)))
    async with h.db.snapshot() as q:
        keys = [r[0] for r in await q.all("SELECT key FROM reminders WHERE rule = 'protest_unfiled' ORDER BY key")]
    assert keys == ["protest:1:2026-W45", "protest:1:2026-W46"]
