"""Seed §6: law-enforcement supervisors 执法监督员 — 5 to 10 of them, each with a term, invited to case
discussions with the matter's public summary only; their views recorded on the matter's timeline
and sent to its handlers; anyone else's view refused; every refusal changing nothing."""

from __future__ import annotations

from datetime import date

import pytest

from bot.sealing import COMPLAINANT_CONTACT, COMPLAINANT_NAME
from tests.cast import People, answers, at, messages, refuses_forged_choices
from tests.fakes import Harness, Sent

TABLES = ("persons", "supervisor_terms", "events", "invitations", "timeline", "dialogs")
REPORT = "某公司非法占用耕地"


class Supervisors(People):
    """The office, a department's handler, two supervisors on the roster and two other representatives."""

    async def setup(self) -> None:
        h = self.h
        self.office_id = await h.add_staff("陈静", ["office"])
        self.clerk = await self.bind(self.office_id, "3001")
        self.handler = await self.bind(await h.add_staff("刘洋", ["handler"], "第一检察部"), "4001")
        self.wang_id = await h.add_representative("王建国", phone="13800000001", sector="农业界", supervisor=True)
        self.wang = await self.bind(self.wang_id, "1001")
        self.li_id = await h.add_representative("李秀梅", body="cppcc", phone="13800000002", sector="教育界",
                                                supervisor=True)
        self.li = await self.bind(self.li_id, "1002")
        self.zhang_id = await h.add_representative("张伟", phone="13800000003", sector="教育界")
        self.zhang = await self.bind(self.zhang_id, "1003")
        self.zhao_id = await h.add_representative("赵敏", body="cppcc", phone="13800000004", sector="医药卫生界")
        self.zhao = await self.bind(self.zhao_id, "1004")

    async def matter(self, state: str = "assigned") -> int:
        """A report 张伟 referred, with its complainant's name and phone, assigned to the first department."""
        async with self.h.db.transaction() as tx:
            return await tx.insert(
                "INSERT INTO matters (number, kind, representative_id, subject, body, state, department_id, urger_id,"
                " registered_at, due_date, updated_at, complainant_name, complainant_contact) VALUES ('LS-2026-0001',"
                " 'report', ?, ?, '村民反映某公司占用基本农田建厂。', ?, 1, ?, '2026-11-20T02:00:00.000+00:00',"
                " '2027-02-20', '2026-11-20', ?, ?) RETURNING id",
                (self.zhang_id, REPORT, state, self.office_id, tx.sealer.seal("张三", COMPLAINANT_NAME),
                 tx.sealer.seal("13900001111", COMPLAINANT_CONTACT)))

    async def discussion(self, whom: str = "执法监督员", named: tuple[str, ...] = ()) -> list[Sent]:
        c = self.clerk
        await c.say("/event")
        await c.press("案件研讨")
        await c.say("“ls-2026-0001”")  # copied from a message, quotes and all
        await c.say("疑难案件研讨会")
        await c.say("2026-12-03 15:00")
        await c.say("本院第二会议室")
        await c.press("无需部门准备")
        await c.press(whom)
        for name in named:
            await c.say(name)
            await c.press(next(label for label in c.last_buttons() if label.startswith(name)))
        if named:
            await c.press("完成")
        return await c.press("确认")

    async def terms(self) -> list[tuple[object, ...]]:
        async with self.h.db.snapshot() as q:
            return [tuple(r) for r in await q.all(
                "SELECT person_id, starts_on, ends_on, removed_on, created_by, removed_by FROM supervisor_terms"
                " ORDER BY id")]


@pytest.fixture
async def cast(harness: Harness) -> Supervisors:
    cast = Supervisors(harness)
    await cast.setup()
    return cast


async def test_the_office_sees_the_supervisors_with_their_terms_and_is_warned_below_five(cast: Supervisors) -> None:
    listing = await cast.clerk.say("/supervisors")
    assert messages(listing) == [
        "执法监督员\n在任 2 名（《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第六条规定为5至10名）。\n⚠ 在任执法监督员仅 2 名，《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第六条规定应聘请5至10名，请及时增聘。\n"
        "\n王建国 · 人大代表 · 农业界\n名册登记，任期未记录\n2026年案件研讨：受邀 0 次，出席 0 次\n"
        "\n李秀梅 · 政协委员 · 教育界\n名册登记，任期未记录\n2026年案件研讨：受邀 0 次，出席 0 次"]
    assert cast.clerk.last_buttons() == ["聘请执法监督员", "解聘王建国", "解聘李秀梅"]


async def test_the_office_appoints_by_search_with_a_term_and_removes_with_confirmation(cast: Supervisors) -> None:
    c = cast.clerk
    await c.say("/supervisors")
    assert messages(await c.press("聘请执法监督员")) == [
        "聘请执法监督员\n聘请哪位代表委员？请发送其姓名中的部分文字，或其电话号码。"]
    await c.say("张")
    assert messages(await c.press("张伟 · 人大代表 · 教育界")) == [
        "张伟的任期到何时为止？请在下方选项中选择，或发送任期的最后一天，例如 2031-12-31。"]
    assert c.last_buttons() == ["5年，至2031年11月26日", "取消"]
    appointed = await c.press("5年，至2031年11月26日")
    assert messages(appointed)[0] == "已聘请张伟为执法监督员，任期至2031年11月26日。"
    assert "张伟 · 人大代表 · 教育界\n任期：2026年11月27日至2031年11月26日" in messages(appointed)[1]
    await c.press("聘请执法监督员")
    await c.say("13800000004")
    await c.press("赵敏 · 政协委员 · 医药卫生界")
    assert messages(await c.say("2026-11-27")) == ["任期结束日期应在今天之后。"]
    assert messages(await c.say("明年夏天")) == ["抱歉，无法识别该日期。请按 2031-12-31 的格式发送，或在下方选项中选择。"]
    await c.say("2028-06-30")
    await c.press("聘请执法监督员")
    await c.say("张伟")
    before = await cast.h.dump(*TABLES)
    assert messages(await c.press("张伟 · 人大代表 · 教育界")) == ["张伟已是执法监督员。"]
    assert await cast.h.dump(*TABLES) == before
    await c.say("/cancel")
    await c.say("/supervisors")
    assert messages(await c.press("解聘王建国")) == ["确定自今日起解聘执法监督员王建国吗？"]
    removed = await c.press("确认")
    assert messages(removed)[0] == "已解聘执法监督员王建国。"
    assert messages(removed)[1].startswith("执法监督员\n在任 3 名（《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第六条规定为5至10名）。")
    assert "王建国" not in messages(removed)[1]
    o = cast.office_id
    assert await cast.terms() == [(cast.zhang_id, "2026-11-27", "2031-11-26", None, o, None),
                                  (cast.zhao_id, "2026-11-27", "2028-06-30", None, o, None),
                                  (cast.wang_id, "2026-11-27", None, "2026-11-27", o, o)]
    async with cast.h.db.snapshot() as q:
        flags = [tuple(r) for r in await q.all("SELECT name, supervisor FROM persons WHERE body IS NOT NULL ORDER BY id")]
        logged = [tuple(r) for r in await q.all(
            "SELECT action, detail FROM audit_log WHERE action LIKE 'supervisor_%' ORDER BY id")]
    assert flags == [("王建国", 0), ("李秀梅", 1), ("张伟", 1), ("赵敏", 1)]
    assert logged == [("supervisor_appointed", f'{{"ends_on":"2031-11-26","person_id":{cast.zhang_id}}}'),
                      ("supervisor_appointed", f'{{"ends_on":"2028-06-30","person_id":{cast.zhao_id}}}'),
                      ("supervisor_removed", f'{{"person_id":{cast.wang_id}}}')]
    # a term ends by itself: 赵敏 is no longer in office after its last day
    cast.h.clock.set(at(date(2028, 7, 3), 10))
    listing = messages(await c.say("/supervisors"))[0]
    assert listing.startswith("执法监督员\n在任 2 名") and "赵敏" not in listing


async def test_more_than_ten_are_warned_and_the_office_is_reminded_monthly(cast: Supervisors) -> None:
    for n in range(9):
        await cast.h.add_representative(f"代表{n + 1}", phone=f"1360000000{n}", supervisor=True)
    listing = messages(await cast.clerk.say("/supervisors"))[0]
    assert listing.startswith("执法监督员\n在任 11 名（《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第六条规定为5至10名）。\n⚠ 在任执法监督员共 11 名，《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第六条规定应为5至10名。\n")

    async def tick(day: date) -> int:
        cast.h.clock.set(at(day, 9))
        fired = (await cast.h.app.supervise()).fired
        await cast.h.app.settle()
        return fired.get("supervisors", 0)

    assert await tick(date(2026, 12, 1)) == 1
    assert cast.clerk.last == "执法监督员\n在任执法监督员共 11 名，《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第六条规定应为5至10名。"
    assert cast.clerk.last_buttons() == ["执法监督员"]
    assert await tick(date(2026, 12, 15)) == 0  # once a month
    await cast.clerk.press("执法监督员")
    await cast.clerk.press("解聘代表1")
    await cast.clerk.press("确认")
    assert await tick(date(2027, 1, 4)) == 0  # ten: within the range


async def test_a_case_discussion_refuses_a_forged_body_or_sector_and_a_named_non_supervisor(
        cast: Supervisors) -> None:
    """Issue 13: a case discussion's whom step (the shared audience step) offers the supervisors and named
    supervisors only: a body, a sector or everyone pressed with forged data is stale, and naming someone who
    is not a supervisor is refused; nothing changes."""
    await cast.matter()
    c = cast.clerk
    await c.say("/event")
    await c.press("案件研讨")
    for text in ("LS-2026-0001", "疑难案件研讨会", "2026-12-03 15:00", "本院第二会议室"):
        await c.say(text)
    await c.press("无需部门准备")
    tables = ("events", "invitations", "dialogs")
    await refuses_forged_choices(cast.h, c, ("all", "npc", "cppcc", "sector", "s0"), tables)
    await c.press("指定人员")
    await c.say("张伟")
    before = await cast.h.dump(*tables)
    assert messages(await c.press("张伟 · 人大代表 · 教育界")) == ["张伟不是执法监督员，案件研讨只邀请执法监督员参加。"]
    assert await cast.h.dump(*tables) == before


async def test_a_case_discussion_carries_the_public_summary_only_and_records_the_supervisors_views(
        cast: Supervisors) -> None:
    await cast.matter()
    c = cast.clerk
    await c.say("/event")
    await c.press("案件研讨")
    assert c.last == "研讨哪一事项？请发送事项编号，例如 LS-2026-0001。"
    assert messages(await c.say("LS-2026-0009")) == ["未找到该事项。请发送事项编号，例如 LS-2026-0001。"]
    await c.say("ls-2026-0001")
    await c.say("疑难案件研讨会")
    await c.say("2026-12-03 15:00")
    await c.say("本院第二会议室")
    await c.press("无需部门准备")
    assert c.last_buttons() == ["执法监督员", "指定人员", "取消"]
    summary = await c.press("执法监督员")
    assert messages(summary) == ["请核对\n类别：案件研讨\n名称：疑难案件研讨会\n时间：2026年12月3日 15:00\n地点：本院第二会议室\n"
                                 f"研讨事项：LS-2026-0001，举报：{REPORT}\n邀请：执法监督员（共 2 人）"]
    await c.press("确认")
    invitation = cast.wang.last
    assert invitation == ("邀请函\n卢氏县人民检察院诚挚邀请您参加：疑难案件研讨会\n类别：案件研讨\n时间：2026年12月3日 15:00\n"
                          f"地点：本院第二会议室\n研讨事项：LS-2026-0001，举报：{REPORT}\n"
                          "作为执法监督员，您也可以选择下方选项，就该事项发表意见。\n您是否参加？请在下方选项中选择。")
    assert cast.wang.last_buttons() == ["参加", "不参加", "发表意见"]
    for personal in ("张三", "13900001111", "基本农田", "张伟"):  # the complainant, the text, who referred it
        assert all(personal not in s.text for s in cast.wang.received + cast.li.received)
    assert messages(await cast.zhang.say("/my")) and not [s for s in cast.zhang.received if "邀请函" in s.text]

    asked = await cast.wang.press("发表意见")
    assert messages(asked) == [f"发表意见\n研讨事项：LS-2026-0001，举报：{REPORT}\n请在一条消息中写下您的意见。"]
    view = "建议调取土地部门的卫星图片，核实占地面积后再作处理。"
    thanked = await cast.wang.say(view)
    assert messages(thanked) == ["您对LS-2026-0001的意见已转交承办人员。感谢您的监督。"]
    assert cast.handler.last == f"执法监督员意见\n执法监督员王建国就疑难案件研讨会研讨的LS-2026-0001发表意见如下：\n{view}"
    async with cast.h.db.snapshot() as q:
        timeline = tuple(await q.one("SELECT actor_id, event, public, detail FROM timeline WHERE event = 'supervisor_view'"))
        logged = tuple(await q.one("SELECT actor_id, action, matter_id, detail FROM audit_log"
                                   " WHERE action = 'supervisor_view'"))
    assert timeline == (cast.wang_id, "supervisor_view", 0,
                        f'{{"note": "{view}", "event_id": 1, "supervisor_id": {cast.wang_id}}}')
    assert logged == (cast.wang_id, "supervisor_view", 1, f'{{"event_id":1,"supervisor_id":{cast.wang_id}}}')
    assert view in messages(await c.say("/case LS-2026-0001"))[0]  # the office sees it on the matter's card

    # a representative who is not a supervisor, a supervisor not invited, a supervisor removed since
    before = await cast.h.dump(*TABLES)
    refusal = "只有受邀参加该案件研讨的执法监督员可以发表意见。"
    assert answers(await cast.zhang.press_data("sv:view:1")) == [refusal]
    await c.say("/supervisors")
    await c.press("解聘李秀梅")
    await c.press("确认")
    assert answers(await cast.li.press("发表意见")) == [refusal]
    async with cast.h.db.transaction() as tx:
        await tx.execute("UPDATE persons SET supervisor = 1 WHERE id = ?", (cast.zhao_id,))
    assert answers(await cast.zhao.press_data("sv:view:1")) == [refusal]  # a supervisor, but not invited
    after = await cast.h.dump(*TABLES)
    assert after["timeline"] == before["timeline"] and after["dialogs"] == before["dialogs"]
    async with cast.h.db.snapshot() as q:
        refused = [tuple(r) for r in await q.all(
            "SELECT actor_id, action, matter_id FROM audit_log WHERE action = 'refused:give_view' ORDER BY id")]
    assert refused == [(cast.zhang_id, "refused:give_view", 1), (cast.li_id, "refused:give_view", 1),
                       (cast.zhao_id, "refused:give_view", 1)]


async def test_a_case_discussion_invites_supervisors_only_and_needs_an_open_matter(cast: Supervisors) -> None:
    matter = await cast.matter()
    c = cast.clerk
    await c.say("/event")
    await c.press("案件研讨")
    await c.say("LS-2026-0001")
    await c.say("疑难案件研讨会")
    await c.say("2026-12-03 15:00")
    await c.say("本院第二会议室")
    await c.press("无需部门准备")
    await c.press("指定人员")
    await c.say("张伟")
    before = await cast.h.dump(*TABLES)
    assert answers(await c.press("张伟 · 人大代表 · 教育界")) == ["张伟不是执法监督员，案件研讨只邀请执法监督员参加。"]
    assert await cast.h.dump(*TABLES) == before
    await c.say("/cancel")
    async with cast.h.db.transaction() as tx:
        await tx.execute("UPDATE matters SET state = 'closed' WHERE id = ?", (matter,))
    await c.say("/event")
    await c.press("案件研讨")
    assert messages(await c.say("LS-2026-0001")) == ["LS-2026-0001已办结，案件研讨只适用于正在办理的事项。"]


async def test_the_office_sees_how_evenly_the_years_invitations_are_spread(cast: Supervisors) -> None:
    await cast.matter()
    await cast.discussion()
    await cast.discussion(whom="指定人员", named=("王建国",))
    await cast.wang.press("参加")
    cast.h.clock.set(at(date(2026, 12, 3), 16))
    await cast.clerk.press_data("event:att:2")
    await cast.clerk.press("保存")
    listing = messages(await cast.clerk.say("/supervisors"))[0]
    assert "王建国 · 人大代表 · 农业界\n名册登记，任期未记录\n2026年案件研讨：受邀 2 次，出席 1 次" in listing
    assert "李秀梅 · 政协委员 · 教育界\n名册登记，任期未记录\n2026年案件研讨：受邀 1 次，出席 0 次" in listing
    async with cast.h.db.snapshot() as q:
        contact = tuple(await q.one("SELECT representative_id, method, source, source_ref FROM contacts"))
    assert contact == (cast.wang_id, "other", "event", "2")


async def test_only_the_office_manages_the_supervisors(cast: Supervisors) -> None:
    before = await cast.h.dump(*TABLES)
    refusal = "抱歉，只有办公室可以管理执法监督员。"
    assert messages(await cast.handler.say("/supervisors")) == [refusal]
    assert answers(await cast.wang.press_data(f"sv:rmok:{cast.li_id}")) == [refusal]
    assert answers(await cast.handler.press_data("sv:add")) == [refusal]
    assert await cast.h.dump(*TABLES) == before
