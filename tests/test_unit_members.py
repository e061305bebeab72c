"""Memberships (issue 17, docs/design-units.md step 2): the same deputy may sit in a county's congress and another
unit's (§18, "procuratorates at both levels of the city"). One person, one chat, a membership per unit with that
unit's body, sector and supervisor flag: each unit counts them for its own quota (§11), lists them in its
audiences, and receives the matters they choose to send it (asked only when they are on more than one roster);
they follow, and rate, their matters in each unit from the one chat.

LS (unit 1, tests/cast.py's Cast) and LB (its neighbour, County); LB's deputy 张华 is on LS's roster too.
"""

from __future__ import annotations

from datetime import date

from bot.model import UnitScope
from bot.roster_file import RosterRow
from storage import contacts, dialogs, people, roster
from tests.cast import STALE, TABLES, Cast, appeal_up_to_the_dispute, refuses_forged_choices
from tests.fakes import Harness
from tests.test_unit_staff import County, _counts, two_units

LS, LS_NAME, LB_NAME = 1, "卢氏县人民检察院", "灵宝市人民检察院"


async def _on_both_rosters(harness: Harness) -> tuple[Cast, County, int]:
    """LS's people, LB's, and LB's deputy 张华 put on LS's roster by LS's import (found by her phone)."""
    ls, county, lb = await two_units(harness)
    row = RosterRow(line=2, external_id=None, name="张华", body="cppcc", sector="教育界", organization="",
                    phone="13800000009", supervisor=True)
    async with harness.db.transaction() as tx:
        result = await roster.upsert(tx, UnitScope.of(LS), [row], harness.clock.now())
    assert (result.added, result.joined) == (0, ("张华",))
    return ls, county, lb


async def _submit_to(harness: Harness, county: County, unit_name: str) -> None:
    d = county.deputy
    asked = await d.say("/submit")
    assert "多个检察院" in asked[-1].text and {LS_NAME, LB_NAME} <= set([b[0] for b in asked[-1].buttons])
    await d.press(unit_name)
    await d.press("建议")
    await d.say("关于校园周边安全")
    await d.say("建议加强校园周边巡查。")
    await d.press("完成")
    await d.press("无附件")
    summary = county.deputy.last
    assert f"{unit_name}" in summary  # the summary says where it goes
    await d.press("确认提交")


async def test_s18_a_deputy_on_two_rosters_chooses_the_unit_and_that_units_office_is_told(harness: Harness) -> None:
    """§18: a matter goes to the unit the deputy chooses, numbered with its prefix, told to its office alone."""
    ls, county, lb = await _on_both_rosters(harness)
    since = _counts(ls.office, county.office)
    await _submit_to(harness, county, LS_NAME)
    assert "LS-2026-0001" in county.deputy.last and f"提交给：{LS_NAME}" in county.deputy.last  # the receipt
    told = [s.text for s in ls.office.received[since[ls.office.user_id]:] if "LS-2026-0001" in s.text]
    assert told and "张华委员" in told[0]  # as LS's roster has her: a CPPCC member (LB's: an NPC deputy)
    assert len(county.office.received) == since[county.office.user_id]  # LB's office: nothing
    await _submit_to(harness, county, LB_NAME)
    assert "LB-2026-0001" in county.deputy.last
    async with harness.db.snapshot() as q:
        rows = [tuple(r) for r in await q.all("SELECT number, unit_id FROM matters ORDER BY id")]
    assert rows == [("LS-2026-0001", LS), ("LB-2026-0001", lb)]
    listing = (await county.deputy.say("/my"))[0].text  # one chat follows both
    assert "LS-2026-0001" in listing and "LB-2026-0001" in listing


async def test_s10_the_deputy_rates_the_reply_of_the_unit_that_is_not_their_first(harness: Harness) -> None:
    """§10: the reply of LS (not the deputy's first unit) reaches them and their rating is taken."""
    ls, county, _lb = await _on_both_rosters(harness)
    await _submit_to(harness, county, LS_NAME)
    await ls.assign()
    await ls.conclude_and_reply(ls.handler2)
    await ls.approve()
    assert county.deputy.last.startswith("答复")
    await county.deputy.press("满意")
    done = await county.deputy.press("不补充意见")
    assert [r.text for r in done if r.op == "message"] == ["感谢您的评价和监督。"]
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT state FROM matters WHERE number = 'LS-2026-0001'") == "closed"


async def test_a_unit_not_theirs_cannot_be_chosen(harness: Harness) -> None:
    """The unit button is user input: a unit the deputy is not on the roster of (or none) is stale, nothing
    changed; a deputy on one roster is never asked."""
    ls, county, lb = await two_units(harness)
    await ls.deputy.say("/submit")
    assert "多个检察院" not in ls.deputy.last  # one unit: straight to the kind
    await ls.deputy.say("/cancel")
    async with harness.db.transaction() as tx:
        await roster.upsert(tx, UnitScope.of(LS), [RosterRow(2, None, "张华", "npc", "", "", "13800000009", False)],
                            harness.clock.now())
    await county.deputy.say("/submit")
    await refuses_forged_choices(harness, county.deputy, (f"unit{lb + 5}", "unit0", "unitx"), (*TABLES, "dialogs"))
    async with harness.db.transaction() as tx:  # taken off LS's roster while the question was open
        assert await roster.leave(tx, UnitScope.of(LS), (await people.find_by_name_anywhere(tx, "张华"))[0].id,
                                  harness.clock.now())
    pressed = await county.deputy.press(LS_NAME)
    assert [s.text for s in pressed if s.op == "answer"] == [STALE]


async def test_s11_each_unit_counts_its_members_and_its_own_contacts(harness: Harness) -> None:
    """§11: 张华 is on LS's quota and LB's; a contact by LS counts for LS only; each unit sees her with its own
    body and sector; LS's supervisors include her (LS's roster says so), LB's do not."""
    ls, county, lb = await _on_both_rosters(harness)
    async with harness.db.transaction() as tx:
        zhang = (await people.find_by_name(tx, UnitScope.of(lb), "张华"))[0]
        assert zhang.units == {LS, lb} and zhang.unit_id == lb
        year = harness.clock.now().year
        before = {u: await contacts.coverage(tx, UnitScope.of(u), year) for u in (LS, lb)}
        assert await contacts.add(tx, LS, zhang.id, "forum", date(year, 3, 3), None, "", "chat", harness.clock.now())
        after = {u: await contacts.coverage(tx, UnitScope.of(u), year) for u in (LS, lb)}
        assert after[LS].contacted == before[LS].contacted + 1 and after[lb].contacted == before[lb].contacted
        assert zhang.id in {u.id for u in after[lb].not_contacted}
        assert {(u.id, u.body, u.sector) for u in after[LS].not_contacted} == {
            (u.id, u.body, u.sector) for u in before[LS].not_contacted if u.id != zhang.id}
        both = await contacts.coverage(tx, UnitScope(LS, frozenset({LS, lb})), year)  # a roll-up: the sum
        assert (both.total, both.contacted) == (after[LS].total + after[lb].total,
                                                after[LS].contacted + after[lb].contacted)
        as_ls = await people.get(tx, zhang.id, as_in=LS)
        assert as_ls is not None and (as_ls.body, as_ls.sector) == ("cppcc", "教育界")
        assert (zhang.body, zhang.sector) == ("npc", "")  # LB's roster
        assert zhang.id in await people.representative_ids(tx, UnitScope.of(LS), body="cppcc")
        assert zhang.id not in await people.representative_ids(tx, UnitScope.of(lb), body="cppcc")
        assert "教育界" in await people.sectors(tx, UnitScope.of(LS))
        today = harness.clock.now().date()
        from storage import events
        assert zhang.id in [s.person_id for s in await events.supervisors(tx, UnitScope.of(LS), today)]
        assert zhang.id not in [s.person_id for s in await events.supervisors(tx, UnitScope.of(lb), today)]


async def test_each_office_finds_the_deputy_on_its_own_roster(harness: Harness) -> None:
    """Registering on a deputy's behalf: LS's office finds 张华 once she is on LS's roster, labelled as LS's roster
    has her; before, as another unit's deputy, not at all."""
    ls, county, lb = await two_units(harness)
    await ls.office.say("/register")
    found = await ls.office.say("张华")
    assert not any("张华" in label for label in [b[0] for b in found[-1].buttons])
    await ls.office.say("/cancel")
    async with harness.db.transaction() as tx:
        await roster.upsert(tx, UnitScope.of(LS), [RosterRow(2, None, "张华", "cppcc", "教育界", "", "13800000009",
                                                             False)], harness.clock.now())
    await ls.office.say("/register")
    found = await ls.office.say("张华")
    assert any("张华" in label and "教育界" in label for label in [b[0] for b in found[-1].buttons])


async def test_a_disabled_deputys_notices_go_to_the_office_of_the_matters_unit(harness: Harness) -> None:
    """张华's access taken away (by LB, her first unit): what LS owes her about LS's matter goes to LS's office to
    pass on, not LB's."""
    from handlers.people import access

    ls, county, lb = await _on_both_rosters(harness)
    await _submit_to(harness, county, LS_NAME)
    async with harness.db.transaction() as tx:
        zhang = (await people.find_by_name(tx, UnitScope.of(lb), "张华"))[0]
        await access.disable(tx, harness.clock.now(), None, zhang)
    since = _counts(ls.office, county.office)
    await ls.assign()
    await ls.conclude_and_reply(ls.handler2)
    await ls.approve()
    forwarded = [s.text for s in ls.office.received[since[ls.office.user_id]:] if "张华的账号已停用" in s.text]
    assert forwarded and "LS-2026-0001" in forwarded[-1]
    assert len(county.office.received) == since[county.office.user_id]


async def test_a_phone_of_another_units_representative_under_another_name_refuses_the_file(harness: Harness) -> None:
    """One number, one human: LS's row 王五 with 张华's phone (LB's) is refused with the whole file, nothing
    imported (either the number or the name is wrong); nobody is merged."""
    ls, county, lb = await two_units(harness)
    before = await harness.dump("persons", "memberships")
    rows = [RosterRow(2, None, "赵六", "npc", "", "", "13800000077", False),
            RosterRow(3, None, "王五", "npc", "", "", "13800000009", False)]
    async with harness.db.transaction() as tx:
        try:
            await roster.upsert(tx, UnitScope.of(LS), rows, harness.clock.now())
        except roster.PhoneElsewhereError as refused:
            assert refused.lines == [(3, "王五", "张华", lb)]
        else:
            raise AssertionError("imported")
    assert await harness.dump("persons", "memberships") == before


async def test_a_member_reimported_under_another_key_is_found_by_the_phone(harness: Harness) -> None:
    """LS put 张华 on its roster with its id column (9); a later LS file without ids (and with another body)
    finds her again by her phone: her LS membership updated, no second person, no crash on the roster keys."""
    ls, county, lb = await two_units(harness)
    async with harness.db.transaction() as tx:
        first = await roster.upsert(tx, UnitScope.of(LS), [RosterRow(2, "9", "张华", "npc", "", "", "13800000009",
                                                                     False)], harness.clock.now())
        again = await roster.upsert(tx, UnitScope.of(LS), [RosterRow(2, None, "张华", "cppcc", "", "", "13800000009",
                                                                     False)], harness.clock.now())
        assert (first.joined, again.added, again.updated, again.joined) == (("张华",), 0, 1, ())
        assert await tx.scalar("SELECT COUNT(*) FROM persons WHERE name = '张华'") == 1
        assert await tx.scalar("SELECT body FROM memberships WHERE unit_id = ?", (LS,)) == "cppcc"


async def test_s10_a_deputy_taken_off_a_roster_is_still_answered_on_their_matter_there(harness: Harness) -> None:
    """§10, §3: 张华 leaves LS's roster (still LB's) with LS's matter open: LS still replies (its reply recorded as
    LS's contact), and she still follows and rates it."""
    ls, county, lb = await _on_both_rosters(harness)
    await _submit_to(harness, county, LS_NAME)
    async with harness.db.transaction() as tx:
        zhang = (await people.find_by_name(tx, UnitScope.of(lb), "张华"))[0]
        assert await roster.leave(tx, UnitScope.of(LS), zhang.id, harness.clock.now())
    await ls.assign()
    await ls.conclude_and_reply(ls.handler2)
    await ls.approve()
    assert county.deputy.last.startswith("答复")
    assert "LS-2026-0001" in (await county.deputy.say("/my"))[0].text
    await county.deputy.press("满意")
    await county.deputy.press("不补充意见")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT state FROM matters WHERE number = 'LS-2026-0001'") == "closed"
        assert await q.scalar("SELECT unit_id FROM contacts WHERE source = 'reply'") == LS


async def test_s11_the_same_contact_file_row_counts_for_each_unit_that_imports_it(harness: Harness) -> None:
    """§11: LS and LB both record the same forum with 张华 (the same row in each unit's file): each unit's quota
    counts her as contacted."""
    from bot.contacts_file import ContactRow

    ls, county, lb = await _on_both_rosters(harness)
    year = harness.clock.now().year
    row = ContactRow(2, "张华", "forum", date(year, 3, 3), "", "")
    async with harness.db.transaction() as tx:
        for unit in (lb, LS):
            result = await contacts.import_rows(tx, UnitScope.of(unit), [row], harness.clock.now())
            assert result.added == 1, unit
        for unit in (lb, LS):
            coverage = await contacts.coverage(tx, UnitScope.of(unit), year)
            assert "张华" not in {u.name for u in coverage.not_contacted}, unit


async def test_a_person_read_by_id_by_chat_or_as_a_member_has_the_same_roles_and_units(harness: Harness) -> None:
    """The lookup of every update's sender reads the person, their roles and their units in one statement
    (storage/people.py `arriving`, docs/performance.md §9): the same person as the statement-per-part read gives."""
    ls, county, lb = await _on_both_rosters(harness)
    office_id = await harness.add_staff("孙敏", ["office", "leader"], unit=LS)
    async with harness.db.snapshot() as q:
        arrival = await people.arriving(q, "test", county.deputy.user_id)
        deputy = arrival.person
        assert deputy is not None and not arrival.elsewhere  # one chat account: nothing to record as the latest
        assert arrival.dialog is None  # none under way
        by_id = await people.get(q, deputy.id)
        as_member = await people.get(q, deputy.id, as_in=lb)  # the other read: roles and memberships row by row
        staff = await people.get(q, office_id)
    assert deputy == by_id == as_member and deputy.units == frozenset({LS, lb})
    assert staff is not None and staff.roles == frozenset({"office", "leader"}) and staff.units == frozenset()


async def test_an_update_reads_its_sender_and_their_dialogue_in_one_statement(harness: Harness) -> None:
    """`people.arriving`: the person bound to the chat account (none for a stranger or a disabled person) and the
    dialogue under way there — the same as `dialogs.load` reads."""
    ls, county, lb = await _on_both_rosters(harness)
    await county.deputy.say("/submit")  # the unit question: a dialogue is under way
    async with harness.db.snapshot() as q:
        arrival = await people.arriving(q, "test", county.deputy.user_id)
        stored = await dialogs.load(q, f"test:{county.deputy.user_id}")
        stranger = await people.arriving(q, "test", "99999")
    assert arrival.person is not None and arrival.person.name == "张华"
    assert stored is not None and arrival.dialog == stored and (stored.flow, stored.step) == ("intake", "unit")
    assert (stranger.person, stranger.elsewhere, stranger.dialog) == (None, False, None)


async def test_s18_either_office_finds_a_shared_deputy_and_is_told_only_its_own_open_matters(harness: Harness) -> None:
    """A deputy on two rosters is each unit's to look up (/access finds her as LS's member too); the office that
    takes her access away is told of its own unit's open matters only, never another unit's numbers."""
    ls, county, lb = await _on_both_rosters(harness)
    await _submit_to(harness, county, LS_NAME)  # LS-2026-0001
    await _submit_to(harness, county, LB_NAME)  # LB-2026-0001
    shown = " ".join(s.text for s in await ls.office.say("/access show 张华"))
    assert "张华" in shown and "没有名为" not in shown  # LS finds its own member (her first unit is LB)
    told = " ".join(s.text for s in await county.office.say("/access disable 张华"))
    assert "LB-2026-0001" in told and "LS-2026-0001" not in told


async def test_undelivered_messages_count_for_the_matters_unit_and_for_each_roster_the_person_is_on(
        harness: Harness) -> None:
    """The office's count of messages that did not reach their person: one about LS's matter is LS's alone, however
    the deputy's first unit is LB; one about no matter to a deputy on both rosters concerns both offices."""
    ls, county, lb = await _on_both_rosters(harness)
    await _submit_to(harness, county, LS_NAME)  # LS-2026-0001
    async with harness.db.transaction() as tx:
        person = await tx.scalar("SELECT id FROM persons WHERE name = '张华'")
        matter = await tx.scalar("SELECT id FROM matters WHERE number = 'LS-2026-0001'")
        # what LS sends her about its matter does not reach her: she has blocked the bot
        await tx.execute("INSERT INTO outbox (channel, chat_id, op, payload, policy, person_id, matter_id, state,"
                         " created_at, not_before) SELECT channel, chat_id, op, payload, policy, person_id, ?,"
                         " 'blocked', created_at, not_before FROM outbox WHERE person_id = ? LIMIT 1", (matter, person))
    ls_inbox = " ".join(s.text for s in await ls.office.say("/inbox"))
    lb_inbox = " ".join(s.text for s in await county.office.say("/inbox"))
    assert "未送达的消息" in ls_inbox and "未送达的消息" not in lb_inbox
    async with harness.db.transaction() as tx:  # now one about no matter (an invitation, a card)
        await tx.execute("UPDATE outbox SET state = 'blocked', matter_id = NULL WHERE person_id = ?"
                         " AND matter_id = ?", (person, matter))
    assert "未送达的消息" in " ".join(s.text for s in await ls.office.say("/inbox"))
    assert "未送达的消息" in " ".join(s.text for s in await county.office.say("/inbox"))


async def test_binding_a_wecom_member_another_units_person_holds_does_not_name_them(harness: Harness) -> None:
    """/wecom NAME USERID: a userid bound already is refused, naming its holder only to the holder's own unit."""
    ls, county, lb = await _on_both_rosters(harness)
    await ls.office.say("/wecom 刘洋 liuyang")  # LS's handler
    refused = " ".join(s.text for s in await county.office.say("/wecom 张华 liuyang"))
    assert "已绑定为其他检察院的人员" in refused and "刘洋" not in refused
    again = " ".join(s.text for s in await ls.office.say("/wecom 张华 liuyang"))
    assert "已绑定为刘洋" in again  # LS's own


async def test_s18_a_deputy_on_two_rosters_changes_the_procuratorate_at_the_confirmation(harness: Harness) -> None:
    """§18: a deputy who chose the wrong procuratorate changes it with 修改 (offered only to one on two rosters), and
    the matter goes to the one the summary named last."""
    ls, county, lb = await _on_both_rosters(harness)
    d = county.deputy
    await d.say("/submit")
    await d.press(LB_NAME)
    await d.press("建议")
    await d.say("关于校园周边安全")
    await d.say("建议加强校园周边巡查。")
    await d.press("完成")
    await d.press("无附件")
    assert f"提交给：{LB_NAME}" in d.last
    await d.press("修改")
    assert d.last_buttons()[0] == "受理检察院"
    await d.press("受理检察院")
    assert f"\n现在选择的检察院：{LB_NAME}\n" in d.last and d.last_buttons()[-1] == "不修改"
    await d.press(LS_NAME)
    assert f"提交给：{LS_NAME}" in d.last and d.last_buttons() == ["确认提交", "修改", "取消"]
    await d.press("确认提交")
    async with harness.db.snapshot() as q:
        assert [tuple(r) for r in await q.all("SELECT number, unit_id FROM matters")] == [("LS-2026-0001", LS)]
    await ls.deputy.say("/submit")  # one roster: the procuratorate is neither asked nor offered for a change
    await ls.deputy.press("建议")
    await ls.deputy.say("事由")
    await ls.deputy.say("内容内容")
    await ls.deputy.press("完成")
    await ls.deputy.press("无附件")
    await ls.deputy.press("修改")
    assert "受理检察院" not in ls.deputy.last_buttons()
    await refuses_forged_choices(harness, ls.deputy, ("unit",), (*TABLES, "dialogs"))


async def test_s14_an_appeal_moved_to_the_other_procuratorate_asks_which_of_its_departments_handled_it(
        harness: Harness) -> None:
    """§14 with §18: the department an appeal disputes is the chosen unit's; moved to the other unit, the appeal asks
    again which of that unit's departments handled it, and never keeps the first unit's."""
    ls, county, lb = await _on_both_rosters(harness)
    d = county.deputy
    await appeal_up_to_the_dispute(d, LB_NAME)
    await d.press("是")
    await d.press("第一检察部")  # LB's
    await d.press("修改")
    await d.press("受理检察院")
    await d.press(LS_NAME)
    assert d.last.startswith("原案由哪个部门承办") and d.last_buttons() == ["第一检察部", "第二检察部", "不清楚", "取消修改"]  # LS's, none kept
    await d.press("第二检察部")
    assert f"提交给：{LS_NAME}" in d.last and "原承办部门：第二检察部" in d.last
    await d.press("确认提交")
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT m.unit_id, d.unit_id AS dept_unit, d.name FROM matters m"
                          " JOIN departments d ON d.id = m.original_department_id")
    assert (row["unit_id"], row["dept_unit"], row["name"]) == (LS, LS, "第二检察部")
