"""Assignment to a county (交办, issue 17, docs/design-units.md step 4): the unit above may assign its matter to a
department of a unit directly below it when the matter falls within that county's jurisdiction. The matter stays
the city's — its number, due date, urger, the approval of its reply and the deputy's word are the city's — and
the county's department handles it like its own. SPP practice forbids passing deputies' items down level by level
without supervision: the county's office and leaders get no hold on it, the city's office keeps every step (§13).

LS (unit 1, tests/cast.py's Cast) is the unit above; LB (County) is the county below it; LS's deputy submits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage import people, units
from tests.cast import TABLES, Cast, submit_suggestion
from tests.fakes import Harness
from tests.test_unit_staff import County, _counts

NUMBER = "LS-2026-0001"
LB_DEPT = "灵宝市人民检察院第一检察部"


async def _city_and_county(harness: Harness) -> tuple[Cast, County, int]:
    city = Cast(harness)
    await city.setup()
    async with harness.db.transaction() as tx:
        lb = (await units.add(tx, "灵宝市人民检察院", "LB", "LS", "Asia/Shanghai", datetime(2026, 12, 1, tzinfo=UTC))).id
    county = County(harness)
    await county.setup(lb)
    await submit_suggestion(city.deputy)
    return city, county, lb


async def _assign_to_the_county(city: Cast) -> None:
    await city.office.say(f"/case {NUMBER}")
    await city.office.press("交办")
    offered = [label for label, _ in city.office.received[-1].buttons]
    assert "第一检察部" in offered and LB_DEPT in offered  # its own, then the county's, named with its unit
    await city.office.press(LB_DEPT)
    await city.office.press("陈静")


async def _row(harness: Harness) -> tuple[object, ...]:
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT unit_id, handling_unit_id, department_id, urger_id, state FROM matters"
                          " WHERE number = ?", (NUMBER,))
    return tuple(row)


async def test_s13_the_city_assigns_its_matter_to_a_countys_department_and_keeps_it(harness: Harness) -> None:
    """§13: the matter stays LS's (number, urger), handled by LB's 第一检察部: its handler is told and finds it in
    the inbox; the deputy is told which procuratorate's department has it."""
    city, county, lb = await _city_and_county(harness)
    since = _counts(county.handler, county.office, city.deputy)
    await _assign_to_the_county(city)
    row = await _row(harness)
    assert row[:2] == (1, lb) and row[4] == "assigned"
    async with harness.db.snapshot() as q:
        assert await people.department_unit(q, int(row[2])) == lb  # type: ignore[call-overload]
    told = [s.text for s in county.handler.received[since[county.handler.user_id]:]]
    assert any(NUMBER in t for t in told)
    assert any(LB_DEPT in s.text for s in city.deputy.received[since[city.deputy.user_id]:])
    assert len(county.office.received) == since[county.office.user_id]  # the county's office has no hold on it
    inbox = await county.handler.say("/inbox")
    assert any(NUMBER in s.text for s in inbox)
    card = await county.handler.say(f"/case {NUMBER}")
    assert LB_DEPT in card[0].text


async def test_s13_the_county_handles_it_and_the_city_approves_the_reply(harness: Harness) -> None:
    """The county's handler concludes and drafts the reply; the city's office approves it; the deputy rates it."""
    city, county, _lb = await _city_and_county(harness)
    await _assign_to_the_county(city)
    await city.conclude_and_reply(county.handler)
    await city.approve()
    assert city.deputy.last.startswith("答复")
    await city.deputy.press("满意")
    await city.deputy.press("不补充意见")
    assert (await _row(harness))[4] == "closed"


async def test_the_countys_office_and_leader_get_no_hold_on_the_citys_matter(harness: Harness) -> None:
    """Supervision stays above: LB's office, leader and discipline find no such matter (nothing changed), and a
    handler of another LB department neither."""
    city, county, _lb = await _city_and_county(harness)
    await _assign_to_the_county(city)
    kept = [t for t in TABLES if t != "audit_log"]
    before = await harness.dump(*kept)
    for user in (county.office, county.leader, county.discipline):
        answer = await user.say(f"/case {NUMBER}")
        assert answer[-1].text == "未找到该事项。", user.user_id  # as for no matter at all
    assert await harness.dump(*kept) == before
    async with harness.db.snapshot() as q:  # each refusal audited, with the matter it was about
        refused = await q.all("SELECT action FROM audit_log WHERE action LIKE 'refused:%' AND matter_id ="
                              " (SELECT id FROM matters WHERE number = ?)", (NUMBER,))
    assert len(refused) == 3


async def test_reassigned_to_the_citys_own_department_the_county_lets_go(harness: Harness) -> None:
    """改派 back to LS's own 第二检察部: no longer the county's to handle (its handler finds it no more)."""
    city, county, _lb = await _city_and_county(harness)
    await _assign_to_the_county(city)
    await city.office.say(f"/case {NUMBER}")
    await city.office.press("改派")
    await city.office.press("第二检察部")
    await city.office.press("陈静")
    await city.office.say("县院反馈不属其管辖")
    await city.office.press("确认")
    row = await _row(harness)
    assert row[1] is None and row[0] == 1
    answer = await county.handler.say(f"/case {NUMBER}")
    assert answer[-1].text.startswith("没有该事项。")


async def test_a_county_assigns_only_to_its_own_departments(harness: Harness) -> None:
    """A county has no unit below it here: its office is offered its own departments only, never the city's."""
    city, county, lb = await _city_and_county(harness)
    await submit_suggestion(county.deputy)
    await county.office.say("/case LB-2026-0001")
    await county.office.press("交办")
    offered = [label for label, _ in county.office.received[-1].buttons]
    assert "第一检察部" in offered and not [o for o in offered if "卢氏" in o or o == "第二检察部"]


async def test_the_citys_ledger_names_the_countys_department_with_its_unit(harness: Harness) -> None:
    """§3 台账: LS's ledger row of its matter handled by LB's department names that department with its unit."""
    from datetime import timedelta

    from bot.model import UnitScope
    from storage import ledger

    city, _county, _lb = await _city_and_county(harness)
    await _assign_to_the_county(city)
    now = harness.clock.now()
    async with harness.db.snapshot() as q:
        found = [r async for r in ledger.rows(q, UnitScope.of(1), now - timedelta(days=30), now + timedelta(days=1))]
    assert [(r.number, r.department) for r in found] == [(NUMBER, LB_DEPT)]


async def test_s12_a_matter_of_another_units_jurisdiction_arrives_in_its_inbox(harness: Harness) -> None:
    """§12 receive first, explain, then transfer — within the deployment: LS transfers its deputy's appeal to LB
    (a button among the deployment's units). LS's matter is closed as transferred; LB registers it as LB-2026-0001
    with its content and complainant, its office told; the deputy (not on LB's roster) is told both numbers,
    follows it with /my and rates LB's reply."""
    city, county, lb = await _city_and_county(harness)
    await city.submit_appeal()  # LS-2026-0002: an appeal with its complainant
    since = _counts(county.office, city.deputy)
    await city.office.say("/case LS-2026-0002")
    await city.office.press("移送")
    await city.office.press("灵宝市人民检察院")
    await city.office.say("该案件由灵宝市人民检察院办理，依法应由其复查，我院已移送该院，请您理解。")
    confirm = city.office.last
    assert "灵宝市人民检察院" in confirm
    await city.office.press("确认")
    async with harness.db.snapshot() as q:
        rows = [tuple(r) for r in await q.all(
            "SELECT number, unit_id, state, received_via, transferred_from_id, transferred_to FROM matters"
            " WHERE kind = 'appeal' ORDER BY id")]
        source_id = await q.scalar("SELECT id FROM matters WHERE number = 'LS-2026-0002'")
    assert rows == [("LS-2026-0002", 1, "transferred", "chat", None, "灵宝市人民检察院"),
                    ("LB-2026-0001", lb, "registered", "transfer", source_id, None)]
    told = [s.text for s in city.deputy.received[since[city.deputy.user_id]:]]
    assert any("LS-2026-0002" in t and "LB-2026-0001" in t for t in told)
    assert any("LB-2026-0001" in s.text for s in county.office.received[since[county.office.user_id]:])
    card = (await county.office.say("/case LB-2026-0001"))[0].text
    assert "由卢氏县人民检察院移送（原编号 LS-2026-0002）" in card and "李四" in card  # the complainant came along
    listing = (await city.deputy.say("/my"))[0].text
    assert "LS-2026-0002" in listing and "LB-2026-0001" in listing
    await county.office.say("/case LB-2026-0001")  # LB handles it as its own
    await county.office.press("交办")
    await county.office.press("第一检察部")
    await county.office.press("李娜")
    await city.conclude_and_reply(county.handler, number="LB-2026-0001")
    await county.office.say("/case LB-2026-0001")
    await county.office.press("审批通过")
    assert city.deputy.last.startswith("答复")
    await city.deputy.press("满意")
    await city.deputy.press("不补充意见")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT state FROM matters WHERE number = 'LB-2026-0001'") == "closed"


async def test_a_transfer_outside_the_deployment_is_as_before(harness: Harness) -> None:
    """An authority that is no unit of the deployment (卢氏县公安局): explained and closed, nothing registered."""
    city, county, lb = await _city_and_county(harness)
    await city.office.say(f"/case {NUMBER}")
    await city.office.press("移送")
    await city.office.say("卢氏县公安局")
    await city.office.say("该事项属于公安机关管辖范围，我院已依法移送卢氏县公安局处理，请您理解。")
    await city.office.press("确认")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(*) FROM matters") == 1
    assert "卢氏县公安局" in city.deputy.last and "/my" not in city.deputy.last


async def test_the_units_offered_for_a_transfer_are_checked_on_the_press(harness: Harness) -> None:
    """Button data is user input: the matter's own unit, or a unit that is not there, is stale; nothing changed."""
    from tests.cast import refuses_forged_choices

    city, county, lb = await _city_and_county(harness)
    await city.office.say(f"/case {NUMBER}")
    await city.office.press("移送")
    await refuses_forged_choices(harness, city.office, ("unit1", f"unit{lb + 1}", "unit"), (*TABLES, "dialogs"))


async def test_the_countys_office_gets_no_hold_on_the_citys_matter_through_its_lists(harness: Harness) -> None:
    """Not through /inbox (the city's draft reply and extension request are the city's to decide), nor a case
    discussion on it (a unit discusses its own matters), nor a person of LB who is both office and a handler of
    the department (acts as that department only: no approval); nothing changed."""
    city, county, lb = await _city_and_county(harness)
    await _assign_to_the_county(city)
    await city.conclude_and_reply(county.handler)  # a draft waiting for the city's approval
    both = await county.bind(await harness.add_staff("马丽", ["office", "handler"], "第一检察部", unit=lb), "7009")
    listed = " ".join(s.text for s in await county.office.say("/inbox"))
    assert NUMBER not in listed
    assert NUMBER in " ".join(s.text for s in await city.office.say("/inbox"))  # the city's to approve
    kept = [t for t in TABLES if t != "audit_log"]
    before = await harness.dump(*kept)
    await both.say(f"/case {NUMBER}")
    offered = [label for s in both.received[-3:] for label, _ in s.buttons]
    assert "审批通过" not in offered and "改派" not in offered
    refused = await both.press_data(f"act:{await _matter_id(harness)}:approve_reply")
    assert [s.text for s in refused if s.op == "answer"] == ["您无权对该事项进行此项操作。"]  # as its department only
    assert await harness.dump(*kept) == before
    from handlers.liaison import events as ev
    from bot.context import Context
    from bot.errors import NotFoundError
    from bot.i18n import Translator
    from bot.messages import Incoming
    from bot.model import UnitScope
    from storage.records import RECORDS
    matter_id = await _matter_id(harness)
    async with harness.db.snapshot() as q:
        office = (await people.find_by_name(q, UnitScope.of(lb), "李娜"))[0]
        ctx = Context(q, Incoming(channel="test", user_id="7001", chat_id="7001"), harness.clock.now(),
                      harness.app.config, office, Translator("zh_Hans", harness.app.config.unit.tz), records=RECORDS)
        try:
            await ev.discussable(ctx, matter_id)
        except NotFoundError:
            pass
        else:
            raise AssertionError("LB's office may discuss LS's matter")


async def _matter_id(harness: Harness) -> int:
    async with harness.db.snapshot() as q:
        return int(await q.scalar("SELECT id FROM matters WHERE number = ?", (NUMBER,)))


async def test_s13_the_citys_bulletin_and_discipline_count_the_countys_department(harness: Harness) -> None:
    """§13 定期通报 and the second line: LS's matter handled by LB's department is counted under that department
    (named with its unit) in LS's monthly bulletin, which LB's handlers receive too; LS's discipline inspection sees
    it overdue with the department that has it, not as unassigned."""
    city, county, _lb = await _city_and_county(harness)
    await _assign_to_the_county(city)
    since = _counts(county.handler, city.leader)
    harness.clock.set(datetime(2027, 3, 1, 1, tzinfo=UTC))  # 09:00 in Shanghai, the bulletin's day; overdue
    await harness.app.supervise()
    await harness.app.settle()  # what the sweep queued, delivered
    bulletin = [s.text for s in city.leader.received[since[city.leader.user_id]:] if s.text.startswith("办理进展情况定期通报")]
    assert bulletin and f"{LB_DEPT}：在办 1 件" in bulletin[-1]
    assert any(s.text.startswith("办理进展情况定期通报") for s in county.handler.received[since[county.handler.user_id]:])
    listing = " ".join(s.text for s in await city.discipline.say("/inbox"))
    assert NUMBER in listing and LB_DEPT in listing and "尚未交办办结" not in listing


async def test_the_county_handlers_slip_names_the_city(harness: Harness) -> None:
    """The assignment slip 交办单 is the city's: its number, urger and the unit that wrote it, whoever prints it."""
    from tests.reports_world import files_of, read_docx

    city, county, _lb = await _city_and_county(harness)
    await _assign_to_the_county(city)
    await county.handler.say(f"/case {NUMBER}")
    sent = await county.handler.press("交办单")
    [(path, _name)] = files_of(sent)
    paragraphs, tables = read_docx(path if path.startswith("/") else harness.app.files.root / path)
    text = "\n".join(paragraphs)
    assert "卢氏县人民检察院" in text and "灵宝市人民检察院代表" not in text
    assert "（《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十二条、第十四条）" in str(tables)


async def test_a_units_slip_cites_its_own_regulation(harness: Harness) -> None:
    """A county with its own regulation (`unit set LB --regulation`) has its slips cite it, as its papers do."""
    from tests.reports_world import files_of, read_docx
    from tests.test_unit_staff import _county_suggestion

    _ls, county, lb = await _county_suggestion(harness)
    async with harness.db.transaction() as tx:
        await units.set_papers(tx, lb, {"regulation": "灵宝市人民检察院代表委员联络工作办法"})
    await county.office.say("/case LB-2026-0001")
    await county.office.press("交办")
    await county.office.press("第一检察部")
    await county.office.press("李娜")
    await county.office.say("/case LB-2026-0001")
    [(path, _name)] = files_of(await county.office.press("交办单"))
    paragraphs, tables = read_docx(path if path.startswith("/") else harness.app.files.root / path)
    assert paragraphs[0].startswith("灵宝市人民检察院")
    assert "（《灵宝市人民检察院代表委员联络工作办法》第十二条、第十四条）" in str(tables)


async def test_a_matter_is_never_transferred_to_its_own_unit(harness: Harness) -> None:
    """Typed, the matter's own procuratorate is refused at that step, in words; nothing changed."""
    city, county, _lb = await _city_and_county(harness)
    await city.office.say(f"/case {NUMBER}")
    await city.office.press("移送")
    before = await harness.dump("matters", "timeline")
    answer = await city.office.say("卢氏县人民检察院")
    assert any("不能移送给自己" in s.text for s in answer)
    assert await harness.dump("matters", "timeline") == before


async def test_the_citys_ledger_can_be_filtered_by_the_countys_department(harness: Harness) -> None:
    """§3 台账: `/ledger 2026 灵宝市人民检察院第一检察部` picks the city's matters that department handles."""
    from bot.model import UnitScope
    from handlers.reports import ledger as ledger_report

    city, _county, _lb = await _city_and_county(harness)
    await _assign_to_the_county(city)
    async with harness.db.snapshot() as q:
        names = await people.department_names(q, UnitScope.of(1))
        dept_id = int(await q.scalar("SELECT department_id FROM matters WHERE number = ?", (NUMBER,)))
    found = ledger_report.parse(["2026", LB_DEPT], harness.clock.now().date(), list(names.items()))
    assert dept_id in found.departments
