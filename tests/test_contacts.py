"""Seed §5, §11; SPEC §6: the contact log and the yearly quota — every representative contacted at
least once a calendar year (in the unit's time zone). The office records contacts in chat step by
step; the office, leaders and discipline inspection see the coverage; a reply to a matter counts as a
contact; the operator imports a contact log from CSV or XLSX, all or nothing, each row once."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.__main__ import main
from bot.config import TOKEN_ENV
from bot.context import Context
from bot.contacts_file import parse_date
from bot.i18n import Translator
from bot.messages import Incoming
from bot.matter.model import Matter
from bot.model import UnitScope
from handlers.liaison.contacts import record_reply_contact
from handlers.liaison.quota import quota_report
from storage import contacts, people
from storage.contacts import Coverage, Tally, Uncontacted
from storage.records import RECORDS
from tests.cast import People, messages
from tests.fakes import Harness, MovableClock, Sent, User

TABLES = ("contacts", "dialogs")  # a refusal writes only its audit entry and its answer
REFUSED = "抱歉，只有办公室可以记录联系情况。"
ASK_WHOM = "记录联系\n请问联系了哪位代表委员？请发送其姓名中的部分文字，或其电话号码。可逐一添加多位。"
METHODS = [("座谈会", "forum"), ("工作汇报会", "work_report"), ("登门走访", "home_visit"), ("邀请视察", "inspection"),
           ("赠送资料", "documents"), ("信函", "letter"), ("征求意见卡", "opinion_card"), ("其他", "other")]
WANG = "王建国 · 人大代表 · 农业界"
WANG2 = "王建华 · 人大代表 · 教育界"
LI = "李秀梅 · 政协委员 · 教育界"
CONTACT_COLUMNS = "representative_id, method, contacted_on, staff_id, note, source, source_ref"


class Liaison(People):
    """The office, a leader, discipline inspection, a handler, and four representatives (one bound)."""

    async def setup(self) -> None:
        h = self.h
        self.clerk_id = await h.add_staff("陈静", ["office"])
        self.clerk = await self.bind(self.clerk_id, "3001")
        self.leader = await self.bind(await h.add_staff("周明", ["leader"]), "6001")
        self.discipline = await self.bind(await h.add_staff("孙磊", ["discipline"]), "5001")
        self.handler = await self.bind(await h.add_staff("刘洋", ["handler"], "第一检察部"), "4001")
        self.wang = await h.add_representative("王建国", phone="13800000001", sector="农业界")
        self.wang2 = await h.add_representative("王建华", phone="13800000002", sector="教育界")
        self.li = await h.add_representative("李秀梅", "cppcc", phone="13900000003", sector="教育界")
        self.zhang = await h.add_representative("张伟", "cppcc", phone="13700000004")
        self.deputy = await self.bind(self.wang, "1001")


async def rows(harness: Harness) -> list[tuple[Any, ...]]:
    async with harness.db.snapshot() as q:
        return [tuple(r) for r in await q.all(f"SELECT {CONTACT_COLUMNS} FROM contacts ORDER BY id")]


def answers(sent: list[Sent]) -> list[str]:
    return [str(s.payload["text"]) for s in sent if s.op == "answer"]


async def record(clerk: User, search: str, label: str, method: str = "座谈会", day: str = "今天",
                 note: str | None = None) -> list[Sent]:
    """One representative, start to finish; `day` a button label or a typed date."""
    await clerk.say("/contact")
    await clerk.say(search)
    await clerk.press(label)
    await clerk.press("完成")
    await clerk.press(method)
    await (clerk.press(day) if day in ("今天", "昨天") else clerk.say(day))
    await (clerk.say(note) if note else clerk.press("无备注"))
    return await clerk.press("确认")


# -- recording a contact in chat ----------------------------------------------------------------


async def test_the_office_records_a_forum_with_two_deputies_found_by_name(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    clerk = cast.clerk
    start = await clerk.say("/contact")
    assert messages(start) == [ASK_WHOM] and start[-1].buttons[0][0] == "取消"
    found = await clerk.say("王建")
    assert messages(found) == ["请选择代表委员，或发送姓名中的其他部分重新查找。"]
    assert [label for label, _ in found[-1].buttons] == [WANG2, WANG, "取消"]
    chosen = await clerk.press(WANG)
    assert messages(chosen) == ["已选择：王建国。如需添加其他人员，请继续发送姓名；全部选好后，请选择“完成”。"]
    assert clerk.last_buttons() == ["完成", "取消"]
    chosen = await clerk.press(WANG2)  # from the same search: its buttons are still good
    assert messages(chosen) == ["已选择：王建国、王建华。如需添加其他人员，请继续发送姓名；全部选好后，请选择“完成”。"]
    again = await clerk.press(WANG)
    assert messages(again) == ["王建国已在名单中。"]
    ways = await clerk.press("完成")
    assert messages(ways) == ["请选择联系形式。"]
    assert clerk.last_buttons() == [label for label, _ in METHODS] + ["取消"]
    days = await clerk.press("座谈会")
    assert messages(days) == ["联系日期是哪一天？请在下方选项中选择，或发送日期，例如 2026-11-20 或 11月20日。"]
    assert clerk.last_buttons() == ["今天", "昨天", "取消"]
    note = await clerk.press("今天")
    assert messages(note) == ["请填写备注，例如交流的内容、赠送的资料；如无备注，请选择“无备注”。"]
    check = await clerk.say("通报今年检察工作情况，听取意见建议。")
    assert messages(check) == [
        "请核对\n联系对象（2 名）：\n王建国 · 人大代表 · 农业界\n王建华 · 人大代表 · 教育界\n联系形式：座谈会\n"
        "联系日期：2026年11月27日\n备注：通报今年检察工作情况，听取意见建议。"]
    assert clerk.last_buttons() == ["确认", "取消"]
    assert await rows(harness) == []  # nothing before the confirmation
    done = await clerk.press("确认")
    assert messages(done) == ["联系已记录\n已记录与王建国、王建华的联系：座谈会，2026年11月27日。\n"
                              "今年已联系 2/4 名代表委员（50%）。"]
    note_text = "通报今年检察工作情况，听取意见建议。"
    assert await rows(harness) == [
        (cast.wang, "forum", "2026-11-27", cast.clerk_id, note_text, "chat", None),
        (cast.wang2, "forum", "2026-11-27", cast.clerk_id, note_text, "chat", None),
    ]
    assert await harness.count("dialogs") == 0
    async with harness.db.snapshot() as q:
        entry = await q.one("SELECT actor_id, action, detail FROM audit_log ORDER BY id DESC LIMIT 1")
    assert (entry["actor_id"], entry["action"]) == (cast.clerk_id, "contact_recorded")
    assert json.loads(entry["detail"]) == {"representatives": [cast.wang, cast.wang2], "method": "forum",
                                           "day": "2026-11-27"}
    # a stale button of the finished dialogue changes nothing
    before = await harness.dump(*TABLES)
    stale = await clerk.press("确认")
    assert answers(stale) == ["此选项已失效。"]
    assert await harness.dump(*TABLES) == before


@pytest.mark.parametrize(("label", "method"), METHODS)
async def test_each_method_of_seed_s5(harness: Harness, label: str, method: str) -> None:
    cast = Liaison(harness)
    await cast.setup()
    done = await record(cast.clerk, "李秀", LI, method=label, day="昨天")
    assert messages(done) == [f"联系已记录\n已记录与李秀梅的联系：{label}，2026年11月26日。\n今年已联系 1/4 名代表委员（25%）。"]
    assert await rows(harness) == [(cast.li, method, "2026-11-26", cast.clerk_id, "", "chat", None)]


async def test_search_by_phone_and_a_search_that_finds_nobody(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    clerk = cast.clerk
    await clerk.say("/contact")
    nobody = await clerk.say("赵")
    assert messages(nobody) == ["未找到与“赵”相符的人大代表或政协委员。请发送姓名中的其他部分，或其电话号码。"]
    assert clerk.last_buttons() == ["取消"]
    staff = await clerk.say("陈静")  # staff are never representatives
    assert messages(staff)[0].startswith("未找到与“陈静”相符")
    found = await clerk.say("139 0000 0003")
    assert [label for label, _ in found[-1].buttons] == [LI, "取消"]
    await clerk.press(LI)
    more = await clerk.say("张")
    assert [label for label, _ in more[-1].buttons] == ["张伟 · 政协委员", "完成", "取消"]


async def test_more_than_eight_matches_offer_the_first_eight(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    for i in range(10):
        await harness.add_representative(f"赵{i}", phone=f"1360000000{i}")
    await cast.clerk.say("/contact")
    found = await cast.clerk.say("赵")
    assert messages(found) == ["相符的人员超过 8 位，以下列出前 8 位。请选择，或发送更完整的姓名以缩小范围。"]
    assert [label for label, _ in found[-1].buttons] == [f"赵{i} · 人大代表" for i in range(8)] + ["取消"]


@pytest.mark.parametrize(("typed", "day"), [
    ("2026-11-20", "2026-11-20"), ("11月20日", "2026-11-20"), ("2026年3月5日", "2026-03-05"),
    ("2025/12/31", "2025-12-31"), ("２０２６－１１－２７", "2026-11-27"), ("1月1日", "2026-01-01"),
])
async def test_a_typed_date(harness: Harness, typed: str, day: str) -> None:
    cast = Liaison(harness)
    await cast.setup()
    await record(cast.clerk, "李秀", LI, day=typed)
    assert [r[2] for r in await rows(harness)] == [day]


async def test_dates_in_the_future_or_not_dates_are_refused_and_change_nothing(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    clerk = cast.clerk
    await clerk.say("/contact")
    await clerk.say("李秀")
    await clerk.press(LI)
    await clerk.press("完成")
    await clerk.press("登门走访")
    before = await harness.dump(*TABLES)
    refusals = {
        "2026-11-28": "2026年11月28日尚未到来。请发送实际联系的日期。",  # tomorrow in Shanghai
        "12月1日": "2026年12月1日尚未到来。请发送实际联系的日期。",
        "明天": "抱歉，无法识别该日期。请按 2026-11-20 或 11月20日 的格式发送，或在下方选项中选择。",
        "2026-02-30": "抱歉，无法识别该日期。请按 2026-11-20 或 11月20日 的格式发送，或在下方选项中选择。",
        "20261120": "抱歉，无法识别该日期。请按 2026-11-20 或 11月20日 的格式发送，或在下方选项中选择。",
    }
    for typed, refusal in refusals.items():
        assert messages(await clerk.say(typed)) == [refusal]
        assert await harness.dump(*TABLES) == before
    # still at the same step: a good date goes on
    assert messages(await clerk.say("2026-11-27"))[0].startswith("请填写备注")
    await clerk.press("无备注")
    await clerk.press("确认")
    assert await rows(harness) == [(cast.li, "home_visit", "2026-11-27", cast.clerk_id, "", "chat", None)]


async def test_over_long_input_is_refused_and_changes_nothing(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    clerk = cast.clerk
    await clerk.say("/contact")
    before = await harness.dump(*TABLES)
    assert messages(await clerk.say("王" * 51)) == ["请发送较短的姓名片段或电话号码（最多 50 个字符）。"]
    assert await harness.dump(*TABLES) == before
    await clerk.say("李秀")
    await clerk.press(LI)
    await clerk.press("完成")
    await clerk.press("信函")
    await clerk.press("今天")
    before = await harness.dump(*TABLES)
    assert messages(await clerk.say("记" * 1001)) == ["内容过长，最多 1000 个字。"]
    assert await harness.dump(*TABLES) == before
    assert answers(await clerk.press("信函")) == ["此选项已失效。"]  # an earlier step's button
    assert await harness.dump(*TABLES) == before


async def test_cancel_records_nothing(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    clerk = cast.clerk
    await clerk.say("/contact")
    await clerk.say("李秀")
    await clerk.press(LI)
    await clerk.press("完成")
    await clerk.press("信函")
    await clerk.press("今天")
    await clerk.press("无备注")
    cancelled = await clerk.press("取消")
    assert messages(cancelled) == ["已取消，未作任何更改。"]
    assert await harness.dump(*TABLES) == {"contacts": [], "dialogs": []}


async def test_nobody_but_the_office_records_a_contact(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    before = await harness.dump(*TABLES)
    for user in (cast.deputy, cast.handler, cast.leader, cast.discipline):
        assert messages(await user.say("/contact")) == [REFUSED]
        forged = await user.press_data("contact:start")
        assert answers(forged) == [REFUSED]
    assert await harness.dump(*TABLES) == before
    async with harness.db.snapshot() as q:
        refused = await q.all("SELECT action FROM audit_log WHERE action LIKE 'refused:%'")
    assert [r["action"] for r in refused] == ["refused:record_contact"] * 8
    # the menu offers it to the office only, and the button starts the dialogue
    assert "记录联系" not in [label for label, _ in (await cast.handler.say("/menu"))[-1].buttons]
    await cast.clerk.say("/menu")
    assert messages(await cast.clerk.press("记录联系")) == [ASK_WHOM]


async def test_help_names_the_commands_for_each_role(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    office_help = messages(await cast.clerk.say("/help"))[0]
    assert "/contact — 记录与代表委员的联系，如座谈会、登门走访、信函等" in office_help
    assert "/quota — 本年度联系情况及尚未联系的代表委员（每年至少联系一次）" in office_help
    leader_help = messages(await cast.leader.say("/help"))[0]
    assert "/quota — " in leader_help and "/contact" not in leader_help
    deputy_help = messages(await cast.deputy.say("/help"))[0]
    assert "/quota" not in deputy_help and "/contact" not in deputy_help


async def test_in_english(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    clerk = harness.user("3001", language_code="en")
    await clerk.say("/lang")
    await clerk.press("English")
    await clerk.say("/contact")
    await clerk.say("李秀")
    await clerk.press("李秀梅 · CPPCC member · 教育界")
    await clerk.press("Done")
    await clerk.press("Home visit")
    await clerk.say("2026-11-20")
    await clerk.say("Brought the annual report.")
    done = await clerk.press("Confirm")
    assert messages(done) == ["Contact recorded\nContact with 李秀梅 recorded: Home visit, November 20, 2026.\n"
                              "This year 1/4 NPC deputies and CPPCC members have been contacted (25%)."]


# -- the quota ------------------------------------------------------------------------------------


async def reply_contact(harness: Harness, rep_id: int, number: str, via: str, by: int | None) -> None:
    """What the reply-sending code does, in the transaction that sends the reply."""
    matter = Matter(id=1, number=number, kind="suggestion", representative_id=rep_id, subject="", body="",
                    received_via="chat", complainant_name=None, complainant_contact=None,
                    disputes_own_handling=False, original_department_id=None, state="replied", major=False,
                    department_id=None, urger_id=None, registered_at="2026-09-01T00:00:00.000+00:00",
                    due_date=date(2026, 12, 1))
    async with harness.db.transaction() as tx:
        person = await people.get(tx, by) if by is not None else None
        ctx = Context(tx=tx, inc=Incoming(channel="test", user_id="x", chat_id="x"), now=harness.clock.now(),
                      config=harness.app.config, person=person,
                      _=Translator("zh_Hans", harness.app.config.unit.tz), records=RECORDS)
        await record_reply_contact(ctx, matter, via)


async def add(harness: Harness, rep_id: int, day: str, method: str = "forum", source: str = "chat",
              ref: str | None = None) -> bool:
    async with harness.db.transaction() as tx:
        return await contacts.add(tx, 1, rep_id, method, date.fromisoformat(day), None, "", source,
                                  harness.clock.now(), source_ref=ref)


async def test_quota_counts_this_calendar_year_by_body_and_sector(harness: Harness) -> None:
    """§11: contacted this year, only last year, never, or by a reply to a matter (§7)."""
    cast = Liaison(harness)
    await cast.setup()
    zhao = await harness.add_representative("赵刚", phone="13600000005", sector="农业界")
    sun = await harness.add_representative("孙丽", phone="13600000006")
    qian = await harness.add_representative("钱明", "cppcc", phone="13600000007", sector="经济界")
    await record(cast.clerk, "王建国", WANG, day="2026-03-10")  # this year, in chat
    assert await add(harness, zhao, "2025-12-31")  # only last year
    assert await add(harness, zhao, "2025-06-01", "letter", "import", "row-1")
    assert await add(harness, qian, "2026-01-01", "documents", "import", "row-2")  # the first day of this year
    assert not await add(harness, qian, "2026-01-01", "documents", "import", "row-2")  # once only
    await reply_contact(harness, cast.wang2, "LS-2026-0007", "chat", cast.clerk_id)
    await reply_contact(harness, cast.wang2, "LS-2026-0007", "chat", cast.clerk_id)  # once per matter and day
    await reply_contact(harness, cast.zhang, "LS-2025-0031", "in_person", None)
    assert (await rows(harness))[-2:] == [
        (cast.wang2, "letter", "2026-11-27", cast.clerk_id, "", "reply", "LS-2026-0007"),
        (cast.zhang, "other", "2026-11-27", None, "", "reply", "LS-2025-0031"),
    ]
    expected = (
        "2026年联系情况\n"
        "已联系 4/7 名代表委员（57%）\n"
        "人大代表：2/4\n"
        "政协委员：2/3\n"
        "按界别：\n"
        "农业界：1/2\n"
        "教育界：1/2\n"
        "经济界：1/1\n"
        "（未填界别）：1/2\n"
        "尚未联系（3 名）：\n"
        "赵刚 · 人大代表 · 农业界\n"
        "孙丽 · 人大代表\n"
        "李秀梅 · 政协委员 · 教育界"
    )
    for user in (cast.clerk, cast.leader, cast.discipline):
        assert messages(await user.say("/quota")) == [expected]
    async with harness.db.snapshot() as q:
        cov = await contacts.coverage(q, UnitScope.of(1), 2026)
        assert (cov.total, cov.contacted, cov.percent) == (7, 4, 57)
        assert cov.by_body == {"npc": Tally(2, 4), "cppcc": Tally(2, 3)}
        assert cov.by_sector == {"农业界": Tally(1, 2), "教育界": Tally(1, 2), "经济界": Tally(1, 1), "": Tally(1, 2)}
        assert cov.not_contacted == [Uncontacted(zhao, "赵刚", "npc", "农业界"), Uncontacted(sun, "孙丽", "npc", ""),
                                     Uncontacted(cast.li, "李秀梅", "cppcc", "教育界")]
        last_year = await contacts.coverage(q, UnitScope.of(1), 2025)
        assert (last_year.contacted, [p.name for p in last_year.not_contacted]) == (
            1, ["王建国", "王建华", "孙丽", "李秀梅", "钱明", "张伟"])
        assert [(c.representative_id, c.contacted_on) for c in await contacts.of_year(q, 2026)] == [
            (qian, date(2026, 1, 1)), (cast.wang, date(2026, 3, 10)), (cast.wang2, date(2026, 11, 27)),
            (cast.zhang, date(2026, 11, 27))]
        assert await contacts.contacts_by_staff(q, UnitScope.of(1), 2026) == {cast.clerk_id: 2}
        assert await contacts.contacts_by_staff(q, UnitScope.of(1), 2025) == {}


async def test_quota_is_not_for_deputies_or_handlers(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    for user in (cast.deputy, cast.handler):
        assert messages(await user.say("/quota")) == ["此功能仅供办公室、纪检监察部门和院领导使用。"]


async def test_quota_when_everyone_was_contacted_and_when_nobody_is_on_the_roster(harness: Harness) -> None:
    clerk_id = await harness.add_staff("陈静", ["office"])
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    assert messages(await clerk.say("/quota")) == ["2026年联系情况\n名册中尚无人大代表或政协委员。"]
    rep = await harness.add_representative("王建国", sector="农业界")
    await add(harness, rep, "2026-05-01")
    assert messages(await clerk.say("/quota")) == [
        "2026年联系情况\n已联系 1/1 名代表委员（100%）\n人大代表：1/1\n政协委员：0/0\n按界别：\n农业界：1/1\n"
        "名册中的代表委员2026年均已联系。"]


async def test_the_year_ends_at_midnight_in_shanghai(harness: Harness) -> None:
    """2026-12-31 23:30 in Shanghai is 15:30 UTC: still 2026. An hour later it is 2027 in Shanghai,
    while in UTC it is still 31 December."""
    cast = Liaison(harness)
    await cast.setup()
    harness.clock.set(datetime(2026, 12, 31, 15, 30, tzinfo=UTC))
    await record(cast.clerk, "李秀", LI, day="今天")
    await reply_contact(harness, cast.wang, "LS-2026-0009", "paper", cast.clerk_id)
    assert [r[2] for r in await rows(harness)] == ["2026-12-31", "2026-12-31"]
    assert messages(await cast.clerk.say("/quota"))[0].startswith("2026年联系情况\n已联系 2/4 名代表委员（50%）")
    harness.clock.advance(hours=1)
    assert messages(await cast.clerk.say("/quota"))[0].startswith("2027年联系情况\n已联系 0/4 名代表委员（0%）")
    done = await record(cast.clerk, "张", "张伟 · 政协委员", day="今天")
    assert "2027年1月1日" in messages(done)[0] and "今年已联系 1/4 名代表委员（25%）" in messages(done)[0]
    assert [r[2] for r in await rows(harness)] == ["2026-12-31", "2026-12-31", "2027-01-01"]


async def test_a_long_list_shows_the_first_fifty_names_within_telegrams_limit(harness: Harness) -> None:
    cast = Liaison(harness)
    await cast.setup()
    for i in range(116):
        await harness.add_representative(f"测试代表{i:03d}", "npc" if i % 2 else "cppcc", phone=f"1350000{i:04d}",
                                         sector=f"第{i % 30:02d}界别" + "很长的界别名称" * 10)
    text = messages(await cast.clerk.say("/quota"))[0]
    assert len(text) < 4096
    lines = text.split("\n")
    at = lines.index("尚未联系（120 名）：")
    assert len(lines[at + 1:-1]) == 50 and lines[-1] == "……另有 70 名"
    assert lines[at + 1] == "王建国 · 人大代表 · 农业界"


def test_the_quota_message_fits_whatever_the_roster_holds() -> None:
    """Names of 50 characters and 300 sectors of 200: fewer names are listed, and then fewer sectors."""
    zh = Translator("zh_Hans", ZoneInfo("Asia/Shanghai"))
    sectors = [f"{i:03d}" + "界" * 197 for i in range(300)]
    missing = [Uncontacted(i, "名" * 50, "npc", sectors[i]) for i in range(300)]
    cov = Coverage(2026, 300, 0, missing, {"npc": Tally(0, 300), "cppcc": Tally(0, 0)},
                   {s: Tally(0, 1) for s in sectors})
    reply = quota_report(zh, cov)
    full = f"{reply.title}\n{reply.text}"
    assert len(full.encode("utf-16-le")) // 2 <= 4000
    assert reply.text.endswith("……另有 300 名")
    assert "……另有" in reply.text and "个界别" in reply.text


# -- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "year", "day"), [
    ("2026-11-20", None, date(2026, 11, 20)), ("2026/1/5", None, date(2026, 1, 5)),
    ("2026.01.05", None, date(2026, 1, 5)), ("2026-11-20 00:00:00", None, date(2026, 11, 20)),
    ("2026年11月20日", None, date(2026, 11, 20)), ("11月20日", 2026, date(2026, 11, 20)),
    ("11月20号", 2025, date(2025, 11, 20)), ("11月20日", None, None), ("2026-02-29", None, None),
    ("昨天", 2026, None), ("", 2026, None), ("2026-11", None, None),
])
def test_parse_date(text: str, year: int | None, day: date | None) -> None:
    assert parse_date(text, year) == day


# -- import-contacts ------------------------------------------------------------------------------

ROSTER = (
    "姓名,类别,界别,电话\n"
    "王建国,人大代表,农业界,13800000001\n"
    "李秀梅,政协委员,教育界,13900000002\n"
    "张伟,人大代表,,13700000003\n"
    "张伟,政协委员,,13700000004\n"
)
GOOD = (
    "姓名,方式,日期,工作人员,备注\n"
    "王建国,座谈会,2025-06-20,陈静,通报上半年工作\n"
    "李秀梅,登门走访,2025/12/01,,\n"
    "王建国,letter,2025年3月5日,,赠送检察工作报告\n"
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("[storage]\n"
                      f"database = {json.dumps((tmp_path / 'liaison.db').as_posix())}\n"
                      f"files_dir = {json.dumps((tmp_path / 'files').as_posix())}\n", encoding="utf-8")
    run = Cli(config, tmp_path, capsys)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert run("import-roster", str(roster))[0] == 0
    assert run("staff", "add", "--name", "陈静", "--roles", "office")[0] == 0  # person 5
    yield run


class Cli:
    def __init__(self, config: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.config, self.folder, self.capsys = config, folder, capsys
        self.db = folder / "liaison.db"

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        status = main(["--config", str(self.config), *argv], MovableClock())
        out, err = self.capsys.readouterr()
        return status, out, err

    def csv(self, text: str, name: str = "contacts.csv") -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db)) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    def contacts(self) -> list[tuple[Any, ...]]:
        return self.query(f"SELECT {CONTACT_COLUMNS.replace('source_ref', 'length(source_ref)')} FROM contacts"
                          " ORDER BY id")

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        tables = [t for (t,) in self.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: self.query(f"SELECT * FROM {t} ORDER BY 1") for t in tables}


IMPORTED = [
    (1, "forum", "2025-06-20", 5, "通报上半年工作", "import", 32),
    (2, "home_visit", "2025-12-01", None, "", "import", 32),
    (1, "letter", "2025-03-05", None, "赠送检察工作报告", "import", 32),
]


def test_import_contacts_from_csv_and_again_adds_nothing(cli: Cli) -> None:
    path = cli.csv(GOOD)
    assert cli("import-contacts", path) == (0, "imported 3 rows: 3 contacts added, 0 already recorded\n", "")
    assert cli.contacts() == IMPORTED
    before = cli.dump()
    assert cli("import-contacts", path) == (0, "imported 3 rows: 0 contacts added, 3 already recorded\n", "")
    assert cli.dump() == before
    # the same row twice in one file, and once more in another file: one contact
    twice = GOOD + "李秀梅,征求意见卡,2025-09-09,,\n李秀梅,征求意见卡,2025-09-09,,\n"
    assert cli("import-contacts", cli.csv(twice, "more.csv"))[1] == \
        "imported 5 rows: 1 contacts added, 4 already recorded\n"
    assert cli.contacts() == [*IMPORTED, (2, "opinion_card", "2025-09-09", None, "", "import", 32)]


def test_import_contacts_from_xlsx_with_english_header_and_date_cells(cli: Cli) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Name", "Method", "Date", "Staff", "Note"],
                ["王建国", "home_visit", datetime(2025, 7, 1), "陈静", None],
                ["李秀梅", "Opinion card", "2025-08-02", None, "returned the card"],
                ["李秀梅", "工作汇报会", date(2025, 8, 3), "", ""]):
        sheet.append(row)
    path = cli.folder / "contacts.xlsx"
    book.save(path)
    status, out, _ = cli("import-contacts", str(path), "--json")
    assert (status, json.loads(out)) == (0, {"ok": True, "message": "imported 3 rows: 3 contacts added, "
                                             "0 already recorded", "added": 3, "unchanged": 0})
    assert cli.contacts() == [(1, "home_visit", "2025-07-01", 5, "", "import", 32),
                              (2, "opinion_card", "2025-08-02", None, "returned the card", "import", 32),
                              (2, "work_report", "2025-08-03", None, "", "import", 32)]


def test_import_contacts_reads_the_headers_the_chat_uses(cli: Cli) -> None:
    """The chat says 联系形式 and 联系日期 (seed §5); a sheet headed as the chat writes them is read, as the older
    联络方式 and 联络日期 still are."""
    for number, header in enumerate(("姓名,联系形式,联系日期\n", "姓名,联络方式,联络日期\n")):
        path = cli.csv(header + "王建国,座谈会,2025-06-2" + str(number) + "\n", f"h{number}.csv")
        assert cli("import-contacts", path)[:2] == (0, "imported 1 rows: 1 contacts added, 0 already recorded\n")
    assert [row[:3] for row in cli.contacts()] == [(1, "forum", "2025-06-20"), (1, "forum", "2025-06-21")]


def test_a_file_with_problems_imports_nothing_and_lists_them_all(cli: Cli) -> None:
    before = cli.dump()
    bad = (
        "姓名,方式,日期,工作人员,备注\n"
        "王建国,座谈会,2025-06-20,陈静,\n"  # line 2: good
        "无名氏,座谈会,2025-06-20,,\n"  # line 3: not on the roster
        "张伟,信函,2025-06-21,,\n"  # line 4: two of that name
        "李秀梅,电话,2025-06-22,,\n"  # line 5: not a method
        "李秀梅,信函,2025-13-01,,\n"  # line 6: not a date
        "李秀梅,信函,2999-01-01,,\n"  # line 7: in the future
        "李秀梅,信函,2025-06-23,李四,\n"  # line 8: no such staff member
        ",信函,2025-06-23,,\n"  # line 9: no name
        "\n"  # line 10: blank, skipped
        "陈静,信函,2025-06-23,,\n"  # line 11: staff, not a representative
    )
    status, out, err = cli("import-contacts", cli.csv(bad))
    assert (status, out) == (1, "")
    assert err == (
        "nothing imported; the file has problems:\n"
        "line 3: nobody named '无名氏' on the roster of representatives\n"
        "line 4: more than one representative on the roster is named '张伟'\n"
        "line 5: '电话' is not a contact method (座谈会, 工作汇报会, 登门走访, 邀请视察, 赠送资料, 信函, 征求意见卡, 其他)\n"
        "line 6: '2025-13-01' is not a date (YYYY-MM-DD)\n"
        "line 7: 2999-01-01 is in the future\n"
        "line 8: no staff member named '李四'\n"
        "line 9: name is missing\n"
        "line 11: nobody named '陈静' on the roster of representatives\n"
    )
    assert cli.dump() == before


@pytest.mark.parametrize(("text", "error"), [
    ("姓名,日期\n王建国,2025-06-20\n", "the column method is missing"),
    ("姓名,方式,日期\n", "the file holds no contacts"),
    ("a,b,c\n1,2,3\n", "line 1: no header row (姓名/name, 方式/method, 日期/date, ...)"),
])
def test_a_file_without_the_columns_or_rows(cli: Cli, text: str, error: str) -> None:
    before = cli.dump()
    assert cli("import-contacts", cli.csv(text)) == (1, "", f"nothing imported; the file has problems:\n{error}\n")
    assert cli.dump() == before


def test_a_missing_file_or_another_format(cli: Cli) -> None:
    assert cli("import-contacts", str(cli.folder / "nope.csv")) == (1, "", f"no such file: {cli.folder / 'nope.csv'}\n")
    other = cli.folder / "contacts.txt"
    other.write_text("x", encoding="utf-8")
    assert cli("import-contacts", str(other))[2] == "nothing imported; the file has problems:\nnot a CSV or XLSX file (.txt)\n"
